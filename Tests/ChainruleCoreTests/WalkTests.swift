@testable import ChainruleCore
import XCTest

/// The resumable walk: one node per step, nothing computed before the walk reaches it, and
/// going back forgets exactly what a step computed. Its gradients are checked against central
/// differences (an oracle independent of the reverse graph).
final class WalkTests: XCTestCase {
    func walked(_ script: inout Script, _ target: String) throws -> Walk {
        var walk = try Walk(graph: script.workspace.graph, target: try script.id(target))
        while try walk.step() != nil {}
        return walk
    }

    func testNothingIsComputedBeforeTheWalkReachesIt() throws {
        let script = try Script("x = 2; w = 3; a = w * x; L = a + x")
        let (x, w, a, L) = (try script.id("x"), try script.id("w"), try script.id("a"), try script.id("L"))
        var walk = try Walk(graph: script.workspace.graph, target: L)
        XCTAssertEqual(walk.steps, [.forward(x), .forward(w), .forward(a), .forward(L),
                                    .backward(L), .backward(a), .backward(w), .backward(x)])
        for id in [x, w, a, L] { XCTAssertNil(walk.value(of: id)) }
        _ = try walk.step()
        _ = try walk.step()
        XCTAssertEqual(walk.value(of: w), Tensor(3))
        XCTAssertNil(walk.value(of: a), "a is not computed before its step")
        _ = try walk.step()
        _ = try walk.step()
        XCTAssertEqual(walk.value(of: L), Tensor(8))
        XCTAssertNil(walk.gradient(of: L))
        // Backward: L sends 1 to x; a's step sends 3 more. Until then only 1 has arrived.
        _ = try walk.step()
        XCTAssertEqual(walk.gradient(of: L), Tensor(1))
        XCTAssertEqual(walk.arrived(at: x).map(\.value), [Tensor(1)])
        XCTAssertEqual(walk.expectedContributions(at: x), 2)
        XCTAssertNil(walk.gradient(of: x))
        XCTAssertNil(walk.gradient(of: a))
        _ = try walk.step()
        XCTAssertEqual(walk.arrived(at: x).map(\.value), [Tensor(1), Tensor(3)])
        XCTAssertEqual(walk.gradient(of: a), Tensor(1))
        // Going back forgets what the step computed, and only that.
        XCTAssertEqual(walk.back(), .backward(a))
        XCTAssertNil(walk.gradient(of: a))
        XCTAssertEqual(walk.arrived(at: x).map(\.value), [Tensor(1)])
        XCTAssertEqual(walk.value(of: a), Tensor(6))
        while try walk.step() != nil {}
        XCTAssertTrue(walk.isFinished)
        XCTAssertEqual(walk.gradient(of: x), Tensor(4))
        XCTAssertEqual(walk.gradient(of: w), Tensor(2))
        walk.reset()
        XCTAssertEqual(walk.position, 0)
        for id in [x, w, a, L] { XCTAssertNil(walk.value(of: id)); XCTAssertNil(walk.gradient(of: id)) }
    }

    /// At the end of the walk every leaf's gradient agrees with central differences.
    func testGradientsAgreeWithCentralDifferences() throws {
        let scripts = [
            ("A = [[1, -2], [3, 0.5], [-1, 1]]; x = [2, 0.5]; h = relu(A @ x); L = sum(h * h)", ["A", "x"]),
            ("x = [0.3, -1.2, 2]; W = [[0.1, 0.2, -0.3], [0.5, -0.4, 0.6]]; b = [0.1, -0.2]; z = W @ x + b; L = mean(tanh(z)) + 0.1 * sum(W^2)", ["x", "W", "b"]),
            ("q = 1.5; z = -2; f = q * z; g = f + q; L = g * g + exp(q)", ["q", "z"]),
            ("z = [1, 2, 3]; c = 2; L = cross_entropy(z, c) + sum(softmax(z) * z)", ["z"]),
        ]
        for (text, leaves) in scripts {
            var script = try Script(text)
            let walk = try walked(&script, "L")
            for leaf in leaves {
                let numeric = try script.finiteDifference(of: "L", wrt: leaf)
                let g = try XCTUnwrap(walk.gradient(of: try script.id(leaf)), "\(leaf) in \(text)")
                XCTAssertEqual(g.shape, numeric.shape)
                for (a, b) in zip(g.scalars, numeric.scalars) {
                    XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), "\(leaf) in \(text)")
                }
            }
        }
    }

    /// A target that is not a scalar is walked forward only (a backward pass needs a seed).
    func testAVectorTargetIsWalkedForwardOnly() throws {
        var script = try Script("x = [1, -2]; h = relu(x)")
        let walk = try walked(&script, "h")
        XCTAssertEqual(walk.steps.count, walk.forwardCount)
        XCTAssertEqual(walk.value(of: try script.id("h")), Tensor([1, 0]))
    }
}
