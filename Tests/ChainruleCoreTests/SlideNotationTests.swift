import _Differentiation
import ChainruleCore
import Foundation
import XCTest

/// Formulas as slides write them: capitalised activation names, `max(0, x)`, `·` for a
/// matrix product, `step` and `sign`. Values are checked against numbers worked out by
/// hand, gradients against Swift's automatic differentiation where kinks make central
/// differences meaningless.
final class SlideNotationTests: XCTestCase {
    func testCapitalisedSpellingsNameTheSameBuiltins() throws {
        let pairs = [("ReLU", "relu"), ("GELU", "gelu"), ("ELU", "elu"), ("Softmax", "softmax"),
                     ("Sigmoid", "sigmoid"), ("Tanh", "tanh")]
        for (slide, builtin) in pairs {
            var script = try Script("x = [-1.5, 0.25, 2]\nA = \(slide)(x)\nB = \(builtin)(x)\nL = [1, -2, 3] @ \(slide)(x)")
            let a = try script.value("A"), b = try script.value("B")
            XCTAssertEqual(a.scalars, b.scalars, slide)
            XCTAssertEqual(script.workspace.graph[try script.id("A")].op.name, builtin, slide)
            XCTAssertEqual(try script.gradient(of: "L", wrt: "x").scalars.count, 3, slide)
        }
        // The slope keyword works under the capitalised name too.
        var script = try Script("x = [-2, 3]\ny = ELU(x, a=0.5)")
        assertClose(try script.value("y"), [0.5 * (exp(-2) - 1), 3], shape: [2])
    }

    func testOtherSpellingsAreSuggestedWhateverTheirCase() throws {
        var script = try Script("x = [1, 2]")
        let relu = expectRefusal("y = ⏶RELU(x)", in: &script, containing: "unknown function 'RELU'")
        XCTAssertEqual(relu?.message, "unknown function 'RELU'; did you mean 'relu'?")
        let softplus = expectRefusal("y = ⏶SoftPlus(x)", in: &script, containing: "unknown function")
        XCTAssertEqual(softplus?.message, "unknown function 'SoftPlus'; did you mean 'softplus'?")
        let leaky = expectRefusal("y = ⏶Leaky_ReLU(x)", in: &script, containing: "unknown function")
        XCTAssertEqual(leaky?.message, "unknown function 'Leaky_ReLU'; did you mean 'leaky_relu'?")
        // A name differing only in case comes first, before names that are merely close.
        XCTAssertEqual(Suggestions.close(to: "X", among: ["x", "y", "X1"]), ["x"])
        XCTAssertEqual(Suggestions.close(to: "Relu", among: ["relu", "elu", "gelu"]).first, "relu")
        // Messages name the function as written.
        let extra = expectRefusal("y = ReLU(x, ⏶x)", in: &script, containing: "ReLU takes at most 1 argument")
        XCTAssertEqual(extra?.message, "ReLU takes at most 1 argument, got 2")
    }

    func testTwoArgumentMaxAndMinAreElementwiseWithBroadcasting() throws {
        var script = try Script("""
            x = [-2, 0, 3]
            M = [[1, 5, -1], [0, -4, 2]]
            a = max(0, x)
            b = min(x, 1)
            c = max(M, x)
            d = min(M, [[0], [1]])
            m = max(x)
            """)
        assertClose(try script.value("a"), [0, 0, 3], shape: [3])
        assertClose(try script.value("b"), [-2, 0, 1], shape: [3])
        assertClose(try script.value("c"), [1, 5, 3, 0, 0, 3], shape: [2, 3])
        assertClose(try script.value("d"), [0, 0, -1, 0, -4, 1], shape: [2, 3])
        // One argument is still the reduction.
        assertClose(try script.value("m"), [3], shape: [])
        let graph = script.workspace.graph
        XCTAssertEqual(graph[try script.id("a")].op.name, "maximum")
        XCTAssertEqual(graph[try script.id("b")].op.name, "minimum")
        XCTAssertEqual(graph[try script.id("m")].op.name, "max")
        // NaN wins, as in NumPy's maximum and minimum.
        XCTAssert(try script.evaluate("max(nan, 1)").scalars[0].isNaN)
        XCTAssert(try script.evaluate("min(1, nan)").scalars[0].isNaN)

        expectRefusal("e = max(x, x, ⏶x)", in: &script, containing: "max takes at most 2 arguments, got 3")
        expectRefusal("e = ⏶min(x)", in: &script, containing: "min needs 2 arguments (a, b); 'b' is missing")
        expectRefusal("e = ⏶max(M, [1, 2])", in: &script, containing: "shapes (2, 3) and (2) do not broadcast for 'max'")
    }

    func testMaxOfZeroAndXHasTheGradientOfReluEvenAtZero() throws {
        let x = [-1.5, 0, 0, 2.5]
        var script = try Script("x = \(literal(x))\nw = [1, 2, -3, 4]\nA = w @ max(0, x)\nB = w @ relu(x)\nC = w @ max(x, 0)")
        let viaMax = try script.gradient(of: "A", wrt: "x")
        let viaRelu = try script.gradient(of: "B", wrt: "x")
        XCTAssertEqual(viaMax.scalars, viaRelu.scalars)
        XCTAssertEqual(viaMax.scalars, [0, 0, 0, 4])
        // The tie goes to the first argument: with x first, x takes the gradient at 0.
        XCTAssertEqual(try script.gradient(of: "C", wrt: "x").scalars, [0, 2, -3, 4])
        // And Swift's automatic differentiation of `a >= b ? a : b` agrees, tie included.
        let w = [1.0, 2, -3, 4]
        let reference = gradient(at: x) { v -> Double in
            var s = 0.0
            for i in 0..<4 { s += w[i] * Ref.maximum(v[i], 0) }
            return s
        }
        XCTAssertEqual(try script.gradient(of: "C", wrt: "x").scalars, Array(reference.base))
    }

    func testMiddleDotIsAMatrixProductBetweenTensorsAndAProductWithAScalar() throws {
        var script = try Script("""
            A = [[1, 2, 3], [4, 5, 6]]
            x = [1, 0, -1]
            s = 2
            h = A·x
            k = s·x
            j = x·s
            d = x·x
            B = A·A.T
            t = 3 · 4
            """)
        assertClose(try script.value("h"), [-2, -2], shape: [2])
        assertClose(try script.value("k"), [2, 0, -2], shape: [3])
        assertClose(try script.value("j"), [2, 0, -2], shape: [3])
        assertClose(try script.value("d"), [2], shape: [])
        assertClose(try script.value("B"), [14, 32, 32, 77], shape: [2, 2])
        assertClose(try script.value("t"), [12], shape: [])
        let graph = script.workspace.graph
        XCTAssertEqual(graph[try script.id("h")].op.name, "matmul")
        XCTAssertEqual(graph[try script.id("k")].op.name, "mul")
        XCTAssertEqual(graph[try script.id("d")].op.name, "matmul")
        // Gradients are those of the product it stands for.
        assertClose(try script.gradient(of: "d", wrt: "x"), [2, 0, -2], shape: [3])
        assertClose(try script.gradient(of: "k", wrt: "s"), [0], shape: [])
        // `×` stays elementwise, and the shapes decide, so a mismatch reads as one of '@'.
        assertClose(try script.evaluate("[1, 2] × [3, 4]"), [3, 8], shape: [2])
        expectRefusal("e = x⏶·A", in: &script, containing: "shapes (3) and (2, 3) do not fit for '@'")
    }

    func testMiddleDotParsesAtTheProductLevelAndPrintsBack() throws {
        let source = Source(name: "t", text: "y = a + B·c^2 ·\n  d")
        let (statements, diagnostics) = Parser.parse(source)
        XCTAssertEqual(diagnostics.map(\.message), [])
        guard case .definition(let d)? = statements.first else { return XCTFail("not a definition") }
        // `·` binds like `*` and `@`, left to right, tighter than `+`, looser than `^`;
        // a line ending after it continues.
        XCTAssertEqual(Printer.expression(d.value), "a + B · c^2 · d")
        guard case .chain(let a, let sum) = d.value.kind, a.kind == .name("a"), sum.map(\.op) == [.add],
              case .chain(let b, let product) = sum[0].operand.kind, b.kind == .name("B"),
              product.map(\.op) == [.middleDot, .middleDot],
              case .binary(.power, _, _) = product[0].operand.kind, product[1].operand.kind == .name("d")
        else { return XCTFail("\(d.value.kind)") }
    }

    /// In a chain each `·` is decided from the shapes on its two sides: the product so far and the next operand.
    func testMiddleDotInAChainIsDecidedLinkByLink() throws {
        var script = try Script("""
            A = [[1, 2, 3], [4, 5, 6]]
            x = [1, 0, -1]
            u = A·x·3
            v = 2·A·x
            w = x·x·A.T
            """)
        assertClose(try script.value("u"), [-6, -6], shape: [2])
        assertClose(try script.value("v"), [-4, -4], shape: [2])
        // x·x is the scalar 2, so the second `·` scales A.T elementwise.
        assertClose(try script.value("w"), [2, 8, 4, 10, 6, 12], shape: [3, 2])
        let graph = script.workspace.graph
        XCTAssertEqual(graph[try script.id("u")].op.name, "mul")
        XCTAssertEqual(graph[graph[try script.id("u")].inputs[0]].op.name, "matmul")
        XCTAssertEqual(graph[try script.id("v")].op.name, "matmul")
        XCTAssertEqual(graph[graph[try script.id("v")].inputs[0]].op.name, "mul")
        XCTAssertEqual(graph[try script.id("w")].op.name, "mul")
        // ∂sum(u)/∂x through the matrix product: 3·(column sums of A).
        var loss = try Script("A = [[1, 2, 3], [4, 5, 6]]\nx = [1, 0, -1]\nL = sum(A·x·3)")
        assertClose(try loss.gradient(of: "L", wrt: "x"), [15, 21, 27], shape: [3])
    }

    func testStepAndSign() throws {
        var script = try Script("x = [-2, -0.0, 0, 0.5, 3]\ns = step(x)\nz = sign(x)\nL = sum(step(x) + sign(x) * x)")
        XCTAssertEqual(try script.value("s").scalars, [0, 0, 0, 1, 1])
        XCTAssertEqual(try script.value("z").scalars, [-1, 0, 0, 1, 1])
        XCTAssert(try script.evaluate("step(nan)").scalars[0].isNaN)
        XCTAssert(try script.evaluate("sign(nan)").scalars[0].isNaN)
        // Both are flat: only the product's own factor x carries a gradient, sign(x).
        XCTAssertEqual(try script.gradient(of: "L", wrt: "x").scalars, [-1, 0, 0, 1, 1])
        XCTAssertEqual(script.workspace.graph[try script.id("s")].op.name, "step")
        XCTAssertEqual(script.workspace.graph[try script.id("z")].op.name, "sign")
    }

    func testElementwiseLocalJacobiansAreDiagonal() throws {
        var script = try Script("x = [-1, 2, 0]\ny = [0, 1, 0]\nm = max(x, y)\nh = step(x)\nl = leaky_relu(x, a=0.5)")
        for name in ["m", "h", "l"] { _ = try script.value(name) }
        let values = script.workspace.evaluation
        func local(_ name: String, _ k: Int) throws -> LocalJacobian.Structure {
            let node = script.workspace.graph[try script.id(name)]
            let inputs = node.inputs.compactMap { values[$0] }
            guard let output = values[try script.id(name)] else { throw ScriptError(description: "no value") }
            return LocalJacobian(op: node.op, inputs: inputs, output: output, argument: k).structure
        }
        XCTAssertEqual(try local("m", 0), .diagonal(Tensor(shape: [3], scalars: [0, 1, 1])))
        XCTAssertEqual(try local("m", 1), .diagonal(Tensor(shape: [3], scalars: [1, 0, 0])))
        XCTAssertEqual(try local("h", 0), .diagonal(Tensor(shape: [3], scalars: [0, 0, 0])))
        XCTAssertEqual(try local("l", 0), .diagonal(Tensor(shape: [3], scalars: [0.5, 1, 0.5])))
    }
}
