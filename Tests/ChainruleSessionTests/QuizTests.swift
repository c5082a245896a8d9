import ChainruleCore
@testable import ChainruleSession
import XCTest

/// `:quiz` in scripts: the next line is the answer; the seed chooses the quantity reproducibly.
final class QuizTests: XCTestCase {
    static let graph = "x = [1, 2]\nW = [[1, -1], [2, 0.5]]\nz = W @ x\nh = relu(z)\nL = sum(h * h)\n"

    /// The question a seed asks, in a fresh session.
    func question(seed: Int) -> String {
        let (session, output) = makeSession()
        execute(session, Self.graph + ":quiz seed=\(seed)\n\n")
        return String(output.text.split(separator: "\n").first ?? "")
    }

    func testTheSeedChoosesReproduciblyAndSeedsDiffer() {
        let questions = (0..<12).map { question(seed: $0) }
        XCTAssertEqual(questions, (0..<12).map { question(seed: $0) }, "the same seed asks the same question")
        XCTAssertGreaterThanOrEqual(Set(questions).count, 5, "seeds spread over the quantities: \(questions)")
        for kind in ["the value of", "the local Jacobian", "the gradient"] {
            XCTAssertTrue(questions.contains { $0.contains(kind) }, "some seed asks \(kind): \(questions)")
        }
        // Without a seed, the n-th quiz of a session uses seed n.
        let (session, output) = makeSession()
        execute(session, Self.graph + ":quiz\n\n:quiz\n\n")
        let asked = output.text.split(separator: "\n").filter { $0.hasPrefix("quiz:") }.map(String.init)
        XCTAssertEqual(asked, [question(seed: 0), question(seed: 1)])
    }

    func testTheNextLineIsTheAnswerAndIsNotRun() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, Self.graph + ":quiz z seed=0\n[-1, 3]   # z's value\nz + 1\n"), output.errors)
        XCTAssertTrue(output.text.contains("answer: [-1, 3]   # z's value\nright: z = [-1, 3]"), output.text)
        XCTAssertTrue(output.text.hasSuffix("[0, 4]\n"), "the statement after the answer runs")
        XCTAssertFalse(output.text.contains("\n[-1, 3]\n"), "the answer line is not evaluated as a statement")
        XCTAssertFalse(session.awaitsAnswer)
    }

    func testAQuizWithNoAnswerLineIsRevealed() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, Self.graph + ":quiz h seed=3"), output.errors)
        XCTAssertTrue(output.text.contains("no answer follows :quiz here, so it is revealed\nthe answer: h = [0, 3]"), output.text)
        XCTAssertFalse(session.awaitsAnswer)
    }

    func testAnUnreadableAnswerInAScriptIsAnErrorThatStopsIt() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, Self.graph + ":quiz seed=1\nx\nafter = 1\n", name: "q.graph"))
        XCTAssertTrue(output.errors.contains("q.graph:7:1: error: expected a number or a tensor literal"), output.errors)
        XCTAssertNil(session.workspace.graph.node(named: "after"))
    }

    /// A quantity that is not finite (the log of 0 and its derivative) is never asked.
    func testNonFiniteQuantitiesAreNeverChosen() {
        let graph = "a = 0\nb = log(a)\nc = a * 3 + 1\n"
        for seed in 0..<20 {
            let (session, output) = makeSession()
            XCTAssertTrue(execute(session, graph + ":quiz seed=\(seed)\n\n"), output.errors)
            let answer = output.text.split(separator: "\n").first { $0.hasPrefix("the answer:") }.map(String.init) ?? ""
            XCTAssertFalse(answer.isEmpty || answer.contains("inf") || answer.contains("nan"), "seed \(seed): \(output.text)")
        }
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, graph + ":quiz b\n"))
        XCTAssertTrue(output.errors.contains("there is nothing about b to quiz"), output.errors)
    }

    /// Odd answers never crash: huge, non-finite, nested too deep, empty brackets, text.
    func testOddAnswersAreWrongOrRefusedNeverACrash() {
        for answer in ["1e999", "[[[[[[1]]]]]]", "[]", "[1, [2]]", "abs(0/0)", "-", "\"s\"", String(repeating: "[", count: 5000)] {
            let (session, output) = makeSession()
            execute(session, Self.graph + ":quiz z seed=0\n\(answer)\n")
            XCTAssertFalse(session.awaitsAnswer)
            // An answer that does not parse is the script's syntax error, reported before anything runs.
            XCTAssertTrue(output.text.contains("the answer: z = [-1, 3]") || output.errors.contains("<stdin>:7:"),
                          "\(answer.prefix(20)): \(output.text) \(output.errors)")
        }
    }
}
