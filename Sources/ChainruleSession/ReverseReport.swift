import ChainruleCore

/// `:reverse`: the reverse graph itself, node by node, as the derivative rules emitted it.
extension Session {
    static let reverseCommand = Command(
        name: "reverse", usage: ":reverse [NODE]", summary: "list the reverse graph: every gradient node with its op, inputs and value",
        detail: "The reverse pass is a graph of its own: for each node NODE depends on, the rules of its op emit nodes that compute ∂NODE/∂input from ∂NODE/∂node and the forward values they read. This lists those nodes in the order they run, named ∂NODE/∂x where a node is x's whole gradient (a sum where x feeds several nodes), with the forward node whose rule made it, then the forward values the reverse graph reads (what the forward pass must keep).",
        example: ":reverse L", run: { s, a throws(Diagnostic) in try s.reverseListing(a) })

    func reverseListing(_ arguments: CommandArguments) throws(Diagnostic) {
        let (target, span) = try scalarTarget(arguments, usage: ":reverse [NODE]")
        _ = try gradients(of: target, seed: nil, record: false, at: span)
        let reverse: ReverseGraph
        let values: Evaluation
        do {
            reverse = try workspace.reverseGraph(of: target, seeded: false)
            values = try reverse.evaluate(forward: workspace.evaluation, shouldStop: workspace.shouldStop)
        } catch { throw located(error, at: span) }
        let graph = reverse.graph
        let out = label(target)
        var totalOf: [NodeID: NodeID] = [:]
        for (id, g) in reverse.gradient.enumerated() { if let g, g >= reverse.base { totalOf[g] = id } }
        func name(_ id: NodeID) -> String {
            if id < reverse.base { return label(id) }
            if let of = totalOf[id] { return "∂\(out)/∂\(label(of))" }
            return "%\(id)"
        }
        func argument(_ id: NodeID) -> String {
            let node = graph[id]
            if node.isLeaf, node.name == nil, let value = node.value ?? values[id], value.count <= 4 { return format.inline(value) }
            return name(id)
        }
        var used = Set<NodeID>()
        for id in reverse.base..<graph.count { used.formUnion(graph[id].inputs) }
        used.formUnion(reverse.gradient.compactMap { $0 })
        var rows = [["node", "op", "shape", "value", "rule of"]]
        for id in reverse.base..<graph.count {
            let node = graph[id]
            if node.isLeaf {
                // Constants the rules folded: small ones read inline, larger ones get a row.
                guard used.contains(id), let value = node.value ?? values[id], value.count > 4 else { continue }
                rows.append([name(id), "const", describe(shape: node.shape), format.inline(value), ""])
                continue
            }
            let owner: String
            switch node.role {
            case .gradient(let of) where totalOf[id] == of && node.op == .binary(.add): owner = "sum at the fork \(label(of))"
            case .gradient(let of): owner = label(of)
            case .recompute(let of): owner = "recomputes \(label(of))"
            default: owner = ""
            }
            let op = node.op.name + "(" + node.inputs.map(argument).joined(separator: ", ") + ")"
            rows.append([name(id), op, describe(shape: node.shape), values[id].map(format.inline) ?? "", owner])
        }
        let read = Set((reverse.base..<graph.count).flatMap { graph[$0].inputs.filter { $0 < reverse.base } }).count
        var lines = ["reverse graph of \(out): \(rows.count - 1) node\(rows.count == 2 ? "" : "s"), reading \(read) forward node\(read == 1 ? "" : "s")"]
        lines.append(table(rows))
        let residuals = reverse.residuals.filter { !graph[$0].isLeaf }.map(label)
        lines.append("forward values it reads: " + (residuals.isEmpty ? "leaves only" : residuals.joined(separator: ", ")))
        print(lines.joined(separator: "\n"))
    }
}
