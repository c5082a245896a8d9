/// `:train` in an exported script: the params start from the values they had before the first
/// `:train` of the session's graph as it stands, and the script takes every step again with the
/// same optimizer, rate and state, then computes the document from the params it reached.
extension Exporter {
    /// One `:train` as the script takes it again.
    public struct Training: Sendable {
        /// The command as written, for a comment.
        public var command: String
        public var loss: NodeID
        public var params: [NodeID]
        public var optimizer: Optimizer
        /// The steps it took (fewer than asked when it was interrupted or diverged).
        public var steps: Int
        /// Whether its optimizer state went on from the `:train` before (momentum's velocity,
        /// Adam's moments and step count), as chainrule keeps it until a param is redefined.
        public var continued: Bool

        public init(command: String, loss: NodeID, params: [NodeID], optimizer: Optimizer, steps: Int, continued: Bool) {
            self.command = command
            self.loss = loss
            self.params = params
            self.optimizer = optimizer
            self.steps = steps
            self.continued = continued
        }
    }

    /// The trainings that made the params' values, and the values before the first.
    public struct Replay: Sendable {
        /// Each trained param's value before the first training.
        public var start: [NodeID: Tensor]
        public var trainings: [Training]
        /// The runs before these that are not taken again, and why (for comments).
        public var notes: [String]

        public init(start: [NodeID: Tensor], trainings: [Training], notes: [String] = []) {
            self.start = start
            self.trainings = trainings
            self.notes = notes
        }
    }

    /// The script's `PARAMS`, `descend` and `replay`: nothing when nothing is replayed.
    func trainingText(_ framework: Framework, names: [String]) -> String {
        guard let replay else { return "" }
        let notes = replay.notes.map { "# \($0)\n" }.joined()
        guard !replay.trainings.isEmpty else { return notes.isEmpty ? "" : notes + "\n" }
        let sqrt = framework == .jax ? "jnp.sqrt" : "torch.sqrt"
        // JAX compiles the gradient once (eager JAX takes a millisecond an op); where a helper
        // cannot be traced, the steps run eagerly.
        let compiled = framework == .jax ? """
                compiled = jax.jit(step_gradients)
                def fast(current):
                    nonlocal compiled
                    try: return compiled(current)
                    except TypeError:  # a helper jit cannot trace: eager from here
                        compiled = step_gradients
                        return compiled(current)
            """ : ""
        let call = framework == .jax ? "fast({k: PARAMS[k] for k in params})" : "step_gradients({k: PARAMS[k] for k in params})"
        var text = notes + """
            # Training, taken again: the params start as they were before the first :train, and each
            # :train takes its steps as chainrule's did (optimizer, lr, and the state kept from the one
            # before), so the document below is computed from the params the training reached.
            PARAMS = {

            """
        for id in replay.start.keys.sorted() {
            guard let value = replay.start[id] else { continue }
            text += "    \(id): array(\(literal(value))),  # \(graph[id].name ?? names[id])\n"
        }
        text += "}\n\n"
        text += #"""
            def new_state():
                """An optimizer's state before its first step: no velocity or moments, β⁰ = β₂⁰ = 1."""
                return {"p1": 1.0, "p2": 1.0, "m": {}, "v": {}}

            def descend(loss, params, steps, method, lr, beta, beta2, eps, decay, state):
                """`steps` steps of `method` on the params (node ids), as chainrule's optimizer takes them:
                g = ∂loss/∂w + decay·w; sgd: w ← w − lr·g; momentum: m ← β·m + g, w ← w − lr·m;
                adam: m ← β·m + (1 − β)·g, v ← β₂·v + (1 − β₂)·g², w ← w − lr·(m/(1 − βᵗ))/(√(v/(1 − β₂ᵗ)) + ε).
                Every param steps from the gradients of the values before the step."""
                shapes = {k: tuple(PARAMS[k].shape) for k in params}
                def tapped(tap): return graph(lambda k, v: tap(k, v) if k in shapes else v)
                def step_gradients(current):
                    kept = {k: PARAMS[k] for k in params}
                    PARAMS.update(current)
                    try: return gradients(tapped, loss, params, shapes)[1]
                    finally: PARAMS.update(kept)
            \#(compiled)
                for _ in range(steps):
                    grads = \#(call)
                    state["p1"], state["p2"] = state["p1"] * beta, state["p2"] * beta2
                    c1, c2 = 1 - state["p1"], 1 - state["p2"]
                    for k in params:
                        w = PARAMS[k]
                        g = stop(grads[k]) + decay * w
                        if method == "sgd":
                            PARAMS[k] = w - lr * g
                        elif method == "momentum":
                            m = state["m"][k] = beta * state["m"].get(k, zeros_like(w)) + g
                            PARAMS[k] = w - lr * m
                        else:
                            m = state["m"][k] = beta * state["m"].get(k, zeros_like(w)) + (1 - beta) * g
                            v = state["v"][k] = beta2 * state["v"].get(k, zeros_like(w)) + (1 - beta2) * g * g
                            PARAMS[k] = w - lr * (m / c1) / (\#(sqrt)(v / c2) + eps)

            def replay():
                """Every :train, in the order it ran."""
                state = new_state()

            """#
        for (k, training) in replay.trainings.enumerated() {
            let o = training.optimizer
            text += "    # \(training.command)\n"
            if k > 0, !training.continued { text += "    state = new_state()\n" }
            else if k > 0 { text += "    # (its \(o.method.rawValue) state goes on from the :train before)\n" }
            let params = "[" + training.params.map(String.init).joined(separator: ", ") + "]"
            let numbers = [o.learningRate, o.beta, o.beta2, o.epsilon, o.decay].map(Export.number).joined(separator: ", ")
            text += "    descend(\(training.loss), \(params), \(training.steps), \(Export.string(o.method.rawValue)), \(numbers), state)\n"
        }
        return text + "\n"
    }
}
