import Glibc

/// Elementwise functions of two tensors with NumPy broadcasting: `+ - * / ^`,
/// two-argument `max` and `min`, and the activations whose slope is an input
/// (`leaky_relu(x, a)`, `elu(x, a)`, with `a` broadcast from a scalar). The
/// pullback forms the elementwise partial derivative at the broadcast shape, then
/// sums it back onto the input's own shape (the adjoint of broadcasting), so a
/// scalar slope receives the sum over every element.
public enum BinaryArithmetic: Hashable, Sendable {
    case add, subtract, multiply, divide, power
    /// `max(a, b)`: `a` if `a ≥ b` (or `a` is NaN) else `b`. The derivative is `1` for the
    /// chosen argument and `0` for the other; at a tie the first argument is chosen, so
    /// `max(0, x)` has the derivative of `relu`, `0` at `x = 0`.
    case maximum
    /// `min(a, b)`: `a` if `a ≤ b` (or `a` is NaN) else `b`; derivatives as for ``maximum``,
    /// the first argument taking the gradient at a tie.
    case minimum
    /// `leaky_relu(x, a)`: `x` if `x > 0` else `a·x`. ∂/∂x = `1` or `a`; ∂/∂a = `0` or `x`
    /// (at `x = 0` both branches agree on the value; the derivative takes the `a·x` branch).
    case leakyRelu
    /// `elu(x, a)`: `x` if `x > 0` else `a·(eˣ − 1)`. ∂/∂x = `1` or `a·eˣ`; ∂/∂a = `0` or `eˣ − 1`.
    case elu

    public var name: String {
        switch self {
        case .add: "add"
        case .subtract: "sub"
        case .multiply: "mul"
        case .divide: "div"
        case .power: "pow"
        case .maximum: "maximum"
        case .minimum: "minimum"
        case .leakyRelu: "leaky_relu"
        case .elu: "elu"
        }
    }

    public var symbol: String {
        switch self {
        case .add: "+"
        case .subtract: "-"
        case .multiply: "*"
        case .divide: "/"
        case .power: "^"
        case .maximum: "max"
        case .minimum: "min"
        case .leakyRelu: "leaky_relu"
        case .elu: "elu"
        }
    }

    public func value(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: pow(a, b)
        case .maximum: a >= b || a.isNaN ? a : b
        case .minimum: a <= b || a.isNaN ? a : b
        case .leakyRelu: a > 0 ? a : b * a
        case .elu: a > 0 ? a : b * expm1(a)
        }
    }

    /// ∂(a ∘ b)/∂a when `k == 0`, ∂(a ∘ b)/∂b when `k == 1`, at one element with value `y`
    /// (for `leaky_relu` and `elu`, `a` is `x` and `b` the slope).
    ///
    /// For `a^b`: ∂/∂a = `b·a^(b−1)`, taken as 0 when `b = 0`; ∂/∂b = `a^b·log a`,
    /// taken as 0 when `a = 0` and `b ≥ 0` (as PyTorch does), NaN for negative `a`.
    public func partial(_ a: Double, _ b: Double, _ y: Double, input k: Int) -> Double {
        switch (self, k) {
        case (.add, _): 1
        case (.subtract, 0): 1
        case (.subtract, _): -1
        case (.multiply, 0): b
        case (.multiply, _): a
        case (.divide, 0): 1 / b
        case (.divide, _): -a / (b * b)
        case (.power, 0): b == 0 ? 0 : b * pow(a, b - 1)
        case (.power, _): (a == 0 && b >= 0) ? 0 : y * Glibc.log(a)
        case (.maximum, 0): a >= b || a.isNaN ? 1 : 0
        case (.maximum, _): a >= b || a.isNaN ? 0 : 1
        case (.minimum, 0): a <= b || a.isNaN ? 1 : 0
        case (.minimum, _): a <= b || a.isNaN ? 0 : 1
        case (.leakyRelu, 0): a > 0 ? 1 : b
        case (.leakyRelu, _): a > 0 ? 0 : a
        case (.elu, 0): a > 0 ? 1 : b * Glibc.exp(a)
        case (.elu, _): a > 0 ? 0 : expm1(a)
        }
    }

    func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Broadcast.shape(a.shape, b.shape) ?? a.shape
        return Broadcast.zip(a, b, to: shape, value)
    }

    /// The partial derivatives with respect to input `k` at every element of the broadcast shape.
    public func partials(_ a: Tensor, _ b: Tensor, output y: Tensor, input k: Int) -> Tensor {
        let ea = Broadcast.expand(a, to: y.shape), eb = Broadcast.expand(b, to: y.shape)
        var result = y
        for i in result.scalars.indices {
            result.scalars[i] = partial(ea.scalars[i], eb.scalars[i], y.scalars[i], input: k)
        }
        return result
    }

    func pullback(_ g: Tensor, _ a: Tensor, _ b: Tensor, output y: Tensor, input k: Int) -> Tensor {
        let target = k == 0 ? a.shape : b.shape
        switch self {
        case .add:
            return Broadcast.reduce(g, to: target)
        case .subtract:
            return Broadcast.reduce(k == 0 ? g : g.map { -$0 }, to: target)
        default:
            guard a.shape == b.shape else {
                return Broadcast.reduce(g.zipMap(partials(a, b, output: y, input: k), *), to: target)
            }
            // No broadcasting: one pass, one new array (the common case, and every scalar graph).
            var result = g
            result.scalars.withUnsafeMutableBufferPointer { r in
                for i in r.indices { r[i] *= partial(a.scalars[i], b.scalars[i], y.scalars[i], input: k) }
            }
            return result
        }
    }
}
