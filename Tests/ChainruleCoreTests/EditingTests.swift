@testable import ChainruleCore
import Foundation
import XCTest

/// Edits cost what they change: a redefinition lowers that definition (and, when a shape
/// changed, what reads it) and nothing else, keeps the values nothing it changed depends on,
/// and leaves the graph node for node as a fresh build of the definitions makes it.
final class EditingTests: XCTestCase {
    /// `h0 = 0.5`, then `h{i} = tanh(0.9 * h{i-1} + 0.01)` up to `h{links}`.
    func chain(_ links: Int) -> String {
        (1...links).reduce("param w = 0.9\nh0 = 0.5\n") { $0 + "h\($1) = tanh(w * h\($1 - 1) + 0.01)\n" }
    }

    func assertAgreesWithAFreshBuild(_ script: Script, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNil(script.workspace.differenceFromFreshBuild(), file: file, line: line)
    }

    func testRedefiningTheFirstLinkLowersOneDefinitionAndMovesTheRest() throws {
        var script = try Script(chain(200))
        _ = try script.value("h200")
        let (lowered, moved) = (script.workspace.loweredDefinitions, script.workspace.movedDefinitions)
        try script.run("h1 = tanh(w * h0 + 0.02)")
        XCTAssertEqual(script.workspace.loweredDefinitions - lowered, 1, "only h1 is lowered again")
        XCTAssertEqual(script.workspace.movedDefinitions - moved, 199, "h2 … h200 keep their nodes")
        var expected = 0.5
        expected = tanh(0.9 * expected + 0.02)
        for _ in 2...200 { expected = tanh(0.9 * expected + 0.01) }
        assertClose(try script.value("h200"), [expected], shape: [])
        assertAgreesWithAFreshBuild(script)
    }

    func testAnEditKeepsTheValuesOfWhatDoesNotDependOnIt() throws {
        var script = try Script(chain(50) + "input x = 2\ny = x * 3\n")
        try script.workspace.evaluateAll()
        let computed = script.workspace.evaluation.computedNodes
        try script.run("y = x * 4")
        try script.workspace.evaluateAll()
        // y's two new nodes (the constant 4 and the product); none of the chain's.
        XCTAssertEqual(script.workspace.evaluation.computedNodes - computed, 2)
        assertClose(try script.value("y"), [8], shape: [])
        // A leaf given a value of its shape recomputes only what reads it.
        let before = script.workspace.evaluation.computedNodes
        try script.run("x = 5")
        try script.workspace.evaluateAll()
        XCTAssertEqual(script.workspace.evaluation.computedNodes - before, 2, "x and y, not the chain")
        assertClose(try script.value("y"), [20], shape: [])
        assertAgreesWithAFreshBuild(script)
    }

    func testAShapeChangeLowersAgainOnlyWhatReadsIt() throws {
        var script = try Script("""
        input x = [1, 2]
        w = 3
        a = x * 2
        c = w * 3
        b = sum(a)
        d = c + b
        """)
        let lowered = script.workspace.loweredDefinitions
        try script.run("x = [1, 2, 3]")
        // x itself and a (its shape changed with x's); b reads a but keeps its shape, so d moves.
        XCTAssertEqual(script.workspace.loweredDefinitions - lowered, 3, "x, a and b")
        assertClose(try script.value("d"), [21], shape: [])
        assertAgreesWithAFreshBuild(script)
    }

    func testAFailedEditLeavesEverythingAsItWas() throws {
        var script = try Script("input x = [1, 2]\na = x * 2\nb = sum(a)\nparam w = 1.5\nL = w * b")
        _ = try script.value("L")
        let before = describe(script.workspace)
        let source = Source(name: "bad.graph", text: "a = x @ [1, 2, 3]\nb = nope + 1\nx = x + 1")
        for case .definition(let definition) in Parser.parse(source).statements {
            XCTAssertThrowsError(try script.workspace.define(definition, in: source))
            XCTAssertEqual(describe(script.workspace), before, "after the refused \(definition.name)")
        }
        assertClose(try script.value("L"), [9], shape: [])
        assertAgreesWithAFreshBuild(script)
    }

    func testAnEditThatReordersTheGraphMatchesAFreshBuild() throws {
        var script = try Script("a = 1\nb = 2\nc = a + b\nz = 10")
        // a now reads z, defined after it: the dependency order changes.
        try script.run("a = z * 2")
        assertClose(try script.value("c"), [22], shape: [])
        assertAgreesWithAFreshBuild(script)
        try script.run("a = 3")
        assertAgreesWithAFreshBuild(script)
        assertClose(try script.value("c"), [5], shape: [])
    }

    func testBrokenDefinitionsComeBackWhenTheirShapeFitsAgain() throws {
        var script = try Script("input x = [1, 2]\nM = [[1, 0], [0, 1]]\ny = M @ x\ns = sum(y)")
        let source = Source(name: "more.graph", text: "x = [1, 2, 3]")
        guard case .definition(let definition) = Parser.parse(source).statements[0] else { return XCTFail() }
        let warnings = try script.workspace.define(definition, in: source)
        XCTAssertEqual(warnings.count, 2, "y and s no longer evaluate")
        XCTAssertNotNil(script.workspace.broken["s"])
        assertAgreesWithAFreshBuild(script)
        try script.run("x = [3, 4]")
        XCTAssertTrue(script.workspace.broken.isEmpty)
        assertClose(try script.value("s"), [7], shape: [])
        assertAgreesWithAFreshBuild(script)
    }

    func testGradFormulasFollowAnEditInsideWhatTheyDifferentiate() throws {
        var script = try Script("param w = 0.5\nh = tanh(w * 2)\nL = h * h\ng = grad(L, w)")
        try script.run("h = sigmoid(w * 2)")
        let s = 1 / (1 + exp(-1.0))
        assertClose(try script.value("g"), [2 * s * s * (1 - s) * 2], shape: [], .finiteDifference)
        assertAgreesWithAFreshBuild(script)
    }

    func testRematMarksAreKeptByNameAcrossARebuild() throws {
        var script = try Script("param w = 0.5\nh = tanh(w)\nL = h * h")
        script.workspace.remat = [try script.id("h")]
        try script.run("param w = [0.5, 1]")
        try script.run("L = sum(h * h)")
        XCTAssertEqual(script.workspace.remat, [try script.id("h")])
    }

    func testNamesAreInternedOnceForDefinitionsNodesAndTheGraphsThatExtendThem() throws {
        var script = try Script("param w = 0.5\nh = tanh(w)\nL = h * h")
        let table = script.workspace.graph.store.nameTable
        let names = table.names
        XCTAssertEqual(names, ["w", "h", "tanh", "L"], "each name once, definitions' and functions' alike")
        try script.run("h = tanh(w * 2)\nL = h * h + w")
        XCTAssertEqual(script.workspace.graph.store.nameTable.names, names, "redefinitions add no name")
        let reverse = try script.workspace.reverseGraph(of: try script.id("L"), seeded: false)
        XCTAssertTrue(reverse.graph.store.nameTable === script.workspace.graph.store.nameTable,
                      "a reverse graph reads the workspace's one table")
        XCTAssertEqual(reverse.graph.node(named: "h"), try script.id("h"))
    }

    func testKeptFormulasReadBackAsTheTreesTheyWere() throws {
        let formulas = [
            "relu(W @ x + b)", "-x ^ 2 ^ -1", "[a, [1, 2], b.T]", "sum(x, axis=-1) * mean(x)",
            "einsum(\"ij,j->i\", A, x)", "x[0, 1:2, :, ::-1, 1::2]", "leaky_relu(x, a=0.2) · w", "a - b + c / d * e",
            "grad(L, w)", "((x))", "zeros(2, 3) + randn(2, 3, seed=4)",
        ]
        var store = FormulaStore()
        var names: [String] = []
        for text in formulas {
            let source = Source(name: "f.graph", text: text)
            guard case .expression(let expr)? = Parser.parse(source).statements.first else { return XCTFail(text) }
            let kept = store.append(expr) { name, _ in
                if let i = names.firstIndex(of: name) { return Int32(i) }
                names.append(name)
                return Int32(names.count - 1)
            }
            XCTAssertEqual(store.expression(kept, names: { names[Int($0)] }), expr, text)
        }
    }

    /// A script's definitions keep the records the grammar wrote as it read them: read
    /// back, each is the tree a parse of the script makes (ranges and carets included).
    func testFormulasKeptAsAScriptIsReadAreItsTrees() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var files: [URL] = []
        for folder in ["Tests/FuzzCorpus", "examples"] {
            let url = root.appendingPathComponent(folder)
            files += try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "graph" }.sorted { $0.path < $1.path }
        }
        files.append(URL(fileURLWithPath: "/inline"))
        var compared = 0
        for file in files {
            let text = file.path == "/inline"
                ? "param W = [[1, 2], [3, 4]]\nx = (W @ [1, 2])[0:1, ::-1].T + (2)\ny = -(x + 1) ^ 2 * leaky_relu(x, a=(0.2))\nz = einsum(\"ij->i\", (W))"
                : String(decoding: try Data(contentsOf: file), as: UTF8.self)
            let source = Source(name: file.lastPathComponent, text: text)
            let (diagnostics, statements) = Parser.check(source)
            guard diagnostics.isEmpty else { continue }
            var workspace = Workspace()
            var reader = Workspace.ScriptReader(statements)
            // Each definition's tree by where it stands (a script may define a name again).
            var trees: [String: Expr] = [:]
            for statement in Parser.parse(source).statements {
                if case .definition(let d) = statement { trees["\(d.range)"] = d.value }
            }
            while let read = workspace.read(&reader) {
                guard case .defined(let name, let range) = read, let tree = trees["\(range)"] else { continue }
                guard let entry = workspace.entries[name], !entry.isLeaf else { continue }
                XCTAssertEqual(entry.formula.map(signature), signature(tree), "\(name) in \(file.lastPathComponent)")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }

    /// Everything a tree says but its depths (which only the parser's limit reads), node by node.
    func signature(_ e: Expr) -> [String] {
        var lines: [String] = []
        var stack = [e]
        while let e = stack.popLast() {
            var kind = "\(e.kind)"
            if let paren = kind.firstIndex(of: "(") { kind = String(kind[..<paren]) }
            var detail = ""
            switch e.kind {
            case .number(let x): detail = "\(x.bitPattern)"
            case .string(let t), .name(let t): detail = t
            case .binary(let op, _, _): detail = op.rawValue
            case .chain(_, let links): detail = links.map { "\($0.op.rawValue)\($0.focus.start)-\($0.focus.end)" }.joined(separator: ",")
            case .call(let name, let args, let keywords):
                detail = "\(name)/\(args.count)/" + keywords.map { "\($0.name)\($0.nameRange.start)" }.joined(separator: ",")
            case .index(_, let indices):
                detail = indices.map { index -> String in
                    if case .slice(let a, let b, let c) = index { return "s\(a != nil)\(b != nil)\(c != nil)" } else { return "i" }
                }.joined(separator: ",")
            default: break
            }
            lines.append("\(kind) \(detail) \(e.range.start)-\(e.range.end) \(e.focus.start)-\(e.focus.end)")
            stack.append(contentsOf: e.kind.children.reversed())
        }
        return lines
    }

    /// Random scripts of definitions and redefinitions of scalars and vectors: after every
    /// edit, the graph, what is broken and every value agree with a fresh build.
    func testRandomEditsAgreeWithAFreshBuild() throws {
        var random = SplitMix(seed: 7)
        let forms = ["%a + %b", "%a * 2", "sum(%a) + %b", "tanh(%a)", "%a @ %b", "%a - %b * %a", "[%a, %a]", "%a[0]",
                     "grad(sum(%a * %b), %b)", "1.5", "[1, 2]", "[[1, 2], [3, 4]]", "%a.T"]
        for round in 0..<40 {
            var script = try Script("p = 1")
            var names = ["p"]
            for step in 0..<12 {
                let isNew = names.count < 3 || random.next() % 3 == 0
                let name = isNew ? "n\(step)" : names[Int(random.next() % UInt64(names.count))]
                var text = forms[Int(random.next() % UInt64(forms.count))]
                for hole in ["%a", "%b"] {
                    text = text.replacingOccurrences(of: hole, with: names[Int(random.next() % UInt64(names.count))])
                }
                let source = Source(name: "r.graph", text: "\(name) = \(text)")
                guard case .definition(let definition)? = Parser.parse(source).statements.first else { continue }
                if (try? script.workspace.define(definition, in: source)) != nil, isNew { names.append(name) }
                // Values computed before the next edit are what an edit keeps or drops.
                try? script.workspace.evaluateAll()
                if let difference = script.workspace.differenceFromFreshBuild() {
                    return XCTFail("round \(round), after '\(name) = \(text)': \(difference)")
                }
            }
        }
    }

    /// Every node and definition of a workspace, and its values, one line each.
    func describe(_ workspace: Workspace) -> [String] {
        let graph = workspace.graph
        var lines = (0..<graph.count).map { id -> String in
            let node = graph[id]
            return "\(id): \(node.op) \(Array(node.inputs)) \(node.shape) \(node.kind) \(node.name ?? "-") "
                + "\(node.role) \(node.value?.scalars ?? []) \(workspace.evaluation[id]?.scalars ?? [])"
        }
        for entry in workspace.entries {
            lines.append("\(entry.name) \(entry.kind) \(entry.formula.map(Printer.expression) ?? "-") \(entry.dependencies)")
        }
        lines.append("bytes \(workspace.storedBytes), broken \(workspace.order.filter { workspace.broken[$0] != nil })")
        return lines
    }
}

/// A small deterministic generator (SplitMix64), so that the random scripts are the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
