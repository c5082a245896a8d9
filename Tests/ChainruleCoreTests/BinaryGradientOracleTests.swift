import _Differentiation
import ChainruleCore
import Foundation
import XCTest

/// Two-input elementwise built-ins (`max`, `min`, a learnable slope) and the binary
/// cross-entropies, checked against Swift's automatic differentiation and central
/// differences; at ties, kinks and clamps, where central differences straddle the
/// break, against automatic differentiation and worked values alone.
final class BinaryGradientOracleTests: XCTestCase {
    func testMaxAndMinWithBroadcasting() {
        // No element ties, so central differences are meaningful everywhere.
        checkGradients("""
            X = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]
            y = [0.2, 0.1, 1.0]
            L = sum([[1, -2, 3], [0.5, 1, -1]] * max(X, y)) + sum(min(y, X) * X)
            """, wrt: ["X", "y"]) { v in
            let w = [1.0, -2, 3, 0.5, 1, -1]
            var s = 0.0
            for i in 0..<6 {
                let x = v[i], y = v[6 + i % 3]
                s += w[i] * Ref.maximum(x, y) + Ref.minimum(y, x) * x
            }
            return s
        }
        // A scalar against a vector: the scalar's gradient is the sum over the elements it won.
        checkGradients("x = [-1.2, 0.4, 2.5]\nc = 0.9\nL = [1, 2, 3] @ max(c, x) - [2, 1, 1] @ min(x, c)", wrt: ["x", "c"]) { v in
            let a = [1.0, 2, 3], b = [2.0, 1, 1]
            var s = 0.0
            for i in 0..<3 { s += a[i] * Ref.maximum(v[3], v[i]) - b[i] * Ref.minimum(v[i], v[3]) }
            return s
        }
    }

    func testAtATieTheFirstArgumentTakesTheGradient() throws {
        // x and y tie in elements 0 and 2: the derivative is one-sided there, so only
        // automatic differentiation of `a >= b ? a : b` (which takes the first branch) is an oracle.
        let x = [1.0, -0.5, 2.0], y = [1.0, 0.5, 2.0]
        var script = try Script("x = \(literal(x))\ny = \(literal(y))\nP = [1, 2, 3] @ max(x, y)\nQ = [1, 2, 3] @ min(y, x)")
        let (dx, dy) = gradient(at: x, y) { a, b -> Double in
            var s = 0.0
            for i in 0..<3 { s += Double(i + 1) * Ref.maximum(a[i], b[i]) }
            return s
        }
        XCTAssertEqual(try script.gradient(of: "P", wrt: "x").scalars, Array(dx.base))
        XCTAssertEqual(try script.gradient(of: "P", wrt: "y").scalars, Array(dy.base))
        XCTAssertEqual(Array(dx.base), [1, 0, 3])
        let (ey, ex) = gradient(at: y, x) { b, a -> Double in
            var s = 0.0
            for i in 0..<3 { s += Double(i + 1) * Ref.minimum(b[i], a[i]) }
            return s
        }
        XCTAssertEqual(try script.gradient(of: "Q", wrt: "y").scalars, Array(ey.base))
        XCTAssertEqual(try script.gradient(of: "Q", wrt: "x").scalars, Array(ex.base))
        XCTAssertEqual(Array(ey.base), [1, 0, 3])
    }

    func testLeakyReluAndEluSlopesReceiveTheirGradient() {
        let z = [-1.3, -0.2, 0.4, 1.7]
        checkGradients("param alpha = 0.1\nz = \(literal(z))\nL = [1, -2, 0.5, 3] @ leaky_relu(z, a=alpha)", wrt: ["alpha", "z"]) { v in
            let w = [1.0, -2, 0.5, 3]
            var s = 0.0
            for i in 0..<4 { s += w[i] * Ref.leakyRelu(v[1 + i], v[0]) }
            return s
        }
        // The slope as an expression of several nodes, and elu's slope too.
        checkGradients("s = 0.3\nb = 1.5\nz = \(literal(z))\nL = sum(elu(z, a=b * sigmoid(s))) + z @ leaky_relu(z, a=s^2)",
                       wrt: ["s", "b", "z"]) { v in
            var total = 0.0
            for i in 0..<4 {
                let x = v[2 + i]
                total += Ref.elu(x, v[1] * Ref.sigmoid(v[0])) + x * Ref.leakyRelu(x, v[0] * v[0])
            }
            return total
        }
        // A matrix through a learnable slope: the slope sums over every element.
        checkGradients("param a = 0.2\nW = [[0.5, -0.8], [-2.0, 0.3]]\nx = [1.0, 0.5]\nL = sum(leaky_relu(W @ x, a=a))",
                       wrt: ["a", "W", "x"]) { v in
            var s = 0.0
            for i in 0..<2 { s += Ref.leakyRelu(v[1 + 2 * i] * v[5] + v[2 + 2 * i] * v[6], v[0]) }
            return s
        }
    }

    func testSlopeGradientAtTheKink() throws {
        // At x = 0 both branches have the value 0; the derivative follows the `a·x` branch:
        // ∂/∂x = a, ∂/∂a = x = 0, as automatic differentiation of the reference gives.
        var script = try Script("param a = 0.25\nx = [0, -2, 0]\nL = [1, 2, 3] @ leaky_relu(x, a=a) + [1, 1, 1] @ elu(x, a=a)")
        let v = [0.25, 0, -2, 0]
        let g = gradient(at: v) { v -> Double in
            var s = 0.0
            for i in 0..<3 { s += Double(i + 1) * Ref.leakyRelu(v[1 + i], v[0]) + Ref.elu(v[1 + i], v[0]) }
            return s
        }
        assertClose(try script.gradient(of: "L", wrt: "a"), [g[0]], shape: [])
        assertClose(try script.gradient(of: "L", wrt: "x"), Array(g.base[1...]), shape: [3])
        assertClose(try script.gradient(of: "L", wrt: "a"), [2 * -2 + (exp(-2) - 1)], shape: [])
    }

    func testSlopeMustBeAScalar() throws {
        var script = try Script("x = [1, -2]\nv = [0.1, 0.2]")
        let d = expectRefusal("y = leaky_relu(x, a=⏶v)", in: &script, containing: "the slope 'a' must be a scalar")
        XCTAssertEqual(d?.message, "the slope 'a' must be a scalar, got shape (2)")
        // The default slope is a constant input of the node.
        try script.run("y = leaky_relu(x)\nparam p = 0.5\nq = elu(x, a=p)")
        let graph = script.workspace.graph
        let node = graph[try script.id("y")]
        XCTAssertEqual(node.inputs.count, 2)
        XCTAssertEqual(graph[node.inputs[1]].op, .constant)
        XCTAssertEqual(graph[node.inputs[1]].value?.scalars, [0.01])
        XCTAssertEqual(Array(graph[try script.id("q")].inputs), [try script.id("x"), try script.id("p")])
    }

    func testBinaryCrossEntropyClampsItsLogarithmsAtMinusOneHundred() throws {
        // sigmoid(40) rounds to exactly 1: the clamped log(1 − p) is −100, as in PyTorch.
        var script = try Script("z = 40\nL = bce(sigmoid(z), 0)\np = [0, 1, 1e-50]\nt = [1, 0, 0.3]\nM = bce(p, t)")
        assertClose(try script.value("L"), [100], shape: [])
        let dz = try script.gradient(of: "L", wrt: "z").scalars[0]
        XCTAssert(dz.isFinite, "∂L/∂z = \(dz)")
        // Each clamped term is constant in p; the unclamped ones keep their derivative.
        let v = [0.0, 1, 1e-50, 1, 0, 0.3]
        let (value, g) = valueWithGradient(at: v) { v -> Double in
            var s = 0.0
            for i in 0..<3 { s += Ref.bceTerm(v[i], v[3 + i]) }
            return s / 3
        }
        assertClose(try script.value("M").scalars.first, value)
        assertClose(try script.value("M").scalars.first, (100 + 100 + 0.3 * 100 - 0.7 * log1p(-1e-50)) / 3)
        assertClose(try script.gradient(of: "M", wrt: "p"), Array(g.base[0..<3]), shape: [3])
        assertClose(try script.gradient(of: "M", wrt: "t"), Array(g.base[3..<6]), shape: [3])
        assertClose(try script.gradient(of: "M", wrt: "t"), [100.0 / 3, -100.0 / 3, (log1p(-1e-50) + 100) / 3], shape: [3])
        // Away from the clamp the gradient is the usual one (see BuiltinGradientOracleTests).
        checkGradients("p = [0.2, 0.7, 0.99]\nt = [0.0, 1.0, 0.3]\nL = bce(p, t)", wrt: ["p", "t"]) { v in
            var s = 0.0
            for i in 0..<3 { s += Ref.bceTerm(v[i], v[3 + i]) }
            return s / 3
        }
    }

    func testBinaryCrossEntropyWithLogits() throws {
        checkGradients("z = [-1.5, 0.4, 2.2, 0]\nt = [0, 1, 0.25, 1]\nL = bce_with_logits(z, t)", wrt: ["z", "t"]) { v in
            var s = 0.0
            for i in 0..<4 { s += Ref.softplus(v[i]) - v[4 + i] * v[i] }
            return s / 4
        }
        // It is bce(sigmoid(z), t), and broadcasts a target row over a batch (mean over all elements).
        checkGradients("Z = [[-1.5, 0.4], [2.2, -0.3]]\nt = [1, 0.2]\nL = bce_with_logits(Z, t)", wrt: ["Z", "t"]) { v in
            var s = 0.0
            for i in 0..<4 { s += Ref.bceTerm(Ref.sigmoid(v[i]), v[4 + i % 2]) }
            return s / 4
        }
        // Saturated logits stay exact, where bce(sigmoid(z), t) loses everything.
        var script = try Script("z = [1000, -1000, 40, -40]\nt = [0, 1, 0, 1]\nL = bce_with_logits(z, t)\nB = bce(sigmoid(z), t)")
        assertClose(try script.value("L"), [(1000 + 1000 + 40 + 40) / 4], shape: [])
        assertClose(try script.gradient(of: "L", wrt: "z"), [0.25, -0.25, 0.25, -0.25], shape: [4])
        assertClose(try script.value("B"), [(100 + 100 + 100 + 40) / 4], shape: [])
        XCTAssertEqual(script.workspace.graph[try script.id("L")].op.name, "bce_with_logits")
    }
}

/// Every two-argument op and every loss with each argument broadcast against the other in turn:
/// each argument's gradient has that argument's own shape and matches central differences of
/// forward evaluations computed in the test (before: `kl(p, Q)` gave ∂/∂p of `Q`'s shape, and
/// `bce(t, P)`, `bce_with_logits(p, Q)` refused "cannot sum shape (3) to (2, 3)").
final class BroadcastGradientOracleTests: XCTestCase {
    /// Shapes that broadcast to `(2, 3)`, each pair tried both ways round.
    static let pairs: [([Int], [Int])] = [([3], [2, 3]), ([2, 1], [1, 3]), ([], [2, 3]), ([2, 3], [2, 3])]

    /// A leaf of `shape` with values in (0, 1), distinct from the other argument's (no ties).
    static func leaf(_ name: String, _ shape: [Int], from values: [Double]) -> String {
        let count = shape.reduce(1, *)
        let taken = Array(values.prefix(count))
        switch shape.count {
        case 0: return "\(name) = \(taken[0])"
        case 1: return "\(name) = \(literal(taken))"
        default: return "\(name) = \(literal(taken, columns: shape[1]))"
        }
    }

    /// Checks ∂L/∂x and ∂L/∂y of `formula` for every pair of shapes `accepts` admits.
    func check(_ formula: String, accepts: ([Int], [Int]) -> Bool = { _, _ in true },
               file: StaticString = #filePath, line: UInt = #line) {
        let xs = [0.15, 0.35, 0.55, 0.7, 0.25, 0.8], ys = [0.3, 0.62, 0.45, 0.2, 0.85, 0.5]
        let weights = "[[1, -2, 0.5], [3, -1.5, 0.25]]"
        for (first, second) in Self.pairs.flatMap({ [$0, ($0.1, $0.0)] }) where accepts(first, second) {
            let text = [Self.leaf("x", first, from: xs), Self.leaf("y", second, from: ys),
                        "L = " + formula.replacingOccurrences(of: "W", with: weights)].joined(separator: "\n")
            let label = "\(formula) with x \(first), y \(second)"
            do {
                var script = try Script(text)
                for (leaf, shape) in [("x", first), ("y", second)] {
                    let oracle = try script.forwardDifferences(of: "L", wrt: leaf)
                    let reverse = try script.gradient(of: "L", wrt: leaf)
                    assertClose(reverse, oracle.scalars, shape: shape, .finiteDifference,
                                "\(label): ∂L/∂\(leaf) by the reverse pass", file: file, line: line)
                    let forward = try script.forwardModeGradient(of: "L", wrt: leaf)
                    assertClose(forward, oracle.scalars, shape: shape, .finiteDifference,
                                "\(label): ∂L/∂\(leaf) by forward mode", file: file, line: line)
                }
            } catch {
                XCTFail("\(label): \(error)", file: file, line: line)
            }
        }
    }

    func testBinaryOps() {
        for op in ["x + y", "x - y", "x * y", "x / y", "x ^ y", "max(x, y)", "min(x, y)"] {
            check("sum(W * (\(op)))")
        }
        // The slope of leaky_relu and elu is a scalar: the other argument broadcasts against it.
        for op in ["leaky_relu(x - 0.5, a=y)", "elu(x - 0.5, a=y)"] {
            check("sum(W * \(op))", accepts: { $1.isEmpty })
        }
    }

    func testLosses() {
        for loss in ["mse", "bce", "kl", "bce_with_logits"] {
            check("\(loss)(x, y)")
            check("\(loss)(x, y) * 3 + \(loss)(y, x)")
        }
        // Cross-entropy takes probability targets of the logits' shape only (no broadcasting).
        check("cross_entropy(x, y)", accepts: { $0 == $1 && !$0.isEmpty })
    }

    /// The example of the report, against its closed form: ∂/∂pⱼ = Σᵢ (log pⱼ − log Qᵢⱼ + 1).
    func testKullbackLeiblerOfAVectorAgainstRows() throws {
        let p = [0.2, 0.5, 0.3], q = [[0.1, 0.6, 0.3], [0.4, 0.4, 0.2]]
        var script = try Script("p = \(literal(p))\nQ = \(literal(q.flatMap { $0 }, columns: 3))\nL = kl(p, Q)")
        let expected = (0..<3).map { j in q.map { log(p[j]) - log($0[j]) + 1 }.reduce(0, +) }
        assertClose(try script.gradient(of: "L", wrt: "p"), expected, shape: [3])
        assertClose(try script.gradient(of: "L", wrt: "Q"), q.flatMap { row in (0..<3).map { -p[$0] / row[$0] } }, shape: [2, 3])
    }
}

/// References for the two-input functions, in plain Swift for automatic differentiation.
extension Ref {
    /// `max(a, b)` choosing `a` at a tie.
    @differentiable(reverse) static func maximum(_ a: Double, _ b: Double) -> Double { a >= b ? a : b }
    /// `min(a, b)` choosing `a` at a tie.
    @differentiable(reverse) static func minimum(_ a: Double, _ b: Double) -> Double { a <= b ? a : b }
    /// `max(log p, −100)`, testing `p` first so that no `log 0` enters the derivative.
    @differentiable(reverse) static func clampedLog(_ p: Double) -> Double { p < exp(-100) ? -100 : log(p) }
    /// One element of `bce`: `−t·log p − (1−t)·log(1−p)` with both logs clamped.
    @differentiable(reverse) static func bceTerm(_ p: Double, _ t: Double) -> Double {
        -t * clampedLog(p) - (1 - t) * clampedLog(1 - p)
    }
    /// Heaviside step; its derivative is 0 wherever it has one.
    @differentiable(reverse) static func step(_ x: Double) -> Double { 0 * x + (x > 0 ? 1 : 0) }
    /// The sign function; its derivative is 0 wherever it has one.
    @differentiable(reverse) static func sign(_ x: Double) -> Double { 0 * x + (x > 0 ? 1 : (x < 0 ? -1 : 0)) }
}
