import ChainruleCore

/// `:reverse`: the reverse graph itself, node by node, as the derivative rules emitted it.
extension Session {
    static let reverseCommand = Command(
        name: "reverse", usage: ":reverse [NODE]", summary: "list the reverse graph: every gradient node with its op, inputs and value",
        detail: "The reverse pass is a graph of its own: for each node NODE depends on, the rules of its op emit nodes that compute ∂NODE/∂input from ∂NODE/∂node and the forward values they read. This lists those nodes in the order they run, named ∂NODE/∂x where a node is x's whole gradient (a sum where x feeds several nodes), with the forward node whose rule made it, then the forward values the reverse graph reads (what the forward pass must keep). These are the simplified nodes that actually run; ':graph reverse' and ':dot FILE reverse' draw the reverse graph as a lecture does, one ∂NODE/∂x per node with the local Jacobians on its edges. While a walk (:step) to NODE is under way, a value the walk has not computed reads 'not computed' and ▶ marks the nodes its last step computed.",
        example: ":reverse L", run: { s, a throws(Diagnostic) in try s.reverseListing(a) })

    func reverseListing(_ arguments: CommandArguments) throws(Diagnostic) {
        // While a walk is under way, its target is the default.
        let (target, span) = arguments.words.isEmpty && stepper != nil
            ? (stepper?.walk.target ?? 0, arguments.nameSpan) : try scalarTarget(arguments, usage: ":reverse [NODE]")
        print(try reverseReport(of: target, at: span).text)
    }

    /// The reverse graph of `target` as `:reverse` lists it, and the rows made for it: only those
    /// that fit in the output limit (the rest are counted).
    func reverseReport(of target: NodeID, at span: SourceSpan?) throws(Diagnostic) -> (text: String, rows: Int) {
        let reverse: ReverseGraph
        let valueOf: (NodeID) -> Tensor?
        // While a walk to the target is under way: its reverse graph, with only what it has computed.
        let walk = stepper?.walk.target == target ? stepper?.walk : nil
        if let walk {
            reverse = walk.reverse
            valueOf = { walk.reverseValue($0) }
        } else {
            // The pass's own values: evaluating the reverse graph again would hold two copies.
            let result = try gradients(of: target, seed: nil, record: false, at: span)
            let values: Evaluation
            do {
                reverse = try workspace.reverseGraph(of: target, seeded: false)
                if let kept = result.reverseValues { values = kept } else {
                    values = try reverse.evaluate(forward: workspace.evaluation, shouldStop: workspace.shouldStop)
                }
            } catch { throw located(error, at: span) }
            valueOf = { values[$0] }
        }
        let lastComputed = Set(walk?.isBackward == true ? walk?.lastComputed ?? [] : [])
        let graph = reverse.graph
        let out = label(target)
        // For each gradient node that is a forward node's whole gradient, that node (-1: none).
        var totalOf = Array(repeating: -1, count: graph.count - reverse.base)
        for (id, g) in reverse.gradient.enumerated() { if let g, g >= reverse.base { totalOf[g - reverse.base] = id } }
        func total(_ id: NodeID) -> NodeID? { id >= reverse.base && totalOf[id - reverse.base] >= 0 ? totalOf[id - reverse.base] : nil }
        func name(_ id: NodeID) -> String {
            if id < reverse.base { return label(id) }
            if let of = total(id) { return "∂\(out)/∂\(label(of))" }
            return "%\(id)"
        }
        func argument(_ id: NodeID) -> String {
            let node = graph[id]
            if node.isLeaf, node.name == nil, let value = node.value ?? valueOf(id), value.count <= 4 { return format.inline(value) }
            return name(id)
        }
        // Marks: which nodes the gradient nodes read (a constant gets a row only when read),
        // and which forward nodes they read.
        var used = Array(repeating: false, count: graph.count)
        for id in reverse.base..<graph.count { for input in graph[id].inputs { used[input] = true } }
        for case let g? in reverse.gradient { used[g] = true }
        func shown(_ id: NodeID) -> Bool {
            guard graph[id].isLeaf else { return true }
            guard used[id], let value = graph[id].value ?? valueOf(id) else { return false }
            return value.count > 4
        }
        var listing = Listing(header: ["node", "op", "shape", "value", "rule of"], budget: rowBudget)
        for id in reverse.base..<graph.count where shown(id) {
            guard !listing.isFull else { listing.leaveOut(); continue }
            let node = graph[id]
            if node.isLeaf {
                // Constants the rules folded: small ones read inline, larger ones get a row.
                listing.add([name(id), "const", describe(shape: node.shape), (node.value ?? valueOf(id)).map(format.inline) ?? "", ""])
                continue
            }
            let owner: String
            switch node.role {
            case .gradient(let of) where total(id) == of && node.op == .binary(.add): owner = "sum at the fork \(label(of))"
            case .gradient(let of): owner = label(of)
            case .recompute(let of): owner = "recomputes \(label(of))"
            default: owner = ""
            }
            let op = node.op.name + "(" + node.inputs.map(argument).joined(separator: ", ") + ")"
            let value = valueOf(id).map(format.inline) ?? (walk != nil ? "not computed" : "")
            listing.add([(lastComputed.contains(id) ? "▶ " : "") + name(id), op, describe(shape: node.shape), value, owner])
        }
        let read = (0..<reverse.base).filter { used[$0] }
        let total = listing.total
        var lines = ["reverse graph of \(out): \(total) node\(total == 1 ? "" : "s"), reading \(read.count) forward node\(read.count == 1 ? "" : "s")"]
        lines.append(table(listing.rows) + listing.note)
        var residuals: [String] = []
        var residualSize = 0
        for id in read where !graph[id].isLeaf {
            guard residualSize <= rowBudget else { residuals.append("…"); break }
            residuals.append(label(id))
            residualSize += residuals[residuals.count - 1].utf8.count + 2
        }
        lines.append("forward values it reads: " + (residuals.isEmpty ? "leaves only" : residuals.joined(separator: ", ")))
        return (lines.joined(separator: "\n"), listing.rows.count - 1)
    }
}
