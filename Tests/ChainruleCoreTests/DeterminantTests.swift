import ChainruleCore
import XCTest

/// The determinant `:jacobian` shows, against values worked by hand.
final class DeterminantTests: XCTestCase {
    func testDeterminantsWithPivotingSingularAndEmptyMatrices() {
        // Expanded along the first row: 0·(…) − 2·(1·10 − 6·7) + 3·(1·8 − 5·7) = 64 − 81 = −17.
        XCTAssertEqual(LinearAlgebra.determinant([0, 2, 3, 1, 5, 6, 7, 8, 10], size: 3), -17, accuracy: 1e-12)
        XCTAssertEqual(LinearAlgebra.determinant([1, 2, 2, 4], size: 2), 0, "singular")
        XCTAssertEqual(LinearAlgebra.determinant([], size: 0), 1, "empty")
        XCTAssertEqual(LinearAlgebra.determinant([-3], size: 1), -3)
        // A permutation matrix of one swap.
        XCTAssertEqual(LinearAlgebra.determinant([0, 1, 0, 1, 0, 0, 0, 0, 1], size: 3), -1)
    }
}
