/// Lowering of `grad(e, x)`: the reverse graph of `e` with respect to the node `x`,
/// emitted into the graph being built, so the derivative is a formula like any other
/// (it follows `x` when it changes, and can be differentiated again).
extension Lowering {
    /// The expression `e` of `grad(e, x)` and the node `x`, checked before `e` is lowered.
    func gradArguments(_ arguments: [Expr], _ keywords: [KeywordArgument], expr: Expr) throws(Diagnostic) -> (body: Expr, x: NodeID) {
        let a = try bind("grad", arguments, keywords, parameters: ["e", "x"], required: 2, expr: expr)
        guard let body = a[0], let wrt = a[1] else { throw error("grad needs two arguments, as in grad(y, x)", at: expr.range) }
        guard case .name(let name) = wrt.kind, let x = resolve(name) else {
            throw error("grad's second argument must name a node, as in grad(y, x)", at: wrt.range)
        }
        return (body, x)
    }

    /// `grad(e, x)` once `e` (`body`) is lowered to `value`.
    mutating func differentiate(_ value: Value, body: Expr, wrt x: NodeID, expr: Expr) throws(Diagnostic) -> Value {
        let shape = self.shape(value)
        guard shape.isEmpty else {
            throw error("grad needs a scalar expression, got shape \(describe(shape: shape)); take sum(…) or an element first",
                        at: body.range)
        }
        guard case .node(let output) = value else { return .constant(Tensor.zeros(graph[x].shape)) }
        var emitter = Emitter(graph: Graph())
        swap(&emitter.graph, &graph)
        defer { swap(&emitter.graph, &graph) }
        // The seed remembers the body (a role no other node of a forward graph has) and the result
        // the node differentiated, so that an export can write the call as the framework's own
        // `grad` (``Exporter``); neither role changes what is computed.
        emitter.role = .recompute(of: output)
        let seed = emitter.scalar(1)
        emitter.role = .forward
        let reverse: ReverseGraph
        do {
            reverse = try ReverseMode.emit(into: &emitter, base: emitter.graph.count, output: output, seed: seed,
                                           wrt: [x], maximumCount: Limits.gradNodes, shouldStop: { false })
        } catch {
            switch error {
            case .failed(let diagnostic): throw self.error(diagnostic.message, at: expr.focus)
            case .interrupted: throw self.error("interrupted", at: expr.focus)
            }
        }
        guard x < reverse.gradient.count, let g = reverse.gradient[x] else {
            return .constant(Tensor.zeros(emitter.graph[x].shape))
        }
        if let constant = emitter.constantValue(g) { return .constant(constant) }
        if g > seed { emitter.graph.setRole(.gradient(of: x), of: g) }
        return .node(g)
    }
}
