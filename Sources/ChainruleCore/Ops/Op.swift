/// The closed set of operations a graph node can perform.
///
/// Everything about an op lives in the file of its family (``OpFamily``, ``family``):
/// its spellings (language, help line, JAX, PyTorch), result shape, forward rules (tensor
/// and scalar), derivative rule, what that rule reads of the forward pass, the structure of
/// its local Jacobian, and its costs. Whatever depends only on shapes is settled when the
/// node is built and carried in the op, so no rule has a failure to hide. Backward never
/// builds a Jacobian to move a gradient; ``LocalJacobian`` builds one only to show it.
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

    // Ops that derivative rules are written in (also ordinary ops).
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

    /// Runs `body` on the family that states this op's rules: the one place that maps an op to
    /// its family. The family is handed over as its own type, not as an `any OpFamily` (which
    /// boxes families that hold the op, such as products, on the heap), so a pass that calls
    /// it once per node (``forward(_:into:shouldStop:)``) makes nothing.
    @inline(__always)
    func withFamily<Body: FamilyBody>(_ body: inout Body, shouldStop: () -> Bool = { false }) throws(Body.Failure) -> Body.Result {
        switch self {
        case .pointwise(let p): try body.run(p, shouldStop: shouldStop)
        case .binary(let b): try body.run(b, shouldStop: shouldStop)
        case .loss(let l): try body.run(l, shouldStop: shouldStop)
        case .matmul, .dot, .einsum, .einsumTranspose: try body.run(Products(self), shouldStop: shouldStop)
        case .sum, .mean, .sumTo, .max, .argmaxMask, .softmax, .logSoftmax: try body.run(Reductions(self), shouldStop: shouldStop)
        case .constant, .identity, .transpose, .transposeLastTwo, .reshape, .broadcastTo, .index, .scatter, .stack:
            try body.run(Movement(self), shouldStop: shouldStop)
        case .select, .compare, .oneHot: try body.run(Selection(self), shouldStop: shouldStop)
        }
    }

    /// Every op, as the families declare them: the cases of the enumerable families (pointwise,
    /// binary, losses), then each other family's ops, those carrying a plan or a shape bound to
    /// small shapes. The one list of ops, which tests walk to hold each to every part of its
    /// declaration.
    static func declared() throws(ShapeMessage) -> [Op] {
        Pointwise.allCases.map(Op.pointwise) + BinaryArithmetic.allCases.map(Op.binary) + Loss.allCases.map(Op.loss)
            + (try Products.examples()) + (try Reductions.examples()) + (try Movement.examples()) + (try Selection.examples())
    }

    /// The family that states this op's rules.
    var family: any OpFamily {
        var body = Boxing()
        return withFamily(&body)
    }

    /// The name used in listings and in JSON's `op` field.
    public var name: String { family.name }

    /// The shape of the result for inputs of the given shapes, or why they do not fit.
    public func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        try family.resultShape(shapes)
    }

    /// The forward rule: the node's value from its inputs' values.
    /// Throws only for conditions that depend on values (a class index out of range).
    public func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        try family.forward(x)
    }

    /// ``forward(_:)``, or nil when `shouldStop` returned true between two blocks of a matrix product
    /// (matmul, einsum and its transpose); every other op runs to the end.
    public func forward(_ x: [Tensor], shouldStop: () -> Bool) throws(ShapeMessage) -> Tensor? {
        try family.forward(x, shouldStop: shouldStop)
    }

    /// ``forward(_:shouldStop:)`` into `out`, reusing its storage when it fits (see ``OpFamily``);
    /// false when `shouldStop` stopped it.
    ///
    /// Called once per node by every pass: the family is chosen by a switch, not read as an
    /// `any OpFamily` (which boxes families that hold the op, such as products, on the heap).
    public func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        // A shared placeholder holds `out`'s place while it is lent: a new `Tensor(0)` here
        // would allocate once per node of every pass (as would an escaping copy of `shouldStop`).
        var body = Forwarding(x: x, out: Forwarding.placeholder)
        swap(&body.out, &out)
        defer { swap(&body.out, &out) }
        return try withFamily(&body, shouldStop: shouldStop)
    }

    /// Multiply–adds for the products whose cost is not proportional to their result's size
    /// (nil for every other op). Saturates instead of overflowing.
    public func work(_ shapes: [[Int]]) -> Int? { family.work(shapes) }

    /// The units of work of computing a tensor result of `elements` elements (``StopPoll``), as
    /// the family counts them; `firstInput` gives the first input's shape when asked.
    func workUnits(elements: Int, firstInput: () -> [Int]) -> Int {
        switch self {
        // The commonest ops, elementwise: no family is made.
        case .pointwise, .binary: return elements
        default:
            // The shape is read now (a lookup, nothing made): a closure kept in the body would
            // need `withoutActuallyEscaping`, which allocates once a call.
            var body = WorkUnits(elements: elements, firstInput: firstInput())
            return withFamily(&body)
        }
    }

    /// The structure of the local Jacobian ∂y/∂(argument k), as the family states it.
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure {
        family.jacobianStructure(inputs, output: output, argument: k)
    }

    /// Floating-point operations of the forward rule, counted from shapes: one per elementwise
    /// operation and two per multiply–add, so a matrix product of (m×k)·(k×n) is `2mkn`.
    /// Moving elements (reshape, transpose, index) is free.
    public func flops(_ shapes: [[Int]], result: [Int]) -> Int { family.flops(shapes, result: result) }

    /// What the op's backward rule reads of the forward pass.
    public var saves: Saved { family.saves }

    var derivative: Derivative { family.derivative }

    /// How the op is written in an exported Python script, its arguments' expressions given.
    public func python(_ arguments: [String], _ framework: Framework) -> String { family.python(arguments, framework) }

    /// How the output's elements read argument `k`'s (see ``ElementReading``).
    func reading(input k: Int) -> ElementReading {
        switch self {
        // The commonest ops, elementwise: no family is made.
        case .pointwise, .binary: .elementwise
        default: family.reading(input: k)
        }
    }

    /// Whether argument `k` is differentiated at all: false for a select's mask and for class
    /// indices, which receive no gradient (null, not zero). Arguments of ops whose derivative
    /// is zero (`step`, comparisons) are differentiated, and receive zero.
    public func differentiates(argument k: Int, shapes: [[Int]]) -> Bool {
        switch self {
        // The commonest ops, whose families differentiate every argument: no family is made.
        case .pointwise, .binary: true
        default: family.differentiates(argument: k, shapes: shapes)
        }
    }
}

/// What ``Op/withFamily(_:)`` runs on an op's family.
protocol FamilyBody {
    associatedtype Result
    associatedtype Failure: Error
    /// `shouldStop` is polled by a body that runs long (a matrix product), ignored by the rest.
    mutating func run<Family: OpFamily>(_ family: Family, shouldStop: () -> Bool) throws(Failure) -> Result
}

/// The family as an existential.
private struct Boxing: FamilyBody {
    func run<Family: OpFamily>(_ family: Family, shouldStop: () -> Bool) -> any OpFamily { family }
}

private struct WorkUnits: FamilyBody {
    let elements: Int
    let firstInput: [Int]
    func run<Family: OpFamily>(_ family: Family, shouldStop: () -> Bool) -> Int {
        family.workUnits(elements: elements, firstInput: { firstInput })
    }
}

/// The forward rule written into `out`.
private struct Forwarding: FamilyBody {
    static let placeholder = Tensor.zeros([0])
    let x: [Tensor]
    var out: Tensor

    mutating func run<Family: OpFamily>(_ family: Family, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        try family.forward(x, into: &out, shouldStop: shouldStop)
    }
}
