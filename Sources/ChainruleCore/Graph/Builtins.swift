/// The built-in functions of the language, for lowering, completion and help.
public enum Builtins {
    public struct Function: Sendable {
        public var name: String
        public var signature: String
        public var summary: String
    }

    /// Every function, in the order `:help functions` lists them.
    public static let functions: [Function] = [
        Function(name: "relu", signature: "relu(x)", summary: "max(0, x)"),
        Function(name: "leaky_relu", signature: "leaky_relu(x, a=0.01)", summary: "x if x > 0 else a·x; a is any scalar, learnable"),
        Function(name: "elu", signature: "elu(x, a=1)", summary: "x if x > 0 else a·(exp(x) − 1); a is any scalar, learnable"),
        Function(name: "gelu", signature: "gelu(x)", summary: "x·Φ(x) = 0.5·x·(1 + erf(x/√2)), exact"),
        Function(name: "sigmoid", signature: "sigmoid(x)", summary: "1/(1 + exp(−x))"),
        Function(name: "tanh", signature: "tanh(x)", summary: "hyperbolic tangent"),
        Function(name: "softplus", signature: "softplus(x)", summary: "log(1 + exp(x)), computed stably"),
        Function(name: "linear", signature: "linear(x)", summary: "the identity activation"),
        Function(name: "step", signature: "step(x)", summary: "Heaviside step: 1 if x > 0 else 0 (derivative 0)"),
        Function(name: "sign", signature: "sign(x)", summary: "−1, 0 or 1 by the sign of x (derivative 0)"),
        Function(name: "exp", signature: "exp(x)", summary: "elementwise eˣ"),
        Function(name: "log", signature: "log(x)", summary: "elementwise natural logarithm"),
        Function(name: "sqrt", signature: "sqrt(x)", summary: "elementwise square root"),
        Function(name: "abs", signature: "abs(x)", summary: "elementwise |x|"),
        Function(name: "sin", signature: "sin(x)", summary: "elementwise sine"),
        Function(name: "cos", signature: "cos(x)", summary: "elementwise cosine"),
        Function(name: "sum", signature: "sum(x[, axis])", summary: "sum of all elements, or along one axis"),
        Function(name: "mean", signature: "mean(x[, axis])", summary: "mean of all elements, or along one axis"),
        Function(name: "max", signature: "max(x)", summary: "largest element (gradient to the first largest)"),
        Function(name: "max", signature: "max(a, b)", summary: "elementwise larger, broadcasting (gradient to a at a tie)"),
        Function(name: "min", signature: "min(a, b)", summary: "elementwise smaller, broadcasting (gradient to a at a tie)"),
        Function(name: "softmax", signature: "softmax(x)", summary: "softmax over the last axis, computed stably"),
        Function(name: "log_softmax", signature: "log_softmax(x)", summary: "log of softmax over the last axis, computed stably"),
        Function(name: "dot", signature: "dot(a, b)", summary: "vector · vector → scalar"),
        Function(name: "transpose", signature: "transpose(a)", summary: "reverse the axes, same as a.T"),
        Function(name: "einsum", signature: "einsum(\"ij,j->i\", a, b, …)", summary: "NumPy einsum"),
        Function(name: "mse", signature: "mse(y, t)", summary: "mean((y − t)^2)"),
        Function(name: "cross_entropy", signature: "cross_entropy(z, t)", summary: "softmax cross-entropy of logits z against class indices or probabilities t, mean over rows"),
        Function(name: "bce", signature: "bce(p, t)", summary: "mean(−t·log p − (1−t)·log(1−p)), logs clamped at −100"),
        Function(name: "bce_with_logits", signature: "bce_with_logits(z, t)", summary: "bce(sigmoid(z), t) computed stably from logits (prefer it)"),
        Function(name: "kl", signature: "kl(p, q)", summary: "sum(p·(log p − log q))"),
        Function(name: "grad", signature: "grad(e, x)", summary: "∂e/∂x of a scalar expression e, as nodes of the graph (nests: grad(grad(e, x), x))"),
        Function(name: "zeros", signature: "zeros(n, m…)", summary: "constant of zeros"),
        Function(name: "ones", signature: "ones(n, m…)", summary: "constant of ones"),
        Function(name: "eye", signature: "eye(n)", summary: "n × n identity matrix"),
        Function(name: "randn", signature: "randn(n, m…, seed=0)", summary: "standard normal samples, the same for a seed on every machine"),
        Function(name: "rand", signature: "rand(n, m…, seed=0)", summary: "uniform samples in [0, 1), the same for a seed on every machine"),
    ]

    /// Keyword arguments accepted by some function, for completion.
    public static let keywords = ["a=", "axis=", "seed="]

    /// Names that mean a constant unless the user defines them.
    public static let constants: [(name: String, value: Double)] = [
        ("pi", Double.pi), ("inf", Double.infinity), ("nan", Double.nan),
    ]

    public static func constant(named name: String) -> Double? {
        constants.first { $0.name == name }?.value
    }

    public static func isFunction(_ name: String) -> Bool {
        functions.contains { $0.name == name } || aliases.contains { $0.spelling == name }
    }

    /// The capitalised spellings slides use, each naming a built-in.
    public static let aliases: [(spelling: String, name: String)] = [
        ("ReLU", "relu"), ("GELU", "gelu"), ("ELU", "elu"), ("Softmax", "softmax"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh"),
    ]

    /// The built-in a spelling names: itself, or the built-in an alias stands for.
    static func canonical(_ name: String) -> String {
        aliases.first { $0.spelling == name }?.name ?? name
    }

    static let pointwise: [String: Pointwise] = [
        "relu": .relu, "gelu": .gelu, "sigmoid": .sigmoid, "tanh": .tanh, "softplus": .softplus,
        "exp": .exp, "log": .log, "sqrt": .sqrt, "abs": .abs, "sin": .sin, "cos": .cos, "linear": .linear,
        "step": .step, "sign": .sign,
    ]

    static let losses: [String: Loss] = [
        "mse": .mse, "cross_entropy": .crossEntropy, "bce": .bce, "bce_with_logits": .bceWithLogits, "kl": .kl,
    ]
}
