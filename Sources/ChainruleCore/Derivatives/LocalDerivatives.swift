/// The local derivatives of nonlinear ops, written with other ops so that they can be
/// differentiated again. `x` is an input, `y` the node's own value.
extension Emitter {
    /// `∂y/∂xₖ` elementwise, at a shape that broadcasts to the output's (nil: zero).
    ///
    /// Kinks take the derivative of the branch the definition selects, so
    /// `relu′(0) = abs′(0) = 0`; at `b = 0`, `∂(aᵇ)/∂a = 0`; at `a = 0, b ≥ 0`, `∂(aᵇ)/∂b = 0`.
    mutating func partial(of id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        let x = try primal(node.inputs[0])
        switch node.op {
        case .pointwise(let p):
            let y = try primal(id)
            switch p {
            case .relu: return try positive(x)
            case .gelu: return try add(try apply(.normalCDF, x), try multiply(x, try normalDensity(x)))
            case .sigmoid: return try multiply(y, try subtract(scalar(1), y))
            case .tanh: return try subtract(scalar(1), try multiply(y, y))
            case .softplus: return try apply(.sigmoid, x)
            case .exp: return y
            case .log: return try divide(scalar(1), x)
            case .sqrt: return try divide(scalar(0.5), y)
            case .abs: return try subtract(try positive(x), try compare(.greater, scalar(0), x))
            case .sin: return try apply(.cos, x)
            case .cos: return try negate(try apply(.sin, x))
            case .normalCDF: return try normalDensity(x)
            case .negate: return scalar(-1)
            case .linear: return scalar(1)
            case .step, .sign: return nil
            }
        case .binary(.divide):
            let b = try primal(node.inputs[1])
            return k == 0 ? try divide(scalar(1), b) : try negate(try divide(try primal(id), b))
        case .binary(.power):
            return try powerPartial(id, input: k)
        case .binary(.maximum), .binary(.minimum):
            // The chosen argument gets the gradient; at a tie, the first.
            let (a, b) = (try primal(node.inputs[0]), try primal(node.inputs[1]))
            let first = node.op == .binary(.maximum) ? try compare(.greaterEqual, a, b) : try compare(.greaterEqual, b, a)
            return k == 0 ? first : try subtract(scalar(1), first)
        case .binary(.leakyRelu):
            // ∂/∂x = 1 or a; ∂/∂a = 0 or x, by the sign of x.
            let a = try primal(node.inputs[1])
            return k == 0 ? try select(try positive(x), scalar(1), a) : try select(try positive(x), nil, x)
        case .binary(.elu):
            // ∂/∂x = 1 or a·eˣ = y + a; ∂/∂a = 0 or eˣ − 1.
            let a = try primal(node.inputs[1])
            if k == 0 { return try select(try positive(x), scalar(1), try add(try primal(id), a)) }
            return try select(try positive(x), nil, try subtract(try apply(.exp, x), scalar(1)))
        default:
            throw ShapeMessage("\(node.op.name) has no elementwise derivative")
        }
    }

    /// The mask `x > 0`.
    mutating func positive(_ x: NodeID) throws(ShapeMessage) -> NodeID {
        try compare(.greater, x, scalar(0))
    }

    /// `φ(x) = e^(−x²/2)/√(2π)`.
    mutating func normalDensity(_ x: NodeID) throws(ShapeMessage) -> NodeID? {
        let exponent = try multiply(try multiply(x, x), scalar(-0.5))
        return try multiply(try apply(.exp, exponent ?? x), scalar(1 / (2 * Double.pi).squareRoot()))
    }

    /// `∂(aᵇ)/∂a = b·a^(b−1)` (0 where `b = 0`) and `∂(aᵇ)/∂b = aᵇ·log a` (0 where `a = 0, b ≥ 0`).
    mutating func powerPartial(_ id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        let a = try primal(node.inputs[0]), b = try primal(node.inputs[1])
        if k == 0 {
            if isConstant(b, equalTo: 0) { return nil }
            let bMinusOne = try subtract(b, scalar(1)) ?? b
            if let bValue = constantValue(b), !bValue.scalars.contains(0) {
                let power = isConstant(bMinusOne, equalTo: 1) ? a : try emit(.binary(.power), [a, bMinusOne])
                return try multiply(b, power)
            }
            // Where b = 0 the branch is dead, and a is fed 1 there so that 0^(−1) leaks no NaN.
            let flat = try compare(.equal, b, scalar(0))
            let safeA = try select(flat, scalar(1), a) ?? a
            return try select(flat, nil, try multiply(b, try emit(.binary(.power), [safeA, bMinusOne])))
        }
        let flat = try multiply(try compare(.equal, a, scalar(0)), try compare(.greaterEqual, b, scalar(0))) ?? a
        let slope = try multiply(try primal(id), try apply(.log, try select(flat, scalar(1), a) ?? a))
        return try select(flat, nil, slope)
    }

    /// The gradient of a scalar-valued node with respect to input k, as a tensor of that input's shape.
    mutating func gradientTensor(of id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        let a = try primal(node.inputs[0])
        let target = shape(node.inputs[k])
        switch node.op {
        case .max:
            return try emit(.argmaxMask, [a])
        case .loss(let loss):
            let b = try primal(node.inputs[1])
            let n = Double(max((Broadcast.shape(shape(a), shape(b)) ?? []).reduce(1, *), 1))
            switch loss {
            case .mse:
                let d = try subtract(a, b)
                return try sumTo(try multiply(d, scalar(k == 0 ? 2 / n : -2 / n)), target)
            case .crossEntropy:
                let z = shape(a)
                let rows = Double(max(z.count == 2 ? z[0] : 1, 1))
                if k == 1 { return try multiply(try emit(.logSoftmax, [a]), scalar(-1 / rows)) }
                let softmax = try emit(.softmax, [a])
                let error: NodeID?
                if Loss.targetsAreIndices(z, shape(b)) {
                    error = try subtract(softmax, try emit(.oneHot(classes: z.last ?? 1), [b]))
                } else {
                    error = try subtract(try multiply(softmax, try sumLastAxisKeep(b)), b)
                }
                return try multiply(error, scalar(1 / rows))
            case .bce:
                return try bceGradient(p: a, t: b, input: k, count: n, target: target)
            case .bceWithLogits:
                // mean(softplus(z) − t·z): ∂/∂z = (σ(z) − t)/n, ∂/∂t = −z/n.
                let d = k == 0 ? try subtract(try apply(.sigmoid, a), b) : try negate(a)
                return try sumTo(try multiply(d, scalar(1 / n)), target)
            case .kl:
                if k == 0 {
                    return try add(try subtract(try apply(.log, a), try apply(.log, b)), scalar(1))
                }
                // 0 where p = 0, with q fed 1 there so that q = 0 leaks no NaN into higher derivatives.
                let empty = try compare(.equal, a, scalar(0))
                let ratio = try negate(try divide(a, try select(empty, scalar(1), b) ?? b))
                return try sumTo(try select(empty, nil, ratio), target)
            }
        default:
            throw ShapeMessage("\(node.op.name) is not scalar-valued")
        }
    }

    /// Binary cross-entropy with each logarithm clamped at −100: a clamped term is flat.
    mutating func bceGradient(p: NodeID, t: NodeID, input k: Int, count n: Double, target: [Int]) throws(ShapeMessage) -> NodeID? {
        let floor = scalar(-100), one = scalar(1)
        let oneMinusP = try subtract(one, p) ?? p
        let liveP = try compare(.greater, try apply(.log, p), floor)
        let liveQ = try compare(.greater, try apply(.log, oneMinusP), floor)
        // Where a logarithm is clamped its branch is dead: it is fed 1 instead, so that neither its
        // value nor its own derivatives (1/p at p = 0) leak NaN through the selection (a "double where").
        let safeP = try select(liveP, p, one) ?? p, safeQ = try select(liveQ, oneMinusP, one) ?? oneMinusP
        if k == 1 {
            let clampedP = try select(liveP, try apply(.log, safeP), floor)
            let clampedQ = try select(liveQ, try apply(.log, safeQ), floor)
            return try sumTo(try multiply(try subtract(clampedQ, clampedP), scalar(1 / n)), target)
        }
        let oneMinusT = try subtract(one, t) ?? t
        let towardZero = try select(liveP, try negate(try divide(t, safeP)), nil)
        let towardOne = try select(liveQ, try divide(oneMinusT, safeQ), nil)
        return try sumTo(try multiply(try add(towardZero, towardOne), scalar(1 / n)), target)
    }

    /// The Jacobian of a row function applied to `v`, or its transpose. Softmax: `v ↦ y ⊙ (v − Σ y⊙v)`
    /// (symmetric); log-softmax: `v ↦ v − Σ eʸ⊙v`, transposed `v ↦ v − eʸ ⊙ Σ v`. Sums run along the last axis.
    mutating func rowMap(of id: NodeID, _ v: NodeID?, transposed: Bool) throws(ShapeMessage) -> NodeID? {
        guard let v, !graph[id].shape.isEmpty else { return nil }
        let y = try primal(id)
        if graph[id].op == .softmax {
            return try multiply(y, try subtract(v, try sumLastAxisKeep(try multiply(y, v))))
        }
        let p = try apply(.exp, y)
        if !transposed { return try subtract(v, try sumLastAxisKeep(try multiply(p, v))) }
        return try subtract(v, try multiply(p, try sumLastAxisKeep(v)))
    }
}
