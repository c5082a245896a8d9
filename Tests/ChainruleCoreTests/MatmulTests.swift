@testable import ChainruleCore
import XCTest

/// The tiled matmul kernel against the textbook triple loop, on sizes that exercise
/// whole tiles, ragged edges and batch broadcasting. Both sum each element's products
/// in the same order, so the results must agree exactly.
final class MatmulTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededRandom(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.normal() })
    }

    func naive(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (n, k, m) = (a.shape[0], a.shape[1], b.shape[1])
        var out = Tensor.zeros([n, m])
        for i in 0..<n {
            for j in 0..<m {
                var total = 0.0
                for p in 0..<k { total += a.scalars[i * k + p] * b.scalars[p * m + j] }
                out.scalars[i * m + j] = total
            }
        }
        return out
    }

    func testTilesAndEdgesAgreeWithTheTripleLoop() {
        for (n, k, m) in [(1, 1, 1), (4, 4, 4), (5, 7, 6), (8, 3, 9), (3, 5, 4), (13, 1, 17), (16, 16, 16), (0, 3, 2), (2, 0, 3),
                          (70, 300, 61)] {  // the last is large enough to be split between threads
            let a = random([n, k], seed: UInt64(n * 100 + k)), b = random([k, m], seed: UInt64(m * 7 + 1))
            let product = Matmul.apply(a, b)
            XCTAssertEqual(product.shape, [n, m])
            XCTAssertEqual(product.scalars, naive(a, b).scalars, "\(n)×\(k) @ \(k)×\(m)")
        }
    }

    func testBatchedProductsBroadcastTheirLeadingAxes() {
        let a = random([2, 1, 5, 6], seed: 3), b = random([3, 6, 4], seed: 4)
        let product = Matmul.apply(a, b)
        XCTAssertEqual(product.shape, [2, 3, 5, 4])
        for i in 0..<2 {
            for j in 0..<3 {
                let left = Tensor(shape: [5, 6], scalars: Array(a.scalars[(i * 30)..<(i * 30 + 30)]))
                let right = Tensor(shape: [6, 4], scalars: Array(b.scalars[(j * 24)..<(j * 24 + 24)]))
                let block = Array(product.scalars[((i * 3 + j) * 20)..<((i * 3 + j) * 20 + 20)])
                XCTAssertEqual(block, naive(left, right).scalars, "batch (\(i), \(j))")
            }
        }
    }

    func testNonFiniteValuesPropagate() {
        let a = Tensor(shape: [4, 4], scalars: [0, .infinity] + Array(repeating: 1, count: 14))
        let b = Tensor(shape: [4, 4], scalars: Array(repeating: 0, count: 16))
        XCTAssertTrue(Matmul.apply(a, b).scalars[0].isNaN, "∞ · 0 is NaN, as in NumPy")
    }
}
