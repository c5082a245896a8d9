import ChainruleCore
import Foundation
import XCTest

/// Graphs far deeper than any recursion could walk, and input nested deeper than the
/// parser accepts: right answers or diagnostics, never a crash.
final class DeepGraphTests: XCTestCase {
    static let depth = 100_000
    /// 1.0001^100000 = e^(100000·log 1.0001) ≈ e^9.9995 ≈ 22015.5, computed by the same
    /// sequence of `Double` multiplications the forward pass performs.
    static let chainProduct: Double = {
        var x = 1.0
        for _ in 0..<depth { x *= 1.0001 }
        return x
    }()

    func testChainOfOneHundredThousandNodesForwardAndBackward() throws {
        // 250 statements of 400 multiplications by the same leaf `c`: one node per step,
        // and `c` feeds every one of them.
        var text = "x0 = 1\nc = 1.0001\n"
        for k in 1...250 { text += "x\(k) = x\(k - 1)" + String(repeating: " * c", count: 400) + "\n" }
        var script = try Script(text)
        XCTAssertGreaterThanOrEqual(script.workspace.graph.count, Self.depth)
        let value = try script.value("x250").scalars[0]
        assertClose(value, Self.chainProduct, Tolerance(atol: 0, rtol: 1e-12))
        assertClose(value, pow(1.0001, Double(Self.depth)), Tolerance(atol: 0, rtol: 1e-9))
        let gradients = try script.workspace.gradients(of: try script.id("x250"))
        // ∂x/∂x0 = c^100000; ∂x/∂c = 100000·c^99999, a sum of 100000 contributions.
        assertClose(gradients[try script.id("x0")], [Self.chainProduct], Tolerance(atol: 0, rtol: 1e-12))
        assertClose(gradients[try script.id("c")], [Double(Self.depth) * pow(1.0001, Double(Self.depth - 1))],
                    Tolerance(atol: 0, rtol: 1e-9))
    }

    func testScriptOfOneHundredThousandStatementsParses() {
        var text = "x0 = 1\n"
        for k in 1...Self.depth { text += "x\(k) = x\(k - 1) * 1.0001\n" }
        let (statements, diagnostics) = Parser.parse(Source(name: "chain.graph", text: text))
        XCTAssertEqual(diagnostics.count, 0)
        XCTAssertEqual(statements.count, Self.depth + 1)
        guard case .definition(let last) = statements.last,
              case .chain(let left, let links) = last.value.kind, links.count == 1, links[0].op == .multiply else {
            return XCTFail("the last statement is not a product")
        }
        XCTAssertEqual(last.name, "x100000")
        XCTAssertEqual(left.kind, .name("x99999"))
        XCTAssertEqual(links[0].operand.kind, .number(1.0001))
    }

    /// Each statement refers to the one before, so the chain is 100,000 definitions deep,
    /// defined one by one as a long script does (its speed is measured by scripts/bench).
    func testOneHundredThousandDefinitionsOneByOne() throws {
        var text = "x0 = 1\n"
        for k in 1...Self.depth { text += "x\(k) = x\(k - 1) * 1.0001\n" }
        let source = Source(name: "chain.graph", text: text)
        let (statements, _) = Parser.parse(source)
        var workspace = Workspace()
        for statement in statements {
            guard case .definition(let definition) = statement else { continue }
            try workspace.define(definition, in: source)
        }
        XCTAssertEqual(workspace.graph.count, 2 * Self.depth + 1, "each definition adds its product and its constant")
        let id = try XCTUnwrap(workspace.graph.node(named: "x100000"))
        assertClose(try workspace.value(of: id).scalars.first, Self.chainProduct, Tolerance(atol: 0, rtol: 1e-12))
        let gradients = try workspace.gradients(of: id)
        assertClose(gradients[try XCTUnwrap(workspace.graph.node(named: "x0"))], [Self.chainProduct], Tolerance(atol: 0, rtol: 1e-12))
    }

    /// Returns the diagnostics for `text`, checking the statements after it still parse.
    func diagnostics(forDeep text: String, file: StaticString = #filePath, line: UInt = #line) -> [Diagnostic] {
        let source = Source(name: "deep.graph", text: "before = 1\n" + text + "\nafter = 2")
        let (statements, diagnostics) = Parser.parse(source)
        let names = statements.compactMap { statement -> String? in
            if case .definition(let d) = statement { return d.name }
            return nil
        }
        XCTAssertEqual(names, ["before", "after"], file: file, line: line)
        XCTAssertFalse(diagnostics.isEmpty, file: file, line: line)
        for d in diagnostics {
            XCTAssert((d.span?.range.start).map { $0 >= 11 && $0 <= 11 + text.utf8.count } ?? false,
                      "'\(d.message)' points outside the deep statement", file: file, line: line)
        }
        return diagnostics
    }

    func testNestingTooDeepIsADiagnostic() {
        let n = 10_000
        let deep: [String] = [
            "x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n),
            "x = " + String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n),
            "x = " + String(repeating: "exp(", count: n) + "1" + String(repeating: ")", count: n),
            "x = " + String(repeating: "-", count: n) + "1",
            "x = " + Array(repeating: "2", count: n).joined(separator: "^"),
            "x = before" + String(repeating: ".T", count: n),
            "x = before" + String(repeating: "[0]", count: n),
        ]
        for text in deep {
            let found = diagnostics(forDeep: text)
            XCTAssert(found.first?.message.contains("nested") == true, found.first?.message ?? "")
        }
    }

    /// A chain of 100,000 `+` is flat, not nested: it is accepted, parsed as one chain of
    /// 99,999 links, and evaluated exactly (every partial sum is a whole number below 2⁵³).
    func testHundredThousandTermSum() throws {
        let text = "s = " + Array(repeating: "1", count: Self.depth).joined(separator: " + ")
        let (statements, diagnostics) = Parser.parse(Source(name: "sum.graph", text: text))
        XCTAssertEqual(diagnostics.map(\.message), [])
        guard statements.count == 1, case .definition(let definition) = statements[0],
              case .chain(_, let links) = definition.value.kind else {
            return XCTFail("the sum is not one flat chain")
        }
        XCTAssertEqual(links.count, Self.depth - 1)
        var script = try Script(text)
        assertClose(try script.value("s"), [100_000])
        // With a leaf as every term, the reverse pass sums 100,000 contributions of 1.
        var leafSum = try Script("x = 0.5\nt = " + Array(repeating: "x", count: Self.depth).joined(separator: " + "))
        assertClose(try leafSum.value("t"), [50_000])
        let gradients = try leafSum.workspace.gradients(of: try leafSum.id("t"))
        assertClose(gradients[try leafSum.id("x")], [100_000])
    }
}
