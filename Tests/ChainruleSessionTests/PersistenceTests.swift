import ChainruleCore
import ChainruleSession
import XCTest

final class PersistenceTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

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
}
