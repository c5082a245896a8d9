/// A dense, row-major array of `Double` of any rank, with NumPy's shape rules.
///
/// Rank 0 is a scalar (`shape == []`, one element). `Tensor` is a value type:
/// copies share storage until one of them is written to.
public struct Tensor: Equatable, Sendable {
    /// The size of each axis, outermost first.
    public var shape: [Int]
    /// The elements in row-major order; `scalars.count` is the product of `shape`.
    public var scalars: [Double]

    /// A tensor of the given shape; `scalars` must hold exactly as many elements as the shape.
    public init(shape: [Int], scalars: [Double]) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) elements")
        self.shape = shape
        self.scalars = scalars
    }

    /// A rank-0 tensor.
    public init(_ scalar: Double) {
        self.shape = []
        self.scalars = [scalar]
    }

    /// A rank-1 tensor.
    public init(_ vector: [Double]) {
        self.shape = [vector.count]
        self.scalars = vector
    }

    /// A rank-2 tensor from its rows, which must all have one length.
    public init(rows: [[Double]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "ragged rows")
        self.shape = [rows.count, columns]
        self.scalars = rows.flatMap { $0 }
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(repeating value: Double, shape: [Int]) {
        self.shape = shape
        self.scalars = Array(repeating: value, count: shape.reduce(1, *))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

    public var rank: Int { shape.count }
    public var count: Int { scalars.count }
    public var isScalar: Bool { shape.isEmpty }

    /// The single element of a tensor with one element (of any rank).
    public var scalar: Double? { scalars.count == 1 ? scalars[0] : nil }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Applies `transform` to every element.
    @inlinable
    public func map(_ transform: (Double) -> Double) -> Tensor {
        var result = self
        result.scalars.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = transform(buffer[i]) }
        }
        return result
    }

    /// Combines two tensors of the same shape element by element.
    @inlinable
    public func zipMap(_ other: Tensor, _ combine: (Double, Double) -> Double) -> Tensor {
        precondition(shape == other.shape)
        var result = self
        result.scalars.withUnsafeMutableBufferPointer { buffer in
            other.scalars.withUnsafeBufferPointer { rhs in
                for i in buffer.indices { buffer[i] = combine(buffer[i], rhs[i]) }
            }
        }
        return result
    }

    /// Adds `other` (of the same shape) into `self`.
    public mutating func accumulate(_ other: Tensor) {
        precondition(shape == other.shape)
        scalars.withUnsafeMutableBufferPointer { buffer in
            other.scalars.withUnsafeBufferPointer { rhs in
                for i in buffer.indices { buffer[i] += rhs[i] }
            }
        }
    }
}

/// Limits that keep one statement from exhausting memory or time.
public enum Limits {
    /// The most elements one tensor may have (400 MB of `Double`s).
    public static let elements = 50_000_000
    /// The most multiply–adds one matmul or einsum may take.
    public static let work = 4_000_000_000
    /// The most axes a tensor may have.
    public static let rank = 32
    /// The most nodes a graph may reach through `grad()` in a formula (each nesting multiplies
    /// the nodes by a few: twenty nested grads of a small formula would take gigabytes).
    public static let gradNodes = 5_000_000

    /// The product of `sizes`, or nil when it or any one size exceeds `limit` (never
    /// overflowing): `(0, 10¹⁵)` is refused like `(10¹⁵, 0)`, though both hold no element.
    public static func product(_ sizes: [Int], limit: Int) -> Int? {
        var total = 1
        for size in sizes {
            if size > limit { return nil }
            let (result, overflow) = total.multipliedReportingOverflow(by: max(size, 0))
            if overflow || result > limit { return nil }
            total = result
        }
        return total
    }
}

extension Tensor {
    /// The elements in nested brackets, row-major: `[[1, 2], [3, 4]]`; a scalar is its element alone.
    /// `gap(axis)` separates the sub-arrays along an outer axis (default `", "`).
    /// A loop with a stack of open brackets: no recursion, whatever the rank.
    public func nestedText(_ element: (Double) -> String, gap: (Int) -> String = { _ in ", " }) -> String {
        if isScalar { return element(scalars[0]) }
        var text = "["
        // For each open bracket (one per axis from the outermost), the sub-arrays written so far.
        var written = [0]
        var offset = 0
        while let axis = written.indices.last {
            let size = shape[axis]
            if axis == rank - 1 {
                text += scalars[offset..<(offset + size)].map(element).joined(separator: ", ")
                offset += size
                text += "]"
                written.removeLast()
            } else if written[axis] == size {
                text += "]"
                written.removeLast()
            } else {
                if written[axis] > 0 { text += gap(axis) }
                written[axis] += 1
                text += "["
                written.append(0)
            }
        }
        return text
    }
}

/// Row-major strides of a shape: the step in `scalars` for one step along each axis.
func strides(of shape: [Int]) -> [Int] {
    var result = Array(repeating: 1, count: shape.count)
    var step = 1
    for axis in shape.indices.reversed() {
        result[axis] = step
        step *= shape[axis]
    }
    return result
}

/// Formats a shape the way diagnostics and listings show it: `(2, 3)`, `(3)`, `()`.
public func describe(shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + ")"
}

extension Tensor {
    /// Makes this tensor one of `shape`, keeping its storage when it has that many elements
    /// (the elements are then stale: the caller overwrites them), else with new zeros.
    mutating func prepare(shape newShape: [Int]) {
        let count = newShape.reduce(1, *)
        if scalars.count != count { scalars = [Double](repeating: 0, count: count) }
        if shape != newShape { shape = newShape }
    }
}
