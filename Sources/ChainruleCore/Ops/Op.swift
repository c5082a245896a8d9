/// The closed set of operations a graph node can perform.
///
/// Each case's forward rule and vector–Jacobian product (its derivative, applied
/// to an upstream gradient) live side by side in the file of its family:
/// `Pointwise.swift` (elementwise functions), `Arithmetic.swift` (broadcasting
/// `+ - * / ^`, two-argument `max`/`min`, activations with a slope input),
/// `Structure.swift` (matmul, transpose, indexing, stacking, reductions, einsum)
/// and `Losses.swift`. Whatever depends only on shapes is settled when the node is
/// built and carried in the op, so a pullback has no failure to hide. Backward
/// never builds a Jacobian to move a gradient; ``LocalJacobian`` builds one only to show it.
public enum Op: Hashable, Sendable {
    /// A leaf: the node's stored value.
    case constant
    /// The input, unchanged (`y = x`).
    case identity
    case binary(BinaryArithmetic)
    case pointwise(Pointwise)
    case matmul
    case dot
    case transpose
    /// Basic indexing, resolved for the input's shape when the node is built.
    case index(IndexPlan)
    /// Scalar or tensor inputs of one shape stacked along a new leading axis.
    case stack
    /// The sum of all elements, or along one axis. The axis is resolved when the node is
    /// built (`0 ≤ axis < rank`; a negative axis as written has been counted from the end).
    case sum(axis: Int?)
    /// The mean of all elements, or along one resolved axis (as for ``sum(axis:)``).
    case mean(axis: Int?)
    case max
    case softmax
    case logSoftmax
    /// NumPy einsum, bound to its operands' shapes when the node is built.
    case einsum(EinsumPlan)
    case loss(Loss)

    // The ops derivative rules are written in (`Plumbing.swift`).
    /// Sums a tensor down to a shape it broadcasts from (the adjoint of broadcasting).
    case sumTo([Int])
    /// Repeats a tensor to a shape it broadcasts to.
    case broadcastTo([Int])
    /// The same elements under another shape.
    case reshape([Int])
    /// Swaps the last two axes (batched transposition).
    case transposeLastTwo
    /// `select(mask, a, b)`: `a` where the mask is non-zero, else `b`, with broadcasting.
    case select
    /// A 0/1 mask comparing two tensors elementwise.
    case compare(Comparison)
    /// The adjoint of indexing: the input placed at the indexed positions of zeros of the plan's source shape.
    case scatter(IndexPlan)
    /// 1 at the first largest element, 0 elsewhere.
    case argmaxMask
    /// Class indices as one-hot rows of `classes` columns.
    case oneHot(classes: Int)
    /// The adjoint of einsum in operand `operand`: inputs are the output's cotangent,
    /// then the other operands; the result has operand `operand`'s shape.
    case einsumTranspose(EinsumPlan, operand: Int)

    /// The name used in listings and in JSON's `op` field.
    public var name: String {
        switch self {
        case .constant: "const"
        case .identity: "identity"
        case .binary(let b): b.name
        case .pointwise(let p): p.name
        case .matmul: "matmul"
        case .dot: "dot"
        case .transpose: "transpose"
        case .index: "index"
        case .stack: "stack"
        case .sum: "sum"
        case .mean: "mean"
        case .max: "max"
        case .softmax: "softmax"
        case .logSoftmax: "log_softmax"
        case .einsum: "einsum"
        case .loss(let l): l.name
        case .sumTo: "sum_to"
        case .broadcastTo: "broadcast_to"
        case .reshape: "reshape"
        case .transposeLastTwo: "transpose_last_two"
        case .select: "select"
        case .compare(let c): c.name
        case .scatter: "scatter"
        case .argmaxMask: "argmax_mask"
        case .oneHot: "one_hot"
        case .einsumTranspose: "einsum_transpose"
        }
    }

    /// The shape of the result for inputs of the given shapes, or why they do not fit.
    public func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        switch self {
        case .constant:
            return []
        case .identity, .pointwise, .softmax, .logSoftmax:
            return shapes[0]
        case .binary(let b):
            guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
                throw ShapeMessage("shapes \(describe(shape: shapes[0])) and \(describe(shape: shapes[1])) do not broadcast for '\(b.symbol)'")
            }
            return shape
        case .matmul:
            return try Matmul.shape(shapes[0], shapes[1]).get()
        case .dot:
            guard shapes[0].count == 1, shapes[1].count == 1, shapes[0] == shapes[1] else {
                throw ShapeMessage("dot needs two vectors of one length, got shapes \(describe(shape: shapes[0])) and \(describe(shape: shapes[1]))")
            }
            return []
        case .transpose:
            return shapes[0].reversed()
        case .index(let plan):
            guard shapes[0] == plan.sourceShape else {
                throw ShapeMessage("an index planned for shape \(describe(shape: plan.sourceShape)) cannot index shape \(describe(shape: shapes[0]))")
            }
            return plan.resultShape
        case .stack:
            guard let first = shapes.first else { throw ShapeMessage("an empty list has no shape") }
            if let other = shapes.first(where: { $0 != first }) {
                throw ShapeMessage("list elements must have one shape, got \(describe(shape: first)) and \(describe(shape: other))")
            }
            return [shapes.count] + first
        case .sum(let axis), .mean(let axis):
            guard let axis else { return [] }
            var shape = shapes[0]
            guard axis >= 0 && axis < shape.count else {
                throw ShapeMessage("axis \(axis) is out of range for a tensor of rank \(shape.count)")
            }
            shape.remove(at: axis)
            return shape
        case .max:
            guard shapes[0].reduce(1, *) > 0 else { throw ShapeMessage("max of an empty tensor") }
            return []
        case .einsum(let plan):
            guard shapes == plan.shapes else {
                throw ShapeMessage("an einsum planned for shapes \(plan.shapes.map { describe(shape: $0) }.joined(separator: ", ")) cannot take other shapes")
            }
            return plan.outputShape
        case .loss(let loss):
            try loss.check(shapes)
            return []
        case .sumTo, .broadcastTo, .reshape, .transposeLastTwo, .select, .compare, .scatter, .argmaxMask, .oneHot, .einsumTranspose:
            return try Plumbing.resultShape(self, shapes)
        }
    }

    /// The forward rule: the node's value from its inputs' values.
    /// Throws only for conditions that depend on values (a class index out of range).
    public func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        switch self {
        case .constant: preconditionFailure("a constant's value is stored in its node")
        case .identity: return x[0]
        case .binary(let b): return b.forward(x[0], x[1])
        case .pointwise(let p): return x[0].map(p.value)
        case .loss(let l): return try l.forward(x[0], x[1])
        case .sumTo, .broadcastTo, .reshape, .transposeLastTwo, .select, .compare, .scatter, .argmaxMask, .oneHot, .einsumTranspose:
            return try Plumbing.forward(self, x)
        default: return try Structure.forward(self, x)
        }
    }

    /// The vector–Jacobian product for input `k`: given the upstream gradient `g` (∂L/∂output),
    /// the contribution `g · ∂output/∂input_k` to ∂L/∂input_k, of input `k`'s shape.
    public func pullback(_ g: Tensor, inputs x: [Tensor], output y: Tensor, input k: Int) -> Tensor {
        switch self {
        case .constant: preconditionFailure("a constant has no inputs")
        case .identity: return g
        case .binary(let b): return b.pullback(g, x[0], x[1], output: y, input: k)
        case .pointwise(let p): return Pointwise.pullback(p, g, x: x[0], y: y)
        case .loss(let l): return l.pullback(g, x[0], x[1], input: k)
        case .sumTo, .broadcastTo, .reshape, .transposeLastTwo, .select, .compare, .scatter, .argmaxMask, .oneHot, .einsumTranspose:
            return Plumbing.pullback(self, g, inputs: x, output: y, input: k)
        default: return Structure.pullback(self, g, inputs: x, output: y, input: k)
        }
    }

    /// Multiply–adds for the products whose cost is not proportional to their result's size
    /// (nil for every other op). Saturates instead of overflowing.
    public func work(_ shapes: [[Int]]) -> Int? {
        switch self {
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
}
