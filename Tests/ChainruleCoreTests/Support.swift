import _Differentiation
import ChainruleCore
import Foundation
import XCTest

// MARK: Tolerances

/// `|actual − expected| ≤ atol + rtol·|expected|`, the rule NumPy's `isclose` uses.
struct Tolerance {
    var atol: Double
    var rtol: Double

    /// Two exact derivations of one number in `Double` (reverse pass against automatic
    /// differentiation): they differ only by the rounding of a different operation order.
    static let exact = Tolerance(atol: 1e-12, rtol: 1e-10)
    /// Central differences with step `h ≈ 1e-5`: truncation error `O(h²·f‴) ≈ 1e-10`,
    /// cancellation error `O(ε·|f|/h) ≈ 1e-11·|f|`; a wrong derivative is off by far more.
    static let finiteDifference = Tolerance(atol: 1e-6, rtol: 1e-5)
    /// A published figure rounded to `decimals` places: off by at most half a unit in the last place.
    static func published(decimals: Int) -> Tolerance { Tolerance(atol: 0.5 * pow(10, -Double(decimals)), rtol: 1e-12) }

    func accepts(_ actual: Double, _ expected: Double) -> Bool {
        if expected.isNaN { return actual.isNaN }
        if expected.isInfinite { return actual == expected }
        return abs(actual - expected) <= atol + rtol * abs(expected)
    }
}

func assertClose(_ actual: Double?, _ expected: Double, _ tolerance: Tolerance = .exact,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("no value; expected \(expected). \(message())", file: file, line: line) }
    XCTAssert(tolerance.accepts(actual, expected), "\(actual) is not close to \(expected). \(message())", file: file, line: line)
}

func assertClose(_ actual: Tensor?, _ expected: [Double], shape: [Int]? = nil, _ tolerance: Tolerance = .exact,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("no tensor; expected \(expected). \(message())", file: file, line: line) }
    if let shape { XCTAssertEqual(actual.shape, shape, "shape. \(message())", file: file, line: line) }
    guard actual.scalars.count == expected.count else {
        return XCTFail("\(actual.scalars) has \(actual.scalars.count) elements, expected \(expected). \(message())", file: file, line: line)
    }
    for (i, (a, e)) in zip(actual.scalars, expected).enumerated() where !tolerance.accepts(a, e) {
        XCTFail("element \(i): \(a) is not close to \(e) (whole: \(actual.scalars) vs \(expected)). \(message())", file: file, line: line)
    }
}

// MARK: Scripts

struct ScriptError: Error, CustomStringConvertible {
    var description: String
}

/// A workspace built from `.graph` source text, one definition after another.
struct Script {
    var workspace = Workspace()
    let source: Source

    init(_ text: String, name: String = "test.graph") throws {
        source = Source(name: name, text: text)
        let (statements, diagnostics) = Parser.parse(source)
        if !diagnostics.isEmpty {
            throw ScriptError(description: "syntax errors: " + diagnostics.map(\.message).joined(separator: "; "))
        }
        for statement in statements {
            if case .definition(let definition) = statement {
                try workspace.define(definition, in: source)
            }
        }
    }

    /// Defines (or redefines) more names in the same workspace.
    mutating func run(_ text: String, name: String = "more.graph") throws {
        let more = Source(name: name, text: text)
        let (statements, diagnostics) = Parser.parse(more)
        if let first = diagnostics.first { throw first }
        for case .definition(let definition) in statements { try workspace.define(definition, in: more) }
    }

    func id(_ name: String) throws -> NodeID {
        guard let id = workspace.graph.node(named: name) else { throw ScriptError(description: "no node named '\(name)'") }
        return id
    }

    /// The names that are leaves (data), in definition order.
    var leafNames: [String] { workspace.names.filter { workspace.entries[$0]?.isLeaf == true } }

    mutating func value(_ name: String) throws -> Tensor {
        try workspace.value(of: try id(name))
    }

    /// Evaluates an expression (not a definition) against the workspace.
    mutating func evaluate(_ text: String) throws -> Tensor {
        let source = Source(name: "<expr>", text: text)
        let (statements, diagnostics) = Parser.parse(source)
        if let first = diagnostics.first { throw first }
        guard statements.count == 1, case .expression(let expr) = statements[0] else {
            throw ScriptError(description: "'\(text)' is not one expression")
        }
        return try workspace.evaluate(expr, in: source)
    }

    /// ∂output/∂leaf by the reverse pass.
    mutating func gradient(of output: String, wrt leaf: String) throws -> Tensor {
        let gradients = try workspace.gradients(of: try id(output))
        guard let g = gradients[try id(leaf)] else { throw ScriptError(description: "no gradient for '\(leaf)'") }
        return g
    }

    /// ∂output/∂leaf by forward mode: one tangent pass per element of the leaf.
    mutating func forwardModeGradient(of output: String, wrt leaf: String) throws -> Tensor {
        let out = try id(output), x = try id(leaf)
        let original = try value(leaf)
        var result = Tensor.zeros(original.shape)
        var direction = Tensor.zeros(original.shape)
        for i in original.scalars.indices {
            direction.scalars[i] = 1
            let (graph, values) = try workspace.tangents(of: out, wrt: x, direction: direction)
            result.scalars[i] = graph.tangent[out].flatMap { values[$0]?.scalars[0] } ?? 0
            direction.scalars[i] = 0
        }
        return result
    }

    /// ∂output/∂leaf by central differences computed here, from forward evaluations alone (not
    /// by the program's finite-difference routine): each element of the leaf is moved by
    /// `±1e-5·max(1, |x|)`, the scalar `output` evaluated again, and the leaf restored.
    mutating func forwardDifferences(of output: String, wrt leaf: String) throws -> Tensor {
        let original = try value(leaf)
        var result = Tensor.zeros(original.shape)
        for i in original.scalars.indices {
            let h = 1e-5 * max(1, abs(original.scalars[i]))
            var up = original, down = original
            up.scalars[i] += h
            down.scalars[i] -= h
            workspace.setValue(up, of: leaf)
            let above = try value(output).scalars[0]
            workspace.setValue(down, of: leaf)
            let below = try value(output).scalars[0]
            result.scalars[i] = (above - below) / (up.scalars[i] - down.scalars[i])
        }
        workspace.setValue(original, of: leaf)
        return result
    }

    /// ∂output/∂leaf by central differences, changing one element of the leaf at a time
    /// (the program's one finite-difference routine). `output` must be a scalar.
    mutating func finiteDifference(of output: String, wrt leaf: String) throws -> Tensor {
        try workspace.finiteDifferences(of: try id(output), wrt: try id(leaf)).central
    }
}

// MARK: Gradient oracles

/// Checks a scalar `output` of `text` against `reference`, the same function written in
/// plain Swift over the leaves' elements: `reference` receives the elements of `leaves`,
/// each flattened row-major, one after another. The value must match the reference; the
/// reverse pass's gradient must match Swift's automatic differentiation of the reference
/// and central differences of the graph. `leaves` must name every leaf of the script.
func checkGradients(_ text: String, output: String = "L", wrt leaves: [String], label: String = "",
                    file: StaticString = #filePath, line: UInt = #line,
                    _ reference: @differentiable(reverse) ([Double]) -> Double) {
    do {
        var script = try Script(text)
        XCTAssertEqual(Set(script.leafNames), Set(leaves), "every leaf must be checked", file: file, line: line)
        var flat: [Double] = []
        var shapes: [[Int]] = []
        for leaf in leaves {
            let v = try script.value(leaf)
            flat += v.scalars
            shapes.append(v.shape)
        }
        let (expectedValue, expectedGradient) = valueWithGradient(at: flat, of: reference)
        let value = try script.value(output)
        XCTAssertEqual(value.shape, [], "the output must be a scalar", file: file, line: line)
        assertClose(value.scalars.first, expectedValue, .exact, "\(label) value of \(output)", file: file, line: line)
        var offset = 0
        for (leaf, shape) in zip(leaves, shapes) {
            let n = shape.reduce(1, *)
            let oracle = Array(expectedGradient.base[offset..<(offset + n)])
            offset += n
            let reverse = try script.gradient(of: output, wrt: leaf)
            assertClose(reverse, oracle, shape: shape, .exact, "\(label) ∂\(output)/∂\(leaf) against automatic differentiation",
                        file: file, line: line)
            let forward = try script.forwardModeGradient(of: output, wrt: leaf)
            assertClose(forward, oracle, shape: shape, .exact,
                        "\(label) ∂\(output)/∂\(leaf): forward mode against automatic differentiation", file: file, line: line)
            let numeric = try script.finiteDifference(of: output, wrt: leaf)
            assertClose(reverse, numeric.scalars, shape: shape, .finiteDifference,
                        "\(label) ∂\(output)/∂\(leaf) against central differences", file: file, line: line)
        }
    } catch {
        XCTFail("\(label) \(error)", file: file, line: line)
    }
}

/// Elementary functions written out in plain Swift, differentiable by the compiler.
enum Ref {
    @differentiable(reverse) static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    @differentiable(reverse) static func relu(_ x: Double) -> Double { x > 0 ? x : 0 }
    @differentiable(reverse) static func leakyRelu(_ x: Double, _ a: Double) -> Double { x > 0 ? x : a * x }
    @differentiable(reverse) static func elu(_ x: Double, _ a: Double) -> Double { x > 0 ? x : a * (exp(x) - 1) }
    @differentiable(reverse) static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
    @differentiable(reverse) static func softplus(_ x: Double) -> Double { log(1 + exp(x)) }
    @differentiable(reverse) static func abs(_ x: Double) -> Double { x > 0 ? x : -x }

    /// The elementwise operator formulas of the gradient oracle tests, on one element each.
    @differentiable(reverse)
    static func arithmetic(_ formula: String, _ a: Double, _ b: Double) -> Double {
        switch formula {
        case "x + y": a + b
        case "x - y": a - b
        case "x * y": a * b
        case "x / y": a / b
        case "x ^ y": pow(a, b)
        case "-x * y": -a * b
        default: -(a * a) + b  // "-x ^ 2 + y"
        }
    }

    /// `log Σ exp(xᵢ)` over `count` elements starting at `start`.
    @differentiable(reverse)
    static func logSumExp(_ v: [Double], _ start: Int, _ count: Int) -> Double {
        var total = 0.0
        for i in start..<(start + count) { total += exp(v[i]) }
        return log(total)
    }
}

/// A `.graph` literal for a list of numbers, optionally shaped as rows.
func literal(_ values: [Double], columns: Int? = nil) -> String {
    let items = values.map { "\($0)" }
    guard let columns else { return "[" + items.joined(separator: ", ") + "]" }
    var rows: [String] = []
    for start in stride(from: 0, to: items.count, by: columns) {
        rows.append("[" + items[start..<(start + columns)].joined(separator: ", ") + "]")
    }
    return "[" + rows.joined(separator: ", ") + "]"
}

// MARK: Positions

/// Source text with `⏶` marking where diagnostics should point: the text without the
/// markers, and the offset (in UTF-8 bytes, as ``SourceRange`` counts) each marks.
func marked(_ text: String) -> (text: String, offsets: [Int]) {
    var plain = ""
    var offsets: [Int] = []
    for c in text.unicodeScalars {
        if c == "⏶" { offsets.append(plain.utf8.count) } else { plain.unicodeScalars.append(c) }
    }
    return (plain, offsets)
}

/// Defines the statements of `text` (with one `⏶` marker) expecting the last to be refused
/// with a message containing `fragment`, at the marker. Returns the diagnostic.
@discardableResult
func expectRefusal(_ text: String, in script: inout Script, containing fragment: String,
                   file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
    let (plain, offsets) = marked(text)
    do {
        try script.run(plain)
        XCTFail("'\(plain)' was accepted", file: file, line: line)
        return nil
    } catch let diagnostic as Diagnostic {
        XCTAssert(diagnostic.message.contains(fragment), "'\(diagnostic.message)' does not contain '\(fragment)'", file: file, line: line)
        if let offset = offsets.first {
            XCTAssertEqual(diagnostic.span?.range.start, offset, "position of '\(diagnostic.message)'", file: file, line: line)
        }
        return diagnostic
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return nil
    }
}
