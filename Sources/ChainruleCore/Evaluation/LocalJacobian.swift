/// The Jacobian of one edge, ∂node/∂input, for showing — never for moving gradients.
public struct LocalJacobian: Sendable {
    /// How the matrix is built, when it has a recognisable structure.
    public enum Structure: Sendable, Equatable {
        /// `I`: the input passes through unchanged.
        case identity
        /// `−I`.
        case negatedIdentity
        /// `diag(d)`: an elementwise function with these derivatives.
        case diagonal(Tensor)
        /// The other operand of a matrix–vector or matrix–matrix product, as a matrix.
        case matrix(operand: Int, transposed: Bool)
        /// `I ⊗ xᵀ`: ∂(A@x)ᵢ/∂Aᵢⱼ = xⱼ, with `x` the given operand.
        case identityKroneckerRow(operand: Int)
        /// Every row is the same: a reduction to a scalar (`sum`: all ones; `mean`: all 1/n).
        case constantRow(Double)
        /// No simpler form than the full matrix.
        case dense
    }

    public var structure: Structure
    /// Rows: output elements; columns: input elements (both flattened row-major).
    public var rows: Int
    public var columns: Int

    /// Recognises the structure of ∂node/∂(argument k).
    public init(op: Op, inputs: [Tensor], output: Tensor, argument k: Int) {
        rows = output.count
        columns = inputs[k].count
        let sameShape = inputs[k].shape == output.shape
        switch op {
        case .identity:
            structure = .identity
        case .pointwise(.negate):
            structure = .negatedIdentity
        case .pointwise(let p):
            structure = .diagonal(p.derivatives(x: inputs[0], y: output))
        case .binary(.add) where sameShape:
            structure = .identity
        case .binary(.subtract) where sameShape:
            structure = k == 0 ? .identity : .negatedIdentity
        case .binary(let b) where sameShape:
            structure = .diagonal(b.partials(inputs[0], inputs[1], output: output, input: k))
        case .matmul where k == 1 && inputs[0].rank == 2 && inputs[1].rank == 1:
            structure = .matrix(operand: 0, transposed: false)  // ∂(A@x)/∂x = A
        case .matmul where k == 0 && inputs[0].rank == 2 && inputs[1].rank == 1:
            structure = .identityKroneckerRow(operand: 1)  // ∂(A@x)/∂A = I ⊗ xᵀ
        case .matmul where k == 0 && inputs[0].rank == 1 && inputs[1].rank == 2:
            structure = .matrix(operand: 1, transposed: true)  // ∂(x@B)/∂x = Bᵀ
        case .sum(nil):
            structure = .constantRow(1)
        case .mean(nil):
            structure = .constantRow(1 / Double(max(inputs[0].count, 1)))
        default:
            structure = .dense
        }
    }

    /// The full matrix, built by pulling back each unit vector of the output: row `r` is
    /// `e_r · ∂node/∂input`. Costs `rows` vector–Jacobian products.
    public static func full(op: Op, inputs: [Tensor], output: Tensor, argument k: Int) -> Tensor {
        var matrix = Tensor.zeros([output.count, inputs[k].count])
        var unit = Tensor.zeros(output.shape)
        for r in 0..<output.count {
            unit.scalars[r] = 1
            let row = op.pullback(unit, inputs: inputs, output: output, input: k)
            for c in 0..<row.count { matrix.scalars[r * row.count + c] = row.scalars[c] }
            unit.scalars[r] = 0
        }
        return matrix
    }
}
