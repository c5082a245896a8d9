import ChainruleCore
import Foundation
import XCTest

/// What definitions mean: formulas that follow their inputs, refused cycles,
/// helpful errors, repeatable passes, NumPy shapes and reproducible randomness.
final class SemanticsTests: XCTestCase {
    func testDefinitionsAreFormulasLikeASpreadsheet() throws {
        var script = try Script("A = [[1, 2], [3, 4]]\nx = [1, 1]\nh = A @ x\nf = relu(h) * 2")
        assertClose(try script.value("f"), [6, 14], shape: [2])
        try script.run("x = [1, -1]")
        assertClose(try script.value("h"), [-1, -1])
        assertClose(try script.value("f"), [0, 0])
        try script.run("x = [-1, 2]")
        assertClose(try script.value("f"), [6, 10])
        // Redefining an intermediate node changes what is built on it.
        try script.run("h = A.T @ x")
        assertClose(try script.value("f"), [10, 12])
        // A leaf can become a formula and the other way round.
        try script.run("s = 3\nx = [s, s]")
        assertClose(try script.value("f"), [24, 36])
        try script.run("s = 1")
        assertClose(try script.value("f"), [8, 12])
        // The seed is all ones: ∂(f₀ + f₁)/∂s = 2·ΣA and ∂/∂A = 2·x everywhere.
        assertClose(try script.gradient(of: "f", wrt: "s"), [20], shape: [])
        assertClose(try script.gradient(of: "f", wrt: "A"), [2, 2, 2, 2], shape: [2, 2])
    }

    func testInputAndParamAreEvaluatedOnce() throws {
        var script = try Script("x = 2\ninput d = x * 3\nparam w = x + 1\nf = d * w")
        assertClose(try script.value("f").scalars.first, 18)
        try script.run("x = 10")
        assertClose(try script.value("d").scalars.first, 6)
        assertClose(try script.value("f").scalars.first, 18)
        // Both are leaves and receive gradients.
        assertClose(try script.gradient(of: "f", wrt: "d"), [3])
        assertClose(try script.gradient(of: "f", wrt: "w"), [6])
    }

    func testCyclesAreRefusedAndLeaveTheWorkspaceAsItWas() throws {
        var script = try Script("x = 1\ny = x * 2\nz = y + x")
        let before = (script.workspace.names, script.workspace.graph.count)
        expectRefusal("⏶x = x + 1", in: &script, containing: "x → x")
        expectRefusal("⏶x = y + 1", in: &script, containing: "x → y → x")
        expectRefusal("w = 5\n⏶x = z * w", in: &script, containing: "x → z")
        let cycle = expectRefusal("⏶x = z * w", in: &script, containing: "x → ")
        // The shortest path back: z refers to x directly.
        XCTAssertEqual(cycle?.message.components(separatedBy: "depend on itself: ").last, "x → z → x")
        XCTAssertEqual(script.workspace.names, before.0 + ["w"])
        XCTAssertEqual(script.workspace.graph.count, before.1 + 1)
        assertClose(try script.value("x"), [1])
        assertClose(try script.value("y"), [2])
        assertClose(try script.value("z"), [3])
        assertClose(try script.gradient(of: "z", wrt: "x"), [3])

        // A name that refers to itself is a cycle even when it is not defined yet (SPEC's own example).
        var fresh = try Script("")
        expectRefusal("⏶x = x + 1", in: &fresh, containing: "definition makes 'x' depend on itself: x → x")
        expectRefusal("h = tanh(⏶w * h)", in: &fresh, containing: "undefined name 'w'")
        XCTAssertEqual(fresh.workspace.names, [])
        XCTAssertEqual(fresh.workspace.graph.count, 0)

        // A long cycle is named by its ends.
        var chain = try Script("x0 = 1\n" + (1...30).map { "x\($0) = x\($0 - 1) + 1" }.joined(separator: "\n"))
        let long = expectRefusal("⏶x0 = x30", in: &chain, containing: "depend on itself")
        XCTAssertEqual(long?.message, "definition makes 'x0' depend on itself: x0 → x30 → x29 → x28 → x27 → … 22 more … → x4 → x3 → x2 → x1 → x0")

        // `input` and `param` are evaluated once and keep no dependencies: no cycle can form.
        var once = try Script("x = 1\ny = x + 1")
        try once.run("input x = y")
        assertClose(try once.value("x"), [2])
        assertClose(try once.value("y"), [3])
        expectRefusal("input q = ⏶q + 1", in: &once, containing: "undefined name 'q'")
    }

    func testUndefinedNamesSuggestCloseMatches() throws {
        var script = try Script("weight = 2\nbias = 1")
        let count = script.workspace.graph.count
        let undefined = expectRefusal("f = ⏶wieght * 2", in: &script, containing: "undefined name 'wieght'")
        XCTAssert(undefined?.message.contains("did you mean 'weight'") == true, undefined?.message ?? "")
        expectRefusal("f = bias + ⏶bais", in: &script, containing: "did you mean 'bias'")
        expectRefusal("f = ⏶sigmod(bias)", in: &script, containing: "did you mean 'sigmoid'")
        // Nothing close: no suggestion.
        let far = expectRefusal("f = ⏶quux", in: &script, containing: "undefined name 'quux'")
        XCTAssertFalse(far?.message.contains("did you mean") ?? true)
        XCTAssertEqual(script.workspace.names, ["weight", "bias"])
        XCTAssertEqual(script.workspace.graph.count, count)
    }

    func testAFormulaRecordsEachNameOnceInOrderOfFirstUse() throws {
        // Twenty leaves, then a formula naming them out of order and with repeats, through
        // calls, keywords, lists, negation, powers and indexing.
        let names = (0..<20).map { "a\($0)" }
        var script = try Script(names.map { "\($0) = 1" }.joined(separator: "\n") + "\nv = [1, 2, 3]")
        let terms = names.reversed().map { "\($0) * a0" }.joined(separator: " + ")
        try script.run("f = \(terms) + leaky_relu(a3, a=a19) + sum([a5, -a7 ^ a2]) + v[1] + v[0:2][0] + pi")
        XCTAssertEqual(script.workspace.entries["f"]?.dependencies, ["a19", "a0"] + names[1...18].reversed() + ["v"])
        try script.run("g = sum([a5, v[0]]) + a0 * a5 + leaky_relu(v, a=a1) @ v")
        XCTAssertEqual(script.workspace.entries["g"]?.dependencies, ["a5", "v", "a0", "a1"])
        // Twenty products of ones, leaky_relu(1) = 1, sum([1, -1]) = 0, v[1] = 2, v[0:2][0] = 1, and π.
        let expected: Double = 24 + Double.pi
        assertClose(try script.value("f"), [expected], shape: [])
        // The first undefined name in source order is the one reported, wherever it is.
        expectRefusal("h = v[0:2][0] * a1 + sum([a2, ⏶nope]) + also_not", in: &script, containing: "undefined name 'nope'")
        expectRefusal("h = leaky_relu(a1, a=⏶nope) + also_not", in: &script, containing: "undefined name 'nope'")
        XCTAssertNil(script.workspace.entries["h"])
    }

    func testARedefinitionThatBreaksAFormulaIsReportedAndCanBeUndone() throws {
        var script = try Script("x = [1, 2]\nf = x @ [1, 1]\ng = f * 2")
        let change = Source(name: "change.graph", text: "x = [1, 2, 3]")
        guard case .definition(let definition) = Parser.parse(change).statements.first else { return XCTFail("no definition") }
        let warnings = try script.workspace.define(definition, in: change)
        XCTAssertEqual(warnings.map(\.severity), [.warning, .warning])
        XCTAssert(warnings.first?.message.contains("'f'") == true, warnings.first?.message ?? "")
        XCTAssertThrowsError(try script.evaluate("g + 1")) { error in
            let message = (error as? Diagnostic)?.message ?? ""
            XCTAssert(message.contains("inner sizes 3 and 2 differ"), message)
        }
        // A cycle through a definition that does not evaluate is still a cycle.
        expectRefusal("⏶x = g", in: &script, containing: "x → g → f → x")
        try script.run("x = [3, 4]")
        XCTAssertEqual(script.workspace.broken.count, 0)
        assertClose(try script.value("g"), [14])
        assertClose(try script.gradient(of: "g", wrt: "x"), [2, 2])
    }

    /// A definition keeps where its formula is, not its syntax tree: lowered again after a
    /// dependency changes, the formula is parsed again in place, so its errors point into the
    /// text it was written in, and it prints back as written.
    func testAFormulaIsParsedAgainWhereItWasWritten() throws {
        let (text, offsets) = marked("x = [1, 2]\nlabel = 1\nf = x ⏶@ [1, 1] # the product\ng = f * 2")
        var script = try Script(text)
        try script.run("x = [1, 2, 3]")
        let problem = try XCTUnwrap(script.workspace.broken["f"])
        XCTAssertEqual(problem.span?.source.name, "test.graph")
        XCTAssertEqual(problem.span?.range.start, offsets[0])
        XCTAssertEqual(script.workspace.entries["f"]?.formula.map(Printer.expression), "x @ [1, 1]")
        try script.run("x = [3, 4]")
        assertClose(try script.value("g"), [14])
    }

    func testBackwardTwiceGivesIdenticalNumbers() throws {
        var script = try Script("""
            W = [[0.5, -1.0, 0.3], [1.2, 0.4, -0.8]]
            x = [1.0, -0.5, 2.0]
            h = tanh(W @ x)
            L = sum(h * h) + h[0]
            """)
        let id = try script.id("L")
        let first = try script.workspace.gradients(of: id)
        _ = try script.value("h")
        let second = try script.workspace.gradients(of: id)
        for name in ["W", "x", "h", "L"] {
            let node = try script.id(name)
            XCTAssertNotNil(first[node], name)
            XCTAssertEqual(first[node], second[node], name)
        }
        assertClose(first[id], [1])
    }

    func testShapesFollowNumPy() throws {
        var script = try Script("""
            A = [[1, 2, 3], [4, 5, 6]]
            v = [1, 0, -1]
            c = [[1], [2]]
            x = 2
            y = 3
            """)
        let expected: [(String, [Int], [Double])] = [
            ("A @ v", [2], [-2, -2]), ("[1, 2] @ A", [3], [9, 12, 15]), ("v @ v", [], [2]),
            ("A @ A.T", [2, 2], [14, 32, 32, 77]), ("A + v", [2, 3], [2, 2, 2, 5, 5, 5]),
            ("c * v", [2, 3], [1, 0, -1, 2, 0, -2]), ("c", [2, 1], [1, 2]), ("[x, y, x * y]", [3], [2, 3, 6]),
            ("A[1]", [3], [4, 5, 6]), ("A[-1, -1]", [], [6]), ("sum(A, 0)", [3], [5, 7, 9]), ("mean(A, -1)", [2], [2, 5]),
            ("[A, A]", [2, 2, 3], [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]), ("einsum(\"ij,j->i\", A, v)", [2], [-2, -2]),
        ]
        for (text, shape, values) in expected {
            assertClose(try script.evaluate(text), values, shape: shape, .exact, text)
        }
        let count = script.workspace.graph.count
        expectRefusal("f = [[1, 2], ⏶[3]]", in: &script, containing: "ragged")
        expectRefusal("f = [x, ⏶v]", in: &script, containing: "ragged")
        expectRefusal("f = A ⏶@ [1, 2]", in: &script, containing: "inner sizes 3 and 2 differ")
        expectRefusal("f = v ⏶+ [1, 2]", in: &script, containing: "broadcast")
        expectRefusal("f = A⏶[2]", in: &script, containing: "out of range")
        XCTAssertEqual(script.workspace.graph.count, count)
    }

    func testRandomConstantsAreReproducible() throws {
        var script = try Script("r = randn(2, 3, seed=1)\nu = rand(1000, seed=7)")
        let r = try script.value("r")
        XCTAssertEqual(r.shape, [2, 3])
        XCTAssertEqual(try script.evaluate("randn(2, 3, seed=1)"), r)
        XCTAssertEqual(try Script("r = randn(2, 3, seed=1)").workspace.entries["r"]?.value, r)
        XCTAssertNotEqual(try script.evaluate("randn(2, 3, seed=2)"), r)
        XCTAssertEqual(Set(r.scalars).count, 6, "six distinct samples")
        // Uniform samples lie in [0, 1) with a mean near 1/2 (σ of the mean ≈ 0.009).
        let u = try script.value("u").scalars
        XCTAssert(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / 1000, 0.5, accuracy: 0.05)
    }

    func testEvaluatingAnExpressionAddsNothing() throws {
        var script = try Script("x = [1, 2]\nf = x * 3")
        let count = script.workspace.graph.count
        assertClose(try script.evaluate("f @ x + 2^3^2"), [15 + 512])
        XCTAssertEqual(script.workspace.graph.count, count)
        XCTAssertEqual(script.workspace.names, ["x", "f"])
    }

    /// A new name whose definition is refused leaves no trace: its place in the table is
    /// given back, it is not listed, and defining it later puts it after the others.
    func testARefusedNewNameLeavesNoTrace() throws {
        var script = try Script("a = [1, 2]\nb = [1, 2, 3]")
        let source = Source(name: "t.graph", text: "c = a + b")
        guard case .definition(let bad) = Parser.parse(source).statements.first else { return XCTFail("not a definition") }
        XCTAssertThrowsError(try script.workspace.define(bad, in: source))
        XCTAssertNil(script.workspace.entries["c"])
        XCTAssertFalse(script.workspace.entries.contains("c"))
        XCTAssertEqual(script.workspace.names, ["a", "b"])
        XCTAssertEqual(script.workspace.entries.count, 2)
        let good = Source(name: "u.graph", text: "e = a * 3\nc = a * 2\nd = c + a")
        for case .definition(let definition) in Parser.parse(good).statements {
            try script.workspace.define(definition, in: good)
            if definition.name == "e" { XCTAssertNil(script.workspace.entries["c"], "c is not e") }
        }
        XCTAssertEqual(script.workspace.names, ["a", "b", "e", "c", "d"])
        XCTAssertEqual(script.workspace.entries["e"]?.dependencies, ["a"])
        XCTAssertEqual(script.workspace.entries["c"]?.dependencies, ["a"])
        XCTAssertEqual(script.workspace.entries["d"]?.dependencies, ["c", "a"])
        assertClose(try script.evaluate("d"), [3, 6])
    }
}
