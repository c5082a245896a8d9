import Foundation
import ChainruleTestSupport
import XCTest

/// The built binary under an address-space limit (`ulimit -v`): `:save` and `--json` stream
/// what they write, and the memory budget covers the reverse pass, refusing it before it runs.
final class MemoryLimitTests: FolderTestCase {
    /// Runs chainrule with `arguments` under `ulimit -v kilobytes`, standard output into `output`
    /// (a file in the test's folder). Returns the exit status and standard error.
    func run(limit kilobytes: Int, _ arguments: [String], output: String = "out.txt") throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(kilobytes) && exec \"$0\" \"$@\" > \"$OUT\"", Executable.url.path] + arguments
        process.currentDirectoryURL = folder
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": folder.path, "LANG": "C.UTF-8",
                               "OUT": folder.appendingPathComponent(output).path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The first and last `count` bytes of a file, as text.
    func ends(of path: URL, count: Int = 200) throws -> (head: String, tail: String) {
        let handle = try FileHandle(forReadingFrom: path)
        defer { try? handle.close() }
        let head = try handle.read(upToCount: count) ?? Data()
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size > UInt64(count) ? size - UInt64(count) : 0)
        let tail = try handle.readToEnd() ?? Data()
        return (String(decoding: head, as: UTF8.self), String(decoding: tail, as: UTF8.self))
    }

    /// How many times `byte` occurs in the file, counted by `tr` and `wc` (the file is hundreds of MB).
    func occurrences(of byte: String, in path: URL) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "tr -cd '\(byte)' < \"$0\" | wc -c", path.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// `x[0]` and `x[-1]` of `randn(n, seed=1)` as the binary prints them, to 17 digits.
    func firstAndLast(ofRandn n: Int) throws -> (Double, Double) {
        let result = try runChainrule(["-e", ":set precision 17", "-e", "x = randn(\(n), seed=1)", "-e", "x[0]", "-e", "x[-1]"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let lines = result.standardOutput.split(separator: "\n").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return (try XCTUnwrap(lines.first ?? nil), try XCTUnwrap(lines.last ?? nil))
    }

    /// Issue 16, defect 3: a 20M-element leaf (160 MB of values) took past 2 GB to save and died
    /// with SIGSEGV under `ulimit -v 2000000`; the script is now streamed to the temporary file.
    func testSavingA20MElementLeafFitsUnderTwoGigabytes() throws {
        let n = 20_000_000
        let saved = folder.appendingPathComponent("big.graph")
        let result = try run(limit: 2_000_000, ["-e", "x = randn(\(n), seed=1)", "-e", ":save big.graph"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.errors, "")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("out.txt"), encoding: .utf8),
                       "saved 1 definition to big.graph\n")
        XCTAssertEqual(try occurrences(of: ",", in: saved), n - 1, "one comma between each two elements")
        let (head, tail) = try ends(of: saved)
        XCTAssert(head.hasPrefix("# chainrule graph: 1 definition\nx = ["), head)
        XCTAssert(tail.hasSuffix("]\n"), tail)
        let first = try XCTUnwrap(head.split(separator: "[").dropFirst().first?.split(separator: ",").first.flatMap { Double($0) })
        let last = try XCTUnwrap(Double(tail.dropLast(2).split(separator: " ").last ?? ""))
        let expected = try firstAndLast(ofRandn: n)
        XCTAssertEqual(first, expected.0)
        XCTAssertEqual(last, expected.1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "the temporary file was renamed over the target")
    }

    /// A saved leaf loads back to the same values (the streamed literal reads as the whole one did).
    func testAStreamedSaveLoadsBackEqual() throws {
        let result = try run(limit: 2_000_000, ["-e", "x = randn(200000, seed=3) * 1e-300", "-e", ":save x.graph"])
        XCTAssertEqual(result.status, 0, result.errors)
        let check = try runChainrule(["-e", ":load x.graph", "-e", "y = randn(200000, seed=3) * 1e-300",
                                      "-e", "sum(abs(x - y))", "-e", "x"], directory: folder)
        XCTAssertEqual(check.status, 0, check.standardError)
        XCTAssert(check.standardOutput.hasPrefix("0\n"), check.standardOutput)
        XCTAssert(check.standardOutput.contains("(shape (200000); min "), check.standardOutput)
    }

    /// Issue 16, defect 3: `--json` on a 10M-element leaf peaked at 1.52 GB (the document built
    /// whole, then copied); it is now written to standard output a chunk at a time.
    func testJSONOfA10MElementLeafFitsUnderOneGigabyte() throws {
        let n = 10_000_000
        let script = folder.appendingPathComponent("leaf.graph")
        try "x = randn(\(n), seed=1)\n".write(to: script, atomically: true, encoding: .utf8)
        let result = try run(limit: 1_000_000, ["--json", "leaf.graph"], output: "doc.json")
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.errors, "")
        let document = folder.appendingPathComponent("doc.json")
        // The value and the gradient (ones): n - 1 commas each; the node's eight fields and the "output" line.
        XCTAssertEqual(try occurrences(of: ",", in: document), 2 * (n - 1) + 8)
        let (head, tail) = try ends(of: document)
        XCTAssert(head.hasPrefix("{\n  \"output\": \"x\",\n  \"nodes\": [\n    {\"id\": 0, \"name\": \"x\", \"kind\": \"input\", \"op\": \"const\", \"inputs\": [], \"shape\": [\(n)], \"value\": ["), head)
        XCTAssert(tail.hasSuffix("1.0, 1.0, 1.0]}\n  ]\n}\n"), tail)
        let first = try XCTUnwrap(head.split(separator: "\"value\": [").dropFirst().first?.split(separator: ",").first.flatMap { Double($0) })
        XCTAssertEqual(first, try firstAndLast(ofRandn: n).0)
    }

    /// Issue 16, defect 3: with `:set memory 500MB`, `:grad` over four 12M-element definitions
    /// (384 MB of values) went on to peak at 961 MB: the budget did not cover the reverse pass.
    /// It is refused now, before any gradient is computed, at the command, and the session goes on.
    func testAReversePassPastTheBudgetIsRefusedAtTheCommand() throws {
        let script = """
            :set memory 500MB
            x = randn(12000000, seed=1)
            a = sin(x)
            b = a * x
            c = tanh(b)
            L = sum(c)
            :grad L wrt x

            """
        try script.write(to: folder.appendingPathComponent("grad.graph"), atomically: true, encoding: .utf8)
        let result = try run(limit: 1_000_000, ["grad.graph"])
        XCTAssertEqual(result.status, 1, result.errors)
        XCTAssertEqual(result.errors, """
            grad.graph:7:7: error: the derivative would take 768 MB for its 9 nodes and their values, on top of the graph's 384 MB, more than the memory limit of 500 MB; raise the limit with ':set memory'
                :grad L wrt x
                      ^

            """)
        // The same graph with room for the pass: it runs within the limit.
        let roomy = script.replacingOccurrences(of: "500MB", with: "1200MB")
        try roomy.write(to: folder.appendingPathComponent("roomy.graph"), atomically: true, encoding: .utf8)
        let passed = try run(limit: 2_000_000, ["roomy.graph"])
        XCTAssertEqual(passed.status, 0, passed.errors)
        XCTAssert(try String(contentsOf: folder.appendingPathComponent("out.txt"), encoding: .utf8).hasPrefix("∂L/∂x = ["))
    }
}
