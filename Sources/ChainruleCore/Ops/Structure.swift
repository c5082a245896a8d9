import Glibc

/// Forward rules and vector–Jacobian products of the ops that mix or move
/// elements: products, transposition, indexing, stacking, reductions, softmax, einsum.
enum Structure {
    static func forward(_ op: Op, _ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        switch op {
        case .matmul:
            return Matmul.apply(x[0], x[1])
        case .dot:
            var total = 0.0
            for i in x[0].scalars.indices { total += x[0].scalars[i] * x[1].scalars[i] }
            return Tensor(total)
        case .transpose:
            return x[0].transposed
        case .index(let plan):
            return plan.gather(x[0])
        case .stack:
            return Tensor.stack(x)
        case .sum(nil):
            return Tensor(x[0].scalars.reduce(0, +))
        case .sum(let axis?):
            return Reduction.sum(x[0], axis: axis)
        case .mean(nil):
            return Tensor(x[0].scalars.reduce(0, +) / Double(x[0].count))
        case .mean(let axis?):
            let n = Double(x[0].shape[axis])
            return Reduction.sum(x[0], axis: axis).map { $0 / n }
        case .max:
            return Tensor(x[0].scalars[Reduction.argmax(x[0].scalars)])
        case .softmax:
            return Reduction.softmax(x[0])
        case .logSoftmax:
            return Reduction.logSoftmax(x[0])
        case .einsum(let plan):
            return plan.apply(x)
        default:
            preconditionFailure("\(op.name) is not a structural op")
        }
    }

    /// `g · ∂op/∂x_k`. Everything that depends on shapes (index plans, resolved axes,
    /// einsum sizes) was settled when the node was built and travels in the op, so
    /// nothing here can fail.
    static func pullback(_ op: Op, _ g: Tensor, inputs x: [Tensor], output y: Tensor, input k: Int) -> Tensor {
        switch op {
        case .matmul:
            return Matmul.pullback(g, x[0], x[1], input: k) ?? Tensor.zeros(x[k].shape)
        case .dot:
            // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a.
            let scale = g.scalars[0]
            return x[1 - k].map { $0 * scale }
        case .transpose:
            return g.transposed
        case .index(let plan):
            return plan.scatter(g)
        case .stack:
            return g.unstacked(k)
        case .sum(nil):
            return Tensor(repeating: g.scalars[0], shape: x[0].shape)
        case .mean(nil):
            return Tensor(repeating: g.scalars[0] / Double(x[0].count), shape: x[0].shape)
        case .sum(let axis?), .mean(let axis?):
            let spread = Reduction.spread(g, along: axis, to: x[0].shape)
            if case .mean = op {
                let n = Double(x[0].shape[axis])
                return spread.map { $0 / n }
            }
            return spread
        case .max:
            // The whole gradient goes to the first largest element.
            var result = Tensor.zeros(x[0].shape)
            result.scalars[Reduction.argmax(x[0].scalars)] = g.scalars[0]
            return result
        case .softmax:
            // ∂L/∂x = y ⊙ (g − Σ g⊙y), per row of the last axis.
            var result = g
            Reduction.forEachRow(of: y) { row in
                var inner = 0.0
                for i in row { inner += g.scalars[i] * y.scalars[i] }
                for i in row { result.scalars[i] = y.scalars[i] * (g.scalars[i] - inner) }
            }
            return result
        case .logSoftmax:
            // ∂L/∂x = g − softmax(x) · Σ g, per row; softmax(x) = exp(y).
            var result = g
            Reduction.forEachRow(of: y) { row in
                var total = 0.0
                for i in row { total += g.scalars[i] }
                for i in row { result.scalars[i] = g.scalars[i] - exp(y.scalars[i]) * total }
            }
            return result
        case .einsum(let plan):
            return plan.pullback(g, x, operand: k)
        default:
            preconditionFailure("\(op.name) is not a structural op")
        }
    }
}
