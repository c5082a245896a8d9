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

    /// A chain of 300 links, then a node whose name and formula are the widest of all.
    let chain = "x0 = 1\n" + (1...300).map { "x\($0) = tanh(0.5 * x\($0 - 1) + 0.01)" }.joined(separator: "\n")
        + "\nthe_widest_name_of_all = leaky_relu(x300, 0.2)\n"

    /// What `command` prints after `script`, under the output limit `limit`.
    func printed(_ command: String, limit: Int, after script: String? = nil) throws -> (session: Session, text: String) {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":set output \(limit)\n" + (script ?? chain)), output.errors)
        output.text = ""
        XCTAssertTrue(execute(session, command), output.errors)
        return (session, output.text)
    }

    /// A line's words: what stays when the padding between columns is taken out.
    func words(_ line: Substring) -> [Substring] { line.split(separator: " ") }

    func testForwardIsTheWholeTableCutAtTheLimit() throws {
        let whole = try printed(":forward the_widest_name_of_all", limit: 100_000_000).text
        XCTAssert(whole.contains("\nthe_widest_name_of_all  leaky_relu(x300, a=0.2)  ()     "), whole)
        XCTAssertGreaterThan(whole.count, 20_000)
        let wholeLines = whole.split(separator: "\n")
        for limit in [1000, 1234, 5000] {
            let (session, text) = try printed(":forward the_widest_name_of_all", limit: limit)
            let note = "\n… output cut at \(limit) characters (:set output N shows more)\n"
            XCTAssert(text.hasSuffix(note), text)
            let kept = text.dropLast(note.count)
            XCTAssertLessThanOrEqual(kept.count, limit)
            let lines = kept.split(separator: "\n")
            // The same rows as the whole table, in the same order, as far as the cut.
            XCTAssertEqual(lines.first, wholeLines.first)
            XCTAssertEqual(lines.map(words), wholeLines.prefix(lines.count).map(words), "limit \(limit)")
            // The whole table cut: its columns are as wide as the rows past the cut need.
            XCTAssert(whole.hasPrefix(kept), "limit \(limit)")
            // Rows are made only until their unpadded text passes the limit.
            let target = try XCTUnwrap(session.workspace.graph.node(named: "the_widest_name_of_all"))
            let listing = session.forwardListing(to: target)
            XCTAssert(listing.lines.text.hasPrefix(kept), "limit \(limit)")
            // Cut back to a line boundary: the next line would pass the limit.
            XCTAssertGreaterThanOrEqual(kept.count + 1 + listing.lines.lines[lines.count].count, limit)
            XCTAssertLessThan(listing.rows, limit / 20 + 2, "at least 20 characters a row")
        }
    }

    func testForwardOfAWholeTableIsUnchanged() throws {
        // A table the limit does not cut is laid out over all its rows.
        let (_, text) = try printed(":forward x2", limit: 100_000)
        XCTAssertEqual(text, """
            forward pass to x2: 11 nodes in topological order
            node  op             shape  value
            x0    input          ()     1
            %1    const          ()     0.5
            %2    mul(0.5, x0)   ()     0.5
            %3    const          ()     0.01
            %4    add(%2, 0.01)  ()     0.51
            x1    tanh(%4)       ()     0.469945
            %6    const          ()     0.5
            %7    mul(0.5, x1)   ()     0.234973
            %8    const          ()     0.01
            %9    add(%7, 0.01)  ()     0.244973
            x2    tanh(%9)       ()     0.240187

            """)
    }

    func testBackwardIsCutWhereTheWholeReportWouldBe() throws {
        let whole = try printed(":backward x300", limit: 100_000_000).text
        XCTAssertGreaterThan(whole.count, 50_000)
        let wholeLines = whole.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        for limit in [1000, 4321] {
            let (session, text) = try printed(":backward x300", limit: limit)
            XCTAssertEqual(text, cut(String(whole.dropLast()), at: limit) + "\n", "limit \(limit)")
            // Blocks are made only until the limit is passed, from the edges read up to them.
            let gradients = try XCTUnwrap(session.lastGradients?.gradients)
            let report = session.report(gradients)
            XCTAssertTrue(report.lines.isFull)
            XCTAssertLessThan(report.lines.lines.count, wholeLines / 4)
            XCTAssertEqual(report.lines.text, String(whole.prefix(report.lines.text.count)))
            XCTAssertLessThan(report.edgesRead, gradients.contributions.count / 4)
        }
    }

    /// A chain of 20,000 links (100,001 nodes), the size of graph whose listings used to be
    /// formatted in full to print their first kilobytes.
    let longChain = "h0 = 0.5\n" + (1...20_000).map { "h\($0) = tanh(0.9 * h\($0 - 1) + 0.01)" }.joined(separator: "\n") + "\n"

    func testListingsOfALongChainFormatOnlyWhatTheLimitShows() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":set output 2000\n" + longChain), output.errors)
        let graph = session.workspace.graph
        XCTAssertEqual(graph.count, 100_001)
        let target = try XCTUnwrap(graph.node(named: "h20000"))
        output.text = ""
        XCTAssertTrue(execute(session, ":forward h20000\n:backward h20000\n:reverse h20000\n:vars\n:vars all"), output.errors)
        for command in ["forward pass to h20000", "backward pass from h20000", "reverse graph of h20000"] {
            XCTAssert(output.text.contains(command), output.text)
        }
        XCTAssertEqual(output.text.components(separatedBy: "\n… and ").count, 4, output.text)

        // Rows and edges are formatted only as far as the limit: a handful, of 100,001 nodes.
        let forward = session.forwardListing(to: target)
        XCTAssertLessThan(forward.rows, 2000 / 20 + 2)
        let gradients = try session.gradients(of: target, seed: nil, record: true, at: nil)
        let backward = session.report(gradients)
        XCTAssertEqual(gradients.contributions.count, 60_000)
        XCTAssertLessThan(backward.edgesRead, 100)
        let reverse = try session.reverseReport(of: target, at: nil)
        XCTAssertLessThan(reverse.rows, 1000 / 20 + 2)
        XCTAssertTrue(reverse.text.contains("\n… and "), reverse.text)
        XCTAssertLessThan(session.varsListing(all: false).rows.count, 1000 / 20 + 2)
        let all = session.varsListing(all: true)
        XCTAssertLessThan(all.rows.count, 1000 / 10 + 2)
        XCTAssertEqual(all.total, 100_001)
    }

    func testATableDropsTrailingSpacesOnly() {
        let (session, _) = makeSession()
        XCTAssertEqual(session.table([["a", "b", "c"], ["xx", "", ""], ["y", "z ", "w "]]), "a   b   c\nxx\ny   z   w")
        XCTAssertEqual(session.table([[" "], [""]]), "\n")
        XCTAssertEqual(session.table([]), "")
    }
}
