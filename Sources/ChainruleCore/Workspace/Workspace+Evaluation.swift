/// Forward and reverse passes over the workspace's graph.
extension Workspace {
    /// The value of a node, computing it (and what it needs) if necessary.
    public mutating func value(of id: NodeID) throws(EvaluationError) -> Tensor {
        try evaluation.compute(id, in: graph, shouldStop: shouldStop)
        guard let value = evaluation[id] else { preconditionFailure("computed node has no value") }
        return value
    }

    /// Computes every node's value.
    public mutating func evaluateAll() throws(EvaluationError) {
        try evaluation.computeAll(in: graph, shouldStop: shouldStop)
    }

    /// Evaluates an expression that is not a definition (`A @ x` typed at the prompt),
    /// without adding anything to the graph.
    public mutating func evaluate(_ expr: Expr, in source: Source) throws(Diagnostic) -> Tensor {
        let current = graph
        var lowering = Lowering(graph: graph, source: source, resolve: { current.node(named: $0) })
        for (name, range) in Workspace.references(in: expr)
        where graph.node(named: name) == nil && Builtins.constant(named: name) == nil {
            _ = try node(named: name, at: SourceSpan(source, range))
        }
        switch try lowering.lower(expr) {
        case .constant(let t):
            return t
        case .node(let root):
            if root < graph.count { return try unwrap { () throws(EvaluationError) in try value(of: root) } }
            var values = evaluation
            do {
                try values.compute(root, in: lowering.graph, shouldStop: shouldStop)
            } catch {
                throw Workspace.diagnostic(error, at: SourceSpan(source, expr.range))
            }
            let result = values[root] ?? Tensor(0)
            values.invalidate(from: graph.count)
            evaluation = values
            return result
        }
    }

    /// Runs the reverse pass from `output` (forward first if needed). The seed defaults to 1
    /// for a scalar output; any other output needs one of its shape.
    public mutating func gradients(of output: NodeID, seed: Tensor? = nil,
                                   recordContributions: Bool = false) throws(EvaluationError) -> Gradients {
        let y = try value(of: output)
        let seed = seed ?? Tensor(repeating: 1, shape: y.shape)
        return try Gradients.run(from: output, seed: seed, graph: graph, values: evaluation,
                                 recordContributions: recordContributions, shouldStop: shouldStop)
    }

    /// Turns an evaluation failure into a diagnostic; an interruption is reported at `span`.
    public static func diagnostic(_ error: EvaluationError, at span: SourceSpan?) -> Diagnostic {
        switch error {
        case .failed(let diagnostic): diagnostic
        case .interrupted: Diagnostic("interrupted", at: span)
        }
    }

    func unwrap<T>(_ body: () throws(EvaluationError) -> T) throws(Diagnostic) -> T {
        do { return try body() } catch { throw Workspace.diagnostic(error, at: nil) }
    }
}
