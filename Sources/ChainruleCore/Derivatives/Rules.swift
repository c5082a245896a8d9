/// How an op's derivative is stated. Forward mode (tangents) and reverse mode
/// (cotangents) both read this one statement, so every derivative is written once,
/// in the op vocabulary, and is itself a graph that can be differentiated again.
enum DerivativeForm {
    /// The output does not change under small changes of the inputs (constants, masks).
    case none
    /// Linear in its differentiable inputs together: the tangent is the op applied to
    /// the tangents, and the reverse rule is the op's transpose (``Emitter/transpose(of:input:gradient:)``).
    case linear
    /// Linear in each input separately (products): the tangent is `Σₖ op(…, ẋₖ, …)`, and
    /// the reverse rule for input k is the transpose in that input, the others held fixed.
    case multilinear
    /// Elementwise and nonlinear: one local derivative `dₖ` per input
    /// (``Emitter/partial(of:input:)``); tangent `Σₖ ẋₖ ⊙ dₖ`, reverse `sum_to(ḡ ⊙ dₖ)`.
    case elementwise
    /// A scalar output (costs, `max`): the output's gradient with respect to each input as
    /// a tensor `Gₖ` (``Emitter/gradientTensor(of:input:)``); tangent `Σₖ sum(Gₖ ⊙ ẋₖ)`, reverse `ḡ·Gₖ`.
    case scalar
    /// `softmax`, `log_softmax`: per row, a linear map that is its own transpose
    /// (``Emitter/rowMap(of:_:transposed:)``), applied to the tangent or to the gradient.
    case rowwise
}

extension Op {
    var derivativeForm: DerivativeForm {
        switch self {
        case .constant, .compare, .argmaxMask, .oneHot, .pointwise(.step), .pointwise(.sign): .none
        case .identity, .transpose, .index, .stack, .sum, .mean, .sumTo, .broadcastTo, .reshape,
             .transposeLastTwo, .select, .scatter: .linear
        case .binary(.add), .binary(.subtract), .pointwise(.negate), .pointwise(.linear): .linear
        case .binary(.multiply), .matmul, .dot, .einsum, .einsumTranspose: .multilinear
        case .binary, .pointwise: .elementwise
        case .loss, .max: .scalar
        case .softmax, .logSoftmax: .rowwise
        }
    }

    /// Whether argument `k` is differentiated at all: false for a select's mask and for class
    /// indices, which receive no gradient (null, not zero). Arguments of ops whose derivative
    /// is zero (`step`, comparisons) are differentiated, and receive zero.
    public func differentiates(argument k: Int, shapes: [[Int]]) -> Bool {
        switch self {
        case .constant, .oneHot: false
        case .select: k > 0
        case .loss(.crossEntropy): k == 0 || !Loss.targetsAreIndices(shapes[0], shapes[1])
        default: true
        }
    }
}

extension Emitter {
    /// The tangent of node `id` given its inputs' tangents (nil: zero).
    mutating func tangent(of id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        let shapes = node.inputs.map(shape)
        let dx = dx.enumerated().map { k, t in node.op.differentiates(argument: k, shapes: shapes) ? t : nil }
        guard dx.contains(where: { $0 != nil }) else { return nil }
        switch node.op.derivativeForm {
        case .none:
            return nil
        case .linear:
            return try linearTangent(of: id, inputs: dx)
        case .multilinear:
            var total: NodeID? = nil
            for (k, t) in dx.enumerated() {
                guard let t else { continue }
                var inputs: [NodeID] = []
                for (j, x) in node.inputs.enumerated() { inputs.append(j == k ? t : try primal(x)) }
                total = try add(total, try emit(node.op, inputs))
            }
            return total
        case .elementwise:
            var total: NodeID? = nil
            for (k, t) in dx.enumerated() where t != nil {
                total = try add(total, try broadcastTo(try multiply(t, try partial(of: id, input: k)), node.shape))
            }
            return total
        case .scalar:
            var total: NodeID? = nil
            for (k, t) in dx.enumerated() where t != nil {
                if let product = try multiply(try gradientTensor(of: id, input: k), t) {
                    total = try add(total, try emit(.sum(axis: nil), [product]))
                }
            }
            return total
        case .rowwise:
            return try rowMap(of: id, dx[0], transposed: false)
        }
    }

    /// The contribution `ḡ · ∂node/∂input_k` to input k's gradient, where `g` is ∂out/∂node.
    mutating func cotangent(of id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        guard node.op.differentiates(argument: k, shapes: node.inputs.map(shape)) else { return nil }
        let target = shape(node.inputs[k])
        switch node.op.derivativeForm {
        case .none:
            return nil
        case .linear, .multilinear:
            return try transpose(of: id, input: k, gradient: g)
        case .elementwise:
            return try sumTo(try multiply(g, try partial(of: id, input: k)), target)
        case .scalar:
            return try multiply(g, try gradientTensor(of: id, input: k))
        case .rowwise:
            return try rowMap(of: id, g, transposed: true)
        }
    }

    /// Tangents of linear ops: the op itself on the tangents.
    mutating func linearTangent(of id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        let node = graph.view(id)
        switch node.op {
        case .identity, .pointwise(.linear):
            return dx[0]
        case .pointwise(.negate):
            return try negate(dx[0])
        case .binary(.add):
            return try broadcastTo(try add(dx[0], dx[1]), node.shape)
        case .binary(.subtract):
            return try broadcastTo(try subtract(dx[0], dx[1]), node.shape)
        case .select:
            return try select(try primal(node.inputs[0]), dx[1], dx[2])
        default:
            var inputs: [NodeID] = []
            for (k, t) in dx.enumerated() {
                if let t { inputs.append(t) } else { inputs.append(try zeros(shape(node.inputs[k]))) }
            }
            return try emit(node.op, inputs)
        }
    }
}
