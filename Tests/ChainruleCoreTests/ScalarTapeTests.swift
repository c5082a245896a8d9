@testable import ChainruleCore
import Foundation
import XCTest

/// The reverse pass for numbers only (``ScalarTape``) against the reverse graph it stands for:
/// the same rules emit the same nodes to both, so every gradient and every edge's contribution
/// must be the same number, bit for bit, over a corpus of scalar graphs.
final class ScalarTapeTests: XCTestCase {
    /// Scalar scripts that reach every op family's scalar rules, folding and fan-out.
    static let scripts: [String] = {
        let unary = ["relu(x)", "leaky_relu(x)", "leaky_relu(x, a=y)", "elu(x)", "elu(x, a=y)", "gelu(x)", "sigmoid(x)",
                     "tanh(x)", "softplus(x)", "linear(x)", "exp(x)", "log(y)", "sqrt(y)", "abs(x)", "sin(x)", "cos(x)",
                     "step(x)", "sign(x)", "max(0, x)", "min(x, 0.1)", "max(x, y)", "min(x, y)", "-x", "-(-x)", "sum(x)",
                     "mean(x)", "max(x)"]
        let binary = ["x + y", "x - y", "x * y", "x / y", "x ^ 2", "x ^ 0", "x ^ 1", "x ^ -1", "y ^ 0.5", "y ^ x",
                      "x ^ y", "x * x", "x / x", "x - x", "x * 1 + 0", "0 * x", "2 * x * 3", "(x + 1) * (x + 1)"]
        var scripts: [String] = []
        for (k, f) in (unary + binary).enumerated() {
            for (x, y) in [(-1.3, 0.7), (0.0, 2.0), (0.4, 0.0), (2.5, -1.5)] {
                scripts.append("x = \(x)\ny = \(y)\nu = \(f)\nL = u * u + tanh(u) * x + \(Double(k) * 0.1)")
            }
        }
        scripts.append("""
            param w1 = 0.5
            param w2 = -0.3
            param b = 0.1
            input a = 1.5
            input c = -2.0
            h1 = relu(w1 * a + w2 * c + b)
            h2 = sigmoid(w1 * h1 - w2 * a)
            h3 = tanh(h1 * h2 + b)
            L = (h3 - 1)^2 + (h2 - h1)^2 + w1 * w1
            """)
        scripts.append("""
            w = 0.9
            h0 = 0.5
            h1 = tanh(w*h0 + 0.01)
            h2 = tanh(w*h1 + 0.01)
            h3 = tanh(w*h2 + 0.01)
            h4 = tanh(w*h3 + 0.01)
            L = h4 * h1 + h2 / h3
            """)
        return scripts
    }()

    /// The scripts of the examples and of the fuzzing corpus, as further graphs (their scalar nodes).
    static func corpusFiles() -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var texts: [String] = []
        for folder in ["examples", "Tests/FuzzCorpus"] {
            let url = root.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".graph") {
                if let text = try? String(contentsOf: url.appendingPathComponent(name), encoding: .utf8) { texts.append(text) }
            }
        }
        return texts
    }

    /// A workspace of every definition of `text` that can be defined (commands and errors skipped).
    func workspace(_ text: String) -> Workspace {
        var workspace = Workspace()
        let source = Source(name: "corpus.graph", text: text)
        let (statements, _) = Parser.parse(source)
        for case .definition(let definition) in statements {
            _ = try? workspace.define(definition, in: source)
        }
        return workspace
    }

    /// Compares both passes from every scalar named node of `workspace`; returns how many used a tape.
    func compareModes(in workspace: inout Workspace, label: String) throws -> Int {
        var taped = 0
        for name in workspace.names.prefix(40) {
            guard let output = workspace.graph.node(named: name), workspace.graph[output].isScalar,
                  (try? workspace.value(of: output)) != nil else { continue }
            let graph = workspace.graph
            let reverse: ReverseGraph
            do { reverse = try ReverseMode.build(graph, output: output) } catch { continue }
            let numbers = try ReverseMode.buildNumbers(graph, output: output, edges: true)
            guard let tape = numbers.tape else { continue }
            taped += 1
            let forward = workspace.evaluation
            let values = try reverse.evaluate(forward: forward)
            let tapeValues = try tape.evaluate(forward: forward)
            let expected = reverse.gradients(values, contributions: false)
            let actual = numbers.gradients(forward: forward, tape: tapeValues)
            XCTAssertGreaterThanOrEqual(tape.count, reverse.graph.count - reverse.base, "\(label) \(name): nodes")
            for id in 0..<reverse.base {
                let e = expected[id], a = actual[id]
                XCTAssertEqual(e == nil, a == nil, "\(label) ∂\(name)/∂node \(id): whether there is a gradient")
                if let e, let a {
                    XCTAssertEqual(a.shape, e.shape, "\(label) ∂\(name)/∂node \(id)")
                    XCTAssertEqual(a.scalars.map(\.bitPattern), e.scalars.map(\.bitPattern),
                                   "\(label) ∂\(name)/∂node \(id): \(a.scalars) against the graph's \(e.scalars)")
                }
            }
            // Edge by edge: the same walk, so the same contributions in the same order.
            XCTAssertEqual(numbers.cotangents.count, reverse.cotangents.count, "\(label) \(name): edges")
            for (k, (c, t)) in zip(reverse.cotangents, numbers.cotangents).enumerated() {
                XCTAssertEqual(c < 0, t < 0, "\(label) \(name): edge \(k) has a contribution in one pass only")
                guard c >= 0, t >= 0 else { continue }
                let graphValue = values[Int(c)]?.scalars.first
                let tapeValue = Int(t) >= tape.base ? tapeValues[Int(t) - tape.base] : forward[Int(t)]?.scalars.first
                XCTAssertEqual(graphValue?.bitPattern, tapeValue?.bitPattern,
                               "\(label) \(name): edge \(k), \(String(describing: tapeValue)) against the graph's \(String(describing: graphValue))")
            }
        }
        return taped
    }

    func testTheTapeGivesTheReverseGraphsNumbersBitForBit() throws {
        var taped = 0
        for (k, text) in Self.scripts.enumerated() {
            var workspace = workspace(text)
            taped += try compareModes(in: &workspace, label: "script \(k):")
        }
        XCTAssertGreaterThan(taped, 4 * Self.scripts.count, "most outputs of the scalar scripts are taped")
    }

    func testTheTapeGivesTheReverseGraphsNumbersOverTheExamplesAndTheFuzzingCorpus() throws {
        let files = Self.corpusFiles()
        XCTAssertGreaterThan(files.count, 20, "the corpus is found")
        var taped = 0
        for (k, text) in files.enumerated() {
            var workspace = workspace(text)
            taped += try compareModes(in: &workspace, label: "file \(k):")
        }
        XCTAssertGreaterThan(taped, 50, "the corpus has scalar graphs to tape")
    }

    /// A graph with a tensor in it, a seeded pass or :backward's contributions take the graph.
    func testTheGraphIsUsedWhereATapeCannotBe() throws {
        var tensor = workspace("v = [1.0, 2.0]\nL = sum(v * v)")
        let out = try XCTUnwrap(tensor.graph.node(named: "L"))
        XCTAssertNil(try ReverseMode.buildNumbers(tensor.graph, output: out).tape)
        let g = try tensor.gradients(of: out)
        XCTAssertEqual(g[try XCTUnwrap(tensor.graph.node(named: "v"))]?.scalars, [2, 4])

        var scalar = workspace("x = 3.0\nL = x * x")
        let L = try XCTUnwrap(scalar.graph.node(named: "L")), x = try XCTUnwrap(scalar.graph.node(named: "x"))
        XCTAssertNotNil(try ReverseMode.buildNumbers(scalar.graph, output: L).tape)
        XCTAssertEqual(try scalar.gradients(of: L)[x]?.scalars, [6])
        let recorded = try scalar.gradients(of: L, recordContributions: true)
        XCTAssertEqual(recorded[x]?.scalars, [6])
        XCTAssertEqual(recorded.contributions.count, 2, "both edges into x are listed")
    }

    /// Past the memory limit, the pass for numbers refuses as the graph's does, with its message.
    func testATapePastTheMemoryLimitIsRefusedAsTheGraphIs() throws {
        var text = "w = 0.9\nh0 = 0.5\n"
        for i in 1...300 { text += "h\(i) = tanh(w*h\(i - 1) + 0.01)\n" }
        var refused = workspace(text)
        let out = try XCTUnwrap(refused.graph.node(named: "h300"))
        refused.memoryLimit = refused.storedBytes + 100 * Workspace.nodeBytes
        var messages: [String] = []
        for record in [false, true] {
            do {
                _ = try refused.gradients(of: out, recordContributions: record)
                XCTFail("the derivative fits in \(refused.memoryLimit) bytes")
            } catch {
                messages.append(Workspace.diagnostic(error, at: nil).message)
            }
        }
        XCTAssertEqual(messages[0], messages[1])
        XCTAssertTrue(messages[0].contains("memory limit"), messages[0])
    }
}
