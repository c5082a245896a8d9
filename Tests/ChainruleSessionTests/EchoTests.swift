import ChainruleCore
@testable import ChainruleSession
import XCTest

/// `:set echo on` (and `--echo`): each statement of a script is printed before its output.
final class EchoTests: XCTestCase {
    /// A lecture script: values, definitions, a command with several lines of output, a comment.
    static let lecture = """
        # the class follows along
        x = -3
        relu(x)
        w = [2, -1]; w * x
        A = [[1, 2], [3, 4]]
        A
        y = relu(x) + 2 * x
        :grad y   # every leaf
        :forward y
        """

    func testAScriptWithEchoOn() {
        let (session, output) = makeSession()
        session.echo = true
        XCTAssertTrue(execute(session, Self.lecture, name: "lecture.graph"), output.errors)
        XCTAssertEqual(output.text, """
            » x = -3
            relu(x)  →  0
            » w = [2, -1]
            w * x  →  [-6, 3]
            » A = [[1, 2], [3, 4]]
            » A
            [[1, 2],
             [3, 4]]
            » y = relu(x) + 2 * x
            » :grad y
            ∂y/∂x = 2
            ∂y/∂w = [0, 0]  (y does not depend on w)
            ∂y/∂A = [[0, 0], [0, 0]]  (y does not depend on A)
            » :forward y
            forward pass to y: 5 nodes in topological order
            node  op           shape  value
            x     input        ()     -3
            %3    relu(x)      ()     0
            %4    const        ()     2
            %5    mul(2, x)    ()     -6
            y     add(%3, %5)  ()     -6

            """)
    }

    /// Without echo the same script prints exactly what it printed before echo existed.
    func testTheDefaultOutputIsUnchanged() {
        let (echoing, echoed) = makeSession()
        echoing.echo = true
        XCTAssertTrue(execute(echoing, Self.lecture, name: "lecture.graph"))
        let (session, output) = makeSession()
        XCTAssertFalse(session.echo)
        XCTAssertTrue(execute(session, Self.lecture, name: "lecture.graph"), output.errors)
        XCTAssertEqual(output.text, """
            0
            [-6, 3]
            [[1, 2],
             [3, 4]]
            ∂y/∂x = 2
            ∂y/∂w = [0, 0]  (y does not depend on w)
            ∂y/∂A = [[0, 0], [0, 0]]  (y does not depend on A)
            forward pass to y: 5 nodes in topological order
            node  op           shape  value
            x     input        ()     -3
            %3    relu(x)      ()     0
            %4    const        ()     2
            %5    mul(2, x)    ()     -6
            y     add(%3, %5)  ()     -6

            """)
        // Echo only adds: without the echoed statements, the echoed run printed the same.
        let withoutEcho = echoed.text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
            if line.hasPrefix(Session.echoMarker) { return nil }
            return line.components(separatedBy: Session.echoArrow).last
        }
        XCTAssertEqual(withoutEcho.joined(separator: "\n"), output.text)
    }

    /// A statement that fails is echoed on standard output; the error still goes to standard
    /// error, with its location, and nothing after it runs.
    func testAFailingStatementIsEchoedAndTheErrorKeepsItsLocation() {
        let (session, output) = makeSession()
        session.echo = true
        XCTAssertFalse(execute(session, "x = 2\nx * q\nx\n", name: "bad.graph"))
        XCTAssertEqual(output.text, "» x = 2\n» x * q\nbad.graph:2:5: error: undefined name 'q'\n    x * q\n        ^\n")
        XCTAssertEqual(output.errors, "bad.graph:2:5: error: undefined name 'q'\n    x * q\n        ^\n")
        let (failing, failed) = makeSession()
        failing.echo = true
        XCTAssertFalse(execute(failing, "z = q", name: "bad.graph"))
        XCTAssertTrue(failed.text.hasPrefix("» z = q\nbad.graph:1:5: error: undefined name 'q'"), failed.text)
    }

    /// `:set echo on` and `off` inside a script: what comes after each follows it, and the
    /// `:set echo off` that ends echoing is itself echoed.
    func testSetEchoInsideAScript() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "1 + 1\n:set echo on\n2 + 2\n:set echo off\n3 + 3\n"), output.errors)
        XCTAssertEqual(output.text, "2\n2 + 2  →  4\n» :set echo off\n6\n")
        XCTAssertFalse(session.echo)
        XCTAssertFalse(execute(session, ":set echo loud"))
        XCTAssertTrue(output.errors.contains("echo is 'on' or 'off'"), output.errors)
        XCTAssertFalse(execute(session, ":set ecoh on"))
        XCTAssertTrue(output.errors.contains("did you mean 'echo'?"), output.errors)
    }

    /// A statement over several lines is echoed whole, its continuation lines under its first;
    /// a value of several lines follows the statement rather than sharing its line.
    func testMultiLineStatementsAndValues() {
        let (session, output) = makeSession()
        session.echo = true
        XCTAssertTrue(execute(session, "v = [1,\n     2]\nv +\n  1\neye(2)\n"), output.errors)
        XCTAssertEqual(output.text, "» v = [1,\n       2]\n» v +\n    1\n[2, 3]\n» eye(2)\n[[1, 0],\n [0, 1]]\n")
    }

    /// At the prompt the terminal shows what was typed: nothing more is printed; a script the
    /// prompt loads is echoed.
    func testThePromptIsNotEchoedButWhatItLoadsIs() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-echo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("part.graph")
        try "# part one\nb = 5\nb * 2\n".write(to: script, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        REPL(session: session, reader: ScriptedReader([":set echo on", "a = 1; a + 1", ":load \(script.path)", "b"], output: output)).run()
        XCTAssertEqual(output.text, """
            chainrule> :set echo on
            chainrule> a = 1; a + 1
            2
            chainrule> :load \(script.path)
            » b = 5
            b * 2  →  10
            chainrule> b
            5

            """)
    }

    /// A `:load` that fails puts the echo setting back with the rest of the session.
    func testAFailedLoadPutsTheSettingBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-echo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("bad.graph")
        try ":set echo on\n1 + q\n".write(to: script, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":load \(script.path)"))
        XCTAssertFalse(session.echo)
        XCTAssertTrue(output.text.hasPrefix("» 1 + q\n"), output.text)
    }

    /// On a terminal the statement is bold and the marker and arrow dim; `:set color off` leaves plain text.
    func testColourOnlyWhereColourIsAllowed() {
        let output = MergedOutput()
        let session = Session(output: output, colorOutput: true)
        session.echo = true
        XCTAssertTrue(execute(session, "x = 2\nx + 1\n"))
        XCTAssertEqual(output.text, "\u{1B}[2m» \u{1B}[0m\u{1B}[1mx = 2\u{1B}[0m\n\u{1B}[1mx + 1\u{1B}[0m\u{1B}[2m  →  \u{1B}[0m\u{1B}[32m3\u{1B}[0m\n")
        let (plain, plainOutput) = makeSession()
        plain.echo = true
        XCTAssertTrue(execute(plain, "x = 2\nx + 1\n"))
        XCTAssertEqual(plainOutput.text, "» x = 2\nx + 1  →  3\n")
    }

    /// `:help set` explains echo, and Tab completes its name.
    func testHelpAndCompletion() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":help set"))
        XCTAssertTrue(output.text.contains("echo on|off"), output.text)
        XCTAssertTrue(output.text.contains("echo: print each statement of a script"), output.text)
        XCTAssertTrue(output.text.contains("example:\n  :set precision 4\n  :set echo on\n"), output.text)
        XCTAssertEqual(session.complete(":set ec").candidates, ["echo"])
    }

    /// `--json` is quiet: nothing is echoed into its document.
    func testQuietSessionsEchoNothing() {
        let (session, output) = makeSession()
        session.echo = true
        session.quiet = true
        XCTAssertTrue(execute(session, "x = 2\nx + 1\n:grad x\n"))
        XCTAssertEqual(output.text, "")
    }
}
