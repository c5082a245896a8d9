@testable import ChainruleCore
@testable import ChainruleSession
import Foundation
import XCTest

/// `:explain` writes a gradient as the chain rule's sum over paths; the paths must add up
/// to what the reverse pass computes, and their number must be the number of paths.
final class ExplainTests: XCTestCase {
    /// A lattice of `layers` diamonds: every layer doubles the number of paths from x to the top.
    func lattice(_ layers: Int) -> String {
        var text = "x = [0.3, -0.7]\nu0 = x\n"
        for k in 1...layers {
            text += "p\(k) = sin(u\(k - 1))\nq\(k) = u\(k - 1) * 0.5\nu\(k) = p\(k) * q\(k)\n"
        }
        return text + "L = sum(u\(layers))\n"
    }

    /// The oracle is the chain rule done by hand, in plain Swift: in layer k, u = p·q with
    /// p = sin(u′) and q = 0.5·u′, so the route through p contributes a = cos(u′)·0.5·u′ and the
    /// route through q contributes b = sin(u′)·0.5. A path picks one route per layer; its value
    /// is the product of its picks, and the gradient is Π(a + b). No chainrule code is involved.
    func testEveryPathAndTheirSumMatchTheChainRuleByHand() throws {
        let layers = 4
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, lattice(layers)))
        XCTAssertTrue(execute(session, ":set precision 12"))
        XCTAssertTrue(execute(session, ":explain L x"))
        var routes: [[(a: Double, b: Double)]] = []  // per element of x, per layer
        for x0 in [0.3, -0.7] {
            var u = x0
            var factors: [(Double, Double)] = []
            for _ in 0..<layers {
                factors.append((cos(u) * 0.5 * u, sin(u) * 0.5))
                u = sin(u) * (u * 0.5)
            }
            routes.append(factors)
        }
        // Every choice of route per layer is one path: 2⁴ products per element.
        var expectedPaths: [[Double]] = []
        for choice in 0..<(1 << layers) {
            expectedPaths.append(routes.map { factors in
                factors.enumerated().reduce(1.0) { product, layer in product * ((choice >> layer.offset) & 1 == 0 ? layer.element.a : layer.element.b) }
            })
        }
        let gradient = routes.map { $0.reduce(1.0) { $0 * ($1.a + $1.b) } }

        // The values printed under each path ("    = [v, w]"), and the two totals.
        func vector(_ text: Substring) -> [Double] {
            text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",")
                .compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        let lines = output.text.split(separator: "\n")
        let printedPaths = lines.filter { $0.hasPrefix("    = ") }.map { vector($0.dropFirst(6)) }
        XCTAssertEqual(printedPaths.count, 16)
        // Match each printed path to a distinct hand-computed one.
        var unmatched = expectedPaths
        for path in printedPaths {
            let index = unmatched.firstIndex { expected in
                zip(expected, path).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($0)) } && path.count == 2
            }
            XCTAssertNotNil(index, "path value \(path) is not a product of the local derivatives")
            if let index { unmatched.remove(at: index) }
        }
        XCTAssertTrue(unmatched.isEmpty)
        for prefix in ["  sum of the paths   = ", "  reverse pass ∂L/∂x = "] {
            let line = try XCTUnwrap(lines.first { $0.hasPrefix(prefix) }, prefix)
            let printed = vector(line.dropFirst(prefix.count))
            XCTAssertEqual(printed.count, 2)
            for (p, g) in zip(printed, gradient) { XCTAssertEqual(p, g, accuracy: 1e-10 * max(1, abs(g)), prefix) }
        }
        XCTAssertTrue(output.text.contains("as a sum over 16 paths"), output.text)
        // The counting is right too: u0 = x is an identity node; every layer offers two routes.
        let workspace = session.workspace
        let (x, l) = (try XCTUnwrap(workspace.graph.node(named: "x")), try XCTUnwrap(workspace.graph.node(named: "L")))
        XCTAssertEqual(session.countPaths(from: x, to: l, through: session.nodesBetween(x, l)), 16)
    }

    /// Another oracle, central differences of the forward pass, for a graph with a shared
    /// node, a matrix product and a literal.
    func testTheSumOfThePathsMatchesCentralDifferences() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "A = [[1, -2], [0.5, 3]]; x = [0.4, -0.3]; h = tanh(A @ x); L = sum(h * h) + 2 * dot(h, x)"))
        XCTAssertTrue(execute(session, ":set precision 12; :explain L x"))
        let line = try XCTUnwrap(output.text.split(separator: "\n").first { $0.hasPrefix("  sum of the paths") })
        let printed = line.split(separator: "=")[1].trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            .split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        func loss(_ x: [Double]) -> Double {
            let h = [tanh(1 * x[0] - 2 * x[1]), tanh(0.5 * x[0] + 3 * x[1])]
            return h[0] * h[0] + h[1] * h[1] + 2 * (h[0] * x[0] + h[1] * x[1])
        }
        XCTAssertEqual(printed.count, 2)
        for i in 0..<2 {
            var up = [0.4, -0.3], down = [0.4, -0.3]
            up[i] += 1e-6
            down[i] -= 1e-6
            let numeric = (loss(up) - loss(down)) / 2e-6
            XCTAssertEqual(printed[i], numeric, accuracy: 1e-7 * max(1, abs(numeric)))
        }
    }

    func testScalarFactorsAreWrittenOut() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 2; a = x * x; b = sin(x); f = a + b; :explain f x"))
        XCTAssertTrue(output.text.contains("x → a (as argument 1) → f\n    ∂f/∂a · ∂a/∂x = 1 · 2\n    = 2"), output.text)
        XCTAssertTrue(output.text.contains("∂f/∂b · ∂b/∂x = 1 · (-0.416147)"), output.text)
        XCTAssertTrue(output.text.contains("sum of the paths   = 3.58385\n  reverse pass ∂f/∂x = 3.58385"), output.text)
    }

    /// 2⁷⁰ paths: counted without overflow, listed only up to the limit, and no waiting.
    func testTooManyPathsAreCountedNotListed() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, lattice(70)))
        XCTAssertTrue(execute(session, ":explain L x"))
        XCTAssertTrue(output.text.contains("more paths not listed"), String(output.text.suffix(300)))
        XCTAssertEqual(output.text.components(separatedBy: "  path ").count - 1, Session.pathLimit)
    }

    func testNoPathAndBadArguments() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 1; y = 2; f = y * 3; v = [1, 2]"))
        XCTAssertTrue(execute(session, ":explain f x"))
        XCTAssertTrue(output.text.hasSuffix("∂f/∂x = 0: no path leads from x to f\n"))
        XCTAssertFalse(execute(session, ":explain v x"))
        XCTAssertTrue(output.errors.contains("needs a scalar"))
        XCTAssertFalse(execute(session, ":explain f"))
        XCTAssertTrue(output.errors.contains("usage: :explain L X"))
    }
}
