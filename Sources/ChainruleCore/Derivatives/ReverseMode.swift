/// The reverse graph of one output: for every node the output depends on, a node of
/// the same graph whose value is ∂output/∂node, built from the ops' reverse rules.
///
/// The forward nodes come first (ids below ``base``) and are shared by reference: a
/// gradient node reads the forward values it needs (the residuals) instead of copies.
/// Contributions reaching a node from several consumers are summed by explicit `add`
/// nodes, in a fixed order: consumers from the last to the first, arguments in order.
public struct ReverseGraph: Sendable {
    /// For each forward node, the node holding its gradient or nil: one 32-bit id per node
    /// (-1 for nil), read as optional ids.
    public struct GradientNodes: RandomAccessCollection, Sendable {
        fileprivate var ids: [Int32]

        init(count: Int) { ids = Array(repeating: -1, count: count) }

        public var startIndex: Int { 0 }
        public var endIndex: Int { ids.count }
        public subscript(id: NodeID) -> NodeID? {
            get { ids[id] < 0 ? nil : NodeID(ids[id]) }
            set { ids[id] = newValue.map { Int32(truncatingIfNeeded: $0) } ?? -1 }
        }
    }

    /// The forward nodes (ids below `base`) followed by the gradient nodes.
    public internal(set) var graph: Graph
    public let base: Int
    public let output: NodeID
    /// The leaf holding the seed ∂out/∂out (a constant 1 for an unseeded scalar output).
    public let seed: NodeID
    /// For each forward node, the node holding ∂out/∂node, or nil where it is zero or not asked for.
    public internal(set) var gradient: GradientNodes
    /// The node holding each edge's contribution `∂out/∂consumer · ∂consumer/∂input`, or -1
    /// where it is zero: one 32-bit id per edge into a node that needs a gradient, in the order
    /// the pass made them (consumers from the output down, arguments in order), so that the
    /// consumer, argument and input of each are found again by the same walk, not stored.
    var cotangents: [Int32]
    /// Forward nodes the output depends on (reads some element of, ``Dependence``) through
    /// differentiable arguments: their gradient is zero where no node holds it (a derivative
    /// that is zero, as through `step`); every other node has none (`null` in JSON).
    public internal(set) var live: [Bool]
    /// For a pass that wants numbers only (``ReverseMode/buildNumbers(_:output:wrt:maximumNodes:shouldStop:)``),
    /// the gradient nodes as a tape; `graph` is then the forward graph alone, and the ids from
    /// `base` on are the tape's.
    var tape: ScalarTape? = nil

    /// The gradient nodes emitted while pulling back through forward node `id`, and the recomputed
    /// forward nodes, each with the forward node it belongs to.
    public func owner(of id: NodeID) -> NodeID? {
        switch graph[id].role {
        case .gradient(let of), .recompute(let of), .tangent(let of): of
        case .forward, .seed: nil
        }
    }

    /// Forward nodes whose stored values the gradient nodes read: what the forward pass must keep.
    public var residuals: [NodeID] {
        var used = Array(repeating: false, count: base)
        for id in base..<graph.count {
            for input in graph[id].inputs where input < base { used[input] = true }
        }
        return used.indices.filter { used[$0] }
    }
}

public enum ReverseMode {
    /// Builds the reverse graph of `output` over `graph`.
    ///
    /// - Parameters:
    ///   - wrt: the nodes whose gradients are wanted; nil for every differentiable leaf.
    ///   - seeded: whether the seed is a leaf whose value is given at evaluation (any shape);
    ///     otherwise it is the constant 1, and `output` must be a scalar.
    ///   - remat: nodes whose values are recomputed inside the reverse graph instead of stored.
    ///   - maximumNodes: the most nodes the reverse graph may add; past it, `refusal` is thrown.
    public static func build(_ graph: Graph, output: NodeID, wrt: Set<NodeID>? = nil, seeded: Bool = false,
                             remat: Set<NodeID> = [], maximumNodes: Int = .max,
                             refusal: (Int) -> Diagnostic = tooManyNodes,
                             shouldStop: () -> Bool = { false }) throws(EvaluationError) -> ReverseGraph {
        var emitter = Emitter(graph: graph, expected: 2 * (output + 1))
        emitter.remat = remat
        emitter.role = .seed
        let seed: NodeID
        if seeded {
            let shape = graph[output].shape
            seed = emitter.graph.append(.constant, EmptyCollection(), shape: shape, kind: .input,
                                        value: Tensor(repeating: 1, shape: shape), role: .seed)
        } else {
            // A known 1: rules fold it away (ḡ·d is d), so no node multiplies by the seed.
            emitter.role = .gradient(of: output)
            seed = emitter.scalar(1)
        }
        let (limit, overflow) = graph.count.addingReportingOverflow(maximumNodes)
        return try emit(into: &emitter, base: graph.count, output: output, seed: seed, wrt: wrt,
                        maximumCount: overflow ? .max : limit, refusal: { refusal($0 - graph.count) }, shouldStop: shouldStop)
    }

    /// The reverse graph of the scalar `output` for its numbers only: the same rules emit the
    /// same nodes onto a ``ScalarTape`` (nothing shared, no roles, origins or edge list), when
    /// every node the pass reads is a scalar and every node it emits a scalar of scalars;
    /// otherwise, or when the tape would pass `maximumNodes`, the reverse graph itself, as
    /// ``build(_:output:wrt:seeded:remat:maximumNodes:refusal:shouldStop:)`` makes it (with its refusals).
    /// Either way the gradients are the reverse graph's, bit for bit.
    /// - Parameter edges: whether the tape keeps each edge's contribution node, as the graph does
    ///   (no command needs them from a tape: a test compares them with the graph's).
    static func buildNumbers(_ graph: Graph, output: NodeID, wrt: Set<NodeID>? = nil, maximumNodes: Int = .max,
                             edges: Bool = false, refusal: (Int) -> Diagnostic = tooManyNodes,
                             shouldStop: () -> Bool = { false }) throws(EvaluationError) -> ReverseGraph {
        func asGraph() throws(EvaluationError) -> ReverseGraph {
            try build(graph, output: output, wrt: wrt, maximumNodes: maximumNodes, refusal: refusal, shouldStop: shouldStop)
        }
        guard graph[output].isScalar else { return try asGraph() }
        let live = liveness(graph, output: output, wrt: wrt)
        guard readsScalarsOnly(graph, output: output, live: live) else { return try asGraph() }
        let tape = ScalarTape(base: graph.count, expected: 2 * (output + 1))
        var emitter = Emitter(numbersOver: graph, tape: tape)
        let seed = emitter.scalar(1)
        let (limit, overflow) = graph.count.addingReportingOverflow(maximumNodes)
        do {
            let reverse = try emit(into: &emitter, base: graph.count, output: output, seed: seed, wrt: wrt, live: live,
                                   edges: edges, maximumCount: overflow ? .max : limit, shouldStop: shouldStop)
            if !tape.unsupported { return reverse }
        } catch {
            if case .interrupted = error { throw error }
        }
        // Past the limit, or a rule the tape cannot hold: the graph decides, and says why.
        return try asGraph()
    }

    /// Whether every node the reverse pass reads is a scalar: the live nodes and their inputs.
    static func readsScalarsOnly(_ graph: Graph, output: NodeID, live: [Bool]) -> Bool {
        for id in 0...output where live[id] {
            guard graph.isScalar(id) else { return false }
            for input in graph.inputs(of: id) where !graph.isScalar(input) { return false }
        }
        return true
    }

    /// The refusal of a derivative past `maximumCount` nodes, when no other is given.
    public static func tooManyNodes(_ maximumCount: Int) -> Diagnostic {
        Diagnostic("the derivative would take more than \(maximumCount) nodes", at: nil)
    }

    /// Appends the reverse graph of `output`, seeded by node `seed`, to the emitter's graph.
    /// - Parameter maximumCount: the most nodes the graph may hold; past it, the pass is refused.
    /// - Parameters:
    ///   - live: the nodes that need a gradient (``liveness(_:output:wrt:)``), when already known.
    ///   - edges: whether to keep each edge's contribution node (`:backward` shows them).
    static func emit(into emitter: inout Emitter, base: Int, output: NodeID, seed: NodeID, wrt: Set<NodeID>?,
                     live known: [Bool]? = nil, edges: Bool = true,
                     maximumCount: Int = .max, refusal: (Int) -> Diagnostic = tooManyNodes,
                     shouldStop: () -> Bool) throws(EvaluationError) -> ReverseGraph {
        let live = known ?? liveness(emitter.graph, output: output, wrt: wrt)
        var result = ReverseGraph(graph: Graph(), base: base, output: output, seed: seed,
                                  gradient: ReverseGraph.GradientNodes(count: base), cotangents: [], live: live,
                                  tape: emitter.tape)
        // The table gathers each node's contributions as its consumers are passed, and holds its
        // whole gradient by the time the walk reaches it: every consumer comes after it.
        result.gradient[output] = seed
        for id in stride(from: output, through: 0, by: -1) where live[id] {
            if id & 255 == 0 {
                if shouldStop() { throw .interrupted }
                if emitter.count > maximumCount {
                    throw .failed(refusal(maximumCount))
                }
            }
            guard let g = result.gradient[id] else { continue }
            let node = emitter.graph.view(id)
            let op = node.op, derivative = op.family.derivative
            do throws(ShapeMessage) {
                for (k, input) in node.inputs.enumerated() where live[input] {
                    emitter.role = .gradient(of: id)
                    let c = try emitter.cotangent(of: id, op: op, derivative: derivative, input: k, gradient: g)
                    if edges { result.cotangents.append(c.map { Int32(truncatingIfNeeded: $0) } ?? -1) }
                    guard let c else { continue }
                    emitter.role = .gradient(of: input)
                    result.gradient[input] = try emitter.add(result.gradient[input], c)
                }
            } catch {
                throw .failed(Diagnostic("cannot differentiate \(node.op.name): \(error.text)", at: emitter.graph[id].origin))
            }
        }
        result.graph = emitter.graph
        return result
    }

    /// Nodes that need a gradient: the output depends on them (reads some of their elements,
    /// ``Dependence``), and they depend on a differentiable leaf (or on one of `wrt`) through
    /// differentiable arguments. A node whose op differentiates none of its arguments (the rows of
    /// `one_hot`, made of class indices) is where the reverse pass ends, as at a leaf: without
    /// `wrt` it gets its gradient, and nothing flows on into its arguments.
    static func liveness(_ graph: Graph, output: NodeID, wrt: Set<NodeID>?) -> [Bool] {
        // Reached from the output along arguments that are differentiated at all, reading some
        // of their elements (not only elements beside them, as in `[w, c][0]`)…
        var live = Dependence.reached(graph, output: output)
        // …and reaching a leaf that is differentiated (or one of `wrt`).
        var wanted: [Bool] = []
        if let wrt {
            wanted = Array(repeating: false, count: output + 1)
            for id in wrt where id >= 0 && id <= output { wanted[id] = true }
        }
        let elementwise = graph.elementwiseOps
        for id in 0...output where live[id] {
            if !wanted.isEmpty && wanted[id] { continue }
            // An elementwise op differentiates every argument.
            if let inputs = graph.elementwiseInputs(of: id, elementwise) {
                live[id] = inputs.range.isEmpty
                    ? wrt == nil && graph.isDifferentiableLeaf(id)
                    : inputs.range.contains { live[Int(inputs.store.pool[$0])] }
                continue
            }
            let inputs = graph.inputs(of: id)
            if inputs.isEmpty {
                live[id] = wrt == nil && graph[id].isDifferentiableLeaf
                continue
            }
            let op = graph[id].op
            let shapes = argumentShapes(op, inputs, graph)
            var differentiated = false
            live[id] = inputs.enumerated().contains { k, input in
                guard op.differentiates(argument: k, shapes: shapes) else { return false }
                differentiated = true
                return live[input]
            }
            if !differentiated { live[id] = wrt == nil }
        }
        return live
    }

    /// The shapes ``Op/differentiates(argument:shapes:)`` reads: only a loss looks at them,
    /// so other ops get none (no array made per node).
    static func argumentShapes(_ op: Op, _ inputs: NodeInputs, _ graph: Graph) -> [[Int]] {
        guard case .loss = op else { return [] }
        return inputs.map { graph[$0].shape }
    }
}

extension Node {
    /// A leaf that receives a gradient: a named leaf, not a literal written in a formula or a seed.
    public var isDifferentiableLeaf: Bool {
        isLeaf && hasName && isForward
    }
}

extension ReverseGraph {
    /// Evaluates the gradient nodes, given the forward values (which must include every
    /// node the output depends on) and, for a seeded graph, the seed's value.
    public func evaluate(forward: Evaluation, seed value: Tensor? = nil,
                         shouldStop: () -> Bool = { false }) throws(EvaluationError) -> Evaluation {
        var values = Evaluation(extending: forward, to: graph.count)
        if let value { values.set(seed, value) }
        try values.compute(in: graph, shouldStop: shouldStop, ids: base..<graph.count)
        return values
    }

    /// The gradients, read from the values of this reverse graph's tape (``ScalarTape/evaluate(forward:shouldStop:)``).
    func gradients(forward: Evaluation, tape values: [Double]) -> Gradients {
        var result = Gradients(output: output, seed: Tensor(1), gradients: [], contributions: [])
        result.tapeSource = (forward, values, base, gradient, live)
        return result
    }

    /// The gradients as tensors, with each edge's contribution.
    /// Each edge's contribution is included only when `contributions` asks for it (`:backward` shows them).
    /// An edge whose derivative is zero (out of `step` or `sign`) has no gradient node, yet it is
    /// an edge of the graph: it is listed with a zero contribution, in its place.
    public func gradients(_ values: Evaluation, contributions: Bool = true) -> Gradients {
        var result = Gradients(output: output, seed: values[seed] ?? Tensor(1), gradients: [], contributions: [])
        result.source = (values, gradient, live, graph)
        guard contributions else { return result }
        // The walk the pass made: consumers from the output down, arguments in order; a
        // consumer whose own gradient is zero (behind a `step`) was passed without a cotangent.
        var next = 0
        for consumer in stride(from: output, through: 0, by: -1) where live[consumer] {
            let inputs = graph.inputs(of: consumer)
            if inputs.isEmpty { continue }
            let op = graph[consumer].op
            let shapes = ReverseMode.argumentShapes(op, inputs, graph)
            let pulledBack = gradient[consumer] != nil
            for (k, input) in inputs.enumerated() where live[input] {
                var c = -1
                if pulledBack {
                    c = next < cotangents.count ? Int(cotangents[next]) : -1
                    next += 1
                }
                if c >= 0, let value = values[c] {
                    result.contributions.append(EdgeContribution(consumer: consumer, argument: k, input: input, value: value))
                } else if c < 0, op.differentiates(argument: k, shapes: shapes) {
                    result.contributions.append(EdgeContribution(consumer: consumer, argument: k, input: input,
                                                                 value: Tensor.zeros(graph[input].shape)))
                }
            }
        }
        return result
    }
}
