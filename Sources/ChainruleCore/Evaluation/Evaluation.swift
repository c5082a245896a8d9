/// Asks `shouldStop` after every ``interval`` units of work (elements computed), so that
/// a pass over a few huge nodes and a pass over many tiny ones are both stopped promptly.
public struct StopPoll {
    /// Elements of work between two questions; a node counts at least one.
    public static let interval = 1 << 16
    let shouldStop: () -> Bool
    var done = 0

    public init(_ shouldStop: @escaping () -> Bool) { self.shouldStop = shouldStop }

    /// The work of computing node `id`: its multiply–adds for products, else its elements.
    static func units(of id: NodeID, in nodes: UnsafeBufferPointer<Node>) -> Int {
        let node = nodes[id]
        switch node.op {
        case .matmul, .einsum:
            return node.op.work(node.inputs.map { nodes[$0].shape }) ?? Int.max / 2
        default:
            var count = 1
            for size in node.shape { count &*= size }
            return count
        }
    }

    /// Counts `units` of work about to be done; throws when the caller asked to stop.
    public mutating func account(_ units: Int) throws(EvaluationError) {
        done += Swift.min(Swift.max(1, units), StopPoll.interval)
        guard done >= StopPoll.interval else { return }
        done = 0
        if shouldStop() { throw .interrupted }
    }
}

/// The forward pass's results: every node's value, kept so the reverse pass can reuse them.
public struct Evaluation: Sendable {
    /// `values[id]` is the value of node `id`, or nil if it has not been computed.
    public private(set) var values: [Tensor?] = []

    public init() {}

    public subscript(id: NodeID) -> Tensor? { id < values.count ? values[id] : nil }

    /// Makes room for the values of a graph of `count` nodes.
    mutating func pad(to count: Int) {
        if values.count < count { values += Array(repeating: nil, count: count - values.count) }
    }

    /// Gives node `id` a value (a seed, set before the pass that reads it).
    mutating func set(_ id: NodeID, _ value: Tensor) {
        pad(to: id + 1)
        values[id] = value
    }

    /// Forgets every value from node `id` on (after the graph changed there).
    public mutating func invalidate(from id: NodeID = 0) {
        if id < values.count { values.removeSubrange(id...) }
    }

    /// Forgets every computed (non-leaf) value, keeping nothing stale after a leaf changed.
    public mutating func invalidateAll() { values.removeAll(keepingCapacity: true) }

    /// Computes, in creation order, the value of `target` and of every node it depends on
    /// that has no value yet. Loops over the node array; never recursive.
    public mutating func compute(_ target: NodeID, in graph: Graph,
                                 shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        if values.count < graph.count { values += Array(repeating: nil, count: graph.count - values.count) }
        if values[target] != nil { return }
        let needed = graph.ancestors(of: target)
        try compute(in: graph, shouldStop: shouldStop) { id in id <= target && needed[id] }
    }

    /// Computes every node of the graph that has no value yet, in creation order.
    public mutating func computeAll(in graph: Graph, shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        if values.count < graph.count { values += Array(repeating: nil, count: graph.count - values.count) }
        try compute(in: graph, shouldStop: shouldStop) { _ in true }
    }

    /// The forward pass over the nodes that `include` selects and that have no value yet.
    /// Nodes are borrowed from the graph's storage, not copied, and the argument list is
    /// reused from node to node: this loop is the evaluator's hot path.
    mutating func compute(in graph: Graph, shouldStop: () -> Bool,
                          include: (NodeID) -> Bool) throws(EvaluationError) {
        var arguments: [Tensor] = []
        try withoutActuallyEscaping(shouldStop) { (shouldStop) throws(EvaluationError) in
            var poll = StopPoll(shouldStop)
            try graph.nodes.withUnsafeBufferPointer { (nodes) throws(EvaluationError) in
                for id in nodes.indices where values[id] == nil && include(id) {
                    try poll.account(StopPoll.units(of: id, in: nodes))
                    if let leaf = nodes[id].value {
                        values[id] = leaf
                        continue
                    }
                    arguments.removeAll(keepingCapacity: true)
                    for input in nodes[id].inputs {
                        guard let value = values[input] else { preconditionFailure("input evaluated before its consumer") }
                        arguments.append(value)
                    }
                    do throws(ShapeMessage) {
                        values[id] = try nodes[id].op.forward(arguments)
                    } catch {
                        throw .failed(Diagnostic(error.text, at: nodes[id].origin))
                    }
                }
            }
        }
    }
}

public enum EvaluationError: Error, Sendable {
    case failed(Diagnostic)
    case interrupted
}
