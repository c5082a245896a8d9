import Glibc

/// Sums along one axis, and its adjoint.
public enum Reduction {
    /// Resolves a NumPy axis (negative counts from the end) against a rank.
    public static func normalize(axis: Int, rank: Int) throws(ShapeMessage) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < rank else {
            throw ShapeMessage("axis \(axis) is out of range for a tensor of rank \(rank)")
        }
        return resolved
    }

    /// The sizes before, along and after `axis`: the tensor viewed as `(outer, size, inner)`.
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, size: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// The sum over `axis` (which is removed from the shape).
    public static func sum(_ t: Tensor, axis: Int) -> Tensor {
        let (outer, size, inner) = split(t.shape, axis: axis)
        var shape = t.shape
        shape.remove(at: axis)
        var result = Tensor.zeros(shape)
        for o in 0..<outer {
            for s in 0..<size {
                for i in 0..<inner { result.scalars[o * inner + i] += t.scalars[(o * size + s) * inner + i] }
            }
        }
        return result
    }

    /// The offset of the first largest element; NaN counts as largest, as in NumPy.
    public static func argmax(_ scalars: [Double]) -> Int {
        var best = 0
        for i in scalars.indices.dropFirst() {
            if scalars[best].isNaN { break }
            if scalars[i] > scalars[best] || scalars[i].isNaN { best = i }
        }
        return best
    }

    /// `log Σ exp(x)` over one row, computed as `m + log Σ exp(x − m)` with `m` the row's
    /// maximum, so that no `exp` overflows (a row of −∞ or with NaN keeps its IEEE result).
    static func logSumExp(_ t: Tensor, _ row: Range<Int>) -> Double {
        let m = t.scalars[row].max() ?? 0
        let shift = m.isFinite ? m : 0
        var total = 0.0
        for i in row { total += exp(t.scalars[i] - shift) }
        return log(total) + shift
    }

    /// Softmax over the last axis: `exp(x − logΣexp(x))`, stable for any logits.
    public static func softmax(_ t: Tensor) -> Tensor {
        var result = t
        forEachRow(of: t) { row in
            let normalizer = logSumExp(t, row)
            for i in row { result.scalars[i] = exp(t.scalars[i] - normalizer) }
        }
        return result
    }

    /// `log(softmax(t))` over the last axis, as `t − logΣexp(t)`.
    public static func logSoftmax(_ t: Tensor) -> Tensor {
        var result = t
        forEachRow(of: t) { row in
            let normalizer = logSumExp(t, row)
            for i in row { result.scalars[i] = t.scalars[i] - normalizer }
        }
        return result
    }

    /// ``softmax(_:)`` written into `out`, reusing its storage when it fits.
    static func softmax(_ t: Tensor, into out: inout Tensor) {
        out.prepare(shape: t.shape)
        forEachRow(of: t) { row in
            let normalizer = logSumExp(t, row)
            for i in row { out.scalars[i] = exp(t.scalars[i] - normalizer) }
        }
    }

    /// ``logSoftmax(_:)`` written into `out`, reusing its storage when it fits.
    static func logSoftmax(_ t: Tensor, into out: inout Tensor) {
        out.prepare(shape: t.shape)
        forEachRow(of: t) { row in
            let normalizer = logSumExp(t, row)
            for i in row { out.scalars[i] = t.scalars[i] - normalizer }
        }
    }

    /// Calls `body` with the element range of each row along the last axis (a scalar is one row).
    static func forEachRow(of t: Tensor, _ body: (Range<Int>) -> Void) {
        let width = t.shape.last ?? 1
        guard width > 0 else { return }
        for start in stride(from: 0, to: t.count, by: width) { body(start..<(start + width)) }
    }
}
