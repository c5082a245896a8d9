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

final class ExportedModuleTests: XCTestCase {
    func exported(_ text: String, output: String) throws -> String {
        var script = try Script(text)
        let id = try script.id(output)
        let gradients = try script.workspace.gradients(of: id)
        return Exporter(graph: script.workspace.graph, values: script.workspace.evaluation, gradients: gradients, outputName: output,
                        source: "a test", modules: script.workspace.exportedModules).script(.jax)
    }

    /// A module is one Python function, written once for the calls written alike; a call inside
    /// a module is a call of the callee's function; a call given a number (which chainrule folds
    /// into the call's nodes) is written node by node.
    func testModulesAreFunctionsCalledOncePerCall() throws {
        let text = try exported("""
            layer(u, V) = tanh(V @ u)
            wrap(u, V) = layer(u, V) * 2
            scaled(u, c) = u * c
            param x = [1, -2]
            param W = [[0.5, -1], [2, 0.25]]
            param g = 0.5
            gain(u) = u * g
            sq(u, w) = u * w
            a = wrap(x, W)
            b = wrap(a, W)
            s = scaled(x, 3)
            y = gain(a) + sq(x, x)
            L = sum(a) + sum(b) + sum(s) + sum(y)
            """, output: "L")
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("def layer(") }, ["def layer(t, k, u, V):"])
        XCTAssertEqual(lines.filter { $0.hasPrefix("def wrap(") }, ["def wrap(t, k, u, V):"])
        XCTAssertFalse(text.contains("def scaled("), "a call given a number is written out")
        XCTAssertTrue(lines.contains("    # wrap(u, V) = layer(u, V) * 2"), text)
        XCTAssertTrue(lines.contains("    v1 = layer(t, k + 0, u, V)"), "a call is named by its result, the last of its nodes: " + text)
        XCTAssertTrue(lines.contains("    a = wrap(t, 3, x, W)"), text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("    b = wrap(t, ") && $0.hasSuffix(", a, W)") }, text)
        // Every node is still tapped: the ones in calls by their functions, the rest in graph.
        XCTAssertTrue(text.contains("    v0 = t(k + 0, V @ u)"), text)
        // A node the formula reads by name is passed by keyword; a node passed for two
        // parameters would be read under one name where the formula writes another: written out.
        XCTAssertTrue(lines.contains("def gain(t, k, u, *, g):"), text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("    n") && $0.hasSuffix(" = gain(t, 13, a, g=g)") }, text)
        XCTAssertFalse(text.contains("def sq("), text)
    }

    /// A call whose inner node is read by a `grad()` body computing it again stays written node
    /// by node, since the body reads the call's nodes by name.
    func testACallInsideAGradBodyIsWrittenOut() throws {
        let text = try exported("""
            layer(u, V) = tanh(V @ u)
            param x = [1, -2]
            param W = [[0.5, -1], [2, 0.25]]
            g = grad(sum(layer(x, W)), W)
            L = sum(g)
            """, output: "L")
        XCTAssertFalse(text.contains("def layer("), text)
        XCTAssertTrue(text.contains("grad_of("), text)
    }
}
