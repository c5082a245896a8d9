@testable import ChainruleSession
import ChainruleCore
import Foundation
import XCTest

/// Modules at the session: drawn as blocks, saved and loaded, trained through.
final class ModuleSessionTests: XCTestCase {
    let threeLayers = """
    layer(x, W, b) = relu(W @ x + b)
    input x = [1, -2]
    param W1 = [[1, 2], [3, -4]]
    param b1 = [0.5, -0.5]
    param W2 = [[1, 1], [-1, 2]]
    param b2 = [0.1, 0.2]
    param W3 = [[0.5, -1], [2, 1]]
    param b3 = [0, 1]
    h3 = layer(layer(layer(x, W1, b1), W2, b2), W3, b3)
    L = sum(h3^2)
    """

    func testAThreeLayerNetworkIsDrawnAsThreeBlocksAndOpenedAsEveryNode() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, threeLayers + "\n:grad L\n"), output.errors)
        let target = try XCTUnwrap(session.workspace.graph.node(named: "L"))
        let blocks = session.graphReport(target: target, granularity: .definitions)
        let calls = blocks.boxes.filter(\.isCall).map(\.label)
        XCTAssertEqual(calls, ["layer(x, W1, b1)", "layer(layer(x, W1, b1), W2, b2)"])
        let outer = try XCTUnwrap(blocks.boxes.first { $0.label == "h3" })
        XCTAssertEqual(outer.formula, "layer(layer(layer(x, W1, b1), W2, b2), W3, b3)", "the third call is h3's own block")
        XCTAssertEqual(outer.members.count, 3, "h3's block holds its call's three nodes")
        XCTAssertEqual(blocks.boxes.count, 11, "7 leaves, 2 calls, h3 and L")
        // Every box reads the boxes of its arguments: the second call reads the first.
        let second = try XCTUnwrap(blocks.boxes.firstIndex { $0.label == calls[1] })
        XCTAssertTrue(blocks.boxes[second].inputs.map { blocks.boxes[$0].label }.contains(calls[0]))

        output.text = ""
        XCTAssertTrue(execute(session, ":dot"))
        XCTAssertEqual(output.text.components(separatedBy: "module</font>").count - 1, 2, output.text)
        XCTAssertFalse(output.text.contains("subgraph cluster"), "blocks are closed by default")

        output.text = ""
        XCTAssertTrue(execute(session, ":dot expand"))
        let dot = output.text
        XCTAssertEqual(dot.components(separatedBy: "subgraph cluster_call").count - 1, 3, dot)
        // Clusters nest as the calls do, and every node of a call is inside its cluster.
        for text in ["layer(x, W1, b1)", "layer(layer(x, W1, b1), W2, b2)", "layer(layer(layer(x, W1, b1), W2, b2), W3, b3)"] {
            XCTAssertTrue(dot.contains("label=<<b>\(Session.html(text))</b>>"), text)
        }
        let lines = dot.split(separator: "\n").map(String.init)
        var depth = 0, maximum = 0
        for line in lines {
            if line.contains("subgraph cluster_call") { depth += 1; maximum = max(maximum, depth) }
            if line.trimmingCharacters(in: .whitespaces) == "}" { depth -= 1 }
        }
        XCTAssertEqual(maximum, 1, "three calls made one after another in one definition are not nested")
        let expanded = session.graphReport(target: target, granularity: .nodes)
        XCTAssertEqual(expanded.boxes.filter { !$0.calls.isEmpty }.count, 9, "three nodes a call")
    }

    func testSavingAndLoadingKeepsModulesAndTheirCalls() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, threeLayers + "\nmlp(v) = layer(layer(v, W1, b1), W2, b2)\ny = sum(mlp(x))\n"), output.errors)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-modules-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("net.graph").path
        XCTAssertTrue(execute(session, ":save \(path)"), output.errors)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("layer(x, W, b) = relu(W @ x + b)\n"), text)
        XCTAssertTrue(text.contains("mlp(v) = layer(layer(v, W1, b1), W2, b2)\n"), text)

        let (restored, restoredOutput) = makeSession()
        XCTAssertTrue(execute(restored, ":load \(path)"), restoredOutput.errors)
        XCTAssertEqual(restored.workspace.names, session.workspace.names)
        XCTAssertEqual(restored.workspace.moduleNames, ["layer", "mlp"])
        for name in ["L", "y"] {
            let a = try session.workspace.value(of: XCTUnwrap(session.workspace.graph.node(named: name)))
            let b = try restored.workspace.value(of: XCTUnwrap(restored.workspace.graph.node(named: name)))
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), name)
        }
        XCTAssertEqual(restored.workspace.graph.allCalls.count, session.workspace.graph.allCalls.count)
        XCTAssertNil(restored.workspace.differenceFromFreshBuild())
    }

    func testTrainingThroughCallsMovesTheParamsAsTheWrittenOutNetworkDoes() throws {
        let written = threeLayers.replacingOccurrences(of: "layer(x, W, b) = relu(W @ x + b)\n", with: "")
            .replacingOccurrences(of: "h3 = layer(layer(layer(x, W1, b1), W2, b2), W3, b3)",
                                  with: "h3 = relu(W3 @ relu(W2 @ relu(W1 @ x + b1) + b2) + b3)")
        let (modules, a) = makeSession(), (handWritten, b) = makeSession()
        XCTAssertTrue(execute(modules, threeLayers + "\n:train L steps=25 lr=0.00001\n"), a.errors)
        XCTAssertTrue(execute(handWritten, written + "\n:train L steps=25 lr=0.00001\n"), b.errors)
        for name in ["W1", "b1", "W2", "b2", "W3", "b3", "L"] {
            let p = try modules.workspace.value(of: XCTUnwrap(modules.workspace.graph.node(named: name)))
            let q = try handWritten.workspace.value(of: XCTUnwrap(handWritten.workspace.graph.node(named: name)))
            XCTAssertEqual(p.scalars.map(\.bitPattern), q.scalars.map(\.bitPattern), name)
        }
        let loss = try modules.workspace.value(of: XCTUnwrap(modules.workspace.graph.node(named: "L"))).scalars[0]
        XCTAssertLessThan(loss, 1883.56, "training lowered the loss from its start (h3 = [0, 43.4], L = 43.4²)")
    }
}
