import COpenBLAS
import Glibc

/// NumPy's `matmul` (`@`): vector·vector is a dot product, a 1-D operand is
/// promoted to a row (left) or a column (right) and the promoted axis dropped
/// again, and leading (batch) axes broadcast. The products run in OpenBLAS
/// (see ``BLAS``), in blocks of rows between which a caller may stop them.
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
        product(a, b, shouldStop: { false }).result
    }

    /// `a @ b`, or nil when `shouldStop` returned true between two blocks of the product.
    public static func apply(_ a: Tensor, _ b: Tensor, shouldStop: () -> Bool) -> Tensor? {
        let (result, completed) = product(a, b, shouldStop: shouldStop)
        return completed ? result : nil
    }

    /// How the operands of `a @ b` line up: each promoted to a batch of `(n×inner)` and `(inner×m)`
    /// matrices, the matrix of each side that every item of the broadcast batch uses, and whether
    /// a's batch folds into its rows (when b has no batch of its own: one product instead of many).
    struct BatchLayout {
        let n: Int, inner: Int, m: Int
        let left: [Int], right: [Int]
        let fold: Bool

        init(_ a: [Int], _ b: [Int]) {
            let pa = Matmul.promotedLeft(a), pb = Matmul.promotedRight(b)
            (n, inner, m) = (pa[pa.count - 2], pa[pa.count - 1], pb[pb.count - 1])
            let batchA = Array(pa.dropLast(2)), batchB = Array(pb.dropLast(2))
            let batch = Broadcast.shape(batchA, batchB) ?? []
            left = Broadcast.sourceIndices(from: batchA, to: batch)
            right = Broadcast.sourceIndices(from: batchB, to: batch)
            fold = left.count > 1 && batchB.reduce(1, *) == 1 && batchA.reduce(1, *) == left.count
        }
    }

    /// ``product(_:_:into:shouldStop:)`` of operands of rank 1 or 2 (no batch axes): one
    /// BLAS call, with nothing allocated when `result` already has the result's shape.
    private static func matrixProduct(_ a: Tensor, _ b: Tensor, into result: inout Tensor, shouldStop: () -> Bool) -> Bool {
        // `(n×k)·(k×m)`; a vector on the left is a row, on the right a column.
        let n = a.rank == 2 ? a.shape[0] : 1, k = a.shape[a.rank - 1], m = b.rank == 2 ? b.shape[1] : 1
        precondition(b.shape[0] == k, "matmul of unfit shapes")
        let shape = result.shape
        let fits = switch (a.rank, b.rank) {
        case (2, 2): shape.count == 2 && shape[0] == n && shape[1] == m
        case (2, _): shape.count == 1 && shape[0] == n
        case (_, 2): shape.count == 1 && shape[0] == m
        default: shape.isEmpty
        }
        if !fits {
            switch (a.rank, b.rank) {
            case (2, 2): result.prepare(shape: [n, m])
            case (2, _): result.prepare(shape: [n])
            case (_, 2): result.prepare(shape: [m])
            default: result.prepare(shape: [])
            }
        } else if result.scalars.count != n * m {
            result.scalars = [Double](repeating: 0, count: n * m)
        }
        var completed = true
        accumulate(a, b, into: &result) { a, b, o in
            completed = multiply(n: n, m: m, k: k, MatrixOperand(base: a, ld: k, transposed: false),
                                 MatrixOperand(base: b, ld: m, transposed: false), into: o, ldc: m, shouldStop: shouldStop)
        }
        return completed
    }

    /// Zeroes `result` (BLAS adds into it), then calls `body` with the elements of `a`, `b`
    /// and `result` in place; not at all when one of them is empty.
    private static func accumulate(_ a: Tensor, _ b: Tensor, into result: inout Tensor,
                                   _ body: (UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        result.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                result.scalars.withUnsafeMutableBufferPointer { po in
                    guard let a = pa.baseAddress, let b = pb.baseAddress, let o = po.baseAddress else { return }
                    body(a, b, o)
                }
            }
        }
    }

    static func promotedLeft(_ shape: [Int]) -> [Int] { shape.count == 1 ? [1] + shape : shape }
    static func promotedRight(_ shape: [Int]) -> [Int] { shape.count == 1 ? shape + [1] : shape }

    /// Swaps the last two axes (a batch of matrix transpositions); a tensor of rank below 2 is returned unchanged.
    /// Copies in 32×32 tiles so that neither side is walked with a long stride for long.
    static func swapLastTwo(_ t: Tensor) -> Tensor {
        var out = Tensor(shape: [0], scalars: [])
        swapLastTwo(t, into: &out)
        return out
    }

    /// ``swapLastTwo(_:)`` written into `result`, reusing its storage when it fits.
    static func swapLastTwo(_ t: Tensor, into result: inout Tensor) {
        guard t.rank >= 2 else { result = t; return }
        let rows = t.shape[t.rank - 2], columns = t.shape[t.rank - 1]
        // The result's shape, made only when `result` does not have it already.
        let fits = result.rank == t.rank && result.shape[t.rank - 2] == columns && result.shape[t.rank - 1] == rows
            && result.shape.prefix(t.rank - 2).elementsEqual(t.shape.prefix(t.rank - 2))
        var shape = fits ? result.shape : t.shape
        if !fits { shape.swapAt(t.rank - 2, t.rank - 1) }
        let block = rows * columns
        guard block > 0 else { result = Tensor(shape: shape, scalars: t.scalars); return }
        let tile = 32
        result.prepare(shape: shape)
        t.scalars.withUnsafeBufferPointer { source in
            result.scalars.withUnsafeMutableBufferPointer { target in
                for start in stride(from: 0, to: t.count, by: block) {
                    for r0 in stride(from: 0, to: rows, by: tile) {
                        let r1 = min(rows, r0 + tile)
                        for c0 in stride(from: 0, to: columns, by: tile) {
                            let c1 = min(columns, c0 + tile)
                            for r in r0..<r1 {
                                for c in c0..<c1 { target[start + c * rows + r] = source[start + r * columns + c] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `a @ b` and whether it ran to the end.
    static func product(_ a: Tensor, _ b: Tensor, shouldStop: () -> Bool) -> (result: Tensor, completed: Bool) {
        var out = Tensor(shape: [0], scalars: [])
        let completed = product(a, b, into: &out, shouldStop: shouldStop)
        return (out, completed)
    }

    /// `a @ b` written into `out`, whose storage is reused when it is unshared and of the
    /// result's size (a pass run again allocates nothing); false when `shouldStop` stopped it.
    static func product(_ a: Tensor, _ b: Tensor, into result: inout Tensor, shouldStop: () -> Bool) -> Bool {
        if a.rank <= 2 && b.rank <= 2 && a.rank >= 1 && b.rank >= 1 {
            return matrixProduct(a, b, into: &result, shouldStop: shouldStop)
        }
        guard case .success(let resultShape) = shape(a.shape, b.shape) else {
            preconditionFailure("matmul of unfit shapes")
        }
        let layout = BatchLayout(a.shape, b.shape)
        let (n, inner, m, left, right, fold) = (layout.n, layout.inner, layout.m, layout.left, layout.right, layout.fold)
        result.prepare(shape: resultShape)
        var completed = true
        accumulate(a, b, into: &result) { a, b, o in
            if fold {
                completed = multiply(n: left.count * n, m: m, k: inner,
                                     MatrixOperand(base: a, ld: inner, transposed: false),
                                     MatrixOperand(base: b, ld: m, transposed: false),
                                     into: o, ldc: m, shouldStop: shouldStop)
                return
            }
            for t in left.indices where completed {
                completed = multiply(n: n, m: m, k: inner,
                                     MatrixOperand(base: a + left[t] * n * inner, ld: inner, transposed: false),
                                     MatrixOperand(base: b + right[t] * inner * m, ld: m, transposed: false),
                                     into: o + t * n * m, ldc: m, shouldStop: shouldStop)
            }
        }
        return completed
    }

    /// Multiply–adds between two polls of `shouldStop` (tens of milliseconds on one core).
    static let blockWork = 1 << 26
    /// The fewest rows (or columns) in a block, so that repacking the other operand stays cheap.
    static let blockMinimum = 256

    /// `c += op(a) · op(b)` for `op(a)` n×k, `op(b)` k×m and row-major `c` n×m with row stride `ldc`,
    /// by OpenBLAS; a vector result goes through `dgemv`, a scalar through `ddot`. Large products run
    /// in blocks of rows of `c` with a poll of `shouldStop` between blocks; returns false when it stopped.
    static func multiply(n: Int, m: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand,
                         into c: UnsafeMutablePointer<Double>, ldc: Int, shouldStop: () -> Bool) -> Bool {
        guard n > 0, m > 0, k > 0 else { return true }
        BLAS.prepare()
        // A row of op(a) steps by 1 when stored as is, by ld when stored transposed; a column of op(b) the other way.
        let rowStepA = a.transposed ? a.ld : 1, columnStepB = b.transposed ? 1 : b.ld
        if n == 1 && m == 1 {
            c[0] += cblas_ddot(Int32(k), a.base, Int32(rowStepA), b.base, Int32(columnStepB))
            return true
        }
        let perLine = n == 1 ? k : k * m
        let step = max(blockMinimum, blockWork / max(perLine, 1))
        if n == 1 {
            // One row: cᵀ = op(b)ᵀ · a, in blocks of columns.
            var j0 = 0
            while j0 < m {
                if j0 > 0 && shouldStop() { return false }
                let j1 = min(m, j0 + step)
                if b.transposed {  // stored m×k
                    cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(j1 - j0), Int32(k), 1, b.base + j0 * b.ld, Int32(b.ld),
                                a.base, Int32(rowStepA), 1, c + j0, 1)
                } else {  // stored k×m
                    cblas_dgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(j1 - j0), 1, b.base + j0, Int32(b.ld),
                                a.base, Int32(rowStepA), 1, c + j0, 1)
                }
                j0 = j1
            }
            return true
        }
        var i0 = 0
        while i0 < n {
            if i0 > 0 && shouldStop() { return false }
            let i1 = min(n, i0 + step), rows = i1 - i0
            // Rows i0..<i1 of op(a): stored rows when as is, stored columns when transposed.
            let aBlock = a.transposed ? a.base + i0 : a.base + i0 * a.ld
            let transA = a.transposed ? CblasTrans : CblasNoTrans
            if m == 1 {
                // One column: c = op(a) · b.
                cblas_dgemv(CblasRowMajor, transA, Int32(a.transposed ? k : rows), Int32(a.transposed ? rows : k), 1,
                            aBlock, Int32(a.ld), b.base, Int32(columnStepB), 1, c + i0 * ldc, Int32(ldc))
            } else {
                cblas_dgemm(CblasRowMajor, transA, b.transposed ? CblasTrans : CblasNoTrans,
                            Int32(rows), Int32(m), Int32(k), 1, aBlock, Int32(a.ld), b.base, Int32(b.ld),
                            1, c + i0 * ldc, Int32(ldc))
            }
            i0 = i1
        }
        return true
    }
}

/// One operand of ``Matmul/multiply(n:m:k:_:_:into:ldc:shouldStop:)``: row-major storage with
/// `ld` elements between stored rows, holding the operand itself or (when `transposed`) its transpose.
struct MatrixOperand {
    var base: UnsafePointer<Double>
    var ld: Int
    var transposed: Bool

    init(base: UnsafePointer<Double>, ld: Int, transposed: Bool) {
        self.base = base
        self.ld = max(ld, 1)
        self.transposed = transposed
    }
}

/// OpenBLAS, which computes every matrix product: matmul, einsum contractions and their adjoints.
///
/// It uses `CHAINRULE_THREADS` threads (a whole number from 1 to 256; 1 when unset or anything
/// else), set once before the first product. With a given thread count, a product's result
/// depends only on its operands.
public enum BLAS {
    public static let threads: Int = {
        var count = 1
        if let text = getenv("CHAINRULE_THREADS"), let value = Int(String(cString: text)), (1...256).contains(value) {
            count = value
        }
        openblas_set_num_threads(Int32(count))
        return count
    }()

    /// Sets OpenBLAS's thread count if that has not been done yet.
    static func prepare() { _ = threads }

    /// The CPU kernel OpenBLAS picked at start-up (e.g. `Haswell`), for benchmark reports.
    public static var kernel: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}

/// Why shapes do not fit, phrased for a diagnostic.
public struct ShapeMessage: Error, Equatable, Sendable {
    public var text: String
    public init(_ text: String) { self.text = text }
}
