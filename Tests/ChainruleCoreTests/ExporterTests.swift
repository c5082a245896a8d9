@testable import ChainruleCore
import Foundation
import XCTest

final class ExporterTests: XCTestCase {
    /// Issue: the exporter called itself once per level of nested `grad()`. `grad()` nested 120
    /// deep is written out on a thread with a 128 KiB stack, each level's function inside the last.
    func testNestedGradIsWrittenWithoutRecursion() throws {
        let depth = 120
        var body = "sin(x)"
        for _ in 0..<depth { body = "grad(\(body), x)" }
        var script = try Script("x = 0.5\ng = \(body)")
        let output = try script.id("g")
        let gradients = try script.workspace.gradients(of: output)
        let exporter = Exporter(graph: script.workspace.graph, values: script.workspace.evaluation, gradients: gradients, outputName: "g", source: "a test")
        final class Box: @unchecked Sendable {
            let exporter: Exporter
            var text = ""
            init(_ exporter: Exporter) { self.exporter = exporter }
        }
        let box = Box(exporter)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.text = box.exporter.script(.jax)
            done.signal()
        }
        thread.stackSize = 128 << 10
        thread.start()
        done.wait()
        let lines = box.text.split(separator: "\n")
        let functions = lines.filter { $0.contains("def e") }
        XCTAssertGreaterThanOrEqual(functions.count, depth)
        // The innermost function is indented once per level it is nested in.
        let deepest = functions.map { $0.prefix { $0 == " " }.count }.max() ?? 0
        XCTAssertEqual(deepest, 4 * depth)
        XCTAssertTrue(box.text.contains("grad_of("))
    }
}
