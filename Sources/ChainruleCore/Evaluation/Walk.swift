/// A walk through one output's forward pass and then its reverse graph, one step at a time,
/// that can go back.
///
/// The walk keeps its own values: a node it has not reached has none (``value(of:)`` is nil),
/// never a zero or a value left from an earlier pass. Forward, each step computes one node of
/// the graph, in creation (topological) order, from its inputs' stored values (a number written
/// in a formula is computed with its consumer). Backward, each step takes one node in reverse
/// topological order and computes the nodes of the reverse graph that pull its gradient back:
/// its own gradient (the sum of what its consumers sent, all of which have stepped) and each
/// input edge's contribution `∂out/∂node · ∂node/∂input`. So an input that feeds several
/// consumers shows, between their steps, the contributions that have arrived so far.
///
/// The reverse graph is the one ``ReverseMode`` builds for the whole pass: the walk evaluates
/// its nodes in a different order, not a second implementation of the derivatives.
public struct Walk: Sendable {
    /// One step of the walk: a forward node to compute, or a node whose gradient is pulled back.
    public enum Step: Equatable, Sendable {
        case forward(NodeID)
        case backward(NodeID)

        public var node: NodeID {
            switch self {
            case .forward(let id), .backward(let id): id
            }
        }
    }

    /// One edge pulled back by a backward step.
    public struct Edge: Equatable, Sendable {
        /// The node whose gradient is pulled back along the edge.
        public var consumer: NodeID
        /// Which argument of `consumer` the edge enters.
        public var argument: Int
        /// The input node that receives the contribution.
        public var input: NodeID
        /// The reverse-graph node holding the contribution, or nil where it is zero.
        public var contribution: NodeID?
    }

    public let target: NodeID
    /// Every step, in order: the forward steps, then the backward ones.
    public let steps: [Step]
    /// How many of ``steps`` are forward steps.
    public let forwardCount: Int
    /// Steps taken so far.
    public private(set) var position = 0
    /// The reverse graph (its first ``ReverseGraph/base`` nodes are the forward graph's).
    public let reverse: ReverseGraph
    /// The edges pulled back at each backward step, by the forward node that steps.
    let edgesByConsumer: [NodeID: [Edge]]
    /// The same edges by the node they enter.
    let edgesByInput: [NodeID: [Edge]]
    /// Each step's place in ``steps``, by node: forward and backward.
    let forwardIndex: [NodeID: Int], backwardIndex: [NodeID: Int]
    /// What the walk has computed: forward values below `reverse.base`, gradient nodes above.
    var values: Evaluation
    /// The nodes each step computed, so that going back forgets exactly those.
    var computed: [[NodeID]] = []

    /// A walk to `target` over `graph`, at its start: nothing computed.
    ///
    /// The reverse graph is built now (a graph of formulas: nothing is computed). A target that
    /// is not a scalar is walked forward only (a backward pass needs a seed).
    public init(graph: Graph, target: NodeID, remat: Set<NodeID> = [],
                shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        self.target = target
        let needed = graph.ancestors(of: target)
        let forward = (0...target).filter { needed[$0] && !graph[$0].isLiteral }
        let scalar = graph[target].shape.isEmpty
        let reverse = try ReverseMode.build(graph, output: target, seeded: !scalar, remat: remat, shouldStop: shouldStop)
        self.reverse = reverse
        var backward: [Step] = []
        if scalar {
            for id in stride(from: target, through: 0, by: -1) where id < reverse.live.count && reverse.live[id] && !graph[id].isLiteral {
                backward.append(.backward(id))
            }
        }
        steps = forward.map(Step.forward) + backward
        forwardCount = forward.count
        // The edges in the order the reverse pass made its contributions (see ``ReverseGraph``).
        var edges: [NodeID: [Edge]] = [:]
        var next = 0
        for consumer in stride(from: target, through: 0, by: -1) where reverse.live[consumer] {
            let inputs = graph.inputs(of: consumer)
            guard !inputs.isEmpty else { continue }
            let pulledBack = reverse.gradient[consumer] != nil
            for (k, input) in inputs.enumerated() where reverse.live[input] {
                var node: NodeID?
                if pulledBack {
                    if next < reverse.cotangents.count, reverse.cotangents[next] >= 0 { node = NodeID(reverse.cotangents[next]) }
                    next += 1
                }
                edges[consumer, default: []].append(Edge(consumer: consumer, argument: k, input: input, contribution: node))
            }
        }
        edgesByConsumer = edges
        var into: [NodeID: [Edge]] = [:]
        for consumer in edges.keys.sorted(by: >) {
            for edge in edges[consumer] ?? [] { into[edge.input, default: []].append(edge) }
        }
        edgesByInput = into
        var forwardIndex: [NodeID: Int] = [:], backwardIndex: [NodeID: Int] = [:]
        for (i, step) in steps.enumerated() {
            switch step {
            case .forward(let id): forwardIndex[id] = i
            case .backward(let id): backwardIndex[id] = i
            }
        }
        self.forwardIndex = forwardIndex
        self.backwardIndex = backwardIndex
        values = Evaluation()
        values.pad(to: reverse.graph.count)
    }

    public var isFinished: Bool { position == steps.count }
    /// Whether the forward pass is done (every step from here on goes backward).
    public var isBackward: Bool { position >= forwardCount }
    /// The step the next ``step(shouldStop:)`` takes, or nil at the end.
    public var next: Step? { position < steps.count ? steps[position] : nil }
    /// The step taken last, or nil at the start.
    public var last: Step? { position > 0 ? steps[position - 1] : nil }
    /// The nodes the last step computed (forward nodes and gradient nodes alike).
    public var lastComputed: [NodeID] { computed.last ?? [] }

    /// The forward value of `id`, or nil when the walk has not computed it.
    public func value(of id: NodeID) -> Tensor? {
        id < reverse.base ? values[id] : nil
    }

    /// ∂target/∂`id` once the walk has pulled it back (every consumer of `id` has stepped and
    /// `id`'s own step has summed them), or nil before. A node whose gradient is structurally
    /// zero (behind `step`) has a zero gradient once its step is taken.
    public func gradient(of id: NodeID) -> Tensor? {
        guard hasStepped(.backward(id)) else { return nil }
        if let node = gradientNode(of: id) { return values[node] }
        return Tensor.zeros(reverse.graph[id].shape)
    }

    /// The reverse-graph node holding ∂target/∂`id` (the seed for the target), or nil where it is zero.
    func gradientNode(of id: NodeID) -> NodeID? {
        id < reverse.gradient.count ? reverse.gradient[id] : nil
    }

    /// The edges that a backward step of `id` pulls back, in argument order.
    public func edges(from id: NodeID) -> [Edge] { edgesByConsumer[id] ?? [] }

    /// The contributions that have reached `id` so far: one per consumer edge already pulled
    /// back, with its value (a zero tensor where the edge's derivative is zero).
    public func arrived(at id: NodeID) -> [(edge: Edge, value: Tensor)] {
        (edgesByInput[id] ?? []).filter { hasStepped(.backward($0.consumer)) }.map { edge in
            (edge, edge.contribution.flatMap { values[$0] } ?? Tensor.zeros(reverse.graph[id].shape))
        }
    }

    /// How many edges will bring `id` a contribution in all.
    public func expectedContributions(at id: NodeID) -> Int { edgesByInput[id]?.count ?? 0 }

    /// The value of reverse-graph node `id` if the walk has computed it.
    public func reverseValue(_ id: NodeID) -> Tensor? { values[id] }

    /// The place of `step` in ``steps``, or nil when the walk does not take it (found by node, not searched).
    public func index(of step: Step) -> Int? {
        switch step {
        case .forward(let id): forwardIndex[id]
        case .backward(let id): backwardIndex[id]
        }
    }

    /// Whether the walk takes `step` at all.
    public func passes(_ step: Step) -> Bool { index(of: step) != nil }

    /// Whether `step` has been taken.
    public func hasStepped(_ step: Step) -> Bool {
        index(of: step).map { $0 < position } ?? false
    }

    /// Takes the next step: computes exactly what it needs and nothing after it. Returns the
    /// step taken, or nil at the end.
    public mutating func step(shouldStop: () -> Bool = { false }) throws(EvaluationError) -> Step? {
        guard let step = next else { return nil }
        var ids: [NodeID] = []
        switch step {
        case .forward(let id):
            // The node and any number written into its formula.
            for input in reverse.graph.inputs(of: id) where !values.has(input) { ids.append(input) }
            ids.append(id)
            try values.compute(in: reverse.graph, shouldStop: shouldStop, ids: ids)
        case .backward(let id):
            var wanted: [NodeID] = []
            if let g = gradientNode(of: id) { wanted.append(g) }
            for edge in edges(from: id) { if let c = edge.contribution { wanted.append(c) } }
            ids = missing(wanted)
            try values.compute(in: reverse.graph, shouldStop: shouldStop, ids: ids)
        }
        computed.append(ids)
        position += 1
        return step
    }

    /// `wanted` and every node they depend on that has no value yet, in creation order.
    func missing(_ wanted: [NodeID]) -> [NodeID] {
        var marked = Set<NodeID>()
        var stack: [NodeID] = []
        for id in wanted where !values.has(id) && marked.insert(id).inserted { stack.append(id) }
        while let id = stack.popLast() {
            for input in reverse.graph.inputs(of: id) where !values.has(input) && marked.insert(input).inserted {
                stack.append(input)
            }
        }
        return marked.sorted()
    }

    /// Undoes the last step: forgets what it computed. Returns the step undone, or nil at the start.
    @discardableResult
    public mutating func back() -> Step? {
        guard position > 0, let ids = computed.popLast() else { return nil }
        values.forget(ids)
        position -= 1
        return steps[position]
    }

    /// The walk at its start, nothing computed.
    public mutating func reset() {
        while back() != nil {}
    }
}
