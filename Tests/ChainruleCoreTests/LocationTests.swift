import ChainruleCore
import XCTest

/// A statement cut short points at the operator that leaves it open, never past the end
/// of the text or at the next statement.
final class LocationTests: XCTestCase {
    func diagnostics(_ text: String) -> [String] {
        Parser.parse(Source(name: "t.graph", text: text)).diagnostics.map {
            "\($0.span?.location.lineAndColumn ?? "?"): \($0.message)"
        }
    }

    func testDanglingEqualsPointsAtTheEquals() {
        XCTAssertEqual(diagnostics("x = 1\ny =\n"), ["2:3: expected an expression after '='"])
        XCTAssertEqual(diagnostics("x = 1\ny =\n\n\n# a comment\n\n"), ["2:3: expected an expression after '='"])
        XCTAssertEqual(diagnostics("y =\nz = 2"), ["1:3: expected an expression after '='"])
    }

    func testDanglingOperatorBeforeADefinition() {
        XCTAssertEqual(diagnostics("x = y +\n\nz = 2"), ["1:7: expected an expression after '+'"])
        XCTAssertEqual(diagnostics("x = y *\nparam w = 2"), ["1:7: expected an expression after '*'"])
        XCTAssertEqual(diagnostics("x = 2 ^\ny = 3"), ["1:7: expected an expression after '^'"])
        // An operand on the next line still continues the statement.
        XCTAssertEqual(diagnostics("x = 1\ny = x +\n  # note\n  x\n"), [])
        // `z + 2 = 3` is no definition: its '=' is reported where it stands.
        XCTAssertEqual(diagnostics("x = 1 +\nz + 2 = 3"), ["2:7: expected the end of the statement, found '='"])
    }
}
