/// The built-in functions of the language, for lowering, completion and help.
public enum Builtins {
    public struct Function: Sendable {
        public var name: String
        public var signature: String
        public var summary: String
    }

    /// Every function, in the order `:help functions` lists them: each family's, as its file
    /// declares them, then `grad` and the constructors of constants.
    public static let functions: [Function] =
        Pointwise.allCases.compactMap(\.function) + BinaryArithmetic.allCases.compactMap(\.function)
        + Reductions.functions + Products.functions + Movement.functions + Loss.allCases.map(\.function) + [
            Function(name: "grad", signature: "grad(e, x)", summary: "∂e/∂x of a scalar expression e, as nodes of the graph (nests: grad(grad(e, x), x))"),
            Function(name: "zeros", signature: "zeros(n, m…)", summary: "constant of zeros"),
            Function(name: "ones", signature: "ones(n, m…)", summary: "constant of ones"),
            Function(name: "eye", signature: "eye(n)", summary: "n × n identity matrix"),
            Function(name: "randn", signature: "randn(n, m…, seed=0)", summary: "standard normal samples, the same for a seed on every machine"),
            Function(name: "rand", signature: "rand(n, m…, seed=0)", summary: "uniform samples in [0, 1), the same for a seed on every machine"),
        ] + Initialiser.functions

    /// Keyword arguments accepted by some function, for completion.
    public static let keywords = ["a=", "axis=", "seed=", "uniform="]

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

    /// The elementwise functions of one argument, by name.
    static let pointwise: [String: Pointwise] = Dictionary(
        uniqueKeysWithValues: Pointwise.allCases.compactMap { p in p.function.map { ($0.name, p) } })

    /// The activations with a slope input, `f(x, a=…)`, by name.
    static let slopeActivations: [String: BinaryArithmetic] = Dictionary(
        uniqueKeysWithValues: BinaryArithmetic.allCases.compactMap { b in
            b.defaultSlope == nil ? nil : b.function.map { ($0.name, b) }
        })

    static let losses: [String: Loss] = Dictionary(uniqueKeysWithValues: Loss.allCases.map { ($0.function.name, $0) })
}
