import Glibc

/// Functions applied to every element on its own. Each case gives its value
/// and its derivative together; at a kink the derivative is taken from the
/// branch the definition's `if` selects, so `relu'(0) = abs'(0) = 0`.
/// (`leaky_relu` and `elu` take a slope as a second input: see ``BinaryArithmetic``.)
public enum Pointwise: UInt8, Hashable, Sendable, CaseIterable {
    /// `−x`.
    case negate
    /// `max(0, x)` (NaN stays NaN, as `max(0, NaN)` is NaN); derivative `1` for `x > 0`, else `0`.
    case relu
    /// Exact GELU `x·Φ(x) = ½x(1 + erf(x/√2))`; derivative `Φ(x) + x·φ(x)`.
    case gelu
    /// `1/(1 + e⁻ˣ)`, evaluated without overflow for large `|x|`; derivative `σ(1 − σ)`.
    case sigmoid
    /// Derivative `1 − tanh²x`.
    case tanh
    /// SiLU (swish) `x·σ(x)`; derivative `σ(x)·(1 + x·(1 − σ(x)))`.
    case silu
    /// `log(1 + eˣ)` as `max(x, 0) + log1p(e^−|x|)`, exact for large `|x|`; derivative `σ(x)`.
    case softplus
    /// Derivative `eˣ`.
    case exp
    /// Natural logarithm; `log 0 = −∞`, negative `x` gives NaN. Derivative `1/x`.
    case log
    /// Derivative `1/(2√x)`, infinite at 0.
    case sqrt
    /// Derivative `sign(x)`, `0` at 0.
    case abs
    case sin
    case cos
    /// `−1` for `x ≤ −1`, `1` for `x ≥ 1`, else `x` (PyTorch's `Hardtanh`); derivative `1` for
    /// `−1 < x < 1`, else `0` (at the kinks ±1 too, as PyTorch's); NaN stays NaN.
    case hardtanh
    /// The identity, the "linear" activation; derivative `1`.
    case linear
    /// Heaviside step: `1` for `x > 0`, else `0` (so `step(0) = 0`); NaN stays NaN.
    /// Derivative `0` everywhere, the jump at 0 included (as for `relu'` at 0, no delta).
    case step
    /// `−1`, `0` or `1` by the sign of `x` (`sign(−0) = 0`); NaN stays NaN. Derivative `0` everywhere.
    case sign
    /// The standard normal distribution function `Φ(x) = ½(1 + erf(x/√2))`; derivative
    /// `φ(x) = e^(−x²/2)/√(2π)`. Derivative rules use it (GELU's is `Φ(x) + x·φ(x)`).
    case normalCDF

    public var name: String {
        switch self {
        case .negate: "neg"
        case .relu: "relu"
        case .gelu: "gelu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .silu: "silu"
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .abs: "abs"
        case .sin: "sin"
        case .cos: "cos"
        case .hardtanh: "hardtanh"
        case .linear: "linear"
        case .step: "step"
        case .sign: "sign"
        case .normalCDF: "normal_cdf"
        }
    }

    /// How the language spells it, `f(x)`, for lowering, completion and `:help functions`
    /// (nil for those only derivative rules and operators use).
    public var function: Builtins.Function? {
        switch self {
        case .relu: .unary(.pointwise(self), name: "relu", signature: "relu(x)", summary: "max(0, x)")
        case .gelu: .unary(.pointwise(self), name: "gelu", signature: "gelu(x)", summary: "x·Φ(x) = 0.5·x·(1 + erf(x/√2)), exact")
        case .sigmoid: .unary(.pointwise(self), name: "sigmoid", signature: "sigmoid(x)", summary: "1/(1 + exp(−x))")
        case .tanh: .unary(.pointwise(self), name: "tanh", signature: "tanh(x)", summary: "hyperbolic tangent")
        case .softplus: .unary(.pointwise(self), name: "softplus", signature: "softplus(x)", summary: "log(1 + exp(x)), computed stably")
        case .silu: .unary(.pointwise(self), name: "silu", signature: "silu(x)", summary: "x·sigmoid(x), also called swish")
        case .hardtanh: .unary(.pointwise(self), name: "hardtanh", signature: "hardtanh(x)", summary: "x clipped to [−1, 1] (derivative 0 at ±1)")
        case .linear: .unary(.pointwise(self), name: "linear", signature: "linear(x)", summary: "the identity activation")
        case .step: .unary(.pointwise(self), name: "step", signature: "step(x)", summary: "Heaviside step: 1 if x > 0 else 0 (derivative 0)")
        case .sign: .unary(.pointwise(self), name: "sign", signature: "sign(x)", summary: "−1, 0 or 1 by the sign of x (derivative 0)")
        case .exp: .unary(.pointwise(self), name: "exp", signature: "exp(x)", summary: "elementwise eˣ")
        case .log: .unary(.pointwise(self), name: "log", signature: "log(x)", summary: "elementwise natural logarithm")
        case .sqrt: .unary(.pointwise(self), name: "sqrt", signature: "sqrt(x)", summary: "elementwise square root")
        case .abs: .unary(.pointwise(self), name: "abs", signature: "abs(x)", summary: "elementwise |x|")
        case .sin: .unary(.pointwise(self), name: "sin", signature: "sin(x)", summary: "elementwise sine")
        case .cos: .unary(.pointwise(self), name: "cos", signature: "cos(x)", summary: "elementwise cosine")
        case .negate, .normalCDF: nil
        }
    }

    /// The function's value at `x`.
    public func value(_ x: Double) -> Double {
        switch self {
        case .negate: -x
        case .relu: x > 0 || x.isNaN ? x : 0  // NaN stays NaN, as in max(0, x)
        case .gelu: 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .sigmoid: Pointwise.sigmoid(x)
        case .tanh: Glibc.tanh(x)
        case .softplus: Swift.max(x, 0) + log1p(Glibc.exp(-Swift.abs(x)))
        case .silu: x * Pointwise.sigmoid(x)
        case .exp: Glibc.exp(x)
        case .log: Glibc.log(x)
        case .sqrt: x.squareRoot()
        case .abs: Swift.abs(x)
        case .sin: Glibc.sin(x)
        case .cos: Glibc.cos(x)
        case .hardtanh: x >= 1 ? 1 : (x <= -1 ? -1 : x)
        case .linear: x
        case .step: x > 0 ? 1 : (x.isNaN ? x : 0)
        case .sign: x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
        case .normalCDF: 0.5 * (1 + erf(x / 2.0.squareRoot()))
        }
    }

    /// The logistic function, never computing `exp` of a large positive number.
    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + Glibc.exp(-x)) }
        let e = Glibc.exp(x)
        return e / (1 + e)
    }
}

extension Pointwise: OpFamily {
    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] { shapes[0] }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor { x[0].map(value) }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        out.prepare(shape: x[0].shape)
        out.scalars.withUnsafeMutableBufferPointer { o in
            x[0].scalars.withUnsafeBufferPointer { a in
                for i in o.indices { o[i] = value(a[i]) }
            }
        }
        return true
    }

    var derivative: Derivative {
        switch self {
        case .negate, .linear: .linear(tangent: linearTangent, transpose: transpose)
        case .step, .sign: .none
        case .relu, .gelu, .sigmoid, .tanh, .silu, .softplus, .exp, .log, .sqrt, .abs, .sin, .cos, .normalCDF, .hardtanh:
            .elementwise(partial)
        }
    }

    /// The JAX and PyTorch spellings; the helpers (`relu`, `gelu`, `abs_`, `step`) are the exported
    /// script's own, written so that kinks and NaN behave as here (``Export``).
    func python(_ x: [String], _ framework: Framework) -> String {
        let m = framework == .jax ? "jnp" : "torch"
        return switch self {
        case .negate: "-\(x[0])"
        case .relu: "relu(\(x[0]))"
        case .gelu: "gelu(\(x[0]))"
        case .sigmoid: framework == .jax ? "jax.nn.sigmoid(\(x[0]))" : "torch.sigmoid(\(x[0]))"
        case .tanh: "\(m).tanh(\(x[0]))"
        case .silu: framework == .jax ? "\(x[0]) * jax.nn.sigmoid(\(x[0]))" : "\(x[0]) * torch.sigmoid(\(x[0]))"
        case .softplus: "softplus(\(x[0]))"
        case .exp: "\(m).exp(\(x[0]))"
        case .log: "\(m).log(\(x[0]))"
        case .sqrt: "\(m).sqrt(\(x[0]))"
        case .abs: "abs_(\(x[0]))"
        case .sin: "\(m).sin(\(x[0]))"
        case .cos: "\(m).cos(\(x[0]))"
        case .hardtanh: "\(m).where(\(x[0]) >= 1, 1.0, \(m).where(\(x[0]) <= -1, -1.0, \(x[0])))"
        case .linear: "\(x[0])"
        case .step: "step(\(x[0]))"
        case .sign: "sign(\(x[0]))"
        case .normalCDF: "normal_cdf(\(x[0]))"
        }
    }

    /// Each element of the result reads the same element of the input, whatever the slope
    /// (`step` and `sign` read it too, with a zero derivative).
    func reading(input k: Int) -> ElementReading { .elementwise }

    var saves: Saved {
        switch self {
        case .sigmoid, .tanh, .exp, .sqrt: .output
        case .negate, .linear, .step, .sign: .nothing
        case .relu, .gelu, .softplus, .silu, .log, .abs, .sin, .cos, .normalCDF, .hardtanh: .inputs
        }
    }

    func flops(_ shapes: [[Int]], result: [Int]) -> Int {
        self == .linear ? 0 : result.reduce(1, *)
    }

    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? { value(x0) }

    /// Every pointwise op is its own kernel: the evaluator computes it by ``value(_:)``.
    var scalarKernel: ScalarKernel { .pointwise(self) }

    /// `−I` for negation, else `diag(f′(x))`, the rule's derivatives.
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure {
        self == .negate ? .negatedIdentity : .diagonal(LocalJacobian.diagonal(op: .pointwise(self), inputs: inputs, output: output, argument: k))
    }

    func linearTangent(_ e: inout Emitter, node id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        self == .negate ? try e.negate(dx[0]) : dx[0]
    }

    func transpose(_ e: inout Emitter, node id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        self == .negate ? try e.negate(g) : g
    }

    /// The local derivative as nodes, from the input `x` or the node's own value `y`. Kinks take
    /// the derivative of the branch the definition selects, so `relu′(0) = abs′(0) = 0`.
    func partial(_ e: inout Emitter, node id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        let input = e.input(id, 0)
        switch self {
        case .relu: return try e.positive(try e.primal(input))
        case .gelu:
            let x = try e.primal(input)
            return try e.add(try e.apply(.normalCDF, x), try e.multiply(x, try e.normalDensity(x)))
        case .sigmoid:
            let y = try e.primal(id)
            return try e.multiply(y, try e.subtract(e.scalar(1), y))
        case .tanh:
            let y = try e.primal(id)
            return try e.subtract(e.scalar(1), try e.multiply(y, y))
        case .softplus: return try e.apply(.sigmoid, try e.primal(input))
        case .silu:
            let x = try e.primal(input)
            let s = try e.apply(.sigmoid, x)
            return try e.multiply(s, try e.add(e.scalar(1), try e.multiply(x, try e.subtract(e.scalar(1), s))))
        case .exp: return try e.primal(id)
        case .log: return try e.divide(e.scalar(1), try e.primal(input))
        case .sqrt: return try e.divide(e.scalar(0.5), try e.primal(id))
        case .abs:
            let x = try e.primal(input)
            return try e.subtract(try e.positive(x), try e.compare(.greater, e.scalar(0), x))
        case .sin: return try e.apply(.cos, try e.primal(input))
        case .cos: return try e.negate(try e.apply(.sin, try e.primal(input)))
        case .normalCDF: return try e.normalDensity(try e.primal(input))
        case .hardtanh:
            let x = try e.primal(input)
            return try e.multiply(try e.compare(.greater, x, e.scalar(-1)), try e.compare(.greater, e.scalar(1), x))
        case .negate: return e.scalar(-1)
        case .linear: return e.scalar(1)
        case .step, .sign: return nil
        }
    }
}

extension Emitter {
    /// The mask `x > 0`.
    mutating func positive(_ x: NodeID) throws(ShapeMessage) -> NodeID {
        try compare(.greater, x, scalar(0))
    }

    /// `φ(x) = e^(−x²/2)/√(2π)`.
    mutating func normalDensity(_ x: NodeID) throws(ShapeMessage) -> NodeID? {
        let exponent = try multiply(try multiply(x, x), scalar(-0.5))
        return try multiply(try apply(.exp, exponent ?? x), scalar(1 / (2 * Double.pi).squareRoot()))
    }
}
