import ChainruleCore

/// Naming where a NaN or an infinity was born: `:train`'s divergence, and a note after
/// `:forward`, `:grad` and `--json` when a value they show is not finite.
extension Session {
    /// `%4 = log(%3) is nan at step 0, from %3 = -1`, or, in the reverse pass, the gradient node
    /// with the forward node whose pullback made it.
    func whereNonFinite(_ place: NonFiniteNode, step: Int?) -> String {
        let graph = place.graph, id = place.node
        let output = place.output.map { label($0, in: graph) } ?? ""
        func name(_ n: NodeID) -> String {
            if n >= place.base, n == id, let of = place.gradientOf { return "∂\(output)/∂\(label(of, in: graph))" }
            return n < place.base ? label(n, in: graph) : "%\(n)"
        }
        func argument(_ n: NodeID) -> String {
            let node = graph[n]
            if node.isLeaf, node.name == nil, let value = node.value ?? nil, value.count <= 4 { return format.inline(value) }
            return name(n)
        }
        let state = place.value.scalars.first { !$0.isFinite }.map { format.format($0) } ?? "not finite"
        let holds = place.value.isScalar ? "is \(state)" : "holds \(state)"
        let when = step.map { " at step \($0)" } ?? ""
        var text = graph[id].isLeaf
            ? "\(name(id)) \(holds)\(when)"
            : "\(name(id)) = \(operation(id, in: graph, arguments: argument)) \(holds)\(when)"
        if place.inReversePass { text = "in the reverse pass, " + text }
        let inputs = zip(graph[id].inputs, place.inputs).filter { !graph[$0.0].isLeaf || graph[$0.0].name != nil || ($0.1?.count ?? 0) > 4 }
        if !inputs.isEmpty {
            text += ", from " + inputs.map { n, v in "\(name(n)) = \(v.map { $0.count <= 6 ? format.inline($0) : "(\(describe(shape: $0.shape)) values)" } ?? "?")" }
                .joined(separator: ", ")
        }
        if place.inReversePass, let owner = place.owner {
            text += " (the pullback through \(label(owner, in: graph)) = \(operation(owner, in: graph, arguments: argument)))"
        }
        return text
    }

    /// After `:forward`, `:grad` or `--json` of `target`: a note on standard error naming the
    /// first value that is not finite, if one is.
    func noteNonFinite(to target: NodeID, reverse: Bool) {
        guard let place = try? workspace.firstNonFinite(to: target, reverse: reverse) else { return }
        report(Diagnostic("\(whereNonFinite(place, step: nil)): the first value that is not finite, in topological order\(place.inReversePass ? " of the reverse pass" : "")",
                          at: nil, severity: .note))
    }
}
