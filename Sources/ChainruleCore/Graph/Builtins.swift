/// The built-in functions of the language, for lowering, completion and help.
public enum Builtins {
    /// A function of the language, declared by the family of the op it makes (or here, for
    /// `grad` and the constructors of constants): its name, help line and how a call is lowered.
    public struct Function: Sendable {
        public var name: String
        public var signature: String
        public var summary: String
        var call: Call

        /// `name(x)`: `op` of its one argument.
        static func unary(_ op: Op, name: String, signature: String, summary: String) -> Function {
            Function(name: name, signature: signature, summary: summary, call: .apply(op, parameters: ["x"], required: 1))
        }
    }

    /// How a call of a function is lowered: the language's few calling conventions. None names an
    /// op; the op comes with the function's declaration.
    enum Call: Sendable {
        /// `op` of the arguments matched to `parameters`, the first `required` of them needed.
        case apply(Op, parameters: [String], required: Int)
        /// `f(x, a=…)`: `.binary(activation)` of `x` and a scalar slope (its default when not given).
        case slope(BinaryArithmetic)
        /// `f(x[, axis])`: the op for the axis given, resolved (nil: over all elements).
        case axis(@Sendable (Int?) -> Op)
        /// `f(x, n)`: the op for a constant whole number `n ≥ 1` (`one_hot`'s number of classes),
        /// of the operand `x`; `parameters` names the two, `what` says what `n` is in errors.
        case count(parameters: [String], what: String, @Sendable (Int) -> Op)
        /// `einsum("spec", a, b, …)`.
        case einsum
        /// `grad(e, x)`.
        case grad
        /// A constant made on the spot from sizes and keywords (`zeros`, `randn`, `xavier`, …).
        case creation

        /// How many arguments the call takes by position, when it is a fixed number.
        var parameterCount: Int? {
            switch self {
            case .apply(_, let parameters, _): parameters.count
            case .slope, .axis, .count: 2
            case .einsum, .grad, .creation: nil
            }
        }
    }

    /// Every function, in the order `:help functions` lists them: each family's, as its file
    /// declares them, then `grad` and the constructors of constants.
    public static let functions: [Function] =
        Pointwise.allCases.compactMap(\.function) + BinaryArithmetic.allCases.compactMap(\.function)
        + Reductions.functions + Products.functions + Movement.functions + Selection.functions + Loss.allCases.map(\.function) + [
            Function(name: "grad", signature: "grad(e, x)", summary: "∂e/∂x of a scalar expression e, as nodes of the graph (nests: grad(grad(e, x), x))", call: .grad),
            Function(name: "zeros", signature: "zeros(n, m…)", summary: "constant of zeros", call: .creation),
            Function(name: "ones", signature: "ones(n, m…)", summary: "constant of ones", call: .creation),
            Function(name: "eye", signature: "eye(n)", summary: "n × n identity matrix", call: .creation),
            Function(name: "randn", signature: "randn(n, m…, seed=0)", summary: "standard normal samples, the same for a seed on every machine", call: .creation),
            Function(name: "rand", signature: "rand(n, m…, seed=0)", summary: "uniform samples in [0, 1), the same for a seed on every machine", call: .creation),
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

    /// Every function by name (`max` is two: `max(x)` and `max(a, b)`), fewest parameters first.
    static let byName: [String: [Function]] = {
        var table: [String: [Function]] = [:]
        for f in functions { table[f.name, default: []].append(f) }
        return table.mapValues { $0.sorted { ($0.call.parameterCount ?? .max) < ($1.call.parameterCount ?? .max) } }
    }()

    /// The function a call of `name` with `count` positional arguments means: of the functions of
    /// that name, the first that takes that many (else the one that takes the most, to say so).
    static func function(named name: String, arguments count: Int) -> Function? {
        guard let candidates = byName[name] else { return nil }
        return candidates.first { ($0.call.parameterCount ?? .max) >= count } ?? candidates.last
    }
}
