import ChainruleCore
import Foundation
import ChainruleTestSupport
import XCTest

/// Ctrl-C is a `shouldStop` polled by the work done, not by node ids: a pass over a few
/// large nodes stops as promptly as one over many small ones.
final class InterruptTests: XCTestCase {
    typealias Switch = InterruptSwitch

    /// Twenty nodes of 1M elements each (ids far from multiples of 1024) used to run to the end.
    func testForwardPassOfFewLargeNodesStops() throws {
        var text = "keep = 1\nx = ones(1000000)\ny0 = x\n"
        for k in 1...20 { text += "y\(k) = y\(k - 1) * 1.5\n" }
        var script = try Script(text)
        let stop = Switch(after: 3)
        script.workspace.shouldStop = { stop.ask() }
        XCTAssertThrowsError(try script.value("y20")) { error in
            guard case .interrupted = error as? EvaluationError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(stop.calls, 3, "the pass stops at the first question answered yes")
        // Without Ctrl-C the same pass completes.
        script.workspace.shouldStop = { false }
        XCTAssertEqual(try script.value("y20").scalars.first, pow(1.5, 20))
    }

    func testReversePassOfFewLargeNodesStops() throws {
        var text = "keep = 1\nx = ones(1000000)\ny0 = x\n"
        for k in 1...20 { text += "y\(k) = y\(k - 1) * 1.5\n" }
        text += "L = sum(y20)\n"
        var script = try Script(text)
        _ = try script.value("L")
        let stop = Switch(after: 2)
        script.workspace.shouldStop = { stop.ask() }
        XCTAssertThrowsError(try script.workspace.gradients(of: try script.id("L"))) { error in
            guard case .interrupted = error as? EvaluationError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(stop.calls, 2)
    }

    /// Small nodes are polled too, after about `StopPoll.interval` of them.
    func testManySmallNodesArePolled() throws {
        var script = try Script("keep = 1\nx = 1\ny = x" + String(repeating: " * 1.0", count: 100_000))
        let stop = Switch(after: 1)
        script.workspace.shouldStop = { stop.ask() }
        XCTAssertThrowsError(try script.value("y")) { error in
            guard case .interrupted = error as? EvaluationError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(stop.calls, 1)
        XCTAssertNil(script.workspace.evaluation[try script.id("y")])
    }
}
