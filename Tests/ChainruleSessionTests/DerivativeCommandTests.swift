import ChainruleCore
import ChainruleSession
import XCTest

/// `:compare`, `:remat`, `:jvp`, `:hessian` and `:grad method=`: what they print and refuse.
final class DerivativeCommandTests: XCTestCase {
    func printed(_ session: Session, _ output: MergedOutput, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let before = output.text.count
        XCTAssertTrue(execute(session, text), output.errors, file: file, line: line)
        return String(output.text.dropFirst(before))
    }

    func failure(_ session: Session, _ output: MergedOutput, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let before = output.errors.count
        XCTAssertFalse(execute(session, text), file: file, line: line)
        return String(output.errors.dropFirst(before))
    }

    /// On an MLP with many parameters the table makes the lecture's point by itself: reverse
    /// mode costs a few forward passes, forward mode and differences one or two per input.
    func testCompareMakesTheLecturesPoint() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, """
            input X = randn(8, 10, seed=1)
            input t = rand(8, seed=2)
            param W1 = randn(10, 16, seed=3)
            param W2 = randn(16, seed=4)
            L = mse(tanh(X @ W1) @ W2, t)
            """), output.errors)
        let text = printed(session, output, ":compare L")
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "∂L/∂(every leaf): 4 leaves, 264 input elements")
        func row(_ method: String) -> [String] {
            let line = lines.first { $0.hasPrefix(method + " ") } ?? ""
            return line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let reverse = row("reverse"), forward = row("forward"), fd = row("fd")
        XCTAssertEqual(reverse[1], "1 forward + 1 backward")
        XCTAssertEqual(forward[1], "1 forward + 264 tangent")
        XCTAssertEqual(fd[1], "529 forward")
        let flops = [reverse, forward, fd].map { Int($0[2]) ?? 0 }
        XCTAssertGreaterThan(flops[1], 50 * flops[0], "forward mode pays per input")
        XCTAssertGreaterThan(flops[2], 50 * flops[0], "so do differences")
        XCTAssertEqual(forward[3], "0 B")
        let forwardDifference = Double(forward.last ?? "") ?? .infinity
        let numericDifference = Double(fd.last ?? "") ?? .infinity
        XCTAssertLessThan(forwardDifference, 1e-12, "forward mode agrees with reverse mode to rounding")
        XCTAssertLessThan(numericDifference, 1e-6, "central differences agree to their truncation error")
    }

    func testRematRefusesLeavesAndUnknownSwitches() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]; y = exp(x); L = sum(y * y)"))
        XCTAssertEqual(failure(session, output, ":remat x on"),
                       "<stdin>:1:8: error: x is a leaf: its value is data and is always kept\n    :remat x on\n           ^\n")
        XCTAssertEqual(failure(session, output, ":remat y maybe"),
                       "<stdin>:1:10: error: expected 'on' or 'off', got 'maybe'\n    :remat y maybe\n             ^\n")
        XCTAssertEqual(printed(session, output, ":remat all"), "every intermediate node is recomputed in the backward pass\n")
        XCTAssertEqual(printed(session, output, ":remat"), "recomputed in the backward pass: all intermediate nodes\n")
    }

    func testGradMethodsAgreeAndAnUnknownMethodIsRefused() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "w = [0.3, -0.2]; L = sum(sigmoid(w * w * 3))"))
        let reverse = printed(session, output, ":grad L wrt w")
        let forward = printed(session, output, ":grad L wrt w method=forward")
        XCTAssertEqual(forward, reverse + "(forward: one forward-mode pass per element (2))\n")
        XCTAssertEqual(failure(session, output, ":grad L method=backprop"),
                       "<stdin>:1:16: error: unknown method 'backprop'; methods are 'reverse', 'forward' and 'fd'\n    :grad L method=backprop\n                   ^\n")
    }

    func testJvpAndHessianRefuseWrongShapes() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]; y = x * x"))
        XCTAssertEqual(failure(session, output, ":jvp y x dir=[1, 2, 3]"),
                       "<stdin>:1:14: error: the direction has shape (3) but x has shape (2)\n    :jvp y x dir=[1, 2, 3]\n                 ^\n")
        XCTAssertEqual(failure(session, output, ":hessian y x"),
                       "<stdin>:1:10: error: y has shape (2); :hessian needs a scalar node\n    :hessian y x\n             ^\n")
    }
}
