import Foundation
import ChainruleTestSupport
import XCTest

/// Transcripts pasted back: lines copied with their `chainrule> ` prompt run without it, and
/// the output copied along with them is not run.
final class PasteTests: XCTestCase {
    /// Every transcript in the README (a text block that begins with the prompt: the tour,
    /// the walk), run as a script, prints exactly the output the README shows.
    func testTheReadmeTranscriptsRunAsTheyAreShown() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var rest = readme[...]
        while let open = rest.range(of: "```text\n"), let close = rest.range(of: "```", range: open.upperBound..<rest.endIndex) {
            let block = String(rest[open.upperBound..<close.lowerBound])
            if block.hasPrefix("chainrule> ") { blocks.append(block) }
            rest = rest[close.upperBound...]
        }
        XCTAssertGreaterThanOrEqual(blocks.count, 2)
        let folder = try TemporaryFolder.make("chainrule-readme")
        defer { TemporaryFolder.remove(folder) }
        for (i, block) in blocks.enumerated() {
            let expected = block.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                .filter { !$0.hasPrefix("chainrule>") }.map { $0 + "\n" }.joined()
            XCTAssertGreaterThan(expected.count, 200)
            let file = folder.appendingPathComponent("block\(i).graph")
            try block.write(to: file, atomically: true, encoding: .utf8)
            let result = try runChainrule([file.path])
            XCTAssertEqual(result.standardError, "", "block \(i)")
            XCTAssertEqual(result.status, 0, "block \(i)")
            XCTAssertEqual(result.standardOutput, expected, "block \(i)")
        }
    }

    /// In a script that is not a transcript, a prompt is still taken off, and columns keep
    /// pointing where the text was.
    func testAPromptIsBlankedInAnyScript() throws {
        let result = try runChainrule(["-e", "chainrule> x = 2\nx * 3\n      ...> zz"])
        XCTAssertEqual(result.standardOutput, "")
        XCTAssertEqual(result.standardError, "<-e>:3:12: error: undefined name 'zz'\n               zz\n               ^\n")
    }

    /// At the prompt: a paste that begins with the prompt runs its prompted lines only; a line
    /// typed afterwards without a prompt runs as usual.
    func testAPastedTranscriptAtThePrompt() throws {
        let home = try TemporaryFolder.make("chainrule-paste")
        defer { TemporaryFolder.remove(home) }
        let session = try PseudoTerminal(executable: Executable.url.path, environment: [
            "HOME": home.path, "CHAINRULE_HISTORY": "", "TERM": "xterm", "PATH": "/usr/bin:/bin"])
        try session.waitFor("chainrule> ")
        try session.waitUntilEditing()
        try session.send("chainrule> x = 3\rthis line was output\rchainrule> y = (x +\r      ...> 1)\rchainrule> y * 10\r40\r")
        // The paste's last line is output: its echo comes after the result 40, and no second 40 follows.
        var pasted = try session.waitFor("chainrule> 40")
        pasted += try session.waitFor("chainrule> ")
        try session.waitUntilEditing()
        try session.send("x * 2\r")
        pasted += try session.waitFor("chainrule> ")
        XCTAssert(pasted.hasSuffix("chainrule> x * 2\n6\nchainrule> "), pasted.debugDescription)
        XCTAssertFalse(pasted.contains("error"), pasted)
        XCTAssertEqual(pasted.components(separatedBy: "40\n").count - 1, 2, pasted)
        try session.waitUntilEditing()
        try session.send("\u{4}")
        XCTAssertEqual(try session.waitForExit(), .exited(0))
    }
}
