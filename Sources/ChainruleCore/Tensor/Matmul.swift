import Dispatch
#if canImport(Glibc)
import Glibc
#endif

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

    /// Online processors, read once.
    static let cores: Int = {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }()

    /// Pointers handed to worker threads; each thread writes only its own rows of the output.
    struct SharedOperands: @unchecked Sendable {
        var a: UnsafePointer<Double>, b: UnsafePointer<Double>, o: UnsafeMutablePointer<Double>
    }

    /// ``kernel(_:_:_:n:k:m:)`` with the rows split between the machine's cores when the
    /// product is large enough to pay for the threads. Results do not depend on the split.
    static func parallelKernel(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ o: UnsafeMutablePointer<Double>,
                               n: Int, k: Int, m: Int) {
        let workers = min(Matmul.cores, n / 8)
        guard workers > 1, n * k * m >= 1 << 20 else {
            kernel(a, b, o, n: n, k: k, m: m)
            return
        }
        // Chunks of whole 4-row tiles, so the edges stay where the single-threaded kernel has them.
        let tiles = (n + 3) / 4
        let shared = SharedOperands(a: a, b: b, o: o)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let first = tiles * w / workers * 4, last = min(n, tiles * (w + 1) / workers * 4)
            guard first < last else { return }
            kernel(shared.a + first * k, shared.b, shared.o + first * m, n: last - first, k: k, m: m)
        }
    }

    /// `o += a @ b` for row-major `a` (n×k), `b` (k×m), `o` (n×m).
    ///
    /// Works on 4×4 tiles of `o` held in registers while running over `k`, so each
    /// element of `a` and `b` loaded is used four times; edges fall back to a plain loop.
    /// Each output element sums its products in order of `p`, as the plain loop does.
    static func kernel(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ o: UnsafeMutablePointer<Double>,
                       n: Int, k: Int, m: Int) {
        let rows = n - n % 4, columns = m - m % 4
        let rawB = UnsafeRawPointer(b)
        for i in stride(from: 0, to: rows, by: 4) {
            let a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
            for j in stride(from: 0, to: columns, by: 4) {
                var c0 = SIMD4<Double>(), c1 = SIMD4<Double>(), c2 = SIMD4<Double>(), c3 = SIMD4<Double>()
                for p in 0..<k {
                    let row = rawB.loadUnaligned(fromByteOffset: (p * m + j) * 8, as: SIMD4<Double>.self)
                    c0 += a0[p] * row
                    c1 += a1[p] * row
                    c2 += a2[p] * row
                    c3 += a3[p] * row
                }
                for q in 0..<4 {
                    o[i * m + j + q] += c0[q]
                    o[(i + 1) * m + j + q] += c1[q]
                    o[(i + 2) * m + j + q] += c2[q]
                    o[(i + 3) * m + j + q] += c3[q]
                }
            }
            for r in i..<(i + 4) {
                for j in columns..<m {
                    var total = 0.0
                    for p in 0..<k { total += a[r * k + p] * b[p * m + j] }
                    o[r * m + j] += total
                }
            }
        }
        for r in rows..<n {
            for j in 0..<m {
                var total = 0.0
                for p in 0..<k { total += a[r * k + p] * b[p * m + j] }
                o[r * m + j] += total
            }
        }
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
                        guard let a = pa.baseAddress, let b = pb.baseAddress, let o = po.baseAddress else { continue }
                        Matmul.parallelKernel(a + left[t] * n * k, b + right[t] * k * m, o + t * n * m, n: n, k: k, m: m)
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
