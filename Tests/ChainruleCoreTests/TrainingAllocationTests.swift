import CAllocationCounter
@testable import ChainruleCore
import XCTest

/// A compiled training step (``Workspace/descend(_:params:learningRate:)``) reuses its
/// reverse graph and every buffer of both passes: once compiled, a step allocates nothing.
///
/// Unoptimized code allocates for its accessors' frames, so these run in the release build,
/// which `scripts/test` builds and runs after the debug suite.
final class TrainingAllocationTests: XCTestCase {
    override func setUpWithError() throws {
        #if DEBUG
        throw XCTSkip("allocations are counted in the release build (scripts/test runs it)")
        #endif
    }

    /// Allocations per step over `steps` steps, after `warmUp` steps that compile and size
    /// everything; and the losses, to see that the steps did train.
    func allocations(_ text: String, loss: String, warmUp: Int = 3, steps: Int = 10) throws -> (perStep: Double, losses: [Double]) {
        var script = try Script(text)
        let lossID = try script.id(loss)
        let params = script.workspace.trainableParams(of: lossID)
        XCTAssertFalse(params.isEmpty)
        var losses: [Double] = []
        losses.reserveCapacity(warmUp + steps)
        for _ in 0..<warmUp { losses.append(try script.workspace.descend(lossID, params: params, learningRate: 0.05)) }
        let before = allocation_count()
        for _ in 0..<steps { losses.append(try script.workspace.descend(lossID, params: params, learningRate: 0.05)) }
        let made = allocation_count() - before
        return (Double(made) / Double(steps), losses)
    }

    func testAStepOfATensorNetworkAllocatesNothing() throws {
        // Every product here, forward and backward, is above 100³ multiply–adds: below that,
        // OpenBLAS's small-matrix kernel for untransposed operands (Debian's 0.3.21) allocates
        // scratch of its own on each call, which is not chainrule's to avoid.
        let classes = (0..<64).map { String($0 * 37 % 128) }.joined(separator: ", ")
        let (perStep, losses) = try allocations("""
        input X = randn(64, 128, seed=1)
        input y = [\(classes)]
        param W1 = randn(128, 192, seed=2) * 0.1
        param b1 = zeros(192)
        param W2 = randn(192, 128, seed=3) * 0.1
        param b2 = zeros(128)
        L = cross_entropy(relu(X @ W1 + b1) @ W2 + b2, y)
        """, loss: "L")
        XCTAssertEqual(perStep, 0, "allocations per step")
        XCTAssertLessThan(losses[losses.count - 1], losses[0])
    }

    func testAStepOfAScalarNetworkAllocatesNothing() throws {
        // XOR by a 2-2-1 network of scalars, one sample written out per loss term.
        var text = "param a = 0.5\nparam b = -0.4\nparam c = 0.3\nparam d = 0.6\nparam e = 0.1\nparam f = -0.2\n"
        text += "param u = 0.7\nparam v = -0.5\nparam k = 0.05\n"
        for (i, (x1, x2, t)) in [(0.0, 0.0, 0.0), (0.0, 1.0, 1.0), (1.0, 0.0, 1.0), (1.0, 1.0, 0.0)].enumerated() {
            text += "h\(i) = tanh(a * \(x1) + b * \(x2) + e)\ng\(i) = tanh(c * \(x1) + d * \(x2) + f)\n"
            text += "o\(i) = u * h\(i) + v * g\(i) + k\nl\(i) = (o\(i) - \(t))^2\n"
        }
        text += "L = l0 + l1 + l2 + l3\n"
        let (perStep, losses) = try allocations(text, loss: "L")
        XCTAssertEqual(perStep, 0, "allocations per step")
        XCTAssertLessThan(losses[losses.count - 1], losses[0])
    }

    /// Params that are each other's gradients (∂(W·V)/∂W is V) are copied aside each step,
    /// into buffers kept from step to step.
    func testAStepWhereParamsAreEachOthersGradientsAllocatesNothing() throws {
        let (perStep, losses) = try allocations("""
        param W = [[1, 2], [3, 4]]
        param V = [[0.5, -1], [2, 0.25]]
        param a = 1
        param b = 2
        L = mean(W * V) + a * b
        """, loss: "L")
        XCTAssertEqual(perStep, 0, "allocations per step")
        XCTAssertLessThan(losses[losses.count - 1], losses[0])
    }

    /// The counter counts: a loop that does allocate is seen to.
    func testTheCounterSeesAllocations() {
        let before = allocation_count()
        var kept: [[Double]] = []
        for i in 0..<10 { kept.append(Array(repeating: Double(i), count: 100)) }
        XCTAssertGreaterThanOrEqual(allocation_count() - before, 10)
        XCTAssertEqual(kept.count, 10)
    }
}
