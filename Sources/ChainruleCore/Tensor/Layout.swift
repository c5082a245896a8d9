/// Operations that move elements without arithmetic: transposition, indexing, stacking.
extension Tensor {
    /// The axes reversed (`.T`): for a matrix, rows become columns. Rank 0 and 1 are unchanged.
    public var transposed: Tensor {
        if rank < 2 { return self }
        // A matrix: its last two axes swapped, copied in tiles.
        if rank == 2 { return Matmul.swapLastTwo(self) }
        let newShape = Array(shape.reversed())
        let oldStrides = strides(of: shape)
        var result = Tensor.zeros(newShape)
        var index = Array(repeating: 0, count: rank)
        for i in 0..<count {
            // index is the multi-index in newShape; the source offset walks reversed strides.
            var offset = 0
            for axis in 0..<rank { offset += index[axis] * oldStrides[rank - 1 - axis] }
            result.scalars[i] = scalars[offset]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < newShape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Stacks tensors of one shape along a new leading axis.
    public static func stack(_ parts: [Tensor]) -> Tensor {
        let inner = parts.first?.shape ?? []
        return Tensor(shape: [parts.count] + inner, scalars: parts.flatMap(\.scalars))
    }
}

/// One component of a NumPy basic index: an integer (drops the axis) or a slice (keeps it).
public enum IndexComponent: Hashable, Sendable {
    case at(Int)
    case slice(start: Int?, stop: Int?, step: Int?)
}

/// A resolved basic index: which source elements, in order, make the result.
/// Made once, when the indexing node is built, for the source's shape; gathering and
/// scattering through it cannot fail.
public struct IndexPlan: Hashable, Sendable {
    /// The index as written (before negative integers and slices are resolved).
    public let components: [IndexComponent]
    /// The shape of the tensor indexed.
    public let sourceShape: [Int]
    public let resultShape: [Int]
    /// For each result element (row-major), its offset in the source.
    public let offsets: [Int]

    /// Resolves `components` against `shape` as NumPy does (negative integers count from the end;
    /// missing trailing components select whole axes), or says why it cannot.
    public init(components: [IndexComponent], shape: [Int]) throws(ShapeMessage) {
        guard components.count <= shape.count else {
            throw ShapeMessage("too many indices: \(components.count) for a tensor of shape \(describe(shape: shape))")
        }
        var axisIndices: [[Int]] = []
        var keep: [Bool] = []
        for axis in shape.indices {
            let size = shape[axis]
            let component = axis < components.count ? components[axis] : .slice(start: nil, stop: nil, step: nil)
            switch component {
            case .at(let i):
                let j = i < 0 ? i + size : i
                guard j >= 0 && j < size else {
                    throw ShapeMessage("index \(i) is out of range for axis \(axis) of size \(size)")
                }
                axisIndices.append([j])
                keep.append(false)
            case .slice(let start, let stop, let step):
                axisIndices.append(try IndexPlan.sliceIndices(start: start, stop: stop, step: step, size: size))
                keep.append(true)
            }
        }
        self.components = components
        sourceShape = shape
        resultShape = zip(shape.indices, keep).compactMap { $1 ? axisIndices[$0].count : nil }
        let sourceStrides = strides(of: shape)
        var offsets = [0]
        for axis in shape.indices {
            var next: [Int] = []
            next.reserveCapacity(offsets.count * axisIndices[axis].count)
            for base in offsets {
                for i in axisIndices[axis] { next.append(base + i * sourceStrides[axis]) }
            }
            offsets = next
        }
        self.offsets = offsets
    }

    /// Python's `slice.indices` for one axis.
    static func sliceIndices(start: Int?, stop: Int?, step: Int?, size: Int) throws(ShapeMessage) -> [Int] {
        let step = step ?? 1
        guard step != 0 else { throw ShapeMessage("slice step cannot be zero") }
        func clamp(_ value: Int?, _ defaultValue: Int, low: Int, high: Int) -> Int {
            guard var v = value else { return defaultValue }
            if v < 0 { v += size }
            return min(max(v, low), high)
        }
        var result: [Int] = []
        if step > 0 {
            var i = clamp(start, 0, low: 0, high: size)
            let end = clamp(stop, size, low: 0, high: size)
            while i < end { result.append(i); i += step }
        } else {
            var i = clamp(start, size - 1, low: -1, high: size - 1)
            let end = clamp(stop, -1, low: -1, high: size - 1)
            while i > end { result.append(i); i += step }
        }
        return result
    }

    public func gather(_ source: Tensor) -> Tensor {
        Tensor(shape: resultShape, scalars: offsets.map { source.scalars[$0] })
    }

    /// The adjoint of ``gather(_:)``: adds `gradient` into zeros of the source's shape at the gathered offsets.
    public func scatter(_ gradient: Tensor) -> Tensor {
        var result = Tensor.zeros(sourceShape)
        for (i, offset) in offsets.enumerated() { result.scalars[offset] += gradient.scalars[i] }
        return result
    }
}
