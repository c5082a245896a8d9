extension Op {
    /// The forward rule of a node whose output and inputs are all rank 0, on the numbers
    /// themselves: no tensor is made. `x0`, `x1` and `x2` are the first three inputs' values
    /// (an op with fewer inputs ignores the rest).
    ///
    /// The formulas are those of ``forward(_:)``, so the result is the same bit for bit:
    /// `sum` of one element is `0 + x` (turning −0 into +0, as the tensor's reduction does),
    /// `mean` is that over 1, `select(x0, x1, x2)` takes `x2` only where the mask `x0` is
    /// exactly 0 (a NaN mask takes `x1`). Nil for ops that never have rank-0 inputs and
    /// output, and for those that can fail (losses, class indices): the evaluator takes the
    /// tensor path for them.
    @inline(__always)
    func scalarForward(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        switch self {
        case .identity, .transpose, .transposeLastTwo, .reshape, .sumTo, .broadcastTo, .max: x0
        case .binary(let op): op.value(x0, x1)
        case .pointwise(let p): p.value(x0)
        case .compare(let comparison): comparison.value(x0, x1)
        case .select: x0 == 0 ? x2 : x1
        case .sum(nil): 0 + x0
        case .mean(nil): (0 + x0) / 1
        case .argmaxMask: 1
        default: nil
        }
    }
}

/// The scalar rules of the commonest ops as one byte, for the evaluator's hot loop
/// (``Op/scalarKernel``); `.general` defers to ``Op/scalarForward(_:_:_:)`` and `.none`
/// means the op has no scalar rule. Each kernel computes exactly what the op's own rule does.
enum ScalarKernel: UInt8, Sendable {
    case none, general, first, add, subtract, multiply, divide, tanh, relu, sigmoid, exp, negate

    /// Whether exactly one op has this kernel (``Op/scalarKernel``), so that the kernel
    /// alone tells which op it is.
    var namesOneOp: Bool {
        switch self {
        case .none, .general, .first: false
        default: true
        }
    }

    /// The value of `op` (whose kernel this is) on the numbers of its inputs, or nil for an op
    /// with no scalar rule: what the evaluator's scalar loop and a ``ScalarTape`` compute for
    /// every node, so that the two give the same numbers bit for bit.
    @inline(__always)
    func value(of op: Op, _ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        switch self {
        case .none: nil
        case .general: op.scalarForward(x0, x1, x2)
        default: apply(x0, x1)
        }
    }

    @inline(__always)
    func apply(_ x0: Double, _ x1: Double) -> Double {
        switch self {
        case .add: x0 + x1
        case .subtract: x0 - x1
        case .multiply: x0 * x1
        case .divide: x0 / x1
        case .tanh: Pointwise.tanh.value(x0)
        case .relu: Pointwise.relu.value(x0)
        case .sigmoid: Pointwise.sigmoid(x0)
        case .exp: Pointwise.exp.value(x0)
        case .negate: -x0
        case .first, .none, .general: x0
        }
    }
}

extension Op {
    /// This op's scalar kernel.
    var scalarKernel: ScalarKernel {
        switch self {
        case .identity, .transpose, .transposeLastTwo, .reshape, .sumTo, .broadcastTo, .max: .first
        case .binary(.add): .add
        case .binary(.subtract): .subtract
        case .binary(.multiply): .multiply
        case .binary(.divide): .divide
        case .pointwise(.tanh): .tanh
        case .pointwise(.relu): .relu
        case .pointwise(.sigmoid): .sigmoid
        case .pointwise(.exp): .exp
        case .pointwise(.negate): .negate
        default: scalarForward(0, 0, 0) == nil ? .none : .general
        }
    }
}
