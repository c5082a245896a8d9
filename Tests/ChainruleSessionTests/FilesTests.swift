import ChainruleCore
@testable import ChainruleSession
import ChainruleTestSupport
import XCTest

/// Bounded reading, atomic writing, sizes, and how source text is located and echoed.
final class FilesTests: FolderTestCase {

    func file(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: false, encoding: .utf8)
        return url.path
    }

    func readFailure(_ path: String, limit: Int = Files.defaultMaximumSize, stop: Bool = false) -> String? {
        do {
            _ = try Files.read(path, limit: limit, shouldStop: { stop })
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: Reading

    func testDevicesAndFoldersAreNotRead() {
        XCTAssertEqual(readFailure("/dev/zero"), "cannot read '/dev/zero': not a regular file")
        XCTAssertEqual(readFailure("/dev/urandom"), "cannot read '/dev/urandom': not a regular file")
        XCTAssertEqual(readFailure(folder.path), "cannot read '\(folder.path)': Is a directory")
    }

    func testFilesPastTheLimitAreRefusedBeforeReading() throws {
        let path = try file("big.graph", String(repeating: "x = 1\n", count: 400))
        XCTAssertEqual(readFailure(path, limit: 1000),
                       "cannot read '\(path)': it is larger than 1 KB, the limit set by ':set max-file-size'")
        XCTAssertNil(readFailure(path, limit: 2400))
    }

    func testNULBytesStopReading() throws {
        let path = try file("binary.graph", "x = 1\n\u{0}\u{1}\u{2}")
        XCTAssertEqual(readFailure(path), "cannot read '\(path)': it holds a NUL byte (at byte 7), so it is not a text script")
    }

    func testReadingStopsWhenAskedTo() throws {
        let path = try file("x.graph", "x = 1\n")
        XCTAssertEqual(readFailure(path, stop: true), "reading '\(path)' was interrupted")
    }

    /// A pipe (no size known in advance) is cut off once it passes the limit.
    func testAPipeIsReadUpToTheLimit() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let writer = FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)
        let feeding = Thread {
            try? writer.write(contentsOf: Data(repeating: UInt8(ascii: "x"), count: 300_000))
            try? writer.close()
        }
        feeding.start()
        XCTAssertThrowsError(try Files.readText(from: ends[0], name: "standard input", limit: 100_000)) { error in
            XCTAssertEqual((error as? Files.Failure)?.message,
                           "cannot read standard input: it is larger than 100 KB, the limit set by ':set max-file-size'")
        }
        // Drain the rest, so that the writer finishes instead of meeting a closed pipe.
        var rest = [UInt8](repeating: 0, count: 65536)
        while read(ends[0], &rest, rest.count) > 0 {}
        close(ends[0])
    }

    func testLoadUsesTheSettableLimit() throws {
        let path = try file("s.graph", "x = 1\n" + String(repeating: "# padding\n", count: 300))
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":set max-file-size 1KB"))
        XCTAssertFalse(execute(session, ":load \(path)"))
        XCTAssertTrue(output.errors.hasPrefix("<stdin>:1:7: error: cannot read '\(path)': it is larger than 1 KB"), output.errors)
        XCTAssertTrue(execute(session, ":set max-file-size 64MB\n:load \(path)"), output.errors)
        XCTAssertFalse(execute(session, ":set max-file-size lots"))
        XCTAssertTrue(output.errors.contains("error: max-file-size is a size such as 64MB, 512KB or 1GB"), output.errors)
        XCTAssertEqual(session.maximumFileSize, 64_000_000)
    }

    func testSizes() {
        XCTAssertEqual(Files.parseSize("64MB"), 64_000_000)
        XCTAssertEqual(Files.parseSize("512kb"), 512_000)
        XCTAssertEqual(Files.parseSize("1GB"), 1_000_000_000)
        XCTAssertEqual(Files.parseSize("1500"), 1500)
        XCTAssertEqual(Files.parseSize("2B"), 2)
        for bad in ["", "MB", "-1MB", "0", "99999999999999999GB", "٣MB"] { XCTAssertNil(Files.parseSize(bad), bad) }
        XCTAssertEqual(Files.parseSize("1.5MB"), 1_500_000)
        XCTAssertEqual(Files.formatSize(64_000_000), "64 MB")
        XCTAssertEqual(Files.formatSize(1_000_000_000), "1 GB")
        XCTAssertEqual(Files.formatSize(1536), "1536 bytes")
        XCTAssertEqual(Files.formatSize(1), "1 byte")
    }

    // MARK: Writing

    func testWriteReplacesTheFileAndLeavesNoTemporaryFile() throws {
        let path = try file("out.graph", "old\n")
        XCTAssertEqual(chmod(path, 0o640), 0)
        try Files.write("new\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new\n")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o640, "an existing file keeps its permissions")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["out.graph"])
    }

    func testWriteThroughASymbolicLinkKeepsTheLink() throws {
        let target = try file("real.graph", "old\n")
        let link = folder.appendingPathComponent("link.graph").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try Files.write("new\n", to: link)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), target)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "new\n")
    }

    func testWriteIntoAMissingFolderSaysWhy() {
        let path = folder.appendingPathComponent("missing/out.graph").path
        XCTAssertThrowsError(try Files.write("x\n", to: path)) { error in
            XCTAssertEqual((error as? Files.Failure)?.message, "cannot write '\(path)': No such file or directory")
        }
    }

    func testWriteToADeviceWritesInPlace() throws {
        XCTAssertThrowsError(try Files.write("x\n", to: "/dev/full")) { error in
            XCTAssertEqual((error as? Files.Failure)?.message, "cannot write '/dev/full': No space left on device")
        }
        try Files.write("x\n", to: "/dev/null")
    }

    /// A 10 KB line of bad characters gives 20 short diagnostics and a count, not 10,000 copies of the line.
    func testErrorOutputForALongBadLineIsBounded() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, String(repeating: "$", count: 10_000)))
        XCTAssertLessThan(output.errors.utf8.count, 20 * 200 + 200)
        XCTAssertTrue(output.errors.hasSuffix("chainrule: note: 9980 more errors in <stdin> not shown (':set max-errors' shows more)\n"))
    }

    // MARK: Saving high ranks

    /// A leaf of very high rank is saved as `ones(…) * literal`, which nests within the parser's limit.
    func testHighRankLeavesAreSavedWithinTheNestingLimit() {
        let value = Tensor(shape: Array(repeating: 1, count: 600) + [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let text = Session.literal(value)
        XCTAssertEqual(text, "ones(" + String(repeating: "1, ", count: 600) + "2, 3) * [[1, 2, 3], [4, 5, 6]]")
        XCTAssertEqual(Parser.parse(Source(name: "f", text: "x = " + (text ?? ""))).diagnostics, [])
        XCTAssertEqual(Parser.parse(Source(name: "f", text: "x = " + Printer.literal(value))).diagnostics.count, 1,
                       "the plain literal nests too deep")
        // Size-1 axes after larger ones cannot be broadcast into place: `:save` refuses rather than write a bad file.
        XCTAssertNil(Session.literal(Tensor(shape: [2] + Array(repeating: 1, count: 600), scalars: [1, 2])))
        XCTAssertEqual(Session.literal(Tensor(shape: [2, 1], scalars: [1, 2])), "[[1], [2]]")
    }

    // MARK: Locations

    /// A byte-order mark is not a column; `\r\n` and a lone `\r` end lines.
    func testByteOrderMarkAndLineEndings() {
        let bom = Source(name: "f", text: "\u{FEFF}x = 1 + $\n")
        XCTAssertEqual(Parser.parse(bom).diagnostics.first?.span?.location.description, "f:1:9")
        for text in ["x = 1\r\ny = $\r\n", "x = 1\ry = $\r"] {
            let source = Source(name: "f", text: text)
            let diagnostic = Parser.parse(source).diagnostics.first
            XCTAssertEqual(diagnostic?.span?.location.description, "f:2:5", text.debugDescription)
            XCTAssertEqual(diagnostic.map(DiagnosticRenderer(style: Style(enabled: false)).render),
                           "f:2:5: error: unexpected character '$'\n    y = $\n        ^\n")
        }
    }

    /// Lines and columns come from a table of line starts, and agree with counting by hand.
    func testLocationsOnManyLines() {
        let text = (0..<100_000).map { "l\($0)" }.joined(separator: "\n")
        let source = Source(name: "f", text: text)
        let scalars = Array(text.unicodeScalars)
        for offset in [0, 1, 2, 3, 500_000, scalars.count - 1, scalars.count] {
            let before = scalars[..<offset]
            let line = before.filter { $0 == "\n" }.count + 1
            let column = offset - (before.lastIndex(of: "\n").map { $0 + 1 } ?? 0) + 1
            XCTAssertEqual(source.location(of: offset).description, "f:\(line):\(column)", "\(offset)")
        }
        XCTAssertEqual(source.lineText(containing: 4), "l1")
        XCTAssertEqual(source.lineText(containing: 5), "l1", "the newline belongs to its line")
    }

    /// A long line is echoed as a window around the caret, with `…` where text is left out.
    func testLongLinesAreEchoedAsAWindow() {
        let line = String(repeating: "a", count: 300) + "$" + String(repeating: "b", count: 300)
        let rendered = DiagnosticRenderer(style: Style(enabled: false)).render(Parser.parse(Source(name: "f", text: line)).diagnostics[0])
        let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines[0], "f:1:301: error: unexpected character '$'")
        XCTAssertEqual(lines[1], "    …" + String(repeating: "a", count: 50) + "$" + String(repeating: "b", count: 49) + "…")
        XCTAssertEqual(lines[2], "    " + String(repeating: " ", count: 51) + "^")
        let start = DiagnosticRenderer.excerpt(Source(name: "f", text: "$" + String(repeating: "b", count: 300)), at: 0)
        XCTAssertEqual(start.line, "$" + String(repeating: "b", count: 99) + "…")
        XCTAssertEqual(start.lead, "")
        let control = DiagnosticRenderer.excerpt(Source(name: "f", text: "\tx = \u{1B}[2J"), at: 5)
        XCTAssertEqual(control.line, "\tx = \u{FFFD}[2J")
        XCTAssertEqual(control.lead, "\t    ")
        // The caret stands under the character on a terminal: wide characters take two
        // columns, a combining accent none.
        XCTAssertEqual(DiagnosticRenderer.excerpt(Source(name: "f", text: "日本語 = 1 $"), at: 14).lead, String(repeating: " ", count: 11))
        XCTAssertEqual(DiagnosticRenderer.excerpt(Source(name: "f", text: "cafe\u{301} = 1 $"), at: 11).lead, String(repeating: " ", count: 9))
        // The window is 100 terminal columns wide, not 100 characters (wide ones take two: it was ~199).
        let wide = String(repeating: "全", count: 300) + "$" + String(repeating: "角", count: 300)
        let window = DiagnosticRenderer.excerpt(Source(name: "f", text: wide), at: 900)
        XCTAssertEqual(window.line, "…" + String(repeating: "全", count: 25) + "$" + String(repeating: "角", count: 24) + "…")
        XCTAssertEqual(window.lead, String(repeating: " ", count: 51))
    }
}
