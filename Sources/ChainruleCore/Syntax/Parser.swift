/// Parses `.graph` source into statements, reporting every syntax error in one pass.
///
/// After an error the parser skips to the end of the statement and goes on, so a
/// script with three typos yields three diagnostics.
public struct Parser {
    /// The most levels of nesting accepted (brackets, calls, index brackets, unary minus, `^`,
    /// `.T`); deeper expressions are refused rather than risking the stack. Chains of
    /// `+ - * / @` are flat and may be as long as memory allows.
    public static let maximumDepth = 500

    let source: Source
    var tokens: TokenWindow
    var index = 0
    /// The parser's own diagnostics (the lexer's are in `tokens`).
    var diagnostics: [Diagnostic]
    /// Levels of nesting currently open (see ``enter(_:at:)``).
    var nesting = 0
    /// The last token taken that is not a line end.
    var lastSignificant: Token?

    public static func parse(_ source: Source) -> (statements: [Statement], diagnostics: [Diagnostic]) {
        var parser = Parser(lexing: source)
        let statements = parser.parseStatements()
        return (statements, parser.sortedDiagnostics)
    }

    /// Checks every statement of `source` without keeping any syntax tree, then gives the
    /// statements one at a time: a script of a million lines never holds a million trees,
    /// yet nothing runs when any line has a syntax error. The source is lexed once; each
    /// statement is parsed twice (checked, then read when it is run).
    public static func check(_ source: Source) -> (diagnostics: [Diagnostic], statements: StatementReader) {
        var parser = Parser(lexing: source)
        var reader = StatementReader(parser: parser)
        while let statement = parser.nextStatement() {
            if case .definition = statement { reader.definitions += 1 }
        }
        return (parser.sortedDiagnostics, reader)
    }

    /// The statements of a source that parsed without errors, one at a time (``check(_:)``).
    public struct StatementReader {
        var parser: Parser
        /// How many of the statements are definitions (to make room for their names at once).
        public internal(set) var definitions = 0

        /// The next statement, or nil after the last.
        public mutating func next() -> Statement? { parser.nextStatement() }
    }

    /// The diagnostics in source order (the lexer's and the parser's interleaved; the lexer's
    /// first at one place).
    private var sortedDiagnostics: [Diagnostic] {
        (tokens.lexicalDiagnostics + diagnostics).enumerated().sorted {
            ($0.element.span?.range.start ?? 0, $0.offset) < ($1.element.span?.range.start ?? 0, $1.offset)
        }.map(\.element)
    }

    /// The expression at `range` of `source`, which parsed there before (a definition's
    /// formula), with its positions in `source`; nil if the text there is not one expression
    /// (it always is for a range the parser itself reported).
    public static func expression(in source: Source, range: SourceRange) -> Expr? {
        guard range.start >= 0, range.start <= range.end, range.end <= source.bytes.count else { return nil }
        var lexer = Lexer(source: source)
        source.bytes.withUnsafeBufferPointer { all in
            lexer.run(UnsafeBufferPointer(rebasing: all[range.start..<range.end]))
        }
        guard lexer.diagnostics.isEmpty else { return nil }
        let tokens = lexer.tokens.map { Token(kind: $0.kind, start: $0.start + range.start, end: $0.end + range.start) }
        var parser = Parser(source: source, tokens: TokenWindow(all: tokens), diagnostics: [])
        let expr: Expr
        do { expr = try parser.parseExpression() } catch { return nil }
        guard parser.current.kind == .end, parser.diagnostics.isEmpty else { return nil }
        return expr
    }

    struct Failure: Error {}

    var current: Token { tokens[index] }

    /// How a token reads in a message: its own text for names and numbers.
    func spelling(_ token: Token) -> String {
        switch token.kind {
        case .number, .identifier: "'\(source.text(token.range))'"
        case .string: "string \"\(source.text(SourceRange(token.start + 1, token.end - 1)))\""
        case .command: "command ':\(Lexer.command(source, token).name)'"
        default: token.kind.spelling
        }
    }

    /// The text of a name token.
    func name(_ token: Token) -> String { Lexer.text(source, token.range) }

    /// Whether `token` is the name `word`.
    func isWord(_ token: Token, _ word: StaticString) -> Bool { Lexer.isWord(source, token, word) }
    var next: Token { tokens[Swift.min(index + 1, tokens.count - 1)] }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        if token.kind != .newline { lastSignificant = token }
        // Two tokens ahead are always at hand (`current`, `next`, one more), one behind.
        tokens.ensure(index + 2)
        tokens.letGo(before: index - 1)
        return token
    }

    mutating func fail(_ message: String, at range: SourceRange) -> Failure {
        diagnostics.append(Diagnostic(message, at: SourceSpan(source, range)))
        return Failure()
    }

    mutating func expect(_ kind: TokenKind, _ message: @autoclosure () -> String) throws(Failure) -> Token {
        guard current.kind == kind else { throw fail(message(), at: current.kind == .end ? endOfLastToken : current.range) }
        return advance()
    }

    /// Just after the last token that is not a line end: where a statement cut short by the end
    /// of the text stops (never past the text, on a blank line or a comment after it).
    var endOfLastToken: SourceRange {
        guard let last = lastSignificant else { return current.range }
        return SourceRange(last.range.end, last.range.end)
    }

    // MARK: Statements

    /// program := (statement? (newline | ';'))* end
    mutating func parseStatements() -> [Statement] {
        var statements: [Statement] = []
        while let statement = nextStatement() { statements.append(statement) }
        return statements
    }

    /// The next statement that parses, or nil at the end of the text; a statement with an
    /// error is reported in `diagnostics` and skipped.
    mutating func nextStatement() -> Statement? {
        while current.kind != .end {
            if current.kind == .newline || current.kind == .semicolon {
                _ = advance()
                continue
            }
            let start = current.range.start
            let reported = diagnostics.count
            do throws(Failure) {
                let statement = try parseStatement()
                switch current.kind {
                case .newline, .semicolon, .end: return statement
                default: throw fail("expected the end of the statement, found \(spelling(current))", at: current.range)
                }
            } catch {
                while current.kind != .newline && current.kind != .semicolon && current.kind != .end { _ = advance() }
                // One error per statement: a bad character already explains what follows it.
                let end = current.range.start
                if hasLexicalError(in: start..<max(end, start + 1)) {
                    diagnostics.removeSubrange(reported...)
                }
            }
        }
        return nil
    }

    /// Whether the lexer reported a bad character in `range` (a binary search: scripts may hold many).
    func hasLexicalError(in range: Range<Int>) -> Bool {
        let lexicalErrorStarts = tokens.lexicalErrorStarts
        var lo = 0, hi = lexicalErrorStarts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lexicalErrorStarts[mid] < range.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        return lo < lexicalErrorStarts.count && lexicalErrorStarts[lo] < range.upperBound
    }

    /// statement := command | ('input' | 'param')? name '=' expr | expr
    mutating func parseStatement() throws(Failure) -> Statement {
        let start = current.range.start
        if current.kind == .command {
            let token = advance()
            let (name, arguments, argumentsStart) = Lexer.command(source, token)
            return .command(CommandStatement(name: name, arguments: arguments, argumentsStart: argumentsStart, range: token.range))
        }
        var kind = DefinitionKind.formula
        if isWord(current, "input") || isWord(current, "param"), next.kind == .identifier {
            kind = isWord(current, "input") ? .input : .param
            let word = advance()
            guard tokens[index + 1].kind == .equals else {
                throw fail("expected '=' after '\(source.text(word.range)) \(source.text(current.range))'", at: tokens[index + 1].range)
            }
        }
        if current.kind == .identifier, next.kind == .equals {
            let nameToken = advance()
            let name = self.name(nameToken)
            let equals = advance()
            if current.kind == .newline || current.kind == .semicolon || current.kind == .end
                || startsDefinitionOnNewLine(after: equals) {
                throw fail("expected an expression after '='", at: equals.range)
            }
            let value = try parseExpression()
            return .definition(Definition(kind: kind, name: name, nameRange: nameToken.range, value: value,
                                          range: SourceRange(start, value.range.end)))
        }
        return .expression(try parseExpression())
    }

    // MARK: Expressions

    /// What opens one level of nesting, for the message when there are too many.
    enum Nesting {
        case parenthesis, list, call(String), index, negation, power, transpose

        var spelling: String {
            switch self {
            case .parenthesis: "'('"
            case .list: "'['"
            case .call(let name): "call of '\(name)'"
            case .index: "index '['"
            case .negation: "unary '-'"
            case .power: "'^'"
            case .transpose: "'.T'"
            }
        }
    }

    /// Opens one level of nesting, refusing the level past ``maximumDepth``.
    ///
    /// Brackets, calls, index brackets, unary minus, `^` and `.T` each add a level;
    /// a chain of `+ - * / @` does not (it is kept flat). Every level adds at most three
    /// to the depth of the syntax tree, which bounds any recursion over it.
    mutating func enter(_ what: Nesting, at range: SourceRange) throws(Failure) {
        nesting += 1
        if nesting > Parser.maximumDepth {
            throw fail("expression is nested more than \(Parser.maximumDepth) levels deep at this \(what.spelling); split it into several definitions", at: range)
        }
    }

    /// Refuses a node whose tree holds more than ``maximumDepth`` levels of nesting
    /// (postfix chains such as `x.T.T` grow the tree without recursing in the parser).
    mutating func checked(_ expr: Expr, _ what: Nesting) throws(Failure) -> Expr {
        guard expr.depth <= Parser.maximumDepth else {
            throw fail("expression is nested more than \(Parser.maximumDepth) levels deep at this \(what.spelling); split it into several definitions", at: expr.focus)
        }
        return expr
    }

    /// Whether the current token, on a later line than `previous`, starts a new definition
    /// (`name =`, `input name`, `param name`): the line before ended with a dangling operator.
    func startsDefinitionOnNewLine(after previous: Token) -> Bool {
        guard current.kind == .identifier else { return false }
        let looksLikeDefinition: Bool
        if next.kind == .equals {
            looksLikeDefinition = true
        } else if isWord(current, "input") || isWord(current, "param"), next.kind == .identifier {
            looksLikeDefinition = true
        } else {
            looksLikeDefinition = false
        }
        guard looksLikeDefinition else { return false }
        let between = previous.range.end..<max(previous.range.end, current.range.start)
        return between.contains { source.bytes[$0] == UInt8(ascii: "\n") }
    }

    /// Reads the right operand of a binary operator, refusing a definition on the next line
    /// that a trailing operator would otherwise swallow (`x = y +` then `z = 2`).
    mutating func operand(after operatorToken: Token, _ parse: (inout Parser) throws(Failure) -> Expr) throws(Failure) -> Expr {
        if startsDefinitionOnNewLine(after: operatorToken) {
            throw fail("expected an expression after \(operatorToken.kind.spelling)", at: operatorToken.range)
        }
        return try parse(&self)
    }

    /// A flat chain from its first operand and links, or the operand alone.
    func chain(_ first: Expr, _ links: [ChainLink]) -> Expr {
        guard let last = links.last else { return first }
        return Expr(.chain(first, links), range: first.range.union(last.operand.range), focus: last.focus)
    }

    /// expr := term (('+' | '-') term)*      (left-associative, kept flat)
    mutating func parseExpression() throws(Failure) -> Expr {
        let first = try parseTerm()
        var links: [ChainLink] = []
        while let op = current.kind.additiveOperator {
            let opToken = advance()
            let right = try operand(after: opToken) { (p) throws(Failure) in try p.parseTerm() }
            links.append(ChainLink(op: op, focus: opToken.range, operand: right))
        }
        return chain(first, links)
    }

    /// term := unary (('*' | '/' | '@' | '·') unary)*      (left-associative, kept flat)
    mutating func parseTerm() throws(Failure) -> Expr {
        let first = try parseUnary()
        var links: [ChainLink] = []
        while let op = current.kind.multiplicativeOperator {
            let opToken = advance()
            let right = try operand(after: opToken) { (p) throws(Failure) in try p.parseUnary() }
            links.append(ChainLink(op: op, focus: opToken.range, operand: right))
        }
        return chain(first, links)
    }

    /// unary := '-' unary | power
    mutating func parseUnary() throws(Failure) -> Expr {
        guard current.kind == .minus else { return try parsePower() }
        let opToken = advance()
        try enter(.negation, at: opToken.range)
        defer { nesting -= 1 }
        let operand = try parseUnary()
        return try checked(Expr(.negate(operand), range: opToken.range.union(operand.range), focus: opToken.range), .negation)
    }

    /// power := postfix ('^' unary)?     (right-associative: `2^3^2` is `2^(3^2)`)
    mutating func parsePower() throws(Failure) -> Expr {
        let base = try parsePostfix()
        guard current.kind == .caret else { return base }
        let opToken = advance()
        try enter(.power, at: opToken.range)
        defer { nesting -= 1 }
        let exponent = try operand(after: opToken) { (p) throws(Failure) in try p.parseUnary() }
        return try checked(Expr(.binary(.power, base, exponent), range: base.range.union(exponent.range), focus: opToken.range), .power)
    }

    /// postfix := primary ('[' indices ']' | '.' 'T')*
    ///
    /// Each index and `.T` is a level of nesting: `x.T.T` is `(x.T).T`, checked on the tree
    /// because the loop does not recurse.
    mutating func parsePostfix() throws(Failure) -> Expr {
        var expr = try parsePrimary()
        while true {
            if current.kind == .leftBracket {
                let open = advance()
                try enter(.index, at: open.range)
                defer { nesting -= 1 }
                let indices = try parseIndices(open: open.range)
                let close = try expect(.rightBracket, "expected ']' to close the index opened here")
                expr = try checked(Expr(.index(expr, indices), range: expr.range.union(close.range), focus: open.range), .index)
            } else if current.kind == .dot {
                let dot = advance()
                guard isWord(current, "T") else {
                    throw fail("expected 'T' after '.' (the only attribute is '.T', the transpose)", at: current.kind == .end ? dot.range : current.range)
                }
                let t = advance()
                expr = try checked(Expr(.transpose(expr), range: expr.range.union(t.range), focus: dot.range.union(t.range)), .transpose)
            } else {
                return expr
            }
        }
    }

    /// indices := index (',' index)*;  index := expr | expr? ':' expr? (':' expr?)?
    mutating func parseIndices(open: SourceRange) throws(Failure) -> [IndexArgument] {
        if current.kind == .rightBracket { throw fail("expected an index inside '[]'", at: current.range) }
        var result: [IndexArgument] = []
        repeat {
            if !result.isEmpty { _ = advance() }
            var parts: [Expr?] = []
            var part: Expr? = nil
            if current.kind != .colon && current.kind != .comma && current.kind != .rightBracket {
                part = try parseExpression()
            }
            parts.append(part)
            while current.kind == .colon && parts.count < 3 {
                _ = advance()
                var bound: Expr? = nil
                if current.kind != .colon && current.kind != .comma && current.kind != .rightBracket {
                    bound = try parseExpression()
                }
                parts.append(bound)
            }
            if parts.count == 1, let only = parts[0] {
                result.append(.at(only))
            } else if parts.count == 1 {
                throw fail("expected an index", at: current.range)
            } else {
                result.append(.slice(parts[0], parts[1], parts.count > 2 ? parts[2] : nil))
            }
        } while current.kind == .comma
        return result
    }

    /// primary := number | string | name | name '(' arguments ')' | '(' expr ')' | '[' (expr (',' expr)*)? ']'
    mutating func parsePrimary() throws(Failure) -> Expr {
        let token = current
        switch token.kind {
        case .number:
            guard let value = Lexer.number(source, token.range) else {
                throw fail("malformed number '\(source.text(token.range))'", at: token.range)
            }
            _ = advance()
            return Expr(.number(value), range: token.range)
        case .string:
            _ = advance()
            return Expr(.string(source.text(SourceRange(token.start + 1, token.end - 1))), range: token.range)
        case .identifier:
            _ = advance()
            let name = self.name(token)
            guard current.kind == .leftParen else { return Expr(.name(name), range: token.range) }
            return try parseCall(name: name, nameRange: token.range)
        case .leftParen:
            _ = advance()
            try enter(.parenthesis, at: token.range)
            defer { nesting -= 1 }
            var inner = try parseExpression()
            let source = self.source  // a local copy, so the message is only built on failure
            let close = try expect(.rightParen, "expected ')' to close the '(' at column \(source.location(of: token.range.start).column)")
            inner.range = token.range.union(close.range)
            // A chain in brackets is a level: `a + (b + (c + …))` nests.
            if case .chain = inner.kind {
                inner.depth += 1
                inner = try checked(inner, .parenthesis)
            }
            return inner
        case .leftBracket:
            _ = advance()
            try enter(.list, at: token.range)
            defer { nesting -= 1 }
            var items: [Expr] = []
            while current.kind != .rightBracket {
                if !items.isEmpty {
                    let source = self.source
                    _ = try expect(.comma, "expected ',' or ']' to close the '[' at \(source.location(of: token.range.start).lineAndColumn)")
                    if current.kind == .rightBracket { break }
                }
                items.append(try parseExpression())
            }
            let close = advance()
            return try checked(Expr(.list(items), range: token.range.union(close.range), focus: token.range), .list)
        case .end, .newline, .semicolon:
            if index > 0, tokens[index - 1].kind.continuesLine {
                let previous = tokens[index - 1]
                throw fail("expected an expression after \(previous.kind.spelling)", at: previous.range)
            }
            throw fail("expected an expression", at: token.range)
        case .rightParen, .rightBracket:
            throw fail("unexpected \(token.kind.spelling) with no matching opening bracket", at: token.range)
        default:
            throw fail("expected an expression, found \(spelling(token))", at: token.range)
        }
    }

    /// arguments := (expr (',' expr)*)? (',' name '=' expr)*   — keywords follow positional arguments
    mutating func parseCall(name: String, nameRange: SourceRange) throws(Failure) -> Expr {
        let open = advance()
        try enter(.call(name), at: open.range)
        defer { nesting -= 1 }
        var arguments: [Expr] = []
        var keywords: [KeywordArgument] = []
        while current.kind != .rightParen {
            if !(arguments.isEmpty && keywords.isEmpty) {
                let source = self.source
                _ = try expect(.comma, "expected ',' or ')' to close the arguments of '\(name)' opened at \(source.location(of: open.range.start).lineAndColumn)")
                if current.kind == .rightParen { break }
            }
            if current.kind == .identifier, next.kind == .equals {
                let keywordToken = advance()
                let keyword = self.name(keywordToken)
                _ = advance()
                if keywords.contains(where: { $0.name == keyword }) {
                    throw fail("keyword argument '\(keyword)' is given twice", at: keywordToken.range)
                }
                keywords.append(KeywordArgument(name: keyword, nameRange: keywordToken.range, value: try parseExpression()))
            } else {
                let argument = try parseExpression()
                if !keywords.isEmpty {
                    throw fail("positional argument after keyword arguments; put '\(source.text(argument.range))' before them", at: argument.range)
                }
                arguments.append(argument)
            }
        }
        let close = advance()
        return try checked(Expr(.call(name, arguments, keywords), range: nameRange.union(close.range), focus: nameRange), .call(name))
    }
}

extension TokenKind {
    var additiveOperator: BinaryOperator? {
        switch self {
        case .plus: .add
        case .minus: .subtract
        default: nil
        }
    }

    var multiplicativeOperator: BinaryOperator? {
        switch self {
        case .star: .multiply
        case .slash: .divide
        case .at: .matmul
        case .middleDot: .middleDot
        default: nil
        }
    }
}

extension Parser {
    /// A parser at the start of `source`, lexing it as it goes.
    fileprivate init(lexing source: Source) {
        self.init(source: source, tokens: TokenWindow(lexing: source), diagnostics: [])
    }
}

/// The parser's tokens, by index from the first: either all of them, given (an expression
/// read again in place), or a window over a whole source, lexed as the parser reaches it
/// and let go behind it, so that a script's tokens are never all held at once.
///
/// Three words: the lexer and what it reported live in a ``Feed`` object (copied before a
/// change when shared, so a copy of a parser reads on by itself), which keeps the frames
/// of the recursive descent small.
struct TokenWindow {
    /// The tokens from index `base` on.
    private var window: [Token]
    private var base = 0
    private var feed: Feed?

    /// The lexer, and its diagnostics so far with where each starts (in order: it moves forward).
    final class Feed {
        var lexer: Lexer
        var diagnostics: [Diagnostic] = []
        var errorStarts: [Int] = []

        init(_ lexer: Lexer) { self.lexer = lexer }

        func copy() -> Feed {
            let c = Feed(lexer)
            c.diagnostics = diagnostics
            c.errorStarts = errorStarts
            return c
        }
    }

    /// Tokens lexed per refill, and how many may lie behind the parser before they are let go.
    private static let batch = 1024

    init(all tokens: [Token]) {
        window = tokens
    }

    init(lexing source: Source) {
        window = []
        feed = Feed(Lexer(source: source))
        ensure(2)
    }

    var lexicalDiagnostics: [Diagnostic] { feed?.diagnostics ?? [] }
    var lexicalErrorStarts: [Int] { feed?.errorStarts ?? [] }

    /// The tokens known so far; the total once the end token is made.
    var count: Int { base + window.count }

    subscript(i: Int) -> Token { window[i - base] }

    /// Lexes on until the token at index `i` is known, or the text ends. The check is all
    /// that is inlined into the parser's recursive descent.
    @inline(__always)
    mutating func ensure(_ i: Int) {
        if i >= count, feed != nil { refill(i) }
    }

    @inline(never)
    private mutating func refill(_ i: Int) {
        // Asked before any other reference to the feed is taken here.
        if !isKnownUniquelyReferenced(&feed), let shared = feed { feed = shared.copy() }
        guard let feed, !feed.lexer.finished else { return }
        feed.lexer.tokens.removeAll(keepingCapacity: true)
        let wanted = i - count + 1 + TokenWindow.batch
        let bytes = feed.lexer.source.bytes
        bytes.withUnsafeBufferPointer { feed.lexer.run($0, upTo: wanted) }
        window.append(contentsOf: feed.lexer.tokens)
        for diagnostic in feed.lexer.diagnostics {
            feed.errorStarts.append(diagnostic.span?.range.start ?? 0)
            feed.diagnostics.append(diagnostic)
        }
        feed.lexer.diagnostics.removeAll(keepingCapacity: true)
    }

    /// Lets go of the tokens before index `i` once enough have gathered (given tokens are kept).
    @inline(__always)
    mutating func letGo(before i: Int) {
        if i - base >= TokenWindow.batch, feed != nil { dropFront(i) }
    }

    @inline(never)
    private mutating func dropFront(_ i: Int) {
        window.removeFirst(i - base)
        base = i
    }
}
