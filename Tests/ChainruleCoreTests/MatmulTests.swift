@testable import ChainruleCore
import XCTest

/// Matrix products (OpenBLAS) against the textbook loops: matmul in every rank combination,
/// its reverse rule, einsum contractions against einsum's own term-by-term definition, and
/// stopping between blocks. BLAS sums each element's products in its own order, so results
/// are compared to a tolerance scaled by the sum of the magnitudes of the products.
final class MatmulTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededRandom(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.normal() })
    }

    /// A reference value with the sum of the magnitudes of its terms, which bounds any summation order's error.
    struct Reference {
        var shape: [Int]
        var values: [Double]
        var magnitudes: [Double]
    }

    func assertMatches(_ actual: Tensor?, _ expected: Reference, _ message: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("no result: \(message)", file: file, line: line) }
        XCTAssertEqual(actual.shape, expected.shape, message, file: file, line: line)
        guard actual.count == expected.values.count else { return XCTFail("element count: \(message)", file: file, line: line) }
        for i in expected.values.indices {
            // Any order of summing n terms is within n·ε·Σ|terms| of the exact sum; 1e-13 covers n ≤ 450.
            let bound = 1e-13 * expected.magnitudes[i] + 1e-300
            if abs(actual.scalars[i] - expected.values[i]) > bound {
                return XCTFail("element \(i): \(actual.scalars[i]) vs \(expected.values[i]): \(message)", file: file, line: line)
            }
        }
    }

    /// `a @ b` for rank-2 operands by the triple loop.
    func naive(_ a: Tensor, _ b: Tensor) -> Reference {
        let (n, k, m) = (a.shape[0], a.shape[1], b.shape[1])
        var values = [Double](repeating: 0, count: n * m), magnitudes = values
        for i in 0..<n {
            for j in 0..<m {
                for p in 0..<k {
                    let term = a.scalars[i * k + p] * b.scalars[p * m + j]
                    values[i * m + j] += term
                    magnitudes[i * m + j] += abs(term)
                }
            }
        }
        return Reference(shape: [n, m], values: values, magnitudes: magnitudes)
    }

    func transposed(_ t: Tensor) -> Tensor { t.transposed }

    func testProductsOfEveryShapeAgreeWithTheTripleLoop() {
        // Scalars (1×k·k×1), rows and columns (dgemv), empty and ragged sizes.
        for (n, k, m) in [(1, 1, 1), (1, 7, 1), (1, 5, 6), (6, 5, 1), (4, 4, 4), (5, 7, 6), (13, 1, 17), (0, 3, 2), (2, 0, 3),
                          (3, 4, 0), (70, 300, 61)] {
            let a = random([n, k], seed: UInt64(n * 100 + k)), b = random([k, m], seed: UInt64(m * 7 + 1))
            assertMatches(Matmul.apply(a, b), naive(a, b), "\(n)×\(k) @ \(k)×\(m)")
        }
    }

    func testVectorOperandsArePromotedAndTheAxisDropped() {
        let a = random([4, 3], seed: 1), x = random([3], seed: 2), y = random([4], seed: 3)
        let ax = naive(a, x.reshaped([3, 1]))
        assertMatches(Matmul.apply(a, x), Reference(shape: [4], values: ax.values, magnitudes: ax.magnitudes), "matrix @ vector")
        let ya = naive(y.reshaped([1, 4]), a)
        assertMatches(Matmul.apply(y, a), Reference(shape: [3], values: ya.values, magnitudes: ya.magnitudes), "vector @ matrix")
        let xx = naive(x.reshaped([1, 3]), x.reshaped([3, 1]))
        assertMatches(Matmul.apply(x, x), Reference(shape: [], values: xx.values, magnitudes: xx.magnitudes), "vector @ vector")
    }

    /// Each batch item of `a @ b` (both of rank 3 or more) against the triple loop, with broadcasting.
    func batchedReference(_ a: Tensor, _ b: Tensor) -> Reference {
        let n = a.shape[a.rank - 2], k = a.shape[a.rank - 1], m = b.shape[b.rank - 1]
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = Broadcast.shape(batchA, batchB) ?? []
        let left = Broadcast.sourceIndices(from: batchA, to: batch), right = Broadcast.sourceIndices(from: batchB, to: batch)
        var result = Reference(shape: batch + [n, m], values: [], magnitudes: [])
        for t in left.indices {
            let x = Tensor(shape: [n, k], scalars: Array(a.scalars[(left[t] * n * k)..<((left[t] + 1) * n * k)]))
            let y = Tensor(shape: [k, m], scalars: Array(b.scalars[(right[t] * k * m)..<((right[t] + 1) * k * m)]))
            let item = naive(x, y)
            result.values += item.values
            result.magnitudes += item.magnitudes
        }
        return result
    }

    func testBatchedProductsBroadcastTheirLeadingAxes() {
        // Both batched; only a batched (folded into one product); only b batched; size-1 batch axes.
        for (sa, sb) in [([2, 1, 5, 6], [3, 6, 4]), ([3, 5, 6], [6, 4]), ([2, 3, 5, 6], [1, 6, 4]), ([5, 6], [3, 6, 4]),
                         ([1, 5, 6], [1, 1, 6, 4])] {
            let a = random(sa, seed: 3), b = random(sb, seed: 4)
            let pa = sa.count == 2 ? [1] + sa : sa, pb = sb.count == 2 ? [1] + sb : sb
            var expected = batchedReference(a.reshaped(pa), b.reshaped(pb))
            expected.shape = (try? Matmul.shape(sa, sb).get()) ?? []
            assertMatches(Matmul.apply(a, b), expected, "\(sa) @ \(sb)")
        }
    }

    /// matmul's reverse rule (the graph of products, transposes and sums it emits, evaluated on
    /// its own) against the definition: ∂a = g @ bᵀ and ∂b = aᵀ @ g per item, then summed back
    /// over the batch items that share an operand.
    func testTheReverseRuleIsTheTransposedProductsSummedOverBroadcastAxes() throws {
        for (sa, sb) in [([4, 3], [3, 5]), ([4, 3], [3]), ([3], [3, 5]), ([3], [3]), ([3, 4, 3], [3, 5]), ([4, 3], [2, 3, 5]),
                         ([2, 1, 4, 3], [3, 3, 5]), ([300, 20], [20, 300])] {
            let a = random(sa, seed: 5), b = random(sb, seed: 6)
            guard case .success(let shape) = Matmul.shape(sa, sb) else { return XCTFail("shapes \(sa), \(sb)") }
            let g = random(shape, seed: 7)
            // The same products through matmul itself on explicit transposes, with 1-D operands promoted.
            let pa = Matmul.promotedLeft(sa), pb = Matmul.promotedRight(sb)
            let batch = Broadcast.shape(Array(pa.dropLast(2)), Array(pb.dropLast(2))) ?? []
            let gp = g.reshaped(batch + [pa[pa.count - 2], pb[pb.count - 1]])
            let da = Broadcast.reduce(batchedReferenceTensor(gp, swapLast(b.reshaped(pb))), to: pa).reshaped(sa)
            let db = Broadcast.reduce(batchedReferenceTensor(swapLast(a.reshaped(pa)), gp), to: pb).reshaped(sb)
            for (k, expected) in [(0, da), (1, db)] {
                let actual = try LocalDerivative(op: .matmul, inputs: [a, b], output: Matmul.apply(a, b), argument: k).contribution(g)
                XCTAssertEqual(actual.shape, expected.shape, "\(sa) @ \(sb), input \(k)")
                for i in expected.scalars.indices {
                    XCTAssertEqual(actual.scalars[i], expected.scalars[i], accuracy: 1e-12 * (1 + abs(expected.scalars[i])),
                                   "\(sa) @ \(sb), input \(k), element \(i)")
                }
            }
        }
    }

    func batchedReferenceTensor(_ a: Tensor, _ b: Tensor) -> Tensor {
        let pa = a.rank == 2 ? a.reshaped([1] + a.shape) : a, pb = b.rank == 2 ? b.reshaped([1] + b.shape) : b
        let r = batchedReference(pa, pb)
        let batch = Broadcast.shape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) ?? []
        return Tensor(shape: batch + Array(r.shape.suffix(2)), scalars: r.values)
    }

    /// Swaps the last two axes (rank ≥ 2).
    func swapLast(_ t: Tensor) -> Tensor {
        let rows = t.shape[t.rank - 2], columns = t.shape[t.rank - 1]
        var result = t
        result.shape[t.rank - 2] = columns
        result.shape[t.rank - 1] = rows
        for start in stride(from: 0, to: t.count, by: max(rows * columns, 1)) {
            for r in 0..<rows {
                for c in 0..<columns { result.scalars[start + c * rows + r] = t.scalars[start + r * columns + c] }
            }
        }
        return result
    }

    func testNonFiniteValuesPropagate() {
        let a = Tensor(shape: [4, 4], scalars: [0, .infinity] + Array(repeating: 1, count: 14))
        let b = Tensor(shape: [4, 4], scalars: Array(repeating: 0, count: 16))
        XCTAssertTrue(Matmul.apply(a, b).scalars[0].isNaN, "∞ · 0 is NaN, as in NumPy")
        let v = Tensor([.nan, 1, 2])
        XCTAssertTrue(Matmul.apply(Tensor.zeros([2, 3]), v).scalars.allSatisfy(\.isNaN), "0 · NaN in a matrix–vector product")
        XCTAssertTrue(Matmul.apply(v, Tensor.zeros([3])).scalars[0].isNaN, "0 · NaN in a dot product")
    }

    // MARK: Stopping between blocks

    /// a (2048×256) @ b (256×512): 2²⁸ multiply–adds, four blocks of 512 rows.
    func testLargeProductsPollBetweenBlocks() throws {
        let a = random([2048, 256], seed: 8), b = random([256, 512], seed: 9)
        var polls = 0
        let c = Matmul.apply(a, b, shouldStop: { polls += 1; return false })
        XCTAssertEqual(polls, 3, "a poll between each two of four blocks")
        // Rows from each block and the edges, against the triple loop.
        for (i, j) in [(0, 0), (511, 511), (512, 3), (1100, 200), (1536, 0), (2047, 511)] {
            var total = 0.0, magnitude = 0.0
            for p in 0..<256 {
                total += a.scalars[i * 256 + p] * b.scalars[p * 512 + j]
                magnitude += abs(a.scalars[i * 256 + p] * b.scalars[p * 512 + j])
            }
            XCTAssertEqual(c?.scalars[i * 512 + j] ?? .nan, total, accuracy: 1e-13 * magnitude, "element (\(i), \(j))")
        }

        XCTAssertNil(Matmul.apply(a, b, shouldStop: { true }), "stops after the first block")
        XCTAssertNil(try Op.matmul.forward([a, b], shouldStop: { true }))
        XCTAssertNotNil(Matmul.apply(random([4, 4], seed: 1), random([4, 4], seed: 2), shouldStop: { true }),
                        "a one-block product has nowhere to stop")
    }

    /// Counts the polls of a workspace's `shouldStop` and says stop from the second one on:
    /// a product of several blocks polls more than once, the pass around it at most once here.
    final class StopOnSecondPoll: @unchecked Sendable {
        var calls = 0
        func poll() -> Bool {
            calls += 1
            return calls >= 2
        }
    }

    func testAnEvaluationStopsInsideAMatrixProduct() throws {
        var script = try Script("A = randn(2048, 256, seed=8)\nB = randn(256, 512, seed=9)\nC = A @ B\nL = sum(C)")
        let stop = StopOnSecondPoll()
        script.workspace.shouldStop = { stop.poll() }
        let c = try script.id("C"), l = try script.id("L")
        XCTAssertThrowsError(try script.workspace.value(of: c)) { error in
            guard case EvaluationError.interrupted = error else { return XCTFail("\(error)") }
        }
        XCTAssertNil(script.workspace.evaluation[c], "no partial product is kept")
        XCTAssertGreaterThanOrEqual(stop.calls, 2)

        script.workspace.shouldStop = { false }
        _ = try script.workspace.value(of: l)
        // ∂L/∂A = 1 @ Bᵀ is a product of four blocks.
        let again = StopOnSecondPoll()
        script.workspace.shouldStop = { again.poll() }
        XCTAssertThrowsError(try script.workspace.gradients(of: l)) { error in
            guard case EvaluationError.interrupted = error else { return XCTFail("\(error)") }
        }
        script.workspace.shouldStop = { false }
        let gradients = try script.workspace.gradients(of: l)
        XCTAssertEqual(gradients[try script.id("A")]?.shape, [2048, 256])
    }

    // MARK: einsum

    /// einsum by its definition, term by term, with each element's sum of magnitudes.
    func termByTerm(_ spec: EinsumSpec, _ tensors: [Tensor]) throws -> Reference {
        let shapes = tensors.map(\.shape)
        let (sizes, outputShape) = try spec.sizes(for: shapes)
        let count = outputShape.reduce(1, *)
        var values = [Double](repeating: 0, count: count), magnitudes = values
        spec.forEachTerm(sizes: sizes, shapes: shapes) { offsets, out in
            var product = 1.0
            for k in offsets.indices { product *= tensors[k].scalars[offsets[k]] }
            values[out] += product
            magnitudes[out] += abs(product)
        }
        return Reference(shape: outputShape, values: values, magnitudes: magnitudes)
    }

    func testContractionsAreDetectedAndAgreeWithTheDefinition() throws {
        let cases: [(String, [[Int]], Bool)] = [
            ("ij,jk->ik", [[5, 4], [4, 6]], true), ("ij,j->i", [[5, 4], [4]], true), ("i,i->", [[7], [7]], true),
            ("bij,bjk->bik", [[3, 5, 4], [3, 4, 6]], true), ("ij,kj->ik", [[5, 4], [6, 4]], true),
            ("ji,jk->ik", [[4, 5], [4, 6]], true), ("ij,jk->ki", [[5, 4], [4, 6]], true), ("i,j->ij", [[3], [4]], true),
            ("bi,bi->b", [[3, 5], [3, 5]], true), ("ijk,jl->lik", [[2, 3, 4], [3, 5]], true), ("ij,jk", [[5, 4], [4, 6]], true),
            ("bij,jk->bik", [[3, 5, 4], [4, 6]], true), ("ab,cd->abcd", [[2, 3], [4, 5]], true),
            ("ii,i->i", [[3, 3], [3]], false), ("ij,k->i", [[3, 4], [5]], false), ("ij,ij->ij", [[3, 4], [3, 4]], false),
            ("ij->ji", [[3, 4]], false), ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 5]], false),
        ]
        for (text, shapes, isContraction) in cases {
            let spec = try EinsumSpec(text, operandCount: shapes.count)
            XCTAssertEqual(Contraction(spec) != nil, isContraction, text)
            let plan = try EinsumPlan(spec, shapes: shapes)
            let tensors = shapes.enumerated().map { random($1, seed: UInt64(10 + $0)) }
            assertMatches(plan.apply(tensors), try termByTerm(spec, tensors), text)
            // Each operand's adjoint: the definition's Σ over terms of g[out] · the other operand.
            let output = plan.apply(tensors)
            let g = random(output.shape, seed: 99)
            for k in tensors.indices {
                let actual = plan.adjoint(g, tensors, operand: k)
                let expected = adjointByDefinition(spec, g, tensors, operand: k)
                XCTAssertEqual(actual.shape, tensors[k].shape, "\(text) operand \(k)")
                for i in expected.indices {
                    XCTAssertEqual(actual.scalars[i], expected[i], accuracy: 1e-12 * (1 + abs(expected[i])), "\(text) operand \(k) element \(i)")
                }
            }
        }
    }

    /// `Σ_terms g[out] · Π_{j≠k} t_j` into operand `k`, term by term.
    func adjointByDefinition(_ spec: EinsumSpec, _ g: Tensor, _ tensors: [Tensor], operand k: Int) -> [Double] {
        let shapes = tensors.map(\.shape)
        var expected = [Double](repeating: 0, count: tensors[k].count)
        guard let (sizes, _) = try? spec.sizes(for: shapes) else { return expected }
        spec.forEachTerm(sizes: sizes, shapes: shapes) { offsets, out in
            var product = g.scalars[out]
            for j in offsets.indices where j != k { product *= tensors[j].scalars[offsets[j]] }
            expected[offsets[k]] += product
        }
        return expected
    }

    func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 } }

    /// The op the reverse graph emits for an einsum's reverse rule, through BLAS when the einsum
    /// is a matrix product: its value is the definition's adjoint, and its own reverse rule in each
    /// input is the adjoint of that linear map (⟨h, T(…, v, …)⟩ = ⟨rule(h), v⟩).
    func testEinsumTransposeAgreesWithTheDefinitionAndIsLinear() throws {
        let cases: [(String, [[Int]])] = [
            ("ij,jk->ik", [[5, 4], [4, 6]]), ("ij,j->i", [[5, 4], [4]]), ("i,i->", [[7], [7]]),
            ("bij,bjk->bik", [[3, 5, 4], [3, 4, 6]]), ("ij,kj->ik", [[5, 4], [6, 4]]), ("ijk,jl->lik", [[2, 3, 4], [3, 5]]),
            ("ii,i->i", [[3, 3], [3]]), ("ij,ij->ij", [[3, 4], [3, 4]]), ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 5]]),
        ]
        for (text, shapes) in cases {
            let spec = try EinsumSpec(text, operandCount: shapes.count)
            let plan = try EinsumPlan(spec, shapes: shapes)
            let tensors = shapes.enumerated().map { random($1, seed: UInt64(20 + $0)) }
            let g = random(plan.outputShape, seed: 77)
            for k in tensors.indices {
                let op = Op.einsumTranspose(plan, operand: k)
                var inputs = tensors
                inputs.remove(at: k)
                inputs.insert(g, at: 0)
                XCTAssertEqual(try op.resultShape(inputs.map(\.shape)), shapes[k], "\(text) operand \(k)")
                let value = try op.forward(inputs)
                let expected = adjointByDefinition(spec, g, tensors, operand: k)
                XCTAssertEqual(value.shape, shapes[k])
                for i in expected.indices {
                    XCTAssertEqual(value.scalars[i], expected[i], accuracy: 1e-12 * (1 + abs(expected[i])), "\(text) operand \(k) element \(i)")
                }
                let stoppable = try op.forward(inputs, shouldStop: { false })
                XCTAssertEqual(stoppable?.scalars, value.scalars, "\(text) operand \(k): one code path")
                let h = random(shapes[k], seed: 55)
                for input in inputs.indices {
                    let v = random(inputs[input].shape, seed: 66 + UInt64(input))
                    var moved = inputs
                    moved[input] = v
                    let lhs = dot(h, try op.forward(moved))
                    let back = try LocalDerivative(op: op, inputs: inputs, output: value, argument: input).contribution(h)
                    XCTAssertEqual(back.shape, inputs[input].shape, "\(text) operand \(k) input \(input)")
                    XCTAssertEqual(dot(back, v), lhs, accuracy: 1e-10 * (1 + abs(lhs)), "\(text) operand \(k) input \(input)")
                }
            }
        }
    }

    /// The batched transposition behind `transposeLastTwo`, against the index formula.
    func testSwapLastTwoAgainstTheIndexFormula() {
        for shape in [[2, 3, 37, 41], [5, 1], [1, 4], [0, 3], [3, 0, 2], [64, 33], [2, 1, 1]] {
            let t = random(shape, seed: 5)
            let swapped = Matmul.swapLastTwo(t)
            let rank = shape.count, rows = shape[rank - 2], columns = shape[rank - 1]
            var expectedShape = shape
            expectedShape.swapAt(rank - 2, rank - 1)
            XCTAssertEqual(swapped.shape, expectedShape, "\(shape)")
            XCTAssertEqual(swapped.count, t.count)
            let block = rows * columns
            for batch in 0..<(block == 0 ? 0 : t.count / block) {
                for r in 0..<rows {
                    for c in 0..<columns {
                        XCTAssertEqual(swapped.scalars[batch * block + c * rows + r], t.scalars[batch * block + r * columns + c])
                    }
                }
            }
            XCTAssertEqual(try Op.transposeLastTwo.forward([t]).scalars, swapped.scalars)
            XCTAssertEqual(Matmul.swapLastTwo(swapped).scalars, t.scalars, "an involution")
        }
        let vector = random([4], seed: 1)
        XCTAssertEqual(Matmul.swapLastTwo(vector), vector, "rank 1 is unchanged")
    }

    func testEinsumContractionsStopBetweenBlocks() throws {
        let plan = try EinsumPlan(try EinsumSpec("ij,jk->ik", operandCount: 2), shapes: [[2048, 256], [256, 512]])
        let a = random([2048, 256], seed: 8), b = random([256, 512], seed: 9), g = random([2048, 512], seed: 10)
        XCTAssertNil(plan.apply([a, b], shouldStop: { true }))
        XCTAssertNil(plan.adjoint(g, [a, b], operand: 0, shouldStop: { true }))
        XCTAssertNotNil(plan.apply([a, b], shouldStop: { false }))
        // The adjoint as a node of a reverse graph stops too.
        let transpose = Op.einsumTranspose(plan, operand: 0)
        XCTAssertNil(try transpose.forward([g, b], shouldStop: { true }))
        XCTAssertNotNil(try transpose.forward([g, b], shouldStop: { false }))
    }
}
