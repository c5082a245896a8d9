@testable import ChainruleCore
import Foundation
import XCTest

/// Definitions lowered as they are read (``Workspace/read(_:)``) make exactly what the
/// syntax tree makes when it is lowered (``Workspace/define(_:in:)``): the same nodes, the
/// same entries, the same errors.
final class ReadingTests: XCTestCase {
    /// What running a script's definitions did, statement by statement, and the workspace after.
    struct Run {
        var outcomes: [String] = []
        var workspace = Workspace()
        /// How many definitions had their nodes appended as they were read.
        var lowered = 0
    }

    /// Runs every definition of `text` (expressions and commands are skipped; an error is
    /// recorded and the script goes on), by reading with lowering or by trees.
    func run(_ text: String, lowering: Bool, memoryLimit: Int = .max) -> Run {
        let source = Source(name: "t.graph", text: text)
        var result = Run()
        result.workspace.memoryLimit = memoryLimit
        let (diagnostics, statements) = Parser.check(source)
        guard diagnostics.isEmpty else { return result }
        func define(_ definition: Definition) {
            do {
                let warnings = try result.workspace.define(definition, in: source)
                result.outcomes.append("defined \(definition.name)" + warnings.map { " warning: \($0.message)" }.joined())
            } catch {
                result.outcomes.append("error: \(error.message) at \(error.span?.range.start ?? -1)")
            }
        }
        if lowering {
            var reader = Workspace.ScriptReader(statements)
            result.workspace.reserve(definitions: reader.definitions)
            while let read = result.workspace.read(&reader) {
                switch read {
                case .defined(let name, _):
                    result.outcomes.append("defined \(name)")
                    result.lowered += 1
                case .statement(.definition(let definition)): define(definition)
                case .statement: continue
                case .refused(let problem): result.outcomes.append("error: \(problem.message) at \(problem.span?.range.start ?? -1)")
                case .unreadable(let problem): result.outcomes.append("unreadable: \(problem.message)")
                }
            }
        } else {
            var reader = statements
            result.workspace.reserve(definitions: reader.definitions)
            while let statement = reader.next() {
                if case .definition(let definition) = statement { define(definition) }
            }
        }
        return result
    }

    /// Every node and entry of a workspace, one line each.
    func describe(_ workspace: Workspace) -> [String] {
        let graph = workspace.graph
        var lines = (0..<graph.count).map { id -> String in
            let node = graph[id]
            return "\(id): \(node.op) \(Array(node.inputs)) \(node.shape) \(node.kind) \(node.name ?? "-") "
                + "\(node.origin.map { "\($0.range.start)..<\($0.range.end)" } ?? "-") \(node.role) \(node.value?.scalars ?? [])"
        }
        for entry in workspace.entries {
            lines.append("\(entry.name) \(entry.kind) \(entry.formulaRange.map { "\($0.start)..<\($0.end)" } ?? "-") "
                         + "\(entry.dependencies) \(entry.span.range.start)..<\(entry.span.range.end) \(entry.value?.scalars ?? [])")
        }
        lines.append("bytes \(workspace.storedBytes), broken \(workspace.broken.keys.sorted())")
        return lines
    }

    func assertSame(_ text: String, memoryLimit: Int = .max, file: StaticString = #filePath, line: UInt = #line) -> Run {
        let read = run(text, lowering: true, memoryLimit: memoryLimit)
        let tree = run(text, lowering: false, memoryLimit: memoryLimit)
        XCTAssertEqual(read.outcomes, tree.outcomes, "outcomes of \(text.prefix(200))", file: file, line: line)
        let (a, b) = (describe(read.workspace), describe(tree.workspace))
        XCTAssertEqual(a.count, b.count, "lines of \(text.prefix(200))", file: file, line: line)
        for (x, y) in zip(a, b) where x != y {
            XCTFail("read: \(x)\ntree: \(y)\nin \(text.prefix(200))", file: file, line: line)
            break
        }
        return read
    }

    func testPlainFormulasAreLoweredAsTheyAreReadIntoTheTreesGraph() {
        let script = """
        param w = 0.9
        input x = 0.5
        h1 = tanh(w*x + 0.01)
        h2 = tanh(w * h1 + 0.01) - -1.5 * h1 ^ 2
        a = relu(w * 0.41 + x * -1.2 + w)
        b = (a - 1.0)^2 + (2 * 3) * a + -a + a / 4
        c = sigmoid(exp(log(a + 1))) · w
        y = x
        z = (h2)
        """
        let result = assertSame(script)
        XCTAssertEqual(result.lowered, 9, "every definition here, leaves and formulas, is lowered as it is read")
        XCTAssertEqual(result.outcomes.count, 9)
    }

    func testTensorsAndEveryOtherFormOfStatementGiveTheTreesResult() {
        _ = assertSame("""
        param W = [[1, 2], [3, 4]]
        input x = [0.5, -1]
        f = relu(W @ x)
        g = W.T @ f + x * 2
        s = sum(g) + mean(g, axis=0)
        s2 = softmax(g)[0] + g[1:2][0]
        e = einsum("ij,j->i", W, x)
        p = pi * s
        W = [[1, 0], [0, 1]]
        x = [1, 2]
        l = [s, s2]
        m = W · W
        q = leaky_relu(s, a=0.2)
        """)
    }

    func testErrorsComeFromTheTreeAndLeaveNothingBehind() {
        let result = assertSame("""
        param w = 2
        a = w * nope
        b = w * [1, 2] @ [[1, 2]]
        c = w + 1
        d = c * c + undefined_thing
        e = e + 1
        c = w * 3
        f = c + d
        g = max(w, 1) + w
        """)
        XCTAssert(result.outcomes.contains { $0.hasPrefix("error: undefined name 'nope'") }, "\(result.outcomes)")
        XCTAssert(result.outcomes.contains { $0.hasPrefix("error: definition makes 'e' depend on itself") }, "\(result.outcomes)")
    }

    func testTheMemoryLimitRefusesALoweredDefinitionAsItRefusesATree() {
        // w, 3, a, 1 and c are five nodes of three definitions; b's six nodes would pass that.
        let limit = 3 * Workspace.definitionBytes + 5 * (Workspace.nodeBytes + 8)
        let result = assertSame("param w = 2\na = w * 3\nb = a * a + a * 2 + a\nc = w + 1", memoryLimit: limit)
        XCTAssertEqual(result.outcomes.map { $0.prefix(25) }, ["defined w", "defined a", "error: defining 'b' would", "defined c"])
        XCTAssertEqual(result.lowered, 3)
    }

    func testLeavesAreReadWithTheTreesValuesAndKinds() {
        let result = assertSame("""
        param w = -0.41
        input x = 2 * 3 - 1
        c = -0.0
        t = 1e308 * 10
        p = pi
        q = [1, 2]
        param w = 5
        r = w * x
        """)
        XCTAssertEqual(result.lowered, 5, "w, x, c, t and r; pi, a list and a redefinition are read as trees")
        XCTAssertEqual(result.workspace.entries["x"]?.kind, .input)
        XCTAssertEqual(result.workspace.entries["c"]?.value?.scalars[0].sign, .minus)
        // A leaf past the memory limit is refused as the tree refuses it.
        XCTAssertEqual(assertSame("param a = 1\nb = 2", memoryLimit: Workspace.definitionBytes + Workspace.nodeBytes + 8).outcomes.map { $0.prefix(21) },
                       ["defined a", "error: defining 'b' w"])
    }

    func testTheFuzzCorpusGivesTheTreesResult() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("FuzzCorpus")
        let files = try FileManager.default.subpathsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".graph") }
        XCTAssertGreaterThan(files.count, 50)
        var lowered = 0
        for file in files.sorted() {
            let text = String(decoding: try Data(contentsOf: corpus.appendingPathComponent(file)), as: UTF8.self)
            lowered += assertSame(text).lowered
        }
        XCTAssertGreaterThan(lowered, 20, "the corpus exercises lowering while reading")
    }

    /// A statement with a syntax error (in a script a session would have refused at its
    /// check) drops only its own nodes, never those of the definition read before it.
    func testASyntaxErrorDropsOnlyItsOwnStatement() throws {
        let source = Source(name: "t.graph", text: "param w = 2\na = w * 3\nw * 2 + )\nc = a + 1\n")
        let (diagnostics, statements) = Parser.check(source)
        XCTAssertFalse(diagnostics.isEmpty)
        var workspace = Workspace()
        var reader = Workspace.ScriptReader(statements)
        var defined: [String] = []
        while let read = workspace.read(&reader) {
            switch read {
            case .defined(let name, _): defined.append(name)
            case .statement(.definition(let d)): try workspace.define(d, in: source); defined.append(d.name)
            default: continue
            }
        }
        XCTAssertEqual(defined, ["w", "a", "c"])
        assertClose(try workspace.value(of: try XCTUnwrap(workspace.graph.node(named: "c"))), [7], shape: [])
        XCTAssertEqual(workspace.graph.count, 5, "w, 3, a, 1, c: and no node of the bad line")
    }

    /// With ``Workspace/ScriptReader/defines`` off, every statement comes back as a tree and nothing is defined.
    func testAReaderThatDoesNotDefineChangesNothing() {
        let source = Source(name: "t.graph", text: "param w = 2\na = w * 3\n")
        var workspace = Workspace()
        var reader = Workspace.ScriptReader(Parser.check(source).statements)
        reader.defines = false
        var kinds: [String] = []
        while let read = workspace.read(&reader) {
            if case .statement(.definition(let d)) = read { kinds.append(d.name) }
        }
        XCTAssertEqual(kinds, ["w", "a"])
        XCTAssertEqual(workspace.graph.count, 0)
    }
}
