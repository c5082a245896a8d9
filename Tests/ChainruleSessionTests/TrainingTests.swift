@testable import ChainruleCore
@testable import ChainruleSession
import XCTest

/// `:train`'s optimizers, state, minibatches and divergence, against numbers computed independently.
final class TrainingTests: XCTestCase {
    /// `L = sum((W @ x − t)²)`: ∂L/∂W = 2·(W·x − t)·xᵀ, a 2 × 2 param.
    static let model = "param W = [[0.5, -0.3], [0.2, 0.8]]\ninput x = [1, 2]\ninput t = [0.5, -1]\nL = sum((W @ x - t)^2)"

    func trained(_ commands: String...) throws -> (Session, MergedOutput, [Double]) {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, Self.model), output.errors)
        for command in commands { XCTAssertTrue(execute(session, command), output.errors) }
        return (session, output, try XCTUnwrap(session.workspace.entries["W"]?.value).scalars)
    }

    func printed(_ session: Session, _ output: MergedOutput, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let before = output.text.count
        XCTAssertTrue(execute(session, text), output.errors, file: file, line: line)
        return String(output.text.dropFirst(before))
    }

    func assertClose(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12 * max(1, abs(y)), "\(a) vs \(b)", file: file, line: line) }
    }

    // The expected weights are NumPy's, from this loop (PyTorch's formulas, with decay added to g):
    //   for k in 1…steps: g = 2·outer(W@x − t, x) + decay·W
    //     sgd:      W −= lr·g
    //     momentum: m = β·m + g;  W −= lr·m
    //     adam:     m = β·m + (1−β)·g;  v = β₂·v + (1−β₂)·g²;  W −= lr·(m/(1−βᵏ)) / (√(v/(1−β₂ᵏ)) + ε)

    func testSGDWithDecayMatchesTheOracle() throws {
        let (_, _, w) = try trained(":train L steps=3 lr=0.05 decay=0.1")
        assertClose(w, [0.5968144375, -0.08696846249999998, -0.28795102499999997, -0.18187209999999998])
    }

    func testMomentumMatchesTheOracle() throws {
        let (_, _, w) = try trained(":train L steps=3 lr=0.05 optimizer=momentum")
        assertClose(w, [0.7076, 0.1152, -0.7688000000000001, -1.1376000000000002])
    }

    func testAdamMatchesTheOracle() throws {
        let (_, _, w) = try trained(":train L steps=3 lr=0.1 optimizer=adam")
        assertClose(w, [0.7671809233241493, -0.03281907529040841, -0.09824385843757326, 0.5017561412811575])
        let (_, _, tuned) = try trained(":train L steps=5 lr=0.1 optimizer=adam beta=0.8 beta2=0.99 eps=1e-3 decay=0.01")
        assertClose(tuned, [0.7903545562563291, -0.006917180162853479, -0.28546950027276363, 0.31445692449887475])
    }

    /// Adam's moments and step count carry over from one `:train` to the next (1 + 2 steps are
    /// the oracle's 3), and redefining the param starts them anew; the output says which.
    func testOptimizerStateIsKeptUntilAParamIsRedefined() throws {
        let (session, output, w) = try trained(":train L steps=1 lr=0.1 optimizer=adam", ":train L steps=2 lr=0.1 optimizer=adam")
        assertClose(w, [0.7671809233241493, -0.03281907529040841, -0.09824385843757326, 0.5017561412811575])
        XCTAssertTrue(output.text.contains("adam state: new (kept from one :train to the next until a param is redefined)"), output.text)
        XCTAssertTrue(output.text.contains("adam state: continued from the 1 step before (kept until a param is redefined)"), output.text)
        XCTAssertTrue(execute(session, "param W = [[0.5, -0.3], [0.2, 0.8]]"))
        let text = printed(session, output, ":train L steps=3 lr=0.1 optimizer=adam")
        XCTAssertTrue(text.contains("adam state: new"), text)
        assertClose(try XCTUnwrap(session.workspace.entries["W"]?.value).scalars,
                    [0.7671809233241493, -0.03281907529040841, -0.09824385843757326, 0.5017561412811575])
    }

    /// The case: w⁴ − 3w² + w from w = 2 with lr 0.5 overflows; training stops at
    /// the step whose loss is infinite and names the power that overflowed.
    func testDivergenceNamesTheNodeWhereItStarts() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = 2; L = w^4 - 3*w^2 + w"))
        let text = printed(session, output, ":train L steps=5 lr=0.5")
        XCTAssertTrue(text.contains("stopped at step 5, which made no update: L 6 → inf"), text)
        XCTAssertTrue(text.contains("diverged: %2 = pow(w, 4) is inf at step 5, from w = -9.7734e+86"), text)
        XCTAssertTrue(text.contains("warning: L grew past 10× its value at step 0 (6): 4994.81 at step 1"), text)
    }

    func testDivergenceInALogNamesTheLog() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = 2; L = log(w - 3)"))
        let text = printed(session, output, ":train L")
        XCTAssertTrue(text.contains("stopped at step 0, which made no update: L nan → nan"), text)
        XCTAssertTrue(text.contains("diverged: L = log(%2) is nan at step 0, from %2 = -1"), text)
        XCTAssertEqual(session.workspace.entries["w"]?.value?.scalars, [2])
    }

    /// √w at 0: the forward pass is finite, the gradient 0.5/√w is not: the gradient node is named.
    func testDivergenceBornInTheReversePassNamesTheGradientNode() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = 0; L = sqrt(w)"))
        let text = printed(session, output, ":train L")
        XCTAssertTrue(text.contains("diverged: in the reverse pass, ∂L/∂w = div(0.5, L) is inf at step 0, from L = 0 (the pullback through L = sqrt(w))"), text)
    }

    /// `:forward`, `:grad` and `--json` add a note on standard error, not to their output.
    func testForwardAndGradNoteTheFirstNonFiniteValue() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = 2; L = log(w - 3)"))
        XCTAssertTrue(execute(session, ":forward L"))
        XCTAssertTrue(output.errors.contains("note: L = log(%2) is nan, from %2 = -1: the first value that is not finite, in topological order"), output.errors)
        let (other, out) = makeSession()
        XCTAssertTrue(execute(other, "param w = 0; L = sqrt(w)\n:grad L"))
        XCTAssertTrue(out.errors.contains("note: in the reverse pass, ∂L/∂w = div(0.5, L) is inf, from L = 0 (the pullback through L = sqrt(w)): the first value that is not finite, in topological order of the reverse pass"), out.errors)
    }

    /// The rows of each minibatch, pinned: the same seed gives these on every machine (the
    /// numbers are those of SplitMix64 and the shuffle the README specifies, written in Python).
    func testBatchSamplingIsPinnedBySeed() {
        var sampler = BatchSampler(rows: 6, size: 3, seed: 1)
        let batches = (0..<3).map { _ in Array(sampler.next()) }
        XCTAssertEqual(batches, [[5, 0, 4], [1, 4, 0], [3, 2, 0]])
        var again = BatchSampler(rows: 6, size: 3, seed: 1)
        XCTAssertEqual(Array(again.next()), batches[0])
    }

    /// `batch=B` trains on B rows of axis 0 of every input with the most rows, says so, and
    /// reports the loss on all rows; the same seed gives the same params.
    func testBatchTrainingIsReproducibleAndStatesTheBatchAxis() throws {
        let script = "input X = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 1], [1, 2]]\ninput T = [0, 1, 1, 0, 1, 1]\nparam w = [0.1, -0.2]\nparam b = 0\nL = mse(X @ w + b, T)"
        func run(_ seed: Int) throws -> (String, [Double]) {
            let (session, output) = makeSession()
            XCTAssertTrue(execute(session, script))
            let text = printed(session, output, ":train L steps=20 lr=0.1 batch=3 seed=\(seed)")
            XCTAssertEqual(session.workspace.entries["X"]?.value?.shape, [6, 2], "the data is kept whole")
            return (text, try XCTUnwrap(session.workspace.entries["w"]?.value).scalars)
        }
        let (text, a) = try run(1)
        XCTAssertTrue(text.contains("batch: 3 of 6 rows, sampled along axis 0 (the batch axis) of X, T, seed 1"), text)
        XCTAssertTrue(text.contains("(on all 6 rows)"), text)
        XCTAssertEqual(try run(1).1, a)
        XCTAssertNotEqual(try run(2).1, a)
    }
}
