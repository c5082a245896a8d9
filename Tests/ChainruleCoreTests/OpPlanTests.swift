import ChainruleCore
import Foundation
import XCTest

/// What an op settles when its node is built (index plans, resolved axes, einsum sizes)
/// travels in the op, so its reverse rule cannot fail; and a state the forward pass refuses
/// never turns into a plausible zero gradient.
final class OpPlanTests: XCTestCase {
    func testAnIndexIsPlannedForTheShapeItWasBuiltFor() throws {
        let plan = try IndexPlan(components: [.at(-1), .slice(start: nil, stop: nil, step: -1)], shape: [2, 3])
        XCTAssertEqual(plan.sourceShape, [2, 3])
        XCTAssertEqual(try Op.index(plan).resultShape([[2, 3]]), [3])
        XCTAssertThrowsError(try Op.index(plan).resultShape([[3, 3]])) { error in
            XCTAssertEqual((error as? ShapeMessage)?.text, "an index planned for shape (2, 3) cannot index shape (3, 3)")
        }
        // The reverse rule scatters into the planned shape: x[-1, ::-1] of a (2, 3) matrix.
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let y = try Op.index(plan).forward([x])
        XCTAssertEqual(y.scalars, [6, 5, 4])
        let g = try LocalDerivative(op: .index(plan), inputs: [x], output: y, argument: 0).contribution(Tensor([10, 20, 30]))
        XCTAssertEqual(g.shape, [2, 3])
        XCTAssertEqual(g.scalars, [0, 0, 0, 30, 20, 10])
    }

    func testReductionAxesAreResolvedWhenTheNodeIsBuilt() throws {
        // A negative axis is counted from the end by the lowering; the op holds the result.
        var script = try Script("X = [[1, 2, 3], [4, 5, 6]]\nr = sum(X, -1)\nm = mean(X, axis=-2)")
        XCTAssertEqual(script.workspace.graph[try script.id("r")].op, .sum(axis: 1))
        XCTAssertEqual(script.workspace.graph[try script.id("m")].op, .mean(axis: 0))
        assertClose(try script.value("r"), [6, 15], shape: [2])
        assertClose(try script.value("m"), [2.5, 3.5, 4.5], shape: [3])
        assertClose(try script.gradient(of: "m", wrt: "X"), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], shape: [2, 3])
        // An op whose axis was not resolved cannot become a node.
        XCTAssertThrowsError(try Op.sum(axis: -1).resultShape([[2, 3]])) { error in
            XCTAssertEqual((error as? ShapeMessage)?.text, "axis -1 is out of range for a tensor of rank 2")
        }
        expectRefusal("s = ⏶sum(X, axis=2)", in: &script, containing: "axis 2 is out of range for a tensor of rank 2")
        expectRefusal("s = ⏶mean(X, -3)", in: &script, containing: "axis -3 is out of range for a tensor of rank 2")
    }

    func testAnEinsumIsBoundToItsOperandShapes() throws {
        let spec = try EinsumSpec("ij,j->i", operandCount: 2)
        let plan = try EinsumPlan(spec, shapes: [[2, 3], [3]])
        XCTAssertEqual(plan.sizes, [2, 3])
        XCTAssertEqual(try Op.einsum(plan).resultShape([[2, 3], [3]]), [2])
        XCTAssertThrowsError(try Op.einsum(plan).resultShape([[2, 4], [4]]))
        XCTAssertThrowsError(try EinsumPlan(spec, shapes: [[2, 3], [4]])) { error in
            XCTAssertEqual((error as? ShapeMessage)?.text, "einsum subscript 'j' has size 3 in one place and 4 in another")
        }
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), x = Tensor([1, 0, -1])
        let y = try Op.einsum(plan).forward([a, x])
        XCTAssertEqual(y.scalars, [-2, -2])
        let g = try LocalDerivative(op: .einsum(plan), inputs: [a, x], output: y, argument: 1).contribution(Tensor([1, 2]))
        XCTAssertEqual(g.scalars, [9, 12, 15])
    }

    /// `one_hot` takes a constant whole number of classes, at least 1, and refuses an index that is
    /// not a whole number in range when its values are known; `matrix_transpose` needs two axes;
    /// cross_entropy's indices have the logits' shape without the last axis.
    func testTheNewBuiltinsRefuseWhatTheyCannotDo() throws {
        var script = try Script("input c = [0, 2]\nZ = [[[1, 2, 3], [4, 5, 6]]]")
        expectRefusal("h = one_hot(c, ⏶0)", in: &script, containing: "the number of classes must be at least 1, got 0")
        expectRefusal("h = one_hot(c, classes=⏶2.5)", in: &script, containing: "the number of classes must be a whole number")
        expectRefusal("h = one_hot(c, ⏶c)", in: &script, containing: "the number of classes must be a constant")
        expectRefusal("h = ⏶one_hot(c)", in: &script, containing: "one_hot needs 2 arguments (t, classes); 'classes' is missing")
        expectRefusal("h = ⏶one_hot([0, 3], 3)", in: &script, containing: "class index 3 is not a whole number from 0 to 2")
        expectRefusal("h = ⏶matrix_transpose(c)", in: &script, containing: "matrix_transpose needs a tensor of rank 2 or more, got shape (2)")
        expectRefusal("L = ⏶cross_entropy(Z, [0, 1])", in: &script,
                      containing: "cross_entropy target must be class indices of shape (1, 2) or probabilities of shape (1, 2, 3), got (2)")
        XCTAssertThrowsError(try Op.oneHot(classes: 3).forward([Tensor([0.5])])) { error in
            XCTAssertEqual((error as? ShapeMessage)?.text, "class index 0.5 is not a whole number from 0 to 2")
        }
        XCTAssertEqual(try Op.transposeLastTwo.resultShape([[4, 2, 3]]), [4, 3, 2])
    }

    func testCrossEntropyNeverPullsBackAZeroForATargetTheForwardPassRefuses() throws {
        let z = Tensor([0.5, -1, 2])
        let op = Op.loss(.crossEntropy)
        XCTAssertThrowsError(try op.forward([z, Tensor(1.5)])) { error in
            XCTAssertEqual((error as? ShapeMessage)?.text, "cross_entropy class index 1.5 is not a whole number")
        }
        XCTAssertThrowsError(try op.forward([z, Tensor(3)])) { error in
            XCTAssertEqual((error as? ShapeMessage)?.text, "cross_entropy class index 3 is out of range for 3 classes (0 to 2)")
        }
        // Were such a target ever pulled back, the reverse rule refuses it (the one-hot of the
        // target fails as the forward pass did), and a shown Jacobian reads NaN, not a believable 0.
        for bad in [1.5, 3, -1, .nan] {
            let rule = try LocalDerivative(op: op, inputs: [z, Tensor(bad)], output: Tensor(0), argument: 0)
            XCTAssertThrowsError(try rule.contribution(Tensor(1)), "target \(bad)")
            let shown = LocalJacobian.full(op: op, inputs: [z, Tensor(bad)], output: Tensor(0), argument: 0)
            XCTAssert(shown.scalars.allSatisfy(\.isNaN), "target \(bad): \(shown.scalars)")
        }
        // A valid index: softmax(z) − onehot.
        let total = exp(0.5) + exp(-1) + exp(2)
        let g = try LocalDerivative(op: op, inputs: [z, Tensor(2)], output: Tensor(0), argument: 0).contribution(Tensor(1))
        assertClose(g, [exp(0.5) / total, exp(-1) / total, exp(2) / total - 1], shape: [3])
    }
}
