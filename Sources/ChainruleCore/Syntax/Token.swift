/// The smallest units of the `.graph` language.
///
/// A token carries no text or value of its own: names, numbers, strings and commands are read
/// from the source at the token's range when the parser needs them (see ``Lexer/text(_:_:)``
/// and ``Lexer/number(_:_:)``).
public enum TokenKind: UInt8, Equatable, Sendable {
    case number
    case identifier
    /// `"text"`, the quotes included in the token's range.
    case string
    /// `:name rest-of-line` at the start of a statement (see ``Lexer/command(_:_:)``).
    case command
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

    /// How the token reads in messages, for kinds whose text does not matter
    /// (the parser quotes names, numbers, strings and commands from the source).
    var spelling: String {
        switch self {
        case .number: "number"
        case .identifier: "name"
        case .string: "string"
        case .command: "command"
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

/// A token: its kind and where it is, as an offset and a length in the source's scalars.
/// Sixteen bytes, no references.
public struct Token: Equatable, Sendable {
    public var kind: TokenKind
    /// Scalars in the token, clamped for tokens (strings, commands) of four billion and more.
    public var length: UInt32
    public var start: Int

    public init(kind: TokenKind, start: Int, end: Int) {
        self.kind = kind
        self.start = start
        self.length = UInt32(clamping: end - start)
    }

    public var end: Int { start + Int(length) }
    public var range: SourceRange { SourceRange(start, end) }
}
