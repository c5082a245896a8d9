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

    /// Every example script in the repository runs cleanly.
    func testExamplesRun() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".graph") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 8)
        for file in files {
            let result = try runChainrule([examples.appendingPathComponent(file).path])
            XCTAssertEqual(result.status, 0, "\(file): \(result.standardError)")
            XCTAssertEqual(result.standardError, "", file)
        }
        let xor = try runChainrule([examples.appendingPathComponent("xor.graph").path])
        XCTAssertTrue(xor.standardOutput.hasSuffix("[0.000262172, 0.999864, 0.999864, 0.000268697]\n0.000200808\n"), xor.standardOutput)
    }

    /// The learning examples: xor.graph trains its 2-2-1 MLP below 1e-3 with the four predictions
    /// rounding to XOR, xor-stuck.graph stays at log 2 with dead units, and xor-restarts.graph's
    /// table is as recorded (examples/expected, with NO_COLOR=1 COLUMNS=100).
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
        for name in ["xor", "xor-stuck", "xor-restarts"] {
            let run = try runChainrule([examples.appendingPathComponent("\(name).graph").path], environment: ["NO_COLOR": "1", "COLUMNS": "100"])
            let expected = try String(contentsOf: examples.appendingPathComponent("expected/\(name).out"), encoding: .utf8)
            XCTAssertEqual(run.standardOutput + run.standardError, expected, name)
        }
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
