@testable import ChainruleCore
import XCTest

/// `hardtanh`, the elementwise op added as one entry of ``Pointwise``.
final class HardtanhTests: XCTestCase {
    /// PyTorch's `Hardtanh` documentation: `max_val` if `x > max_val`, `min_val` if `x < min_val`,
    /// else `x`, with `min_val = −1`, `max_val = 1` (so `hardtanh(−2) = −1`, `hardtanh(0.5) = 0.5`).
    func testPublishedValues() throws {
        var script = try Script("x = [-2, -1, -0.5, 0, 0.5, 1, 2]\ny = hardtanh(x)")
        assertClose(try script.value("y"), [-1, -1, -0.5, 0, 0.5, 1, 1], .exact, "hardtanh")
        XCTAssertTrue(try script.evaluate("hardtanh(nan)").scalars[0].isNaN, "NaN stays NaN")
    }

    /// The gradient against central differences away from the kinks, and 0 at the kinks ±1 and
    /// outside (PyTorch's `hardtanh_backward` passes the gradient only for `min_val < x < max_val`).
    func testGradientAgainstCentralDifferences() throws {
        var script = try Script("param x = [-1.7, -0.6, 0.2, 0.9, 1.4]\nL = sum(hardtanh(x) * [1, -2, 3, 0.5, 2])")
        let reverse = try script.gradient(of: "L", wrt: "x")
        let numeric = try script.finiteDifference(of: "L", wrt: "x")
        assertClose(reverse, numeric.scalars, shape: numeric.shape, .finiteDifference, "∂L/∂x against central differences")
        assertClose(reverse, [0, -2, 3, 0.5, 0], .exact, "∂L/∂x")
        var kinks = try Script("param x = [-1, 1]\nL = sum(hardtanh(x))")
        assertClose(try kinks.gradient(of: "L", wrt: "x"), [0, 0], .exact, "derivative 0 at the kinks")
    }
}
