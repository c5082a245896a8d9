/// Many evaluations of one derivative graph that differ only in the value of one leaf: a
/// reverse graph's seed or a tangent graph's direction, set to each unit vector in turn to
/// build a Jacobian or a Hessian one row or column at a time.
///
/// The derivative nodes that do not read that leaf, directly or through other nodes, have
/// the same value in every pass — `transpose(A)` in the reverse graph of `A @ x`, a forward
/// value recomputed for ``Workspace/remat`` — so they are computed once, when the passes are
/// set up, and each pass computes only the nodes that read the leaf. The graph is evaluated
/// as it is, node by node, so what a pass computes is what the graph says.
public struct SeededPasses: Sendable {
    public let graph: Graph
    /// The leaf set on each pass.
    public let leaf: NodeID
    /// The derivative nodes (ids from the graph's base) that read the leaf, directly or through
    /// others, in creation order: what each pass computes.
    public let varying: [NodeID]
    /// The forward values and every derivative node that does not read the leaf.
    public private(set) var shared: Evaluation
    /// Nodes computed in all, by the set-up and by every pass so far.
    public private(set) var computedNodes: Int

    /// Computes the derivative nodes of `graph` (ids from `base` on) that do not read `leaf`,
    /// from the forward values `forward`.
    public init(_ graph: Graph, base: Int, leaf: NodeID, forward: Evaluation,
                shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        var reads = Array(repeating: false, count: graph.count - base)
        var varying: [NodeID] = []
        var constant: [NodeID] = []
        for id in base..<graph.count {
            if id == leaf || graph.inputs(of: id).contains(where: { $0 >= base && reads[$0 - base] }) {
                reads[id - base] = true
                if id != leaf { varying.append(id) }
            } else {
                constant.append(id)
            }
        }
        self.graph = graph
        self.leaf = leaf
        self.varying = varying
        shared = Evaluation(extending: forward, to: graph.count)
        let before = shared.computedNodes
        try shared.compute(in: graph, shouldStop: shouldStop, ids: constant)
        computedNodes = shared.computedNodes - before
    }

    /// The values of one pass with the leaf holding `value`: the shared values and the
    /// nodes that read the leaf, computed for it.
    public mutating func evaluate(_ value: Tensor, shouldStop: () -> Bool = { false }) throws(EvaluationError) -> Evaluation {
        var values = shared
        values.set(leaf, value)
        let before = values.computedNodes
        try values.compute(in: graph, shouldStop: shouldStop, ids: varying)
        computedNodes += values.computedNodes - before
        return values
    }
}

extension ReverseGraph {
    /// Passes of this graph for one seed after another (the rows of a Jacobian).
    public func seededPasses(forward: Evaluation, shouldStop: () -> Bool = { false }) throws(EvaluationError) -> SeededPasses {
        try SeededPasses(graph, base: base, leaf: seed, forward: forward, shouldStop: shouldStop)
    }
}

extension TangentGraph {
    /// Passes of this graph for one direction after another (the columns of a Jacobian or a Hessian).
    public func seededPasses(forward: Evaluation, shouldStop: () -> Bool = { false }) throws(EvaluationError) -> SeededPasses {
        try SeededPasses(graph, base: base, leaf: direction, forward: forward, shouldStop: shouldStop)
    }
}
