/// Where a pass first produced a value that is not finite: the first node, in topological
/// order, whose value holds a NaN or an infinity. Its inputs' values are finite (or it is a
/// leaf), so this is where the NaN or infinity was born.
public struct NonFiniteNode: Sendable {
    /// The node, in `graph`: a forward node when below `base`, else a gradient node.
    public var node: NodeID
    /// The graph the node is in: the forward graph, or a reverse graph (forward nodes first).
    public var graph: Graph
    /// Where the gradient nodes start in `graph` (its count for a forward graph).
    public var base: Int
    /// For a gradient node, the forward node whose pullback made it, and the forward node whose
    /// whole gradient it is, if it is one.
    public var owner: NodeID?
    public var gradientOf: NodeID?
    /// The node's value and its inputs' values, in argument order (nil: not computed).
    public var value: Tensor
    public var inputs: [Tensor?]
    /// The output whose reverse pass `graph` is (nil for a forward graph).
    public var output: NodeID?

    public var inReversePass: Bool { node >= base }

    /// The first node of `ids` (in creation order) whose value, read by `value`, is not finite.
    public static func first(in graph: Graph, base: Int? = nil, ids: some Sequence<NodeID>,
                             value: (NodeID) -> Tensor?, owner: (NodeID) -> NodeID? = { _ in nil },
                             gradientOf: (NodeID) -> NodeID? = { _ in nil }) -> NonFiniteNode? {
        for id in ids {
            guard let v = value(id), v.scalars.contains(where: { !$0.isFinite }) else { continue }
            return NonFiniteNode(node: id, graph: graph, base: base ?? graph.count, owner: owner(id), gradientOf: gradientOf(id),
                                 value: v, inputs: graph[id].inputs.map(value))
        }
        return nil
    }

    /// The first node of a forward pass and then of its reverse pass whose value is not finite.
    public static func first(in reverse: ReverseGraph, values: Evaluation) -> NonFiniteNode? {
        var totals = [NodeID: NodeID]()
        for (id, g) in reverse.gradient.enumerated() { if let g, g >= reverse.base { totals[g] = id } }
        var found = first(in: reverse.graph, base: reverse.base, ids: 0..<reverse.graph.count, value: { values[$0] },
                          owner: { $0 >= reverse.base ? reverse.owner(of: $0) : nil }, gradientOf: { totals[$0] })
        found?.output = reverse.output
        return found
    }
}

extension TrainingPlan {
    /// Whether every element of every param's gradient is finite.
    func gradientsAreFinite() -> Bool {
        var finite = true
        for param in params {
            guard let gradient = param.gradient else { continue }
            values.withElements(of: gradient) { g in
                for x in g where !x.isFinite { finite = false; break }
            }
            if !finite { return false }
        }
        return true
    }

    /// The first node the step computed whose value is not finite, forward nodes first.
    func firstNonFinite(forward graph: Graph) -> NonFiniteNode? {
        let forwardIDs = (constantForward + forward).sorted()
        if var found = NonFiniteNode.first(in: graph, base: reverse.base, ids: forwardIDs, value: { values[$0] }) {
            found.output = loss
            return found
        }
        var totals = [NodeID: NodeID]()
        for (id, g) in reverse.gradient.enumerated() { if let g, g >= reverse.base { totals[g] = id } }
        let reverseIDs = (constantReverse + self.reverseIDs).sorted()
        var found = NonFiniteNode.first(in: reverse.graph, base: reverse.base, ids: reverseIDs, value: { values[$0] },
                                        owner: { reverse.owner(of: $0) }, gradientOf: { totals[$0] })
        found?.output = loss
        return found
    }
}

extension Workspace {
    /// The first value that is not finite in the forward pass to `output` (computed), then, with
    /// `reverse` and a scalar output, in its reverse pass; nil when every value is finite.
    public mutating func firstNonFinite(to output: NodeID, reverse: Bool) throws(EvaluationError) -> NonFiniteNode? {
        _ = try value(of: output)
        let ancestors = graph.ancestors(of: output)
        let values = evaluation
        if let found = NonFiniteNode.first(in: graph, ids: (0...output).lazy.filter { ancestors[$0] }, value: { values[$0] }) {
            return found
        }
        guard reverse, graph[output].isScalar else { return nil }
        let pass = try reverseGraph(of: output, seeded: false)
        let reverseValues = try pass.evaluate(forward: evaluation, shouldStop: shouldStop)
        return NonFiniteNode.first(in: pass, values: reverseValues)
    }
}
