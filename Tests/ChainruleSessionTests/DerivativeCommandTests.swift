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

    /// A variable defined after the node: nothing depends on it (found by fuzzing: the walk
    /// from the variable to the node was a range that ran backwards).
    func testJvpAlongAVariableDefinedAfterTheNode() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 1; L = x * 2; v = [1, 2]"))
        XCTAssertEqual(printed(session, output, ":jvp L v"),
                       "forward mode from v along v̇ = [1, 1] to L; nodes in topological order\n\nL does not depend on v: its tangent is zero\n")
    }

    /// A node read both as a class index and as a number has a gradient (by reverse and
    /// forward mode), but central differences cannot shift it: each command says so and
    /// goes on with the rest, instead of failing on a fractional class index.
    func testFiniteDifferencesLeaveOutNodesThatFeedAClassIndex() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param z = [[1, 2, 0.5], [0.1, 0.2, 0.3]]; input t = [2, 0]; tt = t * 1; L = cross_entropy(z, tt) + sum(tt * z[0, 0:2])"))
        let refusal = "∂L/∂tt: not by central differences, as L reads tt as a class index (a shift would make it fractional); method=reverse or forward gives it\n"
        XCTAssertTrue(printed(session, output, ":grad L wrt tt method=fd").hasPrefix(refusal))
        XCTAssertEqual(printed(session, output, ":grad L wrt tt method=forward").components(separatedBy: "\n").first, "∂L/∂tt = [1, 2]")
        let every = printed(session, output, ":grad L method=fd")
        XCTAssertTrue(every.contains("∂L/∂z = [[") && every.contains("∂L/∂t: not by central differences"), every)
        XCTAssertTrue(printed(session, output, ":compare L").hasPrefix("∂L/∂(every leaf): 1 leaf, 6 input elements\n"))
    }

    /// `step` depends on its input with a derivative of zero: the edge is still an edge of the
    /// graph, shown in both passes with its zero Jacobian and zero product (not "does not depend").
    func testZeroDerivativesAreShownAsEdges() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, -2]; L = sum(step(x))"))
        let backward = printed(session, output, ":backward")
        XCTAssertTrue(backward.contains("""
            %1 = step(x)   shape (2)
              upstream  ∂L/∂%1          = [1, 1]
              local     ∂%1/∂x          = diag([0, 0])   2×2
              chain     ∂L/∂%1 · ∂%1/∂x = [0, 0]   → x

            x  input   shape (2)
              upstream  ∂L/∂x = [0, 0]
            """), backward)
        XCTAssertEqual(printed(session, output, ":jvp L x"), """
            forward mode from x along ẋ = [1, 1] to L; nodes in topological order

            x  input   shape (2)
              value     x         = [1, -2]
              tangent   ∂x/∂x · ẋ = [1, 1]   the direction

            %1 = step(x)   shape (2)
              value     %1         = [1, 0]
              tangent   ∂%1/∂x · ẋ = [0, 0]   from x: zero, a derivative on the way is zero

            L = sum(%1)   shape ()
              value     L         = 1
              tangent   ∂L/∂x · ẋ = 0   from %1: zero, a derivative on the way is zero

            """)
        // Behind a zero derivative, a node's own edges are still listed, with their local
        // Jacobians, and carry zero.
        XCTAssertTrue(execute(session, "param w = 0.5; S = step(tanh(w))"))
        XCTAssertTrue(printed(session, output, ":backward S").contains("""
            %4 = tanh(w)   shape ()
              upstream  ∂S/∂%4          = 0
              local     ∂%4/∂w          = \(NumberFormat().format(1 - tanh(0.5) * tanh(0.5)))   1×1
              chain     ∂S/∂%4 · ∂%4/∂w = 0   → w
            """))
        // Both paths into x are listed, the zero one included, and summed.
        XCTAssertTrue(execute(session, "y = sign(x) * x; M = sum(y)"))
        XCTAssertTrue(printed(session, output, ":backward M").contains(
            "  upstream  ∂M/∂x = [1, -1] (via y) + [0, 0] (via %6)\n                  = [1, -1]   sum of 2 paths"))
    }

    func testJvpAndHessianRefuseWrongShapes() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]; y = x * x"))
        XCTAssertEqual(failure(session, output, ":jvp y x dir=[1, 2, 3]"),
                       "<stdin>:1:14: error: the direction has shape (3) but x has shape (2)\n    :jvp y x dir=[1, 2, 3]\n                 ^\n")
        XCTAssertEqual(failure(session, output, ":hessian y x"),
                       "<stdin>:1:10: error: y has shape (2); :hessian needs a scalar node\n    :hessian y x\n             ^\n")
    }

    /// With respect to an intermediate node, central differences shift its stored value and
    /// compute again only what depends on it: ∂L/∂h = 2h here, as reverse and forward mode give.
    func testFiniteDifferencesShiftIntermediatesAndSkipClassIndices() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]; h = tanh(x); L = sum(h ^ 2); other = x * 3"))
        let note = "(fd: central differences, two forward passes per element, h = ∛ε·max(1, |x|))\n"
        let format = NumberFormat().format
        let twoH = "∂L/∂h = [\(format(2 * tanh(1.0))), \(format(2 * tanh(2.0)))]\n"
        XCTAssertEqual(printed(session, output, ":grad L wrt h method=fd"), twoH + note)
        XCTAssertEqual(printed(session, output, ":grad L wrt h method=forward").components(separatedBy: "\n").first,
                       twoH.components(separatedBy: "\n").first)
        XCTAssertEqual(printed(session, output, ":grad L wrt other method=fd"), "∂L/∂other = [0, 0]  (L does not depend on other)\n" + note)
        // Nothing was changed by the shifts.
        XCTAssertEqual(printed(session, output, "L"), format(tanh(1.0) * tanh(1.0) + tanh(2.0) * tanh(2.0)) + "\n")
        XCTAssertTrue(execute(session, "z = [0.5, -1, 2]; t = 2; C = cross_entropy(z, t)"))
        XCTAssertEqual(printed(session, output, ":grad C wrt t method=fd"),
                       "∂C/∂t: none, C uses t only as a class index, which is not differentiated\n(fd: central differences, two forward passes per element, h = ∛ε·max(1, |x|))\n")
        let table = printed(session, output, ":compare C")
        XCTAssertTrue(table.hasPrefix("∂C/∂(every leaf): 1 leaf, 3 input elements\n"), table)
    }

    func testPerElementMethodsAreBounded() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "W = randn(120, 100, seed=1); x = randn(100, seed=2); f = sum(tanh(W @ x))"))
        let limit = "forward mode and finite differences take one or two passes per input element: 12100 here, more than 10000 (reverse mode takes one pass)"
        XCTAssertTrue(failure(session, output, ":compare f").hasPrefix("<stdin>:1:10: error: " + limit), output.errors)
        XCTAssertTrue(failure(session, output, ":grad f method=forward").hasPrefix("<stdin>:1:7: error: " + limit), output.errors)
    }

    func testHessianVerdictsAllowForRoundingAndNonFiniteEntries() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "z = [0.5, -1, 2]; C = cross_entropy(z, 2)"))
        // Softmax's Hessian is singular (constant along [1, 1, 1]); its zero eigenvalue comes out as ~1e-17.
        XCTAssertTrue(printed(session, output, ":hessian C z").hasSuffix("(some zero: flat in some direction (semidefinite))\n"))
        XCTAssertTrue(execute(session, "y = [0, 0]; k = sum(y ^ 0.5)"))
        XCTAssertTrue(printed(session, output, ":hessian k y").hasSuffix("some entries are not finite (the function or a derivative is infinite or undefined here)\n"))
    }
}
