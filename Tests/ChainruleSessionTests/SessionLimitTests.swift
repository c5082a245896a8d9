import ChainruleCore
@testable import ChainruleSession
import Foundation
import XCTest

/// Hostile input at the session level: no trap, no unbounded output or memory, and
/// Ctrl-C (a `shouldStop` that turns true) stops every long loop promptly.
final class SessionLimitTests: XCTestCase {
    /// The loss range overflows (1e308 − (−1e308) is infinite): the curve is still drawn.
    func testTrainingWithALossRangeThatOverflows() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param p = 1\nL = p * 1e308\n:train L steps=1 lr=2e-308"), output.errors)
        XCTAssertEqual(output.text, """
            training L: 1 step of gradient descent, lr = 2e-308, on p
            done: 1 step; L 1e+308 → -1e+308
             1e+308 ┤█
                    ┤█
                    ┤█
                    ┤█
                    ┤█
                    ┤█
                    ┤█
            -1e+308 ┤█▁
                    └── step 0 … 1

            """)
    }
}

/// Ctrl-C inside the loops of commands: one reverse pass per Jacobian row, two forward
/// passes per finite difference, and `:load`s that fan out.
final class SessionInterruptTests: XCTestCase {
    final class Switch: @unchecked Sendable {
        let lock = NSLock()
        var calls = 0
        let after: Int
        init(after: Int) { self.after = after }
        func ask() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            calls += 1
            return calls >= after
        }
    }

    func interrupted(_ setup: String, _ command: String, after: Int = 50) -> (String, Int) {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, setup), output.errors)
        let stop = Switch(after: after)
        session.shouldStop = { stop.ask() }
        XCTAssertFalse(execute(session, command))
        return (output.errors, stop.calls)
    }

    func testJacobianStops() {
        let (errors, calls) = interrupted("keep = 1; x = 1; y = ones(200000) * x", ":jacobian y x")
        XCTAssertEqual(errors, "<stdin>:1:11: error: interrupted\n    :jacobian y x\n              ^\n")
        XCTAssertEqual(calls, 50)
    }

    func testCheckStops() {
        let (errors, calls) = interrupted("keep = 1; x = ones(30000); L = sum(x * x)", ":check L")
        XCTAssertEqual(errors, "<stdin>:1:8: error: interrupted\n    :check L\n           ^\n")
        XCTAssertEqual(calls, 50)
    }

    func testLoadsAreBoundedInDepthAndNumber() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-loads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // f0 loads f1 twice, f1 loads f2 twice, …: 2^20 loads without a bound.
        for k in 0..<20 {
            try ":load f\(k + 1).graph\n:load f\(k + 1).graph\n".write(to: folder.appendingPathComponent("f\(k).graph"), atomically: true, encoding: .utf8)
        }
        try "x = 1\n".write(to: folder.appendingPathComponent("f20.graph"), atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        let start = Date()
        XCTAssertFalse(execute(session, ":load \(folder.path)/f0.graph"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssert(output.errors.hasPrefix("\(folder.path)/f15.graph:1:7: error: scripts load each other more than 16 levels deep\n"), output.errors)

        // Breadth: 40 files each loading the next one 40 times stays shallow but loads too often.
        for k in 0..<3 {
            try String(repeating: ":load g\(k + 1).graph\n", count: 40).write(to: folder.appendingPathComponent("g\(k).graph"), atomically: true, encoding: .utf8)
        }
        try "y = 2\n".write(to: folder.appendingPathComponent("g3.graph"), atomically: true, encoding: .utf8)
        let (wide, wideOutput) = makeSession()
        XCTAssertFalse(execute(wide, ":load \(folder.path)/g0.graph"))
        XCTAssert(wideOutput.errors.contains("error: more than 1000 :load commands under one script; is a script loading others in a loop?\n"), wideOutput.errors)
        // The count starts again with the next top-level :load.
        XCTAssertTrue(execute(wide, ":load \(folder.path)/g3.graph"), wideOutput.errors)

        let (stopped, stoppedOutput) = makeSession()
        stopped.shouldStop = { true }
        XCTAssertFalse(execute(stopped, ":load \(folder.path)/g3.graph"))
        XCTAssertEqual(stoppedOutput.errors, "<stdin>:1:7: error: interrupted\n    :load \(folder.path)/g3.graph\n          ^\n")
    }
}
