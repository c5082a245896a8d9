/// Everything one family of ops says about itself, in one file per family: how each op
/// is spelled (its name, its function in the language with its help line and how a call of it
/// is lowered, its JAX and PyTorch spellings), its result's shape, its forward rule (on tensors,
/// and on bare numbers for the evaluator's scalar loop), its derivative (stated once, in the op
/// vocabulary, so forward and reverse mode both read it and a derivative is itself a graph),
/// what its backward rule reads of the forward pass, the structure of its local Jacobian as
/// shown, and what it costs (FLOPs, multiply–adds, units of work between interrupt checks).
///
/// The families: ``Pointwise`` (`Pointwise.swift`), ``BinaryArithmetic`` (`Arithmetic.swift`),
/// ``Loss`` (`Losses.swift`), ``Products`` (matmul, dot, einsum), ``Reductions`` (sum, mean,
/// max, softmax and their adjoints), ``Movement`` (moving elements: transpose, index, stack,
/// reshape, broadcasting) and ``Selection`` (select, comparisons, one-hot). ``Op/withFamily(_:)``
/// is the one place that maps an op to its family, and ``Op/declared`` lists every op by
/// asking each family for its own. Adding an elementwise op is one case in ``Pointwise`` (or
/// ``BinaryArithmetic``) and its lines in that file's switches, which the compiler checks are
/// exhaustive; the rest of the system (lowering of calls, `:help functions`, evaluation, both
/// modes of differentiation, the cost ledger, local Jacobians, export) reads it from there.
protocol OpFamily {
    var name: String { get }
    /// The shape of the result for inputs of the given shapes, or why they do not fit.
    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int]
    /// The forward rule. Throws only for conditions that depend on values (a class index out of range).
    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor
    /// ``forward(_:)``, or nil when `shouldStop` returned true between two blocks of work.
    func forward(_ x: [Tensor], shouldStop: () -> Bool) throws(ShapeMessage) -> Tensor?
    /// ``forward(_:shouldStop:)`` written into `out`, whose storage is reused when it is unshared
    /// and of the result's size, so that a pass run again (a training step) allocates no new
    /// buffer; false when `shouldStop` stopped it. The result is the same, bit for bit.
    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool

    /// The derivative: its form together with the rule that form needs, so an op cannot be
    /// declared without its derivative (the compiler refuses a form without its rule).
    var derivative: Derivative { get }
    /// How the op is written in exported Python (JAX or PyTorch), given its arguments' Python
    /// expressions: the op's spelling in each framework, in the op's own declaration.
    func python(_ arguments: [String], _ framework: Framework) -> String
    /// What the backward rule reads of the forward pass (checked against the rules by a test).
    var saves: Saved { get }
    /// Whether argument `k` receives a gradient at all (false: null, not zero).
    func differentiates(argument k: Int, shapes: [[Int]]) -> Bool
    /// How the output's elements read input `k`'s, whatever the values (``ElementReading``);
    /// by default what the derivative form implies.
    func reading(input k: Int) -> ElementReading
    /// Floating-point operations of the forward rule, from shapes.
    func flops(_ shapes: [[Int]], result: [Int]) -> Int
    /// Multiply–adds of products whose cost is not proportional to their result's size.
    func work(_ shapes: [[Int]]) -> Int?
    /// The units of work of computing a tensor result of `elements` elements, counted between two
    /// questions whether to stop (``StopPoll``): its elements, or its multiply–adds for a product.
    /// `firstInput` gives the first input's shape, asked only by the ops that need it.
    func workUnits(elements: Int, firstInput: () -> [Int]) -> Int

    /// The forward rule on rank-0 inputs and output, on the numbers themselves, with the formulas
    /// of the tensor rule (bit for bit); nil for an op the evaluator takes the tensor path for
    /// (one never made of scalars, or one that can fail).
    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double?
    /// The scalar rule as the one byte the evaluator's loop switches on (``ScalarKernel``); by
    /// default ``ScalarKernel/general`` where there is a scalar rule, else ``ScalarKernel/none``.
    var scalarKernel: ScalarKernel { get }
    /// The structure of the local Jacobian ∂y/∂(argument k) as `:backward` shows it, given the
    /// forward values; ``LocalJacobian/Structure/dense`` by default.
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure
}

/// What an op's backward rule reads of the forward pass: its inputs, its own output, both,
/// or nothing. `:stats` counts the bytes the reverse graph actually reads.
public struct Saved: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let inputs = Saved(rawValue: 1)
    public static let output = Saved(rawValue: 2)
    public static let nothing: Saved = []
}

/// How an op's derivative is stated. Forward mode (tangents) and reverse mode
/// (cotangents) both read this one statement, so every derivative is written once,
/// in the op vocabulary, and is itself a graph that can be differentiated again.
enum DerivativeForm {
    /// The output does not change under small changes of the inputs (constants, masks).
    case none
    /// Linear in its differentiable inputs together: the tangent is the op applied to
    /// the tangents, and the reverse rule is the op's transpose.
    case linear
    /// Linear in each input separately (products): the tangent is `Σₖ op(…, ẋₖ, …)`, and
    /// the reverse rule for input k is the transpose in that input, the others held fixed.
    case multilinear
    /// Elementwise and nonlinear: one local derivative `dₖ` per input (``OpFamily/partial(_:node:input:)``);
    /// tangent `Σₖ ẋₖ ⊙ dₖ`, reverse `unbroadcast(ḡ ⊙ dₖ)`.
    case elementwise
    /// A scalar output (costs, `max`): the output's gradient with respect to each input as
    /// a tensor `Gₖ` (``OpFamily/gradientTensor(_:node:input:)``); tangent `Σₖ sum(Gₖ ⊙ ẋₖ)`,
    /// reverse `unbroadcast(ḡ·Gₖ)`.
    case scalar
    /// `softmax`, `log_softmax`: per row, a linear map (``OpFamily/rowMap(_:node:_:transposed:)``),
    /// applied to the tangent, or transposed to the gradient.
    case rowwise
}

/// An op's derivative: a ``DerivativeForm`` with the rule it is read by, in the op vocabulary
/// (rules emit nodes, so every derivative is itself a graph). Each rule is one function of the
/// op's family; an op whose form is stated without its rule does not compile.
struct Derivative {
    typealias Tangent = (inout Emitter, NodeID, [NodeID?]) throws(ShapeMessage) -> NodeID?
    typealias Transpose = (inout Emitter, NodeID, Int, NodeID) throws(ShapeMessage) -> NodeID?
    typealias Partial = (inout Emitter, NodeID, Int) throws(ShapeMessage) -> NodeID?
    typealias RowMap = (inout Emitter, NodeID, NodeID, Bool) throws(ShapeMessage) -> NodeID?

    enum Rule {
        /// ``DerivativeForm/none``.
        case none
        /// ``DerivativeForm/linear``: the tangent from the inputs' tangents (nil: the op applied to
        /// them, zeros materialised) and the transpose in each argument.
        case linear(tangent: Tangent?, transpose: Transpose)
        /// ``DerivativeForm/multilinear``: the transpose in argument `k`, the others held fixed.
        case multilinear(transpose: Transpose)
        /// ``DerivativeForm/elementwise``: `∂y/∂xₖ` at a shape that broadcasts to the output's (nil: zero).
        case elementwise(partial: Partial)
        /// ``DerivativeForm/scalar``: the scalar output's gradient with respect to input `k`, elementwise.
        case scalar(gradient: Partial)
        /// ``DerivativeForm/rowwise``: the row Jacobian applied to `v`, or its transpose.
        case rowwise(rowMap: RowMap)
    }

    let rule: Rule

    static var none: Derivative { Derivative(rule: .none) }
    static func linear(tangent: Tangent? = nil, transpose: @escaping Transpose) -> Derivative {
        Derivative(rule: .linear(tangent: tangent, transpose: transpose))
    }
    static func multilinear(transpose: @escaping Transpose) -> Derivative { Derivative(rule: .multilinear(transpose: transpose)) }
    static func elementwise(_ partial: @escaping Partial) -> Derivative { Derivative(rule: .elementwise(partial: partial)) }
    static func scalar(_ gradient: @escaping Partial) -> Derivative { Derivative(rule: .scalar(gradient: gradient)) }
    static func rowwise(_ rowMap: @escaping RowMap) -> Derivative { Derivative(rule: .rowwise(rowMap: rowMap)) }

    /// The form alone.
    var form: DerivativeForm {
        switch rule {
        case .none: .none
        case .linear: .linear
        case .multilinear: .multilinear
        case .elementwise: .elementwise
        case .scalar: .scalar
        case .rowwise: .rowwise
        }
    }
}

/// The two frameworks a graph is exported to (``OpFamily/python(_:_:)``).
public enum Framework: String, Sendable, CaseIterable {
    case jax, torch
}

/// Which elements of an input the output's elements read, whatever the values: what tells
/// which nodes the output depends on at all (``Dependence``), so that a node none of whose
/// elements the output reads gets no gradient (null), not a zero.
enum ElementReading {
    /// Output element `i` reads the input's elements broadcast to position `i` (elementwise
    /// ops, comparisons, selections).
    case elementwise
    /// Each row (last axis) of the output reads the same row of the input, whole.
    case rows
    /// Every output element reads every input element (costs, a full `max`).
    case everything
    /// As the op's own reverse rule routes a gradient (linear and multilinear ops), and every input
    /// element is read by some output element.
    case asPulledBack
    /// As ``asPulledBack``, but some input elements may be read by no output element (indexing,
    /// the diagonals of an einsum).
    case selectively
}

extension OpFamily {
    func reading(input k: Int) -> ElementReading {
        switch derivative.form {
        case .linear, .multilinear: .asPulledBack
        case .elementwise: .elementwise
        case .rowwise: .rows
        case .scalar, .none: .everything
        }
    }

    func forward(_ x: [Tensor], shouldStop: () -> Bool) throws(ShapeMessage) -> Tensor? { try forward(x) }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        guard let result = try forward(x, shouldStop: shouldStop) else { return false }
        out = result
        return true
    }

    func differentiates(argument k: Int, shapes: [[Int]]) -> Bool { true }
    func work(_ shapes: [[Int]]) -> Int? { nil }
    func workUnits(elements: Int, firstInput: () -> [Int]) -> Int { elements }
    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? { nil }
    var scalarKernel: ScalarKernel { scalarValue(0, 0, 0) == nil ? .none : .general }
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure { .dense }
}
