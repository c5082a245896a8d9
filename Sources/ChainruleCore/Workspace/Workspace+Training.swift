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

    /// One step of plain gradient descent, `W ← W − η·∂loss/∂W` (see ``descend(_:params:optimizer:varying:)``).
    /// Returns the loss before the step.
    public mutating func descend(_ loss: NodeID, params: [String], learningRate rate: Double) throws(EvaluationError) -> Double {
        try descend(loss, params: params, optimizer: Optimizer(.sgd, learningRate: rate)).loss
    }

    /// One step of `optimizer` on each of `params`, from one forward and one reverse pass that
    /// computes the params' gradients only.
    ///
    /// The step is compiled once per graph version, loss, params and `varying` leaves
    /// (``TrainingPlan``): the reverse graph is built once, the values of both passes are kept
    /// from step to step, a step recomputes only the nodes that depend on a param or on a leaf
    /// of `varying` (the data leaves a minibatch rewrites) — what depends on fixed data alone,
    /// such as `Xᵀ` in ∂W = Xᵀ·G, is computed once — each recomputed tensor is written into
    /// the buffer it had in the step before, and the params are changed in place. The
    /// optimizer's state (momentum's velocity, Adam's moments and step count) lives in the
    /// plan: it carries over from call to call until the graph changes or another method is
    /// asked for. Once compiled, a step allocates nothing.
    ///
    /// When the loss or an element of a gradient is not finite, nothing is changed and the
    /// step's ``TrainingStep/divergence`` names the first node, in topological order of the
    /// forward then the reverse pass, whose value is not finite.
    public mutating func descend(_ loss: NodeID, params: [String], optimizer: Optimizer,
                                 varying: [NodeID] = []) throws(EvaluationError) -> TrainingStep {
        // Taken out while it runs, so that its buffers are not shared; dropped if a pass fails.
        var plan: TrainingPlan
        if let kept = trainingPlan.take(), kept.loss == loss, kept.paramNames == params, kept.version == version,
           kept.reverseBuild == reverseBuilds, kept.leafEdits == leafEdits || !varying.isEmpty, kept.varying == varying {
            plan = consume kept  // not copied: its buffers stay its own
            plan.values.recycle(plan.forward)
            plan.values.recycle(plan.reverseIDs)
        } else {
            let ids = params.compactMap { graph.node(named: $0) }
            let reverse = try reverseGraph(of: loss, seeded: false, wrt: Set(ids))
            try checkMemory(ofPass: reverse.graph, from: reverse.base)
            plan = TrainingPlan(reverse, loss: loss, paramNames: params, params: ids.map { id in
                (id, reverse.gradient[id])
            }, varying: varying, version: version, build: reverseBuilds)
        }
        if plan.fresh {
            try plan.values.compute(in: graph, shouldStop: shouldStop, ids: plan.constantForward)
            try plan.values.compute(in: plan.reverse.graph, shouldStop: shouldStop, ids: plan.constantReverse)
            plan.fresh = false
        }
        // The leaves a minibatch rewrote are read again from the graph.
        for id in varying { plan.values.drop(id) }
        // Forward nodes read the workspace's graph (it holds the params' current values);
        // gradient nodes read the reverse graph.
        try plan.values.compute(in: graph, shouldStop: shouldStop, ids: plan.forward)
        try plan.values.compute(in: plan.reverse.graph, shouldStop: shouldStop, ids: plan.reverseIDs)
        let before = plan.values.scalar(loss) ?? .nan
        if !before.isFinite || !plan.gradientsAreFinite() {
            let divergence = plan.firstNonFinite(forward: graph)
            trainingPlan = plan
            return TrainingStep(loss: before, divergence: divergence)
        }
        if plan.method != optimizer.method {
            plan.method = optimizer.method
            plan.stepsTaken = 0
            plan.betaPowers = (1, 1)
            for k in plan.params.indices { plan.moments[k] = []; plan.secondMoments[k] = [] }
        }
        plan.stepsTaken += 1
        // Adam's bias corrections, 1 − βᵗ and 1 − β₂ᵗ, for this step t.
        plan.betaPowers = (plan.betaPowers.0 * optimizer.beta, plan.betaPowers.1 * optimizer.beta2)
        let correction1 = 1 - plan.betaPowers.0, correction2 = 1 - plan.betaPowers.1
        // A gradient that is a param's own value (∂(a·b)/∂a is b) is copied aside first: the
        // params change in place, and every one steps from the values before the step.
        var saved: [[Double]] = []
        swap(&saved, &plan.savedGradients)
        for (k, param) in plan.params.enumerated() where param.gradientIsParam {
            guard let gradient = param.gradient else { continue }
            plan.values.withElements(of: gradient) { g in
                if saved[k].count != g.count { saved[k] = Array(repeating: 0, count: g.count) }
                saved[k].withUnsafeMutableBufferPointer { copy in _ = copy.update(fromContentsOf: g) }
            }
        }
        var moments: [[Double]] = [], second: [[Double]] = []
        swap(&moments, &plan.moments)
        swap(&second, &plan.secondMoments)
        for (k, param) in plan.params.enumerated() {
            guard let gradient = param.gradient else { continue }
            func step(by g: UnsafeBufferPointer<Double>) {
                if optimizer.method != .sgd, moments[k].count != g.count { moments[k] = Array(repeating: 0, count: g.count) }
                if optimizer.method == .adam, second[k].count != g.count { second[k] = Array(repeating: 0, count: g.count) }
                moments[k].withUnsafeMutableBufferPointer { m in
                    second[k].withUnsafeMutableBufferPointer { v in
                        graph.updateValue(of: param.id) { w in
                            precondition(w.count == g.count, "a gradient has its param's shape")
                            optimizer.update(w, gradient: g, m: m, v: v, correction1: correction1, correction2: correction2)
                        }
                    }
                }
            }
            // The pass's hold on the param's value is let go, so that it changes in place.
            plan.values.drop(param.id)
            if param.gradientIsParam {
                saved[k].withUnsafeBufferPointer(step(by:))
            } else {
                plan.values.withElements(of: gradient, step(by:))
            }
        }
        swap(&saved, &plan.savedGradients)
        swap(&moments, &plan.moments)
        swap(&second, &plan.secondMoments)
        evaluation.invalidateAll()
        leafEdits &+= 1
        plan.leafEdits = leafEdits
        trainingPlan = plan
        return TrainingStep(loss: before, divergence: nil)
    }

    /// The optimizer whose state the compiled step holds for `loss` and `params`, and how many
    /// steps it has taken: what the next ``descend(_:params:optimizer:varying:)`` goes on from.
    /// Nil when no step is kept for them (none was taken, or the graph changed since).
    public func keptOptimizerState(loss: NodeID, params: [String]) -> (method: Optimizer.Method, steps: Int)? {
        guard let plan = trainingPlan, plan.loss == loss, plan.paramNames == params, plan.version == version,
              plan.reverseBuild == reverseBuilds, plan.leafEdits == leafEdits || !plan.varying.isEmpty,
              let method = plan.method, plan.stepsTaken > 0 else { return nil }
        return (method, plan.stepsTaken)
    }

    /// Forgets the compiled training step and the optimizer state it holds.
    public mutating func forgetTrainingState() {
        trainingPlan = nil
    }
}

/// A training step compiled for one loss and set of params: which nodes a step recomputes,
/// and the values of both passes, kept from step to step.
struct TrainingPlan: Sendable {
    let loss: NodeID
    /// The params as named by the caller, and each one's node, gradient node and definition.
    let paramNames: [String]
    let params: [(id: NodeID, gradient: NodeID?, gradientIsParam: Bool)]
    /// For each param whose gradient is a param's value, that gradient copied aside (kept
    /// from step to step, so that copying allocates nothing).
    var savedGradients: [[Double]]
    /// The graph version, and which reverse graph of the workspace, the ids below belong to.
    let version: Int
    let reverseBuild: Int
    /// The workspace's count of leaf edits when the values were last made current.
    var leafEdits = 0
    let reverse: ReverseGraph
    var values = Evaluation()
    /// Forward nodes the loss needs that depend on a param (the params included), in order.
    let forward: [NodeID]
    /// Gradient nodes the params' gradients need that depend on a param, in order.
    let reverseIDs: [NodeID]
    /// Nodes needed that depend on no param (data, constants, `Xᵀ`), forward and gradient
    /// nodes: computed in the first step only.
    let constantForward: [NodeID]
    let constantReverse: [NodeID]
    /// Whether the first step is still to come.
    var fresh = true
    /// Data leaves rewritten between steps (a minibatch): computed again at every step.
    let varying: [NodeID]
    /// The optimizer the state below belongs to, the steps it has taken, and per param its
    /// first moments (momentum's velocity, Adam's m) and Adam's second moments v.
    var method: Optimizer.Method?
    var stepsTaken = 0
    /// βᵗ and β₂ᵗ after the steps taken.
    var betaPowers: (Double, Double) = (1, 1)
    var moments: [[Double]]
    var secondMoments: [[Double]]

    init(_ reverse: ReverseGraph, loss: NodeID, paramNames: [String], params: [(id: NodeID, gradient: NodeID?)],
         varying: [NodeID] = [], version: Int, build: Int) {
        self.varying = varying
        moments = Array(repeating: [], count: params.count)
        secondMoments = Array(repeating: [], count: params.count)
        self.loss = loss
        self.paramNames = paramNames
        let ids = Set(params.map(\.id))
        self.params = params.map { ($0.id, $0.gradient, $0.gradient.map { ids.contains($0) } ?? false) }
        savedGradients = Array(repeating: [], count: params.count)
        self.version = version
        self.reverse = reverse
        reverseBuild = build
        let all = reverse.graph
        var needed = Array(repeating: false, count: all.count)
        needed[reverse.output] = true
        for param in params { if let g = param.gradient { needed[g] = true } }
        for id in stride(from: all.count - 1, through: 0, by: -1) where needed[id] {
            for input in all[id].inputs { needed[input] = true }
        }
        let isParam = ids.union(varying)
        var varying = Array(repeating: false, count: all.count)
        for id in 0..<all.count where needed[id] {
            varying[id] = isParam.contains(id) || all[id].inputs.contains { varying[$0] }
        }
        forward = (0..<reverse.base).filter { needed[$0] && varying[$0] }
        reverseIDs = (reverse.base..<all.count).filter { needed[$0] && varying[$0] }
        constantForward = (0..<reverse.base).filter { needed[$0] && !varying[$0] }
        constantReverse = (reverse.base..<all.count).filter { needed[$0] && !varying[$0] }
        values.pad(to: all.count)
    }
}
