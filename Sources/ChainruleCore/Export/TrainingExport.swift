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
        /// With `batch=`: the minibatch graph it stepped on and the rows of each step.
        public var batch: Batch?

        public init(command: String, loss: NodeID, params: [NodeID], optimizer: Optimizer, steps: Int, continued: Bool,
                    batch: Batch? = nil) {
            self.command = command
            self.loss = loss
            self.params = params
            self.optimizer = optimizer
            self.steps = steps
            self.continued = continued
            self.batch = batch
        }
    }

    /// A `:train … batch=B`: the copy of the graph whose data leaves hold B rows, and which rows
    /// of the data each step took.
    public struct Batch: Sendable {
        public var graph: Graph
        public var values: Evaluation
        /// Each data leaf: its id in the graph exported and in the minibatch graph.
        public var leaves: [(NodeID, NodeID)]
        /// The loss and the params (in the order of ``Training/params``) in the minibatch graph.
        public var loss: NodeID
        public var params: [NodeID]
        /// The rows of the data each step took, along axis 0.
        public var rows: [[Int]]

        public init(graph: Graph, values: Evaluation, leaves: [(NodeID, NodeID)], loss: NodeID, params: [NodeID], rows: [[Int]]) {
            self.graph = graph
            self.values = values
            self.leaves = leaves
            self.loss = loss
            self.params = params
            self.rows = rows
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
                def fast(current, batch):
                    nonlocal compiled
                    try: return compiled(current, batch)
                    except TypeError:  # a helper jit cannot trace: eager from here
                        compiled = step_gradients
                        return compiled(current, batch)
            """ : ""
        let call = (framework == .jax ? "fast" : "step_gradients") + "({p: PARAMS[p] for p in params}, batch)"
        let rows = framework == .jax ? "DATA[k][jnp.asarray(batches[step], dtype=jnp.int64)]" : "DATA[k][torch.tensor(batches[step], dtype=torch.long)]"
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
        let batched = replay.trainings.enumerated().compactMap { k, t in t.batch.map { (k, $0) } }
        var minibatches: [(body: String, name: String)] = [], minibatchNames: [Int: String] = [:]
        if batched.isEmpty {
            text += "DATA, BATCH = {}, {}  # no :train samples minibatches\n\n"
        } else {
            text += "# The data a :train … batch=B samples rows of (axis 0), whole; BATCH holds a step's rows.\n"
            text += "DATA = {\n"
            var seen = Set<NodeID>()
            for (_, batch) in batched {
                for (id, _) in batch.leaves where seen.insert(id).inserted {
                    text += "    \(id): array(\(literal(values[id] ?? graph[id].value ?? Tensor(0)))),  # \(graph[id].name ?? names[id])\n"
                }
            }
            text += "}\nBATCH = {}\n\n"
            for (k, batch) in batched {
                // The minibatch graph, written from its own nodes (its shapes are the batch's);
                // node by node, since its calls' functions would differ from the graph's by shape.
                var sub = Exporter(graph: batch.graph, values: batch.values, gradients: gradients, outputName: outputName, source: source)
                for (id, p) in zip(replay.trainings[k].params, batch.params) { sub.leafReads[p] = "PARAMS[\(id)]" }
                for (id, inBatch) in batch.leaves { sub.leafReads[inBatch] = "BATCH[\(id)]" }
                let (calls, omitted) = sub.gradCalls(count: batch.graph.count)
                var callsByResult: [NodeID: GradCall] = [:]
                for call in calls { callsByResult[call.result] = call }
                let header = "def NAME(tap):\n"
                let body = String(sub.graphFunction("NAME", framework: framework, names: sub.variableNames(count: batch.graph.count),
                                                    calls: callsByResult, omitted: omitted, functions: Functions()).dropFirst(header.count))
                if let same = minibatches.first(where: { $0.body == body }) {
                    minibatchNames[k] = same.name
                    continue
                }
                let name = "minibatch\(minibatches.count)"
                minibatches.append((body, name))
                minibatchNames[k] = name
                text += "# The graph a :train … batch= steps on: the data leaves hold one step's rows.\n"
                text += "def \(name)(tap):\n" + body + "\n"
            }
        }
        text += #"""
            def new_state():
                """An optimizer's state before its first step: no velocity or moments, β⁰ = β₂⁰ = 1."""
                return {"p1": 1.0, "p2": 1.0, "m": {}, "v": {}}

            def descend(graph, loss, params, taps, steps, method, lr, beta, beta2, eps, decay, state, batches=None):
                """`steps` steps of `method` on the params (node ids; `taps`, the same in `graph`), as chainrule's
                optimizer takes them: g = ∂loss/∂w + decay·w; sgd: w ← w − lr·g; momentum: m ← β·m + g,
                w ← w − lr·m; adam: m ← β·m + (1 − β)·g, v ← β₂·v + (1 − β₂)·g², w ← w − lr·(m/(1 − βᵗ))/(√(v/(1 − β₂ᵗ)) + ε).
                Every param steps from the gradients of the values before the step. `batches`: the rows of
                DATA each step puts in BATCH."""
                shapes = {k: tuple(PARAMS[p].shape) for k, p in zip(taps, params)}
                def tapped(tap): return graph(lambda k, v: tap(k, v) if k in shapes else v)
                def step_gradients(current, batch):
                    kept, kept_batch = {p: PARAMS[p] for p in params}, dict(BATCH)
                    PARAMS.update(current)
                    BATCH.update(batch)
                    try: return gradients(tapped, loss, taps, shapes)[1]
                    finally:
                        PARAMS.update(kept)
                        BATCH.clear()
                        BATCH.update(kept_batch)
            \#(compiled)
                for step in range(steps):
                    batch = {k: \#(rows) for k in DATA} if batches else {}
                    grads = \#(call)
                    state["p1"], state["p2"] = state["p1"] * beta, state["p2"] * beta2
                    c1, c2 = 1 - state["p1"], 1 - state["p2"]
                    for tap, k in zip(taps, params):
                        w = PARAMS[k]
                        g = stop(grads[tap]) + decay * w
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
            let method = Export.string(o.method.rawValue)
            if let batch = training.batch {
                let taps = "[" + batch.params.map(String.init).joined(separator: ", ") + "]"
                let rows = "[" + batch.rows.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
                text += "    descend(\(minibatchNames[k] ?? "graph"), \(batch.loss), \(params), \(taps), \(training.steps), \(method), \(numbers), state,\n"
                text += "            batches=\(rows))\n"
            } else {
                text += "    descend(graph, \(training.loss), \(params), \(params), \(training.steps), \(method), \(numbers), state)\n"
            }
        }
        return text + "\n"
    }
}
