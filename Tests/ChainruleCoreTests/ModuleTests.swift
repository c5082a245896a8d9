@testable import ChainruleCore
import Foundation
import XCTest

/// Modules (`layer(x, W, b) = relu(W @ x + b)`): a call lowers into the nodes its formula makes
/// with the arguments in place of the parameters, each node remembering its call; redefining a
/// module lowers every call again; errors point at the call, with a note at the definition.
final class ModuleTests: XCTestCase {
    let network = """
    layer(x, W, b) = relu(W @ x + b)
    x = [1, -2]
    param W1 = [[1, 2], [3, -4]]
    param b1 = [0.5, -0.5]
    param W2 = [[1, 1], [-1, 2]]
    param b2 = [0.1, 0.2]
    param w3 = [[0.5, -1]]
    h2 = layer(layer(x, W1, b1), W2, b2)
    L = sum((w3 @ h2)^2)
    """

    /// The same network written out by hand: the oracle the calls must agree with exactly.
    let handWritten = """
    x = [1, -2]
    param W1 = [[1, 2], [3, -4]]
    param b1 = [0.5, -0.5]
    param W2 = [[1, 1], [-1, 2]]
    param b2 = [0.1, 0.2]
    param w3 = [[0.5, -1]]
    h2 = relu(W2 @ relu(W1 @ x + b1) + b2)
    L = sum((w3 @ h2)^2)
    """

    func testACallIsTheFormulaWrittenOutAndItsGradientsAgreeExactly() throws {
        var modules = try Script(network), written = try Script(handWritten)
        XCTAssertEqual(try modules.value("L").scalars, try written.value("L").scalars)
        for leaf in ["W1", "b1", "W2", "b2", "w3", "x"] {
            let g = try modules.gradient(of: "L", wrt: leaf)
            XCTAssertEqual(g.scalars, try written.gradient(of: "L", wrt: leaf).scalars, leaf)
            assertClose(g, try modules.forwardDifferences(of: "L", wrt: leaf).scalars, .finiteDifference, leaf)
        }
        // By hand: W1 @ x + b1 = [-2.5, 10.5] → relu [0, 10.5]; W2 @ that + b2 = [10.6, 21.2]; L = (5.3 - 21.2)² = 252.81.
        assertClose(try modules.value("L"), [252.81], shape: [])
    }

    func testEveryNodeOfACallRemembersItNestedAsTheCallsAre() throws {
        let script = try Script(network)
        let graph = script.workspace.graph
        let h2 = try script.id("h2")
        XCTAssertEqual(graph.calls(of: h2).map(graph.moduleName(of:)), ["layer"], "h2 is the outer call's relu")
        let inner = graph[graph[graph[h2].inputs[0]].inputs[0]].inputs[1]  // relu(add(matmul(W2, ·)))
        XCTAssertEqual(graph.calls(of: inner).map(graph.moduleName(of:)), ["layer"])
        XCTAssertNotEqual(graph.outermostCall(of: inner), graph.outermostCall(of: h2), "two calls, two scopes")
        XCTAssertEqual(graph.calls(of: try script.id("W1")), [], "a leaf is made by no call")
        XCTAssertEqual(graph.allCalls.count, 2)
        let sites = graph.allCalls.map { script.source.text($0.site.range) }.sorted()
        XCTAssertEqual(sites, ["layer(layer(x, W1, b1), W2, b2)", "layer(x, W1, b1)"])
    }

    func testModulesOfModulesNestTheirCalls() throws {
        var script = try Script(network + """

        mlp(x) = layer(layer(x, W1, b1), W2, b2)
        y = mlp(x)
        """)
        XCTAssertEqual(try script.value("y").scalars, try script.value("h2").scalars)
        let graph = script.workspace.graph
        let y = try script.id("y")
        XCTAssertEqual(graph.calls(of: y).map(graph.moduleName(of:)), ["mlp", "layer"])
    }

    func testRedefiningAModuleLowersEveryCallAgain() throws {
        var script = try Script("""
        sq(x) = x^2
        a = sq(3)
        input v = [1, 2]
        b = sum(sq(v))
        c = a + b
        """)
        assertClose(try script.value("c"), [14], shape: [])
        try script.run("sq(x) = x^3")
        assertClose(try script.value("a"), [27], shape: [])
        assertClose(try script.value("c"), [36], shape: [])
        XCTAssertNil(script.workspace.differenceFromFreshBuild())
        // A module reading a node follows it.
        try script.run("input k = 2\nscale(x) = k * x\nd = scale(v)")
        assertClose(try script.value("d"), [2, 4], shape: [2])
        try script.run("k = 10")
        assertClose(try script.value("d"), [10, 20], shape: [2])
        try script.run("k = [1, 2, 3]")
        XCTAssertNotNil(script.workspace.broken["d"], "a shape that no longer fits breaks the call")
        XCTAssertNil(script.workspace.differenceFromFreshBuild())
    }

    func testRedefiningAModuleAsANodeBreaksItsCallsAndBackAgainMendsThem() throws {
        var script = try Script("f(x) = 2 * x\ny = f(3)")
        try script.run("f = 5")
        XCTAssertEqual(script.workspace.broken["y"]?.message, "'f' is a node, not a function")
        try script.run("f(x) = 4 * x")
        assertClose(try script.value("y"), [12], shape: [])
        XCTAssertNil(script.workspace.differenceFromFreshBuild())
    }

    func testAModuleReachingItselfIsRefusedNamingTheCycle() throws {
        var script = try Script("f(x) = 2 * x\ng(x) = f(x) + 1")
        XCTAssertThrowsError(try script.run("f(x) = g(x) * 3")) { error in
            XCTAssertEqual((error as? Diagnostic)?.message, "definition makes 'f' depend on itself: f → g → f")
        }
        XCTAssertThrowsError(try script.run("h(x) = h(x - 1)")) { error in
            XCTAssertEqual((error as? Diagnostic)?.message, "definition makes 'h' depend on itself: h → h")
        }
        // Nothing changed.
        assertClose(try script.evaluate("g(1)"), [3], shape: [])
    }

    func testArityAndShapeErrorsPointAtTheCallWithANoteAtTheDefinition() throws {
        var script = try Script("layer(x, W, b) = relu(W @ x + b)\nx = [1, 2]\nW = [[1, 2, 3], [4, 5, 6]]")
        let text = "h = layer(x, W)"
        XCTAssertThrowsError(try script.run(text)) { error in
            let d = error as? Diagnostic
            XCTAssertEqual(d?.message, "layer takes 3 arguments (x, W, b), got 2")
            XCTAssertEqual(d?.span?.range, SourceRange(4, 15))
            XCTAssertEqual(d?.notes.first?.message, "layer is defined here, with parameters (x, W, b)")
            XCTAssertEqual(d?.notes.first?.span?.range, SourceRange(0, 5))
        }
        XCTAssertThrowsError(try script.run("h = layer(x, W, [1, 1])")) { error in
            let d = error as? Diagnostic
            XCTAssertEqual(d?.message, "shapes (2, 3) and (2) do not fit for '@': inner sizes 3 and 2 differ (in the call of layer)")
            XCTAssertEqual(d?.span?.range, SourceRange(4, 9), "the caret is at the call")
            XCTAssertEqual(d?.notes.first?.message, "in layer, defined here")
            XCTAssertEqual(d?.notes.first?.span?.range, SourceRange(24, 25), "the note is at the '@' of the formula")
        }
        XCTAssertNil(script.workspace.graph.node(named: "h"))
        XCTAssertEqual(script.workspace.graph.allCalls.count, 0, "a refused call leaves no call behind")
    }

    func testNamesInAModuleAreItsParametersOrDefinedNodes() throws {
        var script = try Script("x = 3\nf(y) = y + 1")
        for (text, message) in [
            ("g(a) = a + q", "undefined name 'q'"),
            ("g(a) = a(2)", "'a' is a parameter of g, not a function"),
            ("g(a) = x(a)", "'x' is a node, not a function"),
            ("g(a) = f + a", "'f' is a module, not a node; call it, as in f(…)"),
            ("relu(a) = a", "'relu' is a built-in name; give the module another name"),
            ("g(a) = nosuch(a)", "unknown function 'nosuch'"),
        ] {
            XCTAssertThrowsError(try script.run(text), text) { error in
                XCTAssertEqual((error as? Diagnostic)?.message, message, text)
            }
        }
        XCTAssertThrowsError(try script.run("z = f"))
        XCTAssertThrowsError(try script.run("z = f(1, 2)"))
        // A parameter hides a node of its name; the node is still read where it is not hidden.
        try script.run("g(x) = x * 10\nz = g(2) + x")
        assertClose(try script.value("z"), [23], shape: [])
    }

    func testTheParserReadsAModuleHeadOnlyBeforeAnEqualsSign() throws {
        let (statements, diagnostics) = Parser.parse(Source(name: "t", text: "f(a, b) = a * b\nf(1, 2)\ny = f(1, 2)"))
        XCTAssertEqual(diagnostics, [])
        guard statements.count == 3, case .definition(let d) = statements[0] else { return XCTFail("\(statements)") }
        XCTAssertEqual(d.kind, .module)
        XCTAssertEqual(d.parameters.map(\.name), ["a", "b"])
        guard case .expression = statements[1], case .definition(let y) = statements[2] else { return XCTFail("\(statements)") }
        XCTAssertEqual(y.kind, .formula)
        for (text, message) in [("f(a, a) = a", "parameter 'a' is named twice"),
                                ("f() = 1", "a module needs at least one parameter, as in f(x) = …"),
                                ("f(f) = 1", "a parameter cannot have the module's own name 'f'")] {
            let (_, errors) = Parser.parse(Source(name: "t", text: text))
            XCTAssertEqual(errors.map(\.message), [message], text)
        }
    }

    func testGradOfACallAndACallOfGrad() throws {
        var script = try Script("""
        sq(x) = x^2
        cube(x) = x * sq(x)
        param w = 1.5
        g = grad(cube(w), w)
        slope(f) = grad(f * f, f)
        s = slope(w)
        """)
        assertClose(try script.value("g"), [3 * 1.5 * 1.5], shape: [])
        assertClose(try script.value("s"), [3], shape: [])
        // Differentiated again through the calls: d²(w³)/dw² = 6w.
        assertClose(try script.gradient(of: "g", wrt: "w"), [9], shape: [])
    }

    func testAnExpansionPastTheMemoryLimitIsRefusedBeforeItIsMade() throws {
        var workspace = Workspace()
        workspace.memoryLimit = 3_000_000
        let source = Source(name: "t", text: (["d0(x) = x + x"] + (1...40).map { "d\($0)(x) = d\($0 - 1)(d\($0 - 1)(x))" }
                                              + ["input v = 1", "y = d40(v)"]).joined(separator: "\n"))
        let (statements, diagnostics) = Parser.parse(source)
        XCTAssertEqual(diagnostics, [])
        var refusal: Diagnostic?
        for case .definition(let d) in statements {
            do { try workspace.define(d, in: source) } catch { refusal = error }
        }
        XCTAssertEqual(refusal.map { $0.message.hasPrefix("the calls of modules make more than") }, true, "\(String(describing: refusal))")
        XCTAssertNil(workspace.graph.node(named: "y"))
    }

    func testCallsNestAsDeepAsTheModulesGoWithNoRecursion() throws {
        let depth = 600
        let text = (["m0(x) = x + 1"] + (1...depth).map { "m\($0)(x) = m\($0 - 1)(x) * 1" } + ["y = m\(depth)(0)", "input v = 0", "z = m\(depth)(v)"])
        var script = try Script(text.joined(separator: "\n"))
        assertClose(try script.value("y"), [1], shape: [])
        assertClose(try script.value("z"), [1], shape: [])
        let graph = script.workspace.graph
        XCTAssertEqual(graph.calls(of: try script.id("z")).count, 1, "z is m\(depth)'s product")
        XCTAssertEqual((0..<graph.count).map { graph.calls(of: $0).count }.max(), depth + 1, "m0's sum is in every call")
    }
}
