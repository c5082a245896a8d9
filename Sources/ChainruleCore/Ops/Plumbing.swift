/// Elementwise comparisons. Their results are masks of 0 and 1: the derivative
/// is zero everywhere (a step has no slope), so they stop gradients.
public enum Comparison: Hashable, Sendable {
    /// `a > b`.
    case greater
    /// `a ≥ b`.
    case greaterEqual
    /// `a = b`.
    case equal

    public var name: String {
        switch self {
        case .greater: "greater"
        case .greaterEqual: "greater_equal"
        case .equal: "equal"
        }
    }

    public func value(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .greater: a > b ? 1 : 0
        case .greaterEqual: a >= b ? 1 : 0
        case .equal: a == b ? 1 : 0
        }
    }
}

/// Forward rules and vector–Jacobian products of the ops that derivative rules are
/// written in: moving a gradient between shapes (`sum_to` is the adjoint of
/// `broadcast_to`, `scatter` of `index`, `reshape` and `transpose_last_two` of
/// themselves), choosing elements (`select`, masks) and the adjoint of einsum.
/// Each is an ordinary op, so a derivative built from them can be evaluated,
/// drawn and differentiated again.
enum Plumbing {
    static func resultShape(_ op: Op, _ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        switch op {
        case .sumTo(let target):
            guard Broadcast.shape(target, shapes[0]) == shapes[0] else {
                throw ShapeMessage("cannot sum shape \(describe(shape: shapes[0])) to \(describe(shape: target))")
            }
            return target
        case .broadcastTo(let target):
            guard Broadcast.shape(shapes[0], target) == target else {
                throw ShapeMessage("shape \(describe(shape: shapes[0])) does not broadcast to \(describe(shape: target))")
            }
            return target
        case .reshape(let target):
            guard target.reduce(1, *) == shapes[0].reduce(1, *) else {
                throw ShapeMessage("cannot reshape \(describe(shape: shapes[0])) to \(describe(shape: target))")
            }
            return target
        case .transposeLastTwo:
            var shape = shapes[0]
            guard shape.count >= 2 else { return shape }
            shape.swapAt(shape.count - 1, shape.count - 2)
            return shape
        case .select:
            guard let ab = Broadcast.shape(shapes[1], shapes[2]), let all = Broadcast.shape(shapes[0], ab) else {
                throw ShapeMessage("select of shapes \(shapes.map { describe(shape: $0) }.joined(separator: ", ")) does not broadcast")
            }
            return all
        case .compare(let c):
            guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
                throw ShapeMessage("shapes \(describe(shape: shapes[0])) and \(describe(shape: shapes[1])) do not broadcast for \(c.name)")
            }
            return shape
        case .scatter(let plan):
            guard plan.resultShape == shapes[0] else {
                throw ShapeMessage("cannot scatter shape \(describe(shape: shapes[0])) into \(describe(shape: plan.sourceShape))")
            }
            return plan.sourceShape
        case .argmaxMask:
            guard shapes[0].reduce(1, *) > 0 else { throw ShapeMessage("max of an empty tensor") }
            return shapes[0]
        case .oneHot(let classes):
            return shapes[0] + [classes]
        case .einsumTranspose(let plan, let k):
            var all = shapes
            all.remove(at: 0)
            all.insert(plan.shapes[k], at: k)
            guard all == plan.shapes, shapes[0] == plan.outputShape else {
                throw ShapeMessage("an einsum adjoint planned for other shapes cannot take \(shapes.map { describe(shape: $0) }.joined(separator: ", "))")
            }
            return plan.shapes[k]
        default:
            preconditionFailure("\(op.name) is not a plumbing op")
        }
    }

    static func forward(_ op: Op, _ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        switch op {
        case .sumTo(let target):
            return Broadcast.reduce(x[0], to: target)
        case .broadcastTo(let target):
            return Broadcast.expand(x[0], to: target)
        case .reshape(let target):
            return x[0].reshaped(target)
        case .transposeLastTwo:
            return x[0].rank < 2 ? x[0] : Matmul.swapLastTwo(x[0])
        case .select:
            let shape = try resultShape(op, x.map(\.shape))
            let mask = Broadcast.expand(x[0], to: shape)
            let a = Broadcast.expand(x[1], to: shape), b = Broadcast.expand(x[2], to: shape)
            var result = a
            for i in result.scalars.indices where mask.scalars[i] == 0 { result.scalars[i] = b.scalars[i] }
            return result
        case .compare(let c):
            let shape = try resultShape(op, x.map(\.shape))
            return Broadcast.zip(x[0], x[1], to: shape, c.value)
        case .scatter(let plan):
            return plan.scatter(x[0])
        case .argmaxMask:
            var mask = Tensor.zeros(x[0].shape)
            mask.scalars[Reduction.argmax(x[0].scalars)] = 1
            return mask
        case .oneHot(let classes):
            var result = Tensor.zeros(x[0].shape + [classes])
            for (row, value) in x[0].scalars.enumerated() {
                guard value == value.rounded(), value >= 0, value < Double(classes) else {
                    throw ShapeMessage("class index \(value.isNaN ? "nan" : Printer.number(value)) is not a whole number from 0 to \(classes - 1)")
                }
                result.scalars[row * classes + Int(value)] = 1
            }
            return result
        case .einsumTranspose(let plan, let k):
            var operands = Array(x.dropFirst())
            operands.insert(Tensor.zeros(plan.shapes[k]), at: k)
            return plan.pullback(x[0], operands, operand: k)
        default:
            preconditionFailure("\(op.name) is not a plumbing op")
        }
    }

    /// `g · ∂op/∂x_k`, numerically (for showing local Jacobians; the reverse graph uses the rules).
    static func pullback(_ op: Op, _ g: Tensor, inputs x: [Tensor], output y: Tensor, input k: Int) -> Tensor {
        switch op {
        case .sumTo:
            return Broadcast.expand(g, to: x[0].shape)
        case .broadcastTo:
            return Broadcast.reduce(g, to: x[0].shape)
        case .reshape:
            return g.reshaped(x[0].shape)
        case .transposeLastTwo:
            return g.rank < 2 ? g : Matmul.swapLastTwo(g)
        case .select:
            guard k > 0 else { return Tensor.zeros(x[0].shape) }
            let mask = Broadcast.expand(x[0], to: y.shape)
            var chosen = g
            for i in chosen.scalars.indices where (mask.scalars[i] != 0) != (k == 1) { chosen.scalars[i] = 0 }
            return Broadcast.reduce(chosen, to: x[k].shape)
        case .compare, .argmaxMask, .oneHot:
            return Tensor.zeros(x[k].shape)
        case .scatter(let plan):
            return plan.gather(g)
        case .einsumTranspose(let plan, let operand):
            // The cotangent takes operand `operand`'s place among the einsum's operands.
            var operands = Array(x.dropFirst())
            operands.insert(g, at: operand)
            if k == 0 { return plan.apply(operands) }
            return plan.pullback(x[0], operands, operand: k - 1 < operand ? k - 1 : k)
        default:
            preconditionFailure("\(op.name) is not a plumbing op")
        }
    }
}
