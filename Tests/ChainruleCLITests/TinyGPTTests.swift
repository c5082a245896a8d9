import Foundation
import ChainruleTestSupport
import XCTest

/// `examples/tiny-gpt.graph`: its loss and every leaf's gradient against an independent NumPy
/// implementation (Tests/Oracles/tiny_gpt.py, a hand-written backward pass that checks itself
/// against central differences), and the training it states in its comments.
///
/// The oracle needs a Python with NumPy: `$CHAINRULE_PYTHON`, else `.build-bench-venv/bin/python`
/// (which `scripts/bench` creates), else `python3` on `PATH`. Without one the oracle test is
/// skipped with a message saying so. Run it alone with
/// `swift test --skip-build --filter TinyGPTTests`.
final class TinyGPTTests: FolderTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = root.appendingPathComponent("examples/tiny-gpt.graph")

    /// The leaves whose gradients are compared: every param, the one-hot contexts and the mask.
    static let leaves = ["Wte", "Wpe", "Wq1", "Wk1", "Wv1", "Wq2", "Wk2", "Wv2", "Wo1", "Wo2", "W1", "b1", "W2", "b2", "Wout", "X", "M"]

    func testLossAndEveryGradientMatchNumPy() throws {
        let python = try Self.pythonWithNumPy()
        // The example as it stands before training: its `:train` line left out.
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        let untrained = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(":train") }.joined(separator: "\n")
        XCTAssertNotEqual(untrained, text, "the example has a :train line")
        let script = folder.appendingPathComponent("tiny-gpt.graph")
        try untrained.write(to: script, atomically: true, encoding: .utf8)
        let result = try runChainrule(["--json", "--of", "L", script.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let document = folder.appendingPathComponent("tiny-gpt.json")
        try result.standardOutput.write(to: document, atomically: true, encoding: .utf8)

        let oracle = try Self.run(python, [Self.root.appendingPathComponent("Tests/Oracles/tiny_gpt.py").path, document.path])
        XCTAssertEqual(oracle.status, 0, oracle.standardError)
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(oracle.standardOutput.utf8)) as? [String: Any])
        let grads = try XCTUnwrap(expected["grads"] as? [String: Any])
        let nodes = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])?["nodes"] as? [[String: Any]])
        var named: [String: [String: Any]] = [:]
        for node in nodes { if let name = node["name"] as? String { named[name] = node } }

        let loss = try XCTUnwrap(named["L"]?["value"] as? Double)
        XCTAssertEqual(loss, try XCTUnwrap(expected["L"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(loss, 3.30486, accuracy: 1e-5, "the loss the example states it starts from")
        // The rows of class indices spell the names their comments write.
        let alphabet = Array(".abcdefghijklmnopqrstuvwxyz")
        let rows = try XCTUnwrap(named["names"]?["value"] as? [[Double]])
        XCTAssertEqual(rows.map { String($0.map { alphabet[Int($0)] }) }, Self.names(in: text))
        // The targets are class indices and the names are read by nothing L depends on: no gradient.
        for leaf in ["Y", "names"] { XCTAssertTrue(named[leaf]?["grad"] is NSNull, "∂L/∂\(leaf) is null") }
        for leaf in Self.leaves {
            let ours = Self.flattened(named[leaf]?["grad"])
            let theirs = Self.flattened(grads[leaf])
            XCTAssertEqual(ours.count, theirs.count, "∂L/∂\(leaf) has \(ours.count) elements, NumPy's \(theirs.count)")
            XCTAssertFalse(ours.isEmpty, "∂L/∂\(leaf) is missing")
            // Differences of rounding only: well within 1e-9 of the largest element.
            let scale = theirs.map(abs).max() ?? 0
            XCTAssertGreaterThan(scale, 0, "∂L/∂\(leaf) is all zeros: the oracle would check nothing")
            let worst = zip(ours, theirs).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-9 * scale, "∂L/∂\(leaf) differs from NumPy's by \(worst) (largest element \(scale))")
        }
    }

    /// The example trains for its stated 300 Adam steps from 3.30486 to 0.447743, near its floor
    /// 0.4332 (the entropy of each next character given the characters before it, over the names,
    /// computed here from the names themselves), and its stated reached loss is the one printed.
    func testTrainingReachesTheStatedLoss() throws {
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        XCTAssertTrue(text.contains("L starts at 3.30486"), "the comment states the loss it starts from")
        XCTAssertTrue(text.contains("300 steps of Adam bring it\n# to 0.447743"), "the comment states the loss it reaches")
        let result = try runChainrule([Self.example.path], environment: ["NO_COLOR": "1", "COLUMNS": "100"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let done = try XCTUnwrap(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("done: ") })
        XCTAssertEqual(done, "done: 300 steps; L 3.30486 → 0.447743")
        let names = Self.names(in: text)
        XCTAssertEqual(names.count, 32, "the names the example writes: \(names)")
        XCTAssertTrue(names.allSatisfy { $0.count == 9 }, "each written as 9 characters: \(names)")
        let floor = Self.floor(of: names)
        XCTAssertEqual(floor, 0.4332, accuracy: 5e-5, "the floor the example states")
        let final = try XCTUnwrap(Double(String(try XCTUnwrap(done.split(separator: " ").last))))
        XCTAssertGreaterThan(final, floor)
        XCTAssertLessThan(final, floor + 0.02)
    }

    /// The names written in the example, each as the comment after its row of `names` spells it
    /// (`# .emma....`).
    static func names(in text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard line.contains("],") || line.contains("]]"), let mark = line.range(of: "# .") else { return nil }
            return String(line[line.index(mark.lowerBound, offsetBy: 2)...])
        }
    }

    /// The least mean cross-entropy a model of the next character can reach on `sequences` (each
    /// `.name` padded with `.`), seeing every character before: the entropy of the next character
    /// given the whole prefix, over all positions, in nats.
    static func floor(of sequences: [String]) -> Double {
        var counts: [String: [Character: Int]] = [:]
        var positions = 0
        for sequence in sequences {
            let characters = Array(sequence)
            for t in 0..<(characters.count - 1) {
                counts[String(characters[...t]), default: [:]][characters[t + 1], default: 0] += 1
                positions += 1
            }
        }
        var total = 0.0
        for prefix in counts.keys.sorted() {
            let next = counts[prefix] ?? [:]
            let n = Double(next.values.reduce(0, +))
            for c in next.values { total -= Double(c) * log(Double(c) / n) }
        }
        return total / Double(positions)
    }

    // MARK: Python

    /// The first of the candidates that imports NumPy; the test is skipped, saying so, when none does.
    static func pythonWithNumPy() throws -> [String] {
        var candidates: [[String]] = []
        if let chosen = ProcessInfo.processInfo.environment["CHAINRULE_PYTHON"] { candidates.append([chosen]) }
        candidates.append([root.appendingPathComponent(".build-bench-venv/bin/python").path])
        candidates.append(["/usr/bin/env", "python3"])
        for candidate in candidates {
            guard candidate[0] == "/usr/bin/env" || FileManager.default.isExecutableFile(atPath: candidate[0]) else { continue }
            if (try? run(candidate, ["-c", "import numpy"]))?.status == 0 { return candidate }
        }
        throw XCTSkip("no Python with NumPy (tried $CHAINRULE_PYTHON, .build-bench-venv/bin/python, python3 on PATH): "
                      + "the NumPy oracle of examples/tiny-gpt.graph is not run; `scripts/bench` creates the virtual environment")
    }

    /// Runs `command + arguments` with this process's environment (so `python3` is found on its `PATH`).
    static func run(_ command: [String], _ arguments: [String]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst()) + arguments
        let stdout = Pipe(), stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let (output, errors) = readToEnd(process, stdout, stderr)
        return ProcessResult(status: process.terminationStatus, standardOutput: String(decoding: output, as: UTF8.self),
                             standardError: String(decoding: errors, as: UTF8.self))
    }

    /// The numbers of a JSON value (a number or nested arrays of numbers) in row-major order.
    static func flattened(_ value: Any?) -> [Double] {
        var numbers: [Double] = []
        var pending: [Any] = value.map { [$0] } ?? []
        while let next = pending.popLast() {
            if let array = next as? [Any] { pending.append(contentsOf: array.reversed()) } else if let number = next as? Double { numbers.append(number) }
        }
        return numbers
    }
}
