import ChainruleCore
@testable import ChainruleSession
import Foundation
import ChainruleTestSupport
import XCTest

/// Hostile input at the session level: no trap, no unbounded output or memory, and
/// Ctrl-C (a `shouldStop` that turns true) stops every long loop promptly.
final class SessionLimitTests: XCTestCase {
    /// The loss range overflows (1e308 − (−1e308) is infinite): the curve is still drawn.
    func testTrainingWithALossRangeThatOverflows() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param p = 1\nL = p * 1e308\n:train L steps=1 lr=2e-308"), output.errors)
        let lines = output.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "training L: 1 step of sgd, lr = 2e-308, on p")
        XCTAssertEqual(lines.dropFirst().first, "done: 1 step; L 1e+308 → -1e+308")
        XCTAssertTrue(lines.contains { $0.hasPrefix(" 1e+308 ┤⠉") }, output.text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("-1e+308 ┤") && $0.hasSuffix("◆") }, output.text)
        XCTAssertEqual(lines.last, "         step 0 … 1   ◆ final -1e+308 at step 1  (the best)")
    }
}

/// Ctrl-C inside the loops of commands: one reverse pass per Jacobian row, two forward
/// passes per finite difference, and `:load`s that fan out.
final class SessionInterruptTests: XCTestCase {
    typealias Switch = InterruptSwitch

    func interrupted(_ setup: String, _ command: String, after: Int = 50) -> (String, Int) {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, setup), output.errors)
        let stop = Switch(after: after)
        session.shouldStop = { stop.ask() }
        XCTAssertFalse(execute(session, command))
        return (output.errors, stop.calls)
    }

    func testJacobianStops() {
        // 2000 rows and 2000 columns: 2000 passes either way (a tall Jacobian is one forward pass).
        let (errors, calls) = interrupted("keep = 1; x = ones(2000); y = x * sum(x)", ":jacobian y x")
        XCTAssertEqual(errors, "<stdin>:1:11: error: interrupted\n    :jacobian y x\n              ^\n")
        XCTAssertEqual(calls, 50)
    }

    func testCheckStops() {
        let (errors, calls) = interrupted("keep = 1; x = ones(9000); L = sum(x * x)", ":check L")
        XCTAssertEqual(errors, "<stdin>:1:8: error: interrupted\n    :check L\n           ^\n")
        XCTAssertEqual(calls, 50)
    }

    /// Ctrl-C during a `:train` inside a `:load` stops the script but keeps what it defined
    /// and trained (it was rolled back as if the script had failed).
    func testInterruptedLoadKeepsWhatWasTrained() throws {
        let folder = try TemporaryFolder.make("chainrule-interrupt")
        defer { TemporaryFolder.remove(folder) }
        let script = folder.appendingPathComponent("train.graph")
        try "param w = 5\nL = (w - 1)^2\n:train L steps=1000000 lr=0.01\nafter = 1\n".write(to: script, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        let stop = Switch(after: 20)
        session.shouldStop = { stop.ask() }
        session.interruptCount = { stop.calls >= stop.after ? 1 : 0 }
        execute(session, ":load \(script.path)")
        XCTAssert(output.errors.contains("note: ':load \(script.path)' was interrupted: what it defined and trained before the interrupt is kept"), output.errors)
        XCTAssertFalse(output.errors.contains("stopped at an error"), output.errors)
        XCTAssert(output.text.contains("interrupted after"), output.text)
        session.shouldStop = { false }
        output.text = ""
        XCTAssertTrue(execute(session, "w"), output.errors)
        let w = Double(output.text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
        XCTAssertLessThan(w, 5)
        XCTAssertGreaterThan(w, 1)
        XCTAssertFalse(execute(session, "after"))
        XCTAssert(output.errors.contains("undefined name 'after'"), output.errors)
    }

    func testLoadsAreBoundedInDepthAndNumber() throws {
        let folder = try TemporaryFolder.make("chainrule-loads")
        defer { TemporaryFolder.remove(folder) }
        // f0 loads f1 twice, f1 loads f2 twice, …: 2^20 loads without a bound.
        for k in 0..<20 {
            try ":load f\(k + 1).graph\n:load f\(k + 1).graph\n".write(to: folder.appendingPathComponent("f\(k).graph"), atomically: true, encoding: .utf8)
        }
        try "x = 1\n".write(to: folder.appendingPathComponent("f20.graph"), atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":load \(folder.path)/f0.graph"))
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

/// `:set output N` bounds what one command prints; `:set memory SIZE` bounds the values
/// the graph stores; path counts past 10¹⁸ are not printed as exact numbers.
final class SessionBudgetTests: XCTestCase {
    /// A 20,000-definition chain: the drawing used to take memory quadratic in its depth.
    func testGraphOfADeepChainIsCutAtTheOutputLimit() {
        let (session, output) = makeSession()
        var text = "x0 = 1\n"
        for k in 1...20_000 { text += "x\(k) = x\(k - 1) * 1.0000001 + 0\n" }
        XCTAssertTrue(execute(session, text), output.errors)
        XCTAssertTrue(execute(session, ":graph x20000"))
        XCTAssertLessThanOrEqual(output.text.count, Session.defaultOutputLimit)
        XCTAssert(output.text.hasSuffix("\n… drawing cut at 1000000 characters (:set output N shows more)\n"), String(output.text.suffix(200)))
        // Too many boxes to lay out: one line per box, from the inputs.
        XCTAssert(output.text.hasPrefix("20001 boxes do not fit 80 columns side by side: one per line, inputs first\nx0  input   = 1\nx1 = x0 · 1.0000001 + 0   = 1   ← x0\n"), String(output.text.prefix(200)))
    }

    /// `:check` takes two forward passes per element: past the limit of `:compare` and
    /// `method=fd` it is refused before any pass runs (50M elements were accepted), and
    /// `wrt X` checks one leaf.
    func testCheckIsBoundedAndChecksOneLeaf() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = ones(20000); w = [1, 2, 3]; L = sum(x * x) + sum(w ^ 2)"), output.errors)
        XCTAssertFalse(execute(session, ":check L"))
        XCTAssertEqual(output.errors, """
            <stdin>:1:8: error: central differences take two forward passes per input element: 20003 here, more than 10000; check one leaf with ':check L wrt X' (:grad gives the gradient in one reverse pass)
                :check L
                       ^

            """)
        output.errors = ""
        output.text = ""
        XCTAssertTrue(execute(session, ":check L wrt w"), output.errors)
        XCTAssert(output.text.contains("\nw     (3)  "), output.text)
        XCTAssertFalse(output.text.contains("\nx  "), output.text)
        XCTAssert(output.text.hasSuffix(": gradients agree\n"), output.text)
        XCTAssertFalse(execute(session, ":check L wrt x"))
        XCTAssert(output.errors.hasPrefix("<stdin>:1:8: error: central differences take two forward passes per input element: 20000 here, more than 10000 (:grad"), output.errors)
    }

    func testOutputLimitIsSettable() {
        let (session, output) = makeSession()
        var text = ":set output 1000\nx0 = 1\n"
        for k in 1...50 { text += "x\(k) = x\(k - 1) * 2\n" }
        XCTAssertTrue(execute(session, text + ":graph x50"), output.errors)
        let lines = output.text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.prefix(3), ["┌───────────┐", "│ x0  input │", "│ = 1       │"])
        XCTAssertEqual(lines.dropLast().last, "… drawing cut at 1000 characters (:set output N shows more)")
        XCTAssertLessThanOrEqual(output.text.count, 1000)
        XCTAssertGreaterThan(output.text.count, 800)
        XCTAssertFalse(execute(session, ":set output 5"))
        XCTAssert(output.errors.hasPrefix("<stdin>:1:13: error: output must be a whole number of characters from 1000 to 1000000000\n"), output.errors)
        // Any printed text is cut too, at a line boundary.
        let (other, otherOutput) = makeSession()
        XCTAssertTrue(execute(other, ":set output 1000\n:help"), otherOutput.errors)
        XCTAssert(otherOutput.text.hasSuffix("\n… output cut at 1000 characters (:set output N shows more)\n"), otherOutput.text)
        XCTAssertLessThan(otherOutput.text.count, 1100)
        // A listing stops making rows before the limit and says how many it left out.
        let (listing, listingOutput) = makeSession()
        XCTAssertTrue(execute(listing, ":set output 1000\n" + (1...100).map { "v\($0) = \($0)" }.joined(separator: "\n") + "\n:vars"), listingOutput.errors)
        XCTAssert(listingOutput.text.contains("\n… and ") && listingOutput.text.hasSuffix(" more (:set output N shows more)\n"), listingOutput.text)
        XCTAssertLessThan(listingOutput.text.count, 1000)
    }

    /// 50M elements are 400 MB; with the 800 MB default the second such value is refused
    /// (each node and definition is charged too), and the session keeps what it had.
    func testMemoryBudget() {
        let (session, output) = makeSession()
        var text = "x = ones(50000000)\na0 = x + 0\n"
        for k in 1...11 { text += "a\(k) = a\(k - 1) + 1\n" }
        XCTAssertFalse(execute(session, text))
        // Two values of 400 MB, a constant of 8 bytes, three nodes and two definitions: just past 800 MB.
        XCTAssertEqual(output.errors, """
            <stdin>:2:1: error: defining 'a0' would bring the graph to 800001032 bytes, more than the memory limit of 800000000 bytes; remove definitions or raise the limit with ':set memory'
                a0 = x + 0
                ^

            """)
        XCTAssertEqual(session.workspace.names, ["x"])
        XCTAssertTrue(execute(session, ":set memory 3GB\na0 = x + 0\na1 = a0 + 1\na2 = a1 + 1\na3 = a2 + 1"), output.errors)
        XCTAssertFalse(execute(session, "a4 = a3 + 1\na5 = a4 + 1\na6 = a5 + 1"))
        XCTAssert(output.errors.hasSuffix("error: defining 'a6' would bring the graph to 3.2 GB, more than the memory limit of 3 GB; remove definitions or raise the limit with ':set memory'\n    a6 = a5 + 1\n    ^\n"), output.errors)
        XCTAssertFalse(execute(session, ":set memory lots"))
        XCTAssert(output.errors.hasSuffix("<stdin>:1:13: error: memory must be a size such as 2GB, 500MB or 1000000 (bytes), in KB, MB or GB, below 10¹⁸ bytes\n    :set memory lots\n                ^\n"), output.errors)
        XCTAssertFalse(execute(session, ":set memory 1TB"))
        XCTAssert(output.errors.contains("error: memory must be a size such as 2GB"), output.errors)
        XCTAssertFalse(execute(session, ":set memory 999KB"))
        XCTAssert(output.errors.hasSuffix("error: memory must be at least 1MB, got 999000 bytes\n    :set memory 999KB\n                ^\n"), output.errors)
        // A redefinition that grows a value is checked too, and refused whole.
        XCTAssertTrue(execute(session, ":clear\n:set memory 100MB\nv = ones(1000)\nw = v * 2"), output.errors)
        XCTAssertFalse(execute(session, "v = ones(10000000)"))
        XCTAssert(output.errors.hasSuffix("error: defining 'v' would bring the graph to 160 MB, more than the memory limit of 100 MB; remove definitions or raise the limit with ':set memory'\n    v = ones(10000000)\n    ^\n"), output.errors)
        XCTAssertEqual(session.workspace.entries["v"]?.value?.count, 1000)
    }

    /// 2^70 paths: the count saturates and is said to be "more than 10¹⁸", not a number.
    func testExplainSaysWhenThePathCountIsCapped() {
        let (session, output) = makeSession()
        var text = "x = 1\na0 = x\n"
        for k in 1...70 { text += "a\(k) = a\(k - 1) + a\(k - 1)\n" }
        XCTAssertTrue(execute(session, text + ":explain a59 x\n:explain a70 x"), output.errors)
        XCTAssert(output.text.contains("∂a59/∂x as a sum over 576460752303423488 paths from x to a59"), output.text)
        XCTAssert(output.text.contains("∂a70/∂x as a sum over more than 10¹⁸ paths from x to a70"), output.text)
        XCTAssert(output.text.contains("(more than 10¹⁸ more paths not listed; the reverse pass adds them all)"), output.text)
        XCTAssertFalse(output.text.contains("9223372036854775807"))
    }
}
