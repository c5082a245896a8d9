@testable import ChainruleSession
import Foundation
import ChainruleTestSupport
import XCTest

/// `:train … restarts=K` and Ctrl-C during `:train`, on problems whose every number is known by hand.
final class TrainingRestartTests: XCTestCase {
    typealias Switch = InterruptSwitch

    func printed(_ session: Session, _ output: MergedOutput, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let before = output.text.count
        XCTAssertTrue(execute(session, text), output.errors, file: file, line: line)
        return String(output.text.dropFirst(before))
    }

    /// The value of a node now, a param's or a formula's.
    func scalar(_ session: Session, _ name: String) throws -> Double {
        let id = try XCTUnwrap(session.workspace.graph.node(named: name), name)
        return try XCTUnwrap(try session.workspace.value(of: id).scalars.first)
    }

    // MARK: Restarts

    /// `L = (w + b − 3)²` with `w = rand(seed=5)` and `b = 0`, two SGD steps of lr 0.125: each step
    /// moves w and b by −0.25·r (r = w + b − 3), so r halves and the final loss is a sixteenth of
    /// the first; after two steps w = u − 0.375·(u − 3) and b = −0.375·(u − 3). The uniforms u of
    /// seeds 5 … 8 are the README's SplitMix64 (`(next() >> 11)·2⁻⁵³`), computed in Python:
    /// 0.386768045983934, 0.7398170143550824, 0.3898297483912715, 0.6185046250316943; the one
    /// nearest 3 (seed 6, restart 1, not the last trained) ends lowest and is kept. b, defined
    /// without a seed, starts at 0 in every restart: each row's first loss is (u − 3)² alone.
    func testRestartsTableRowsAndTheBestRestartIsKept() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = rand(seed=5); param b = 0; L = (w + b - 3)^2"))
        let text = printed(session, output, ":train L steps=2 lr=0.125 restarts=4")
        XCTAssertEqual(text, """
            training L: 2 steps of sgd, lr = 0.125, on w, b
            restarts: 4, each from the seeds as written + 0 … 3 for w; b starts as defined each time
            restart  seeds  L at step 0  final L   best L    steps  end
            ───────  ─────  ───────────  ────────  ────────  ─────  ────
            0        w 5    6.82898      0.426811  0.426811  2      done
            1        w 6    5.10843      0.319277  0.319277  2      done
            2        w 7    6.81299      0.425812  0.425812  2      done
            3        w 8    5.67152      0.35447   0.35447   2      done
            kept restart 1: the lowest final L (0.319277)

            """)
        let u = 0.7398170143550824
        XCTAssertEqual(try scalar(session, "w"), u - 0.375 * (u - 3), accuracy: 1e-12)
        XCTAssertEqual(try scalar(session, "b"), -0.375 * (u - 3), accuracy: 1e-12)
        XCTAssertEqual(try scalar(session, "L"), (u - 3) * (u - 3) / 16, accuracy: 1e-12)
        // The kept params go on training from where restart 1 ended (one more step: r halves again).
        XCTAssertTrue(execute(session, ":train L steps=1 lr=0.125"), output.errors)
        XCTAssertEqual(try scalar(session, "L"), (u - 3) * (u - 3) / 64, accuracy: 1e-12)
    }

    /// Restarts need a param drawn by a seeded initialiser; a param defined again without one is
    /// not drawn again.
    func testRestartsWithoutASeededParamAreRefused() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = rand(seed=5); param w = 0.5; L = (w - 3)^2"))
        XCTAssertFalse(execute(session, ":train L restarts=3"))
        XCTAssertTrue(output.errors.contains("restarts= draws again the params defined by a seeded initialiser (randn, rand, xavier or he with seed=k), and none of w is"), output.errors)
        XCTAssertEqual(session.workspace.entries["w"]?.value?.scalars, [0.5])
    }

    /// Ctrl-C during restarts: the table ends at the restart it stopped (the last row, and only it,
    /// says "interrupted", or a line says it stopped between two restarts), and the params kept
    /// are those of the lowest final loss in the table. (Before the fix, a Ctrl-C between two
    /// restarts printed a shorter table as though it had been asked for.)
    func testCtrlCDuringRestartsKeepsTheBestRestartSoFar() throws {
        var lastRows: Set<Int> = []
        var inside = 0, between = 0
        for after in 2...24 {
            let (session, output) = makeSession()
            XCTAssertTrue(execute(session, "param w = rand(seed=5); param b = 0; L = (w + b - 3)^2; L"))
            let stop = Switch(after: after)
            session.shouldStop = { stop.ask() }
            let text = printed(session, output, ":train L steps=3 lr=0.125 restarts=6")
            session.shouldStop = { false }
            let lines = text.split(separator: "\n").map(String.init)
            let rows = lines.filter { $0.first?.isNumber == true }.map { $0.split(separator: " ").map(String.init) }
            guard let last = rows.last else { continue }  // stopped before the first restart began
            lastRows.insert(rows.count - 1)
            XCTAssertEqual(rows.map { $0[0] }, (0..<rows.count).map(String.init), text)
            for row in rows.dropLast() { XCTAssertEqual(row.last, "done", text) }
            // Stopped inside a restart's training, or between two restarts: either way it says so.
            if last.last == "interrupted" { inside += 1 }
            if rows.count < 6, last.last != "interrupted" {
                between += 1
                XCTAssertTrue(lines.contains("interrupted before restart \(rows.count): \(rows.count) of 6 restarts ran"), text)
            }
            let finals = rows.map { Double($0[4]) ?? .nan }
            let best = try XCTUnwrap(finals.enumerated().min { $0.element < $1.element })
            XCTAssertTrue(lines.contains("kept restart \(best.offset): the lowest final L (\(rows[best.offset][4]))"), text)
            XCTAssertEqual(try scalar(session, "L"), best.element, accuracy: 1e-5 * best.element, text)
        }
        XCTAssertTrue(lastRows.contains(0) && lastRows.contains(2), "Ctrl-C in the first restart and in a later one: \(lastRows.sorted())")
        XCTAssertGreaterThan(inside, 0, "a Ctrl-C inside a restart's training")
        XCTAssertGreaterThan(between, 0, "a Ctrl-C between two restarts")
    }

    // MARK: Ctrl-C

    /// `L = sum((w − 3)²) + (c − 1)²` with w 70,000 elements from 0 and c from 0, plain SGD with lr 0.1: each step is
    /// w ← w − 0.2·(w − 3), so after n steps every element is 3 − 3·0.8ⁿ. Ctrl-C arrives at every
    /// point of the first steps in turn (the k-th time the work asks whether to stop: between two
    /// steps, inside a forward pass or inside a reverse pass); each time training stops, says how
    /// many steps it finished, and w and c hold exactly the values after that many steps — never
    /// half an update. (Before the fix, a Ctrl-C in step 0 said "the params are as after step -1".)
    func testCtrlCStopsBetweenStepsKeepingTheLastFinishedStep() throws {
        var stoppedAt: Set<Int> = []
        for after in 1...40 {
            let (session, output) = makeSession()
            XCTAssertTrue(execute(session, "param w = zeros(70000); param c = 0; L = sum((w - 3)^2) + (c - 1)^2; L"), "evaluated before, as at the prompt")
            let stop = Switch(after: after)
            session.shouldStop = { stop.ask() }
            let text = printed(session, output, ":train L steps=1000 lr=0.1")
            session.shouldStop = { false }
            let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("interrupted after ") }, text)
            let words = line.split(separator: " ")
            let n = try XCTUnwrap(Int(words[2]), String(line))
            stoppedAt.insert(n)
            let expected = 3 - 3 * pow(0.8, Double(n))
            let w = try XCTUnwrap(session.workspace.entries["w"]?.value?.scalars)
            XCTAssertEqual(w.count, 70000)
            XCTAssertEqual(w.min() ?? .nan, expected, accuracy: 1e-12, "Ctrl-C at call \(after): \(line)")
            XCTAssertEqual(w.max() ?? .nan, expected, accuracy: 1e-12, "Ctrl-C at call \(after): \(line)")
            XCTAssertTrue(line.contains(n == 0 ? "(the params are as they were)" : "(the params are as after step \(n - 1))"), String(line))
            // c ← c − 0.2·(c − 1) from 0: 1 − 0.8ⁿ, updated with w or not at all.
            XCTAssertEqual(try scalar(session, "c"), 1 - pow(0.8, Double(n)), accuracy: 1e-12, "Ctrl-C at call \(after): \(line)")
            // The loss shown is that of the params kept, and the session goes on.
            let loss = 70000 * (expected - 3) * (expected - 3) + pow(0.8, 2 * Double(n))
            XCTAssertEqual(try scalar(session, "L"), loss, accuracy: 1e-9 * max(1, loss))
            XCTAssertTrue(execute(session, "w2 = w * 2"), output.errors)
        }
        XCTAssertEqual(stoppedAt, Set(0...7), "Ctrl-C at every point of steps 0 … 7 (about five questions a step)")
    }
}
