import Foundation
import XCTest

/// The interactive prompt end to end: the built `chainrule` on a
/// pseudo-terminal, typed at like a keyboard. Each test gets its own home
/// directory and history file.
final class PromptTests: XCTestCase {
    private static let prompt = "chainrule> "
    private var home: URL!
    private var historyFile: URL { home.appendingPathComponent("history") }

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory
            .appendingPathComponent("chainrule-prompt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    // MARK: Evaluating

    func testDefinitionAndGradient() throws {
        let session = try startSession()
        try enter("x = 3", in: session)
        try enter("y = x * x", in: session)
        let output = try enter(":grad y", in: session)
        XCTAssertTrue(output.contains("∂y/∂x = 6"), output)
        let backward = try enter(":backward y", in: session)
        XCTAssertTrue(backward.contains("backward pass from y"), backward)
        XCTAssertTrue(backward.contains("∂y/∂x = 3 (via y) + 3 (via y)"), backward)
        XCTAssertTrue(backward.contains("= 6   sum of 2 paths"), backward)
        try finish(session)
    }

    func testNonASCIIInput() throws {
        let session = try startSession()
        try enter("θ = 2", in: session)
        let output = try enter("θ * 3", in: session)
        XCTAssertTrue(output.hasPrefix("θ * 3\n"), output)
        XCTAssertTrue(output.contains("6"), output)
        try finish(session)
    }

    func testPromptAndContinuationPrompt() throws {
        let session = try startSession()
        XCTAssertEqual(lastLine(of: session.transcript), Self.prompt)
        try enter("x = 3", in: session)
        try session.send("f = relu(\r")
        try waitForPrompt("...>", in: session)
        try enter("x)", in: session)
        let output = try enter("f", in: session)
        XCTAssertTrue(output.contains("3"), output)
        try finish(session)
    }

    // MARK: Keys

    func testTabCompletesCommand() throws {
        let session = try startSession()
        try session.send(":forw\t")
        try session.waitFor(":forward")
        try session.send("\u{15}")  // Ctrl-U: clear the line
        try finish(session)
    }

    func testTabCompletesNodeName() throws {
        let session = try startSession()
        try enter("learning_rate = 1", in: session)
        try session.send("learn\t")
        try session.waitFor("learning_rate")
        let output = try enter("", in: session)
        XCTAssertTrue(output.contains("1"), output)
        try finish(session)
    }

    func testTabListsCandidatesWhenNothingIsShared() throws {
        let session = try startSession()
        try enter("alpha1 = 1", in: session)
        try enter("alpha2 = 2", in: session)
        try session.send("al\t")
        try session.waitFor("alpha")
        try session.send("\t")
        try session.waitFor("\nalpha1  alpha2\n")
        try session.waitFor(Self.prompt + "alpha")  // the line is shown again
        try session.send("\u{15}")
        try finish(session)
    }

    func testUpArrowRecallsPreviousLine() throws {
        let session = try startSession()
        try enter("x = 3", in: session)
        try enter("x * 2", in: session)
        try session.send("\u{1B}[A")
        try session.waitFor("x * 2")
        let output = try enter("", in: session)
        XCTAssertTrue(output.contains("6"), output)
        try finish(session)
    }

    func testCtrlRSearchesHistory() throws {
        let session = try startSession()
        try enter("x = 3", in: session)
        try enter("x / 3", in: session)
        try enter("x + 1", in: session)
        // libedit's search text is a regular expression, so no `*` here. The
        // found line is drawn by patching the screen, so judge by the result.
        let output = try enter("\u{12}x /", in: session)
        let lines = output.split(separator: "\n")
        XCTAssertTrue(lines.contains("1") && !lines.contains("4"), output)
        try finish(session)
    }

    func testCtrlCDiscardsHalfTypedLine() throws {
        let session = try startSession()
        try enter("x = 3", in: session)
        try session.send("y = x +")
        try session.waitFor("y = x +")
        try session.send("\u{3}")
        try session.waitFor("^C")
        try waitForPrompt(in: session)
        let output = try enter("x", in: session)
        XCTAssertTrue(output.hasPrefix("x\n"), "the new line is not empty: \(output)")
        XCTAssertTrue(output.contains("3"), output)
        try finish(session)
    }

    func testCtrlCAbandonsContinuation() throws {
        let session = try startSession()
        try enter("x = 3", in: session)
        try session.send("f = relu(\r")
        try waitForPrompt("...>", in: session)
        try session.send("\u{3}")
        try waitForPrompt(in: session)
        let output = try enter("x", in: session)
        XCTAssertTrue(output.contains("3"), output)
        try finish(session)
    }

    func testCtrlCStopsALongComputationAndKeepsTheSession() throws {
        let session = try startSession()
        try enter("param w = 1", in: session)
        try enter("L = (w - 3)^2", in: session)
        try session.send(":train L steps=1000000 lr=0.000001\r")
        try session.waitFor("training L")
        // The progress bar shows every 10,000 steps: wait until training is under way.
        try session.waitFor("step 10000/1000000")
        try session.send("\u{3}")
        let output = try waitForPrompt(in: session)
        XCTAssertTrue(output.contains("interrupted"), output)
        // What was learned is kept: each step is w ← w − 1e-6·2(w − 3), so after n steps
        // w = 3 − 2·(1 − 2e-6)ⁿ, and at least 10,000 steps ran.
        let learned = try XCTUnwrap(Self.number(in: try enter("w", in: session)))
        XCTAssertGreaterThanOrEqual(learned, 3 - 2 * pow(1 - 2e-6, 10_000.0) - 1e-5)
        XCTAssertLessThan(learned, 3 - 2 * pow(1 - 2e-6, 1_000_000.0))
        let loss = try XCTUnwrap(Self.number(in: try enter("L", in: session)))
        XCTAssertEqual(loss, (learned - 3) * (learned - 3), accuracy: 1e-4)
        // The session still parses and reports errors.
        let after = try enter("w $ 1", in: session)
        XCTAssertTrue(after.contains("<stdin>:1:3:") && after.contains("unexpected character '$'"), after)
        let shown = try enter(":show w", in: session)
        XCTAssertTrue(shown.contains("kind   param"), shown)
        try finish(session)
    }

    /// `chainrule -i FILE`: Ctrl-C during a script's `:train` stops the training (keeping
    /// what it learned) and the script, never the process; the prompt follows.
    func testCtrlCDuringAScriptStopsItAndTheSessionGoesOnAtThePrompt() throws {
        let script = home.appendingPathComponent("train.graph")
        try "param w = 1\nL = (w - 3)^2\n:train L steps=1000000 lr=0.000001\nafter = 1\n".write(to: script, atomically: true, encoding: .utf8)
        let session = try PseudoTerminal(
            executable: try Self.binaryPath(), arguments: ["-i", script.path],
            environment: ["HOME": home.path, "CHAINRULE_HISTORY": historyFile.path, "TERM": "xterm", "PATH": "/usr/bin:/bin"])
        try session.waitFor("step 10000/1000000")
        try session.send("\u{3}")
        let output = try waitForPrompt(in: session)
        XCTAssertTrue(output.contains("interrupted") && output.contains("note: interrupted: the rest of \(script.path) is not run"), output)
        let learned = try XCTUnwrap(Self.number(in: try enter("w", in: session)))
        XCTAssertGreaterThan(learned, 1)
        XCTAssertLessThan(learned, 3)
        XCTAssertTrue(try enter("after", in: session).contains("undefined name 'after'"))
        try finish(session)
    }

    /// `--json` with nothing to run and a terminal for input is bad usage (status 2), not an
    /// empty script.
    func testJSONWithNothingToRunAtATerminalIsBadUsage() throws {
        let session = try PseudoTerminal(executable: try Self.binaryPath(), arguments: ["--json"],
                                         environment: ["HOME": home.path, "TERM": "xterm", "PATH": "/usr/bin:/bin"])
        let output = try session.waitFor("\n")
        XCTAssertTrue(output.contains("--json needs a FILE"), output)
        guard case .exited(let status) = try session.waitForExit() else { return XCTFail("not exited") }
        XCTAssertEqual(status, 2)
    }

    func testCtrlDOnEmptyLineExitsWithStatusZero() throws {
        let session = try startSession()
        try session.send("\u{4}")
        XCTAssertEqual(try session.waitForExit(), .exited(0))
    }

    // MARK: History file

    func testHistoryFileKeepsEntriesAcrossSessions() throws {
        let first = try startSession()
        try enter("x = 3", in: first)
        try enter("y = x * x", in: first)
        try finish(first)

        let contents = try String(contentsOf: historyFile, encoding: .utf8)
        XCTAssertTrue(contents.hasPrefix("_HiStOrY_V2_\n"), contents)
        let entries = contents.split(separator: "\n").dropFirst().map { Self.unvis($0) }
        XCTAssertEqual(entries, ["x = 3", "y = x * x"])

        let second = try startSession()
        try second.send("\u{1B}[A")
        try second.waitFor("y = x * x")
        try second.send("\u{15}")  // Ctrl-U: clear the line
        try finish(second)
    }

    /// Each entry is appended: a file longer than the history size keeps its old entries (a rewrite
    /// would cut it to the newest 1000), and a repeat of the last entry is not written again.
    func testHistoryEntriesAreAppendedToTheFile() throws {
        let old = (0..<1500).map { "e\($0)" }
        try ("_HiStOrY_V2_\n" + old.map { $0 + "\n" }.joined()).write(to: historyFile, atomically: false, encoding: .utf8)
        let session = try startSession()
        try enter("x = 3", in: session)
        try enter("x = 3", in: session)
        try enter("f = relu(x) + 1", in: session)
        try finish(session)

        let contents = try String(contentsOf: historyFile, encoding: .utf8)
        XCTAssertTrue(contents.hasPrefix("_HiStOrY_V2_\ne0\n"), String(contents.prefix(40)))
        let entries = contents.split(separator: "\n").dropFirst().map { Self.unvis($0) }
        XCTAssertEqual(entries, old + ["x = 3", "f = relu(x) + 1"])
    }

    /// Past twice the history size the file is rewritten with the newest 1000 entries, through a
    /// temporary file that replaces it (a new inode), never by truncating it in place.
    func testHistoryFileIsCompactedPastTwiceItsSize() throws {
        let old = (0..<2000).map { "e\($0)" }
        try ("_HiStOrY_V2_\n" + old.map { $0 + "\n" }.joined()).write(to: historyFile, atomically: false, encoding: .utf8)
        let inode = try FileManager.default.attributesOfItem(atPath: historyFile.path)[.systemFileNumber] as? Int
        let session = try startSession()
        try enter("x = 3", in: session)
        try enter("y = 4", in: session)
        try finish(session)

        let entries = try String(contentsOf: historyFile, encoding: .utf8).split(separator: "\n").dropFirst().map { Self.unvis($0) }
        XCTAssertEqual(entries, Array(old.suffix(999)) + ["x = 3", "y = 4"])
        let after = try FileManager.default.attributesOfItem(atPath: historyFile.path)[.systemFileNumber] as? Int
        XCTAssertNotEqual(inode, after, "compacting replaces the file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: historyFile.path + ".new"))
    }

    func testForeignHistoryFileIsLeftUntouched() throws {
        let foreign = Data("x = 1\nprint me\n".utf8)
        try foreign.write(to: historyFile)

        let session = try startSession()
        XCTAssertTrue(
            session.transcript.contains("history file '\(historyFile.path)' is not in libedit's format"),
            session.transcript)
        try enter("z = 2", in: session)
        try finish(session)

        XCTAssertEqual(try Data(contentsOf: historyFile), foreign)
    }

    // MARK: Colour

    /// On a terminal, errors, values and gradients are coloured; NO_COLOR and `:set color off` turn that off.
    func testColourOnATerminalOnlyWithoutNoColor() throws {
        let escape = Array("\u{1B}[".utf8)
        func containsEscape(_ bytes: [UInt8]) -> Bool {
            bytes.indices.contains { bytes[$0...].starts(with: escape) }
        }
        let coloured = try startSession()
        try enter("x = [1, 2]", in: coloured)
        let before = coloured.rawOutput.count
        try enter("x * 2", in: coloured)
        XCTAssertTrue(containsEscape(Array(coloured.rawOutput[before...])), "values are coloured on a terminal")
        try enter(":set color off", in: coloured)
        let after = coloured.rawOutput.count
        try enter("undefined_name", in: coloured)
        XCTAssertFalse(containsEscape(Array(coloured.rawOutput[after...])), ":set color off turns colour off")
        try finish(coloured)

        let plain = try startSession(extraEnvironment: ["NO_COLOR": "1"])
        try enter("x = [1, 2]", in: plain)
        try enter("x * 2", in: plain)
        try enter("undefined_name", in: plain)
        XCTAssertFalse(containsEscape(plain.rawOutput), "NO_COLOR keeps every escape sequence out")
        try finish(plain)
    }

    // MARK: Driving a session

    /// Starts the REPL on a terminal and waits for its first prompt.
    private func startSession(extraEnvironment: [String: String] = [:]) throws -> PseudoTerminal {
        let session = try PseudoTerminal(
            executable: try Self.binaryPath(),
            environment: [
                "HOME": home.path,
                "CHAINRULE_HISTORY": historyFile.path,
                "TERM": "xterm",
                "PATH": "/usr/bin:/bin",
            ].merging(extraEnvironment) { $1 })
        try waitForPrompt(in: session)
        return session
    }

    /// Types `line` and Enter, then returns everything up to the next prompt:
    /// the echoed line, a newline, and what the REPL printed.
    @discardableResult
    private func enter(_ line: String, in session: PseudoTerminal) throws -> String {
        try session.send(line + "\r")
        return try waitForPrompt(in: session)
    }

    /// Waits for `prompt`, and for the line editor to be ready for keys.
    @discardableResult
    private func waitForPrompt(_ prompt: String = PromptTests.prompt, in session: PseudoTerminal) throws -> String {
        let output = try session.waitFor(prompt)
        try session.waitUntilEditing()
        return output
    }

    /// Ends the session with Ctrl-D on an empty line; it must exit cleanly.
    private func finish(_ session: PseudoTerminal, line: UInt = #line) throws {
        try session.send("\u{4}")
        XCTAssertEqual(try session.waitForExit(), .exited(0), line: line)
    }

    /// The number printed in answer to an entry: the first line after the echoed entry that is a number.
    private static func number(in output: String) -> Double? {
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return lines.dropFirst().lazy.compactMap { Double($0) }.first
    }

    private func lastLine(of text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: false).last ?? "")
    }

    /// Decodes one history line: libedit writes blanks and control characters
    /// as `\NNN` (octal) and a backslash as `\\`.
    private static func unvis(_ line: Substring) -> String {
        let bytes = Array(line.utf8)
        var decoded: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let octal = bytes.dropFirst(index + 1).prefix(3)
            if bytes[index] == UInt8(ascii: "\\"), octal.count == 3,
                octal.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) })
            {
                decoded.append(octal.reduce(0) { $0 &* 8 &+ ($1 - UInt8(ascii: "0")) })
                index += 4
            } else if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                decoded.append(bytes[index + 1])
                index += 2
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// The `chainrule` executable built next to this test bundle
    /// (`CHAINRULE_TEST_BINARY` overrides).
    private static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["CHAINRULE_TEST_BINARY"] { return path }
        var directories: [URL] = []
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        #endif
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        directories.append(Bundle.main.bundleURL)
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in directories {
            let candidate = directory.appendingPathComponent("chainrule").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw PseudoTerminal.Failure(
            description: "no chainrule executable in \(directories.map(\.path)); run `swift build` first")
    }
}
