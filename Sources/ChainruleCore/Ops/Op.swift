/// The closed set of operations a graph node can perform.
///
/// Each case's forward rule and vector–Jacobian product (its derivative, applied
/// to an upstream gradient) live side by side in the file of its family:
/// `Pointwise.swift` (elementwise functions), `Arithmetic.swift` (broadcasting
/// `+ - * / ^`), `Structure.swift` (matmul, transpose, indexing, stacking,
/// reductions, einsum) and `Losses.swift`. Backward never builds a Jacobian to
/// move a gradient; ``LocalJacobian`` builds one only to show it.
public enum Op: Equatable, Sendable {
    /// A leaf: the node's stored value.
    case constant
    /// The input, unchanged (`y = x`).
    case identity
    case binary(BinaryArithmetic)
    case pointwise(Pointwise)
    case matmul
    case dot
    case transpose
    case index([IndexComponent])
    /// Scalar or tensor inputs of one shape stacked along a new leading axis.
    case stack
    case sum(axis: Int?)
    case mean(axis: Int?)
    case max
    case softmax
    case logSoftmax
    case einsum(EinsumSpec)
    case loss(Loss)

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
        case .index(let components):
            return try IndexPlan(components: components, shape: shapes[0]).resultShape
        case .stack:
            guard let first = shapes.first else { throw ShapeMessage("an empty list has no shape") }
            if let other = shapes.first(where: { $0 != first }) {
                throw ShapeMessage("list elements must have one shape, got \(describe(shape: first)) and \(describe(shape: other))")
            }
            return [shapes.count] + first
        case .sum(let axis), .mean(let axis):
            guard let axis else { return [] }
            var shape = shapes[0]
            shape.remove(at: try Reduction.normalize(axis: axis, rank: shape.count))
            return shape
        case .max:
            guard shapes[0].reduce(1, *) > 0 else { throw ShapeMessage("max of an empty tensor") }
            return []
        case .einsum(let spec):
            return try spec.sizes(for: shapes).output
        case .loss(let loss):
            try loss.check(shapes)
            return []
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
        default: return try Structure.forward(self, x)
        }
    }

    /// ``forward(_:)``, or nil when `shouldStop` returned true between two blocks of a matrix product
    /// (matmul, einsum); every other op runs to the end.
    public func forward(_ x: [Tensor], shouldStop: () -> Bool) throws(ShapeMessage) -> Tensor? {
        switch self {
        case .matmul: return Matmul.apply(x[0], x[1], shouldStop: shouldStop)
        case .einsum(let spec): return try spec.apply(x, shouldStop: shouldStop)
        default: return try forward(x)
        }
    }

    /// ``pullback(_:inputs:output:input:)``, or nil when `shouldStop` returned true between two
    /// blocks of a matrix product (matmul, einsum); every other op runs to the end.
    public func pullback(_ g: Tensor, inputs x: [Tensor], output y: Tensor, input k: Int,
                         shouldStop: () -> Bool) -> Tensor? {
        switch self {
        case .matmul: return Matmul.pullback(g, x[0], x[1], input: k, shouldStop: shouldStop)
        case .einsum(let spec): return (try? spec.pullback(g, x, operand: k, shouldStop: shouldStop)) ?? Tensor.zeros(x[k].shape)
        default: return pullback(g, inputs: x, output: y, input: k)
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
        case .einsum(let spec):
            guard let sizes = try? spec.sizes(for: shapes) else { return nil }
            return Limits.product(sizes.labels, limit: Int.max / 2) ?? Int.max
        default:
            return nil
        }
    }

    /// Whether the output's element `i` depends on the input's element `i` only (same shapes):
    /// its local Jacobian is then diagonal.
    public var isElementwise: Bool {
        switch self {
        case .identity, .pointwise, .binary: true
        default: false
        }
    }
}
