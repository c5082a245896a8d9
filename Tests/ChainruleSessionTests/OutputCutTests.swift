import ChainruleCore
@testable import ChainruleSession
import XCTest

/// Listings cut at the output limit: rows past the cut are never made, and what is printed is
/// what the whole listing would print, cut at the same line with the same note.
final class OutputCutTests: XCTestCase {
    /// `text` as the output limit shows it (SPEC: cut at `limit` characters, back to a line
    /// boundary, then a note), written here from the contract rather than taken from the session.
    func cut(_ text: String, at limit: Int) -> String {
        guard text.count > limit else { return text }
        let prefix = String(text.prefix(limit))
        let kept = prefix.lastIndex(of: "\n").map { String(prefix[..<$0]) } ?? prefix
        return kept + "\n… output cut at \(limit) characters (:set output N shows more)"
    }

    /// A chain of 300 links, then a node whose name and formula are the widest of all: the
    /// columns of the rows before the cut are as wide as those rows past it need.
    let chain = "x0 = 1\n" + (1...300).map { "x\($0) = tanh(0.5 * x\($0 - 1) + 0.01)" }.joined(separator: "\n")
        + "\nthe_widest_name_of_all = leaky_relu(x300, 0.2)\n"

    /// What `command` prints after `chain`, under the output limit `limit`.
    func printed(_ command: String, limit: Int) throws -> (session: Session, text: String) {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":set output \(limit)\n" + chain), output.errors)
        output.text = ""
        XCTAssertTrue(execute(session, command), output.errors)
        return (session, output.text)
    }

    func testForwardIsCutWhereTheWholeTableWouldBe() throws {
        let whole = try printed(":forward the_widest_name_of_all", limit: 100_000_000).text
        XCTAssert(whole.contains("\nthe_widest_name_of_all  leaky_relu(x300, a=0.2)  ()     "), whole)
        XCTAssertGreaterThan(whole.count, 20_000)
        for limit in [1000, 1234, 5000] {
            let (session, text) = try printed(":forward the_widest_name_of_all", limit: limit)
            XCTAssertEqual(text, cut(String(whole.dropLast()), at: limit) + "\n", "limit \(limit)")
            XCTAssert(text.hasPrefix("forward pass to the_widest_name_of_all: 1503 nodes in topological order\nnode                    op "), text)
            // Rows are made only until the limit is passed, not one more.
            let target = try XCTUnwrap(session.workspace.graph.node(named: "the_widest_name_of_all"))
            let listing = session.forwardListing(to: target)
            XCTAssertTrue(listing.isFull)
            let last = try XCTUnwrap(listing.lines.last)
            XCTAssertLessThanOrEqual(listing.characters - last.count - 1, limit, "the last row was the first past the limit")
            XCTAssertLessThan(listing.lines.count, 2 + 1503)
        }
    }

    func testBackwardIsCutWhereTheWholeReportWouldBe() throws {
        let whole = try printed(":backward x300", limit: 100_000_000).text
        XCTAssertGreaterThan(whole.count, 50_000)
        let wholeLines = whole.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        for limit in [1000, 4321] {
            let (session, text) = try printed(":backward x300", limit: limit)
            XCTAssertEqual(text, cut(String(whole.dropLast()), at: limit) + "\n", "limit \(limit)")
            // Blocks are made only until the limit is passed.
            let gradients = try XCTUnwrap(session.lastGradients?.gradients)
            let report = session.report(gradients)
            XCTAssertTrue(report.isFull)
            XCTAssertLessThan(report.lines.count, wholeLines / 4)
            XCTAssertEqual(report.text, String(whole.prefix(report.text.count)))
        }
    }

    func testATableDropsTrailingSpacesOnly() {
        let (session, _) = makeSession()
        XCTAssertEqual(session.table([["a", "b", "c"], ["xx", "", ""], ["y", "z ", "w "]]), "a   b   c\nxx\ny   z   w")
        XCTAssertEqual(session.table([[" "], [""]]), "\n")
        XCTAssertEqual(session.table([]), "")
    }
}
