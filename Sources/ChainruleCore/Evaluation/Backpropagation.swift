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
    /// For gradients read from a ``ScalarTape``: the forward values, the tape's values (node
    /// `base + i` is `tape[i]`), each node's gradient node, and which nodes have a zero gradient.
    var tapeSource: (forward: Evaluation, tape: [Double], base: Int, nodes: ReverseGraph.GradientNodes, live: [Bool])?

    /// The values of the reverse graph these gradients were read from, forward values included
    /// (what `:reverse` lists), or nil when they were not read from one.
    public var reverseValues: Evaluation? { source?.values }

    public subscript(id: NodeID) -> Tensor? {
        if let source = tapeSource {
            guard id < source.nodes.count else { return nil }
            if let node = source.nodes[id] {
                return node >= source.base ? Tensor(source.tape[node - source.base]) : source.forward[node]
            }
            return id < source.live.count && source.live[id] ? Tensor.zeros([]) : nil
        }
        if let source {
            guard id < source.nodes.count else { return nil }
            if let node = source.nodes[id] { return source.values[node] }
            return id < source.live.count && source.live[id] ? Tensor.zeros(source.graph[id].shape) : nil
        }
        return id < gradients.count ? gradients[id] : nil
    }
}
