import ChainruleCore
import Foundation
import XCTest

/// Each structured local Jacobian (`I`, `−I`, `diag(d)`, the matrix `A` of `A @ x`, `Bᵀ` of
/// `x @ B`, `I ⊗ xᵀ`, a constant row) must stand for the matrix that central differences of
/// the op's *forward* rule give: the oracle never calls a pullback.
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
}
