/// How the one statement of an op's derivative (``DerivativeForm``, with the rule its
/// family gives for that form) becomes a tangent in forward mode and a cotangent in
/// reverse mode. Nothing here names an op: the rules live with their ops (``OpFamily``).
extension Emitter {
    /// The tangent of node `id` given its inputs' tangents (nil: zero).
    mutating func tangent(of id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        let op = graph[id].op
        let family = op.family
        let shapes = ReverseMode.argumentShapes(op, graph.inputs(of: id), graph)
        let dx = dx.enumerated().map { k, t in op.differentiates(argument: k, shapes: shapes) ? t : nil }
        guard dx.contains(where: { $0 != nil }) else { return nil }
        switch family.derivative.rule {
        case .none:
            return nil
        case .linear(let linearTangent, _):
            guard let linearTangent else { return try applyToTangents(id, dx) }
            return try linearTangent(&self, id, dx)
        case .multilinear:
            var total: NodeID? = nil
            for (k, t) in dx.enumerated() {
                guard let t else { continue }
                var inputs: [NodeID] = []
                for j in dx.indices { inputs.append(j == k ? t : try primal(input(id, j))) }
                total = try add(total, try emit(op, inputs))
            }
            return total
        case .elementwise(let partial):
            var total: NodeID? = nil
            for (k, t) in dx.enumerated() where t != nil {
                total = try add(total, try broadcastTo(try multiply(t, try partial(&self, id, k)), shape(id)))
            }
            return total
        case .scalar(let gradientTensor):
            var total: NodeID? = nil
            for (k, t) in dx.enumerated() where t != nil {
                if let product = try multiply(try gradientTensor(&self, id, k), t) {
                    total = try add(total, try emit(.sum(axis: nil), [product]))
                }
            }
            return total
        case .rowwise(let rowMap):
            guard let v = dx[0] else { return nil }
            return try rowMap(&self, id, v, false)
        }
    }

    /// The contribution `ḡ · ∂node/∂input_k` to input k's gradient, where `g` is ∂out/∂node.
    mutating func cotangent(of id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let op = graph[id].op
        return try cotangent(of: id, op: op, derivative: op.family.derivative, input: k, gradient: g)
    }

    /// ``cotangent(of:input:gradient:)`` with node `id`'s op and derivative read once by the
    /// caller, which asks for each input in turn (a derivative's rules are closures, made anew
    /// each time a family gives them).
    mutating func cotangent(of id: NodeID, op: Op, derivative: Derivative, input k: Int,
                            gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        guard op.differentiates(argument: k, shapes: ReverseMode.argumentShapes(op, graph.inputs(of: id), graph)) else {
            return nil
        }
        switch derivative.rule {
        case .none:
            return nil
        case .linear(_, let transpose), .multilinear(let transpose):
            return try transpose(&self, id, k, g)
        case .elementwise(let partial):
            return try unbroadcast(try multiply(g, try partial(&self, id, k)), to: shape(input(id, k)))
        case .scalar(let gradientTensor):
            return try unbroadcast(try multiply(g, try gradientTensor(&self, id, k)), to: shape(input(id, k)))
        case .rowwise(let rowMap):
            return try rowMap(&self, id, g, true)
        }
    }

    /// A linear op's own tangent: the op applied to its inputs' tangents, a zero tangent materialised.
    mutating func applyToTangents(_ id: NodeID, _ dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        var inputs: [NodeID] = []
        for (k, t) in dx.enumerated() {
            if let t { inputs.append(t) } else { inputs.append(try zeros(shape(input(id, k)))) }
        }
        return try emit(graph[id].op, inputs)
    }

    // Rules read a node's parts as plain values, never holding the node while they emit:
    // appending to the store while a view of it is alive would copy the store.

    /// Input `k` of node `id`.
    func input(_ id: NodeID, _ k: Int) -> NodeID {
        if let tape, id >= tape.base { return tape.input(id - tape.base, k) }
        return graph[id].inputs[k]
    }

    /// The inputs of node `id`, for ops with any number of them.
    func inputs(of id: NodeID) -> [NodeID] {
        if let tape, id >= tape.base { return tape.inputs(id - tape.base) }
        return Array(graph[id].inputs)
    }
}
