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
