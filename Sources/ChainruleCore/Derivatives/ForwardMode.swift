/// The tangent graph of one input: for every node between the input and the output,
/// a node of the same graph whose value is the node's directional derivative along a
/// direction of the input (forward mode). The direction is a leaf set at evaluation,
/// so one graph serves every direction.
public struct TangentGraph: Sendable {
    /// The forward nodes (ids below `base`) followed by the tangent nodes.
    public internal(set) var graph: Graph
    public let base: Int
    public let input: NodeID
    public let output: NodeID
    /// The leaf holding the direction (the input's tangent).
    public let direction: NodeID
    /// For each forward node up to the output, its tangent node, or nil where it is zero.
    public internal(set) var tangent: [NodeID?]

    public func evaluate(forward: Evaluation, direction value: Tensor,
                         shouldStop: () -> Bool = { false }) throws(EvaluationError) -> Evaluation {
        var values = Evaluation(extending: forward, to: graph.count)
        values.set(direction, value)
        try values.compute(in: graph, shouldStop: shouldStop, ids: base..<graph.count)
        return values
    }
}

public enum ForwardMode {
    /// Builds the tangent graph of every node from `input` to `output`, in creation order.
    public static func build(_ graph: Graph, input: NodeID, output: NodeID,
                             shouldStop: () -> Bool = { false }) throws(EvaluationError) -> TangentGraph {
        var emitter = Emitter(graph: graph)
        let shape = graph[input].shape
        let direction = emitter.graph.append(.constant, EmptyCollection(), shape: shape, kind: .input,
                                             value: Tensor(repeating: 1, shape: shape), role: .seed)
        var tangent: [NodeID?] = Array(repeating: nil, count: output + 1)
        guard input <= output else {
            return TangentGraph(graph: emitter.graph, base: graph.count, input: input, output: output,
                                direction: direction, tangent: tangent)
        }
        tangent[input] = direction
        let needed = graph.ancestors(of: output)
        for id in (input + 1)..<(output + 1) where needed[id] {
            if id & 255 == 0 && shouldStop() { throw .interrupted }
            let node = graph.view(id)
            let inputs = node.inputs.map { tangent[$0] }
            guard inputs.contains(where: { $0 != nil }) else { continue }
            emitter.role = .tangent(of: id)
            do throws(ShapeMessage) {
                tangent[id] = try emitter.tangent(of: id, inputs: inputs)
            } catch {
                throw .failed(Diagnostic("cannot differentiate \(node.op.name): \(error.text)", at: emitter.graph[id].origin))
            }
        }
        return TangentGraph(graph: emitter.graph, base: graph.count, input: input, output: output,
                            direction: direction, tangent: tangent)
    }
}
