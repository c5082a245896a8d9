/// Parses `.graph` source into statements, reporting every syntax error in one pass.
///
/// After an error the parser skips to the end of the statement and goes on, so a
/// script with three typos yields three diagnostics.
///
/// The grammar is written once (``Grammar``), over what it makes of the text: syntax trees
/// (``SyntaxTree``), from which statements are run, or when a script is checked before it
/// runs, only the extents that errors are placed by (``Extents``), so checking allocates
/// nothing per statement.
public enum Parser {
    /// The most levels of nesting accepted (brackets, calls, index brackets, unary minus, `^`,
    /// `.T`); deeper expressions are refused rather than risking the stack. Chains of
    /// `+ - * / @` are flat and may be as long as memory allows.
    public static let maximumDepth = 500

    public static func parse(_ source: Source) -> (statements: [Statement], diagnostics: [Diagnostic]) {
        var grammar = Grammar(source: source, tokens: TokenWindow(lexing: source), build: SyntaxTree())
        var statements: [Statement] = []
        while let statement = grammar.nextStatement() { statements.append(statement) }
        return (statements, grammar.sortedDiagnostics)
    }

    /// Checks every statement of `source` without making any syntax tree, then gives the
    /// statements one at a time: a script of a million lines never holds a million trees,
    /// yet nothing runs when any line has a syntax error. The source is lexed once; each
    /// statement is read twice (checked, then parsed when it is run).
    public static func check(_ source: Source) -> (diagnostics: [Diagnostic], statements: StatementReader) {
        let tokens = TokenWindow(lexing: source)
        let reader = StatementReader(grammar: Grammar(source: source, tokens: tokens, build: SyntaxTree()))
        var checker = Grammar(source: source, tokens: tokens, build: Extents())
        var definitions = 0
        while let isDefinition = checker.nextStatement() {
            if isDefinition { definitions += 1 }
        }
        var result = reader
        result.definitions = definitions
        return (checker.sortedDiagnostics, result)
    }

    /// The statements of a source that parsed without errors, one at a time (``check(_:)``).
    public struct StatementReader {
        var grammar: Grammar<SyntaxTree>
        var source: Source { grammar.source }
        var tokens: TokenWindow { grammar.tokens }
        /// How many of the statements are definitions (to make room for their names at once).
        public internal(set) var definitions = 0

        /// The next statement, or nil after the last.
        public mutating func next() -> Statement? { grammar.nextStatement() }

        /// The next statement, its formula (if it has one) written into `store` as it is read,
        /// names interned in `graph`'s table (both lent to the grammar for the statement); `found`
        /// gets the ids of the names written in it, by where each is.
        mutating func next(recordingInto store: inout FormulaStore, names graph: inout Graph,
                           found: inout [(start: Int, nameID: Int32)]) -> Statement? {
            found.removeAll(keepingCapacity: true)
            swap(&grammar.build.recorder.names, &found)
            swap(&grammar.build.recorder.store, &store)
            swap(&grammar.build.recorder.graph, &graph)
            grammar.build.recording = true
            let statement = grammar.nextStatement()
            grammar.build.recording = false
            swap(&grammar.build.recorder.names, &found)
            swap(&grammar.build.recorder.store, &store)
            swap(&grammar.build.recorder.graph, &graph)
            return statement
        }
    }

    /// The expression at `range` of `source`, which parsed there before (a definition's
    /// formula), with its positions in `source`; nil if the text there is not one expression
    /// (it always is for a range the parser itself reported).
    public static func expression(in source: Source, range: SourceRange) -> Expr? {
        guard var grammar = grammar(in: source, range: range) else { return nil }
        let expr: Expr
        do { expr = try grammar.parseExpression() } catch { return nil }
        guard grammar.current.kind == .end, grammar.diagnostics.isEmpty else { return nil }
        return expr
    }

    /// The statement at `range` of `source`, which parsed there before, read again as a tree;
    /// nil if the text there is not one statement.
    public static func statement(in source: Source, range: SourceRange) -> Statement? {
        guard var grammar = grammar(in: source, range: range), let statement = grammar.nextStatement(),
              grammar.current.kind == .end, grammar.diagnostics.isEmpty else { return nil }
        return statement
    }

    /// A grammar over the text at `range` of `source` alone, its tokens placed in `source`;
    /// nil when the range is not in the source or the text has a lexical error.
    private static func grammar(in source: Source, range: SourceRange) -> Grammar<SyntaxTree>? {
        guard range.start >= 0, range.start <= range.end, range.end <= source.bytes.count else { return nil }
        var lexer = Lexer(source: source)
        source.bytes.withUnsafeBufferPointer { all in
            lexer.run(UnsafeBufferPointer(rebasing: all[range.start..<range.end]))
        }
        guard lexer.diagnostics.isEmpty else { return nil }
        let tokens = lexer.tokens.map { Token(kind: $0.kind, start: $0.start + range.start, end: $0.end + range.start) }
        return Grammar(source: source, tokens: TokenWindow(all: tokens), build: SyntaxTree())
    }
}

// MARK: What the grammar makes

/// What the grammar itself reads of a node it has made: where it is, where its errors
/// point, and how deeply it nests.
protocol SyntaxNode {
    var range: SourceRange { get set }
    var focus: SourceRange { get }
    /// Levels of nesting (see ``Expr/depth``).
    var depth: Int { get set }
    /// Whether it is a flat chain (`a + b - c`), which brackets make a level of nesting.
    var isChain: Bool { get }
}

/// What ``Grammar`` makes of the text it reads. Each production calls one of these, in the
/// order of the text (a node's operands before it); the collections (a list's items, a
/// call's arguments, a chain's links, an index's parts) are built by appending to an empty
/// one. A builder may keep state across calls.
protocol SyntaxBuilder {
    associatedtype Node: SyntaxNode
    associatedtype Nodes
    associatedtype Links
    associatedtype Indices
    associatedtype Keywords
    associatedtype Statement

    static var noNodes: Nodes { get }
    static var noIndices: Indices { get }
    static var noKeywords: Keywords { get }
    /// A chain's links, before any is appended; `first` is its first operand.
    mutating func links(startingWith first: Node) -> Links
    mutating func append(_ node: Node, to nodes: inout Nodes)
    mutating func append(_ link: BinaryOperator, at focus: SourceRange, _ operand: Node, to links: inout Links)
    mutating func append(index: Node, to indices: inout Indices)
    mutating func append(slice a: Node?, _ b: Node?, _ c: Node?, to indices: inout Indices)
    mutating func append(keyword name: String, at nameRange: SourceRange, _ value: Node, to keywords: inout Keywords)

    mutating func number(_ value: Double, range: SourceRange) -> Node
    /// `token` is the whole string literal, quotes included.
    mutating func string(_ token: Token, in source: Source) -> Node
    mutating func name(_ token: Token, in source: Source) -> Node
    mutating func negate(_ operand: Node, range: SourceRange, focus: SourceRange) -> Node
    mutating func power(_ base: Node, _ exponent: Node, range: SourceRange, focus: SourceRange) -> Node
    /// The first operand alone when there are no links.
    mutating func chain(_ first: Node, _ links: Links) -> Node
    mutating func list(_ items: Nodes, range: SourceRange, focus: SourceRange) -> Node
    /// Before a call's arguments are read.
    mutating func beginCall(_ name: Token, in source: Source)
    mutating func call(_ name: Token, _ arguments: Nodes, _ keywords: Keywords, range: SourceRange, in source: Source) -> Node
    mutating func index(_ base: Node, _ indices: Indices, range: SourceRange, focus: SourceRange) -> Node
    mutating func transpose(_ base: Node, range: SourceRange, focus: SourceRange) -> Node
    /// A node read in brackets: its range becomes theirs (the brackets included).
    mutating func parenthesized(_ node: inout Node, range: SourceRange)

    /// Before the value of a definition is read.
    mutating func beginDefinition(_ kind: DefinitionKind, name: Token, in source: Source)
    /// Before an expression statement is read.
    mutating func beginExpression()
    /// A statement with a syntax error was skipped: what was made of it is dropped.
    mutating func abandonStatement()
    mutating func definition(_ kind: DefinitionKind, name: Token, _ value: Node, range: SourceRange, in source: Source) -> Statement
    /// `name(parameters…) = value`.
    mutating func module(name: Token, parameters: [Token], _ value: Node, range: SourceRange, in source: Source) -> Statement
    mutating func expression(_ value: Node) -> Statement
    mutating func command(_ token: Token, in source: Source) -> Statement
}

extension SyntaxBuilder {
    mutating func beginCall(_ name: Token, in source: Source) {}
    mutating func beginDefinition(_ kind: DefinitionKind, name: Token, in source: Source) {}
    mutating func beginExpression() {}
    mutating func abandonStatement() {}
    /// A node read in brackets: its range becomes theirs.
    mutating func parenthesized(_ node: inout Node, range: SourceRange) { node.range = range }
}

extension Expr: SyntaxNode {
    var isChain: Bool {
        if case .chain = kind { true } else { false }
    }
}

/// Syntax trees (``Expr`` and ``Statement``), to run; while `recording`, each formula is
/// also written as it is read as the records a workspace keeps it in (``FormulaStore``).
struct SyntaxTree: SyntaxBuilder {
    /// Where formulas are written while `recording` (lent for a statement, so never copied).
    var recorder = FormulaRecorder()
    var recording = false

    static var noNodes: [Expr] { [] }
    static var noIndices: [IndexArgument] { [] }
    static var noKeywords: [KeywordArgument] { [] }
    func links(startingWith first: Expr) -> [ChainLink] { [] }
    func append(_ node: Expr, to nodes: inout [Expr]) { nodes.append(node) }
    mutating func append(_ link: BinaryOperator, at focus: SourceRange, _ operand: Expr, to links: inout [ChainLink]) {
        links.append(ChainLink(op: link, focus: focus, operand: operand))
        if recording { recorder.store.record(.link, flag: FormulaStore.code(link), range: focus, focus: focus) }
    }
    mutating func append(index: Expr, to indices: inout [IndexArgument]) {
        indices.append(.at(index))
        if recording { recorder.store.record(.at, range: index.range, focus: index.focus) }
    }
    mutating func append(slice a: Expr?, _ b: Expr?, _ c: Expr?, to indices: inout [IndexArgument]) {
        indices.append(.slice(a, b, c))
        guard recording else { return }
        var mask: UInt8 = 0
        for (bit, bound) in [a, b, c].enumerated() where bound != nil { mask |= 1 << UInt8(bit) }
        let range = (a ?? b ?? c)?.range ?? SourceRange(0, 0)
        if recording { recorder.store.record(.slice, flag: mask, range: range, focus: range) }
    }
    mutating func append(keyword name: String, at nameRange: SourceRange, _ value: Expr, to keywords: inout [KeywordArgument]) {
        keywords.append(KeywordArgument(name: name, nameRange: nameRange, value: value))
        if recording { recorder.store.record(.keyword, payload: recorder.intern(name), range: nameRange, focus: nameRange) }
    }

    /// Records `e` (made from operands recorded before it) when recording.
    private mutating func made(_ e: Expr, _ tag: FormulaStore.Tag, flag: UInt8 = 0, payload: Int32 = 0, count: Int = 0,
                               keywords: Int = 0) -> Expr {
        if recording { recorder.store.record(tag, flag: flag, payload: payload, count: count, keywords: keywords, range: e.range, focus: e.focus) }
        return e
    }

    mutating func number(_ value: Double, range: SourceRange) -> Expr {
        if recording { recorder.store.number(value, range: range) }
        return Expr(.number(value), range: range)
    }
    mutating func string(_ token: Token, in source: Source) -> Expr {
        let text = source.text(SourceRange(token.start + 1, token.end - 1))
        if recording { recorder.store.string(text, range: token.range) }
        return Expr(.string(text), range: token.range)
    }
    mutating func name(_ token: Token, in source: Source) -> Expr {
        let text = Lexer.text(source, token.range)
        if recording { recorder.name(text, range: token.range) }
        return Expr(.name(text), range: token.range)
    }
    mutating func negate(_ operand: Expr, range: SourceRange, focus: SourceRange) -> Expr {
        made(Expr(.negate(operand), range: range, focus: focus), .negate)
    }
    mutating func power(_ base: Expr, _ exponent: Expr, range: SourceRange, focus: SourceRange) -> Expr {
        made(Expr(.binary(.power, base, exponent), range: range, focus: focus), .binary, flag: FormulaStore.code(.power))
    }
    mutating func chain(_ first: Expr, _ links: [ChainLink]) -> Expr {
        guard let last = links.last else { return first }
        return made(Expr(.chain(first, links), range: first.range.union(last.operand.range), focus: last.focus), .chain,
                    count: links.count)
    }
    mutating func list(_ items: [Expr], range: SourceRange, focus: SourceRange) -> Expr {
        made(Expr(.list(items), range: range, focus: focus), .list, count: items.count)
    }
    mutating func call(_ name: Token, _ arguments: [Expr], _ keywords: [KeywordArgument], range: SourceRange, in source: Source) -> Expr {
        let text = Lexer.text(source, name.range)
        let id = recording ? recorder.intern(text) : 0
        return made(Expr(.call(text, arguments, keywords), range: range, focus: name.range), .call, payload: id,
                    count: arguments.count, keywords: keywords.count)
    }
    mutating func index(_ base: Expr, _ indices: [IndexArgument], range: SourceRange, focus: SourceRange) -> Expr {
        made(Expr(.index(base, indices), range: range, focus: focus), .index, count: indices.count)
    }
    mutating func transpose(_ base: Expr, range: SourceRange, focus: SourceRange) -> Expr {
        made(Expr(.transpose(base), range: range, focus: focus), .transpose)
    }
    mutating func parenthesized(_ node: inout Expr, range: SourceRange) {
        node.range = range
        if recording { recorder.store.widenLast(to: range) }
    }

    func definition(_ kind: DefinitionKind, name: Token, _ value: Expr, range: SourceRange, in source: Source) -> Statement {
        .definition(Definition(kind: kind, name: Lexer.text(source, name.range), nameRange: name.range, value: value, range: range))
    }
    func module(name: Token, parameters: [Token], _ value: Expr, range: SourceRange, in source: Source) -> Statement {
        .definition(Definition(kind: .module, name: Lexer.text(source, name.range), nameRange: name.range, value: value, range: range,
                               parameters: parameters.map { Definition.Parameter(name: Lexer.text(source, $0.range), range: $0.range) }))
    }
    func expression(_ value: Expr) -> Statement { .expression(value) }
    func command(_ token: Token, in source: Source) -> Statement {
        let (name, arguments, argumentsStart) = Lexer.command(source, token)
        return .command(CommandStatement(name: name, arguments: arguments, argumentsStart: argumentsStart, range: token.range))
    }
}

/// Only what the grammar's own errors need (extents and depths), to check a script: no
/// tree, no name or string made, nothing allocated. A statement is whether it defines a name.
struct Extents: SyntaxBuilder {
    struct Node: SyntaxNode {
        var range: SourceRange
        var focus: SourceRange
        var depth = 0
        var isChain = false
    }
    /// The deepest of the nodes gathered: all a collection needs to be.
    struct Deepest {
        var depth = 0
        mutating func add(_ node: Node?) { if let node { depth = Swift.max(depth, node.depth) } }
    }
    struct Links {
        var deepest = Deepest()
        var last: (focus: SourceRange, end: Int)?
    }

    static var noNodes: Deepest { Deepest() }
    static var noIndices: Deepest { Deepest() }
    static var noKeywords: Deepest { Deepest() }
    func links(startingWith first: Node) -> Links { Links() }
    func append(_ node: Node, to nodes: inout Deepest) { nodes.add(node) }
    func append(_ link: BinaryOperator, at focus: SourceRange, _ operand: Node, to links: inout Links) {
        links.deepest.add(operand)
        links.last = (focus, operand.range.end)
    }
    func append(index: Node, to indices: inout Deepest) { indices.add(index) }
    func append(slice a: Node?, _ b: Node?, _ c: Node?, to indices: inout Deepest) {
        indices.add(a)
        indices.add(b)
        indices.add(c)
    }
    func append(keyword name: String, at nameRange: SourceRange, _ value: Node, to keywords: inout Deepest) {
        keywords.add(value)
    }

    func number(_ value: Double, range: SourceRange) -> Node { Node(range: range, focus: range) }
    func string(_ token: Token, in source: Source) -> Node { Node(range: token.range, focus: token.range) }
    func name(_ token: Token, in source: Source) -> Node { Node(range: token.range, focus: token.range) }
    /// A node that is a level of nesting over children as deep as `deepest`.
    static func level(_ deepest: Int, range: SourceRange, focus: SourceRange) -> Node {
        Node(range: range, focus: focus, depth: deepest + 1)
    }
    func negate(_ operand: Node, range: SourceRange, focus: SourceRange) -> Node {
        Extents.level(operand.depth, range: range, focus: focus)
    }
    func power(_ base: Node, _ exponent: Node, range: SourceRange, focus: SourceRange) -> Node {
        Extents.level(Swift.max(base.depth, exponent.depth), range: range, focus: focus)
    }
    func chain(_ first: Node, _ links: Links) -> Node {
        guard let last = links.last else { return first }
        return Node(range: SourceRange(first.range.start, Swift.max(first.range.end, last.end)), focus: last.focus,
                    depth: Swift.max(first.depth, links.deepest.depth), isChain: true)
    }
    func list(_ items: Deepest, range: SourceRange, focus: SourceRange) -> Node {
        Extents.level(items.depth, range: range, focus: focus)
    }
    func call(_ name: Token, _ arguments: Deepest, _ keywords: Deepest, range: SourceRange, in source: Source) -> Node {
        Extents.level(Swift.max(arguments.depth, keywords.depth), range: range, focus: name.range)
    }
    func index(_ base: Node, _ indices: Deepest, range: SourceRange, focus: SourceRange) -> Node {
        Extents.level(Swift.max(base.depth, indices.depth), range: range, focus: focus)
    }
    func transpose(_ base: Node, range: SourceRange, focus: SourceRange) -> Node {
        Extents.level(base.depth, range: range, focus: focus)
    }

    func definition(_ kind: DefinitionKind, name: Token, _ value: Node, range: SourceRange, in source: Source) -> Bool { true }
    func module(name: Token, parameters: [Token], _ value: Node, range: SourceRange, in source: Source) -> Bool { true }
    func expression(_ value: Node) -> Bool { false }
    func command(_ token: Token, in source: Source) -> Bool { false }
}

// MARK: The grammar

/// The recursive descent over the language's grammar, making what `Build` makes.
struct Grammar<Build: SyntaxBuilder> {
    typealias Node = Build.Node

    let source: Source
    var tokens: TokenWindow
    /// What the grammar makes of what it reads.
    var build: Build
    var index = 0
    /// The parser's own diagnostics (the lexer's are in `tokens`).
    var diagnostics: [Diagnostic] = []
    /// Levels of nesting currently open (see ``enter(_:at:)``), and how many of them are brackets.
    var nesting = 0
    var brackets = 0
    /// Where the last token taken that is not a line end ends (-1 before the first).
    var lastSignificantEnd = -1

    init(source: Source, tokens: TokenWindow, build: Build) {
        self.source = source
        self.tokens = tokens
        self.build = build
    }

    /// The diagnostics in source order (the lexer's and the parser's interleaved; the lexer's
    /// first at one place).
    var sortedDiagnostics: [Diagnostic] {
        (tokens.lexicalDiagnostics + diagnostics).enumerated().sorted {
            ($0.element.span?.range.start ?? 0, $0.offset) < ($1.element.span?.range.start ?? 0, $1.offset)
        }.map(\.element)
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
        if token.kind != .newline { lastSignificantEnd = token.end }
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
        guard lastSignificantEnd >= 0 else { return current.range }
        return SourceRange(lastSignificantEnd, lastSignificantEnd)
    }

    // MARK: Statements

    // program := (statement? (newline | ';'))* end

    /// The next statement that parses, or nil at the end of the text; a statement with an
    /// error is reported in `diagnostics` and skipped.
    mutating func nextStatement() -> Build.Statement? {
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
                build.abandonStatement()
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
    mutating func parseStatement() throws(Failure) -> Build.Statement {
        let start = current.range.start
        if current.kind == .command {
            let token = advance()
            return build.command(token, in: source)
        }
        var kind = DefinitionKind.formula
        if isWord(current, "input") || isWord(current, "param"), next.kind == .identifier {
            kind = isWord(current, "input") ? .input : .param
            let word = advance()
            guard tokens[index + 1].kind == .equals else {
                throw fail("expected '=' after '\(source.text(word.range)) \(source.text(current.range))'", at: tokens[index + 1].range)
            }
        }
        if kind == .formula, current.kind == .identifier, next.kind == .leftParen, let parameters = moduleHead() {
            return try parseModule(parameters: parameters, start: start)
        }
        if current.kind == .identifier, next.kind == .equals {
            let nameToken = advance()
            let equals = advance()
            if current.kind == .newline || current.kind == .semicolon || current.kind == .end
                || startsDefinitionOnNewLine(after: equals) {
                throw fail("expected an expression after '='", at: equals.range)
            }
            build.beginDefinition(kind, name: nameToken, in: source)
            let value = try parseExpression()
            return build.definition(kind, name: nameToken, value, range: SourceRange(start, value.range.end), in: source)
        }
        build.beginExpression()
        let value = try parseExpression()
        return build.expression(value)
    }

    /// When the statement at `current` is `name(a, b, …) =` (a module's head): its parameters'
    /// tokens, looked at without moving; nil for anything else (a call).
    mutating func moduleHead() -> [Token]? {
        var i = index + 2, parameters: [Token] = []
        func token(_ k: Int) -> TokenKind {
            tokens.ensure(k)
            return k < tokens.count ? tokens[k].kind : .end
        }
        if token(i) == .rightParen { return token(i + 1) == .equals ? [] : nil }
        while token(i) == .identifier {
            parameters.append(tokens[i])
            switch token(i + 1) {
            case .comma: i += 2
            case .rightParen: return token(i + 2) == .equals ? parameters : nil
            default: return nil
            }
        }
        return nil
    }

    /// module := name '(' name (',' name)* ')' '=' expr
    mutating func parseModule(parameters: [Token], start: Int) throws(Failure) -> Build.Statement {
        let nameToken = advance()
        _ = advance()  // '('
        guard !parameters.isEmpty else {
            throw fail("a module needs at least one parameter, as in \(name(nameToken))(x) = …", at: current.range)
        }
        for (k, parameter) in parameters.enumerated() {
            let text = name(parameter)
            if parameters[..<k].contains(where: { name($0) == text }) {
                throw fail("parameter '\(text)' is named twice", at: parameter.range)
            }
            if text == name(nameToken) {
                throw fail("a parameter cannot have the module's own name '\(text)'", at: parameter.range)
            }
        }
        while current.kind != .equals { _ = advance() }
        let equals = advance()
        if current.kind == .newline || current.kind == .semicolon || current.kind == .end
            || startsDefinitionOnNewLine(after: equals) {
            throw fail("expected the module's formula after '='", at: equals.range)
        }
        build.beginDefinition(.module, name: nameToken, in: source)
        let value = try parseExpression()
        return build.module(name: nameToken, parameters: parameters, value, range: SourceRange(start, value.range.end), in: source)
    }

    // MARK: Expressions

    /// What opens one level of nesting, for the message when there are too many.
    enum Nesting {
        /// A call, by the range of the function's name.
        case parenthesis, list, call(SourceRange), index, negation, power, transpose

        func spelling(in source: Source) -> String {
            switch self {
            case .parenthesis: "'('"
            case .list: "'['"
            case .call(let name): "call of '\(Lexer.text(source, name))'"
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
            throw fail("expression is nested more than \(Parser.maximumDepth) levels deep at this \(what.spelling(in: source)); split it into several definitions", at: range)
        }
    }

    /// Refuses a node whose tree holds more than ``maximumDepth`` levels of nesting
    /// (postfix chains such as `x.T.T` grow the tree without recursing in the parser).
    mutating func checked(_ expr: Node, _ what: Nesting) throws(Failure) -> Node {
        guard expr.depth <= Parser.maximumDepth else {
            throw fail("expression is nested more than \(Parser.maximumDepth) levels deep at this \(what.spelling(in: source)); split it into several definitions", at: expr.focus)
        }
        return expr
    }

    /// Whether the current token, on a later line than `previous`, starts a new definition
    /// (`name =`, `input name`, `param name`): the line before ended with a dangling operator.
    @inline(__always)
    func startsDefinitionOnNewLine(after previous: Token) -> Bool {
        // `name =` or `input name`/`param name`: a name followed by '=' or by another name.
        guard current.kind == .identifier else { return false }
        let following = next.kind
        return (following == .equals || following == .identifier) && startsDefinitionOnNewLine(previous)
    }

    private func startsDefinitionOnNewLine(_ previous: Token) -> Bool {
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
    mutating func operand(after operatorToken: Token, _ parse: (inout Grammar) throws(Failure) -> Node) throws(Failure) -> Node {
        if startsDefinitionOnNewLine(after: operatorToken) {
            throw fail("expected an expression after \(operatorToken.kind.spelling)", at: operatorToken.range)
        }
        return try parse(&self)
    }

    /// expr := term (('+' | '-') term)*      (left-associative, kept flat)
    mutating func parseExpression() throws(Failure) -> Node {
        let first = try parseTerm()
        guard current.kind.additiveOperator != nil else { return first }
        var links = build.links(startingWith: first)
        while let op = current.kind.additiveOperator {
            let opToken = advance()
            let right = try operand(after: opToken) { (p) throws(Failure) in try p.parseTerm() }
            build.append(op, at: opToken.range, right, to: &links)
        }
        return build.chain(first, links)
    }

    /// term := unary (('*' | '/' | '@' | '·') unary)*      (left-associative, kept flat)
    mutating func parseTerm() throws(Failure) -> Node {
        let first = try parseUnary()
        guard current.kind.multiplicativeOperator != nil else { return first }
        var links = build.links(startingWith: first)
        while let op = current.kind.multiplicativeOperator {
            let opToken = advance()
            let right = try operand(after: opToken) { (p) throws(Failure) in try p.parseUnary() }
            build.append(op, at: opToken.range, right, to: &links)
        }
        return build.chain(first, links)
    }

    /// unary := '-' unary | power
    mutating func parseUnary() throws(Failure) -> Node {
        switch current.kind {
        case .minus: break
        case .identifier, .number:
            // A name or number with no call, index, `.T` or `^` after it (most operands) is
            // read straight away, not through every level of the descent.
            switch next.kind {
            case .leftParen, .leftBracket, .dot, .caret: return try parsePower()
            default: return try parsePrimary()
            }
        default: return try parsePower()
        }
        let opToken = advance()
        try enter(.negation, at: opToken.range)
        defer { nesting -= 1 }
        let operand = try parseUnary()
        return try checked(build.negate(operand, range: opToken.range.union(operand.range), focus: opToken.range), .negation)
    }

    /// power := postfix ('^' unary)?     (right-associative: `2^3^2` is `2^(3^2)`)
    mutating func parsePower() throws(Failure) -> Node {
        let base = try parsePostfix()
        guard current.kind == .caret else { return base }
        let opToken = advance()
        try enter(.power, at: opToken.range)
        defer { nesting -= 1 }
        let exponent = try operand(after: opToken) { (p) throws(Failure) in try p.parseUnary() }
        return try checked(build.power(base, exponent, range: base.range.union(exponent.range), focus: opToken.range), .power)
    }

    /// postfix := primary ('[' indices ']' | '.' 'T')*
    ///
    /// Each index and `.T` is a level of nesting: `x.T.T` is `(x.T).T`, checked on the tree
    /// because the loop does not recurse.
    mutating func parsePostfix() throws(Failure) -> Node {
        var expr = try parsePrimary()
        while true {
            if current.kind == .leftBracket {
                let open = advance()
                try enter(.index, at: open.range)
                brackets += 1
                defer { nesting -= 1; brackets -= 1 }
                let indices = try parseIndices(open: open.range)
                let close = try expect(.rightBracket, "expected ']' to close the index opened here")
                expr = try checked(build.index(expr, indices, range: expr.range.union(close.range), focus: open.range), .index)
            } else if current.kind == .dot {
                let dot = advance()
                guard isWord(current, "T") else {
                    throw fail("expected 'T' after '.' (the only attribute is '.T', the transpose)", at: current.kind == .end ? dot.range : current.range)
                }
                let t = advance()
                expr = try checked(build.transpose(expr, range: expr.range.union(t.range), focus: dot.range.union(t.range)), .transpose)
            } else {
                return expr
            }
        }
    }

    /// indices := index (',' index)*;  index := expr | expr? ':' expr? (':' expr?)?
    mutating func parseIndices(open: SourceRange) throws(Failure) -> Build.Indices {
        if current.kind == .rightBracket { throw fail("expected an index inside '[]'", at: current.range) }
        var result = Build.noIndices
        var first = true
        repeat {
            if !first { _ = advance() }
            first = false
            // Up to three parts, split by ':' (a bound, or nil where none is written).
            var parts: (Node?, Node?, Node?) = (nil, nil, nil)
            var count = 1
            if current.kind != .colon && current.kind != .comma && current.kind != .rightBracket {
                parts.0 = try parseExpression()
            }
            while current.kind == .colon && count < 3 {
                _ = advance()
                var bound: Node? = nil
                if current.kind != .colon && current.kind != .comma && current.kind != .rightBracket {
                    bound = try parseExpression()
                }
                if count == 1 { parts.1 = bound } else { parts.2 = bound }
                count += 1
            }
            if count == 1, let only = parts.0 {
                build.append(index: only, to: &result)
            } else if count == 1 {
                throw fail("expected an index", at: current.range)
            } else {
                build.append(slice: parts.0, parts.1, parts.2, to: &result)
            }
        } while current.kind == .comma
        return result
    }

    /// primary := number | string | name | name '(' arguments ')' | '(' expr ')' | '[' (expr (',' expr)*)? ']'
    mutating func parsePrimary() throws(Failure) -> Node {
        let token = current
        switch token.kind {
        case .number:
            guard let value = Lexer.number(source, token.range) else {
                throw fail("malformed number '\(source.text(token.range))'", at: token.range)
            }
            _ = advance()
            return build.number(value, range: token.range)
        case .string:
            _ = advance()
            return build.string(token, in: source)
        case .identifier:
            _ = advance()
            guard current.kind == .leftParen else { return build.name(token, in: source) }
            return try parseCall(name: token)
        case .leftParen:
            _ = advance()
            try enter(.parenthesis, at: token.range)
            brackets += 1
            defer { nesting -= 1; brackets -= 1 }
            var inner = try parseExpression()
            let source = self.source  // a local copy, so the message is only built on failure
            let close = try expect(.rightParen, "expected ')' to close the '(' at \(source.location(of: token.range.start).lineAndColumn)")
            build.parenthesized(&inner, range: token.range.union(close.range))
            // A chain in brackets is a level: `a + (b + (c + …))` nests.
            if inner.isChain {
                inner.depth += 1
                inner = try checked(inner, .parenthesis)
            }
            return inner
        case .leftBracket:
            _ = advance()
            try enter(.list, at: token.range)
            brackets += 1
            defer { nesting -= 1; brackets -= 1 }
            var items = Build.noNodes
            var count = 0
            while current.kind != .rightBracket {
                if count > 0 {
                    let source = self.source
                    _ = try expect(.comma, "expected ',' or ']' to close the '[' at \(source.location(of: token.range.start).lineAndColumn)")
                    if current.kind == .rightBracket { break }
                }
                let item = try parseExpression()
                build.append(item, to: &items)
                count += 1
            }
            let close = advance()
            return try checked(build.list(items, range: token.range.union(close.range), focus: token.range), .list)
        case .rightParen where brackets == 0, .rightBracket where brackets == 0:
            throw fail("unexpected \(token.kind.spelling) with no matching opening bracket", at: token.range)
        case .end, .newline, .semicolon, .rightParen, .rightBracket:
            // Cut short: after an operator (`(1 + )`), at a closing bracket, or at the end.
            if index > 0, tokens[index - 1].kind.continuesLine {
                let previous = tokens[index - 1]
                throw fail("expected an expression after \(previous.kind.spelling)", at: previous.range)
            }
            if token.kind == .rightParen || token.kind == .rightBracket {
                throw fail("expected an expression, found \(token.kind.spelling)", at: token.range)
            }
            // At the end of the text: just after its last token (a file's final line end is not a line).
            throw fail("expected an expression", at: token.kind == .end ? endOfLastToken : token.range)
        default:
            throw fail("expected an expression, found \(spelling(token))", at: token.range)
        }
    }

    /// arguments := (expr (',' expr)*)? (',' name '=' expr)*   — keywords follow positional arguments
    mutating func parseCall(name: Token) throws(Failure) -> Node {
        build.beginCall(name, in: source)
        let open = advance()
        try enter(.call(name.range), at: open.range)
        brackets += 1
        defer { nesting -= 1; brackets -= 1 }
        var arguments = Build.noNodes, keywords = Build.noKeywords
        var positional = 0
        var keywordNames: [String] = []
        while current.kind != .rightParen {
            if positional > 0 || !keywordNames.isEmpty {
                let source = self.source
                _ = try expect(.comma, "expected ',' or ')' to close the arguments of '\(Lexer.text(source, name.range))' opened at \(source.location(of: open.range.start).lineAndColumn)")
                if current.kind == .rightParen { break }
            }
            if current.kind == .identifier, next.kind == .equals {
                let keywordToken = advance()
                let keyword = self.name(keywordToken)
                _ = advance()
                if keywordNames.contains(keyword) {
                    throw fail("keyword argument '\(keyword)' is given twice", at: keywordToken.range)
                }
                keywordNames.append(keyword)
                let value = try parseExpression()
                build.append(keyword: keyword, at: keywordToken.range, value, to: &keywords)
            } else {
                let argument = try parseExpression()
                if !keywordNames.isEmpty {
                    throw fail("positional argument after keyword arguments; put '\(source.text(argument.range))' before them", at: argument.range)
                }
                build.append(argument, to: &arguments)
                positional += 1
            }
        }
        let close = advance()
        return try checked(build.call(name, arguments, keywords, range: name.range.union(close.range), in: source), .call(name.range))
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
        // The lexer appends straight to the window (lent to it for the run).
        let wanted = i - count + 1 + TokenWindow.batch
        let bytes = feed.lexer.source.bytes
        swap(&feed.lexer.tokens, &window)
        bytes.withUnsafeBufferPointer { feed.lexer.run($0, count: wanted) }
        swap(&feed.lexer.tokens, &window)
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
