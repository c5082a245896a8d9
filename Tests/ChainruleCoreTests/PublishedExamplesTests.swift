import ChainruleCore
import Foundation
import XCTest

/// Worked examples from well-known teaching material, with the numbers they publish.
final class PublishedExamplesTests: XCTestCase {
    /// CS231n, "Backpropagation, Intuitions": the first circuit.
    func testCS231nSumTimesProduct() throws {
        var script = try Script("x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z")
        assertClose(try script.value("q").scalars.first, 3)
        assertClose(try script.value("f").scalars.first, -12)
        assertClose(try script.gradient(of: "f", wrt: "x"), [-4], shape: [])
        assertClose(try script.gradient(of: "f", wrt: "y"), [-4], shape: [])
        assertClose(try script.gradient(of: "f", wrt: "z"), [3], shape: [])
        assertClose(try script.gradient(of: "f", wrt: "q"), [-4], shape: [])
    }

    /// The same circuit written as one formula: the parenthesised sum is an unnamed node.
    func testCS231nSumTimesProductAsOneFormula() throws {
        var script = try Script("x = -2\ny = 5\nz = -4\nf = (x + y) * z")
        assertClose(try script.value("f").scalars.first, -12)
        let gradients = try script.workspace.gradients(of: try script.id("f"))
        assertClose(gradients[try script.id("x")], [-4])
        assertClose(gradients[try script.id("y")], [-4])
        assertClose(gradients[try script.id("z")], [3])
    }

    /// CS231n's two-input sigmoid neuron. The course prints the gradients to two or
    /// eight decimals; the exact values are σ(1)·(1 − σ(1)) = 0.19661193324148185 times
    /// the other factor of each product.
    func testCS231nSigmoidNeuron() throws {
        let text = "w0 = 2\nx0 = -1\nw1 = -3\nx1 = -2\nw2 = -3\nf = 1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))"
        var script = try Script(text)
        let published = Tolerance.published(decimals: 8)
        assertClose(try script.value("f").scalars.first, 0.73105857863, .published(decimals: 11))
        assertClose(try script.gradient(of: "f", wrt: "w0").scalars.first, -0.19661193, published)
        assertClose(try script.gradient(of: "f", wrt: "x0").scalars.first, 0.39322387, published)
        assertClose(try script.gradient(of: "f", wrt: "w1").scalars.first, -0.39322387, published)
        assertClose(try script.gradient(of: "f", wrt: "x1").scalars.first, -0.59, .published(decimals: 2))
        assertClose(try script.gradient(of: "f", wrt: "x1").scalars.first, -0.58983580, published)
        assertClose(try script.gradient(of: "f", wrt: "w2").scalars.first, 0.19661193, published)

        // The built-in sigmoid is the same neuron.
        var builtin = try Script("w0 = 2\nx0 = -1\nw1 = -3\nx1 = -2\nw2 = -3\nf = sigmoid(w0 * x0 + w1 * x1 + w2)")
        let sigma = 1 / (1 + exp(-1.0)), slope = sigma * (1 - sigma)
        for (name, factor) in [("w0", -1.0), ("x0", 2), ("w1", -2), ("x1", -3), ("w2", 1)] {
            assertClose(try builtin.gradient(of: "f", wrt: name), [slope * factor], shape: [], .exact, name)
            assertClose(try script.gradient(of: "f", wrt: name), [slope * factor], shape: [], .exact, name)
        }
        assertClose(try builtin.value("f").scalars.first, 1 / (1 + exp(-1.0)))
    }

    /// The example from micrograd's README (Karpathy), with each reassignment of `c`,
    /// `d` and `g` given its own name, since definitions here are formulas.
    func testMicrogradReadme() throws {
        var script = try Script("""
            a = -4.0
            b = 2.0
            c1 = a + b
            d1 = a * b + b^3
            c2 = c1 + c1 + 1
            c3 = c2 + 1 + c2 + (-a)
            d2 = d1 + d1 * 2 + relu(b + a)
            d3 = d2 + 3 * d2 + relu(b - a)
            e = c3 - d3
            f = e^2
            g1 = f / 2.0
            g = g1 + 10.0 / f
            """)
        let fourDecimals = Tolerance.published(decimals: 4)
        assertClose(try script.value("g").scalars.first, 24.7041, fourDecimals)
        assertClose(try script.gradient(of: "g", wrt: "a").scalars.first, 138.8338, fourDecimals)
        assertClose(try script.gradient(of: "g", wrt: "b").scalars.first, 645.5773, fourDecimals)
        // By hand: c3 = −1, d3 = 6, so e = −7, f = 49 and g = 49/2 + 10/49.
        assertClose(try script.value("c3").scalars.first, -1)
        assertClose(try script.value("d3").scalars.first, 6)
        assertClose(try script.value("g").scalars.first, 24.5 + 10.0 / 49.0)
    }

    /// A two-layer network step by hand (Rumelhart–Hinton–Williams style), with every
    /// number computed independently below.
    func testTwoLayerNetworkByHand() throws {
        var script = try Script("""
            x = [1.0, 2.0]
            W1 = [[0.1, 0.2], [0.3, -0.4]]
            W2 = [0.5, -0.6]
            h = sigmoid(W1 @ x)
            y = W2 @ h
            L = mse(y, 1)
            """)
        let s = { (z: Double) in 1 / (1 + exp(-z)) }
        let h = [s(0.1 + 0.4), s(0.3 - 0.8)]
        let y = 0.5 * h[0] - 0.6 * h[1]
        assertClose(try script.value("L").scalars.first, (y - 1) * (y - 1))
        let dy = 2 * (y - 1)
        assertClose(try script.gradient(of: "L", wrt: "W2"), [dy * h[0], dy * h[1]], shape: [2])
        let dz = [dy * 0.5 * h[0] * (1 - h[0]), dy * -0.6 * h[1] * (1 - h[1])]
        assertClose(try script.gradient(of: "L", wrt: "W1"), [dz[0] * 1, dz[0] * 2, dz[1] * 1, dz[1] * 2], shape: [2, 2])
        assertClose(try script.gradient(of: "L", wrt: "x"), [dz[0] * 0.1 + dz[1] * 0.3, dz[0] * 0.2 - dz[1] * 0.4], shape: [2])
    }
}
