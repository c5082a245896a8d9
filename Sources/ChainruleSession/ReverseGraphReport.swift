import ChainruleCore

/// The reverse graph as lectures draw it: one gradient ∂L/∂node per box of the forward
/// report it mirrors, each fed by its consumers' gradients along edges labelled with the local
/// Jacobian they apply (`diag(relu′(z))`, `Wᵀ`, `I ⊗ xᵀ`, `E₅`); a box fed by several
/// consumers is their sum. It is the graph a slide draws, not the simplified one that runs
/// (`:reverse` lists that).
struct ReverseGraphReport {
    struct Edge {
        /// The gradient box of the consumer the contribution comes from.
        var from: Int
        /// ∂consumer/∂input in its structured form; a product where unnamed nodes were folded.
        var jacobian: String
    }

    struct GradientBox {
        /// The forward box (in ``ReverseGraphReport/forward``) this is the gradient of.
        var box: Int
        var label: String
        var gradient: Tensor?
        /// The contributions that have arrived so far while a walk is under way (see ``GraphReport/Box``).
        var gradientSoFar: String?
        var shape: [Int]
        /// The contributions it sums, from the consumers in their order; empty for the output (the seed).
        var incoming: [Edge]
        var isCurrent: Bool
        var isChanged: Bool
    }

    var forward: GraphReport
    /// From the output down: every box's consumers come before it.
    var boxes: [GradientBox]
}

extension Session {
    /// The reverse drawing of `forward`: a gradient box for every box the output's gradient reaches.
    func reverseReport(of forward: GraphReport) -> ReverseGraphReport {
        var index = [Int?](repeating: nil, count: forward.boxes.count)
        var boxes: [ReverseGraphReport.GradientBox] = []
        for b in stride(from: forward.boxes.count - 1, through: 0, by: -1) where forward.boxes[b].receivesGradient {
            let box = forward.boxes[b]
            index[b] = boxes.count
            boxes.append(.init(box: b, label: forward.partial(box), gradient: box.gradient, gradientSoFar: box.gradientSoFar,
                               shape: box.shape, incoming: [],
                               // A forward step computes no gradient: only the backward walk marks gradient boxes.
                               isCurrent: box.isCurrent && box.gradient != nil,
                               isChanged: box.isChanged && (box.gradient != nil || box.gradientSoFar != nil)))
        }
        // Edges in the consumers' order (creation order, as the walk sums them).
        var symbols: [Int: String] = [:]
        for c in 0..<forward.boxes.count {
            guard let from = index[c] else { continue }
            let consumer = forward.boxes[c]
            let jacobians = pathJacobians(from: consumer, in: forward, symbols: &symbols)
            for input in Set(consumer.inputs).sorted() where input < c {
                guard let to = index[input], let text = jacobians[forward.boxes[input].id] else { continue }
                boxes[to].incoming.append(.init(from: from, jacobian: text))
            }
        }
        return ReverseGraphReport(forward: forward, boxes: boxes)
    }

    /// ∂box/∂input for every input the box's folded nodes reach: the product of the local
    /// Jacobians along each path, top first, identities left out; paths add. One walk over the
    /// box's nodes serves every input (at most 10,000 steps, a few paths written out per input),
    /// and each edge's Jacobian is named once (`symbols`, keyed by node and argument), so a box
    /// with a thousand inputs costs what its edges cost. An input with no differentiable path is absent.
    func pathJacobians(from box: GraphReport.Box, in report: GraphReport, symbols: inout [Int: String]) -> [NodeID: String] {
        let graph = workspace.graph
        let inside = Set(box.members)
        var paths: [NodeID: [[String]]] = [:]
        var extra: [NodeID: Int] = [:]
        var truncated = false
        // (node, the factors so far): depth first.
        var stack: [(NodeID, [String])] = [(box.id, [])]
        var steps = 0
        while let (node, factors) = stack.popLast() {
            steps += 1
            if steps > 10_000 || (steps & 255 == 0 && shouldStop()) { truncated = true; break }
            for (k, m) in graph[node].inputs.enumerated().reversed() where graph.isDifferentiable(node, argument: k) {
                let key = node &* 64 &+ min(k, 63)
                let factor: String
                if let known = symbols[key] { factor = known } else {
                    factor = jacobianSymbol(node, argument: k, granularity: report.granularity)
                    symbols[key] = factor
                }
                let next = factor == "I" || factor == "1" ? factors : factors + [factor]
                if inside.contains(m) && m != box.id {
                    stack.append((m, next))
                } else if paths[m, default: []].count < 3 {
                    paths[m, default: []].append(next)
                } else {
                    extra[m, default: 0] += 1
                }
            }
        }
        var result: [NodeID: String] = [:]
        for (input, found) in paths {
            let count = graph[input].shape.reduce(1, *)
            let square = box.shape.reduce(1, *) == count
            // A compound factor (I ⊗ xᵀ) is parenthesised inside a product of several.
            var terms = found.map { factors -> String in
                if factors.isEmpty { return square && count == 1 ? "1" : "I" }
                if factors.count == 1 { return factors[0] }
                return factors.map { $0.contains(" ") ? "(\($0))" : $0 }.joined(separator: " · ")
            }
            if let more = extra[input] { terms.append("… (\(more) more path\(more == 1 ? "" : "s"))") }
            if truncated { terms.append("…") }
            result[input] = terms.joined(separator: " + ")
        }
        return result
    }

    /// How an operand reads inside a Jacobian's name: its name, a small literal's value,
    /// `%ID` when every node is drawn, else `(·)` for a folded intermediate.
    func operandText(_ id: NodeID, granularity: GraphReport.Granularity) -> String {
        let node = workspace.graph[id]
        if let name = node.name { return name }
        if node.isLiteral, let value = node.value, value.count <= 4 { return format.inline(value) }
        return granularity == .nodes ? "%\(id)" : "(·)"
    }

    /// The local Jacobian ∂node/∂(argument k) named by its structure: ``LocalJacobian`` recognises
    /// identities, diagonals, matrix operands and Kronecker rows; selections (indexing), broadcasts,
    /// axis sums and the products of matrices are named here, from the op and the shapes.
    func jacobianSymbol(_ id: NodeID, argument k: Int, granularity: GraphReport.Granularity) -> String {
        let graph = workspace.graph
        let node = graph[id]
        let operands = node.inputs.map { operandText($0, granularity: granularity) }
        let shapes = node.inputs.map { graph[$0].shape }
        let x = operands[k]
        let other = node.inputs.count > 1 ? operands[1 - min(k, 1)] : ""
        let scalarIn = shapes[k].isEmpty, scalarOut = node.shape.isEmpty
        let inputs = node.inputs.map { workspace.evaluation[$0] ?? Tensor.zeros(graph[$0].shape) }
        let output = workspace.evaluation[id] ?? Tensor.zeros(node.shape)
        let local = LocalJacobian(op: node.op, inputs: inputs, output: output, argument: k)
        let one = local.rows == 1 && local.columns == 1
        func diagonal(_ d: String) -> String { one ? d : "diag(\(d))" }
        switch local.structure {
        case .identity: return one ? "1" : "I"
        case .negatedIdentity: return one ? "-1" : "-I"
        case .matrix(let operand, let transposed): return operands[operand] + (transposed ? "ᵀ" : "")
        case .identityKroneckerRow(let operand): return "I ⊗ \(operands[operand])ᵀ"
        case .constantRow(let c): return c == 1 ? "1ᵀ" : "1ᵀ/\(local.columns)"
        case .diagonal:
            switch node.op {
            case .pointwise(let p): return diagonal("\(Op.pointwise(p).name)′(\(x == "(·)" ? "·" : x))")
            case .binary(.multiply): return diagonal(other)
            case .binary(.divide): return diagonal(k == 0 ? "1/\(other)" : "-\(operands[0])/\(other)²")
            case .binary(.power):
                if k == 0 {
                    if let n = graph[node.inputs[1]].value, n.isScalar, graph[node.inputs[1]].isLiteral {
                        return diagonal("\(format.format(n.scalars[0]))·\(x)" + (n.scalars[0] == 2 ? "" : "^\(format.format(n.scalars[0] - 1))"))
                    }
                    return diagonal("\(other)·\(x)^(\(other)-1)")
                }
                return diagonal("log(\(operands[0]))·\(operands[0])^\(x)")
            default: return diagonal("∂\(node.op.name)/∂\(x)")
            }
        case .dense: break
        }
        let broadcast = "1\(subscripted(max(local.rows / max(local.columns, 1), 1)))"
        switch node.op {
        case .index(let plan):
            let parts = plan.components.map { component -> String in
                if case .at(let i) = component { return subscripted(i) }
                return ":"
            }
            return plan.components.allSatisfy({ if case .at = $0 { true } else { false } })
                ? "E" + parts.joined(separator: ",") : "E[" + parts.joined(separator: ", ") + "]"
        case .binary(.add), .binary(.subtract):
            let sign = node.op == .binary(.subtract) && k == 1 ? "-" : ""
            return sign + (scalarIn ? broadcast : "\(broadcast) ⊗ I")
        case .binary(.multiply):
            if scalarIn { return other }
            if shapes[1 - min(k, 1)].isEmpty { return "\(other)·I" }
            return "diag(\(other)) (\(broadcast) ⊗ I)"
        case .matmul, .dot:
            let a = operands[0], b = operands[1]
            if shapes[0].count == 1 && shapes[1].count == 1 { return k == 0 ? "\(b)ᵀ" : "\(a)ᵀ" }
            if shapes[0].count == 1 { return k == 0 ? "\(b)ᵀ" : "\(a)ᵀ ⊗ I" }
            return k == 0 ? "I ⊗ \(b)ᵀ" : "\(a) ⊗ I"
        case .sum(let axis?): return "Σ axis \(axis)"
        case .mean(let axis?): return "Σ axis \(axis) / \(shapes[0][axis])"
        case .softmax: return "diag(s) - s sᵀ"
        case .logSoftmax: return "I - 1 softmax(\(x))ᵀ"
        case .transpose, .transposeLastTwo: return "K (transpose)"
        case .stack: return "E\(subscripted(k))ᵀ"
        case .reshape: return "I (reshape)"
        case .broadcastTo: return "\(broadcast) ⊗ I"
        case .max: return "eᵀ at argmax"
        case .identity: return "I"
        default:
            _ = scalarOut
            return "∂\(node.op.name)/∂\(x)"
        }
    }

    /// A whole number in subscript digits: `E₅`, `E₋₁`.
    func subscripted(_ n: Int) -> String {
        let digits: [Character] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
        return (n < 0 ? "₋" : "") + String(n.magnitude).map { digits[Int($0.asciiValue ?? 48) - 48] }.map(String.init).joined()
    }
}
