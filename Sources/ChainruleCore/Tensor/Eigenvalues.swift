import Glibc

extension LinearAlgebra {
    /// Whether a square matrix (row-major) equals its transpose, up to rounding
    /// (`|aᵢⱼ − aⱼᵢ| ≤ 1e-9·max(1, |aᵢⱼ|, |aⱼᵢ|)`).
    public static func isSymmetric(_ a: [Double], size n: Int) -> Bool {
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let (x, y) = (a[i * n + j], a[j * n + i])
                if !(abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))) { return false }
            }
        }
        return true
    }

    /// The eigenvalues of a symmetric matrix in ascending order, by cyclic Jacobi rotations
    /// (each rotation zeroes one off-diagonal pair; converges quadratically).
    public static func symmetricEigenvalues(_ matrix: [Double], size n: Int) -> [Double] {
        var a = matrix
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i * n + j] * a[i * n + j] } }
            if off <= 1e-30 * max(1, a.reduce(0) { $0 + $1 * $1 }) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) where a[p * n + q] != 0 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let (akp, akq) = (a[k * n + p], a[k * n + q])
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let (apk, aqk) = (a[p * n + k], a[q * n + k])
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }.sorted()
    }
}
