/// Ops that move elements without arithmetic: a leaf's stored value, the identity,
/// transposition (all axes, or the last two), reshaping, broadcasting, indexing and its
/// adjoint `scatter`, and stacking. All are linear: each one's tangent is itself applied
/// to the tangents, and its reverse rule is its transpose, another op of this family
/// (or `sum_to`, the adjoint of broadcasting). Moving costs no FLOPs and saves nothing.
struct Movement: OpFamily {
    let op: Op
    init(_ op: Op) { self.op = op }

    static let functions = [
        Builtins.Function.unary(.transpose, name: "transpose", signature: "transpose(a)", summary: "reverse the axes, same as a.T"),
        Builtins.Function.unary(.transposeLastTwo, name: "matrix_transpose", signature: "matrix_transpose(a)",
                                summary: "swap the last two axes: each matrix of a stack transposed (a.T for a matrix)"),
    ]

    /// Every op of the family, of shapes a scalar fits where it has a shape (``Op/declared()``).
    static func examples() throws(ShapeMessage) -> [Op] {
        let plan = try IndexPlan(components: [.at(1)], shape: [3])
        return [.constant, .identity, .transpose, .transposeLastTwo, .reshape([]), .broadcastTo([]), .index(plan), .scatter(plan), .stack]
    }

    var name: String {
        switch op {
        case .constant: "const"
        case .identity: "identity"
        case .transpose: "transpose"
        case .transposeLastTwo: "matrix_transpose"
        case .reshape: "reshape"
        case .broadcastTo: "broadcast_to"
        case .index: "index"
        case .scatter: "scatter"
        default: "stack"
        }
    }

    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        switch op {
        case .constant:
            return []
        case .identity:
            return shapes[0]
        case .transpose:
            return shapes[0].reversed()
        case .transposeLastTwo:
            var shape = shapes[0]
            guard shape.count >= 2 else {
                throw ShapeMessage("matrix_transpose needs a tensor of rank 2 or more, got shape \(describe(shape: shape)); a vector is its own transpose")
            }
            shape.swapAt(shape.count - 1, shape.count - 2)
            return shape
        case .reshape(let target):
            guard target.reduce(1, *) == shapes[0].reduce(1, *) else {
                throw ShapeMessage("cannot reshape \(describe(shape: shapes[0])) to \(describe(shape: target))")
            }
            return target
        case .broadcastTo(let target):
            guard Broadcast.shape(shapes[0], target) == target else {
                throw ShapeMessage("shape \(describe(shape: shapes[0])) does not broadcast to \(describe(shape: target))")
            }
            return target
        case .index(let plan):
            guard shapes[0] == plan.sourceShape else {
                throw ShapeMessage("an index planned for shape \(describe(shape: plan.sourceShape)) cannot index shape \(describe(shape: shapes[0]))")
            }
            return plan.resultShape
        case .scatter(let plan):
            guard plan.resultShape == shapes[0] else {
                throw ShapeMessage("cannot scatter shape \(describe(shape: shapes[0])) into \(describe(shape: plan.sourceShape))")
            }
            return plan.sourceShape
        default:
            guard let first = shapes.first else { throw ShapeMessage("an empty list has no shape") }
            if let other = shapes.first(where: { $0 != first }) {
                throw ShapeMessage("list elements must have one shape, got \(describe(shape: first)) and \(describe(shape: other))")
            }
            return [shapes.count] + first
        }
    }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        switch op {
        case .constant: preconditionFailure("a constant's value is stored in its node")
        case .identity: return x[0]
        case .transpose: return x[0].transposed
        case .transposeLastTwo: return Matmul.swapLastTwo(x[0])
        case .reshape(let target): return x[0].reshaped(target)
        case .broadcastTo(let target): return Broadcast.expand(x[0], to: target)
        case .index(let plan): return plan.gather(x[0])
        case .scatter(let plan): return plan.scatter(x[0])
        default: return Tensor.stack(x)
        }
    }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        switch op {
        case .transpose where x[0].rank == 2, .transposeLastTwo: Matmul.swapLastTwo(x[0], into: &out)
        default: out = try forward(x)
        }
        return true
    }

    var derivative: Derivative { op == .constant ? .none : .linear(tangent: linearTangent, transpose: transpose) }

    func python(_ x: [String], _ framework: Framework) -> String {
        switch op {
        case .constant: "const"
        case .identity: x[0]
        case .transpose: "transpose(\(x[0]))"
        case .transposeLastTwo: "\(x[0]).swapaxes(-1, -2)"
        case .reshape(let shape): "\(x[0]).reshape(\(Export.tuple(shape)))"
        case .broadcastTo(let shape): "broadcast_to(\(x[0]), \(Export.tuple(shape)))"
        case .index(let plan): Export.index(x[0], plan)
        case .scatter(let plan): Export.scatter(x[0], plan)
        case .stack: "stack([\(x.joined(separator: ", "))])"
        default: "unknown"
        }
    }
    /// Indexing reads only the elements it picks; every other move reads all of them.
    func reading(input k: Int) -> ElementReading {
        if case .index = op { return .selectively }
        return .asPulledBack
    }
    var saves: Saved { .nothing }
    func differentiates(argument k: Int, shapes: [[Int]]) -> Bool { op != .constant }
    func flops(_ shapes: [[Int]], result: [Int]) -> Int { 0 }

    /// A scalar passes through every move of one input unchanged (indexing and stacking never
    /// make a scalar of scalars, nor does swapping two axes; a leaf's value is stored).
    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        switch op {
        case .identity, .transpose, .reshape, .broadcastTo: x0
        default: nil
        }
    }
    var scalarKernel: ScalarKernel { scalarValue(0, 0, 0) == nil ? .none : .first }

    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure {
        op == .identity ? .identity : .dense
    }

    func linearTangent(_ e: inout Emitter, node id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        op == .identity ? dx[0] : try e.applyToTangents(id, dx)
    }

    func transpose(_ e: inout Emitter, node id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let target = e.shape(e.input(id, k))
        switch op {
        case .identity: return g
        case .transpose, .transposeLastTwo: return try e.emit(op, [g])
        case .reshape: return try e.reshape(g, target)
        case .broadcastTo: return try e.sumTo(g, target)
        case .index(let plan): return try e.emit(.scatter(plan), [g])
        case .scatter(let plan): return try e.emit(.index(plan), [g])
        case .stack: return try e.emit(.index(try IndexPlan(components: [.at(k)], shape: e.shape(g))), [g])
        default: throw ShapeMessage("\(op.name) has no transpose rule")
        }
    }
}
