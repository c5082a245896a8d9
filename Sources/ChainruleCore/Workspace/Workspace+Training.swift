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
    /// forward and one reverse pass (the reverse graph is built once and reused across steps).
    /// Returns the loss before the step.
    public mutating func descend(_ loss: NodeID, params: [String], learningRate rate: Double) throws(EvaluationError) -> Double {
        let result = try gradients(of: loss)
        let before = evaluation[loss]?.scalars[0] ?? .nan
        for name in params {
            guard let id = graph.node(named: name), let g = result[id], var w = entries[name]?.value else { continue }
            for i in w.scalars.indices { w.scalars[i] -= rate * g.scalars[i] }
            setValue(w, of: name)
        }
        return before
    }
}
