import ChainruleSession
import XCTest

/// Golden REPL transcripts: each file under `Transcripts/` is a session as a terminal shows it.
/// The lines after a prompt are replayed; everything else must match what the session prints.
/// Re-record every transcript with `scripts/record-transcripts` (or by running this test with
/// `CHAINRULE_RECORD=1`, which rewrites the files and then fails: a run that recorded checked nothing).
final class TranscriptTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    func testEveryTranscript() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".txt") }
        XCTAssertGreaterThanOrEqual(files.count, 8, "transcripts are missing")
        let record = ProcessInfo.processInfo.environment["CHAINRULE_RECORD"] != nil
        let problems = try verify(folder: Self.folder, record: record)
        for problem in problems { XCTFail(problem) }
    }

    /// Replays every transcript in `folder` and returns what differs. With `record`, rewrites
    /// each file with what the session prints now instead, and reports that it did: recording
    /// never counts as passing.
    func verify(folder: URL, record: Bool) throws -> [String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".txt") }.sorted()
        guard !files.isEmpty else { return ["no transcripts in \(folder.path)"] }
        var problems: [String] = []
        for file in files {
            let url = folder.appendingPathComponent(file)
            let expected = try String(contentsOf: url, encoding: .utf8)
            let actual = replay(expected)
            if record {
                try actual.write(to: url, atomically: true, encoding: .utf8)
                problems.append("recorded \(file)\(actual == expected ? " (unchanged)" : ""); re-run without CHAINRULE_RECORD to check it")
            } else if actual != expected {
                problems.append("transcript \(file) differs at " + firstDifference(actual, expected))
            }
        }
        return problems
    }

    /// A recording run rewrites the file and still reports a problem; the next run checks the new file.
    func testRecordingRewritesAndNeverPasses() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-transcripts-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("small.txt")
        try "chainrule> 1 + 2\n4\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try verify(folder: folder, record: false),
                       ["transcript small.txt differs at line 2:\n  actual:   3\n  expected: 4"])
        XCTAssertEqual(try verify(folder: folder, record: true),
                       ["recorded small.txt; re-run without CHAINRULE_RECORD to check it"])
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "chainrule> 1 + 2\n3\n")
        XCTAssertEqual(try verify(folder: folder, record: false), [])
        XCTAssertEqual(try verify(folder: folder, record: true),
                       ["recorded small.txt (unchanged); re-run without CHAINRULE_RECORD to check it"])
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
            for prompt in [REPL.prompt, REPL.continuationPrompt, Session.answerPrompt] where line.hasPrefix(prompt) {
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
