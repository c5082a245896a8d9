import ChainruleTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `chainrule --html OUT.html FILE…`: the run written as one page that needs nothing else.
final class HandoutCommandLineTests: FolderTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples")

    func page(_ name: String = "page.html") -> URL { folder.appendingPathComponent(name) }

    func script(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The page of an example holds every statement with its place and output, both drawings as
    /// inline SVG, one frame per step of the walk and the start, and parses as XML.
    func testThePageOfAnExampleHoldsTheRunAndParses() throws {
        let example = HandoutCommandLineTests.examples.appendingPathComponent("relu-layer.graph").path
        let result = try runChainrule(["--html", page().path, example])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardError, "")
        XCTAssertEqual(result.standardOutput, "wrote \(page().path): 7 statements, 11 frames of the walk\n")
        let html = try String(contentsOf: page(), encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n"))
        for (line, text) in [(2, "A = [[1, -2], [3, 0.5], [-1, 1]]"), (4, "h = relu(A @ x)"), (7, ":backward L"),
                             (8, ":jacobian h x       # rows of A where the ReLU is active, zeros where it is not")] {
            XCTAssertTrue(html.contains("<span class=\"where\">\(example):\(line)</span><pre class=\"source\">\(text)</pre>"), "line \(line)")
        }
        XCTAssertTrue(html.contains("<p class=\"comment\">A module f = ReLU(Ax) with A ∈ ℝ³ˣ², x ∈ ℝ², reduced to a scalar so it can be differentiated.</p>\n<div class=\"statement\">"),
                      "the narration before a statement")
        // :forward's table, escaped as text.
        XCTAssertTrue(html.contains("%2    matmul(A, x)  (3)     [0, 6.5, -1]"))
        XCTAssertTrue(html.contains("chain     ∂L/∂%2 · ∂%2/∂x = [3, 0.5]   → x"))
        // The forward and reverse graphs, and 5 steps forward and 5 back after the start.
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2 + 11)
        XCTAssertTrue(html.contains("data-frames=\"11\""))
        for title in ["start", "forward 1/5", "forward 5/5", "backward 1/5", "backward 5/5"] {
            XCTAssertNotNil(html.range(of: "<div class=\"frame( wide)?\" data-title=\"\(title)\"", options: .regularExpression), title)
        }
        XCTAssertTrue(html.contains("walk done: both passes of L computed"))
        XCTAssertFalse(html.contains("<?xml"), "SVG prologues are stripped")
        XCTAssertFalse(html.contains("<!DOCTYPE svg"), "SVG DOCTYPEs are stripped")
        XCTAssertFalse(html.contains("\u{1B}["), "no escape codes")
        try assertNothingToFetch(html)
        try assertParsesAsXML(page())
    }

    /// Nothing on the page is loaded from anywhere: no `src`, no `href` but links within the
    /// page, no `@import` or `url(` in styles, and `http(s)://` only as XML namespaces.
    func assertNothingToFetch(_ html: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertNil(html.range(of: #"\bsrc\s*="#, options: .regularExpression), "a src attribute", file: file, line: line)
        XCTAssertNil(html.range(of: "@import"), "an @import", file: file, line: line)
        XCTAssertNil(html.range(of: #"url\s*\("#, options: .regularExpression), "a url(", file: file, line: line)
        XCTAssertNil(html.range(of: "<link"), "a link element", file: file, line: line)
        let hrefs = try NSRegularExpression(pattern: #"href\s*=\s*"([^"]*)""#)
        for match in hrefs.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            let target = Range(match.range(at: 1), in: html).map { String(html[$0]) } ?? ""
            XCTAssertTrue(target.hasPrefix("#"), "href=\"\(target)\" leaves the page", file: file, line: line)
        }
        let urls = try NSRegularExpression(pattern: #"([A-Za-z:]+)="?(https?://[^"\s]*)"#)
        let found = urls.matches(in: html, range: NSRange(html.startIndex..., in: html))
        XCTAssertFalse(found.isEmpty, "the SVG namespaces are there to be checked", file: file, line: line)
        for match in found {
            let attribute = Range(match.range(at: 1), in: html).map { String(html[$0]) } ?? ""
            XCTAssertTrue(attribute.hasPrefix("xmlns"), "\(attribute) names a web address", file: file, line: line)
        }
        XCTAssertEqual(html.components(separatedBy: "://").count - 1, found.count, "every :// is in an xmlns", file: file, line: line)
    }

    func assertParsesAsXML(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let parser = try XCTUnwrap(XMLParser(contentsOf: url))
        let parsed = parser.parse()
        XCTAssertTrue(parsed, "\(parser.parserError.map { "\($0)" } ?? "") at line \(parser.lineNumber)", file: file, line: line)
    }

    /// An error stops the run: the page still holds the statements up to it and the error,
    /// the error also goes to standard error, the status is 1, and no temporary file is left.
    /// The page shows every statement itself: `:set echo on` in a script does not repeat them in the outputs.
    func testEchoIsNotRepeatedOnThePage() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UInt64.random(in: 0...UInt64.max)).graph")
        try ":set echo on\nx = 1\nx + 1\n".write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let result = try runChainrule(["--html", page().path, script.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let html = try String(contentsOf: page(), encoding: .utf8)
        XCTAssertFalse(html.contains("» "), "no echo marker on the page")
        XCTAssertTrue(html.contains("<pre class=\"source\">x + 1</pre>"))
    }

    func testAnErrorIsOnThePageAndTheStatusIsOne() throws {
        let path = try script("bad.graph", "x = 2\nx * 3\ny = x * q   # q is not defined\nx + 1\n")
        let result = try runChainrule(["--html", page().path, path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.standardError, "\(path):3:9: error: undefined name 'q'\n    y = x * q   # q is not defined\n            ^\n")
        XCTAssertEqual(result.standardOutput, "wrote \(page().path): 3 statements, 0 frames of the walk\n")
        let html = try String(contentsOf: page(), encoding: .utf8)
        XCTAssertTrue(html.contains("<pre class=\"source\">x * 3</pre></div>\n<pre class=\"output\">6</pre>"))
        XCTAssertTrue(html.contains("<div class=\"statement failed\">\n<div class=\"code\"><span class=\"where\">\(path):3</span>"))
        XCTAssertTrue(html.contains("<pre class=\"diagnostic error\">\(path):3:9: error: undefined name 'q'\n    y = x * q   # q is not defined\n            ^</pre>"))
        XCTAssertFalse(html.contains("x + 1"), "nothing after the error ran")
        XCTAssertTrue(html.contains("The run stopped at an error"))
        try assertParsesAsXML(page())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["bad.graph", "page.html"])
    }

    /// A syntax error is reported before anything runs: the page shows it alone.
    func testASyntaxErrorIsThePage() throws {
        let path = try script("syntax.graph", "x = [1, 2\n")
        let result = try runChainrule(["--html", page().path, path])
        XCTAssertEqual(result.status, 1)
        let html = try String(contentsOf: page(), encoding: .utf8)
        XCTAssertTrue(html.contains("<pre class=\"diagnostic error\">\(path):1:10: error: expected ',' or ']' to close the '[' at 1:5"))
        try assertParsesAsXML(page())
    }

    /// The page replaces an old one whole; one that cannot be written is an error and leaves no trace.
    func testThePageIsWrittenAtomically() throws {
        let path = try script("one.graph", "x = 3\nL = x * x\n")
        try "old page".write(to: page(), atomically: true, encoding: .utf8)
        XCTAssertEqual(try runChainrule(["--html", page().path, path]).status, 0)
        XCTAssertTrue(try String(contentsOf: page(), encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
        let missing = folder.appendingPathComponent("no/such/folder/page.html").path
        let failed = try runChainrule(["--html", missing, path])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.standardError.hasPrefix("chainrule: error: cannot write '\(missing)': No such file or directory"), failed.standardError)
    }

    /// A walk longer than the cap shows the start, the first forward steps and the first
    /// backward ones, and says so.
    func testALongWalkIsCappedAndSaysSo() throws {
        var text = "x0 = 0.5\n"
        for i in 1...40 { text += "x\(i) = tanh(x\(i - 1))\n" }
        text += "L = x40 * x40\n"
        let path = try script("chain.graph", text)
        let result = try runChainrule(["--html", page().path, path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let html = try String(contentsOf: page(), encoding: .utf8)
        XCTAssertTrue(html.contains("data-frames=\"60\""))
        XCTAssertTrue(html.contains("The walk has 84 steps; the page shows 60 frames: the start, the first 29 forward steps and the first 30 backward steps; :step in chainrule goes through every one."))
        XCTAssertTrue(html.contains("<p class=\"note\">steps 30–42 are taken without a frame</p>"))
        XCTAssertTrue(html.contains("data-title=\"backward 1/42\""))
        XCTAssertFalse(html.contains("data-title=\"forward 30/42\""))
    }

    /// Every `:plot` statement shows its plot as SVG inside the statement, with the terminal
    /// drawing folded under it (nothing of it printed apart), and the page still fetches nothing.
    func testEachPlotIsAnSVGInItsStatement() throws {
        let path = try script("plots.graph", """
            :plot tanh -2 2
            param w = 2
            L = (w^2 - 1)^2
            :plot L w -2 2
            X = [[0, 0], [1, 1]]
            T = [0, 1]
            :plot points X T

            """)
        let result = try runChainrule(["--html", page().path, path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let html = try String(contentsOf: page(), encoding: .utf8)
        let statements = Array(html.components(separatedBy: "<div class=\"statement\">").dropFirst())
        XCTAssertEqual(statements.count, 7)
        guard statements.count == 7 else { return }
        for (index, title) in [(0, "tanh and its derivative on [-2, 2]"), (3, "L against w, the other leaves as they are, w in [-2, 2]"),
                               (6, "the rows of X: X[:, 1] against X[:, 0], marked by T")] {
            let statement = statements[index]
            XCTAssertEqual(statement.components(separatedBy: "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\"").count - 1, 1, title)
            XCTAssertTrue(statement.contains("<title>\(title)</title>"), title)
            XCTAssertTrue(statement.contains("<details class=\"terminal\"><summary>as the terminal draws it</summary><pre class=\"output\">\(title)\n"), title)
            XCTAssertFalse(statement.contains("<pre class=\"output\">\(title)\n</pre>"), "\(title): the drawing is not printed apart")
        }
        XCTAssertTrue(statements[0].contains("<polyline"), "tanh drawn as lines")
        XCTAssertTrue(statements[3].contains("<g class=\"mark\">"), "the value of w now marked")
        XCTAssertTrue(statements[6].contains("<g class=\"markers\""), "the rows marked")
        XCTAssertFalse(statements[1].contains("<svg"), "a statement that draws nothing has no drawing")
        try assertNothingToFetch(html)
        try assertParsesAsXML(page())
    }

    /// A target that is not a scalar has no reverse graph and a forward walk only.
    func testAVectorTargetIsWalkedForwardOnly() throws {
        let path = try script("vector.graph", "x = [1, -2]\nh = relu(x * 3)\n")
        XCTAssertEqual(try runChainrule(["--html", page().path, path]).status, 0)
        let html = try String(contentsOf: page(), encoding: .utf8)
        XCTAssertTrue(html.contains("h has shape (2), not a scalar: there is no reverse graph, and the walk goes forward only"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1 + 4, "the forward graph and the start and three steps")
    }

    func testUsage() throws {
        for words in [["--html", "p.html"], ["--html", "p.html", "--json", "-e", "1"], ["--html", "p.html", "-i", "-e", "1"],
                      ["--html", "a.html", "--html", "b.html", "-e", "1"], ["--html"]] {
            let result = try runChainrule(words, directory: folder)
            XCTAssertEqual(result.status, 2, "\(words)")
            XCTAssertTrue(result.standardError.contains("--html"), "\(words): \(result.standardError)")
        }
        let help = try runChainrule(["--help"])
        XCTAssertTrue(help.standardOutput.contains("chainrule --html OUT.html FILE…"))
    }
}
