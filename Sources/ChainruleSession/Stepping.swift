import ChainruleCore

/// `:step`: one node at a time, forward through the graph and then backward.
struct Stepper {
    var target: NodeID
    /// The nodes the target depends on, in creation (topological) order, literals left out.
    var nodes: [NodeID]
    /// Steps taken: the first `nodes.count` go forward, the rest go backward.
    var taken = 0
    var gradients: Gradients?
}

extension Session {
    func step(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":step [NODE]")
        let span = arguments.words.first?.span ?? arguments.nameSpan
        if let word = arguments.words.first {
            let id = try node(word)
            if stepper?.target != id { stepper = nil }
        }
        if stepper == nil {
            let target = try self.target(arguments.words.first, arguments)
            let needed = workspace.graph.ancestors(of: target)
            let nodes = (0...target).filter { needed[$0] && !isLiteral($0) }
            workspace.forgetValues()
            stepper = Stepper(target: target, nodes: nodes)
            print(style.dim("stepping through \(label(target)): \(nodes.count) node\(nodes.count == 1 ? "" : "s") forward, then backward; :step again to advance"))
        }
        guard var state = stepper else { return }
        defer { stepper = state.taken >= 2 * state.nodes.count ? nil : state }
        let count = state.nodes.count
        if state.taken < count {
            let id = state.nodes[state.taken]
            state.taken += 1
            let value = try self.value(id, at: span)
            let node = workspace.graph[id]
            let what = node.isLeaf ? "\(label(id))  \(node.kind.rawValue)" : "\(label(id)) = \(operation(id))"
            var lines = [style.bold("forward \(state.taken)/\(count)") + "  \(what)" + style.dim("   shape \(describe(shape: node.shape))")]
            for input in node.inputs where !isLiteral(input) {
                lines.append("  input   \(label(input)) = " + style.value(format.inline(workspace.evaluation[input] ?? Tensor(0))))
            }
            lines.append("  value   \(label(id)) = " + style.value(format.block(value, indent: 12 + label(id).count)))
            if state.taken == count { lines.append(style.dim("forward pass done; the next :step starts the backward pass from \(label(state.target))")) }
            print(lines.joined(separator: "\n"))
            return
        }
        if state.gradients == nil {
            let y = try value(state.target, at: span)
            guard y.isScalar else {
                state.taken = 2 * count
                throw Diagnostic("\(label(state.target)) has shape \(describe(shape: y.shape)); stepping backward needs a scalar (use :backward with seed=…)", at: span)
            }
            state.gradients = try gradients(of: state.target, seed: nil, record: true, at: span)
        }
        guard let result = state.gradients else { return }
        // Backward visits the same nodes in reverse; nodes the target does not reach have no gradient.
        let backwardIndex = state.taken - count
        let id = state.nodes[count - 1 - backwardIndex]
        state.taken += 1
        var lines = [style.bold("backward \(backwardIndex + 1)/\(count)")]
        if result[id] == nil {
            let reason = noGradientReason(id, output: state.target) ?? "\(label(state.target)) does not depend on it"
            lines[0] += "  \(label(id)): no gradient (\(reason))"
        } else {
            lines.append(contentsOf: block(for: id, in: result, edges: EdgeIndex(result)))
        }
        if state.taken == 2 * count { lines.append(style.dim("backward pass done; the next :step starts again")) }
        print(lines.joined(separator: "\n"))
    }
}
