/// The syntax tree of the `.graph` language.
public struct Expr: Sendable, Equatable {
    /// Leaves and cases holding only arrays are stored inline; only the cases that hold an
    /// expression directly are boxed, so a name or a number costs no allocation.
    public enum Kind: Sendable, Equatable {
        case number(Double)
        case string(String)
        case name(String)
        /// `[a, b, c]`: stacks its elements along a new leading axis.
        case list([Expr])
        indirect case negate(Expr)
        /// `a ^ b`, the one right-associative operator (its exponent nests).
        indirect case binary(BinaryOperator, Expr, Expr)
        /// A left-associative run of operators of one precedence level, `a + b - c` or
        /// `A @ x * 2`, kept flat so that a sum of 100,000 terms is not 100,000 levels deep.
        /// It means `((a + b) - c)`.
        indirect case chain(Expr, [ChainLink])
        case call(String, [Expr], [KeywordArgument])
        indirect case index(Expr, [IndexArgument])
        indirect case transpose(Expr)
    }

    public var kind: Kind
    /// The whole expression.
    public var range: SourceRange
    /// Where a caret points for errors about this expression: the operator, the function name, the `[`.
    public var focus: SourceRange
    /// Levels of nesting (brackets, calls, indexing, unary minus, `^`, `.T`) in this tree;
    /// a flat `.chain` adds none. The tree's height is at most about three times this.
    public var depth: Int

    public init(_ kind: Kind, range: SourceRange, focus: SourceRange? = nil) {
        self.kind = kind
        self.range = range
        self.focus = focus ?? range
        self.depth = kind.deepestChild + (kind.nests ? 1 : 0)
    }
}

extension Expr.Kind {
    /// Whether this kind of node is a level of nesting (everything but leaves and chains).
    var nests: Bool {
        switch self {
        case .number, .string, .name, .chain: false
        case .list, .negate, .binary, .call, .index, .transpose: true
        }
    }

    /// The largest ``Expr/depth`` among the direct subexpressions (0 for a leaf), found
    /// without collecting them.
    var deepestChild: Int {
        func deepest(_ items: [Expr]) -> Int { items.reduce(0) { Swift.max($0, $1.depth) } }
        switch self {
        case .number, .string, .name: return 0
        case .list(let items): return deepest(items)
        case .negate(let e), .transpose(let e): return e.depth
        case .binary(_, let a, let b): return Swift.max(a.depth, b.depth)
        case .chain(let first, let links): return links.reduce(first.depth) { Swift.max($0, $1.operand.depth) }
        case .call(_, let args, let keywords):
            return Swift.max(deepest(args), keywords.reduce(0) { Swift.max($0, $1.value.depth) })
        case .index(let base, let indices):
            return indices.reduce(base.depth) { result, index in
                switch index {
                case .at(let e): Swift.max(result, e.depth)
                case .slice(let a, let b, let c): Swift.max(result, a?.depth ?? 0, b?.depth ?? 0, c?.depth ?? 0)
                }
            }
        }
    }

    /// The direct subexpressions, in source order.
    public var children: [Expr] {
        switch self {
        case .number, .string, .name: []
        case .list(let items): items
        case .negate(let e), .transpose(let e): [e]
        case .binary(_, let a, let b): [a, b]
        case .chain(let first, let links): [first] + links.map(\.operand)
        case .call(_, let args, let keywords): args + keywords.map(\.value)
        case .index(let base, let indices):
            [base] + indices.flatMap { index -> [Expr] in
                switch index {
                case .at(let e): [e]
                case .slice(let a, let b, let c): [a, b, c].compactMap { $0 }
                }
            }
        }
    }
}

public enum BinaryOperator: String, Sendable, Equatable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", matmul = "@", power = "^"
    /// `·` as pasted from slides: `@` when both sides have rank ≥ 1, `*` when either is a scalar
    /// (decided from the shapes when the expression is lowered).
    case middleDot = "·"

    /// Binding strength: higher binds tighter.
    public var precedence: Int {
        switch self {
        case .add, .subtract: 1
        case .multiply, .divide, .matmul, .middleDot: 2
        case .power: 4
        }
    }
}

/// One step of a `.chain`: the operator, where it is written, and its right operand.
public struct ChainLink: Sendable, Equatable {
    public var op: BinaryOperator
    /// The operator token, where a caret points for errors about this step.
    public var focus: SourceRange
    public var operand: Expr

    public init(op: BinaryOperator, focus: SourceRange, operand: Expr) {
        self.op = op
        self.focus = focus
        self.operand = operand
    }
}

public struct KeywordArgument: Sendable, Equatable {
    public var name: String
    public var nameRange: SourceRange
    public var value: Expr
}

public enum IndexArgument: Sendable, Equatable {
    case at(Expr)
    case slice(Expr?, Expr?, Expr?)
}

/// How a definition's leaf is marked.
public enum DefinitionKind: String, Sendable, Equatable {
    /// `name = expr`: a formula (or a leaf when it refers to no node).
    case formula
    /// `input name = expr`: data, evaluated once.
    case input
    /// `param name = expr`: trainable, evaluated once.
    case param
    /// `name(x, W) = expr`: a module, a function of its parameters; each call is lowered into
    /// nodes of its own that remember the call.
    case module
}

public struct Definition: Sendable, Equatable {
    public var kind: DefinitionKind
    public var name: String
    public var nameRange: SourceRange
    public var value: Expr
    public var range: SourceRange
    /// A module's parameters, in order, with where each is written (empty for anything else).
    public var parameters: [Parameter] = []

    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var range: SourceRange
    }

    public init(kind: DefinitionKind, name: String, nameRange: SourceRange, value: Expr, range: SourceRange,
                parameters: [Parameter] = []) {
        self.kind = kind
        self.name = name
        self.nameRange = nameRange
        self.value = value
        self.range = range
        self.parameters = parameters
    }
}

public struct CommandStatement: Sendable, Equatable {
    public var name: String
    public var arguments: String
    /// Offset of the first argument character, for carets inside arguments.
    public var argumentsStart: Int
    public var range: SourceRange
}

public enum Statement: Sendable, Equatable {
    case definition(Definition)
    case expression(Expr)
    case command(CommandStatement)

    public var range: SourceRange {
        switch self {
        case .definition(let d): d.range
        case .expression(let e): e.range
        case .command(let c): c.range
        }
    }
}
