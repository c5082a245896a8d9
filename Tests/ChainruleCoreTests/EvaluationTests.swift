import ChainruleCore
import XCTest

/// The evaluator keeps rank-0 values as bare numbers and computes scalar nodes of scalars
/// without tensors. These tests hold it to the tensor rules: every node's value, forward,
/// reverse and tangent, must be the same bit for bit as `Op.forward` applied node by node.
final class EvaluationTests: XCTestCase {
    /// Scalars and tensors mixed: every scalar op on scalars (with −0, a NaN, an infinity and
    /// a tie among the values), scalars made from tensors and tensors made from scalars.
    static let mixed = """
        x = 0.7
        y = -1.3
        z = -0.0
        param v = [0.5, -2, 3]
        param A = [[1, -2], [3, 0.5], [-1, 1]]
        n = log(y)
        big = exp(800)
        arith = x + y - x * y / (x - 2) + x^y + abs(y)^x
        ties = max(x, 0.7) + min(y, x) + max(z, 0) + min(0, z) + min(x, 0.7)
        acts = leaky_relu(y, a=0.1) + elu(y, a=0.5) + elu(x, a=0.5) + relu(y) + gelu(y) + sigmoid(-40) + sigmoid(y)
        funcs = tanh(x) + softplus(y) + sqrt(x) + sin(y) * cos(x) + linear(y) + step(z) + sign(z) + sign(y) - -x
        zs = sum(z)
        zm = mean(z)
        zeros = zs + zm + sum(y) * mean(x) + max(x) + x * z
        odd = n + big + big * 0 + 1 / z + sqrt(y) + max(n, x) + min(n, x) + step(n) + sign(n)
        huge = big * 2 + -x + tanh(big) + sigmoid(big) + softplus(big)
        fromTensors = v[1] * x + dot(v, v) + sum(A @ [x, y]) + mean(v) * A[2, 1]
        toTensors = [x, y, z] * v + relu(A @ [y, x])[0]
        L = arith * ties + acts * funcs + zeros + fromTensors * y + sum(toTensors) + relu(x - 1) * y
        """

    /// Every node of `graph` computed by its op's tensor rule, in creation order; `seeds`
    /// gives the values of leaves set at evaluation (a reverse graph's seed, a direction).
    func reference(_ graph: Graph, seeds: [NodeID: Tensor] = [:]) throws -> [Tensor] {
        var values: [Tensor] = []
        for id in 0..<graph.count {
            let node = graph[id]
            if let seed = seeds[id] {
                values.append(seed)
            } else if let leaf = node.value {
                values.append(leaf)
            } else {
                values.append(try node.op.forward(node.inputs.map { values[$0] }))
            }
        }
        return values
    }

    /// `actual` holds the reference's values for nodes `range`, with equal shapes and equal bits.
    func assertIdentical(_ actual: Evaluation, _ expected: [Tensor], _ range: Range<NodeID>, in graph: Graph,
                         _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        var scalarNodes = 0
        for id in range {
            let label = "\(what) node \(id) (\(graph[id].op.name))"
            guard let value = actual[id] else {
                XCTFail("\(label) has no value", file: file, line: line)
                continue
            }
            XCTAssertEqual(value.shape, expected[id].shape, "\(label): shape", file: file, line: line)
            XCTAssertEqual(value.scalars.map(\.bitPattern), expected[id].scalars.map(\.bitPattern),
                           "\(label): \(value.scalars) vs \(expected[id].scalars)", file: file, line: line)
            if value.isScalar && !graph[id].isLeaf { scalarNodes += 1 }
        }
        XCTAssertGreaterThan(scalarNodes, 10, "\(what): the scalar path was exercised", file: file, line: line)
    }

    func testForwardPassIsBitIdenticalToTheTensorRules() throws {
        var script = try Script(Self.mixed)
        try script.workspace.evaluateAll()
        let graph = script.workspace.graph
        let expected = try reference(graph)
        assertIdentical(script.workspace.evaluation, expected, 0..<graph.count, in: graph, "forward")
        // The edge cases kept their bits: −0 summed (as the tensor reduction does, from 0) is +0.
        XCTAssertEqual(try script.value("z").scalars[0].bitPattern, (-0.0).bitPattern)
        XCTAssertEqual(try script.value("zs").scalars[0].bitPattern, 0.0.bitPattern)
        XCTAssertEqual(try script.value("zm").scalars[0].bitPattern, 0.0.bitPattern)
        XCTAssert(try script.value("odd").scalars[0].isNaN)
    }

    func testReverseGraphIsBitIdenticalToTheTensorRules() throws {
        var script = try Script(Self.mixed)
        let output = try script.id("L")
        try script.workspace.evaluateAll()
        let reverse = try script.workspace.reverseGraph(of: output, seeded: false)
        let values = try reverse.evaluate(forward: script.workspace.evaluation)
        let expected = try reference(reverse.graph)
        assertIdentical(values, expected, 0..<reverse.graph.count, in: reverse.graph, "reverse")
        // A seeded reverse graph of a vector output, with its seed set at evaluation.
        let vector = try script.id("toTensors")
        _ = try script.workspace.value(of: vector)
        let seeded = try script.workspace.reverseGraph(of: vector, seeded: true)
        let seed = Tensor([0.25, -1, 2])
        let seededValues = try seeded.evaluate(forward: script.workspace.evaluation, seed: seed)
        let seededExpected = try reference(seeded.graph, seeds: [seeded.seed: seed])
        assertIdentical(seededValues, seededExpected, 0..<seeded.graph.count, in: seeded.graph, "seeded reverse")
    }

    func testTangentGraphIsBitIdenticalToTheTensorRules() throws {
        var script = try Script(Self.mixed)
        let output = try script.id("L"), input = try script.id("x")
        try script.workspace.evaluateAll()
        let (tangent, values) = try script.workspace.tangents(of: output, wrt: input, direction: Tensor(1))
        let expected = try reference(tangent.graph, seeds: [tangent.direction: Tensor(1)])
        assertIdentical(values, expected, 0..<tangent.graph.count, in: tangent.graph, "tangent")
    }

    /// A value read back is the tensor that was set or computed; forgetting values forgets them all.
    func testValuesReadBackAsTensorsAndAreForgotten() throws {
        var script = try Script("a = 2\nb = a * 3\nv = [a, b]\nc = sum(v) - b")
        try script.workspace.evaluateAll()
        let evaluation = script.workspace.evaluation
        XCTAssertEqual(evaluation[try script.id("b")], Tensor(6))
        XCTAssertEqual(evaluation[try script.id("v")], Tensor([2, 6]))
        XCTAssertEqual(evaluation[try script.id("c")], Tensor(2))
        XCTAssertEqual(evaluation.values.count, script.workspace.graph.count)
        XCTAssertNil(evaluation[script.workspace.graph.count])
        var forgotten = evaluation
        forgotten.invalidate(from: try script.id("v"))
        XCTAssertEqual(forgotten[try script.id("b")], Tensor(6))
        XCTAssertNil(forgotten[try script.id("v")])
        XCTAssertNil(forgotten[try script.id("c")])
        forgotten.invalidateAll()
        XCTAssertNil(forgotten[try script.id("a")])
        // Recomputing after the leaf changed gives the new values.
        try script.run("a = -1")
        XCTAssertEqual(try script.value("c"), Tensor(-1))
    }

    /// `relu(x)` is `max(0, x)`, NaN included: a NaN stays NaN (as in PyTorch and JAX) instead of
    /// turning into 0, which would hide where a training run went wrong; its derivative there is 0.
    func testReluOfNaNIsNaNAsMaxOfZeroAndNaNIs() throws {
        var script = try Script("x = [0/0, -1, 0, 2]\nr = relu(x)\nm = max(0, x)\nL = sum(relu(x) * [0, 1, 1, 1])")
        let r = try script.value("r").scalars, m = try script.value("m").scalars
        XCTAssertTrue(r[0].isNaN && m[0].isNaN, "relu(NaN) = \(r[0]), max(0, NaN) = \(m[0])")
        XCTAssertEqual(Array(r[1...]), [0, 0, 2])
        XCTAssertEqual(Array(r[1...]), Array(m[1...]))
        XCTAssertEqual(try script.gradient(of: "L", wrt: "x").scalars[1...], [0, 0, 1])
    }
}
