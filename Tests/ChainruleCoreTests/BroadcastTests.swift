@testable import ChainruleCore
import XCTest

/// The row-by-row paths of broadcasting (a tensor repeating along leading axes only) and the
/// blocked matrix transpose give exactly what the general index maps give.
final class BroadcastTests: XCTestCase {
    func general(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ f: (Double, Double) -> Double) -> [Double] {
        let left = Broadcast.sourceIndices(from: a.shape, to: shape), right = Broadcast.sourceIndices(from: b.shape, to: shape)
        return left.indices.map { f(a.scalars[left[$0]], b.scalars[right[$0]]) }
    }

    func testRowsCombineExpandAndSumBackLikeTheIndexMaps() {
        var random = SeededRandom(seed: 3)
        let full = Tensor(shape: [4, 2, 3], scalars: (0..<24).map { _ in random.normal() })
        for row in [Tensor(shape: [3], scalars: [0.5, -1, 2]), Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])] {
            XCTAssertEqual(Broadcast.rowRepeats(row.shape, in: full.shape), 24 / row.count)
            XCTAssertEqual(Broadcast.zip(full, row, to: full.shape, -).scalars, general(full, row, full.shape, -))
            XCTAssertEqual(Broadcast.zip(row, full, to: full.shape, /).scalars, general(row, full, full.shape, /))
            let expanded = Broadcast.expand(row, to: full.shape)
            XCTAssertEqual(expanded.scalars, Broadcast.sourceIndices(from: row.shape, to: full.shape).map { row.scalars[$0] })
            var summed = [Double](repeating: 0, count: row.count)
            for (i, j) in Broadcast.sourceIndices(from: row.shape, to: full.shape).enumerated() { summed[j] += full.scalars[i] }
            XCTAssertEqual(Broadcast.reduce(full, to: row.shape).scalars, summed, "the same sums, in the same order")
        }
        XCTAssertNil(Broadcast.rowRepeats([1, 3], in: [4, 3]), "a leading 1 is not a row: the general path")
        XCTAssertNil(Broadcast.rowRepeats([4, 1], in: [4, 3]))
    }

    func testBlockedTransposeOfMatricesOfEveryShapeAroundTheBlock() {
        for (m, n) in [(1, 1), (1, 70), (70, 1), (31, 33), (32, 32), (65, 40)] {
            let a = Tensor(shape: [m, n], scalars: (0..<(m * n)).map(Double.init))
            let t = a.transposed
            XCTAssertEqual(t.shape, [n, m])
            for i in 0..<m { for j in 0..<n { XCTAssertEqual(t.scalars[j * m + i], a.scalars[i * n + j]) } }
        }
    }
}
