import ChainruleSession
import XCTest

/// Golden REPL transcripts: each file under `Transcripts/` is a session as a terminal shows it.
/// The lines after a prompt are replayed; everything else must match what the session prints.
/// Re-record every transcript with `CHAINRULE_RECORD=1 swift test --filter TranscriptTests`.
final class TranscriptTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    func testEveryTranscript() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".txt") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 5, "transcripts are missing")
        let record = ProcessInfo.processInfo.environment["CHAINRULE_RECORD"] != nil
        for file in files {
            let url = Self.folder.appendingPathComponent(file)
            let expected = try String(contentsOf: url, encoding: .utf8)
            let actual = replay(expected)
            if record {
                try actual.write(to: url, atomically: true, encoding: .utf8)
            } else {
                XCTAssertEqual(actual, expected, "transcript \(file) differs; re-record with CHAINRULE_RECORD=1 if the change is intended")
                if actual != expected { print(firstDifference(actual, expected)) }
            }
        }
    }

    /// The README's tour is a transcript too, so it cannot drift from what chainrule prints.
    func testTheReadmeTourIsExact() throws {
        let readme = try String(contentsOf: Self.folder.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let tour = try XCTUnwrap(readme.components(separatedBy: "## A tour").dropFirst().first)
        let block = try XCTUnwrap(tour.components(separatedBy: "```text\n").dropFirst().first?.components(separatedBy: "```").first)
        let actual = replay(block)
        XCTAssertEqual(actual, block, firstDifference(actual, block))
    }

    /// Replays the input lines of a transcript in a fresh session and returns the new transcript.
    func replay(_ transcript: String) -> String {
        var inputs: [String] = []
        for line in transcript.split(separator: "\n", omittingEmptySubsequences: false) {
            for prompt in [REPL.prompt, REPL.continuationPrompt] where line.hasPrefix(prompt) {
                inputs.append(String(line.dropFirst(prompt.count)))
            }
        }
        let (session, output) = makeSession()
        REPL(session: session, reader: ScriptedReader(inputs, output: output)).run()
        return output.text
    }

    func firstDifference(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : "<end>") != (i < y.count ? y[i] : "<end>") {
            return "line \(i + 1):\n  actual:   \(i < x.count ? x[i] : "<end>")\n  expected: \(i < y.count ? y[i] : "<end>")"
        }
        return "no difference"
    }
}
