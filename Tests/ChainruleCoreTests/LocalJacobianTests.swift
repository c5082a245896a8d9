@testable import ChainruleCore
import Foundation
import XCTest

/// Each structured local Jacobian (`I`, `−I`, `diag(d)`, the matrix `A` of `A @ x`, `Bᵀ` of
/// `x @ B`, `I ⊗ xᵀ`, a constant row) must stand for the matrix that central differences of
/// the op's *forward* rule give: the oracle never calls a derivative rule. And for every op,
/// the local Jacobian shown for an edge and the product the reverse graph sends along it are
/// one rule: both equal central differences of the forward rule, and the product is the
/// upstream gradient times the Jacobian shown.
final class LocalJacobianTests: XCTestCase {
    /// ∂op/∂(argument k) by central differences of `op.forward`, rows = output elements.
    func finiteDifferenceJacobian(_ op: Op, _ inputs: [Tensor], argument k: Int) throws -> Tensor {
        let output = try op.forward(inputs)
        var matrix = Tensor.zeros([output.count, inputs[k].count])
        for c in 0..<inputs[k].count {
            let x = inputs[k].scalars[c], h = 1e-6 * max(1, abs(x))
            var shifted = inputs
            shifted[k].scalars[c] = x + h
            let up = try op.forward(shifted)
            shifted[k].scalars[c] = x - h
            let down = try op.forward(shifted)
            for r in 0..<output.count {
                matrix.scalars[r * inputs[k].count + c] = (up.scalars[r] - down.scalars[r]) / ((x + h) - (x - h))
            }
        }
        return matrix
    }

    /// The matrix a structure stands for, written out here from its definition.
    func expand(_ structure: LocalJacobian.Structure, rows: Int, columns: Int, inputs: [Tensor]) -> Tensor? {
        var m = Tensor.zeros([rows, columns])
        switch structure {
        case .identity, .negatedIdentity:
            for i in 0..<min(rows, columns) { m.scalars[i * columns + i] = structure == .identity ? 1 : -1 }
        case .diagonal(let d):
            for i in 0..<min(rows, columns) { m.scalars[i * columns + i] = d.scalars[i] }
        case .matrix(let operand, let transposed):
            let a = inputs[operand]
            let (n, p) = (a.shape[0], a.shape[1])
            for r in 0..<rows {
                for c in 0..<columns { m.scalars[r * columns + c] = transposed ? a.scalars[c * p + r] : a.scalars[r * p + c] }
            }
            XCTAssertEqual(transposed ? [p, n] : [n, p], [rows, columns])
        case .identityKroneckerRow(let operand):
            // Row i holds xᵀ in the columns of row i of A: ∂(A@x)ᵢ/∂A_ij = x_j.
            let x = inputs[operand]
            for i in 0..<rows {
                for j in 0..<x.count { m.scalars[i * columns + i * x.count + j] = x.scalars[j] }
            }
        case .constantRow(let value):
            for i in m.scalars.indices { m.scalars[i] = value }
        case .dense:
            return nil
        }
        return m
    }

    func assertStructure(_ op: Op, _ inputs: [Tensor], argument k: Int, is expected: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let output = try op.forward(inputs)
        let local = LocalJacobian(op: op, inputs: inputs, output: output, argument: k)
        let name: String = switch local.structure {
        case .identity: "I"
        case .negatedIdentity: "-I"
        case .diagonal: "diag"
        case .matrix(_, let transposed): transposed ? "Bᵀ" : "A"
        case .identityKroneckerRow: "I ⊗ xᵀ"
        case .constantRow: "row"
        case .dense: "dense"
        }
        XCTAssertEqual(name, expected, "\(op.name) argument \(k)", file: file, line: line)
        let oracle = try finiteDifferenceJacobian(op, inputs, argument: k)
        XCTAssertEqual([local.rows, local.columns], oracle.shape, file: file, line: line)
        let matrices = [("structure", expand(local.structure, rows: local.rows, columns: local.columns, inputs: inputs)),
                        ("full", LocalJacobian.full(op: op, inputs: inputs, output: output, argument: k))]
        for case (let what, let matrix?) in matrices {
            for i in oracle.scalars.indices {
                XCTAssertEqual(matrix.scalars[i], oracle.scalars[i], accuracy: 1e-6 * max(1, abs(oracle.scalars[i])),
                               "\(what) of \(op.name) argument \(k), entry \(i)", file: file, line: line)
            }
        }
    }

    func testEveryStructureStandsForItsMatrix() throws {
        let x = Tensor([0.3, -1.2, 2.0]), y = Tensor([1.5, 0.7, -0.4])
        let positive = Tensor([0.5, 1.3, 2.2])
        let a = Tensor(rows: [[1, -2, 0.5], [3, 0.25, -1]])
        let b = Tensor(rows: [[1, -2], [0.5, 3], [0.25, -1]])
        try assertStructure(.identity, [x], argument: 0, is: "I")
        try assertStructure(.binary(.add), [x, y], argument: 0, is: "I")
        try assertStructure(.binary(.add), [x, y], argument: 1, is: "I")
        try assertStructure(.binary(.subtract), [x, y], argument: 0, is: "I")
        try assertStructure(.binary(.subtract), [x, y], argument: 1, is: "-I")
        try assertStructure(.pointwise(.negate), [x], argument: 0, is: "-I")
        try assertStructure(.pointwise(.tanh), [x], argument: 0, is: "diag")
        try assertStructure(.pointwise(.sin), [x], argument: 0, is: "diag")
        try assertStructure(.pointwise(.sigmoid), [x], argument: 0, is: "diag")
        try assertStructure(.binary(.multiply), [x, y], argument: 0, is: "diag")
        try assertStructure(.binary(.multiply), [x, y], argument: 1, is: "diag")
        try assertStructure(.binary(.divide), [x, y], argument: 0, is: "diag")
        try assertStructure(.binary(.divide), [x, y], argument: 1, is: "diag")
        try assertStructure(.binary(.power), [positive, y], argument: 0, is: "diag")
        try assertStructure(.binary(.power), [positive, y], argument: 1, is: "diag")
        try assertStructure(.matmul, [a, x], argument: 1, is: "A")
        try assertStructure(.matmul, [a, x], argument: 0, is: "I ⊗ xᵀ")
        try assertStructure(.matmul, [x, b], argument: 0, is: "Bᵀ")
        try assertStructure(.sum(axis: nil), [a], argument: 0, is: "row")
        try assertStructure(.mean(axis: nil), [a], argument: 0, is: "row")
        // Broadcasting is not elementwise: no structure is claimed, and the full matrix is still right.
        try assertStructure(.binary(.multiply), [a, x], argument: 1, is: "dense")
        try assertStructure(.binary(.add), [Tensor(2), x], argument: 0, is: "dense")
        try assertStructure(.matmul, [x, b], argument: 1, is: "dense")
    }

    // MARK: One rule per op

    /// Every case of ``Op``, by name: the switch stops compiling when a case is added, so that
    /// a new op joins ``everyOp`` below.
    func caseName(_ op: Op) -> String {
        switch op {
        case .constant: "constant"
        case .identity: "identity"
        case .binary: "binary"
        case .pointwise: "pointwise"
        case .matmul: "matmul"
        case .dot: "dot"
        case .transpose: "transpose"
        case .index: "index"
        case .stack: "stack"
        case .sum: "sum"
        case .mean: "mean"
        case .max: "max"
        case .softmax: "softmax"
        case .logSoftmax: "logSoftmax"
        case .einsum: "einsum"
        case .loss: "loss"
        case .sumTo: "sumTo"
        case .broadcastTo: "broadcastTo"
        case .reshape: "reshape"
        case .transposeLastTwo: "transposeLastTwo"
        case .select: "select"
        case .compare: "compare"
        case .scatter: "scatter"
        case .argmaxMask: "argmaxMask"
        case .oneHot: "oneHot"
        case .einsumTranspose: "einsumTranspose"
        }
    }

    static let allCaseNames: Set = [
        "constant", "identity", "binary", "pointwise", "matmul", "dot", "transpose", "index", "stack", "sum", "mean", "max",
        "softmax", "logSoftmax", "einsum", "loss", "sumTo", "broadcastTo", "reshape", "transposeLastTwo", "select", "compare",
        "scatter", "argmaxMask", "oneHot", "einsumTranspose",
    ]

    /// Every op (every case of the enumerable families) at inputs inside its domain, away from
    /// kinks and ties, where central differences are exact to their tolerance.
    func everyOp() throws -> [(op: Op, inputs: [Tensor])] {
        let x = Tensor([0.3, -1.2, 2.0]), y = Tensor([1.5, 0.7, -0.4]), positive = Tensor([0.5, 1.3, 2.2])
        let a = Tensor(rows: [[1, -2, 0.5], [3, 0.25, -1]])
        let b = Tensor(rows: [[1, -2], [0.5, 3], [0.25, -1]])
        let batch = Tensor(shape: [2, 2, 3], scalars: [0.1, -0.5, 0.9, 1.2, -0.3, 0.4, 0.7, 0.2, -1.1, 0.6, 0.8, -0.2])
        let probabilities = Tensor(rows: [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
        let targets = Tensor(rows: [[0.1, 0.3, 0.6], [0.25, 0.5, 0.25]])
        var ops: [(op: Op, inputs: [Tensor])] = [(.identity, [x])]
        for p in Pointwise.allCases { ops.append((.pointwise(p), [p == .log || p == .sqrt ? positive : x])) }
        for op in BinaryArithmetic.allCases {
            switch op {
            case .power: ops.append((.binary(op), [positive, y]))
            case .leakyRelu, .elu: ops.append((.binary(op), [x, Tensor(0.2)]))
            default: ops.append((.binary(op), [x, y]))
            }
        }
        ops.append((.binary(.multiply), [a, x]))  // broadcasting
        for loss in Loss.allCases {
            switch loss {
            case .crossEntropy:
                ops.append((.loss(loss), [a, targets]))
                ops.append((.loss(loss), [a, Tensor([2, 0])]))  // class indices
            case .mse, .bceWithLogits: ops.append((.loss(loss), [a, targets]))
            case .bce, .kl: ops.append((.loss(loss), [probabilities, targets]))
            }
        }
        for c in [Comparison.greater, .greaterEqual, .equal] { ops.append((.compare(c), [x, y])) }
        let index = try IndexPlan(components: [.at(-1), .slice(start: nil, stop: nil, step: -1)], shape: [2, 3])
        let product = try EinsumPlan(try EinsumSpec("ij,jk->ik", operandCount: 2), shapes: [[2, 3], [3, 2]])
        let trace = try EinsumPlan(try EinsumSpec("ii->", operandCount: 1), shapes: [[2, 2]])
        let three = try EinsumPlan(try EinsumSpec("ij,jk,k->i", operandCount: 3), shapes: [[2, 3], [3, 2], [2]])
        ops += [
            (.matmul, [a, x]), (.matmul, [x, b]), (.matmul, [a, b]), (.matmul, [batch, b]), (.matmul, [x, y]),
            (.dot, [x, y]), (.transpose, [a]), (.index(index), [a]), (.stack, [x, y]),
            (.sum(axis: nil), [a]), (.sum(axis: 0), [a]), (.sum(axis: 1), [a]), (.mean(axis: nil), [a]), (.mean(axis: 1), [a]),
            (.max, [x]), (.softmax, [a]), (.logSoftmax, [a]),
            (.einsum(product), [a, b]), (.einsum(trace), [Tensor(rows: [[1, 2], [3, 4]])]), (.einsum(three), [a, b, Tensor([0.5, -1])]),
            (.sumTo([3]), [a]), (.sumTo([2, 1]), [a]), (.broadcastTo([2, 3]), [x]), (.reshape([3, 2]), [a]),
            (.transposeLastTwo, [batch]), (.select, [Tensor([1, 0, 1]), x, y]), (.scatter(index), [x]),
            (.argmaxMask, [x]), (.oneHot(classes: 3), [Tensor([2, 0])]),
            (.einsumTranspose(product, operand: 0), [Tensor(rows: [[1, -1], [0.5, 2]]), b]),
            (.einsumTranspose(product, operand: 1), [Tensor(rows: [[1, -1], [0.5, 2]]), a]),
        ]
        return ops
    }

    /// The contribution the reverse graph of a computation sends along edge `k` of `op`'s node,
    /// where the node's gradient is `upstream`: the graph `L = sum(op(x₀, …) · w)` with `w` a
    /// constant equal to `upstream`, differentiated as `:backward` differentiates (nil: no edge).
    func reverseGraphContribution(_ op: Op, _ inputs: [Tensor], argument k: Int, upstream: Tensor) throws -> Tensor? {
        var graph = Graph()
        for (j, x) in inputs.enumerated() {
            let id = graph.append(.constant, EmptyCollection(), shape: x.shape, kind: .param, value: x)
            graph.setName("x\(j)", of: id)
        }
        let shape = try op.resultShape(inputs.map(\.shape))
        let node = graph.append(op, 0..<inputs.count, shape: shape, kind: .op)
        let w = graph.append(.constant, EmptyCollection(), shape: shape, kind: .input, value: upstream)
        let weighted = graph.append(.binary(.multiply), [node, w], shape: shape, kind: .op)
        let output = graph.append(.sum(axis: nil), [weighted], shape: [], kind: .op)
        var values = Evaluation()
        try values.computeAll(in: graph)
        let reverse = try ReverseMode.build(graph, output: output)
        let gradients = reverse.gradients(try reverse.evaluate(forward: values))
        return gradients.contributions.first { $0.consumer == node && $0.argument == k }?.value
    }

    /// The "one derivative per op" check: for every op and argument, the local Jacobian shown
    /// (``LocalJacobian/full(op:inputs:output:argument:)`` and its structure) is the Jacobian of
    /// central differences of the forward rule, and the reverse graph's contribution along the
    /// edge for a random upstream gradient is that gradient times the Jacobian shown.
    func testTheJacobianShownAndTheReverseGraphsProductComeFromOneRule() throws {
        let ops = try everyOp()
        XCTAssertEqual(Set(ops.map { caseName($0.op) }).union(["constant"]), Self.allCaseNames, "every op is checked")
        var random = SeededRandom(seed: 17)
        for (op, inputs) in ops {
            let output = try op.forward(inputs)
            let shapes = inputs.map(\.shape)
            for k in inputs.indices {
                let label = "\(op.name) \(shapes) argument \(k)"
                let shown = LocalJacobian.full(op: op, inputs: inputs, output: output, argument: k)
                XCTAssertEqual(shown.shape, [output.count, inputs[k].count], label)
                let upstream = Tensor(shape: output.shape, scalars: (0..<output.count).map { _ in random.uniform() * 2 - 1 })
                let contribution = try reverseGraphContribution(op, inputs, argument: k, upstream: upstream)
                guard op.differentiates(argument: k, shapes: shapes) else {
                    XCTAssert(shown.scalars.allSatisfy { $0 == 0 }, "\(label): not differentiated, nothing shown but zeros")
                    XCTAssertNil(contribution, "\(label): not differentiated, no contribution")
                    continue
                }
                let oracle = try finiteDifferenceJacobian(op, inputs, argument: k)
                assertClose(shown, oracle.scalars, shape: oracle.shape, .finiteDifference, "\(label): the Jacobian shown")
                let local = LocalJacobian(op: op, inputs: inputs, output: output, argument: k)
                if let structured = expand(local.structure, rows: local.rows, columns: local.columns, inputs: inputs) {
                    assertClose(structured, shown.scalars, .exact, "\(label): its structure")
                }
                // upstream · J, row by row, from the matrix shown.
                var expected = [Double](repeating: 0, count: inputs[k].count)
                for r in 0..<output.count {
                    for c in expected.indices { expected[c] += upstream.scalars[r] * shown.scalars[r * expected.count + c] }
                }
                assertClose(contribution, expected, shape: inputs[k].shape, .exact, "\(label): the reverse graph's product")
            }
        }
    }
}
