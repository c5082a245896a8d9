import _Differentiation
import ChainruleCore
import Foundation
import XCTest

/// Every operator and structural built-in, differentiated three ways: the reverse pass, Swift's
/// automatic differentiation of the same function in plain Swift, and central differences. Each
/// loss weighs the output with distinct numbers, so a transposed or misplaced element shows.
final class GradientOracleTests: XCTestCase {
    func testElementwiseArithmetic() {
        let w = [1.0, -2.0, 0.5]
        for formula in ["x + y", "x - y", "x * y", "x / y", "x ^ y", "-x * y", "-x ^ 2 + y"] {
            checkGradients("""
                x = [1.5, 0.4, 2.0]
                y = [-0.7, 1.2, 0.3]
                L = sum(\(literal(w)) * (\(formula)))
                """, wrt: ["x", "y"], label: formula) { v in
                var s = 0.0
                for i in 0..<3 { s += w[i] * Ref.arithmetic(formula, v[i], v[i + 3]) }
                return s
            }
        }
    }

    func testBroadcasting() {
        let w = [1.0, -2.0, 0.5, 3.0, -1.5, 0.25]
        // (2, 3) with (3): the vector is added to every row.
        checkGradients("""
            A = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]
            b = [0.2, -0.4, 1.2]
            L = sum(\(literal(w, columns: 3)) * (A + b)) + sum(A / b)
            """, wrt: ["A", "b"]) { v in
            var s = 0.0
            for i in 0..<2 { for j in 0..<3 { s += w[i * 3 + j] * (v[i * 3 + j] + v[6 + j]) + v[i * 3 + j] / v[6 + j] } }
            return s
        }
        // (2, 1) with (1, 3): an outer product.
        checkGradients("""
            c = [[0.5], [-1.5]]
            d = [[2.0, 0.7, -0.3]]
            L = sum(\(literal(w, columns: 3)) * (c * d)) + sum(c - d)
            """, wrt: ["c", "d"]) { v in
            var s = 0.0
            for i in 0..<2 { for j in 0..<3 { s += w[i * 3 + j] * v[i] * v[2 + j] + (v[i] - v[2 + j]) } }
            return s
        }
        // A scalar with a matrix, and a power with a scalar exponent.
        checkGradients("""
            s = 1.7
            A = [[1.0, 2.0, 0.5], [0.3, 0.8, 1.1]]
            L = sum(\(literal(w, columns: 3)) * (s * A)) + sum(A ^ s)
            """, wrt: ["s", "A"]) { v in
            var t = 0.0
            for i in 0..<6 { t += w[i] * v[0] * v[1 + i] + pow(v[1 + i], v[0]) }
            return t
        }
    }

    func testMatmulInEveryRankCombination() {
        let a = "A = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]"
        // vector @ vector is a dot product.
        checkGradients("u = [0.5, -1.0, 2.0]\nv = [1.5, 0.25, -0.75]\nL = u @ v", wrt: ["u", "v"]) { v in
            v[0] * v[3] + v[1] * v[4] + v[2] * v[5]
        }
        checkGradients("u = [0.5, -1.0, 2.0]\nv = [1.5, 0.25, -0.75]\nL = dot(u, v) * 2", wrt: ["u", "v"]) { v in
            2 * (v[0] * v[3] + v[1] * v[4] + v[2] * v[5])
        }
        // matrix @ vector.
        checkGradients("\(a)\nx = [0.2, -0.4, 1.2]\nL = sum([1, -3] * (A @ x))", wrt: ["A", "x"]) { v in
            let w = [1.0, -3.0]
            var s = 0.0
            for i in 0..<2 { for k in 0..<3 { s += w[i] * v[i * 3 + k] * v[6 + k] } }
            return s
        }
        // vector @ matrix.
        checkGradients("\(a)\nu = [0.7, -1.3]\nL = sum([0.5, 1, -2] * (u @ A))", wrt: ["A", "u"]) { v in
            let w = [0.5, 1.0, -2.0]
            var s = 0.0
            for j in 0..<3 { for k in 0..<2 { s += w[j] * v[6 + k] * v[k * 3 + j] } }
            return s
        }
        // matrix @ matrix.
        checkGradients("\(a)\nB = [[0.2, 1.5], [-0.4, 0.9], [1.2, -0.6]]\nL = sum([[1, -2], [0.5, 3]] * (A @ B))",
                       wrt: ["A", "B"]) { v in
            let w = [1.0, -2.0, 0.5, 3.0]
            var s = 0.0
            for i in 0..<2 { for j in 0..<2 { for k in 0..<3 { s += w[i * 2 + j] * v[i * 3 + k] * v[6 + k * 2 + j] } } }
            return s
        }
    }

    /// Aᵀ·A, with A reaching the product through both transpose spellings.
    func testTranspose() {
        let w = [1.0, -2.0, 0.5, 3.0, -1.5, 0.25, 2.0, 0.1, -0.7]
        checkGradients("""
            A = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]
            L = sum(\(literal(w, columns: 3)) * (transpose(A) @ A.T.T)) + sum([[1, 2], [3, 4], [5, 6]] * A.T)
            """, wrt: ["A"]) { v in
            var s = 0.0
            for i in 0..<3 { for j in 0..<3 { for k in 0..<2 { s += w[i * 3 + j] * v[k * 3 + i] * v[k * 3 + j] } } }
            for i in 0..<3 { for k in 0..<2 { s += Double(2 * i + k + 1) * v[k * 3 + i] } }
            return s
        }
    }

    /// `matrix_transpose` swaps the last two axes: `A @ matrix_transpose(A)` is `A Aᵀ` for each matrix
    /// of a batch (the attention scores `q @ kᵀ` of every sequence at once), and of a matrix it is `.T`.
    func testMatrixTranspose() {
        let w = [1.0, -0.5, 2.0, 0.25, -1.5, 0.75, 0.5, 3.0]
        checkGradients("""
            A = [[[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]], [[1.4, -0.6, 0.9], [-0.2, 2.0, 0.7]]]
            B = [[0.5, 1.5, -0.3], [-1.0, 0.25, 2.0]]
            L = sum([[[1.0, -0.5], [2.0, 0.25]], [[-1.5, 0.75], [0.5, 3.0]]] * (A @ matrix_transpose(A))) + sum([[1, 2], [3, 4], [5, 6]] * matrix_transpose(B))
            """, wrt: ["A", "B"]) { v in
            var s = 0.0
            // (A Aᵀ)[n, i, j] = Σₖ A[n, i, k]·A[n, j, k], A (2, 2, 3) flattened row-major.
            for n in 0..<2 { for i in 0..<2 { for j in 0..<2 { for k in 0..<3 {
                s += w[n * 4 + i * 2 + j] * v[n * 6 + i * 3 + k] * v[n * 6 + j * 3 + k]
            } } } }
            // Bᵀ[i, j] = B[j, i], B (2, 3) after A's 12 elements.
            for i in 0..<3 { for j in 0..<2 { s += Double(2 * i + j + 1) * v[12 + j * 3 + i] } }
            return s
        }
    }

    func testIndexing() {
        checkGradients("x = [0.5, -1.0, 2.0, 3.0]\nL = x[0] * x[-1] + 3 * x[2] + x[0] + x[-3]", wrt: ["x"]) { v in
            v[0] * v[3] + 3 * v[2] + v[0] + v[1]
        }
        checkGradients("""
            A = [[1.0, -2.0, 0.5, 4.0], [0.3, 0.8, -1.1, 2.5], [1.4, -0.6, 0.9, -3.0]]
            L = A[1, 2] * A[-1, -2] + [1, 2, 3, 4] @ A[1] + [1, -1, 2, 3] @ A[-1] * A[0, 0]
            """, wrt: ["A"]) { v in
            var s = v[6] * v[10]
            for j in 0..<4 { s += Double(j + 1) * v[4 + j] }
            return s + (v[8] - v[9] + 2 * v[10] + 3 * v[11]) * v[0]
        }
    }

    func testSlicing() {
        let x = "x = [0.5, -1.0, 2.0, 3.0]"
        checkGradients("\(x)\nL = [1, 2] @ x[1:3] + [1, 2, 3, 4] @ x[::-1] + [5, 6] @ x[::2] + x[-1:][0]", wrt: ["x"]) { v in
            v[1] + 2 * v[2] + (v[3] + 2 * v[2] + 3 * v[1] + 4 * v[0]) + 5 * v[0] + 6 * v[2] + v[3]
        }
        checkGradients("""
            A = [[1.0, -2.0, 0.5, 4.0], [0.3, 0.8, -1.1, 2.5], [1.4, -0.6, 0.9, -3.0]]
            L = [1, -1, 2] @ A[:, 0] + sum([[1, 2], [3, 4]] * A[0:2, 1:3]) + sum(A[1:, -1] ^ 2)
            """, wrt: ["A"]) { v in
            v[0] - v[4] + 2 * v[8] + v[1] + 2 * v[2] + 3 * v[5] + 4 * v[6] + v[7] * v[7] + v[11] * v[11]
        }
    }

    func testStackingListLiterals() {
        checkGradients("x = 1.5\ny = -0.5\nv = [x, y, x * y]\nL = [1, -2, 3] @ v + v[2] * x", wrt: ["x", "y"]) { v in
            v[0] - 2 * v[1] + 3 * v[0] * v[1] + v[0] * v[1] * v[0]
        }
        checkGradients("a = [1.0, 2.0, -1.0]\nb = [0.5, -0.3, 0.8]\nM = [a, b, a * b]\nL = sum([[1, 2, 3], [4, 5, 6], [7, 8, 9]] * M)",
                       wrt: ["a", "b"]) { v in
            var s = 0.0
            for j in 0..<3 { s += Double(1 + j) * v[j] + Double(4 + j) * v[3 + j] + Double(7 + j) * v[j] * v[3 + j] }
            return s
        }
    }

    func testReductions() {
        let a = "A = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]"
        checkGradients("\(a)\nL = sum(A) * sum(A) + mean(A) * 3", wrt: ["A"]) { v in
            var s = 0.0
            for i in 0..<6 { s += v[i] }
            return s * s + s / 6 * 3
        }
        for (formula, axis) in [("sum(A, 0)", 0), ("sum(A, -2)", 0), ("sum(A, axis=1)", 1), ("sum(A, -1)", 1)] {
            let w = axis == 0 ? [1.0, -2.0, 3.0] : [1.0, -2.0]
            checkGradients("\(a)\nL = \(literal(w)) @ \(formula) ^ 2", wrt: ["A"], label: formula) { v in
                var s = 0.0
                for k in 0..<(axis == 0 ? 3 : 2) {
                    var r = 0.0
                    for m in 0..<(axis == 0 ? 2 : 3) { r += axis == 0 ? v[m * 3 + k] : v[k * 3 + m] }
                    s += w[k] * r * r
                }
                return s
            }
        }
        for (formula, axis) in [("mean(A, 0)", 0), ("mean(A, axis=-1)", 1)] {
            let w = axis == 0 ? [1.0, -2.0, 3.0] : [1.0, -2.0]
            checkGradients("\(a)\nL = \(literal(w)) @ exp(\(formula))", wrt: ["A"], label: formula) { v in
                var s = 0.0
                for k in 0..<(axis == 0 ? 3 : 2) {
                    var r = 0.0
                    for m in 0..<(axis == 0 ? 2 : 3) { r += axis == 0 ? v[m * 3 + k] : v[k * 3 + m] }
                    s += w[k] * exp(r / (axis == 0 ? 2 : 3))
                }
                return s
            }
        }
        checkGradients("\(a)\nL = max(A) * 3 + max(A[1])", wrt: ["A"]) { v in
            var m = v[0], r = v[3]
            for i in 1..<6 where v[i] > m { m = v[i] }
            for i in 4..<6 where v[i] > r { r = v[i] }
            return 3 * m + r
        }
    }

    func testSoftmaxAndLogSoftmaxOverTheLastAxis() {
        let w = [1.0, -2.0, 0.5, 3.0, -1.5, 0.25]
        let z = "Z = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]"
        checkGradients("\(z)\nL = sum(\(literal(w, columns: 3)) * softmax(Z))", wrt: ["Z"]) { v in
            var s = 0.0
            for r in 0..<2 {
                let lse = Ref.logSumExp(v, r * 3, 3)
                for j in 0..<3 { s += w[r * 3 + j] * exp(v[r * 3 + j] - lse) }
            }
            return s
        }
        checkGradients("\(z)\nL = sum(\(literal(w, columns: 3)) * log_softmax(Z))", wrt: ["Z"]) { v in
            var s = 0.0
            for r in 0..<2 {
                let lse = Ref.logSumExp(v, r * 3, 3)
                for j in 0..<3 { s += w[r * 3 + j] * (v[r * 3 + j] - lse) }
            }
            return s
        }
        checkGradients("z = [0.5, -1.0, 2.0, 0.1]\nL = [1, -2, 3, 0.5] @ softmax(z) + log_softmax(z)[2]", wrt: ["z"]) { v in
            let lse = Ref.logSumExp(v, 0, 4)
            let w = [1.0, -2.0, 3.0, 0.5]
            var s = v[2] - lse
            for j in 0..<4 { s += w[j] * exp(v[j] - lse) }
            return s
        }
    }

    func testEinsum() {
        let a = "A = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]"
        checkGradients("\(a)\nx = [0.2, -0.4, 1.2]\nL = [1, -3] @ einsum(\"ij,j->i\", A, x)", wrt: ["A", "x"]) { v in
            var s = 0.0
            for i in 0..<2 { for j in 0..<3 { s += (i == 0 ? 1 : -3) * v[i * 3 + j] * v[6 + j] } }
            return s
        }
        checkGradients("\(a)\nB = [[0.2, 1.5], [-0.4, 0.9], [1.2, -0.6]]\nL = sum([[1, -2], [0.5, 3]] * einsum(\"ij,jk->ik\", A, B))",
                       wrt: ["A", "B"]) { v in
            let w = [1.0, -2.0, 0.5, 3.0]
            var s = 0.0
            for i in 0..<2 { for k in 0..<2 { for j in 0..<3 { s += w[i * 2 + k] * v[i * 3 + j] * v[6 + j * 2 + k] } } }
            return s
        }
        checkGradients("u = [0.5, -1.0, 2.0]\nv = [1.5, 0.25, -0.75]\nL = einsum(\"i,i->\", u, v) ^ 2", wrt: ["u", "v"]) { v in
            let d = v[0] * v[3] + v[1] * v[4] + v[2] * v[5]
            return d * d
        }
        checkGradients("S = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]\nL = [1, -2, 3] @ einsum(\"ii->i\", S)", wrt: ["S"]) { v in
            v[0] - 2 * v[4] + 3 * v[8]
        }
        checkGradients("\(a)\nL = sum([[1, 2], [3, 4], [5, 6]] * einsum(\"ij->ji\", A))", wrt: ["A"]) { v in
            var s = 0.0
            for j in 0..<3 { for i in 0..<2 { s += Double(2 * j + i + 1) * v[i * 3 + j] } }
            return s
        }
    }
}
