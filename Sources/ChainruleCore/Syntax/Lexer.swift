/// Turns source text into tokens.
///
/// Newlines inside `(` `[` or right after a binary operator, `=` or `,` do not end
/// a statement; `#` starts a comment; a `:` at the start of a statement makes
/// the rest of the line a command. Bad characters become diagnostics and are skipped.
public struct Lexer {
    let source: Source
    var scalars: [Unicode.Scalar] { source.scalars }
    var position = 0
    var depth = 0
    var tokens: [Token] = []
    var diagnostics: [Diagnostic] = []

    public static func tokenize(_ source: Source) -> (tokens: [Token], diagnostics: [Diagnostic], openDepth: Int) {
        var lexer = Lexer(source: source)
        lexer.run()
        return (lexer.tokens, lexer.diagnostics, lexer.depth)
    }

    /// Whether `text` stops inside brackets or after an operator, so that a prompt should
    /// read another line before running it.
    public static func needsContinuation(_ text: String) -> Bool {
        let (tokens, _, depth) = tokenize(Source(name: "", text: text))
        if depth > 0 { return true }
        let significant = tokens.last { $0.kind != .newline && $0.kind != .end }
        return significant?.kind.continuesLine ?? false
    }

    var atStatementStart: Bool {
        if depth > 0 { return false }
        guard let last = tokens.last else { return true }
        return last.kind == .newline || last.kind == .semicolon
    }

    mutating func emit(_ kind: TokenKind, from start: Int) {
        tokens.append(Token(kind: kind, range: SourceRange(start, position)))
    }

    mutating func run() {
        while position < scalars.count {
            let c = scalars[position]
            let start = position
            switch c {
            case " ", "\t", "\r":
                position += 1
            case "\n":
                position += 1
                let continues = tokens.last?.kind.continuesLine ?? false
                if depth == 0 && !continues { emit(.newline, from: start) }
            case "#":
                while position < scalars.count && scalars[position] != "\n" { position += 1 }
            case ":" where atStatementStart:
                lexCommand()
            case "\"":
                lexString()
            case "0"..."9":
                lexNumber()
            case "." where position + 1 < scalars.count && ("0"..."9").contains(scalars[position + 1]):
                lexNumber()
            default:
                if Lexer.isIdentifierStart(c) {
                    while position < scalars.count && Lexer.isIdentifierContinue(scalars[position]) { position += 1 }
                    emit(.identifier(source.text(SourceRange(start, position))), from: start)
                } else if let kind = Lexer.punctuation[c] {
                    position += 1
                    switch kind {
                    case .leftParen, .leftBracket: depth += 1
                    case .rightParen, .rightBracket: depth = max(0, depth - 1)
                    default: break
                    }
                    emit(kind, from: start)
                } else if c.properties.isWhitespace || c == "\u{FEFF}" {
                    position += 1  // no-break spaces and byte-order marks pasted from elsewhere
                } else {
                    position += 1
                    diagnostics.append(Diagnostic("unexpected character '\(c)'", at: SourceSpan(source, SourceRange(start, position))))
                }
            }
        }
        emit(.end, from: position)
    }

    static let punctuation: [Unicode.Scalar: TokenKind] = [
        "(": .leftParen, ")": .rightParen, "[": .leftBracket, "]": .rightBracket,
        ",": .comma, "=": .equals, ":": .colon, ".": .dot, ";": .semicolon,
        "+": .plus, "-": .minus, "*": .star, "/": .slash, "@": .at, "^": .caret,
        "−": .minus, "·": .middleDot, "×": .star,
    ]

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        return c.properties.isAlphabetic && !isSubscriptDigit(c)
    }

    static func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || ("0"..."9").contains(c) || isSubscriptDigit(c)
    }

    static func isSubscriptDigit(_ c: Unicode.Scalar) -> Bool { (0x2080...0x2089).contains(c.value) }

    mutating func lexNumber() {
        let start = position
        func digits() { while position < scalars.count && ("0"..."9").contains(scalars[position]) { position += 1 } }
        digits()
        if position < scalars.count && scalars[position] == "." {
            // `2.T` is not a number followed by `.T`; a digit or nothing may follow the point.
            let next = position + 1 < scalars.count ? scalars[position + 1] : " "
            if !Lexer.isIdentifierStart(next) {
                position += 1
                digits()
            }
        }
        if position < scalars.count && (scalars[position] == "e" || scalars[position] == "E") {
            var look = position + 1
            if look < scalars.count && (scalars[look] == "+" || scalars[look] == "-") { look += 1 }
            if look < scalars.count && ("0"..."9").contains(scalars[look]) {
                position = look
                digits()
            }
        }
        let text = source.text(SourceRange(start, position))
        if let value = Double(text.hasPrefix(".") ? "0" + text : text) {
            emit(.number(value), from: start)
        } else {
            diagnostics.append(Diagnostic("malformed number '\(text)'", at: SourceSpan(source, SourceRange(start, position))))
        }
    }

    mutating func lexString() {
        let start = position
        position += 1
        while position < scalars.count && scalars[position] != "\"" && scalars[position] != "\n" { position += 1 }
        guard position < scalars.count && scalars[position] == "\"" else {
            diagnostics.append(Diagnostic("unterminated string; add a closing '\"'", at: SourceSpan(source, SourceRange(start, start + 1))))
            return
        }
        position += 1
        emit(.string(source.text(SourceRange(start + 1, position - 1))), from: start)
    }

    mutating func lexCommand() {
        let start = position
        position += 1
        while position < scalars.count && Lexer.isIdentifierContinue(scalars[position]) { position += 1 }
        let name = source.text(SourceRange(start + 1, position))
        var argumentsStart = position
        while argumentsStart < scalars.count && (scalars[argumentsStart] == " " || scalars[argumentsStart] == "\t") {
            argumentsStart += 1
        }
        var end = argumentsStart
        var quoted = false
        while end < scalars.count && scalars[end] != "\n" && !(scalars[end] == ";" && !quoted) {
            if scalars[end] == "\"" { quoted.toggle() }
            if scalars[end] == "#" && !quoted { break }
            end += 1
        }
        var trimmed = end
        while trimmed > argumentsStart && (scalars[trimmed - 1] == " " || scalars[trimmed - 1] == "\t" || scalars[trimmed - 1] == "\r") {
            trimmed -= 1
        }
        let arguments = source.text(SourceRange(argumentsStart, trimmed))
        position = end
        emit(.command(name: name, arguments: arguments, argumentsStart: argumentsStart), from: start)
    }
}
