/// Learning: the parameter update lives in the core, beside the gradients it uses.
extension Workspace {
    /// The `param` leaves that `loss` depends on, in definition order.
    public func trainableParams(of loss: NodeID) -> [String] {
        let ancestors = graph.ancestors(of: loss)
        return order.filter { name in
            guard entries[name]?.kind == .param, let id = graph.node(named: name) else { return false }
            return id <= loss && ancestors[id]
        }
    }

    /// One step of gradient descent, `W ← W − η·∂loss/∂W` for each of `params`, from one
    /// forward and one reverse pass that computes the params' gradients only (the reverse graph
    /// is built once and reused across steps).
    /// Returns the loss before the step.
    public mutating func descend(_ loss: NodeID, params: [String], learningRate rate: Double) throws(EvaluationError) -> Double {
        let ids = Set(params.compactMap { graph.node(named: $0) })
        let before = try value(of: loss).scalars[0]
        // Read the params' gradients straight from the reverse graph's values: no other gradient is made.
        let reverse = try reverseGraph(of: loss, seeded: false, wrt: ids)
        let values = try reverse.evaluate(forward: evaluation, shouldStop: shouldStop)
        for name in params {
            guard let id = graph.node(named: name), var w = entries[name]?.value,
                  let g = reverse.gradient[id].flatMap({ values[$0] }) else { continue }
            for i in w.scalars.indices { w.scalars[i] -= rate * g.scalars[i] }
            setValue(w, of: name)
        }
        return before
    }
}
