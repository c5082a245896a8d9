import ChainruleCore
import ChainruleSession
import XCTest

/// Bad input of every kind gets a located error and never costs the session its state.
final class RobustnessTests: XCTestCase {
    /// Hundreds of malformed lines, typed one by one at the prompt after a valid definition.
    func testMalformedLinesEachGetALocatedErrorAndTheSessionSurvives() {
        let fragments = [
            "(", ")", "[", "]", "[1, 2", "[[1], [2, 3]]", "x +", "* x", "x @ @ x", "1 +* 2", "2 ^", "^2",
            "relu(", "relu()", "relu(x, y, z)", "leaky_relu(x, b=1)", "sum(x, axis=5)", "sum(x, 1.5)", "x[5]",
            "x[0, 0]", "x[1.5]", "x[::0]", "einsum(\"ij->\", x)", "einsum(x)", "einsum(\"i,i\", x)", "einsum(\"i->j\", x)",
            "\"text\"", "\"unterminated", "undefined_name", "nosuchfunction(x)", "x(1)", "x.y", "x.", ".T",
            "1e", "3..4", "$", "x = ", "= 3", "input = 3", "param x", "input 3 = 4", "x = x + 1", "cross_entropy(x, 7)",
            "cross_entropy([1, 2], 5)", "randn(-1)", "zeros(1e20)", "randn(2, seed=-1)", "eye(2, 3)", "dot(x, [1, 2, 3])",
            "mse(x, [1, 2, 3])", "[1, 2] @ 3", "x @ [[1, 2, 3]]", ":", ":nosuch", ":show", ":show nothing", ":backward y z",
            ":backward x", ":grad", ":grad x of y", ":jacobian x", ":set precision 99", ":set colour purple", ":set",
            ":load /nonexistent/file.graph", ":save /nonexistent/dir/file.graph", ":backward seed=[1, 2, 3]", ":check x x",
            "max(zeros(0))", "x[", "x[]", "x[:, :, :]", "f = relu(x", "a, b = 1, 2", "x = [1, 2]]", "((((((1)))))",
            "1 2", "x y", "sum(x, axis=1, axis=2)", "elu(x, 1, a=2)", "softmax(x, 2)", "transpose()", "-", "--x--",
            "\u{00A0}", "\t", "θ +", "h₁", "₁x", "x = 1 +\n", ":help nosuch", ":vars extra",
        ]
        // Variants: each fragment alone, after a definition, inside a call and with a suffix.
        var lines: [String] = []
        for fragment in fragments {
            lines.append(fragment)
            lines.append("y = " + fragment)
            lines.append("relu(" + fragment + ")")
            lines.append(fragment + " + 1")
        }
        XCTAssertGreaterThan(lines.count, 300)
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]"))
        var failures = 0
        var succeededLines: [String] = []
        for line in lines {
            let before = output.errors.count
            let succeeded = execute(session, line)
            if succeeded {
                succeededLines.append(line)
                XCTAssertEqual(output.errors.count, before, "\(line.debugDescription) succeeded but reported an error")
            } else {
                failures += 1
                let error = String(output.errors.dropFirst(before))
                XCTAssertTrue(error.hasPrefix("<stdin>:") || error.hasPrefix("chainrule: error:"), "no location for \(line.debugDescription): \(error)")
                XCTAssertTrue(error.contains("error:"), "no error for \(line.debugDescription)")
                if error.hasPrefix("<stdin>:") { XCTAssertTrue(error.contains("^"), "no caret for \(line.debugDescription): \(error)") }
            }
            // Whatever happened, the session still answers; restore x if a line redefined it.
            if !session.workspace.names.contains("x") || session.workspace.graph.node(named: "x") == nil {
                execute(session, "x = [1, 2]")
            }
        }
        // Exactly these lines are valid: `input` is an ordinary name when no name follows it,
        // a definition is not evaluated until used (the bad class index 7 is reported then),
        // and blank lines do nothing. Every other line fails.
        XCTAssertEqual(succeededLines, ["input = 3", "input = 3 + 1", "y = cross_entropy(x, 7)", "\u{00A0}", "\t"])
        XCTAssertEqual(failures, 4 * fragments.count - 5)
        XCTAssertEqual(session.workspace.entries["input"]?.value?.scalars, [4])
        let beforeY = output.errors.count
        XCTAssertFalse(execute(session, "y"))
        XCTAssertTrue(String(output.errors.dropFirst(beforeY)).hasPrefix("<stdin>:1:5: error: cross_entropy class index 7 is out of range for 2 classes (0 to 1)"),
                      output.errors)
        let before = output.text.count
        XCTAssertTrue(execute(session, "x = [1, 2]; sum(x * 3)"))
        XCTAssertTrue(String(output.text.dropFirst(before)).hasSuffix("9\n"))
    }

    /// A script's syntax errors are all reported in one pass, and nothing in it runs.
    func testScriptSyntaxErrorsAreReportedTogether() {
        let (session, output) = makeSession()
        let ok = execute(session, "a = 1\nb = 2 3\nc = 3 $ 4\nd = 1 +* 2\ne = 5\n", name: "lecture.graph")
        XCTAssertFalse(ok)
        XCTAssertEqual(output.errors.components(separatedBy: "error:").count - 1, 3, output.errors)
        XCTAssertTrue(output.errors.contains("lecture.graph:3:7: error: unexpected character '$'"), output.errors)
        XCTAssertTrue(output.errors.contains("lecture.graph:4:8: error: expected an expression, found '*'"), output.errors)
        XCTAssertTrue(session.workspace.names.isEmpty, "nothing runs when the script has syntax errors")
    }

    /// The first runtime error stops a script; what ran before it stays.
    func testFirstRuntimeErrorStopsTheScript() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, "a = 1\nb = q + 1\nc = 3\n", name: "s.graph"))
        XCTAssertTrue(output.errors.hasPrefix("s.graph:2:5: error: undefined name 'q'"), output.errors)
        XCTAssertEqual(session.workspace.names, ["a"])
    }

    /// An undefined name lists the close matches, nearest first, and names that it begins.
    func testUndefinedNamesListCloseMatches() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x1 = 1; x2 = 2; x3 = 3; x4 = 4; learning_rate = 0.1; w = 5"))
        XCTAssertFalse(execute(session, "xx + 1"))
        XCTAssertTrue(output.errors.contains("undefined name 'xx'; did you mean 'x1', 'x2' or 'x3'?"), output.errors)
        XCTAssertFalse(execute(session, "learn * 2"))
        XCTAssertTrue(output.errors.contains("undefined name 'learn'; did you mean 'learning_rate'?"), output.errors)
        XCTAssertFalse(execute(session, "q"))
        XCTAssertTrue(output.errors.hasSuffix("undefined name 'q'\n    q\n    ^\n"), "no guess for a one-letter name: \(output.errors)")
    }

    /// The contract's own example of an error message.
    func testShapeErrorMatchesTheContract() {
        let (session, output) = makeSession()
        execute(session, "W = ones(2, 3); x = [1, 2]; c = 1", name: "lecture2.graph")
        XCTAssertFalse(execute(session, "\n\n\n\n\n\nh = relu(W @ x + c)", name: "lecture2.graph"))
        XCTAssertEqual(output.errors, """
            lecture2.graph:7:12: error: shapes (2, 3) and (2) do not fit for '@': inner sizes 3 and 2 differ
                h = relu(W @ x + c)
                           ^

            """)
    }

    /// Redefining a leaf with a new shape keeps the session and says which formula broke.
    func testRedefinitionThatBreaksADependentWarnsAndRecovers() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "A = ones(2, 2); x = [1, 2]; y = A @ x"))
        XCTAssertTrue(execute(session, "x = [1, 2, 3]"))
        XCTAssertTrue(output.errors.contains("warning: 'y' no longer evaluates"), output.errors)
        XCTAssertFalse(execute(session, "y"))
        XCTAssertTrue(execute(session, "A = ones(2, 3)"))
        let before = output.text.count
        XCTAssertTrue(execute(session, "y"))
        XCTAssertEqual(String(output.text.dropFirst(before)), "[6, 6]\n")
    }
}
