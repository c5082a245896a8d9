import ChainruleCore
import ChainruleSession
import ChainruleTestSupport
import XCTest

final class PersistenceTests: FolderTestCase {

    /// `:save` then `:load` into a fresh session restores every leaf bit for bit and every formula.
    func testSaveThenLoadRestoresEveryValueExactly() throws {
        let (session, _) = makeSession()
        XCTAssertTrue(execute(session, """
            param W = randn(3, 2, seed=7)
            input x = [0.1, 1e-300, -0]
            b = [1/3, pi, 5e-324]
            big = [1e300 * 10, -1e300 * 10, 0 / 0]
            θ₁ = 2^-0.5
            h = relu(x @ W)
            y = -h[0]^2 + (h.T)[-1] * θ₁
            """))
        let path = folder.appendingPathComponent("saved.graph").path
        XCTAssertTrue(execute(session, ":save \(path)"))

        let (restored, output) = makeSession()
        XCTAssertTrue(execute(restored, ":load \(path)"), output.errors)
        XCTAssertEqual(restored.workspace.names.sorted(), session.workspace.names.sorted())
        for name in session.workspace.names {
            let a = try XCTUnwrap(session.workspace.entries[name]), b = try XCTUnwrap(restored.workspace.entries[name])
            XCTAssertEqual(a.kind, b.kind, name)
            if let va = a.value, let vb = b.value {
                XCTAssertEqual(va.shape, vb.shape, name)
                XCTAssertEqual(va.scalars.map(\.bitPattern), vb.scalars.map(\.bitPattern), "\(name) is not restored bit for bit")
            } else {
                XCTAssertEqual(a.formula.map(Printer.expression), b.formula.map(Printer.expression), name)
            }
        }
        var s1 = session.workspace, s2 = restored.workspace
        let y1 = try s1.value(of: XCTUnwrap(s1.graph.node(named: "y")))
        let y2 = try s2.value(of: XCTUnwrap(s2.graph.node(named: "y")))
        XCTAssertEqual(y1.scalars.map(\.bitPattern), y2.scalars.map(\.bitPattern))
    }

    /// Paths inside a script are relative to the script; a script that loads itself is refused.
    func testLoadResolvesRelativePathsAndRefusesSelfLoading() throws {
        let sub = folder.appendingPathComponent("lectures")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try "x = 3\n".write(to: sub.appendingPathComponent("data.graph"), atomically: true, encoding: .utf8)
        try ":load data.graph\ny = x * 2\n".write(to: sub.appendingPathComponent("main.graph"), atomically: true, encoding: .utf8)
        try ":load loop.graph\n".write(to: sub.appendingPathComponent("loop.graph"), atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":load \(sub.appendingPathComponent("main.graph").path)"), output.errors)
        XCTAssertTrue(execute(session, "y"))
        XCTAssertTrue(output.text.hasSuffix("6\n"))
        XCTAssertFalse(execute(session, ":load \(sub.appendingPathComponent("loop.graph").path)"))
        XCTAssertTrue(output.errors.contains("already being loaded"), output.errors)
        XCTAssertTrue(execute(session, "y"), "the session survives")
    }

    func testLoadOfAMissingFileSaysWhy() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":load nowhere/missing.graph"))
        XCTAssertTrue(output.errors.hasPrefix("<stdin>:1:7: error: cannot read 'nowhere/missing.graph': No such file or directory"), output.errors)
    }

    // MARK: Files that load back

    /// Nodes named `inf` and `nan` do not change saved non-finite numbers, and leaves stay leaves.
    func testNonFiniteNumbersDoNotDependOnNodeNames() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, """
            inf = 0
            nan = 1
            a = log(0)
            b = [0/0, 1e999, -(0/0), -1e999]
            x = 2
            y = x * 1e999
            """), output.errors)
        let path = folder.appendingPathComponent("s.graph").path
        XCTAssertTrue(execute(session, ":save \(path)"), output.errors)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertFalse(text.split(separator: "\n").dropFirst(3).contains { $0.contains("inf") || $0.contains("nan") }, text)

        // Loaded over the same names, in a session where `inf` and `nan` are defined first.
        let (restored, restoredOutput) = makeSession()
        XCTAssertTrue(execute(restored, "inf = 0\nnan = 1\n:load \(path)"), restoredOutput.errors)
        for name in ["a", "b", "y"] {
            var w1 = session.workspace, w2 = restored.workspace
            let v1 = try w1.value(of: XCTUnwrap(w1.graph.node(named: name)))
            let v2 = try w2.value(of: XCTUnwrap(w2.graph.node(named: name)))
            XCTAssertEqual(v1.scalars.map(\.bitPattern), v2.scalars.map(\.bitPattern), name)
        }
        XCTAssertEqual(restored.workspace.entries["b"]?.isLeaf, true)
        XCTAssertEqual(restored.workspace.entries["a"]?.isLeaf, true)
        let b = try XCTUnwrap(restored.workspace.entries["b"]?.value)
        XCTAssertTrue(b.scalars[0].isNaN && b.scalars[2].isNaN && b.scalars[0].sign != b.scalars[2].sign,
                      "both signs of NaN come back: \(b.scalars.map(\.bitPattern))")
    }

    /// Both signs of NaN are kept: `abs` clears the sign and `-` sets it, whatever the hardware's default NaN.
    func testBothSignsOfNaNAreSpeltExactly() {
        XCTAssertEqual(Printer.sourceNumber(.nan), "abs(0/0)")
        XCTAssertEqual(Printer.sourceNumber(-.nan), "-abs(0/0)")
        XCTAssertEqual(Printer.sourceNumber(.infinity), "1e999")
        XCTAssertEqual(Printer.sourceNumber(-.infinity), "-1e999")
        let (session, _) = makeSession()
        XCTAssertTrue(execute(session, "p = [abs(0/0), -abs(0/0)]"))
        let p = session.workspace.entries["p"]?.value?.scalars ?? []
        XCTAssertEqual(p.map(\.bitPattern), [Double.nan.bitPattern, (-Double.nan).bitPattern])
    }

    /// A definition broken by a later redefinition is saved as a comment with the reason, so the
    /// file loads and keeps every other definition.
    func testBrokenDefinitionIsSavedAsACommentAndTheFileLoads() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]\ny = x @ [1, 2]\nw = y + 1\nz = 42\nx = [1, 2, 3]"), output.errors)
        let path = folder.appendingPathComponent("b.graph").path
        XCTAssertTrue(execute(session, ":save \(path)"), output.errors)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, """
            # chainrule graph: 4 definitions
            x = [1, 2, 3]
            # 'y' did not evaluate when saved: shapes (3) and (2) do not fit for '@': inner sizes 3 and 2 differ
            # y = x @ [1, 2]
            # 'w' did not evaluate when saved: 'w' depends on 'y', which cannot be evaluated (shapes (3) and (2) do not fit for '@': inner sizes 3 and 2 differ)
            # w = y + 1
            z = 42

            """)
        let (restored, restoredOutput) = makeSession()
        XCTAssertTrue(execute(restored, ":load \(path)\nz"), restoredOutput.errors)
        XCTAssertEqual(restored.workspace.names, ["x", "z"])
    }

    /// `:save` and `:dot` inside a script write beside the script, where its `:load` reads.
    func testSaveAndDotInAScriptWriteBesideTheScript() throws {
        let sub = folder.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try "x = 3\n:save out.graph\n:dot out.dot\n:clear\n:load out.graph\ny = x * 2\n"
            .write(to: sub.appendingPathComponent("s.graph"), atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":load \(sub.path)/s.graph\ny"), output.errors)
        XCTAssertTrue(output.text.hasSuffix("6\n"), output.text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sub.appendingPathComponent("out.graph").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: sub.appendingPathComponent("out.dot").path))
        XCTAssertTrue(output.text.contains("saved 1 definition to \(sub.path)/out.graph\n"), output.text)
    }

    // MARK: :load is all or nothing

    /// A `:load` that stops at an error leaves the session exactly as it was.
    func testFailedLoadLeavesTheSessionAsItWas() throws {
        let path = folder.appendingPathComponent("bad.graph").path
        try "x = [9, 9, 9]\nnewvar = 1\n:set precision 3\ny = x @ [1, 2]\nlater = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]\ny = x * 2"))
        XCTAssertFalse(execute(session, ":load \(path)"))
        XCTAssertEqual(output.errors, """
            \(path):4:7: error: shapes (3) and (2) do not fit for '@': inner sizes 3 and 2 differ
                y = x @ [1, 2]
                      ^
            <stdin>:1:7: note: 'bad.graph' stopped at an error; the session is as it was before ':load'
                :load \(path)
                      ^

            """.replacingOccurrences(of: "'bad.graph'", with: "'\(path)'"))
        XCTAssertEqual(session.workspace.names, ["x", "y"])
        XCTAssertEqual(session.workspace.entries["x"]?.value, Tensor([1, 2]))
        XCTAssertEqual(session.format.precision, 6)
        XCTAssertTrue(execute(session, "y"))
        XCTAssertTrue(output.text.hasSuffix("[2, 4]\n"), output.text)
    }

    /// The settings `:set output` and `:set memory` are part of what a failed `:load` puts back.
    func testFailedLoadPutsBackOutputAndMemorySettings() throws {
        let path = folder.appendingPathComponent("settings.graph").path
        try ":set output 5000\n:set memory 3MB\n:set max-errors 7\nnope + 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":load \(path)"))
        XCTAssertTrue(output.errors.hasPrefix("\(path):4:1: error: "), output.errors)
        XCTAssertEqual(session.outputLimit, 1_000_000)
        XCTAssertEqual(session.workspace.memoryLimit, Session.defaultMemoryLimit)
        XCTAssertEqual(session.maximumErrors, 20)
        // The same script without its error keeps all three.
        try ":set output 5000\n:set memory 3MB\n:set max-errors 7\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(execute(session, ":load \(path)"), output.errors)
        XCTAssertEqual(session.outputLimit, 5000)
        XCTAssertEqual(session.workspace.memoryLimit, 3_000_000)
        XCTAssertEqual(session.maximumErrors, 7)
    }

    /// An unknown setting lists every key, the limits of both kinds included.
    func testUnknownSettingListsEveryKey() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":set zzz 1"))
        XCTAssertEqual(output.errors, """
            <stdin>:1:6: error: unknown setting 'zzz'; settings are 'precision', 'color', 'echo', 'output', 'memory', 'max-file-size', 'max-errors', 'show', 'full', 'width', 'dot' and 'plot'
                :set zzz 1
                     ^

            """)
    }

    /// Each script named on the command line starts its own count of nested `:load`s.
    func testLoadCountStartsAgainForEachCommandLineScript() throws {
        try "y = 2\n".write(to: folder.appendingPathComponent("leaf.graph"), atomically: true, encoding: .utf8)
        let many = folder.appendingPathComponent("many.graph").path
        try String(repeating: ":load leaf.graph\n", count: 600).write(toFile: many, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertTrue(session.load(path: many), output.errors)
        XCTAssertTrue(session.load(path: many), output.errors)
        try String(repeating: ":load leaf.graph\n", count: 1001).write(toFile: many, atomically: true, encoding: .utf8)
        XCTAssertFalse(session.load(path: many))
        XCTAssertTrue(output.errors.hasPrefix("\(many):1001:7: error: more than 1000 :load commands under one script"), output.errors)
    }

    /// Syntax errors are all reported (up to the limit) and nothing runs.
    func testSyntaxErrorsAreCappedWithACount() throws {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, String(repeating: "x = )\n", count: 25)))
        XCTAssertEqual(output.errors.components(separatedBy: ": error: ").count - 1, 20)
        XCTAssertTrue(output.errors.hasSuffix("chainrule: note: 5 more errors in <stdin> not shown (':set max-errors' shows more)\n"), output.errors)
        XCTAssertTrue(execute(session, ":set max-errors 30"))
        XCTAssertFalse(execute(session, String(repeating: "x = )\n", count: 25)))
        XCTAssertEqual(output.errors.components(separatedBy: ": error: ").count - 1, 45)
    }

    // MARK: Scripts that load themselves

    /// A script named on the command line that loads itself runs once.
    func testTopLevelScriptThatLoadsItselfRunsOnce() throws {
        let path = folder.appendingPathComponent("me.graph").path
        try "1\n:load me.graph\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertFalse(session.load(path: path))
        XCTAssertEqual(output.text.components(separatedBy: "\n").filter { $0 == "1" }.count, 1, output.text)
        XCTAssertTrue(output.errors.hasPrefix("\(path):2:7: error: 'me.graph' is already being loaded; a script cannot load itself"), output.errors)
    }

    /// `./x.graph` and `x.graph` are one file: loading through the alias is refused at once.
    func testLoadThroughAnAliasIsRecognised() throws {
        let path = folder.appendingPathComponent("a.graph").path
        try "2\n:load ./a.graph\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":load \(path)"))
        XCTAssertEqual(output.text.components(separatedBy: "\n").filter { $0 == "2" }.count, 1, output.text)
        XCTAssertTrue(output.errors.contains("'./a.graph' is already being loaded"), output.errors)
    }

    /// `:save` keeps the order of `:vars` even when a redefinition made an earlier name depend
    /// on a later one (it was listed in dependency order after a round trip).
    func testSaveKeepsTheOrderOfDefinitions() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "b = 5; x = 1; y = 2; x = y + b; param w = 3; z = x * y * w"), output.errors)
        let path = folder.appendingPathComponent("order.graph").path
        XCTAssertTrue(execute(session, ":save \(path)"))
        let (restored, restoredOutput) = makeSession()
        XCTAssertTrue(execute(restored, ":load \(path)"), restoredOutput.errors)
        XCTAssertEqual(Array(restored.workspace.order), ["b", "x", "y", "w", "z"])
        XCTAssertEqual(restored.workspace.entries["w"]?.kind, .param)
        restoredOutput.text = ""
        XCTAssertTrue(execute(restored, "z"))
        XCTAssertEqual(restoredOutput.text, "42\n")
        // In dependency order already: no placeholders.
        let (plain, _) = makeSession()
        XCTAssertTrue(execute(plain, "a = 1; c = a + 1; :save \(path)"))
        XCTAssertFalse(try String(contentsOfFile: path, encoding: .utf8).contains("placeholder"))
    }

    /// A temporary left by a save that was killed is removed by the next save of the same file
    /// once it has gone unwritten for a minute; a fresh one (a save under way) is left alone.
    func testNextSaveRemovesAbandonedTemporaries() throws {
        let path = folder.appendingPathComponent("kept.graph").path
        let abandoned = folder.appendingPathComponent(".kept.graph.tmp-Ab12Cd").path
        let fresh = folder.appendingPathComponent(".kept.graph.tmp-Zz99Yy").path
        let other = folder.appendingPathComponent(".other.graph.tmp-Ab12Cd").path
        for file in [abandoned, fresh, other] { XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8))) }
        let old = Date(timeIntervalSinceNow: -3600)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: abandoned)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: other)
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 1; :save \(path)"), output.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: abandoned))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh))
        XCTAssertTrue(FileManager.default.fileExists(atPath: other), "a temporary of another file is not this save's")
    }

    /// `:set memory` refuses sizes from 10¹⁸ bytes up, as its message says (9.2×10¹⁸ was taken).
    func testMemorySizeIsBelowTenToTheEighteen() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, ":set memory 9200000000000000000"))
        XCTAssert(output.errors.contains("below 10¹⁸ bytes"), output.errors)
        XCTAssertTrue(execute(session, ":set memory 999999999999999999"), output.errors)
    }
}
