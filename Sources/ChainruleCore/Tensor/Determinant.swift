/// Linear algebra for showing Jacobians.
public enum LinearAlgebra {
    /// The determinant of a square matrix given row-major, by LU decomposition with partial pivoting.
    /// An empty (0 × 0) matrix has determinant 1.
    public static func determinant(_ matrix: [Double], size n: Int) -> Double {
        precondition(matrix.count == n * n)
        var a = matrix
        var det = 1.0
        for column in 0..<n {
            var pivot = column
            for row in (column + 1)..<max(n, column + 1) where abs(a[row * n + column]) > abs(a[pivot * n + column]) {
                pivot = row
            }
            let p = a[pivot * n + column]
            if p == 0 { return 0 }
            if pivot != column {
                for k in 0..<n { a.swapAt(pivot * n + k, column * n + k) }
                det = -det
            }
            det *= p
            for row in (column + 1)..<max(n, column + 1) {
                let factor = a[row * n + column] / p
                if factor == 0 { continue }
                for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
            }
        }
        return det
    }
}
