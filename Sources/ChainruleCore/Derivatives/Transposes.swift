/// Reverse rules of linear and multilinear ops: each op's transpose in one argument.
/// (Their tangents need no rule: a linear op applied to tangents is its own tangent.)
extension Emitter {
    /// `ḡ` carried back through argument `k` of a linear or multilinear node.
    mutating func transpose(of id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        let x = node.inputs
        let target = shape(x[k])
        switch node.op {
        case .identity, .pointwise(.linear):
            return g
        case .pointwise(.negate):
            return try negate(g)
        case .binary(.add):
            return try sumTo(g, target)
        case .binary(.subtract):
            let summed = try sumTo(g, target)
            return k == 0 ? summed : try negate(summed)
        case .transpose:
            return try emit(.transpose, [g])
        case .transposeLastTwo:
            return try emit(.transposeLastTwo, [g])
        case .index(let plan):
            return try emit(.scatter(plan), [g])
        case .scatter(let plan):
            return try emit(.index(plan), [g])
        case .stack:
            return try emit(.index(try IndexPlan(components: [.at(k)], shape: shape(g))), [g])
        case .sum(nil):
            return try broadcastTo(g, target)
        case .mean(nil):
            return try multiply(try broadcastTo(g, target), scalar(1 / Double(max(target.reduce(1, *), 1))))
        case .sum(let a?), .mean(let a?):
            var kept = target
            kept[a] = 1
            let spread = try broadcastTo(try reshape(g, kept), target)
            if case .sum = node.op { return spread }
            return try multiply(spread, scalar(1 / Double(max(target[a], 1))))
        case .sumTo:
            return try broadcastTo(g, target)
        case .broadcastTo:
            return try sumTo(g, target)
        case .reshape:
            return try reshape(g, target)
        case .select:
            let mask = try primal(x[0])
            return try sumTo(k == 1 ? try select(mask, g, nil) : try select(mask, nil, g), target)
        case .binary(.multiply):
            return try sumTo(try multiply(g, try primal(x[1 - k])), target)
        case .dot:
            return try multiply(g, try primal(x[1 - k]))
        case .matmul:
            return try matmulTranspose(id, input: k, gradient: g)
        case .einsum(let plan):
            var inputs = [g]
            for (j, operand) in x.enumerated() where j != k { inputs.append(try primal(operand)) }
            return try emit(.einsumTranspose(plan, operand: k), inputs)
        case .einsumTranspose(let plan, let operand):
            // Operands of the einsum, with the cotangent in the place of operand `operand`.
            var operands: [NodeID] = []
            for input in x.dropFirst() { operands.append(try primal(input)) }
            operands.insert(g, at: operand)
            if k == 0 { return try emit(.einsum(plan), operands) }
            let j = k - 1 < operand ? k - 1 : k
            operands.remove(at: j)
            return try emit(.einsumTranspose(plan, operand: j), [try primal(x[0])] + operands)
        default:
            throw ShapeMessage("\(node.op.name) has no transpose rule")
        }
    }

    /// `A @ B` with NumPy's promotion of vectors and broadcasting of batch axes:
    /// `Ā = sum_to(Ḡ @ Bᵀ)`, `B̄ = sum_to(Aᵀ @ Ḡ)` on the promoted shapes, then reshaped back.
    mutating func matmulTranspose(_ id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        let a = try primal(node.inputs[0]), b = try primal(node.inputs[1])
        let pa = Matmul.promotedLeft(shape(a)), pb = Matmul.promotedRight(shape(b))
        guard case .success(let promotedOutput) = Matmul.shape(pa, pb) else {
            throw ShapeMessage("matmul transpose: shapes do not fit")
        }
        let gp = try reshape(g, promotedOutput)
        if k == 0 {
            let product = try emit(.matmul, [gp ?? g, try swapLastTwo(try reshape(b, pb) ?? b)])
            return try reshape(try sumTo(product, pa), shape(a))
        }
        let product = try emit(.matmul, [try swapLastTwo(try reshape(a, pa) ?? a), gp ?? g])
        return try reshape(try sumTo(product, pb), shape(b))
    }

    mutating func swapLastTwo(_ x: NodeID) throws(ShapeMessage) -> NodeID {
        try emit(shape(x).count == 2 ? .transpose : .transposeLastTwo, [x])
    }
}
