/// The Jacobian of one edge, ∂node/∂input, for showing — never for moving gradients.
///
/// Its entries are the op's derivative rule evaluated on its own (``LocalDerivative``), the
/// rule every reverse graph is built from: `diag(d)` is the rule's contribution for a seed of
/// ones, and row `r` of the full matrix its contribution for the unit seed `e_r`.
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

    /// The structure of ∂node/∂(argument k), as the op's family states it (``OpFamily/jacobianStructure(_:output:argument:)``).
    public init(op: Op, inputs: [Tensor], output: Tensor, argument k: Int) {
        rows = output.count
        columns = inputs[k].count
        structure = op.jacobianStructure(inputs, output: output, argument: k)
    }

    /// The diagonal of an elementwise op's Jacobian (input and output of one shape): the rule's
    /// contribution for a seed of ones.
    static func diagonal(op: Op, inputs: [Tensor], output: Tensor, argument k: Int) -> Tensor {
        LocalDerivative.contributionOrNaN(op: op, inputs: inputs, output: output, argument: k,
                                          seed: Tensor(repeating: 1, shape: output.shape))
    }

    /// The full matrix, built by applying the rule to each unit vector of the output: row `r`
    /// is `e_r · ∂node/∂input`. Costs `rows` evaluations of the rule. Entries the rule could not
    /// be evaluated for (a state the forward pass refused) are NaN.
    public static func full(op: Op, inputs: [Tensor], output: Tensor, argument k: Int) -> Tensor {
        let columns = inputs[k].count
        var matrix = Tensor.zeros([output.count, columns])
        let rule: LocalDerivative
        do {
            rule = try LocalDerivative(op: op, inputs: inputs, output: output, argument: k)
        } catch {
            return Tensor(repeating: .nan, shape: matrix.shape)
        }
        var unit = Tensor.zeros(output.shape)
        for r in 0..<output.count {
            unit.scalars[r] = 1
            let row = rule.contributionOrNaN(unit)
            for c in 0..<columns { matrix.scalars[r * columns + c] = row.scalars[c] }
            unit.scalars[r] = 0
        }
        return matrix
    }
}
