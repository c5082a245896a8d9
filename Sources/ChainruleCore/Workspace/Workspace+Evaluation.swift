/// Forward and reverse passes over the workspace's graph.
extension Workspace {
    /// The value of a node, computing it (and what it needs) if necessary.
    public mutating func value(of id: NodeID) throws(EvaluationError) -> Tensor {
        try evaluation.compute(id, in: graph, shouldStop: shouldStop)
        guard let value = evaluation[id] else { preconditionFailure("computed node has no value") }
        return value
    }

    /// Forgets every computed value (the next pass recomputes them), e.g. to step through a forward pass.
    public mutating func forgetValues() {
        evaluation.invalidateAll()
    }

    /// Computes every node's value.
    public mutating func evaluateAll() throws(EvaluationError) {
        try evaluation.computeAll(in: graph, shouldStop: shouldStop)
    }

    /// Evaluates an expression that is not a definition (`A @ x` typed at the prompt),
    /// without adding anything to the graph.
    public mutating func evaluate(_ expr: Expr, in source: Source) throws(Diagnostic) -> Tensor {
        for (name, range) in Workspace.references(in: expr)
        where graph.node(named: name) == nil && Builtins.constant(named: name) == nil {
            _ = try node(named: name, at: SourceSpan(source, range))
        }
        // Lower onto the graph itself (no copy), evaluate, then drop the temporary nodes.
        let before = graph.count
        var lowering = Lowering(graph: Graph(), source: source)
        lowering.modules = modules
        lowering.shouldStop = shouldStop
        swap(&lowering.graph, &graph)
        defer {
            swap(&lowering.graph, &graph)
            graph.truncate(to: before)
            evaluation.invalidate(from: before)
        }
        switch try lowering.lower(expr) {
        case .constant(let t):
            return t
        case .node(let root):
            do {
                try evaluation.compute(root, in: lowering.graph, shouldStop: shouldStop)
            } catch {
                throw Workspace.diagnostic(error, at: SourceSpan(source, expr.range))
            }
            return evaluation[root] ?? Tensor(0)
        }
    }

    /// Turns an evaluation failure into a diagnostic; an interruption is reported at `span`.
    public static func diagnostic(_ error: EvaluationError, at span: SourceSpan?) -> Diagnostic {
        switch error {
        case .failed(let diagnostic): diagnostic
        case .interrupted: Diagnostic("interrupted", at: span)
        }
    }
}
