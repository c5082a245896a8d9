@testable import ChainruleCore
import Foundation
import XCTest

/// Limits that keep hostile input from crashing or exhausting the machine: tensor rank,
/// sizes, printing without recursion, and bounded "did you mean" work.
final class LimitTests: XCTestCase {
    func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        var workspace = Workspace()
        let source = Source(name: "t.graph", text: text)
        let (statements, diagnostics) = Parser.parse(source)
        XCTAssertEqual(diagnostics.map(\.message), [], file: file, line: line)
        do {
            for case .definition(let d) in statements { try workspace.define(d, in: source) }
            XCTFail("accepted", file: file, line: line)
            return ""
        } catch {
            return "\(error.span?.location.lineAndColumn ?? "?"): \(error.message)"
        }
    }

    /// `grad()` in a formula may not grow the graph past a budget of nodes (nested grads
    /// multiply it): the reverse pass refuses, checking as it goes, and nothing is left behind.
    func testTheReversePassStopsAtItsBudgetOfNodes() throws {
        var script = try Script("param x = 0.3\n" + (1...2000).map { "h\($0) = tanh(\($0 == 1 ? "x" : "h\($0 - 1)") * 1.1)" }.joined(separator: "\n"))
        let graph = script.workspace.graph
        guard let output = graph.node(named: "h2000"), let x = graph.node(named: "x") else { return XCTFail("no nodes") }
        func emit(budget: Int) throws(EvaluationError) -> Int {
            var emitter = Emitter(graph: graph)
            let seed = emitter.scalar(1)
            return try ReverseMode.emit(into: &emitter, base: graph.count, output: output, seed: seed, wrt: [x],
                                        maximumCount: budget, shouldStop: { false }).graph.count
        }
        XCTAssertGreaterThan(try emit(budget: .max), graph.count + 4000)
        do {
            _ = try emit(budget: graph.count + 1000)
            XCTFail("the pass went past its budget")
        } catch {
            guard case .failed(let diagnostic) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(diagnostic.message, "the derivative would take more than \(graph.count + 1000) nodes")
        }
        // grad() in a formula, well within Limits.gradNodes, is built as before.
        let before = script.workspace.graph.count
        try script.run("g = grad(h2000, x)")
        XCTAssertGreaterThan(script.workspace.graph.count, before)
    }

    func testRankIsLimitedToThirtyTwoAxes() throws {
        let sizes = { (n: Int) in Array(repeating: "1", count: n).joined(separator: ", ") }
        for name in ["ones", "zeros", "randn", "rand"] {
            XCTAssertEqual(refusal("x = \(name)(\(sizes(50_000)))"), "1:5: \(name) of 50000 sizes would have more than 32 axes")
            var script = try Script("x = \(name)(\(sizes(32)))")
            XCTAssertEqual(try script.value("x").shape.count, 32)
        }
        XCTAssertEqual(refusal("x = " + String(repeating: "[", count: 33) + "1" + String(repeating: "]", count: 33)),
                       "1:5: the result would have 33 axes, more than the limit of 32")
        // A result (not a creation) past the limit: a list of rank-32 tensors.
        XCTAssertEqual(refusal("y = ones(\(sizes(32)))\nx = [y, y]"), "2:5: the result would have 33 axes, more than the limit of 32")
    }

    /// Both orders of a zero and a huge size are refused alike (one used to be accepted).
    func testHugeSizesAreRefusedWhateverTheOtherSizes() {
        XCTAssertEqual(refusal("x = zeros(0, 999999999999999)"), "1:14: a size must be at most 50000000, got 999999999999999")
        XCTAssertEqual(refusal("x = zeros(999999999999999, 0)"), "1:11: a size must be at most 50000000, got 999999999999999")
        XCTAssertNil(Limits.product([0, 999_999_999_999_999], limit: Limits.elements))
        XCTAssertEqual(Limits.product([0, 50_000_000], limit: Limits.elements), 0)
    }

    /// Printing walks the brackets with a loop, and agrees with a recursive oracle.
    func testNestedTextMatchesARecursiveOracle() {
        func oracle(_ t: Tensor) -> String {
            if t.isScalar { return "\(t.scalars[0])" }
            var offset = 0
            func emit(_ axis: Int) -> String {
                if axis == t.rank - 1 {
                    defer { offset += t.shape[axis] }
                    return "[" + t.scalars[offset..<(offset + t.shape[axis])].map { "\($0)" }.joined(separator: ", ") + "]"
                }
                return "[" + (0..<t.shape[axis]).map { _ in emit(axis + 1) }.joined(separator: "; ") + "]"
            }
            return emit(0)
        }
        let shapes: [[Int]] = [[], [0], [3], [2, 3], [2, 0, 3], [0, 2], [2, 3, 0], [1, 1, 1, 1], [3, 1, 2, 2], [2, 2, 2, 2, 2]]
        for shape in shapes {
            let count = shape.reduce(1, *)
            let t = Tensor(shape: shape, scalars: (0..<count).map(Double.init))
            XCTAssertEqual(t.nestedText({ "\($0)" }, gap: { _ in "; " }), oracle(t), "\(shape)")
        }
        let deep = Tensor(shape: Array(repeating: 1, count: 100_000), scalars: [7])
        let text = deep.nestedText { _ in "7" }
        XCTAssertEqual(text, String(repeating: "[", count: 100_000) + "7" + String(repeating: "]", count: 100_000))
    }

    /// The banded distance agrees with a full Levenshtein table (with transpositions) within
    /// its bound, and says nil beyond it.
    func testBandedDistanceMatchesTheFullTable() {
        func full(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
            var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in 0...a.count { d[i][0] = i }
            for j in 0...b.count { d[0][j] = j }
            for i in stride(from: 1, through: a.count, by: 1) {
                for j in stride(from: 1, through: b.count, by: 1) {
                    d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
                }
            }
            return d[a.count][b.count]
        }
        var state: UInt64 = 12345
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let letters = Array("abc".unicodeScalars)
        for _ in 0..<3000 {
            let a = (0..<next(9)).map { _ in letters[next(3)] }
            let b = (0..<next(9)).map { _ in letters[next(3)] }
            let bound = next(5)
            let exact = full(a, b)
            XCTAssertEqual(Suggestions.distance(a, b, atMost: bound), exact <= bound ? exact : nil, "\(a) \(b) \(bound)")
        }
    }

    /// A 60,000-letter undefined name (15 s before) answers at once, suggestions and all.
    func testDidYouMeanOnAVeryLongNameIsQuick() throws {
        let long = String(repeating: "a", count: 60_000)
        var script = try Script("\(long) = 1\n\(long)b = 2\nlearning_rate = 3")
        XCTAssertThrowsError(try script.run("y = \(long)c + 1")) { error in
            XCTAssertEqual((error as? Diagnostic)?.message.hasPrefix("undefined name '\(long)c'"), true)
        }
        XCTAssertEqual(Suggestions.close(to: "learn", among: ["learning_rate"]), ["learning_rate"])
        XCTAssertEqual(Suggestions.close(to: "lerning_rate", among: ["learning_rate", "x"]), ["learning_rate"])
    }
}
