import ChainruleCore

/// `:backward NODE modules`: the reverse pass read per module, each call of a module one
/// block whose edges are the module's own Jacobians — ∂call/∂argument through the call's
/// nodes, the product of their local Jacobians — instead of one block per node inside it.
extension Session {
    /// A call of a module in the reverse pass: its result node, its nodes, and the nodes outside
    /// it that its nodes read (its arguments), in the order they are first read.
    struct CallBlock {
        var text: String
        var result: NodeID
        var members: [NodeID]
        var arguments: [NodeID]
    }

    /// The outermost calls among the nodes `output` depends on, by result node.
    func callBlocks(upTo output: NodeID) -> [NodeID: CallBlock] {
        let graph = workspace.graph
        guard graph.hasCalls else { return [:] }
        var byCall: [Int: CallBlock] = [:]
        let needed = graph.ancestors(of: output)
        for id in 0...output where needed[id] {
            guard let (key, call) = graph.callPath(of: id).first else { continue }
            var block = byCall[key] ?? CallBlock(text: Session.callText(call), result: id, members: [], arguments: [])
            block.result = id
            block.members.append(id)
            byCall[key] = block
        }
        var result: [NodeID: CallBlock] = [:]
        for var block in byCall.values {
            let inside = Set(block.members)
            for id in block.members {
                for input in graph[id].inputs where !inside.contains(input) && !isLiteral(input) && !block.arguments.contains(input) {
                    block.arguments.append(input)
                }
            }
            result[block.result] = block
        }
        return result
    }

    /// The module's Jacobian ∂result/∂argument through the call's own nodes (the other
    /// arguments held fixed): the local Jacobians multiplied out in topological order. Nil when
    /// it would be larger than `limit` entries at any node.
    func moduleJacobian(_ block: CallBlock, argument: NodeID, limit: Int = 40_000) -> Tensor? {
        let graph = workspace.graph
        let columns = graph[argument].shape.reduce(1, *)
        var jacobians: [NodeID: Tensor] = [:]
        for id in block.members {
            let node = graph[id]
            let rows = node.shape.reduce(1, *)
            guard rows * columns <= limit, let output = workspace.evaluation[id] else { return nil }
            var total = Tensor.zeros([rows, columns])
            let inputs = node.inputs.map { workspace.evaluation[$0] ?? Tensor(0) }
            for (k, input) in node.inputs.enumerated() {
                let through: Tensor? = input == argument ? nil : jacobians[input]
                guard input == argument || through != nil else { continue }
                let local = LocalJacobian.full(op: node.op, inputs: inputs, output: output, argument: k)
                let inner = local.shape.count == 2 ? local.shape[1] : 1
                for r in 0..<rows {
                    for c in 0..<columns {
                        var sum = 0.0
                        if let through {
                            for m in 0..<inner { sum += local.scalars[r * inner + m] * through.scalars[m * columns + c] }
                        } else {
                            sum = local.scalars[r * columns + c]
                        }
                        total.scalars[r * columns + c] += sum
                    }
                }
            }
            jacobians[id] = total
        }
        return jacobians[block.result]
    }

    /// The block of one call: the gradient arriving at its result, then for each argument the
    /// module's Jacobian and the chain-rule product (what the call's nodes send the argument).
    func moduleBlock(_ block: CallBlock, in result: Gradients, seeded: Bool) -> [String] {
        guard let g = result[block.result] else { return [] }
        let graph = workspace.graph
        let out = label(result.output)
        let name = graph[block.result].name ?? block.text
        let heading = graph[block.result].hasName ? "\(name) = \(block.text)" : name
        let lines = [style.bold(heading) + style.dim("   module, \(block.members.count) node\(block.members.count == 1 ? "" : "s"), shape \(describe(shape: graph[block.result].shape))")]
        let upstream = partial(out, name, seeded: seeded)
        var rows = [Row(role: "upstream", lhs: upstream, rhs: style.gradient(format.inline(g)), note: block.result == result.output ? "seed" : "")]
        let inside = Set(block.members)
        for argument in block.arguments {
            let sent = result.contributions.filter { inside.contains($0.consumer) && $0.input == argument }
            guard var total = sent.first?.value else { continue }
            for edge in sent.dropFirst() {
                for i in total.scalars.indices { total.scalars[i] += edge.value.scalars[i] }
            }
            let localLabel = "∂\(name)/∂\(label(argument))"
            let rowsCount = graph[block.result].shape.reduce(1, *), columns = graph[argument].shape.reduce(1, *)
            let jacobian = moduleJacobian(block, argument: argument)
            let text = jacobian.map { rowsCount * columns <= Session.jacobianEntryLimit ? format.inline($0) : "\(rowsCount)×\(columns) matrix" }
                ?? "\(rowsCount)×\(columns), too large to write out"
            rows.append(Row(role: "local", lhs: localLabel, rhs: text, note: "\(rowsCount)×\(columns), through the call's nodes"))
            rows.append(Row(role: "chain", lhs: "\(upstream) · \(localLabel)", rhs: style.gradient(format.inline(total)), note: "→ \(label(argument))"))
        }
        return lines + render(rows)
    }
}
