/// One vector–Jacobian product of the reverse pass: what flowed along one edge.
public struct EdgeContribution: Sendable {
    /// The node whose gradient was pulled back.
    public var consumer: NodeID
    /// Which argument of `consumer` the edge enters.
    public var argument: Int
    /// The input node that receives the contribution.
    public var input: NodeID
    /// `∂L/∂consumer · ∂consumer/∂input`, of the input's shape.
    public var value: Tensor

    public init(consumer: NodeID, argument: Int, input: NodeID, value: Tensor) {
        self.consumer = consumer
        self.argument = argument
        self.input = input
        self.value = value
    }
}

/// The reverse pass's results: ∂output/∂node for every node the output depends on.
public struct Gradients: Sendable {
    public var output: NodeID
    public var seed: Tensor
    /// `gradients[id]` is ∂output/∂node `id`, or nil when the output does not depend on the node.
    public var gradients: [Tensor?]
    /// Every edge's contribution, in the order the reverse pass made them (when recorded).
    public var contributions: [EdgeContribution]

    /// For gradients read from a reverse graph: its values, each node's gradient node, and which
    /// nodes have a zero gradient. Tensors are made only for the nodes asked about.
    var source: (values: Evaluation, nodes: ReverseGraph.GradientNodes, live: [Bool], graph: Graph)?

    public subscript(id: NodeID) -> Tensor? {
        if let source {
            guard id < source.nodes.count else { return nil }
            if let node = source.nodes[id] { return source.values[node] }
            return id < source.live.count && source.live[id] ? Tensor.zeros(source.graph[id].shape) : nil
        }
        return id < gradients.count ? gradients[id] : nil
    }

    /// Runs reverse-mode differentiation from `output`, seeded with `seed` (∂output/∂output,
    /// of the output's shape), over values from a forward pass that computed `output`.
    ///
    /// Walks nodes in reverse creation order; each node's gradient is complete when
    /// reached, because all its consumers come after it. Contributions from several
    /// consumers are summed. Edges that are not differentiable (into a literal or a class
    /// index, see ``Graph/isDifferentiable(_:argument:)``) are not pulled back at all, so a
    /// node reached only through them keeps a nil gradient.
    public static func run(from output: NodeID, seed: Tensor, graph: Graph, values: Evaluation,
                           recordContributions: Bool = false,
                           shouldStop: () -> Bool = { false }) throws(EvaluationError) -> Gradients {
        var result = Gradients(output: output, seed: seed,
                               gradients: Array(repeating: nil, count: graph.count), contributions: [])
        result.gradients[output] = seed
        var arguments: [Tensor] = []
        var poll = StopPoll()
        for id in stride(from: output, through: 0, by: -1) {
            guard let g = result.gradients[id] else { continue }
            // A pullback costs about as much as the forward rule.
            try poll.account(StopPoll.units(of: id, in: graph), shouldStop)
            let inputs = graph.inputs(of: id)
            if inputs.isEmpty { continue }
            guard let y = values[id] else { preconditionFailure("backward before forward") }
            arguments.removeAll(keepingCapacity: true)
            for input in inputs { arguments.append(values[input] ?? Tensor(0)) }
            for (k, input) in inputs.enumerated() where graph.isDifferentiable(id, argument: k) {
                // Matrix products also ask `shouldStop` between blocks of rows.
                guard let contribution = graph[id].op.pullback(g, inputs: arguments, output: y, input: k,
                                                               shouldStop: shouldStop) else { throw .interrupted }
                if recordContributions {
                    result.contributions.append(EdgeContribution(consumer: id, argument: k, input: input, value: contribution))
                }
                if result.gradients[input] == nil {
                    result.gradients[input] = contribution
                } else {
                    result.gradients[input]?.accumulate(contribution)
                }
            }
        }
        return result
    }
}
