/// NumPy broadcasting: aligning shapes from the right, sizes must be equal or 1.
public enum Broadcast {
    /// The broadcast shape of `a` and `b`, or nil when some aligned sizes differ and neither is 1.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        // When one shape already is the result (the commonest case), it is returned as is: no array is made.
        if covers(a, b) { return a }
        if covers(b, a) { return b }
        let rank = max(a.count, b.count)
        var result = Array(repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 {
                result[i] = x
            } else if x == 1 {
                result[i] = y
            } else {
                return nil
            }
        }
        return result
    }

    /// Whether `b` broadcasts to `a` unchanged: the broadcast of the two is `a`.
    private static func covers(_ a: [Int], _ b: [Int]) -> Bool {
        guard b.count <= a.count else { return false }
        let offset = a.count - b.count
        for i in b.indices where b[i] != 1 && b[i] != a[offset + i] { return false }
        return true
    }

    /// For each element of `target` (row-major), the index of the element of a tensor of
    /// shape `source` that broadcasting places there. `source` must broadcast to `target`.
    public static func sourceIndices(from source: [Int], to target: [Int]) -> [Int] {
        let count = target.reduce(1, *)
        if source == target { return Array(0..<count) }
        let offset = target.count - source.count
        let sourceStrides = strides(of: source)
        // Stride of each target axis in the source: 0 where the source repeats.
        var step = Array(repeating: 0, count: target.count)
        for axis in source.indices where source[axis] != 1 {
            step[axis + offset] = sourceStrides[axis]
        }
        var result = [Int]()
        result.reserveCapacity(count)
        var index = Array(repeating: 0, count: target.count)
        var position = 0
        for _ in 0..<count {
            result.append(position)
            // Advance the multi-index like an odometer.
            var axis = target.count - 1
            while axis >= 0 {
                index[axis] += 1
                position += step[axis]
                if index[axis] < target[axis] { break }
                position -= step[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// When `source` is the trailing part of `target` (it repeats along the leading axes only,
    /// as a bias row does over a batch), how many times it repeats; else nil.
    static func rowRepeats(_ source: [Int], in target: [Int]) -> Int? {
        guard source.count < target.count, target.suffix(source.count).elementsEqual(source) else { return nil }
        return target.dropLast(source.count).reduce(1, *)
    }

    /// `tensor` repeated to `target` (which it must broadcast to).
    public static func expand(_ tensor: Tensor, to target: [Int]) -> Tensor {
        if tensor.shape == target { return tensor }
        if let rows = rowRepeats(tensor.shape, in: target) {
            var scalars: [Double] = []
            scalars.reserveCapacity(rows * tensor.count)
            for _ in 0..<rows { scalars.append(contentsOf: tensor.scalars) }
            return Tensor(shape: target, scalars: scalars)
        }
        let map = sourceIndices(from: tensor.shape, to: target)
        return Tensor(shape: target, scalars: map.map { tensor.scalars[$0] })
    }

    /// The adjoint of ``expand(_:to:)``: sums a gradient of the broadcast shape back onto `source`.
    public static func reduce(_ gradient: Tensor, to source: [Int]) -> Tensor {
        if gradient.shape == source { return gradient }
        if rowRepeats(source, in: gradient.shape) != nil {
            var result = Tensor(shape: [0], scalars: [])
            reduce(gradient, to: source, into: &result)
            return result
        }
        let map = sourceIndices(from: source, to: gradient.shape)
        var result = Tensor.zeros(source)
        for (i, j) in map.enumerated() { result.scalars[j] += gradient.scalars[i] }
        return result
    }

    /// ``zip(_:_:to:_:)`` written into `out`, reusing its storage when it is unshared and of
    /// that size. The same elements in the same order: only where they are written differs.
    static func zip(_ a: Tensor, _ b: Tensor, to shape: [Int], into out: inout Tensor,
                    _ combine: (Double, Double) -> Double) {
        let sameA = a.shape == shape, sameB = b.shape == shape
        guard (sameA && (sameB || b.count == 1)) || (sameB && a.count == 1) else {
            // A row repeated down the rows of the other (a bias): written in place too.
            if sameA, let rows = rowRepeats(b.shape, in: shape) {
                rowwise(a, b, rows: rows, into: &out) { combine($0, $1) }
            } else if sameB, let rows = rowRepeats(a.shape, in: shape) {
                rowwise(b, a, rows: rows, into: &out) { combine($1, $0) }
            } else {
                out = zip(a, b, to: shape, combine)
            }
            return
        }
        out.prepare(shape: shape)
        out.scalars.withUnsafeMutableBufferPointer { o in
            a.scalars.withUnsafeBufferPointer { x in
                b.scalars.withUnsafeBufferPointer { y in
                    if sameA && sameB {
                        for i in o.indices { o[i] = combine(x[i], y[i]) }
                    } else if sameA {
                        let v = y[0]
                        for i in o.indices { o[i] = combine(x[i], v) }
                    } else {
                        let v = x[0]
                        for i in o.indices { o[i] = combine(v, y[i]) }
                    }
                }
            }
        }
    }

    /// ``reduce(_:to:)`` written into `out`, reusing its storage when it fits.
    static func reduce(_ gradient: Tensor, to source: [Int], into out: inout Tensor) {
        guard let rows = rowRepeats(source, in: gradient.shape) else {
            out = reduce(gradient, to: source)
            return
        }
        // Row by row, each element summed in the same order as the index map's loop.
        let n = source.reduce(1, *)
        out.prepare(shape: source)
        gradient.scalars.withUnsafeBufferPointer { g in
            out.scalars.withUnsafeMutableBufferPointer { r in
                r.update(repeating: 0)
                for i in 0..<rows {
                    for j in 0..<n { r[j] += g[i &* n &+ j] }
                }
            }
        }
    }

    /// Applies `combine` elementwise after broadcasting both operands to `shape`.
    public static func zip(_ a: Tensor, _ b: Tensor, to shape: [Int],
                           _ combine: (Double, Double) -> Double) -> Tensor {
        if a.shape == shape && b.shape == shape { return a.zipMap(b, combine) }
        if b.count == 1 && a.shape == shape {
            let y = b.scalars[0]
            return a.map { combine($0, y) }
        }
        if a.count == 1 && b.shape == shape {
            let x = a.scalars[0]
            return b.map { combine(x, $0) }
        }
        if a.shape == shape, let rows = rowRepeats(b.shape, in: shape) {
            return rowwise(a, b, rows: rows) { combine($0, $1) }
        }
        if b.shape == shape, let rows = rowRepeats(a.shape, in: shape) {
            return rowwise(b, a, rows: rows) { combine($1, $0) }
        }
        let left = sourceIndices(from: a.shape, to: shape)
        let right = sourceIndices(from: b.shape, to: shape)
        var scalars = [Double](repeating: 0, count: left.count)
        for i in scalars.indices { scalars[i] = combine(a.scalars[left[i]], b.scalars[right[i]]) }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// ``rowwise(_:_:rows:_:)`` written into `out`, reusing its storage when it fits.
    private static func rowwise(_ full: Tensor, _ row: Tensor, rows: Int, into out: inout Tensor,
                                _ combine: (Double, Double) -> Double) {
        let n = row.count
        out.prepare(shape: full.shape)
        full.scalars.withUnsafeBufferPointer { f in
            row.scalars.withUnsafeBufferPointer { r in
                out.scalars.withUnsafeMutableBufferPointer { o in
                    for i in 0..<rows {
                        let base = i &* n
                        for j in 0..<n { o[base &+ j] = combine(f[base &+ j], r[j]) }
                    }
                }
            }
        }
    }

    /// `combine(full[i, j], row[j])` for every row `i` of `full`, which `row` repeats over.
    private static func rowwise(_ full: Tensor, _ row: Tensor, rows: Int,
                                _ combine: (Double, Double) -> Double) -> Tensor {
        let n = row.count
        var scalars = [Double](repeating: 0, count: full.count)
        full.scalars.withUnsafeBufferPointer { f in
            row.scalars.withUnsafeBufferPointer { r in
                scalars.withUnsafeMutableBufferPointer { out in
                    for i in 0..<rows {
                        let base = i &* n
                        for j in 0..<n { out[base &+ j] = combine(f[base &+ j], r[j]) }
                    }
                }
            }
        }
        return Tensor(shape: full.shape, scalars: scalars)
    }
}
