/// NumPy's `matmul` (`@`): vector·vector is a dot product, a 1-D operand is
/// promoted to a row (left) or a column (right) and the promoted axis dropped
/// again, and leading (batch) axes broadcast.
public enum Matmul {
    /// The result shape, or a message saying why the shapes do not fit.
    public static func shape(_ a: [Int], _ b: [Int]) -> Result<[Int], ShapeMessage> {
        if a.isEmpty || b.isEmpty {
            return .failure(ShapeMessage("'@' needs operands of rank 1 or more, got shapes \(describe(shape: a)) and \(describe(shape: b)); use '*' to scale"))
        }
        let pa = promotedLeft(a), pb = promotedRight(b)
        let inner = pa[pa.count - 1], innerB = pb[pb.count - 2]
        guard inner == innerB else {
            return .failure(ShapeMessage("shapes \(describe(shape: a)) and \(describe(shape: b)) do not fit for '@': inner sizes \(inner) and \(innerB) differ"))
        }
        guard let batch = Broadcast.shape(Array(pa.dropLast(2)), Array(pb.dropLast(2))) else {
            return .failure(ShapeMessage("shapes \(describe(shape: a)) and \(describe(shape: b)) do not fit for '@': batch axes do not broadcast"))
        }
        var result = batch
        if a.count > 1 { result.append(pa[pa.count - 2]) }
        if b.count > 1 { result.append(pb[pb.count - 1]) }
        return .success(result)
    }

    /// `a @ b`; the shapes must fit (see ``shape(_:_:)``).
    public static func apply(_ a: Tensor, _ b: Tensor) -> Tensor {
        guard case .success(let resultShape) = shape(a.shape, b.shape) else {
            preconditionFailure("matmul of unfit shapes")
        }
        let product = batched(a.reshaped(promotedLeft(a.shape)), b.reshaped(promotedRight(b.shape)))
        return product.reshaped(resultShape)
    }

    /// The vector–Jacobian products of `a @ b` for an upstream gradient `g` of the result's shape:
    /// `(g @ bᵀ, aᵀ @ g)`, with promotions undone and broadcast batch axes summed.
    public static func pullback(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        let pa = a.reshaped(promotedLeft(a.shape)), pb = b.reshaped(promotedRight(b.shape))
        let batch = Broadcast.shape(Array(pa.shape.dropLast(2)), Array(pb.shape.dropLast(2))) ?? []
        let gp = g.reshaped(batch + [pa.shape[pa.rank - 2], pb.shape[pb.rank - 1]])
        let da = batched(gp, swapLastTwo(pb))
        let db = batched(swapLastTwo(pa), gp)
        let daReduced = Broadcast.reduce(da, to: pa.shape).reshaped(a.shape)
        let dbReduced = Broadcast.reduce(db, to: pb.shape).reshaped(b.shape)
        return (daReduced, dbReduced)
    }

    static func promotedLeft(_ shape: [Int]) -> [Int] { shape.count == 1 ? [1] + shape : shape }
    static func promotedRight(_ shape: [Int]) -> [Int] { shape.count == 1 ? shape + [1] : shape }

    /// Swaps the last two axes of a tensor of rank 2 or more.
    static func swapLastTwo(_ t: Tensor) -> Tensor {
        let rows = t.shape[t.rank - 2], columns = t.shape[t.rank - 1]
        let block = rows * columns
        var result = t
        result.shape[t.rank - 2] = columns
        result.shape[t.rank - 1] = rows
        for start in stride(from: 0, to: t.count, by: max(block, 1)) {
            for r in 0..<rows {
                for c in 0..<columns {
                    result.scalars[start + c * rows + r] = t.scalars[start + r * columns + c]
                }
            }
        }
        return result
    }

    /// Matrix products over broadcast batch axes; both operands have rank ≥ 2 and fit.
    static func batched(_ a: Tensor, _ b: Tensor) -> Tensor {
        let n = a.shape[a.rank - 2], k = a.shape[a.rank - 1], m = b.shape[b.rank - 1]
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = Broadcast.shape(batchA, batchB) ?? []
        let left = Broadcast.sourceIndices(from: batchA, to: batch)
        let right = Broadcast.sourceIndices(from: batchB, to: batch)
        var out = [Double](repeating: 0, count: left.count * n * m)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    for t in left.indices {
                        let ao = left[t] * n * k, bo = right[t] * k * m, oo = t * n * m
                        for i in 0..<n {
                            for p in 0..<k {
                                let x = pa[ao + i * k + p]
                                let brow = bo + p * m, orow = oo + i * m
                                for j in 0..<m { po[orow + j] += x * pb[brow + j] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: batch + [n, m], scalars: out)
    }
}

/// Why shapes do not fit, phrased for a diagnostic.
public struct ShapeMessage: Error, Equatable, Sendable {
    public var text: String
    public init(_ text: String) { self.text = text }
}
