@testable import ChainruleCore
import XCTest

/// The flat node store: derivative graphs extend the forward graph without copying it,
/// graphs keep value semantics, and sharing equal nodes works however large the table grows.
final class NodeStoreTests: XCTestCase {
    /// A reverse graph reads the forward nodes from the forward graph's own store (no copy),
    /// and the workspace's later changes (a new definition, a leaf's new value) do not show
    /// through the reverse graph already built.
    func testReverseGraphSharesTheForwardStoreAndKeepsItsOwnView() throws {
        var script = try Script("w = 0.9\nh0 = 0.5\nh1 = tanh(w*h0 + 0.01)\nh2 = tanh(w*h1 + 0.01)")
        let forward = script.workspace.graph
        let reverse = try script.workspace.reverseGraph(of: try script.id("h2"), seeded: false)
        XCTAssertTrue(reverse.graph.prefix === forward.store, "the forward nodes are shared, not copied")
        XCTAssertEqual(reverse.graph.prefixCount, forward.count)
        XCTAssertEqual(reverse.base, forward.count)
        XCTAssertGreaterThan(reverse.graph.count, forward.count)
        for id in 0..<forward.count {
            XCTAssertEqual(reverse.graph[id].op, forward[id].op)
            XCTAssertEqual(Array(reverse.graph[id].inputs), Array(forward[id].inputs))
            XCTAssertEqual(reverse.graph[id].name, forward[id].name)
        }
        // Gradient nodes are the reverse graph's own, with roles naming their forward node.
        for id in reverse.base..<reverse.graph.count {
            XCTAssertNotEqual(reverse.graph[id].role, .forward)
            XCTAssertTrue(reverse.graph[id].inputs.allSatisfy { $0 < id })
        }
        let before = reverse.graph.count
        try script.run("h3 = tanh(w*h2 + 0.01)\nw = 0.5")
        XCTAssertEqual(reverse.graph.count, before)
        XCTAssertNil(reverse.graph.node(named: "h3"))
        XCTAssertEqual(reverse.graph[try script.id("w")].value?.scalars, [0.9], "the reverse graph keeps the values it was built with")
        XCTAssertEqual(script.workspace.graph[try script.id("w")].value?.scalars, [0.5])
        // And the gradient is still right after the change: d/dw of the chain at w = 0.5.
        var h = 0.5, dh = 0.0
        for _ in 0..<3 {
            let t = tanh(0.5 * h + 0.01)
            dh = (1 - t * t) * (h + 0.5 * dh)
            h = t
        }
        XCTAssertEqual(try script.gradient(of: "h3", wrt: "w").scalars[0], dh, accuracy: 1e-12)
    }

    /// Copies of a graph change on their own (copy on write), including names and leaf values.
    func testGraphCopiesAreIndependent() throws {
        var a = Graph()
        let x = a.append(.constant, EmptyCollection(), shape: [], kind: .param, value: Tensor(2))
        a.setName("x", of: x)
        var b = a
        let y = b.append(.pointwise(.exp), CollectionOfOne(x), shape: [], kind: .op)
        b.setName("y", of: y)
        b.setValue(Tensor(3), of: x)
        XCTAssertEqual(a.count, 1)
        XCTAssertNil(a.node(named: "y"))
        XCTAssertEqual(a[x].value?.scalars, [2])
        XCTAssertEqual(b[x].value?.scalars, [3])
        XCTAssertEqual(b.count, 2)
        XCTAssertEqual(Array(b[y].inputs), [x])
    }

    /// Truncating drops the nodes, their names and their leaf values; appending again reuses the ids.
    func testTruncateDropsNamesAndValues() throws {
        var g = Graph()
        let a = g.append(.constant, EmptyCollection(), shape: [], kind: .input, value: Tensor(1))
        g.setName("a", of: a)
        let v = g.append(.constant, EmptyCollection(), shape: [2], kind: .input, value: Tensor([1, 2]))
        let s = g.append(.binary(.add), SmallInputs(a, v), shape: [2], kind: .op)
        g.setName("s", of: s)
        g.truncate(to: 1)
        XCTAssertEqual(g.count, 1)
        XCTAssertNil(g.node(named: "s"))
        XCTAssertEqual(g.leafTensors.count, 0)
        XCTAssertEqual(g.leafScalars, [1])
        let c = g.append(.constant, EmptyCollection(), shape: [], kind: .input, value: Tensor(7))
        XCTAssertEqual(c, 1)
        XCTAssertEqual(g[c].value?.scalars, [7])
        XCTAssertEqual(g[a].value?.scalars, [1])
    }

    /// Names and origins are kept only up to the last node that has one: nodes after it
    /// (a derivative's) read as having none, a later named or placed node fills the gap, and
    /// truncating drops what it should.
    func testNamesAndOriginsAreSparse() throws {
        let source = Source(name: "t.graph", text: "a + b")
        var g = Graph()
        let x = g.append(.constant, EmptyCollection(), shape: [], kind: .input, value: Tensor(1))
        let y = g.append(.pointwise(.exp), SmallInputs(x), shape: [], kind: .op)
        XCTAssertNil(g[y].name)
        XCTAssertNil(g[y].origin)
        XCTAssertEqual(g.store.nameIDs.count, 0, "nothing is stored for nodes with neither")
        let z = g.append(.pointwise(.sin), SmallInputs(y), shape: [], kind: .op,
                         origin: SourceSpan(source, SourceRange(0, 5)))
        g.setName("z", of: z)
        let w = g.append(.pointwise(.cos), SmallInputs(z), shape: [], kind: .op)
        XCTAssertEqual(g[z].name, "z")
        XCTAssertEqual(g[z].origin?.range, SourceRange(0, 5))
        for id in [x, y, w] {
            XCTAssertNil(g[id].name)
            XCTAssertNil(g[id].origin)
        }
        XCTAssertEqual(g.node(named: "z"), z)
        g.truncate(to: 2)
        XCTAssertNil(g.node(named: "z"))
        let again = g.append(.pointwise(.sin), SmallInputs(y), shape: [], kind: .op)
        XCTAssertNil(g[again].name)
        XCTAssertNil(g[again].origin)
    }

    /// Equal nodes are shared however large the sharing table grows (it grows many times here),
    /// and unequal ones never are.
    func testSharingSurvivesTableGrowth() throws {
        var base = Graph()
        let x = base.append(.constant, EmptyCollection(), shape: [], kind: .input, value: Tensor(1))
        base.setName("x", of: x)
        var emitter = Emitter(graph: base)
        var made: [NodeID] = []
        var previous = x
        for _ in 0..<20_000 {
            previous = try emitter.emit(.pointwise(.sin), [previous])
            made.append(previous)
        }
        XCTAssertEqual(Set(made).count, made.count, "every node is new")
        // The same ops again find every node made.
        previous = x
        for id in made {
            previous = try emitter.emit(.pointwise(.sin), [previous])
            XCTAssertEqual(previous, id)
        }
        for (i, id) in made.enumerated() where i % 97 == 0 {
            let product = try emitter.emit(.binary(.multiply), [id, x])
            XCTAssertEqual(try emitter.emit(.binary(.multiply), [id, x]), product)
            XCTAssertNotEqual(try emitter.emit(.binary(.multiply), [x, id]), product, "arguments in another order are another node")
        }
        XCTAssertEqual(emitter.graph.count, 1 + made.count + 2 * ((made.count + 96) / 97))
    }

    /// Keys are filed under their newest input that is not a literal; one input read by many
    /// keys (more than a chain holds, so the rest go to the hashed table) still shares every
    /// one of them and confuses none, and a literal read by every key does not gather them.
    func testSharingWhenOneInputIsReadByManyKeys() throws {
        var base = Graph()
        let x = base.append(.constant, EmptyCollection(), shape: [], kind: .input, value: Tensor(2))
        base.setName("x", of: x)
        var emitter = Emitter(graph: base)
        var others: [NodeID] = []
        for k in 0..<150 {
            let c = try emitter.emit(.pointwise(.sin), [try emitter.emit(.binary(.add), [x, emitter.scalar(Double(k))])])
            others.append(c)
        }
        // 300 distinct keys anchored at g (their newest input), then each looked up again, in another order.
        let g = try emitter.emit(.pointwise(.exp), [x])
        var made: [NodeID] = []
        for c in others {
            made.append(try emitter.emit(.binary(.multiply), [g, c]))
            made.append(try emitter.emit(.binary(.subtract), [c, g]))
        }
        XCTAssertEqual(Set(made).count, made.count, "every key made a new node")
        for (k, c) in others.enumerated().reversed() {
            XCTAssertEqual(try emitter.emit(.binary(.subtract), [c, g]), made[2 * k + 1])
            XCTAssertEqual(try emitter.emit(.binary(.multiply), [g, c]), made[2 * k])
        }
        // A literal read by many keys: each key is found again, filed under its other input.
        let zero = emitter.scalar(0)
        let compared = try others.map { (c) throws(ShapeMessage) in try emitter.emit(.compare(.greater), [c, zero]) }
        let count = emitter.graph.count
        for (c, id) in zip(others, compared) {
            XCTAssertEqual(try emitter.emit(.compare(.greater), [c, zero]), id)
        }
        XCTAssertEqual(emitter.graph.count, count, "nothing was emitted twice")
    }

    /// The allocator takes the settings the binaries ask for (large freed blocks kept for reuse).
    func testTheAllocatorTakesItsSettings() {
        XCTAssertTrue(Allocator.keepLargeBlocks())
    }
}
