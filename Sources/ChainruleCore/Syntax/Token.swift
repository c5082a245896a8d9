/// The smallest units of the `.graph` language.
public enum TokenKind: Equatable, Sendable {
    case number(Double)
    case identifier(String)
    case string(String)
    /// `:name rest-of-line` at the start of a statement.
    case command(name: String, arguments: String, argumentsStart: Int)
    case leftParen, rightParen, leftBracket, rightBracket
    case comma, equals, colon, dot
    case plus, minus, star, slash, at, caret
    /// `·` (U+00B7): a product whose kind depends on the operands' shapes.
    case middleDot
    /// The end of a statement: a newline outside brackets, or `;`.
    case newline, semicolon
    case end

    /// Whether a line ending right after this token continues on the next line.
    var continuesLine: Bool {
        switch self {
        case .plus, .minus, .star, .slash, .at, .caret, .middleDot, .equals, .comma: true
        default: false
        }
    }

    /// How the token reads in messages.
    var spelling: String {
        switch self {
        case .number(let value): "number \(value)"
        case .identifier(let name): "'\(name)'"
        case .string(let text): "string \"\(text)\""
        case .command(let name, _, _): "command ':\(name)'"
        case .leftParen: "'('"
        case .rightParen: "')'"
        case .leftBracket: "'['"
        case .rightBracket: "']'"
        case .comma: "','"
        case .equals: "'='"
        case .colon: "':'"
        case .dot: "'.'"
        case .plus: "'+'"
        case .minus: "'-'"
        case .star: "'*'"
        case .slash: "'/'"
        case .at: "'@'"
        case .caret: "'^'"
        case .middleDot: "'·'"
        case .newline: "end of line"
        case .semicolon: "';'"
        case .end: "end of input"
        }
    }
}

public struct Token: Equatable, Sendable {
    public var kind: TokenKind
    public var range: SourceRange
}
