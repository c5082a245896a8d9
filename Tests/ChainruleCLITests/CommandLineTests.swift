import Foundation
import ChainruleTestSupport
import XCTest

/// End-to-end tests of the command line (SPEC §3 and §5), running the built binary.
final class CommandLineTests: FolderTestCase {

    func script(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testScriptsRunInOrderAndPrintValues() throws {
        let a = try script("a.graph", "x = -2; y = 5; z = -4\n")
        let b = try script("b.graph", "f = (x + y) * z\nf\n:grad f\n")
        let result = try runChainrule([a, b])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "-12\n∂f/∂x = -4\n∂f/∂y = -4\n∂f/∂z = 3\n")
        XCTAssertEqual(result.standardError, "")
    }

    func testStatementsFromTheCommandLine() throws {
        let result = try runChainrule(["-e", "x = [1, 2, 3]", "-e", "sum(x ^ 2)"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.standardOutput, "14\n")
        let negative = try runChainrule(["-e", "-3 * 2"])
        XCTAssertEqual(negative.standardOutput, "-6\n", "a statement starting with '-' is not an option")
        // The argument of -e is a statement however many minus signs it starts with.
        let minuses = try runChainrule(["-e", "---1", "-e", "--2", "-e", "-x"])
        XCTAssertEqual(minuses.standardOutput, "-1\n2\n")
        XCTAssertEqual(minuses.status, 1)
        XCTAssert(minuses.standardError.hasPrefix("<-e 3>:1:2: error: undefined name 'x'"), minuses.standardError)
        let afterSeparator = try runChainrule(["--", "-e"])
        XCTAssertEqual(afterSeparator.status, 1, "after '--' a word is a file, even '-e'")
    }

    func testPipedStandardInputIsAScriptWithoutPrompts() throws {
        let result = try runChainrule([], input: "x = 3\ny = x * x\n:grad y\ny\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "∂y/∂x = 6\n9\n")
        XCTAssertFalse(result.standardOutput.contains("chainrule>"))
        XCTAssertFalse(result.standardOutput.contains("\u{1B}["), "no escape codes off a terminal")
    }

    func testErrorsExitWithOneAndStopTheScript() throws {
        let path = try script("bad.graph", "x = 1\ny = x +\n  q\nx\n")
        let result = try runChainrule([path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.standardOutput, "", "the first error stops the script")
        XCTAssertEqual(result.standardError, "\(path):3:3: error: undefined name 'q'\n      q\n      ^\n")
        let stdin = try runChainrule([], input: "1 +* 2\n")
        XCTAssertEqual(stdin.status, 1)
        XCTAssertTrue(stdin.standardError.hasPrefix("<stdin>:1:4: error:"), stdin.standardError)
        let missing = try runChainrule([folder.appendingPathComponent("missing.graph").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.standardError.contains("No such file or directory"))
    }

    func testBadUsageExitsWithTwo() throws {
        for arguments in [["--bogus"], ["--of", "L"], ["-e"], ["--json", "-i"], ["--json", "--of", "x", "--of", "y", "-e", "x = 1"]] {
            let result = try runChainrule(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.standardError)")
            XCTAssertFalse(result.standardError.isEmpty)
        }
        XCTAssertTrue(try runChainrule(["--json", "--of", "x", "--of", "y", "-e", "x = 1"]).standardError
            .contains("--of is given more than once"))
    }

    func testHelpAndVersion() throws {
        let help = try runChainrule(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.standardOutput.contains("--json"))
        XCTAssertTrue(help.standardOutput.contains("-e"))
        let version = try runChainrule(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.standardOutput.hasPrefix("chainrule "))
    }

    func testJSONDefaultsToTheLastBackwardTarget() throws {
        let path = try script("net.graph", """
            input x = [1, 2]
            param W = [[0.5, -1], [1.5, 2]]
            h = relu(W @ x)
            L = sum(h * h)
            :backward L
            other = x * 3
            """)
        let result = try runChainrule(["--json", path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(object["output"] as? String, "L", "the last :backward wins over the last definition")
        let nodes = try XCTUnwrap(object["nodes"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: nodes.compactMap { n in (n["name"] as? String).map { ($0, n) } })
        XCTAssertEqual(byName["W"]?["kind"] as? String, "param")
        XCTAssertEqual(byName["h"]?["value"] as? [Double], [0, 5.5])
        // ∂L/∂W = 2·h ⊙ relu'(Wx) xᵀ = [[0, 0], [11, 22]].
        XCTAssertEqual(byName["W"]?["grad"] as? [[Double]], [[0, 0], [11, 22]])
        XCTAssertTrue(byName["other"]?["grad"] is NSNull)
        XCTAssertEqual(Set(nodes.map { $0["id"] as? Int }).count, nodes.count)

        let of = try runChainrule(["--json", "--of", "h", path])
        XCTAssertEqual(of.status, 0, of.standardError)
        XCTAssertTrue(of.standardOutput.contains("\"output\": \"h\""))
        let last = try runChainrule(["--json", "-e", "x = 2; y = x * x"])
        XCTAssertTrue(last.standardOutput.contains("\"output\": \"y\""))
        XCTAssertTrue(last.standardOutput.contains("{\"id\": 0, \"name\": \"x\", \"kind\": \"input\", \"op\": \"const\", \"inputs\": [], \"shape\": [], \"value\": 2.0, \"grad\": 4.0}"), last.standardOutput)
    }

    func testJSONPrintsNothingOnError() throws {
        let path = try script("bad.graph", "x = 1\n")
        for arguments in [["--json", "--of", "nope", path], ["--json", "-e", "y = q"]] {
            let result = try runChainrule(arguments)
            XCTAssertEqual(result.status, 1)
            XCTAssertEqual(result.standardOutput, "")
            XCTAssertTrue(result.standardError.contains("error:"))
        }
    }

    /// With --json, values and command results are not printed: standard output is the document alone.
    func testJSONIsQuiet() throws {
        let result = try runChainrule(["--json", "-e", "x = 2; x * 10; :grad x"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardError, "")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
                                   "only the JSON document is printed: \(result.standardOutput)")
        XCTAssertEqual(object["output"] as? String, "x")
        XCTAssertTrue(result.standardOutput.hasPrefix("{\n  \"output\": \"x\","), result.standardOutput)
        XCTAssertFalse(result.standardOutput.contains("20"), "the value of x * 10 was printed")
        XCTAssertFalse(result.standardOutput.contains("∂"), "the result of :grad was printed")
    }

    func testScriptThenPromptWithPipedInput() throws {
        let path = try script("s.graph", "x = 5\n")
        let result = try runChainrule(["-i", path], input: "x * 2\n")
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "10\n")
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every example runs with status 0 and prints exactly its golden file `examples/expected/NAME.out`:
    /// what `chainrule --echo examples/NAME.graph` prints from the repository's root with `NO_COLOR=1
    /// COLUMNS=100`, standard output first, then standard error (if any) after a marker line, with
    /// `:compare`'s wall-clock times written `<time>`. An example without a golden file fails, and so
    /// does a golden file without an example. Re-record with `scripts/record-examples` (or by running
    /// this test with `CHAINRULE_RECORD=1`, which rewrites the files and then fails: it checked nothing).
    func testEveryExampleMatchesItsGoldenOutput() throws {
        let examples = Self.root.appendingPathComponent("examples")
        let expected = examples.appendingPathComponent("expected")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".graph") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 16)
        let record = ProcessInfo.processInfo.environment["CHAINRULE_RECORD"] != nil
        for file in files {
            let name = String(file.dropLast(".graph".count))
            let result = try runChainrule(["--echo", "examples/\(file)"], environment: ["NO_COLOR": "1", "COLUMNS": "100"], directory: Self.root)
            XCTAssertEqual(result.status, 0, "\(file): \(result.standardError)")
            let actual = Self.golden(result)
            let golden = expected.appendingPathComponent("\(name).out")
            if record {
                try FileManager.default.createDirectory(at: expected, withIntermediateDirectories: true)
                try actual.write(to: golden, atomically: true, encoding: .utf8)
                XCTFail("recorded examples/expected/\(name).out; re-run without CHAINRULE_RECORD to check it")
                continue
            }
            guard FileManager.default.fileExists(atPath: golden.path) else {
                XCTFail("examples/\(file) has no golden output examples/expected/\(name).out (scripts/record-examples writes it)")
                continue
            }
            let text = try String(contentsOf: golden, encoding: .utf8)
            if actual != text {
                XCTFail("examples/\(file) differs from examples/expected/\(name).out at " + Self.firstDifference(actual, text))
            }
        }
        let outputs = (try? FileManager.default.contentsOfDirectory(atPath: expected.path)) ?? []
        for output in outputs.sorted() where !files.contains(output.replacingOccurrences(of: ".out", with: ".graph")) {
            XCTFail("examples/expected/\(output) is the output of no example")
        }
    }

    /// The lecture runs whole in the presenter (Enter for every statement, through a pipe) and as a handout page.
    func testTheLectureRunsPresentedAndAsAPage() throws {
        let lecture = "examples/lecture2.graph"
        let presented = try runChainrule(["--present", lecture], input: String(repeating: "\n", count: 2000),
                                         environment: ["NO_COLOR": "1", "COLUMNS": "100"], directory: Self.root)
        XCTAssertEqual(presented.status, 0, presented.standardError)
        XCTAssertEqual(presented.standardError, "")
        XCTAssertTrue(presented.standardOutput.hasPrefix("presenting \(lecture): "), String(presented.standardOutput.prefix(200)))
        let page = folder.appendingPathComponent("lecture2.html")
        let handout = try runChainrule(["--html", page.path, lecture], directory: Self.root)
        XCTAssertEqual(handout.status, 0, handout.standardError)
        XCTAssertEqual(handout.standardError, "")
        XCTAssertTrue(try String(contentsOf: page, encoding: .utf8).hasPrefix("<!DOCTYPE html>\n"))
    }

    /// The text a golden file holds for a run (see `testEveryExampleMatchesItsGoldenOutput`).
    static func golden(_ result: ProcessResult) -> String {
        let text = result.standardError.isEmpty ? result.standardOutput
            : result.standardOutput + "--- standard error ---\n" + result.standardError
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("method ") {
                return line.replacingOccurrences(of: #"time +max"#, with: "time    max", options: .regularExpression)
            }
            guard line.hasPrefix("reverse ") || line.hasPrefix("forward ") || line.hasPrefix("fd ") else { return String(line) }
            return line.replacingOccurrences(of: #"\d+ (µs|ms|s) +"#, with: "<time>  ", options: .regularExpression)
        }.joined(separator: "\n")
    }

    /// The first line where two texts differ, both versions shown.
    static func firstDifference(_ actual: String, _ expected: String) -> String {
        let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
        for index in 0..<max(a.count, e.count) where index >= a.count || index >= e.count || a[index] != e[index] {
            let got = index < a.count ? a[index] : "(end of output)", want = index < e.count ? e[index] : "(end of file)"
            return "line \(index + 1):\n  actual:   \(got)\n  expected: \(want)"
        }
        return "no line (the texts differ in their last newline)"
    }

    /// The learning examples: xor.graph trains its 2-2-1 MLP below 1e-3 with the four predictions
    /// rounding to XOR, xor-stuck.graph stays at log 2 with dead units, and their outputs are
    /// the golden files every example is checked against (`testEveryExampleMatchesItsGoldenOutput`).
    func testLearningExamples() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let xor = try runChainrule([examples.appendingPathComponent("xor.graph").path]).standardOutput.split(separator: "\n")
        let loss = try XCTUnwrap(Double(String(try XCTUnwrap(xor.last))))
        XCTAssertLessThan(loss, 1e-3)
        let predictions = String(xor[xor.count - 2]).dropFirst().dropLast().split(separator: ", ").compactMap { Double(String($0)) }
        XCTAssertEqual(predictions.map { $0.rounded() }, [0, 1, 1, 0])
        let stuck = try runChainrule([examples.appendingPathComponent("xor-stuck.graph").path]).standardOutput
        XCTAssertTrue(stuck.contains("done: 500 steps; L 0.704355 → 0.693147"), stuck)
        XCTAssertTrue(stuck.contains("[0.5, 0.5, 0.5, 0.5]"), stuck)
    }

    /// A deep graph given through standard input: 100,000 statements, each one node deeper.
    func testDeepChainThroughTheBinary() throws {
        var text = "x0 = 1\n"
        for i in 1...100_000 { text += "x\(i) = x\(i - 1) * 1.00001\n" }
        text += ":grad x100000 wrt x0\n"
        let result = try runChainrule([], input: text)
        XCTAssertEqual(result.status, 0, String(result.standardError.prefix(500)))
        // 1.00001^100000 = e^(100000·log 1.00001) ≈ 2.71827
        XCTAssertEqual(result.standardOutput, "∂x100000/∂x0 = 2.71827\n")
    }
}
