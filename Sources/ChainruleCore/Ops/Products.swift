/// Products: `a @ b` (NumPy's matmul), `dot(a, b)`, einsum, and einsum's adjoint in one
/// operand (the op their reverse rules emit: einsum is closed under transposition).
/// Each is linear in every argument separately, so its tangent is the product with one
/// argument replaced by its tangent, and its reverse rule the transpose in that argument.
struct Products: OpFamily {
    let op: Op
    init(_ op: Op) { self.op = op }

    static let functions = [
        Builtins.Function(name: "dot", signature: "dot(a, b)", summary: "vector · vector → scalar", call: .apply(.dot, parameters: ["a", "b"], required: 2)),
        Builtins.Function(name: "einsum", signature: "einsum(\"ij,j->i\", a, b, …)", summary: "NumPy einsum", call: .einsum),
    ]

    /// Every op of the family, those with a plan bound to small shapes (``Op/declared()``).
    static func examples() throws(ShapeMessage) -> [Op] {
        let plan = try EinsumPlan(try EinsumSpec("ij,j->i", operandCount: 2), shapes: [[2, 3], [3]])
        return [.matmul, .dot, .einsum(plan), .einsumTranspose(plan, operand: 0)]
    }

    var name: String {
        switch op {
        case .matmul: "matmul"
        case .dot: "dot"
        case .einsum: "einsum"
        default: "einsum_transpose"
        }
    }

    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        switch op {
        case .matmul:
            return try Matmul.shape(shapes[0], shapes[1]).get()
        case .dot:
            guard shapes[0].count == 1, shapes[1].count == 1, shapes[0] == shapes[1] else {
                throw ShapeMessage("dot needs two vectors of one length, got shapes \(describe(shape: shapes[0])) and \(describe(shape: shapes[1]))")
            }
            return []
        case .einsum(let plan):
            guard shapes == plan.shapes else {
                throw ShapeMessage("an einsum planned for shapes \(plan.shapes.map { describe(shape: $0) }.joined(separator: ", ")) cannot take other shapes")
            }
            return plan.outputShape
        case .einsumTranspose(let plan, let k):
            var all = shapes
            all.remove(at: 0)
            all.insert(plan.shapes[k], at: k)
            guard all == plan.shapes, shapes[0] == plan.outputShape else {
                throw ShapeMessage("an einsum adjoint planned for other shapes cannot take \(shapes.map { describe(shape: $0) }.joined(separator: ", "))")
            }
            return plan.shapes[k]
        default:
            throw ShapeMessage("\(op.name) is not a product")
        }
    }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        if case .dot = op {
            var total = 0.0
            for i in x[0].scalars.indices { total += x[0].scalars[i] * x[1].scalars[i] }
            return Tensor(total)
        }
        // The blocked products never stop when nothing asks them to.
        return try forward(x, shouldStop: { false }) ?? Tensor(0)
    }

    func forward(_ x: [Tensor], shouldStop: () -> Bool) throws(ShapeMessage) -> Tensor? {
        switch op {
        case .matmul: return Matmul.apply(x[0], x[1], shouldStop: shouldStop)
        case .einsum(let plan): return plan.apply(x, shouldStop: shouldStop)
        case .einsumTranspose(let plan, let k):
            var operands = Array(x.dropFirst())
            operands.insert(Tensor.zeros(plan.shapes[k]), at: k)
            return plan.adjoint(x[0], operands, operand: k, shouldStop: shouldStop)
        default: return try forward(x)
        }
    }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        guard case .matmul = op else {
            guard let result = try forward(x, shouldStop: shouldStop) else { return false }
            out = result
            return true
        }
        return Matmul.product(x[0], x[1], into: &out, shouldStop: shouldStop)
    }

    var derivative: Derivative { .multilinear(transpose: transpose) }

    func python(_ x: [String], _ framework: Framework) -> String {
        switch op {
        case .matmul: "\(x[0]) @ \(x[1])"
        case .dot: "dot(\(x[0]), \(x[1]))"
        case .einsum(let plan): "einsum(\(Export.einsumSpec(plan.spec)), \(x.joined(separator: ", ")))"
        case .einsumTranspose(let plan, let k): "einsum_transpose(\(Export.einsumSpec(plan.spec)), \(k), \(Export.tuple(plan.shapes[k])), \(x.joined(separator: ", ")))"
        default: "unknown"
        }
    }
    /// An einsum may read only a diagonal of an operand (`"ii->"`).
    func reading(input k: Int) -> ElementReading {
        switch op {
        case .einsum, .einsumTranspose: .selectively
        default: .asPulledBack
        }
    }
    var saves: Saved { .inputs }

    func work(_ shapes: [[Int]]) -> Int? {
        switch op {
        case .matmul:
            guard case .success(let result) = Matmul.shape(shapes[0], shapes[1]) else { return nil }
            let inner = shapes[0].last ?? 1
            return Limits.product(result + [inner], limit: Int.max / 2) ?? Int.max
        case .einsum(let plan), .einsumTranspose(let plan, _):
            return Limits.product(plan.sizes, limit: Int.max / 2) ?? Int.max
        default:
            return nil
        }
    }

    /// A matrix product's result element is a sum over the first operand's last axis (read in
    /// place, no shapes gathered); an einsum's work is its plan's.
    func workUnits(elements: Int, firstInput: () -> [Int]) -> Int {
        switch op {
        case .matmul:
            let inner = Swift.max(firstInput().last ?? 1, 1)
            return elements.multipliedReportingOverflow(by: inner).overflow ? Int.max / 2 : elements * inner
        case .einsum:
            return work([]) ?? Int.max / 2
        default:
            return elements
        }
    }

    /// The matrix–vector and vector–matrix products have Jacobians that are their other operand
    /// (`∂(A@x)/∂x = A`, `∂(x@B)/∂x = Bᵀ`) or `I ⊗ xᵀ` (`∂(A@x)/∂A`); the rest are shown in full.
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure {
        guard op == .matmul else { return .dense }
        switch (k, inputs[0].rank, inputs[1].rank) {
        case (1, 2, 1): return .matrix(operand: 0, transposed: false)
        case (0, 2, 1): return .identityKroneckerRow(operand: 1)
        case (0, 1, 2): return .matrix(operand: 1, transposed: true)
        default: return .dense
        }
    }

    func flops(_ shapes: [[Int]], result: [Int]) -> Int {
        if case .dot = op { return 2 * (shapes.first?.reduce(1, *) ?? 0) }
        return 2 * (work(shapes) ?? 0)
    }

    func transpose(_ e: inout Emitter, node id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let x = e.inputs(of: id)
        switch op {
        case .dot:
            return try e.multiply(g, try e.primal(x[1 - k]))
        case .matmul:
            return try matmulTranspose(&e, a: x[0], b: x[1], input: k, gradient: g)
        case .einsum(let plan):
            var inputs = [g]
            for (j, operand) in x.enumerated() where j != k { inputs.append(try e.primal(operand)) }
            return try e.emit(.einsumTranspose(plan, operand: k), inputs)
        case .einsumTranspose(let plan, let operand):
            // Operands of the einsum, with the cotangent in the place of operand `operand`.
            var operands: [NodeID] = []
            for input in x.dropFirst() { operands.append(try e.primal(input)) }
            operands.insert(g, at: operand)
            if k == 0 { return try e.emit(.einsum(plan), operands) }
            let j = k - 1 < operand ? k - 1 : k
            operands.remove(at: j)
            return try e.emit(.einsumTranspose(plan, operand: j), [try e.primal(x[0])] + operands)
        default:
            throw ShapeMessage("\(op.name) has no transpose rule")
        }
    }

    /// `A @ B` with NumPy's promotion of vectors and broadcasting of batch axes:
    /// `Ā = sum_to(Ḡ @ Bᵀ)`, `B̄ = sum_to(Aᵀ @ Ḡ)` on the promoted shapes, then reshaped back.
    private func matmulTranspose(_ e: inout Emitter, a rawA: NodeID, b rawB: NodeID, input k: Int,
                                 gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let a = try e.primal(rawA), b = try e.primal(rawB)
        let pa = Matmul.promotedLeft(e.shape(a)), pb = Matmul.promotedRight(e.shape(b))
        guard case .success(let promotedOutput) = Matmul.shape(pa, pb) else {
            throw ShapeMessage("matmul transpose: shapes do not fit")
        }
        let gp = try e.reshape(g, promotedOutput)
        if k == 0 {
            let product = try e.emit(.matmul, [gp ?? g, try swapLastTwo(&e, try e.reshape(b, pb) ?? b)])
            return try e.reshape(try e.sumTo(product, pa), e.shape(a))
        }
        let product = try e.emit(.matmul, [try swapLastTwo(&e, try e.reshape(a, pa) ?? a), gp ?? g])
        return try e.reshape(try e.sumTo(product, pb), e.shape(b))
    }

    private func swapLastTwo(_ e: inout Emitter, _ x: NodeID) throws(ShapeMessage) -> NodeID {
        try e.emit(e.shape(x).count == 2 ? .transpose : .transposeLastTwo, [x])
    }
}
