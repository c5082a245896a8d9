@testable import ChainruleCore
@testable import ChainruleSession
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

    func testPathsAddUpToTheReversePass() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, lattice(4)))
        let workspace = session.workspace
        let (x, l) = (try XCTUnwrap(workspace.graph.node(named: "x")), try XCTUnwrap(workspace.graph.node(named: "L")))
        let between = session.nodesBetween(x, l)
        // u0 = x is an identity node; every layer offers two routes, so 2⁴ paths.
        XCTAssertEqual(session.countPaths(from: x, to: l, through: between), 16)
        let paths = session.enumeratePaths(from: x, to: l, through: between, limit: 100)
        XCTAssertEqual(paths.count, 16)
        XCTAssertEqual(Set(paths.map { $0.map { "\($0.consumer):\($0.argument)" } }).count, 16, "the paths are distinct")
        XCTAssertTrue(execute(session, ":explain L x"))
        var sum = Tensor.zeros([2])
        for path in paths { sum.accumulate(session.pullAlong(path, from: l).0) }
        var copy = session.workspace
        let gradient = try XCTUnwrap(copy.gradients(of: l)[x])
        for i in 0..<2 { XCTAssertEqual(sum.scalars[i], gradient.scalars[i], accuracy: 1e-12 * max(1, abs(gradient.scalars[i]))) }
        XCTAssertTrue(output.text.contains("as a sum over 16 paths"), output.text)
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
