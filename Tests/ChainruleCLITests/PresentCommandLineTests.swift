import Foundation
import XCTest

/// `chainrule --present FILE`: driven through a pipe (one line per key) and through a
/// pseudo-terminal (raw keys, arrows as escape sequences).
final class PresentCommandLineTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-present-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func script(_ text: String) throws -> String {
        let url = folder.appendingPathComponent("lecture.graph")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let lecture = """
        :say a fork: x is used twice
        x = 3
        y = x * x + x
        x = 5
        :pause
        y

        """

    func testEachKeyRunsOneStatementEchoedWithItsOutput() throws {
        let path = try script(Self.lecture)
        let result = try runChainrule(["--present", path], input: "\n\n\n\n\n\n\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, """
            presenting \(path): 6 statements   Enter or → next · b or ← back · : prompt · q quit
            ▌ a fork: x is used twice
            ── statement 1 of 6 ──
            » x = 3
            ── statement 2 of 6 ──
            » y = x * x + x
            ── statement 3 of 6 ──
            » x = 5
            ── statement 4 of 6 ──
            ── statement 5 of 6 ──
            y  →  30
            ── statement 6 of 6, the last: Enter or q leaves, b goes back ──

            """)
    }

    /// Going back undoes the redefinition: `y` reads 12 again, at the prompt and when presented.
    func testBackPutsTheSessionAsItWasBeforeTheStatement() throws {
        let path = try script(Self.lecture)
        // Run to `x = 5`, go back over it, check y at the prompt, come back, run on to the end.
        let keys = ["", "", "", "", "b", ":", "y", "", "", "", "", "q"]
        let result = try runChainrule(["--present", path], input: keys.joined(separator: "\n") + "\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("── back: statement 4 undone, the session is as it was before it; next: line 4: x = 5 ──"), result.standardOutput)
        XCTAssertTrue(lines.contains("── at the prompt: type statements; an empty line or Ctrl-D goes back to the presentation ──"))
        let prompt = try XCTUnwrap(lines.firstIndex(where: { $0.hasPrefix("── at the prompt") }))
        XCTAssertEqual(lines[prompt + 1], "12", "x = 5 was undone, so y = 3·3 + 3")
        XCTAssertEqual(lines[prompt + 2], "── back to the presentation after statement 3 of 6; next: line 4: x = 5 ──")
        XCTAssertEqual(Array(lines.suffix(5)), [
            "» x = 5", "── statement 4 of 6 ──", "── statement 5 of 6 ──", "y  →  30",
            "── statement 6 of 6, the last: Enter or q leaves, b goes back ──",
        ])
    }

    /// What is typed at the prompt stays when the presentation goes on.
    func testStatementsTypedAtThePromptAreKept() throws {
        let path = try script("a = 2\nb = a * k\nb\n")
        let result = try runChainrule(["--present", path], input: "\n:\nk = 10\n\n\n\n\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("b  →  20"), result.standardOutput)
    }

    func testQuitLeavesAndAnErrorDoesNotStopThePresentation() throws {
        let path = try script("x = 1\nnope(x)\nx + 1\nx + 2\n")
        let result = try runChainrule(["--present", path], input: "\n\n\nq\n\n")
        XCTAssertEqual(result.status, 1, "a statement failed")
        XCTAssertTrue(result.standardOutput.contains("x + 1  →  2"), result.standardOutput)
        XCTAssertFalse(result.standardOutput.contains("x + 2"), "q left before the fourth statement")
        XCTAssertEqual(result.standardError, "\(path):2:1: error: unknown function 'nope'\n    nope(x)\n    ^\n")
        // The end of input leaves too; at the start, back says there is nothing to undo.
        let early = try runChainrule(["--present", path], input: "b\n")
        XCTAssertEqual(early.status, 0)
        XCTAssertTrue(early.standardOutput.contains("── at the start: nothing to go back to; Enter runs statement 1 of 4 ──"), early.standardOutput)
    }

    func testBadScriptsAndBadUsage() throws {
        let path = try script("x = (1 +\n")
        let result = try runChainrule(["--present", path], input: "\n")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.standardOutput, "", "nothing is presented from a script with syntax errors")
        XCTAssertTrue(result.standardError.contains("\(path):"), result.standardError)
        let missing = try runChainrule(["--present", folder.appendingPathComponent("none.graph").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.standardError.contains("cannot read"), missing.standardError)
        let usage = try runChainrule(["--present", path, "--json"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.standardError.contains("--present takes one FILE"), usage.standardError)
        let help = try runChainrule(["--help"])
        XCTAssertTrue(help.standardOutput.contains("chainrule --present FILE"), help.standardOutput)
    }

    /// A quiz with no answer line in the script asks the keyboard; one with a line uses it.
    func testAQuizWhilePresenting() throws {
        let path = try script("x = 3\nf = x * 2\n:quiz f seed=2\n")
        let result = try runChainrule(["--present", path], input: "\n\n\n6\n\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("quiz: what is the value of f = mul(x, 2)?"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("type the answer at the 'answer?>' prompt"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("right: f = 6"), result.standardOutput)
        let scripted = try script("x = 3\nf = x * 2\n:quiz f seed=2\n7\nf + 1\n")
        let run = try runChainrule(["--present", scripted], input: "\n\n\n\n\n")
        XCTAssertTrue(run.standardOutput.contains("wrong: f is not 7"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("presenting \(scripted): 4 statements"), "the answer line is not a statement")
    }

    /// In a plain run `:say` is a comment line and `:pause` does nothing; echo does not repeat them.
    func testNarrationInAPlainRun() throws {
        let path = try script(Self.lecture)
        let result = try runChainrule([path])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "# a fork: x is used twice\n30\n")
        let echoed = try runChainrule(["--echo", path])
        XCTAssertEqual(echoed.standardOutput, "# a fork: x is used twice\n» x = 3\n» y = x * x + x\n» x = 5\ny  →  30\n")
    }

    // MARK: A terminal

    func testRawKeysAndArrowsAtATerminal() throws {
        let path = try script(Self.lecture)
        let terminal = try PseudoTerminal(
            executable: Executable.url.path, arguments: ["--present", path],
            environment: ["HOME": folder.path, "CHAINRULE_HISTORY": "", "TERM": "xterm", "PATH": "/usr/bin:/bin"])
        try terminal.waitFor("q quit")
        try terminal.send("\r")
        try terminal.waitFor("statement 1 of 6")
        try terminal.send("\u{1B}[C")  // →
        try terminal.waitFor("statement 2 of 6")
        try terminal.send(" ")
        try terminal.waitFor("statement 3 of 6")
        try terminal.send("\u{1B}OC")  // → as the application keypad sends it
        try terminal.waitFor("statement 4 of 6")
        try terminal.send("\u{1B}[D")  // ←
        try terminal.waitFor("back: statement 4 undone")
        try terminal.send("b")
        try terminal.waitFor("back: statement 3 undone")
        try terminal.send(":")
        try terminal.waitFor("goes back to the presentation ──")
        try terminal.waitFor("chainrule> ")
        try terminal.waitUntilEditing()
        try terminal.send("x\r")
        let value = try terminal.waitFor("chainrule> ")
        XCTAssertTrue(value.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.contains("3"),
                      "statement 3 (x = 5) was undone: \(value)")
        try terminal.send("\r")
        try terminal.waitFor("back to the presentation after statement 2 of 6")
        try terminal.send("\r")
        try terminal.waitFor("statement 3 of 6")
        try terminal.send("q")
        XCTAssertEqual(try terminal.waitForExit(), .exited(0))
        XCTAssertFalse(terminal.transcript.contains("^["), "keys are not echoed in raw mode")
    }
}
