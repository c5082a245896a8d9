import ChainruleCore
import Foundation
import XCTest

/// The grammar of SPEC §1: precedence, associativity, line structure, lexical forms,
/// and where errors point.
final class ParserTests: XCTestCase {
    /// A fully parenthesised rendering of a tree, independent of the library's printer.
    func tree(_ e: Expr) -> String {
        switch e.kind {
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
        case .string(let s): return "\"\(s)\""
        case .name(let n): return n
        case .list(let items): return "[" + items.map(tree).joined(separator: " ") + "]"
        case .negate(let operand): return "(neg \(tree(operand)))"
        case .binary(let op, let a, let b): return "(\(op.rawValue) \(tree(a)) \(tree(b)))"
        case .chain(let first, let links):
            // Rendered as the left-nested tree it means.
            return links.reduce(tree(first)) { "(\($1.op.rawValue) \($0) \(tree($1.operand)))" }
        case .transpose(let operand): return "(T \(tree(operand)))"
        case .call(let name, let arguments, let keywords):
            return "(" + ([name] + arguments.map(tree) + keywords.map { "\($0.name)=\(tree($0.value))" }).joined(separator: " ") + ")"
        case .index(let base, let indices):
            let parts = indices.map { index -> String in
                switch index {
                case .at(let i): return tree(i)
                case .slice(let a, let b, let c):
                    return (a.map(tree) ?? "") + ":" + (b.map(tree) ?? "") + (c.map { ":" + tree($0) } ?? "")
                }
            }
            return "(index " + ([tree(base)] + parts).joined(separator: " ") + ")"
        }
    }

    /// Each statement of `text` rendered as a tree; fails on any diagnostic.
    func parsed(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let (statements, diagnostics) = Parser.parse(Source(name: "test.graph", text: text))
        XCTAssertEqual(diagnostics.map(\.message), [], "parsing \(text)", file: file, line: line)
        return statements.map { statement in
            switch statement {
            case .definition(let d): "\(d.kind == .formula ? "" : d.kind.rawValue + " ")\(d.name) = \(tree(d.value))"
            case .expression(let e): tree(e)
            case .command(let c): ":\(c.name) \(c.arguments)"
            }
        }
    }

    func testPrecedenceAndAssociativity() throws {
        let cases: [(String, String)] = [
            ("-x^2", "(neg (^ x 2))"), ("2^3^2", "(^ 2 (^ 3 2))"), ("a - b - c", "(- (- a b) c)"),
            ("a / b / c", "(/ (/ a b) c)"), ("a @ b * c", "(* (@ a b) c)"), ("a * b @ c", "(@ (* a b) c)"),
            ("a + b * c", "(+ a (* b c))"), ("a - b @ c", "(- a (@ b c))"), ("-a * b", "(* (neg a) b)"),
            ("2^-1", "(^ 2 (neg 1))"), ("a^b.T", "(^ a (T b))"), ("x.T[0]", "(index (T x) 0)"),
            ("(a + b) * c", "(* (+ a b) c)"), ("--a", "(neg (neg a))"), ("f(x)[1].T", "(T (index (f x) 1))"),
            ("[a, b * c][0]", "(index [a (* b c)] 0)"),
        ]
        for (text, expected) in cases { XCTAssertEqual(parsed(text), [expected], text) }
        var script = try Script("x = 3")
        assertClose(try script.evaluate("2^3^2"), [512])
        assertClose(try script.evaluate("-x^2"), [-9])
        assertClose(try script.evaluate("(-x)^2"), [9])
        assertClose(try script.evaluate("10 - 4 - 3"), [3])
        assertClose(try script.evaluate("2^-1"), [0.5])
        assertClose(try script.evaluate("[1, 2] @ [[1, 2], [3, 4]] * 2"), [14, 20])
    }

    func testLineStructure() {
        // Continuation inside brackets and after a binary operator, '=' or ','.
        XCTAssertEqual(parsed("f = (1 +\n  2)\ng = [1,\n 2,\n 3]\nh = max(\n  g\n)"),
                       ["f = (+ 1 2)", "g = [1 2 3]", "h = (max g)"])
        XCTAssertEqual(parsed("f = 1 +\n  2 *\n  3\nk =\n  5"), ["f = (+ 1 (* 2 3))", "k = 5"])
        XCTAssertEqual(parsed("f = a @\n b"), ["f = (@ a b)"])
        XCTAssertTrue(Lexer.needsContinuation("f = (1 +"))
        XCTAssertTrue(Lexer.needsContinuation("f = x ^"))
        XCTAssertTrue(Lexer.needsContinuation("g = [1, 2,"))
        XCTAssertFalse(Lexer.needsContinuation("f = 1 + 2"))
        for beginning in ["x = (", "y = f(x,", "z = sum(x, axis=", "w = [[1, 2],", "v = x[1:", "u = -", "a = 1; b =",
                          "c = (1 +\n2", "param p =", "e = einsum(\"ij,j->i\","] {
            XCTAssertTrue(Lexer.needsContinuation(beginning), beginning)
        }
        // A line that already has an error is run at once (to report it), so the next line is
        // not taken into it: a bad character, an unclosed string, a bracket closed by nothing.
        for broken in ["a = $", "c = \"abc", "a = 1 @ $", "+", "x * + *", "y = ) sum(", "(1 + ) *", "x = [1 2,", ":load f("] {
            XCTAssertFalse(Lexer.needsContinuation(broken), broken)
        }
        // A bracket closed too early names what is missing; one with nothing to close says so.
        func firstError(_ text: String) -> String {
            let source = Source(name: "t", text: text)
            guard let d = Parser.parse(source).diagnostics.first else { return "none" }
            return "\(d.span.map { source.location(of: $0.range.start).lineAndColumn } ?? ""): \(d.message)"
        }
        XCTAssertEqual(firstError("b = (1 + )"), "1:8: expected an expression after '+'")
        XCTAssertEqual(firstError("b = sum(x, axis=)"), "1:16: expected an expression after '='")
        XCTAssertEqual(firstError("b = f(x, )"), "none")
        XCTAssertEqual(firstError("b = (\n)"), "2:1: expected an expression, found ')'")
        XCTAssertEqual(firstError("b = 1 + )"), "1:9: unexpected ')' with no matching opening bracket")
        // Cut short by the end of a file: just after the last token, wherever the final line end is.
        XCTAssertEqual(firstError("b = (\n"), "1:6: expected an expression")
        XCTAssertEqual(firstError("b = ("), "1:6: expected an expression")
        // In a script, a bad character ends its statement at the line end like any token.
        XCTAssertEqual(Parser.parse(Source(name: "t", text: "a = $\nb = )\nc = 1 +  $\nd = )\n")).diagnostics.map { "\($0.span.map { $0.source.location(of: $0.range.start).lineAndColumn } ?? ""): \($0.message)" },
                       ["1:5: unexpected character '$'", "2:5: unexpected ')' with no matching opening bracket",
                        "3:10: unexpected character '$'", "4:5: unexpected ')' with no matching opening bracket"])
        // Separators, blank statements and comments.
        XCTAssertEqual(parsed("a = 1; b = 2;; a + b;\n\n"), ["a = 1", "b = 2", "(+ a b)"])
        XCTAssertEqual(parsed("# a comment\nx = 1 # trailing\n  # indented\n#y = 2\nz = x + # before the end\n 4"),
                       ["x = 1", "z = (+ x 4)"])
        XCTAssertEqual(parsed("input x = [1, 2]\nparam W = randn(2, 2, seed=3)\n:grad f"),
                       ["input x = [1 2]", "param W = (randn 2 2 seed=3)", ":grad f"])
    }

    func testUnicodeIdentifiers() throws {
        XCTAssertEqual(parsed("θ = 1\nh₁ = θ * 2\nW₂ = h₁ + ω_0 + φ\n_x9 = 1"),
                       ["θ = 1", "h₁ = (* θ 2)", "W₂ = (+ (+ h₁ ω_0) φ)", "_x9 = 1"])
        var script = try Script("θ = 0.5\nh₁ = θ * 2\nW₂ = h₁ + θ")
        assertClose(try script.value("W₂"), [1.5])
        assertClose(try script.gradient(of: "W₂", wrt: "θ"), [3])
    }

    func testNumbers() throws {
        let expected: [(String, Double)] = [
            ("3", 3), ("2.5", 2.5), (".5", 0.5), ("1e-3", 0.001), ("6.02E23", 6.02e23), ("1e+2", 100), ("0.125", 0.125),
        ]
        for (text, value) in expected {
            let (statements, diagnostics) = Parser.parse(Source(name: "n", text: text))
            XCTAssertEqual(diagnostics.count, 0, text)
            guard case .expression(let e) = statements.first, case .number(let x) = e.kind else {
                XCTFail("\(text) is not a number literal")
                continue
            }
            XCTAssertEqual(x, value, text)
        }
        XCTAssertEqual(parsed("x = 2*.5"), ["x = (* 2 0.5)"])
    }

    func testKeywordArguments() {
        XCTAssertEqual(parsed("leaky_relu(x, a=0.2)"), ["(leaky_relu x a=0.2)"])
        XCTAssertEqual(parsed("sum(A, axis=-1)"), ["(sum A axis=(neg 1))"])
        XCTAssertEqual(parsed("einsum(\"ij,j->i\", A, x)"), ["(einsum \"ij,j->i\" A x)"])
        let (_, positional) = Parser.parse(Source(name: "k", text: "elu(a=1, x)"))
        XCTAssert(positional.first?.message.contains("positional argument after keyword") == true)
        let (_, twice) = Parser.parse(Source(name: "k", text: "elu(x, a=1, a=2)"))
        XCTAssert(twice.first?.message.contains("given twice") == true)
    }

    func testSlices() {
        XCTAssertEqual(parsed("A[:, 0]"), ["(index A : 0)"])
        XCTAssertEqual(parsed("x[1:3]"), ["(index x 1:3)"])
        XCTAssertEqual(parsed("x[::-1]"), ["(index x ::(neg 1))"])
        XCTAssertEqual(parsed("A[1:, :2]"), ["(index A 1: :2)"])
        XCTAssertEqual(parsed("y = x[0:4:2]"), ["y = (index x 0:4:2)"])
    }

    /// One pass reports every bad statement, each at the offending token, and keeps the good ones.
    func testSeveralErrorsFromOnePass() {
        let (text, offsets) = marked("""
            a = 1 + ⏶)
            ok1 = 1
            b = ⏶* 2
            c = 2 ⏶3
            d = 3 ⏶$ 4
            ok2 = [1, 2]
            e = foo(1 ⏶2)
            input x ⏶5
            h = x.⏶y
            k = 1 ⏶+
            """)
        let source = Source(name: "errors.graph", text: text)
        let (statements, diagnostics) = Parser.parse(source)
        let names = statements.compactMap { statement -> String? in
            if case .definition(let d) = statement { return d.name }
            return nil
        }
        XCTAssert(names.contains("ok1") && names.contains("ok2"), "the good statements survive: \(names)")
        XCTAssertEqual(diagnostics.map { $0.span?.range.start }, offsets, diagnostics.map(\.message).joined(separator: "\n"))
        // Line and column, counted here from the marked text.
        let scalars = Array(text.unicodeScalars)
        for (diagnostic, offset) in zip(diagnostics, offsets) {
            let before = scalars[..<offset]
            let line = before.filter { $0 == "\n" }.count + 1
            let column = offset - (before.lastIndex(of: "\n").map { $0 + 1 } ?? 0) + 1
            XCTAssertEqual(diagnostic.span?.location.description, "errors.graph:\(line):\(column)", diagnostic.message)
        }
        let messages = diagnostics.map(\.message)
        XCTAssertEqual(messages.count, 8)
        guard messages.count == 8 else { return }
        XCTAssert(messages[0].contains("')'"), messages[0])
        XCTAssert(messages[1].contains("'*'"), messages[1])
        XCTAssert(messages[2].contains("'3'"), messages[2])
        XCTAssert(messages[3].contains("'$'"), messages[3])
        XCTAssert(messages[5].contains("'='"), messages[5])
        XCTAssert(messages[6].contains("'T'"), messages[6])
        XCTAssert(messages[7].contains("'+'"), messages[7])
    }

    /// A formula is read again where it was written: the same tree, positions in the source;
    /// a range that holds no single expression gives nil, never a partial tree.
    func testAnExpressionIsReadAgainInPlace() throws {
        let source = Source(name: "f", text: "y = relu(W @ x +\n  b) # layer\nz = 1")
        guard case .definition(let d) = Parser.parse(source).statements.first else { return XCTFail("no definition") }
        let again = try XCTUnwrap(Parser.expression(in: source, range: d.value.range))
        XCTAssertEqual(again, d.value)
        XCTAssertNil(Parser.expression(in: source, range: SourceRange(0, 5)), "'y = r' is not an expression")
        XCTAssertNil(Parser.expression(in: source, range: SourceRange(4, 500)))
        XCTAssertNil(Parser.expression(in: source, range: SourceRange(6, 4)))
    }

    /// A long script is lexed as the parser reaches it, a window of tokens at a time: the
    /// statements read back after the check are those of a whole parse, and errors far into
    /// the text (a bad character, a missing bracket, an operator ending the last line) are
    /// found with their exact places, each once, in order.
    func testALongScriptReadsTheSameThroughTheTokenWindow() {
        var lines: [String] = ["w = 0.9", "h0 = 0.5"]
        for i in 1...3000 {
            lines.append("h\(i) = tanh(w*h\(i - 1) + 0.01)  # link \(i)")
            if i % 700 == 0 { lines.append("") ; lines.append("s\(i) = [h\(i),\n  h\(i - 1)]") }
        }
        let text = lines.joined(separator: "\n") + "\n"
        let source = Source(name: "long.graph", text: text)
        var (diagnostics, reader) = Parser.check(source)
        XCTAssertEqual(diagnostics.map(\.message), [])
        var read: [Statement] = []
        while let statement = reader.next() { read.append(statement) }
        XCTAssertEqual(read, Parser.parse(source).statements)
        XCTAssertEqual(read.count, 2 + 3000 + 4)
        XCTAssertEqual(reader.definitions, read.count)

        var broken = lines
        broken[1500] = "h1499 = tanh(w*h1498 $ 0.01)"
        broken[2000] = "z = h1999 +"
        broken[2500] = "h2499 = tanh(w*h2498 + 0.01"
        let badText = broken.joined(separator: "\n")
        let bad = Source(name: "bad.graph", text: badText)
        let found = Parser.check(bad).diagnostics
        /// Line and column of `needle`'s first byte in the text, moved on by `offset` bytes.
        func place(of needle: String, plus offset: Int) -> String {
            guard let range = badText.range(of: needle) else { return "not found" }
            return bad.location(of: badText.utf8.distance(from: badText.startIndex, to: range.lowerBound) + offset).lineAndColumn
        }
        let places = found.map { $0.span.map { bad.location(of: $0.range.start).lineAndColumn } ?? "" }
        XCTAssertEqual(places.prefix(2), [place(of: "$ 0.01", plus: 0), place(of: "h1999 +", plus: 6)])
        XCTAssertEqual(found.count, 3, "the unclosed bracket takes in the rest of the text")
        XCTAssertEqual(found.map(\.message), Parser.parse(bad).diagnostics.map(\.message))
        XCTAssertEqual(places, Parser.parse(bad).diagnostics.map { $0.span.map { bad.location(of: $0.range.start).lineAndColumn } ?? "" })
        XCTAssertEqual(found[0].message, "unexpected character '$'")
    }

    /// Checking a script builds no tree (``Parser/check(_:)`` reads it through the same grammar
    /// with only extents and depths): it must find exactly the errors a parse finds, at the same
    /// places, and count the same definitions, on every kind of bad input and every kind of nesting.
    func testCheckingFindsWhatParsingFinds() throws {
        let limit = Parser.maximumDepth
        var inputs = [
            "(", ")", "[1, 2", "x +", "* x", "x @ @ x", "1 +* 2", "2 ^", "relu(", "a, b = 1, 2", "x = [1, 2]]",
            "1 2", "x y", "$", "3..4", "x.", ".T", "x.y", "= 3", "x = ", "param x", "input 3 = 4", "\"unterminated",
            "x[", "x[]", "x[1:2:3:4]", "x[::, 1]", "x[:, ::2]", "f(x", "[1, 2,, 3]", "x = = 1", "1 = x", "x ^ ^ 2",
            "f(a=1, a=2)", "f(a=1, x)", "f(x, a=1, b=2)", "y = 1 +* 2; z = 3", "x = y +\nz = 2", "f(x)[1].T^2",
            "-x^-y^2", "a·b × c − d", "1e999 + 0x", "x = 1\n:grad x\n2 $ 3\n(1 +\n 2)",
            String(repeating: "(", count: limit) + "x" + String(repeating: ")", count: limit),
            String(repeating: "(", count: limit + 1) + "x" + String(repeating: ")", count: limit + 1),
            "x" + String(repeating: ".T", count: limit), "x" + String(repeating: ".T", count: limit + 1),
            "x" + String(repeating: "[0]", count: limit + 1), String(repeating: "-", count: limit + 1) + "x",
            String(repeating: "exp(", count: limit + 1) + "x" + String(repeating: ")", count: limit + 1),
            String(repeating: "[", count: limit + 1) + "1" + String(repeating: "]", count: limit + 1),
            String(repeating: "2^", count: limit + 1) + "2",
            String(repeating: "(a + ", count: limit) + "b" + String(repeating: ")", count: limit),
            "f(" + String(repeating: "(a + ", count: limit) + "b" + String(repeating: ")", count: limit) + ")",
            "x[" + String(repeating: "(", count: limit) + "1" + String(repeating: ")", count: limit) + ":]",
        ]
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("FuzzCorpus")
        let files = try FileManager.default.subpathsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".graph") }
        XCTAssertGreaterThan(files.count, 50)
        for file in files.sorted() {
            inputs.append(String(decoding: try Data(contentsOf: corpus.appendingPathComponent(file)), as: UTF8.self))
        }
        for text in inputs {
            let source = Source(name: "t.graph", text: text)
            let parsed = Parser.parse(source)
            let (diagnostics, reader) = Parser.check(source)
            XCTAssertEqual(diagnostics, parsed.diagnostics, String(text.prefix(60)))
            let definitions = parsed.statements.filter { if case .definition = $0 { true } else { false } }
            XCTAssertEqual(reader.definitions, definitions.count, String(text.prefix(60)))
        }
    }
}
