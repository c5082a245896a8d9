import Glibc

/// Functions applied to every element on its own. Each case gives its value
/// and its derivative together; at a kink the derivative is taken from the
/// branch the definition's `if` selects, so `relu'(0) = abs'(0) = 0`.
/// (`leaky_relu` and `elu` take a slope as a second input: see ``BinaryArithmetic``.)
public enum Pointwise: Hashable, Sendable {
    /// `−x`.
    case negate
    /// `max(0, x)`; derivative `1` for `x > 0`, else `0`.
    case relu
    /// Exact GELU `x·Φ(x) = ½x(1 + erf(x/√2))`; derivative `Φ(x) + x·φ(x)`.
    case gelu
    /// `1/(1 + e⁻ˣ)`, evaluated without overflow for large `|x|`; derivative `σ(1 − σ)`.
    case sigmoid
    /// Derivative `1 − tanh²x`.
    case tanh
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
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .abs: "abs"
        case .sin: "sin"
        case .cos: "cos"
        case .linear: "linear"
        case .step: "step"
        case .sign: "sign"
        case .normalCDF: "normal_cdf"
        }
    }

    /// The function's value at `x`.
    public func value(_ x: Double) -> Double {
        switch self {
        case .negate: -x
        case .relu: x > 0 ? x : 0
        case .gelu: 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .sigmoid: Pointwise.sigmoid(x)
        case .tanh: Glibc.tanh(x)
        case .softplus: Swift.max(x, 0) + log1p(Glibc.exp(-Swift.abs(x)))
        case .exp: Glibc.exp(x)
        case .log: Glibc.log(x)
        case .sqrt: x.squareRoot()
        case .abs: Swift.abs(x)
        case .sin: Glibc.sin(x)
        case .cos: Glibc.cos(x)
        case .linear: x
        case .step: x > 0 ? 1 : (x.isNaN ? x : 0)
        case .sign: x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
        case .normalCDF: 0.5 * (1 + erf(x / 2.0.squareRoot()))
        }
    }

    /// The derivative at `x`, where `y` is the value at `x` (reused where it is cheaper).
    public func derivative(_ x: Double, _ y: Double) -> Double {
        switch self {
        case .negate: -1
        case .relu: x > 0 ? 1 : 0
        case .gelu:
            0.5 * (1 + erf(x / 2.0.squareRoot())) + x * Glibc.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        case .sigmoid: y * (1 - y)
        case .tanh: 1 - y * y
        case .softplus: Pointwise.sigmoid(x)
        case .exp: y
        case .log: 1 / x
        case .sqrt: 0.5 / y
        case .abs: x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .sin: Glibc.cos(x)
        case .cos: -Glibc.sin(x)
        case .linear: 1
        case .step, .sign: 0
        case .normalCDF: Glibc.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        }
    }

    /// The logistic function, never computing `exp` of a large positive number.
    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + Glibc.exp(-x)) }
        let e = Glibc.exp(x)
        return e / (1 + e)
    }

    /// The derivatives at every element: the diagonal of the local Jacobian.
    public func derivatives(x: Tensor, y: Tensor) -> Tensor {
        x.zipMap(y, derivative)
    }

    static func pullback(_ p: Pointwise, _ g: Tensor, x: Tensor, y: Tensor) -> Tensor {
        var result = g
        for i in result.scalars.indices { result.scalars[i] *= p.derivative(x.scalars[i], y.scalars[i]) }
        return result
    }
}
