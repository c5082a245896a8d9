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
    /// forward and one reverse pass that computes the params' gradients only.
    ///
    /// The step is compiled once per graph version, loss and params (``TrainingPlan``): the
    /// reverse graph is built once, the values of both passes are kept from step to step, a
    /// step recomputes only the nodes that depend on a param — what depends on data alone,
    /// such as `Xᵀ` in ∂W = Xᵀ·G, is computed once — and each recomputed tensor is written
    /// into the buffer it had in the step before. Returns the loss before the step.
    public mutating func descend(_ loss: NodeID, params: [String], learningRate rate: Double) throws(EvaluationError) -> Double {
        let ids = Set(params.compactMap { graph.node(named: $0) })
        let reverse = try reverseGraph(of: loss, seeded: false, wrt: ids)
        let key = ReverseKey(version: version, output: loss, seeded: false, wrt: ids)
        // Taken out while it runs, so that its buffers are not shared; dropped if a pass fails.
        var plan: TrainingPlan
        if let kept = trainingPlan.take(), kept.key == key, kept.reverseBuild == reverseBuilds, kept.leafEdits == leafEdits {
            plan = kept
            plan.values.recycle(plan.forward)
            plan.values.recycle(plan.reverse)
        } else {
            plan = TrainingPlan(reverse, key: key, params: ids, build: reverseBuilds)
        }
        if plan.fresh {
            let base = reverse.base
            try plan.values.compute(in: graph, shouldStop: shouldStop, ids: plan.constant.lazy.filter { $0 < base })
            try plan.values.compute(in: reverse.graph, shouldStop: shouldStop, ids: plan.constant.lazy.filter { $0 >= base })
            plan.fresh = false
        }
        // Forward nodes read the workspace's graph (it holds the params' current values);
        // gradient nodes read the reverse graph.
        try plan.values.compute(in: graph, shouldStop: shouldStop, ids: plan.forward)
        try plan.values.compute(in: reverse.graph, shouldStop: shouldStop, ids: plan.reverse)
        let before = plan.values[loss]?.scalars[0] ?? .nan
        for name in params {
            guard let id = graph.node(named: name), var w = entries[name]?.value,
                  let g = reverse.gradient[id].flatMap({ plan.values[$0] }) else { continue }
            for i in w.scalars.indices { w.scalars[i] -= rate * g.scalars[i] }
            setValue(w, of: name)
        }
        plan.leafEdits = leafEdits
        trainingPlan = plan
        return before
    }
}

/// A training step compiled for one loss and set of params: which nodes a step recomputes,
/// and the values of both passes, kept from step to step.
struct TrainingPlan: Sendable {
    let key: ReverseKey
    /// Which reverse graph of the workspace the ids below belong to.
    let reverseBuild: Int
    /// The workspace's count of leaf edits when the values were last made current.
    var leafEdits = 0
    var values = Evaluation()
    /// Forward nodes the loss needs that depend on a param (the params included), in order.
    let forward: [NodeID]
    /// Gradient nodes the params' gradients need that depend on a param, in order.
    let reverse: [NodeID]

    /// Nodes needed that depend on no param (data, constants, `Xᵀ`): computed in the first step only.
    let constant: [NodeID]
    /// Whether the first step is still to come.
    var fresh = true

    init(_ reverse: ReverseGraph, key: ReverseKey, params: Set<NodeID>, build: Int) {
        self.key = key
        reverseBuild = build
        let all = reverse.graph
        var needed = Array(repeating: false, count: all.count)
        needed[reverse.output] = true
        for id in params where id < reverse.gradient.count { if let g = reverse.gradient[id] { needed[g] = true } }
        for id in stride(from: all.count - 1, through: 0, by: -1) where needed[id] {
            for input in all[id].inputs { needed[input] = true }
        }
        var varying = Array(repeating: false, count: all.count)
        for id in 0..<all.count where needed[id] {
            varying[id] = params.contains(id) || all[id].inputs.contains { varying[$0] }
        }
        forward = (0..<reverse.base).filter { needed[$0] && varying[$0] }
        self.reverse = (reverse.base..<all.count).filter { needed[$0] && varying[$0] }
        constant = (0..<all.count).filter { needed[$0] && !varying[$0] }
        values.pad(to: all.count)
    }
}
