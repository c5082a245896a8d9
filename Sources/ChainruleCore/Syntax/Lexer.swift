/// Turns source text into tokens.
///
/// Newlines inside `(` `[` or right after a binary operator, `=` or `,` do not end
/// a statement; `#` starts a comment; a `:` at the start of a statement makes
/// the rest of the line a command. Bad characters become diagnostics and are skipped.
///
/// The lexer walks the source's UTF-8 bytes once, with a fast path for ASCII; tokens are
/// a kind and a range, and nothing is copied out of the source while lexing. The parser
/// takes the text of a name (``text(_:_:)``) or the value of a number (``number(_:_:)``)
/// when it builds the node that holds it.
public struct Lexer {
    /// A character as a message quotes it: itself in quotes when it prints, else its code point
    /// (a control character must never reach the terminal raw: ESC would start an escape sequence).
    static func describe(_ c: Unicode.Scalar) -> String {
        let invisible = c.properties.generalCategory == .control || c.properties.generalCategory == .format
            || c.properties.generalCategory == .unassigned || c.properties.generalCategory == .privateUse
            || c.properties.generalCategory == .surrogate
        if invisible {
            let hex = String(c.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return "'\(c)'"
    }

    let source: Source
    var depth = 0
    var tokens: [Token] = []
    var diagnostics: [Diagnostic] = []
    /// The kind of the last token made (the tokens taken so far may have been let go).
    var lastKind: TokenKind?
    /// Tokens made so far (the loop's stopping test reads this, not the array).
    var made = 0
    /// Where lexing goes on from, and whether the end token has been made.
    var position = 0
    var finished = false

    init(source: Source) { self.source = source }

    public static func tokenize(_ source: Source) -> (tokens: [Token], diagnostics: [Diagnostic], openDepth: Int) {
        var lexer = Lexer(source: source)
        let bytes = source.bytes
        // About one token per six bytes in typical scripts; room for a few more saves copying.
        lexer.tokens.reserveCapacity(bytes.count / 4 + 16)
        bytes.withUnsafeBufferPointer { lexer.run($0) }
        return (lexer.tokens, lexer.diagnostics, lexer.depth)
    }

    /// Whether `text` stops inside brackets or after an operator, so that a prompt should
    /// read another line before running it: only when what is there can still begin a
    /// statement. A line that already has an error (a bad character, an unclosed string,
    /// `y = ) sum(`) is run at once, to report it, and the next line is left alone.
    public static func needsContinuation(_ text: String) -> Bool {
        let (tokens, diagnostics, _) = tokenize(Source(name: "", text: text))
        if !diagnostics.isEmpty { return false }
        var open: [TokenKind] = []
        for token in tokens {
            switch token.kind {
            case .leftParen, .leftBracket: open.append(token.kind)
            case .rightParen, .rightBracket: if !open.isEmpty { open.removeLast() }
            default: break
            }
        }
        let last = tokens.last { $0.kind != .newline && $0.kind != .end }?.kind
        let wantsOperand = last?.continuesLine == true || last == .leftParen || last == .leftBracket
        guard wantsOperand || !open.isEmpty else { return false }
        // Completed by an operand and the closing brackets, it must parse.
        var completed = text + (wantsOperand ? " 0" : "")
        for kind in open.reversed() { completed += kind == .leftParen ? ")" : "]" }
        return Parser.parse(Source(name: "", text: completed)).diagnostics.isEmpty
    }

    var atStatementStart: Bool {
        if depth > 0 { return false }
        guard let last = lastKind else { return true }
        return last == .newline || last == .semicolon
    }

    @inline(__always)
    mutating func emit(_ kind: TokenKind, _ start: Int, _ end: Int) {
        tokens.append(Token(kind: kind, start: start, end: end))
        lastKind = kind
        made &+= 1
    }

    /// Lexes `s` from where it stopped until `count` more tokens are made or the text ends
    /// (then the end token is made).
    mutating func run(_ s: UnsafeBufferPointer<UInt8>, count: Int = .max) {
        let n = s.count
        var p = position
        defer { position = p }
        let limit = made &+ Swift.min(count, Int.max - made)
        while p < n && made < limit {
            let v = s[p]
            let start = p
            guard v < 0x80 else {
                p = nonASCII(s, at: p)
                continue
            }
            switch v {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                p += 1
            case UInt8(ascii: "\n"):
                p += 1
                let continues = lastKind?.continuesLine ?? false
                if depth == 0 && !continues { emit(.newline, start, p) }
            case UInt8(ascii: "#"):
                while p < n && s[p] != UInt8(ascii: "\n") { p += 1 }
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
                p = Lexer.identifierEnd(s, from: p + 1)
                emit(.identifier, start, p)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                p = Lexer.numberEnd(s, from: p)
                emit(.number, start, p)
            case UInt8(ascii: "."):
                if p + 1 < n && Lexer.isDigit(s[p + 1]) {
                    p = Lexer.numberEnd(s, from: p)
                    emit(.number, start, p)
                } else {
                    p += 1
                    emit(.dot, start, p)
                }
            case UInt8(ascii: ":"):
                if atStatementStart {
                    p = Lexer.commandEnd(s, from: p)
                    emit(.command, start, p)
                } else {
                    p += 1
                    emit(.colon, start, p)
                }
            case UInt8(ascii: "\""):
                p = lexString(s, from: p)
            case UInt8(ascii: "("): p += 1; depth += 1; emit(.leftParen, start, p)
            case UInt8(ascii: "["): p += 1; depth += 1; emit(.leftBracket, start, p)
            case UInt8(ascii: ")"): p += 1; depth = max(0, depth - 1); emit(.rightParen, start, p)
            case UInt8(ascii: "]"): p += 1; depth = max(0, depth - 1); emit(.rightBracket, start, p)
            case UInt8(ascii: ","): p += 1; emit(.comma, start, p)
            case UInt8(ascii: "="): p += 1; emit(.equals, start, p)
            case UInt8(ascii: ";"): p += 1; emit(.semicolon, start, p)
            case UInt8(ascii: "+"): p += 1; emit(.plus, start, p)
            case UInt8(ascii: "-"): p += 1; emit(.minus, start, p)
            case UInt8(ascii: "*"): p += 1; emit(.star, start, p)
            case UInt8(ascii: "/"): p += 1; emit(.slash, start, p)
            case UInt8(ascii: "@"): p += 1; emit(.at, start, p)
            case UInt8(ascii: "^"): p += 1; emit(.caret, start, p)
            default:
                p = nonASCII(s, at: p)  // other controls: vertical tab and form feed are blanks
            }
        }
        if p >= n && !finished {
            emit(.end, p, p)
            finished = true
        }
    }

    /// Everything but the ASCII fast path: names in other scripts, `−` `·` `×`, blanks
    /// such as no-break spaces and byte-order marks, and bad characters. Returns the next offset.
    mutating func nonASCII(_ s: UnsafeBufferPointer<UInt8>, at start: Int) -> Int {
        let (c, length) = Source.decode(s, at: start)
        let end = start + length
        if Lexer.isIdentifierStart(c) {
            let end = Lexer.identifierEnd(s, from: end)
            emit(.identifier, start, end)
            return end
        }
        switch c {
        case "−": emit(.minus, start, end)
        case "·": emit(.middleDot, start, end)
        case "×": emit(.star, start, end)
        default:
            if !(c.properties.isWhitespace || c == "\u{FEFF}") {  // no-break spaces and byte-order marks pasted from elsewhere
                diagnostics.append(Diagnostic("unexpected character \(Lexer.describe(c))", at: SourceSpan(source, SourceRange(start, end))))
                // It stands where a token was meant: a line end after it ends the statement
                // (after `a = $`, the next line is a statement of its own, not the operand of '=').
                lastKind = .identifier
            }
        }
        return end
    }

    @inline(__always)
    static func isDigit(_ v: UInt8) -> Bool { v &- 0x30 < 10 }

    /// ASCII letters, digits and `_`, as bits of the byte's value: 64–127 here, digits below.
    static let wordBits: UInt64 = 0x07FF_FFFE_87FF_FFFE

    /// The end of a name whose first scalar is before `from`.
    @inline(__always)
    static func identifierEnd(_ s: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var p = from
        let n = s.count
        while p < n {
            let v = s[p]
            if v < 0x40 {
                guard isDigit(v) else { return p }
            } else if v < 0x80 {
                guard (wordBits >> UInt64(v - 0x40)) & 1 != 0 else { return p }
            } else {
                let (c, length) = Source.decode(s, at: p)
                guard isIdentifierContinue(c) else { return p }
                p += length
                continue
            }
            p += 1
        }
        return p
    }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        return c.properties.isAlphabetic && !isSubscriptDigit(c)
    }

    @inline(never)  // off the ASCII path: its Unicode properties are not looked up for every name
    static func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        if isIdentifierStart(c) || ("0"..."9").contains(c) || isSubscriptDigit(c) { return true }
        // Combining marks: an accent typed as its own character (`e` + U+0301) belongs to
        // the name (names compare by canonical equivalence, so `café` is one name either way).
        switch c.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    static func isSubscriptDigit(_ c: Unicode.Scalar) -> Bool { (0x2080...0x2089).contains(c.value) }

    /// The end of a number starting at `start`: digits, a point, digits, an exponent.
    static func numberEnd(_ s: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let n = s.count
        var p = start
        while p < n && isDigit(s[p]) { p += 1 }
        if p < n && s[p] == UInt8(ascii: ".") {
            // `2.T` is not a number followed by `.T`; a digit or nothing may follow the point.
            if !(p + 1 < n && isIdentifierStart(Source.decode(s, at: p + 1).scalar)) {
                p += 1
                while p < n && isDigit(s[p]) { p += 1 }
            }
        }
        if p < n && (s[p] == UInt8(ascii: "e") || s[p] == UInt8(ascii: "E")) {
            var look = p + 1
            if look < n && (s[look] == UInt8(ascii: "+") || s[look] == UInt8(ascii: "-")) { look += 1 }
            if look < n && isDigit(s[look]) {
                p = look
                while p < n && isDigit(s[p]) { p += 1 }
            }
        }
        return p
    }

    /// Lexes `"…"` on one line; returns the next offset.
    mutating func lexString(_ s: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let n = s.count
        var p = start + 1
        while p < n && s[p] != UInt8(ascii: "\"") && s[p] != UInt8(ascii: "\n") { p += 1 }
        guard p < n && s[p] == UInt8(ascii: "\"") else {
            diagnostics.append(Diagnostic("unterminated string; add a closing '\"'", at: SourceSpan(source, SourceRange(start, start + 1))))
            lastKind = .string  // as a bad character: the line end after it ends the statement
            return p
        }
        p += 1
        emit(.string, start, p)
        return p
    }

    /// The end of a command: the end of the line, a `;` outside quotes or a `#` comment.
    static func commandEnd(_ s: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let n = s.count
        var end = start + 1
        var quoted = false
        while end < n && s[end] != UInt8(ascii: "\n") && !(s[end] == UInt8(ascii: ";") && !quoted) {
            if s[end] == UInt8(ascii: "\"") { quoted.toggle() }
            if s[end] == UInt8(ascii: "#") && !quoted { break }
            end += 1
        }
        return end
    }

    // MARK: Reading tokens

    /// The text of `range`.
    public static func text(_ source: Source, _ range: SourceRange) -> String {
        source.text(range)
    }

    /// Whether `token` is the name `word` (ASCII), without making a string.
    static func isWord(_ source: Source, _ token: Token, _ word: StaticString) -> Bool {
        guard token.kind == .identifier, Int(token.length) == word.utf8CodeUnitCount,
              token.end <= source.bytes.count else { return false }
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (i, byte) in bytes.enumerated() where source.bytes[token.start + i] != byte { return false }
        return true
    }

    /// The parts of a command token: its name, its arguments without surrounding blanks,
    /// and where the arguments start.
    public static func command(_ source: Source, _ token: Token) -> (name: String, arguments: String, argumentsStart: Int) {
        let s = source.bytes
        let end = min(token.end, s.count)
        var nameEnd = min(token.start + 1, end)
        while nameEnd < end {
            let (c, length) = source.scalar(at: nameEnd)
            guard isIdentifierContinue(c) else { break }
            nameEnd += length
        }
        var argumentsStart = nameEnd
        while argumentsStart < end && (s[argumentsStart] == UInt8(ascii: " ") || s[argumentsStart] == UInt8(ascii: "\t")) {
            argumentsStart += 1
        }
        var trimmed = end
        while trimmed > argumentsStart
            && (s[trimmed - 1] == UInt8(ascii: " ") || s[trimmed - 1] == UInt8(ascii: "\t") || s[trimmed - 1] == UInt8(ascii: "\r")) {
            trimmed -= 1
        }
        return (text(source, SourceRange(token.start + 1, nameEnd)), text(source, SourceRange(argumentsStart, trimmed)), argumentsStart)
    }

    /// Powers of ten that are exact doubles.
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The value of a number token, correctly rounded to the nearest double (ties to even).
    ///
    /// Most literals have at most 15 significant digits and a small exponent; then the digits
    /// and the power of ten are both exact doubles and one multiplication or division rounds
    /// the exact value correctly (Clinger's fast path). Other literals go through the standard
    /// library's correctly rounded conversion. `nil` only for text that is not a number.
    public static func number(_ source: Source, _ range: SourceRange) -> Double? {
        let s = source.bytes
        let lo = max(0, min(range.start, s.count)), hi = max(lo, min(range.end, s.count))
        var p = lo
        var mantissa: UInt64 = 0
        var exponent = 0
        var exact = true
        var sawDigit = false
        func digit(_ v: UInt8, fraction: Bool) {
            sawDigit = true
            if mantissa == 0 && v == 0 {
                if fraction { exponent -= 1 }
            } else if mantissa < 100_000_000_000_000_000 {
                mantissa = mantissa &* 10 &+ UInt64(v)
                if fraction { exponent -= 1 }
            } else {
                exact = false
            }
        }
        while p < hi, isDigit(s[p]) {
            digit(s[p] &- 0x30, fraction: false)
            p += 1
        }
        if p < hi && s[p] == UInt8(ascii: ".") {
            p += 1
            while p < hi, isDigit(s[p]) {
                digit(s[p] &- 0x30, fraction: true)
                p += 1
            }
        }
        if p < hi && (s[p] == UInt8(ascii: "e") || s[p] == UInt8(ascii: "E")) {
            p += 1
            var negative = false
            if p < hi && (s[p] == UInt8(ascii: "+") || s[p] == UInt8(ascii: "-")) {
                negative = s[p] == UInt8(ascii: "-")
                p += 1
            }
            var power = 0
            var sawExponentDigit = false
            while p < hi, isDigit(s[p]) {
                sawExponentDigit = true
                if power < 100_000 { power = power * 10 + Int(s[p] &- 0x30) }
                p += 1
            }
            if !sawExponentDigit { exact = false }
            exponent += negative ? -power : power
        }
        if exact && sawDigit && p == hi {
            if mantissa == 0 { return 0 }
            if mantissa <= 1 << 53 && (-22...22).contains(exponent) {
                let m = Double(mantissa)
                return exponent >= 0 ? m * exactPowersOfTen[exponent] : m / exactPowersOfTen[-exponent]
            }
        }
        let text = text(source, SourceRange(lo, hi))
        return Double(text.hasPrefix(".") ? "0" + text : text)
    }
}
