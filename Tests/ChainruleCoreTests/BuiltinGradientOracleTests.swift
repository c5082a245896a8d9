import _Differentiation
import ChainruleCore
import Foundation
import XCTest

/// Elementwise built-ins, losses, and gradients that meet at a node used more than once,
/// checked against Swift's automatic differentiation and central differences.
final class BuiltinGradientOracleTests: XCTestCase {
    /// The reference for each formula of `testElementwiseFunctions`.
    @differentiable(reverse)
    static func function(_ formula: String, _ x: Double) -> Double {
        switch formula {
        case "relu(x)": Ref.relu(x)
        case "leaky_relu(x)": Ref.leakyRelu(x, 0.01)
        case "leaky_relu(x, a=0.2)": Ref.leakyRelu(x, 0.2)
        case "elu(x)": Ref.elu(x, 1)
        case "elu(x, a=0.5)": Ref.elu(x, 0.5)
        case "gelu(x)": Ref.gelu(x)
        case "sigmoid(x)": Ref.sigmoid(x)
        case "tanh(x)": tanh(x)
        case "softplus(x)": Ref.softplus(x)
        case "linear(x)": x
        case "exp(x)": exp(x)
        case "log(x)": log(x)
        case "sqrt(x)": sqrt(x)
        case "abs(x)": Ref.abs(x)
        case "sin(x)": sin(x)
        case "cos(x)": cos(x)
        case "step(x)": Ref.step(x)
        case "sign(x)": Ref.sign(x)
        case "max(0, x)": Ref.maximum(0, x)
        case "min(x, 0.1)": Ref.minimum(x, 0.1)
        default: -x  // "-x"
        }
    }

    func testElementwiseFunctions() {
        let anywhere = [-1.3, -0.2, 0.4, 1.7]
        let positive = [0.3, 1.1, 2.5, 4.0]
        let formulas = ["relu(x)", "leaky_relu(x)", "leaky_relu(x, a=0.2)", "elu(x)", "elu(x, a=0.5)", "gelu(x)",
                        "sigmoid(x)", "tanh(x)", "softplus(x)", "linear(x)", "exp(x)", "log(x)", "sqrt(x)",
                        "abs(x)", "sin(x)", "cos(x)", "step(x)", "sign(x)", "max(0, x)", "min(x, 0.1)", "-x"]
        let w = [1.0, -2.0, 0.5, 3.0]
        for formula in formulas {
            let x = formula == "log(x)" || formula == "sqrt(x)" ? positive : anywhere
            checkGradients("x = \(literal(x))\nL = \(literal(w)) @ \(formula)", wrt: ["x"], label: formula) { v in
                var s = 0.0
                for i in 0..<4 { s += w[i] * Self.function(formula, v[i]) }
                return s
            }
        }
    }

    func testFunctionsInsideAComposition() {
        // A small network layer: every function's derivative is chained through the others.
        checkGradients("""
            W = [[0.5, -1.0, 0.3], [1.2, 0.4, -0.8]]
            x = [1.0, -0.5, 2.0]
            c = [0.1, -0.2]
            L = sum(gelu(W @ x + c) * sigmoid(c)) + tanh(sum(softplus(x))) * elu(-sqrt(abs(c[0])))
            """, wrt: ["W", "x", "c"]) { v in
            var s = 0.0
            for i in 0..<2 {
                var h = v[9 + i]
                for j in 0..<3 { h += v[i * 3 + j] * v[6 + j] }
                s += Ref.gelu(h) * Ref.sigmoid(v[9 + i])
            }
            let sp = Ref.softplus(v[6]) + Ref.softplus(v[7]) + Ref.softplus(v[8])
            return s + tanh(sp) * Ref.elu(-sqrt(Ref.abs(v[9])), 1)
        }
    }

    func testMeanSquaredError() {
        checkGradients("y = [0.5, -1.0, 2.0]\nt = [1.0, 0.25, 1.5]\nL = mse(y, t)", wrt: ["y", "t"]) { v in
            var s = 0.0
            for i in 0..<3 { s += (v[i] - v[3 + i]) * (v[i] - v[3 + i]) }
            return s / 3
        }
        // A target row broadcast against every row of a batch.
        checkGradients("Y = [[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]]\nt = [1.0, 0.25, 1.5]\nL = mse(Y, t)", wrt: ["Y", "t"]) { v in
            var s = 0.0
            for r in 0..<2 { for i in 0..<3 { s += (v[r * 3 + i] - v[6 + i]) * (v[r * 3 + i] - v[6 + i]) } }
            return s / 6
        }
    }

    func testCrossEntropyWithClassIndices() {
        checkGradients("z = [0.5, -1.0, 2.0, 0.1]\nL = cross_entropy(z, 2)", wrt: ["z"]) { v in
            Ref.logSumExp(v, 0, 4) - v[2]
        }
        let classes = [0, 3, 1]
        checkGradients("""
            Z = [[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, 0.9], [-0.2, 0.8, 0.4, -1.1]]
            L = cross_entropy(Z, \(literal(classes.map(Double.init))))
            """, wrt: ["Z"]) { v in
            var s = 0.0
            for r in 0..<3 { s += Ref.logSumExp(v, r * 4, 4) - v[r * 4 + classes[r]] }
            return s / 3
        }
    }

    /// Logits of any rank, classes on the last axis: each row one prediction, the mean over all rows
    /// (N · T of them for logits (N, T, C)), against indices of shape (N, T) or probabilities.
    func testCrossEntropyOverLeadingAxes() {
        let classes = [[0, 3], [2, 2]]
        checkGradients("""
            Z = [[[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, 0.9]], [[-0.2, 0.8, 0.4, -1.1], [0.6, -0.4, 1.3, 0.2]]]
            L = cross_entropy(Z, [[0, 3], [2, 2]])
            """, wrt: ["Z"]) { v in
            var s = 0.0
            for n in 0..<2 { for t in 0..<2 { s += Ref.logSumExp(v, (n * 2 + t) * 4, 4) - v[(n * 2 + t) * 4 + classes[n][t]] } }
            return s / 4
        }
        checkGradients("""
            Z = [[[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], [[-0.2, 0.8, 0.4], [0.6, -0.4, 1.3]]]
            P = [[[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], [[1, 0, 0], [0.25, 0.25, 0.5]]]
            L = cross_entropy(Z, P)
            """, wrt: ["Z", "P"]) { v in
            var s = 0.0
            for r in 0..<4 {
                let lse = Ref.logSumExp(v, r * 3, 3)
                for i in 0..<3 { s -= v[12 + r * 3 + i] * (v[r * 3 + i] - lse) }
            }
            return s / 4
        }
    }

    /// `one_hot(t, C) @ E` looks up a row of E for each index: its gradient adds the rows'
    /// gradients where an index repeats; the rows get a gradient, the indices none.
    func testOneHotRowsLookUpAnEmbedding() throws {
        let t = [2, 0, 2]
        let w = [1.0, -2.0, 0.5, 3.0, -1.5, 0.25]
        checkGradients("""
            E = [[0.1, -0.3], [0.7, 0.2], [-0.5, 1.1]]
            L = sum(\(literal(w, columns: 2)) * tanh(one_hot([2, 0, 2], 3) @ E))
            """, wrt: ["E"]) { v in
            var s = 0.0
            for r in 0..<3 { for j in 0..<2 { s += w[r * 2 + j] * tanh(v[t[r] * 2 + j]) } }
            return s
        }
        // The values, by hand: a 1 in the column of each index, for indices of any shape.
        var script = try Script("input c = [[1, 0], [2, 1]]\nH = one_hot(c, 3)\nL = sum(H * [1, 10, 100])")
        assertClose(try script.value("H"), [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0], shape: [2, 2, 3])
        assertClose(try script.value("L"), [10 + 1 + 100 + 10], shape: [])
        let gradients = try script.workspace.gradients(of: try script.id("L"))
        XCTAssertNil(gradients[try script.id("c")], "class indices are not differentiated")
        // The rows themselves are read by L: they get its gradient, and pass none on to c.
        assertClose(gradients[try script.id("H")], Array(repeating: [1.0, 10, 100], count: 4).flatMap { $0 }, shape: [2, 2, 3])
    }

    /// A class index selects an element; it is not differentiated: no gradient, not even zero.
    func testCrossEntropyIndexTargetReceivesNoGradient() throws {
        var script = try Script("z = [0.5, -1.0, 2.0]\nk = 2\nL = cross_entropy(z, k) + cross_entropy([z, z], [0, 1])")
        let z = [0.5, -1.0, 2.0]
        let lse = log(exp(z[0]) + exp(z[1]) + exp(z[2]))
        assertClose(try script.value("L").scalars.first, (lse - z[2]) + ((lse - z[0]) + (lse - z[1])) / 2)
        let gradients = try script.workspace.gradients(of: try script.id("L"))
        XCTAssertNil(gradients[try script.id("k")])
        XCTAssertNotNil(gradients[try script.id("z")])
    }

    func testCrossEntropyWithProbabilityTargets() {
        checkGradients("z = [0.5, -1.0, 2.0]\np = [0.2, 0.5, 0.3]\nL = cross_entropy(z, p)", wrt: ["z", "p"]) { v in
            let lse = Ref.logSumExp(v, 0, 3)
            var s = 0.0
            for i in 0..<3 { s -= v[3 + i] * (v[i] - lse) }
            return s
        }
        // Targets that do not sum to one still give the formula's gradient, Σt·softmax − t.
        checkGradients("""
            Z = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]
            P = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.5]]
            L = cross_entropy(Z, P)
            """, wrt: ["Z", "P"]) { v in
            var s = 0.0
            for r in 0..<2 {
                let lse = Ref.logSumExp(v, r * 3, 3)
                for i in 0..<3 { s -= v[6 + r * 3 + i] * (v[r * 3 + i] - lse) }
            }
            return s / 2
        }
    }

    func testBinaryCrossEntropyAndKullbackLeibler() {
        checkGradients("p = [0.2, 0.7, 0.9]\nt = [0.0, 1.0, 0.3]\nL = bce(p, t)", wrt: ["p", "t"]) { v in
            var s = 0.0
            for i in 0..<3 { s += -v[3 + i] * log(v[i]) - (1 - v[3 + i]) * log(1 - v[i]) }
            return s / 3
        }
        checkGradients("z = [-1.5, 0.4, 2.2]\nL = bce(sigmoid(z), [0, 1, 1])", wrt: ["z"]) { v in
            let t = [0.0, 1.0, 1.0]
            var s = 0.0
            for i in 0..<3 { s += -t[i] * log(Ref.sigmoid(v[i])) - (1 - t[i]) * log(1 - Ref.sigmoid(v[i])) }
            return s / 3
        }
        checkGradients("p = [0.2, 0.5, 0.3]\nq = [0.1, 0.6, 0.3]\nL = kl(p, q)", wrt: ["p", "q"]) { v in
            var s = 0.0
            for i in 0..<3 { s += v[i] * (log(v[i]) - log(v[3 + i])) }
            return s
        }
    }

    func testForkAccumulation() throws {
        // One node feeding several consumers: the contributions add up.
        checkGradients("x = 0.7\nL = x * x + sin(x)", wrt: ["x"]) { v in v[0] * v[0] + sin(v[0]) }
        var script = try Script("x = 0.7\nf = x * x + sin(x)\ng = x * x")
        assertClose(try script.gradient(of: "f", wrt: "x"), [2 * 0.7 + cos(0.7)], shape: [])
        assertClose(try script.gradient(of: "g", wrt: "x"), [1.4], shape: [])
        // An intermediate used four times, and a leaf used by it and directly.
        checkGradients("x = 0.4\ny = -1.3\nh = x * y\nL = h * h + exp(h) + h / y + h", wrt: ["x", "y"]) { v in
            let h = v[0] * v[1]
            return h * h + exp(h) + h / v[1] + h
        }
        // Both inputs of one node are the same vector.
        checkGradients("x = [0.5, -1.0, 2.0]\nL = x @ x + sum(x * x * x)", wrt: ["x"]) { v in
            var s = 0.0
            for i in 0..<3 { s += v[i] * v[i] + v[i] * v[i] * v[i] }
            return s
        }
    }

    func testDeepReuseChain() {
        // Every step reads the previous step twice and the first leaf once more.
        let steps = 40
        var text = "x0 = 0.3\nw = 0.9\n"
        for k in 1...steps { text += "x\(k) = sin(x\(k - 1)) * w + x\(k - 1) * x0\n" }
        text += "L = x\(steps)"
        checkGradients(text, wrt: ["x0", "w"]) { v in
            var x = v[0]
            for _ in 0..<steps { x = sin(x) * v[1] + x * v[0] }
            return x
        }
    }
}
