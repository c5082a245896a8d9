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
                               shape: box.shape, incoming: [], isCurrent: box.isCurrent, isChanged: box.isChanged))
        }
        // Edges in the consumers' order (creation order, as the walk sums them).
        for c in 0..<forward.boxes.count {
            guard let from = index[c] else { continue }
            let consumer = forward.boxes[c]
            for input in Set(consumer.inputs).sorted() where input < c {
                guard let to = index[input] else { continue }
                let text = pathJacobian(from: consumer, to: forward.boxes[input].id, in: forward)
                guard let text else { continue }
                boxes[to].incoming.append(.init(from: from, jacobian: text))
            }
        }
        return ReverseGraphReport(forward: forward, boxes: boxes)
    }

    /// ∂box/∂input through the box's folded nodes: the product of the local Jacobians along each
    /// path, top first, identities left out; paths add. Nil when no differentiable path exists.
    func pathJacobian(from box: GraphReport.Box, to input: NodeID, in report: GraphReport) -> String? {
        let graph = workspace.graph
        let inside = Set(box.members)
        var paths: [[String]] = []
        var extra = 0
        // (node, the factors so far): depth first, at most a few paths written out.
        var stack: [(NodeID, [String])] = [(box.id, [])]
        var steps = 0
        while let (node, factors) = stack.popLast() {
            steps += 1
            if steps > 10_000 { extra += 1; break }
            for (k, m) in graph[node].inputs.enumerated().reversed() where graph.isDifferentiable(node, argument: k) {
                let factor = jacobianSymbol(node, argument: k, granularity: report.granularity)
                let next = factor == "I" || factor == "1" ? factors : factors + [factor]
                if m == input {
                    if paths.count < 3 { paths.append(next) } else { extra += 1 }
                } else if inside.contains(m) && m != box.id {
                    stack.append((m, next))
                }
            }
        }
        guard !paths.isEmpty else { return nil }
        let square = box.shape.reduce(1, *) == graph[input].shape.reduce(1, *)
        // A compound factor (I ⊗ xᵀ) is parenthesised inside a product of several.
        var terms = paths.map { factors -> String in
            if factors.isEmpty { return square && graph[input].shape.reduce(1, *) == 1 ? "1" : "I" }
            if factors.count == 1 { return factors[0] }
            return factors.map { $0.contains(" ") ? "(\($0))" : $0 }.joined(separator: " · ")
        }
        if extra > 0 { terms.append("… (\(extra) more path\(extra == 1 ? "" : "s"))") }
        return terms.joined(separator: " + ")
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
