@testable import ChainruleCore
import Foundation
import XCTest

/// Derivatives as graphs: `grad()` in the language to any order, the Hessian, forward
/// mode, costs and recomputation, checked against closed forms and published values.
final class DerivativeGraphTests: XCTestCase {
    /// The values of `d1 … dN`, where `d1 = grad(f, x)` and each next one differentiates the last.
    func derivatives(_ f: String, at x: Double, order: Int = 4, extra: String = "") throws -> [Double] {
        var text = "x = \(x)\n\(extra)d1 = grad(\(f), x)\n"
        for k in 2...order { text += "d\(k) = grad(d\(k - 1), x)\n" }
        var script = try Script(text)
        return try (1...order).map { try script.value("d\($0)").scalars[0] }
    }

    func testTanhDerivativesAgainstPublishedValues() throws {
        let d = try derivatives("tanh(x)", at: 2.0, order: 3)
        assertClose(d[0], 0.0706508248531644, .published(decimals: 15), "tanh′(2)")
        assertClose(d[1], -0.136218687427113, .published(decimals: 15), "tanh″(2)")
        assertClose(d[2], 0.252654065098063, .published(decimals: 15), "tanh‴(2)")
    }

    /// Each built-in to the fourth order against its closed form.
    func testGradNestsToOrderFourOnEveryElementwiseBuiltin() throws {
        let s = 1 / (1 + exp(-0.7))  // σ(0.7)
        let sigma: [Double] = [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s),
                               s * (1 - s) * (1 - 2 * s) * (1 - 12 * s + 12 * s * s)]
        let t = tanh(0.7)
        let phi = exp(-0.49 / 2) / (2 * Double.pi).squareRoot()
        let Phi = 0.5 * (1 + erf(0.7 / 2.0.squareRoot()))
        let x = 0.7
        let cases: [(String, [Double])] = [
            ("exp(x)", Array(repeating: exp(x), count: 4)),
            ("log(x)", [1 / x, -1 / (x * x), 2 / pow(x, 3), -6 / pow(x, 4)]),
            ("sqrt(x)", [0.5 * pow(x, -0.5), -0.25 * pow(x, -1.5), 0.375 * pow(x, -2.5), -0.9375 * pow(x, -3.5)]),
            ("sin(x)", [cos(x), -sin(x), -cos(x), sin(x)]),
            ("cos(x)", [-sin(x), -cos(x), sin(x), cos(x)]),
            ("tanh(x)", [1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t), 8 * t * (1 - t * t) * (2 - 3 * t * t)]),
            ("sigmoid(x)", sigma),
            ("softplus(x)", [s] + sigma.prefix(3)),
            // (x·σ)⁽ⁿ⁾ = n·σ⁽ⁿ⁻¹⁾ + x·σ⁽ⁿ⁾.
            ("silu(x)", [s + x * sigma[0], 2 * sigma[0] + x * sigma[1], 3 * sigma[1] + x * sigma[2], 4 * sigma[2] + x * sigma[3]]),
            ("gelu(x)", [Phi + x * phi, phi * (2 - x * x), phi * (x * x * x - 4 * x), phi * (-pow(x, 4) + 7 * x * x - 4)]),
            ("relu(x)", [1, 0, 0, 0]),
            ("abs(x)", [1, 0, 0, 0]),
            ("leaky_relu(x, a=0.2)", [1, 0, 0, 0]),
            ("elu(x, a=0.5)", [1, 0, 0, 0]),
            ("linear(x)", [1, 0, 0, 0]),
            ("hardtanh(x)", [1, 0, 0, 0]),
            ("-x", [-1, 0, 0, 0]),
            ("step(x)", [0, 0, 0, 0]),
            ("sign(x)", [0, 0, 0, 0]),
            ("x^3", [3 * x * x, 6 * x, 6, 0]),
            ("1 / x", [-1 / (x * x), 2 / pow(x, 3), -6 / pow(x, 4), 24 / pow(x, 5)]),
            ("max(x, 0.1)", [1, 0, 0, 0]),
            ("min(x, 0.1)", [0, 0, 0, 0]),
        ]
        let covered = Set(cases.map { $0.0.prefix { $0 != "(" } })
        for p in Pointwise.allCases {
            guard let name = p.function?.name else { continue }
            XCTAssertTrue(covered.contains(Substring(name)), "\(name) has closed forms here")
        }
        for (f, expected) in cases {
            let d = try derivatives(f, at: x)
            for (k, (actual, closed)) in zip(d, expected).enumerated() {
                assertClose(actual, closed, Tolerance(atol: 1e-13, rtol: 1e-11), "order \(k + 1) of \(f) at \(x)")
            }
        }
        // On the other side of the kinks.
        for (f, expected) in [("leaky_relu(x, a=0.2)", [0.2, 0, 0, 0]), ("elu(x, a=0.5)", Array(repeating: 0.5 * exp(-0.7), count: 4)),
                              ("relu(x)", [0, 0, 0, 0]), ("abs(x)", [-1, 0, 0, 0])] {
            let d = try derivatives(f, at: -x)
            for (k, (actual, closed)) in zip(d, expected).enumerated() {
                assertClose(actual, closed, Tolerance(atol: 1e-13, rtol: 1e-11), "order \(k + 1) of \(f) at \(-x)")
            }
        }
    }

    /// A second derivative through every kind of op the rules emit (reshape, sum_to, select,
    /// scatter, einsum adjoints), against central differences of the first derivative.
    func testSecondDerivativesThroughStructureAgreeWithDifferences() throws {
        let bodies = [
            "sum(tanh(W @ v) ^ 2)",
            "sum(softmax(W @ v) * [1, 2])",
            "sum(log_softmax(W @ v) * [1, 2])",
            "einsum(\"ij,j->\", W, v * v)",
            "sum(exp(W[0]) * v) + max(W @ v)",
            "mse(W @ v, [1, -1]) + sum(W.T @ [1, 2])",
            "cross_entropy(W @ v, 1) + bce(sigmoid(W @ v), [0, 1])",
            "kl(softmax(W @ v), [0.3, 0.7]) + sum(elu(W @ v, a=sum(v)))",
            "sum([v[0] * v[1], v[2], sum(W)] ^ 2)",
        ]
        for body in bodies {
            var script = try Script("""
                v = [0.3, -0.8, 0.5]
                W = [[0.2, -0.4, 0.9], [1.1, 0.3, -0.6]]
                g = grad(\(body), v)
                s = sum(g * [1, 2, 3])
                """)
            let second = try script.gradient(of: "s", wrt: "v")
            let numeric = try script.finiteDifference(of: "s", wrt: "v")
            assertClose(second, numeric.scalars, shape: [3], .finiteDifference, "second derivative of \(body)")
            let forward = try script.forwardModeGradient(of: "s", wrt: "v")
            assertClose(forward, second.scalars, shape: [3], .exact, "forward over reverse of \(body)")
        }
    }

    func testHessianOfThePublishedExample() throws {
        var script = try Script("""
            x = [pi / 4, 2, 3, 4]
            f = sin(x[0]) + x[1] * x[2] * x[3]
            """)
        let h = try script.workspace.hessian(of: try script.id("f"), wrt: try script.id("x"))
        XCTAssertEqual(h.shape, [4, 4])
        assertClose(h, [-0.7071067811865476, 0, 0, 0,
                        0, 0, 4, 3,
                        0, 4, 0, 2,
                        0, 3, 2, 0], .exact, "Hessian of sin(x₀) + x₁x₂x₃")
        let eigenvalues = LinearAlgebra.symmetricEigenvalues(h.scalars, size: 4)
        XCTAssertEqual(eigenvalues.count, 4)
        // The lower block [[0, 4, 3], [4, 0, 2], [3, 2, 0]] has trace 0 and determinant 48.
        assertClose(eigenvalues.reduce(0, +), -0.7071067811865476, Tolerance(atol: 1e-12, rtol: 0), "trace")
        assertClose(eigenvalues.reduce(1, *), -0.7071067811865476 * 48, Tolerance(atol: 1e-10, rtol: 0), "determinant")
    }

    /// Hand count for `h = tanh(x @ W1 + b1); y = h @ W2; L = mse(y, t)` with x (4, 2),
    /// W1 (2, 3), b1 (3), W2 (3), t (4): one FLOP per elementwise operation, two per multiply–add.
    func testFlopCountsOfASmallMLP() throws {
        var script = try Script("""
            input x = [[0, 0], [0, 1], [1, 0], [1, 1]]
            input t = [0, 1, 1, 0]
            param W1 = [[0.5, -1, 0.25], [1, 0.5, -0.5]]
            param b1 = [0.1, 0.2, 0.3]
            param W2 = [1, -1, 0.5]
            h = tanh(x @ W1 + b1)
            y = h @ W2
            L = mse(y, t)
            """)
        let ledger = CostLedger(try script.workspace.reverseGraph(of: try script.id("L"), seeded: false))
        // Forward: x@W1 2·4·2·3 = 48; + b1 12; tanh 12; h@W2 2·4·3 = 24; mse: subtract, square, sum 3·4 = 12.
        XCTAssertEqual(ledger.forwardFlops, 48 + 12 + 12 + 24 + 12)
        // Backward: mse: y − t 4, ·(2/4) 4, ·(−2/4) 4 (t is a leaf too): 12.
        // h@W2: ∂/∂h (4,1)@(1,3) 24, ∂/∂W2 (3,4)@(4,1) 24: 48.
        // tanh: 1 − y² (y·y 12, 1 − 12), times the gradient 12: 36.
        // + b1: summing (4, 3) onto (3) 12; onto the matmul's own shape, nothing.
        // x@W1: ∂/∂x (4,3)@(3,2) 48, ∂/∂W1 (2,4)@(4,3) 48: 96.
        XCTAssertEqual(ledger.backwardFlops, 12 + 48 + 36 + 12 + 96)
        let byName = Dictionary(uniqueKeysWithValues: ledger.rows.compactMap { row in
            script.workspace.graph[row.node].name.map { ($0, row) }
        })
        XCTAssertEqual(byName["h"]?.stored, 8 * 12, "tanh's rule reads its output; the product reads it too")
        XCTAssertEqual(byName["y"]?.stored, 8 * 4, "mse reads its prediction")
        XCTAssertEqual(ledger.storedBytes, 8 * 12 + 8 * 4)
    }

    func testRecomputingKeepsGradientsBitIdenticalAndStoresLess() throws {
        var script = try Script("""
            x = [0.1, 0.7, -1.3]
            a = exp(x)
            b = sin(a)
            L = sum(b * b)
            """)
        let output = try script.id("L")
        let before = try script.workspace.gradients(of: output)[try script.id("x")]
        let stored = CostLedger(try script.workspace.reverseGraph(of: output, seeded: false))
        script.workspace.remat = [try script.id("b")]
        let after = try script.workspace.gradients(of: output)[try script.id("x")]
        let recomputing = CostLedger(try script.workspace.reverseGraph(of: output, seeded: false))
        XCTAssertEqual(before?.scalars.map(\.bitPattern), after?.scalars.map(\.bitPattern), "bit for bit")
        XCTAssertEqual(stored.storedBytes, 2 * 24, "a and b are kept")
        XCTAssertEqual(recomputing.storedBytes, 24, "only a is kept: b is sin(a) again")
        XCTAssertGreaterThan(recomputing.backwardFlops, stored.backwardFlops, "recomputing costs FLOPs")
        script.workspace.rematAll = true
        let all = try script.workspace.gradients(of: output)[try script.id("x")]
        XCTAssertEqual(before?.scalars.map(\.bitPattern), all?.scalars.map(\.bitPattern))
        XCTAssertEqual(CostLedger(try script.workspace.reverseGraph(of: output, seeded: false)).storedBytes, 0)
    }

    func testJacobianChoosesTheCheaperDirection() throws {
        var script = try Script("""
            x = [1, 2, 3]
            W = [[1, 0, 2], [0, 1, -1]]
            y = tanh(W @ x)
            z = x * sum(x)
            """)
        let wide = try script.workspace.jacobian(of: try script.id("y"), wrt: try script.id("x"))
        XCTAssertEqual(wide.method, .reverse, "2 outputs, 3 inputs: by rows")
        XCTAssertEqual(wide.passes, 2)
        let tall = try script.workspace.jacobian(of: try script.id("y"), wrt: try script.id("W"))
        XCTAssertEqual(tall.method, .reverse)
        let square = try script.workspace.jacobian(of: try script.id("z"), wrt: try script.id("x"))
        XCTAssertEqual(square.method, .reverse, "ties go to reverse mode")
        // ∂(x·Σx)/∂x = Σx·I + x·1ᵀ.
        assertClose(square.matrix, [7, 1, 1, 2, 8, 2, 3, 3, 9], shape: [3, 3])
        var narrow = try Script("s = 0.5\nv = [s, s * s, sin(s), exp(s)]")
        let column = try narrow.workspace.jacobian(of: try narrow.id("v"), wrt: try narrow.id("s"))
        XCTAssertEqual(column.method, .forward, "4 outputs, 1 input: by columns")
        XCTAssertEqual(column.passes, 1)
        assertClose(column.matrix, [1, 1, cos(0.5), exp(0.5)], shape: [4, 1])
    }

    func testGradOfAHundredThousandNodeChain() throws {
        var text = "x0 = 1\nc = 1.0001\n"
        for k in 1...250 { text += "x\(k) = x\(k - 1)" + String(repeating: " * c", count: 400) + "\n" }
        text += "g = grad(x250, c)\n"
        var script = try Script(text)
        assertClose(try script.value("g").scalars[0], 100_000 * pow(1.0001, 99_999), Tolerance(atol: 0, rtol: 1e-9))
    }

    func testGradFollowsItsFormulaLikeAnyDefinition() throws {
        var script = try Script("x = 1\nd = grad(x^3, x)")
        assertClose(try script.value("d").scalars[0], 3)
        try script.run("x = 2")
        assertClose(try script.value("d").scalars[0], 12)
        XCTAssertThrowsError(try script.run("e = grad(x, [1, 2])")) { error in
            XCTAssertEqual((error as? Diagnostic)?.message, "grad's second argument must name a node, as in grad(y, x)")
        }
        XCTAssertThrowsError(try script.run("v = [1, 2]\ne = grad(v * x, x)")) { error in
            XCTAssertEqual((error as? Diagnostic)?.message, "grad needs a scalar expression, got shape (2); take sum(…) or an element first")
        }
        try script.run("u = 5\nz = grad(u * 2, x)")
        assertClose(try script.value("z").scalars[0], 0, .exact, "z does not depend on x")
    }

    /// Training asks for the params' gradients only: the product that would give ∂L/∂x for
    /// the data is never built, and the step is the same as with every gradient.
    func testTrainingDifferentiatesOnlyTheParams() throws {
        let text = """
            input x = [[0, 0], [0, 1], [1, 0], [1, 1]]
            param W = [[0.5, -1], [1, 0.5]]
            L = sum(tanh(x @ W) ^ 2)
            """
        var script = try Script(text)
        let (loss, w) = (try script.id("L"), try script.id("W"))
        let all = CostLedger(try script.workspace.reverseGraph(of: loss, seeded: false))
        let params = CostLedger(try script.workspace.reverseGraph(of: loss, seeded: false, wrt: [w]))
        // ∂L/∂x would be a (4, 2)·(2, 2) product: 2·4·2·2 = 32 FLOPs.
        XCTAssertEqual(all.backwardFlops - params.backwardFlops, 32)
        let expected = try script.gradient(of: "L", wrt: "W")
        _ = try script.workspace.descend(loss, params: ["W"], learningRate: 0.5)
        var reference = try Script(text)
        let before = try reference.value("W")
        assertClose(try script.value("W"), zip(before.scalars, expected.scalars).map { $0 - 0.5 * $1 }, shape: [2, 2])
    }

    /// One step of gradient descent on `L` by fresh forward and reverse passes, every param
    /// stepping from the values before the step (what a compiled step must give); the loss before.
    static func referenceStep(_ script: inout Script, params: [String], learningRate rate: Double) throws -> Double {
        let before = try script.value("L").scalars[0]
        var updates: [(String, Tensor)] = []
        for name in params {
            var w = try script.value(name)
            let g = try script.gradient(of: "L", wrt: name)
            for i in w.scalars.indices { w.scalars[i] -= rate * g.scalars[i] }
            updates.append((name, w))
        }
        for (name, w) in updates { script.workspace.setValue(w, of: name) }
        return before
    }

    /// The compiled training step: the same numbers, bit for bit, as a fresh forward and
    /// reverse pass each step; each recomputed tensor written into its buffer of the step
    /// before; what depends on data alone computed once; a new data value noticed.
    func testACompiledTrainingStepIsTheStepOfFreshPassesAndReusesItsBuffers() throws {
        let text = """
            input X = [[0.5, -1, 2], [1, 0.25, -0.5], [-1.5, 2, 0.75], [0, 1, 1]]
            input y = [0, 2, 1, 2]
            param W1 = [[0.2, -0.4, 0.1, 0.3], [0.5, 0.1, -0.2, 0.05], [-0.3, 0.2, 0.4, -0.1]]
            param b1 = [0.01, -0.02, 0.03, 0]
            param W2 = [[0.3, -0.2, 0.1], [0.1, 0.4, -0.3], [-0.2, 0.1, 0.2], [0.05, -0.1, 0.3]]
            L = cross_entropy(relu(X @ W1 + b1) @ W2, y)
            """
        let params = ["W1", "b1", "W2"]
        var compiled = try Script(text), fresh = try Script(text)
        let loss = try compiled.id("L")
        func referenceStep(_ script: inout Script) throws -> Double {
            try DerivativeGraphTests.referenceStep(&script, params: params, learningRate: 0.1)
        }
        var addresses: [UnsafePointer<Double>?] = []
        let product = try XCTUnwrap(compiled.workspace.graph.node(named: "L")).advanced(by: -1)
        for step in 0..<5 {
            if step == 3 {
                // New data between steps: both see it.
                let x = Tensor(shape: [4, 3], scalars: [1, 2, 3, -1, 0, 1, 0.5, 0.5, -2, 1, -1, 0])
                compiled.workspace.setValue(x, of: "X")
                fresh.workspace.setValue(x, of: "X")
            }
            let a = try compiled.workspace.descend(loss, params: params, learningRate: 0.1)
            let b = try referenceStep(&fresh)
            XCTAssertEqual(a.bitPattern, b.bitPattern, "loss at step \(step)")
            for name in params {
                XCTAssertEqual(try compiled.value(name).scalars.map(\.bitPattern), try fresh.value(name).scalars.map(\.bitPattern),
                               "\(name) after step \(step)")
            }
            let plan = try XCTUnwrap(compiled.workspace.trainingPlan)
            addresses.append(plan.values.tensorStorage(of: product))
        }
        XCTAssertNotNil(addresses[1])
        XCTAssertEqual(addresses[1], addresses[2], "the product of the second layer is written where it was")
        let plan = try XCTUnwrap(compiled.workspace.trainingPlan)
        let reverse = plan.reverse
        let transposes = plan.constantReverse.filter { reverse.graph[$0].op == .transpose }
        XCTAssertEqual(transposes.count, 1, "Xᵀ, for ∂W1 = Xᵀ·G, depends on data alone: computed once per plan")
        XCTAssertFalse(plan.reverseIDs.contains(transposes[0]))
    }

    /// Params whose gradient is another param's value (∂(a·b)/∂a is b itself, a node of the
    /// forward graph): every param steps from the values before the step, as separate
    /// forward and reverse passes give, though the params change in place.
    func testATrainingStepWhereAParamIsAnotherParamsGradientMovesEveryParam() throws {
        let cases = [
            "param a = 1\nparam b = 2\nL = a * b",
            "param a = 1\nparam b = 2\nparam c = -1\nL = a * b + a * c",
            "param a = 1.5\nparam b = 2\nL = a * b + a",
            "param w = [1, 2]\nparam u = [3, 4]\nL = sum(w * u)",
            "param W = [[1, 2], [3, 4]]\nparam V = [[0.5, -1], [2, 0.25]]\nL = mean(W * V)",
            "param a = 0.5\nL = sum([a * a]) / 2",
        ]
        for text in cases {
            var compiled = try Script(text), fresh = try Script(text)
            let loss = try compiled.id("L")
            let params = compiled.workspace.trainableParams(of: loss)
            for step in 0..<3 {
                _ = try DerivativeGraphTests.referenceStep(&fresh, params: params, learningRate: 0.1)
                _ = try compiled.workspace.descend(loss, params: params, learningRate: 0.1)
                for name in params {
                    XCTAssertEqual(try compiled.value(name).scalars.map(\.bitPattern), try fresh.value(name).scalars.map(\.bitPattern),
                                   "\(name) after step \(step) of \(text)")
                    XCTAssertEqual(compiled.workspace.entries[name]?.value?.scalars, try fresh.value(name).scalars,
                                   "the definition of \(name) after step \(step) of \(text)")
                }
            }
        }
    }

    /// A branch a selection discards is fed a safe value ("double where"), so that its own
    /// derivatives (1/p at p = 0, 0^(−1)) leak no NaN into higher derivatives.
    func testSecondDerivativesAtClampsAndKinksAreFinite() throws {
        var script = try Script("""
            p = 0
            q = 1
            c = grad(grad(bce(p, 0), p), p)
            d = grad(grad(bce(q, 1), q), q)
            pp = [0, 1, 0.5]
            v = grad(sum(grad(bce(pp, [0, 1, 1]), pp)), pp)
            a = 0
            b = 0
            e = grad(grad(a ^ b, a), a) + grad(grad(a ^ b, b), a)
            """)
        assertClose(try script.value("c").scalars[0], 1, .exact, "(1 − t)/(1 − p)² at p = 0")
        assertClose(try script.value("d").scalars[0], 1, .exact, "t/p² at p = 1")
        assertClose(try script.value("v"), [1.0 / 3, 1.0 / 3, 4.0 / 3], shape: [3], .exact, "mean over 3")
        assertClose(try script.value("e").scalars[0], 0, .exact, "a⁰ is flat")
    }
}
