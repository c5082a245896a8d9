/// Linear algebra for showing Jacobians.
public enum LinearAlgebra {
    /// The determinant of a square matrix given row-major, by LU decomposition with partial pivoting.
    /// An empty (0 × 0) matrix has determinant 1.
    public static func determinant(_ matrix: [Double], size n: Int) -> Double {
        precondition(matrix.count == n * n)
        var a = matrix
        var det = 1.0
        // In place, without bounds checks, so that the elimination's inner loop (n³/3
        // multiply–adds, most of `:jacobian` for a 1000 × 1000 matrix) is vectorized.
        a.withUnsafeMutableBufferPointer { a in
            for column in 0..<n {
                var pivot = column
                for row in (column + 1)..<max(n, column + 1) where abs(a[row * n + column]) > abs(a[pivot * n + column]) {
                    pivot = row
                }
                let p = a[pivot * n + column]
                if p == 0 { det = 0; return }
                if pivot != column {
                    for k in 0..<n { a.swapAt(pivot * n + k, column * n + k) }
                    det = -det
                }
                det *= p
                let top = UnsafeMutableBufferPointer(rebasing: a[(column * n)..<(column * n + n)])
                for row in (column + 1)..<max(n, column + 1) {
                    let this = UnsafeMutableBufferPointer(rebasing: a[(row * n)..<(row * n + n)])
                    let factor = this[column] / p
                    if factor == 0 { continue }
                    for k in column..<n { this[k] -= factor * top[k] }
                }
            }
        }
        return det
    }
}
