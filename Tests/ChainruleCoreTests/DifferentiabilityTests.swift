import ChainruleCore
import XCTest

/// Which nodes the reverse pass differentiates: not literals, not class indices; and what a
/// plain redefinition of a leaf keeps.
final class DifferentiabilityTests: XCTestCase {
    /// `(x - 1)^2`: the literals 1 and 2 are constants. Before, the literal exponent got the
    /// gradient `y·log(a)` = nan (log of a negative base) and the literal 1 got 2.
    func testLiteralsGetNoGradientAndNoPullback() throws {
        var script = try Script("x = 0\nL = (x - 1)^2")
        let graph = script.workspace.graph
        let literals = (0..<graph.count).filter { graph[$0].isLeaf && graph[$0].name == nil }
        XCTAssertEqual(literals.map { graph[$0].value?.scalars }, [[1], [2]])
        let result = try script.workspace.gradients(of: try script.id("L"), recordContributions: true)
        for id in literals {
            XCTAssertFalse(graph[id].isDifferentiable)
            XCTAssertNil(result[id], "literal %\(id) has a gradient")
        }
        // The reverse pass never even pulled back into them.
        XCTAssertEqual(result.contributions.filter { literals.contains($0.input) }.count, 0)
        XCTAssertEqual(result[try script.id("x")]?.scalars, [-2])
        // Named leaves are differentiable.
        XCTAssertTrue(graph[try script.id("x")].isDifferentiable)
    }

    /// The class index of cross_entropy gets no gradient, neither does a node computed only to be one;
    /// a leaf used both as an index and in a formula gets the formula's gradient only.
    func testClassIndicesGetNoGradient() throws {
        var script = try Script("z = [1, 2, 3]\nc = 1\nd = 2\nL = cross_entropy(z, c) + cross_entropy(z, d - 1) + d * z[0]")
        let result = try script.workspace.gradients(of: try script.id("L"))
        XCTAssertNil(result[try script.id("c")])
        // d reaches L through the index `d - 1` (no gradient) and through `d * z[0]` (gradient z[0] = 1).
        XCTAssertEqual(result[try script.id("d")]?.scalars, [1])
        let graph = script.workspace.graph
        let index = try XCTUnwrap((0..<graph.count).first { graph[$0].op == .binary(.subtract) })
        XCTAssertNil(result[index], "d - 1 is only a class index")
        let differentiable = graph.differentiableAncestors(of: try script.id("L"))
        XCTAssertFalse(differentiable[try script.id("c")])
        XCTAssertTrue(differentiable[try script.id("d")])
        // Probabilities of z's shape are differentiable.
        var probabilities = try Script("z = [1, 2, 3]\np = [0.2, 0.3, 0.5]\nL = cross_entropy(z, p)")
        XCTAssertNotNil(try probabilities.workspace.gradients(of: try probabilities.id("L"))[try probabilities.id("p")])
        // A batch of indices, shape (N) for logits (N, C), is an index too.
        var batch = try Script("z = [[1, 2, 3], [0, 1, 0]]\nt = [2, 0]\nL = cross_entropy(z, t)")
        XCTAssertNil(try batch.workspace.gradients(of: try batch.id("L"))[try batch.id("t")])
    }

    /// The indices of `one_hot` are class indices too: no gradient, no finite-difference shift.
    func testOneHotIndicesGetNoGradient() throws {
        var script = try Script("t = [2, 0]\nE = [[1, 2], [3, 4], [5, 6]]\nL = sum(one_hot(t, 3) @ E)")
        let result = try script.workspace.gradients(of: try script.id("L"))
        XCTAssertNil(result[try script.id("t")])
        assertClose(result[try script.id("E")], [1, 1, 0, 0, 1, 1], shape: [3, 2])
        let graph = script.workspace.graph
        let oneHot = try XCTUnwrap((0..<graph.count).first { graph[$0].op == .oneHot(classes: 3) })
        XCTAssertTrue(graph.isClassIndex(oneHot, argument: 0))
        XCTAssertFalse(graph.differentiableAncestors(of: try script.id("L"))[try script.id("t")])
        XCTAssertTrue(graph.feedsClassIndex(of: try script.id("L"))[try script.id("t")])
    }

    /// `param w = -2; w = 2` keeps w a param (before, :train found no params); `input` and a
    /// formula still change the kind.
    func testPlainRedefinitionKeepsALeafsKind() throws {
        var script = try Script("param w = -2\ninput d = [1, 2]\ns = 5")
        try script.run("w = 2\nd = [3, 4]\ns = 6")
        XCTAssertEqual(script.workspace.entries["w"]?.kind, .param)
        XCTAssertEqual(script.workspace.graph[try script.id("w")].kind, .param)
        XCTAssertEqual(script.workspace.entries["d"]?.kind, .input)
        XCTAssertEqual(script.workspace.entries["s"]?.kind, .formula)
        assertClose(try script.value("w"), [2], shape: [])
        // A new shape rebuilds the graph: the kind stays too.
        try script.run("w = [1, 2, 3]")
        XCTAssertEqual(script.workspace.graph[try script.id("w")].kind, .param)
        // Explicit kinds and formulas change it.
        try script.run("input w = 1")
        XCTAssertEqual(script.workspace.graph[try script.id("w")].kind, .input)
        try script.run("param d = 1")
        XCTAssertEqual(script.workspace.graph[try script.id("d")].kind, .param)
        try script.run("d = s * 2")
        XCTAssertEqual(script.workspace.entries["d"]?.kind, .formula)
        XCTAssertEqual(script.workspace.graph[try script.id("d")].kind, .op)
        try script.run("d = 7")
        XCTAssertEqual(script.workspace.graph[try script.id("d")].kind, .input, "a formula turned back into a number is a plain leaf")
    }
}
