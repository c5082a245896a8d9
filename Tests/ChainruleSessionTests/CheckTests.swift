import ChainruleCore
@testable import ChainruleSession
import XCTest

/// `:check`: reverse-pass gradients against central differences, reported honestly.
final class CheckTests: XCTestCase {
    func printed(_ session: Session, _ output: MergedOutput, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let before = output.text.count
        XCTAssertTrue(execute(session, text), output.errors, file: file, line: line)
        return String(output.text.dropFirst(before))
    }

    let heading = "gradient check of L: reverse pass vs central differences, h = ∛ε·max(1, |x|)\nleaf  shape  max abs error  max rel error\n"

    /// Item: a classifier's class index is not perturbed (before: "class index 1e-06 is not a
    /// whole number", at the definition of L) and has no gradient to check.
    func testClassifierIsCheckedWithoutItsClassIndex() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "z = [1, 2, 3]; c = 0; L = cross_entropy(z, c)"))
        let text = printed(session, output, ":check L")
        XCTAssertEqual(output.errors, "")
        XCTAssertTrue(text.hasPrefix(heading + "z     (3)    "), text)
        XCTAssertTrue(text.contains("ok\nnot checked, no gradient (used only as class indices): c\nmax relative error "), text)
        XCTAssertTrue(text.hasSuffix(": gradients agree\n"), text)
        // A leaf used both as an index and in a formula has a gradient but cannot be stepped.
        XCTAssertTrue(execute(session, "M = cross_entropy(z, c) + c * z[0]"))
        let mixed = printed(session, output, ":check M")
        XCTAssertTrue(mixed.contains("not checked, also used as class indices (a step would leave the whole numbers): c\n"), mixed)
        XCTAssertFalse(mixed.contains("c     ()"), mixed)
    }

    /// An error met while running a command is located at the command, with a note at the operation.
    func testAnEvaluationErrorIsLocatedAtTheCommand() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "z = [1, 2, 3]; c = 5\nL = cross_entropy(z, c)"))
        XCTAssertFalse(execute(session, ":check L"))
        XCTAssertEqual(output.errors, """
            <stdin>:1:8: error: cross_entropy class index 5 is out of range for 3 classes (0 to 2)
                :check L
                       ^
            <stdin>:2:5: note: the operation that failed
                L = cross_entropy(z, c)
                    ^

            """)
        let before = output.errors.count
        XCTAssertFalse(execute(session, ":grad L"))
        XCTAssertTrue(String(output.errors.dropFirst(before)).hasPrefix("<stdin>:1:7: error: cross_entropy class index 5"), output.errors)
    }

    /// The errors shown are the real ones (before, differences below 1e-7 were shown as 0),
    /// computed here independently of chainrule.
    func testErrorsAreReportedAsTheyAre() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 1; L = sin(x)"))
        let x = 1.0, h = pow(Double.ulpOfOne, 1.0 / 3)  // ∛ε·max(1, |x|)
        let numeric = (sin(x + h) - sin(x - h)) / ((x + h) - (x - h))
        let absolute = abs(cos(x) - numeric), relative = absolute / max(abs(cos(x)), abs(numeric))
        XCTAssertGreaterThan(absolute, 0)
        let format = NumberFormat()
        XCTAssertEqual(printed(session, output, ":check L"),
                       heading + "x     ()     \(format.format(absolute).padded(to: 13))  \(format.format(relative).padded(to: 13))  ok\n"
                       + "max relative error \(format.format(relative)): gradients agree\n")
    }

    /// A gradient far below 1e-7 is still checked: at relu's kink, scaled by 1e-9, the
    /// difference 5e-10 was zeroed before and reported as agreement.
    func testTinyGradientsAreChecked() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 0; L = 1e-9 * relu(x)"))
        XCTAssertEqual(printed(session, output, ":check L"), heading
                       + "x     ()     5e-10          1              at a kink: the two finite-difference points straddle it\n"
                       + "max relative error 1: gradients differ only at kinks, which central differences cannot resolve\n")
    }

    /// Only leaves the node depends on are listed (before: every leaf of the session).
    func testOnlyLeavesTheNodeDependsOn() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "a = 1; b = 2; La = a * 3; Lb = b * 2"))
        let text = printed(session, output, ":check La")
        let rows = text.split(separator: "\n").dropFirst(2).dropLast().map { String($0.prefix(4)) }
        XCTAssertEqual(rows, ["a   "], text)
        XCTAssertTrue(execute(session, "k = 7; C = k - k"))
        XCTAssertEqual(printed(session, output, ":check La").components(separatedBy: "\n").count, 5)
    }

    /// A kink between the two points (here 5e-7 right of x = 0) is explained; a real disagreement
    /// (sqrt at 0: ∞ against nan) is not put down to a kink.
    func testKinksAreExplainedAndOtherMismatchesAreNot() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "z = [0, 1]; L = sum(relu(z - 0.0000005))"))
        // Central difference at 0: (relu(h − 5e-7) − relu(−h − 5e-7)) / 2h with h = ∛ε; the reverse pass gives relu'(−5e-7) = 0.
        let h = pow(Double.ulpOfOne, 1.0 / 3)
        let central = NumberFormat().format((h - 0.0000005) / ((0 + h) - (0 - h)))
        XCTAssertEqual(printed(session, output, ":check L"), heading
                       + "z     (2)    \(central.padded(to: 13))  1              at a kink: the two finite-difference points straddle it\n"
                       + "max relative error 1: gradients differ only at kinks, which central differences cannot resolve\n")
        XCTAssertTrue(execute(session, "x = 0; L = sqrt(x)"))
        XCTAssertEqual(printed(session, output, ":check L"), heading
                       + "x     ()     inf            inf            MISMATCH\n"
                       + "max relative error inf: gradients disagree\n")
    }

    /// A loss whose arguments broadcast: each leaf's gradient has the leaf's own shape and agrees
    /// with central differences (before: ∂L/∂p had Q's shape (2, 3) and `:check` said MISMATCH).
    func testBroadcastLossArgumentsAgree() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "p = [0.2, 0.5, 0.3]; Q = [[0.1, 0.6, 0.3], [0.4, 0.4, 0.2]]; L = kl(p, Q)"))
        let text = printed(session, output, ":check L")
        let rows = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.count, 5, text)
        XCTAssertTrue(rows[2].hasPrefix("p     (3)     ") && rows[2].hasSuffix("  ok"), text)
        XCTAssertTrue(rows[3].hasPrefix("Q     (2, 3)  ") && rows[3].hasSuffix("  ok"), text)
        XCTAssertTrue(text.hasSuffix(": gradients agree\n"), text)
        XCTAssertFalse(text.contains("MISMATCH"), text)
        let grad = printed(session, output, ":grad L wrt p")
        XCTAssertTrue(grad.hasPrefix("∂L/∂p = [2, 2.04082, 2.40547]"), grad)
        for (t, P) in [("t", "P"), ("P", "t")] {
            XCTAssertTrue(execute(session, "t = [0.2, 0.5, 0.3]; P = [[0.1, 0.6, 0.3], [0.4, 0.4, 0.2]]; B = bce(\(t), \(P)); Z = bce_with_logits(\(t), \(P))"))
            for loss in ["B", "Z"] {
                XCTAssertTrue(printed(session, output, ":check \(loss)").hasSuffix(": gradients agree\n"), output.text)
            }
        }
        XCTAssertEqual(output.errors, "")
    }
}
