extension Op {
    /// The forward rule of a node whose output and inputs are all rank 0, on the numbers
    /// themselves: no tensor is made. `x0`, `x1` and `x2` are the first three inputs' values
    /// (an op with fewer inputs ignores the rest). Each family states it for its ops
    /// (``OpFamily/scalarValue(_:_:_:)``), with the formulas of its tensor rule, so the result
    /// is the same bit for bit; nil for ops the evaluator takes the tensor path for.
    @inline(__always)
    func scalarForward(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        switch self {
        // The commonest ops: no family is made.
        case .pointwise(let p): return p.value(x0)
        case .binary(let b): return b.value(x0, x1)
        default:
            var body = ScalarValue(x0: x0, x1: x1, x2: x2)
            return withFamily(&body)
        }
    }

    /// This op's scalar kernel, as its family declares it (``OpFamily/scalarKernel``).
    var scalarKernel: ScalarKernel {
        var body = KernelOf()
        return withFamily(&body)
    }
}

private struct ScalarValue: FamilyBody {
    let x0, x1, x2: Double
    func run<Family: OpFamily>(_ family: Family, shouldStop: () -> Bool) -> Double? { family.scalarValue(x0, x1, x2) }
}

private struct KernelOf: FamilyBody {
    func run<Family: OpFamily>(_ family: Family, shouldStop: () -> Bool) -> ScalarKernel { family.scalarKernel }
}

/// An op's scalar rule as one byte, for the evaluator's hot loop and a ``ScalarTape``: every
/// elementwise op of one or two arguments is its own kernel (``pointwise(_:)``, ``binary(_:)``),
/// read back from the byte and computed by the op's own `value`; ``first`` passes the first
/// input through; ``general`` defers to ``Op/scalarForward(_:_:_:)``; ``none`` means the op has
/// no scalar rule. No op is named here: the byte is made from the op's own case.
struct ScalarKernel: Hashable, Sendable {
    let rawValue: UInt8

    static let none = ScalarKernel(rawValue: 0)
    static let general = ScalarKernel(rawValue: 1)
    static let first = ScalarKernel(rawValue: 2)
    /// Codes of binary ops start here, pointwise ones at ``pointwiseBase`` (room for 48 and 192).
    static let binaryBase: UInt8 = 16
    static let pointwiseBase: UInt8 = 64

    static func binary(_ b: BinaryArithmetic) -> ScalarKernel { ScalarKernel(rawValue: binaryBase &+ b.rawValue) }
    static func pointwise(_ p: Pointwise) -> ScalarKernel { ScalarKernel(rawValue: pointwiseBase &+ p.rawValue) }

    /// Whether exactly one op has this kernel, so that the kernel alone tells which op it is.
    var namesOneOp: Bool { rawValue >= ScalarKernel.binaryBase }

    /// The value of `op` (whose kernel this is) on the numbers of its inputs, or nil for an op
    /// with no scalar rule: what the evaluator's scalar loop and a ``ScalarTape`` compute for
    /// every node, so that the two give the same numbers bit for bit.
    @inline(__always)
    func value(of op: Op, _ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        if rawValue >= ScalarKernel.pointwiseBase { return Pointwise(rawValue: rawValue &- ScalarKernel.pointwiseBase)?.value(x0) }
        if rawValue >= ScalarKernel.binaryBase { return BinaryArithmetic(rawValue: rawValue &- ScalarKernel.binaryBase)?.value(x0, x1) }
        switch rawValue {
        case ScalarKernel.first.rawValue: return x0
        case ScalarKernel.general.rawValue: return op.scalarForward(x0, x1, x2)
        default: return nil
        }
    }
}
