#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// `+ - * / ^` with NumPy broadcasting. The pullback forms the elementwise
/// partial derivative at the broadcast shape, then sums it back onto the
/// input's own shape (the adjoint of broadcasting).
public enum BinaryArithmetic: Hashable, Sendable {
    case add, subtract, multiply, divide, power

    public var name: String {
        switch self {
        case .add: "add"
        case .subtract: "sub"
        case .multiply: "mul"
        case .divide: "div"
        case .power: "pow"
        }
    }

    public var symbol: String {
        switch self {
        case .add: "+"
        case .subtract: "-"
        case .multiply: "*"
        case .divide: "/"
        case .power: "^"
        }
    }

    public func value(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: pow(a, b)
        }
    }

    /// ∂(a ∘ b)/∂a when `k == 0`, ∂(a ∘ b)/∂b when `k == 1`, at one element with value `y`.
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
