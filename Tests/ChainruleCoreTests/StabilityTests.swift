import ChainruleCore
import Foundation
import XCTest

/// Large logits and kinks. At ±1000 a naive `exp` overflows to inf and gives NaN;
/// every expected number here is the exact value rounded to `Double` (e^−1000 ≈ 5e−435
/// rounds to 0), worked out by hand.
final class StabilityTests: XCTestCase {
    func assertFinite(_ t: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssert(t.scalars.allSatisfy(\.isFinite), "\(what) is not finite: \(t.scalars)", file: file, line: line)
    }

    func testSoftmaxAndLogSoftmaxAtHugeLogits() throws {
        var script = try Script("""
            z = [1000, 0, -1000]
            Z = [[1000, 1000], [-1000, -1000]]
            s = softmax(z)
            S = softmax(Z)
            l = log_softmax(z)
            L = [1, 2, 3] @ s + [1, 2, 3] @ l + sum([[1, 2], [3, 4]] * S)
            """)
        assertClose(try script.value("s"), [1, 0, 0])
        assertClose(try script.value("S"), [0.5, 0.5, 0.5, 0.5])
        assertClose(try script.value("l"), [0, -1000, -2000])
        // ∂/∂z of [1,2,3]·softmax(z) is s⊙(w − s·w) = 0 at s = (1, 0, 0); of [1,2,3]·log_softmax(z)
        // it is w − s·Σw = (1 − 6, 2, 3). Each row of S: s⊙(w − s·w) = ±0.25.
        let z = try script.gradient(of: "L", wrt: "z")
        assertClose(z, [-5, 2, 3], shape: [3])
        assertClose(try script.gradient(of: "L", wrt: "Z"), [-0.25, 0.25, -0.25, 0.25], shape: [2, 2])
    }

    func testSigmoidAndSoftplusAtHugeLogits() throws {
        var script = try Script("""
            z = [1000, -1000]
            s = sigmoid(z)
            p = softplus(z)
            L = sum(s) + sum(p)
            """)
        assertClose(try script.value("s"), [1, 0])
        assertClose(try script.value("p"), [1000, 0])
        // σ′ = σ(1 − σ) = 0 at both ends; softplus′ = σ = (1, 0).
        assertClose(try script.gradient(of: "L", wrt: "z"), [1, 0], shape: [2])
    }

    func testCrossEntropyAtHugeLogits() throws {
        var script = try Script("""
            z = [1000, 0, -1000]
            Z = [[1000, 0, -1000], [-1000, 0, 1000]]
            right = cross_entropy(z, 0)
            wrong = cross_entropy(z, 2)
            batch = cross_entropy(Z, [2, 2])
            soft = cross_entropy(z, [0, 0.5, 0.5])
            """)
        assertClose(try script.value("right").scalars.first, 0)
        assertClose(try script.value("wrong").scalars.first, 2000)
        assertClose(try script.value("batch").scalars.first, 1000)
        assertClose(try script.value("soft").scalars.first, 1500)
        // softmax(z) − onehot(t), divided by the number of rows.
        assertClose(try script.gradient(of: "right", wrt: "z"), [0, 0, 0])
        assertClose(try script.gradient(of: "wrong", wrt: "z"), [1, 0, -1])
        assertClose(try script.gradient(of: "batch", wrt: "Z"), [0.5, 0, -0.5, 0, 0, 0], shape: [2, 3])
        assertClose(try script.gradient(of: "soft", wrt: "z"), [1, -0.5, -0.5])
    }

    /// A confident, correct prediction has zero loss, and since `(1 − t)·log(1 − p)` vanishes
    /// identically when t = 1 (and `t·log p` when t = 0), ∂bce/∂p is −1/n at (p, t) = (1, 1)
    /// and +1/n at (0, 0); through the saturated sigmoid, ∂/∂z is 0.
    func testBinaryCrossEntropyOfSaturatedPredictions() throws {
        var script = try Script("""
            z = [1000, -1000]
            p = [1, 0]
            viaSigmoid = bce(sigmoid(z), [1, 0])
            direct = bce(p, [1, 0])
            """)
        assertClose(try script.value("viaSigmoid").scalars.first, 0)
        assertClose(try script.value("direct").scalars.first, 0)
        let throughSigmoid = try script.gradient(of: "viaSigmoid", wrt: "z")
        assertFinite(throughSigmoid, "∂bce(sigmoid(z), t)/∂z")
        assertClose(throughSigmoid, [0, 0])
        let direct = try script.gradient(of: "direct", wrt: "p")
        assertFinite(direct, "∂bce(p, t)/∂p")
        assertClose(direct, [-0.5, 0.5])
    }

    func testKinksHaveZeroDerivative() throws {
        var script = try Script("""
            x = [0, 0, 2, -2]
            r = [1, 2, 3, 4] @ relu(x)
            a = [1, 2, 3, 4] @ abs(x)
            s = [1, 2, 3, 4] @ (x ^ 2)
            """)
        assertClose(try script.value("r").scalars.first, 6)
        assertClose(try script.value("a").scalars.first, 14)
        assertClose(try script.gradient(of: "r", wrt: "x"), [0, 0, 3, 0])
        assertClose(try script.gradient(of: "a", wrt: "x"), [0, 0, 3, -4])
        // 2x at 0 is exactly 0, not 0 · x^−1 = NaN.
        assertClose(try script.gradient(of: "s", wrt: "x"), [0, 0, 12, -16])
    }

    func testMaxSendsTheGradientToTheFirstLargestElement() throws {
        var script = try Script("""
            x = [1, 3, 3, 2]
            A = [[5, -1], [5, 5]]
            m = max(x) * 2
            n = max(A)
            k = max(-x)
            """)
        assertClose(try script.value("m").scalars.first, 6)
        assertClose(try script.gradient(of: "m", wrt: "x"), [0, 2, 0, 0])
        assertClose(try script.value("n").scalars.first, 5)
        assertClose(try script.gradient(of: "n", wrt: "A"), [1, 0, 0, 0], shape: [2, 2])
        assertClose(try script.value("k").scalars.first, -1)
        assertClose(try script.gradient(of: "k", wrt: "x"), [-1, 0, 0, 0])
    }

    func testLogAndSoftmaxOfAllEqualHugeRowsStayExact() throws {
        var script = try Script("z = [-1000, -1000, -1000, -1000]\nL = sum(log_softmax(z))")
        assertClose(try script.value("L").scalars.first, -4 * log(4.0))
        assertClose(try script.gradient(of: "L", wrt: "z"), [0, 0, 0, 0])
    }
}
