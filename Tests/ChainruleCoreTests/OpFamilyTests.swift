@testable import ChainruleCore
import XCTest

/// Each op states its rules once, in its family's file: these tests hold every op to its
/// statement, so that an op added to a family is checked without a line written here.
final class OpFamilyTests: XCTestCase {
    /// ∂L/∂leaf by the reverse graph, against forward mode and against central differences of
    /// forward evaluations made here and by the program's finite-difference routine.
    func checkAllWays(_ text: String, leaves: [String], label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var script = try Script(text)
        for leaf in leaves {
            let reverse = try script.gradient(of: "L", wrt: leaf)
            let forward = try script.forwardModeGradient(of: "L", wrt: leaf)
            let differences = try script.forwardDifferences(of: "L", wrt: leaf)
            let numeric = try script.finiteDifference(of: "L", wrt: leaf)
            assertClose(forward, reverse.scalars, shape: reverse.shape, .exact, "\(label): ∂L/∂\(leaf) forward mode against the reverse graph", file: file, line: line)
            assertClose(reverse, differences.scalars, shape: differences.shape, .finiteDifference, "\(label): ∂L/∂\(leaf) against central differences of forward evaluations", file: file, line: line)
            assertClose(reverse, numeric.scalars, shape: numeric.shape, .finiteDifference, "\(label): ∂L/∂\(leaf) against central differences", file: file, line: line)
        }
    }

    /// Every function a family spells is listed by `:help functions`, reaches the language, and its
    /// derivative agrees four ways — for every case of the enumerable families, present and future.
    func testEveryFunctionOfEveryFamilyIsSpelledAndDifferentiated() throws {
        let listed = Builtins.functions.map(\.name)
        for p in Pointwise.allCases {
            guard let f = p.function else { continue }
            XCTAssertTrue(listed.contains(f.name), "\(f.name) is listed")
            guard case .apply(.pointwise(let called), _, _) = Builtins.function(named: f.name, arguments: 1)?.call else {
                return XCTFail("\(f.name) is lowered to its op")
            }
            XCTAssertEqual(called, p)
            try checkAllWays("param x = [0.3, 1.7, 0.9]\nL = sum(\(f.name)(x) * [1, -2, 3])", leaves: ["x"], label: f.name)
        }
        for b in BinaryArithmetic.allCases {
            guard let f = b.function else { continue }
            XCTAssertTrue(listed.contains(f.name), "\(f.name) is listed")
            let call = b.defaultSlope == nil ? "\(f.name)(x, y)" : "\(f.name)(x - 1, a=s) + \(f.name)(x - 1)"
            try checkAllWays("param x = [0.3, 1.7, 0.9]\nparam y = [[1.1, 0.4, 2.0], [0.5, 1.8, 0.7]]\nparam s = 0.2\nL = sum(\(call) * [1, -2, 3])",
                             leaves: b.defaultSlope == nil ? ["x", "y"] : ["x", "s"], label: f.name)
        }
        for loss in Loss.allCases {
            XCTAssertTrue(listed.contains(loss.function.name), "\(loss.function.name) is listed")
            guard case .apply(.loss(let called), _, _) = Builtins.function(named: loss.function.name, arguments: 2)?.call else {
                return XCTFail("\(loss.function.name) is lowered to its op")
            }
            XCTAssertEqual(called, loss)
            try checkAllWays("param z = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]\nparam t = [[0.1, 0.3, 0.6], [0.25, 0.5, 0.25]]\nL = \(loss.function.name)(z, t)",
                             leaves: ["z", "t"], label: loss.function.name)
        }
        XCTAssertEqual(Set(listed).count + 1, listed.count, "one name twice: max(x) and max(a, b)")
    }

    /// Scripts whose reverse graphs run the rule of every op, the ops derivative rules are
    /// written in included (they are forward nodes of the graphs `grad()` makes).
    let corpus = [
        """
        param x = [0.3, 1.7, 0.9]
        param a = 0.2
        param y = [[1.1, 0.4, 2.0], [0.5, 1.5, 0.7]]
        e1 = \(Pointwise.allCases.compactMap { $0.function.map { "\($0.name)(x)" } }.joined(separator: " + "))
        e2 = x * y / (y + 1) + x ^ 2 + y ^ x + max(x, y) + min(x, y) + leaky_relu(x - 1, a) + elu(x - 1, a)
        L = mean(-e1) + sum(sum(e2, 0)) + mean(e2, 1)[0]
        """,
        """
        param A = [[1, 2, 3], [4, 5, 6]]
        param v = [0.5, -1, 2]
        param w = [1, -2]
        param C = [[[1, 2], [3, 4]], [[0.5, 1], [2, -1]]]
        m = A @ v
        s = [m[0], m[1], dot(v, v)]
        E = einsum("ij,j->i", A, v)
        P = sum(C @ C)
        L = sum(transpose(A) @ w) + max(s) + mse(E, w) + cross_entropy(A, [0, 2]) + cross_entropy(A, softmax(A)) + bce(sigmoid(v), [0, 1, 1]) + bce_with_logits(v, [1, 0, 1]) + kl(softmax(v), softmax(2 * v)) + sum(log_softmax(A)) + P
        """,
        """
        param x = [0.3, 1.7, 0.9]
        param B = [[1, 2], [3, 4], [5, 6]]
        param C = [[[1, 2], [3, 4]], [[0.5, 1], [2, -1]]]
        g1 = grad(sum(relu(x) * gelu(x) * abs(x)), x)
        g2 = grad(sum(tanh(x @ B)), x)
        g3 = grad(max(x * x), x)
        g4 = grad(mean(x[1:] * x[1:]), x)
        g5 = grad(sum(sin(einsum("i,ij->j", x, B))), B)
        param w = [0.5, -0.5]
        input k = [0, 1, 1]
        g6 = grad(cross_entropy(B, k), B)
        g7 = grad(sum(x ^ B[0, 0] + B[1, 1] ^ x), x)
        g8 = grad(sum(sin(C @ C)), C)
        g9 = grad(bce(sigmoid(x), [0, 1, 1]) + kl(softmax(x), softmax(2 * x)), x)
        g10 = grad(sum(tanh(B + w)), w)
        L = sum(g1 * g1) + sum(g2 * g2) + sum(g3 * x) + sum(g4 * g4) + sum(g5 * g5) + sum(g6 * g6) + sum(g7 * g7) + sum(g8 * g8) + sum(g9 * g9) + sum(g10 * g10)
        """,
    ]

    /// The forward nodes that the nodes emitted from `mark` on read, as the node's inputs or output.
    func reads(of id: NodeID, in emitter: Emitter, from mark: Int, result: NodeID?) -> Saved {
        var saved: Saved = []
        let graph = emitter.graph
        var read = (mark..<graph.count).flatMap { graph[$0].inputs }
        if let result { read.append(result) }
        for input in read where input < mark && !(graph[input].role == .seed) {
            if input == id { saved.insert(.output) }
            if graph[id].inputs.contains(input) { saved.insert(.inputs) }
            XCTAssertTrue(input == id || graph[id].inputs.contains(input) || input >= graph.count,
                          "\(graph[id].op.name)'s rule reads node \(input), neither its output nor an input")
        }
        return saved
    }

    /// What each rule reads of the forward pass — the node's inputs, or its own output — is
    /// what its op declares (``Op/saves``): never more, and over the corpus, exactly that.
    /// Each rule runs on its own, against gradients and tangents that are unknown leaves
    /// (so that nothing folds into a forward node).
    func testEachRuleReadsWhatItsOpDeclares() throws {
        var read: [String: Saved] = [:]
        var declared: [String: Saved] = [:]
        for text in corpus {
            let script = try Script(text)
            let output = try script.id("L")
            let graph = script.workspace.graph
            for (id, needed) in graph.ancestors(of: output).enumerated() where needed && !graph[id].isLeaf {
                let op = graph[id].op
                declared[op.name] = op.saves
                let unknown = { (emitter: inout Emitter, shape: [Int]) -> NodeID in
                    emitter.graph.append(.constant, EmptyCollection(), shape: shape, kind: .input,
                                         value: Tensor(repeating: 1, shape: shape), role: .seed)
                }
                for k in graph[id].inputs.indices {
                    var emitter = Emitter(graph: graph)
                    let g = unknown(&emitter, graph[id].shape)
                    let mark = emitter.graph.count
                    let c = try emitter.cotangent(of: id, input: k, gradient: g)
                    let saved = reads(of: id, in: emitter, from: mark, result: c)
                    XCTAssertTrue(op.saves.isSuperset(of: saved), "\(op.name)'s reverse rule reads more than it declares")
                    read[op.name, default: []].formUnion(saved)
                }
                var emitter = Emitter(graph: graph)
                var dx: [NodeID?] = []
                for input in graph[id].inputs { dx.append(unknown(&emitter, graph[input].shape)) }
                let mark = emitter.graph.count
                let t = try emitter.tangent(of: id, inputs: dx)
                let saved = reads(of: id, in: emitter, from: mark, result: t)
                XCTAssertTrue(op.saves.isSuperset(of: saved), "\(op.name)'s tangent rule reads more than it declares")
            }
        }
        for (name, saves) in declared.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(read[name] ?? [], saves, "\(name) declares what its rule reads")
        }
        // Every declared op but a leaf's value and the identity, which no rule reads.
        let every = Set(try Op.declared().map(\.name)).subtracting(["const", "identity"])
        XCTAssertEqual(every.subtracting(declared.keys).sorted(), [], "the corpus runs every op's rule")
    }

    /// `Op.differentiates` answers for elementwise ops without asking their family: the
    /// families must agree that every argument of theirs is differentiated.
    func testTheElementwiseShortcutAgreesWithTheFamilies() {
        for p in Pointwise.allCases {
            XCTAssertTrue(Op.pointwise(p).family.differentiates(argument: 0, shapes: [[2]]), "\(p)")
        }
        for b in BinaryArithmetic.allCases {
            for k in 0..<2 {
                XCTAssertTrue(Op.binary(b).family.differentiates(argument: k, shapes: [[2], [2]]), "\(b) argument \(k)")
            }
        }
    }
}
