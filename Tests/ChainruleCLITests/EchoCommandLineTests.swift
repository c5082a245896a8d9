import Foundation
import XCTest

/// `chainrule --echo`: each statement of the scripts printed before its output.
final class EchoCommandLineTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-echo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func script(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testFilesAndStatementsAreEchoed() throws {
        let path = try script("lecture.graph", "# weights\nw = 3; x = -1\nrelu(w * x)\nL = (w * x)^2\n:grad L wrt w\n")
        let result = try runChainrule(["--echo", path, "-e", "L + 1"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, """
            » w = 3
            » x = -1
            relu(w * x)  →  0
            » L = (w * x)^2
            » :grad L wrt w
            ∂L/∂w = 6
            L + 1  →  10

            """)
        XCTAssertEqual(result.standardError, "")
        XCTAssertFalse(result.standardOutput.contains("\u{1B}["), "no escape codes off a terminal")
        let plain = try runChainrule([path, "-e", "L + 1"])
        XCTAssertEqual(plain.standardOutput, "0\n∂L/∂w = 6\n10\n", "without --echo the output is as it was")
    }

    /// The failing statement is echoed; the error goes to standard error with its location, and the status is 1.
    func testAnErrorStillGoesToStandardErrorWithItsLocation() throws {
        let path = try script("bad.graph", "x = 2\nx\nx * q\nx + 1\n")
        let result = try runChainrule(["--echo", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.standardOutput, "» x = 2\nx  →  2\n» x * q\n")
        XCTAssertEqual(result.standardError, "\(path):3:5: error: undefined name 'q'\n    x * q\n        ^\n")
    }

    func testPipedStandardInputIsEchoed() throws {
        let result = try runChainrule(["--echo"], input: "a = [1, 2]\nsum(a)\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "» a = [1, 2]\nsum(a)  →  3\n")
        // With -i and input that is not a terminal, the scripts and then the input are echoed.
        let path = try script("first.graph", "b = 4\n")
        let both = try runChainrule(["--echo", "-i", path], input: "b * 2\n")
        XCTAssertEqual(both.standardOutput, "» b = 4\nb * 2  →  8\n")
    }

    /// `--json` prints only its document, so echoing into it is refused as bad usage.
    func testJSONAndEchoAreBadUsage() throws {
        let result = try runChainrule(["--json", "--echo", "-e", "x = 1"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.standardOutput, "")
        XCTAssertTrue(result.standardError.contains("--json and --echo cannot be combined"), result.standardError)
        XCTAssertTrue(try runChainrule(["--help"]).standardOutput.contains("--echo"))
    }

    /// On a terminal the statement is bold; with NO_COLOR it is plain text.
    func testColourOnATerminalOnly() throws {
        let environment = ["HOME": folder.path, "TERM": "xterm", "PATH": "/usr/bin:/bin"]
        let arguments = ["--echo", "-e", "x = 2", "-e", "x + 1"]
        let coloured = try PseudoTerminal(executable: Executable.url.path, arguments: arguments, environment: environment)
        XCTAssertEqual(try coloured.waitForExit(), .exited(0))
        XCTAssertEqual(coloured.transcript, "» x = 2\nx + 1  →  3\n")
        let raw = String(decoding: coloured.rawOutput, as: UTF8.self)
        XCTAssertTrue(raw.contains("\u{1B}[1mx + 1\u{1B}[0m\u{1B}[2m  →  \u{1B}[0m\u{1B}[32m3\u{1B}[0m"), raw.debugDescription)
        var noColor = environment
        noColor["NO_COLOR"] = "1"
        let plain = try PseudoTerminal(executable: Executable.url.path, arguments: arguments, environment: noColor)
        XCTAssertEqual(try plain.waitForExit(), .exited(0))
        XCTAssertEqual(String(decoding: plain.rawOutput, as: UTF8.self), "» x = 2\r\nx + 1  →  3\r\n")
    }
}
