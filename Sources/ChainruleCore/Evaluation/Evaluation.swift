/// Stopped because the caller asked (Ctrl-C during a long computation).
public struct Interrupted: Error, Sendable {
    public init() {}
}

/// The forward pass's results: every node's value, kept so the reverse pass can reuse them.
public struct Evaluation: Sendable {
    /// `values[id]` is the value of node `id`, or nil if it has not been computed.
    public private(set) var values: [Tensor?] = []

    public init() {}

    public subscript(id: NodeID) -> Tensor? { id < values.count ? values[id] : nil }

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
        for id in 0...target where needed[id] && values[id] == nil {
            if id & 1023 == 0 && shouldStop() { throw .interrupted }
            let node = graph[id]
            if let leaf = node.value {
                values[id] = leaf
                continue
            }
            var inputs: [Tensor] = []
            inputs.reserveCapacity(node.inputs.count)
            for input in node.inputs {
                guard let value = values[input] else { preconditionFailure("input evaluated before its consumer") }
                inputs.append(value)
            }
            do {
                values[id] = try node.op.forward(inputs)
            } catch {
                throw .failed(Diagnostic(error.text, at: node.origin))
            }
        }
    }
}

extension Evaluation {
    /// Computes every node of the graph that has no value yet, in creation order.
    public mutating func computeAll(in graph: Graph, shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        if values.count < graph.count { values += Array(repeating: nil, count: graph.count - values.count) }
        for id in 0..<graph.count where values[id] == nil {
            if id & 1023 == 0 && shouldStop() { throw .interrupted }
            let node = graph[id]
            if let leaf = node.value {
                values[id] = leaf
                continue
            }
            let inputs = node.inputs.map { values[$0] ?? Tensor(0) }
            do {
                values[id] = try node.op.forward(inputs)
            } catch {
                throw .failed(Diagnostic(error.text, at: node.origin))
            }
        }
    }
}

public enum EvaluationError: Error, Sendable {
    case failed(Diagnostic)
    case interrupted
}
