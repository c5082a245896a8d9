import ChainruleCore
import Foundation
import XCTest

/// Real nesting (brackets, calls, index brackets, unary minus, `^`, `.T`) is limited to
/// 500 levels with a message naming what nests; flat operator chains are not nesting and
/// may be as long as memory allows. Nothing recurses deeper than the limit allows.
final class NestingTests: XCTestCase {
    static let huge = 100_000

    /// The one diagnostic for `text`, as `line:column: message`.
    func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let (statements, diagnostics) = Parser.parse(Source(name: "deep.graph", text: text))
        XCTAssertEqual(statements.count, 0, file: file, line: line)
        XCTAssertEqual(diagnostics.count, 1, file: file, line: line)
        guard let d = diagnostics.first, let span = d.span else { return "none" }
        return "\(span.location.lineAndColumn): \(d.message)"
    }

    func message(_ what: String) -> String {
        "expression is nested more than 500 levels deep at this \(what); split it into several definitions"
    }

    func testEveryKindOfNestingIsRefusedAtTheLevelPastTheLimit() {
        let n = Self.huge
        XCTAssertEqual(refusal("x = " + String(repeating: "y[", count: n) + "0" + String(repeating: "]", count: n)),
                       "1:1006: " + message("index '['"))
        XCTAssertEqual(refusal("x = y" + String(repeating: "[0]", count: n)), "1:1506: " + message("index '['"))
        XCTAssertEqual(refusal("x = " + String(repeating: "- ", count: n) + "y"), "1:1005: " + message("unary '-'"))
        XCTAssertEqual(refusal("x = " + String(repeating: "2^", count: n) + "2"), "1:1006: " + message("'^'"))
        XCTAssertEqual(refusal("x = y" + String(repeating: ".T", count: n)), "1:1006: " + message("'.T'"))
        XCTAssertEqual(refusal("x = " + String(repeating: "exp(", count: n) + "1" + String(repeating: ")", count: n)),
                       "1:2008: " + message("call of 'exp'"))
        XCTAssertEqual(refusal("x = " + String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n)),
                       "1:505: " + message("'['"))
        XCTAssertEqual(refusal("x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n)),
                       "1:505: " + message("'('"))
        XCTAssertEqual(refusal("x = " + String(repeating: "y + (", count: n) + "y" + String(repeating: ")", count: n)),
                       "1:2509: " + message("'('"))
        // A call whose result is transposed adds two levels per call although only the
        // call's bracket is open while its argument is read: the 251st call from the
        // inside (the 50th from the left) is level 501.
        XCTAssertEqual(refusal("x = " + String(repeating: "exp(", count: 300) + "y" + String(repeating: ").T", count: 300)),
                       "1:201: " + message("call of 'exp'"))
    }

    func testFiveHundredLevelsOfEachKindEvaluate() throws {
        let n = Parser.maximumDepth
        var script = try Script("y = 3\nv = [1, 2]")
        let cases: [(String, [Double])] = [
            ("v[" + String(repeating: "abs(", count: n - 1) + "1" + String(repeating: ")", count: n - 1) + "]", [2]),
            ("v" + String(repeating: "[0:2]", count: n), [1, 2]),
            (String(repeating: "-", count: n) + "y", [3]),
            ("y" + String(repeating: "^1", count: n), [3]),
            ("v" + String(repeating: ".T", count: n), [1, 2]),
            (String(repeating: "abs(", count: n) + "y" + String(repeating: ")", count: n), [3]),
            (String(repeating: "sum([", count: n / 2) + "y" + String(repeating: "])", count: n / 2), [3]),
            (String(repeating: "(", count: n) + "y" + String(repeating: ")", count: n), [3]),
            (String(repeating: "y - (", count: n) + "y" + String(repeating: ")", count: n), [3]),
            (String(repeating: "y * (", count: n - 1) + "1 + 1" + String(repeating: ")", count: n - 1), [(1..<n).reduce(2.0) { product, _ in 3 * product }]),
        ]
        for (text, expected) in cases {
            let value = try script.evaluate(text)
            XCTAssertEqual(value.scalars, expected, String(text.prefix(20)))
            // The printer reads back to the same tree.
            let (statements, _) = Parser.parse(Source(name: "p", text: text))
            guard case .expression(let e) = statements.first else { return XCTFail("no expression") }
            let (again, diagnostics) = Parser.parse(Source(name: "q", text: Printer.expression(e)))
            XCTAssertEqual(diagnostics.count, 0)
            guard case .expression(let f) = again.first else { return XCTFail("no reprint") }
            XCTAssertEqual(Printer.expression(f), Printer.expression(e))
            XCTAssertEqual(f.depth, e.depth)
        }
    }

    /// The formulas of each kind of nesting, 500 levels deep, with their values (`y = 3`, `v = [1, 2]`).
    static var fiveHundredLevels: [(String, [Double])] {
        let n = Parser.maximumDepth
        return [
            (String(repeating: "abs(", count: n) + "y" + String(repeating: ")", count: n), [3]),
            ("v[" + String(repeating: "abs(", count: n - 1) + "1" + String(repeating: ")", count: n - 1) + "]", [2]),
            ("v" + String(repeating: "[0:2]", count: n), [1, 2]),
            (String(repeating: "[0, 1][", count: n - 1) + "1" + String(repeating: "]", count: n - 1), [1]),
            (String(repeating: "sum([0, 0], axis=", count: n - 1) + "0" + String(repeating: ")", count: n - 1), [0]),
            (String(repeating: "-", count: n) + "y", [3]),
            ("y" + String(repeating: "^1", count: n), [3]),
            ("v" + String(repeating: ".T", count: n), [1, 2]),
            (String(repeating: "sum([", count: n / 2) + "y" + String(repeating: "])", count: n / 2), [3]),
            (String(repeating: "(", count: n) + "y" + String(repeating: ")", count: n), [3]),
            (String(repeating: "y - (", count: n) + "y" + String(repeating: ")", count: n), [3]),
            (String(repeating: "y * (", count: n - 1) + "1 + 1" + String(repeating: ")", count: n - 1), [(1..<n).reduce(2.0) { product, _ in 3 * product }]),
        ]
    }

    /// Issue: a formula nested more than 16 levels was printed and lowered on a thread of its
    /// own with a 1 GiB stack, and the session hung when that thread could not be made.
    /// Printing and lowering walk the tree with explicit stacks, so 500 levels of every kind
    /// print, define and evaluate on a thread with a 256 KiB stack. (The trees are parsed
    /// beforehand on the test's own thread: the recursive descent needs more stack than that.)
    func testFiveHundredLevelsOfEachKindPrintAndLowerOnASmallStack() throws {
        let source = Source(name: "deep.graph", text: Self.fiveHundredLevels.map { "z = " + $0.0 }.joined(separator: "\n"))
        let (statements, diagnostics) = Parser.parse(source)
        XCTAssertEqual(diagnostics.map(\.message), [])
        let definitions = statements.compactMap { statement -> Definition? in
            if case .definition(let d) = statement { d } else { nil }
        }
        XCTAssertEqual(definitions.count, Self.fiveHundredLevels.count)
        let expected = definitions.map { Printer.expression($0.value) }
        let script = try Script("y = 3\nv = [1, 2]")

        final class Results: @unchecked Sendable {
            var printed: [String] = []
            var evaluated: [[Double]] = []
            var defined: [[Double]] = []
            var errors: [String] = []
        }
        let results = Results()
        let workspace = script.workspace
        let trees = Trees(definitions)
        onSmallStack {
            for definition in trees.value {
                results.printed.append(Printer.expression(definition.value))
                var copy = workspace
                do {
                    results.evaluated.append(try copy.evaluate(definition.value, in: source).scalars)
                    _ = try copy.define(definition, in: source)
                    guard let id = copy.graph.node(named: "z") else { results.errors.append("no z"); continue }
                    results.defined.append(try copy.value(of: id).scalars)
                } catch {
                    results.errors.append("\(error)")
                }
            }
        }
        trees.release()
        XCTAssertEqual(results.errors, [])
        XCTAssertEqual(results.printed, expected)
        XCTAssertEqual(results.evaluated, Self.fiveHundredLevels.map(\.1))
        XCTAssertEqual(results.defined, Self.fiveHundredLevels.map(\.1))
    }

    /// An error at the bottom of 500 levels, found on a small stack, is placed where it is
    /// written, and what the constant arguments above it had added to the graph is dropped.
    func testAnErrorFiveHundredLevelsDownOnASmallStack() throws {
        let n = Parser.maximumDepth
        let texts = [
            String(repeating: "abs(", count: n) + "w" + String(repeating: ")", count: n),
            String(repeating: "sum([0, 0], axis=", count: n - 1) + "y + w" + String(repeating: ")", count: n - 1),
            String(repeating: "sum([0, 0], axis=", count: n - 1) + "y * 0" + String(repeating: ")", count: n - 1),
        ]
        let source = Source(name: "deep.graph", text: texts.joined(separator: "\n"))
        let (statements, _) = Parser.parse(source)
        let expressions = statements.compactMap { statement -> Expr? in
            if case .expression(let e) = statement { e } else { nil }
        }
        XCTAssertEqual(expressions.count, texts.count)
        let script = try Script("y = 3")
        final class Results: @unchecked Sendable { var messages: [String] = []; var counts: [Int] = [] }
        let results = Results()
        let workspace = script.workspace
        let trees = Trees(expressions)
        onSmallStack {
            for e in trees.value {
                var copy = workspace
                do throws(Diagnostic) {
                    _ = try copy.evaluate(e, in: source)
                    results.messages.append("no error")
                } catch {
                    results.messages.append("\(error.span?.location.lineAndColumn ?? "?"): \(error.message)")
                }
                results.counts.append(copy.graph.count)
            }
        }
        trees.release()
        XCTAssertEqual(results.messages, [
            "1:2001: undefined name 'w'",
            "2:8488: undefined name 'w'",
            "3:8484: the axis must be a constant, not an expression of nodes",
        ])
        XCTAssertEqual(results.counts, [1, 1, 1])
    }

    /// Trees lent to a thread, freed by the test's own thread whenever the other lets go of this
    /// box. Freeing a tree recurses in the runtime: at 500 levels of `[0, 1][…]` in a debug build
    /// it takes between 256 and 384 KiB of stack (less than a secondary thread's 512 KiB, more
    /// than the small thread here).
    final class Trees<T>: @unchecked Sendable {
        private(set) var value: [T]
        init(_ value: [T]) { self.value = value }
        func release() { value = [] }
    }

    /// Runs `body` to its end on a thread with a 256 KiB stack (a secondary thread's is 512 KiB).
    func onSmallStack(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
    }

    /// Issue: 501 terms of `+` were refused as "nested". Every left-associative operator
    /// chains flat, evaluates left to right and differentiates.
    func testFlatChainsOfOneHundredThousandTerms() throws {
        let n = Self.huge
        var script = try Script("x = 1\nA = [[1, 1], [0, 1]]")
        try script.run("s = x" + String(repeating: " + x", count: n - 1))
        XCTAssertEqual(try script.value("s").scalars, [Double(n)])
        XCTAssertEqual(try script.gradient(of: "s", wrt: "x").scalars, [Double(n)])
        try script.run("d = 200000" + String(repeating: " - x", count: n))
        XCTAssertEqual(try script.value("d").scalars, [Double(200_000 - n)])
        try script.run("m = x" + String(repeating: " * 1.0001", count: n))
        var product = 1.0
        for _ in 0..<n { product *= 1.0001 }
        XCTAssertEqual(try script.value("m").scalars, [product])
        try script.run("q = x" + String(repeating: " / 2", count: 1000))
        XCTAssertEqual(try script.value("q").scalars, [0x1p-1000])
        try script.run("p = A" + String(repeating: " @ A", count: n - 1))
        XCTAssertEqual(try script.value("p").scalars, [1, Double(n), 0, 1])
        // Mixed levels: `1 + 2 * 3 - 4 / 2` repeated is still left to right with precedence.
        let mixed = Array(repeating: "1 + 2 * 3 - 4 / 2", count: 10_000).joined(separator: " + ")
        XCTAssertEqual(try script.evaluate(mixed).scalars, [50_000])
        // The formula prints back in one line, without parentheses.
        let formula = try XCTUnwrap(script.workspace.entries["s"]?.formula)
        XCTAssertEqual(Printer.expression(formula), "x" + String(repeating: " + x", count: n - 1))
        XCTAssertEqual(formula.depth, 0)
    }

    func testFiveHundredAndOneTermSum() throws {
        var script = try Script("s = " + Array(repeating: "1", count: 501).joined(separator: " + "))
        XCTAssertEqual(try script.value("s").scalars, [501])
    }

    /// Printing keeps left-associative meaning: `a - (b - c)` keeps its parentheses.
    func testChainsPrintWithTheParenthesesTheyNeed() {
        for text in ["a - (b - c)", "(a - b) - c", "a / (b * c)", "a @ (B @ c)", "-(a + b) * c", "(a + b)^2", "a - b * c + d"] {
            let (statements, _) = Parser.parse(Source(name: "p", text: text))
            guard case .expression(let e) = statements.first else { return XCTFail(text) }
            let expected = text == "(a - b) - c" ? "a - b - c" : text
            XCTAssertEqual(Printer.expression(e), expected)
        }
    }
}
