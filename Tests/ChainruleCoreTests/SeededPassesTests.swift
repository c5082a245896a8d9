@testable import ChainruleCore
import XCTest

/// Passes of one derivative graph for one seed after another: what no seed changes is
/// computed once, and every pass agrees with evaluating the whole graph for its seed.
final class SeededPassesTests: XCTestCase {
    func testTheTransposeOfAMatrixIsComputedOnceForEveryRowOfAJacobian() throws {
        var script = try Script("""
            A = [[1, 2, 3], [4, 5, 6], [7, 8, 10]]
            x = [1, -1, 2]
            y = tanh(A @ x)
            """)
        let (a, x, y) = (try script.id("A"), try script.id("x"), try script.id("y"))
        _ = try script.workspace.value(of: y)
        let reverse = try ReverseMode.build(script.workspace.graph, output: y, wrt: [x], seeded: true)
        let graph = reverse.graph
        let transposes = (reverse.base..<graph.count).filter { graph[$0].op == .transpose && graph[$0].inputs.first == a }
        XCTAssertEqual(transposes.count, 1, "the reverse graph of A @ x reads Aᵀ")
        let transpose = try XCTUnwrap(transposes.first)
        let forward = script.workspace.evaluation

        var passes = try reverse.seededPasses(forward: forward)
        XCTAssertFalse(passes.varying.contains(transpose), "Aᵀ does not read the seed")
        XCTAssertFalse(passes.varying.isEmpty)
        XCTAssertNotNil(passes.shared[transpose], "Aᵀ is computed when the passes are set up")
        let setUp = passes.computedNodes
        XCTAssertGreaterThanOrEqual(setUp, 1)
        let g = try XCTUnwrap(reverse.gradient[x])
        for row in 0..<3 {
            var seed = Tensor.zeros([3])
            seed.scalars[row] = 1
            let values = try passes.evaluate(seed)
            let whole = try reverse.evaluate(forward: forward, seed: seed)
            XCTAssertEqual(values[g]?.scalars.map(\.bitPattern), whole[g]?.scalars.map(\.bitPattern), "row \(row)")
            XCTAssertEqual(values.tensorStorage(of: transpose), passes.shared.tensorStorage(of: transpose),
                           "row \(row) reads the Aᵀ computed once")
        }
        // Three passes computed only the nodes that read the seed; evaluating the whole graph
        // computes every node past the forward ones but the seed each time.
        XCTAssertEqual(passes.computedNodes, setUp + 3 * passes.varying.count)
        let once = try reverse.evaluate(forward: forward, seed: Tensor.zeros([3]))
        XCTAssertEqual(once.computedNodes - forward.computedNodes, graph.count - reverse.base - 1)
        XCTAssertLessThan(passes.varying.count, graph.count - reverse.base - 1)
    }

    func testAJacobianByRowsAndByColumnsAgreesWithTheWholeGraphEvaluatedPerPass() throws {
        var script = try Script("""
            A = [[1, 2], [3, 4], [5, 6]]
            x = [0.5, -0.25]
            y = sin(A @ x) * (A @ x)
            z = A @ (x * x)
            """)
        let (x, y) = (try script.id("x"), try script.id("y"))
        let rows = try script.workspace.jacobian(of: try script.id("z"), wrt: x)
        XCTAssertEqual(rows.method, .forward, "3 outputs, 2 inputs: by columns")
        // ∂(A (x∘x))/∂x = A · diag(2x).
        assertClose(rows.matrix, [1, -1, 3, -2, 5, -3], shape: [3, 2])
        let columns = try script.workspace.jacobian(of: y, wrt: try script.id("A"))
        XCTAssertEqual(columns.method, .reverse)
        // Row i: ∂yᵢ/∂A = (sin uᵢ + uᵢ cos uᵢ) xᵀ in row i of A, u = A @ x.
        let u = [0.0, 0.5, 1.0]
        var expected = [Double](repeating: 0, count: 18)
        for i in 0..<3 {
            let d = sin(u[i]) + u[i] * cos(u[i])
            expected[i * 6 + i * 2] = d * 0.5
            expected[i * 6 + i * 2 + 1] = d * -0.25
        }
        assertClose(columns.matrix, expected, shape: [3, 6])
    }
}
