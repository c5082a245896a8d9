import ChainruleCore
@testable import ChainruleSession
import ChainruleTestSupport
import XCTest

/// `:graph`, `:graph reverse` and `:dot`: renderers of a report value, drawn within the width.
final class DrawingTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")

    func exampleFiles() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter { $0.hasSuffix(".graph") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 8)
        return names.map { Self.examples.appendingPathComponent($0) }
    }

    /// A session with an example loaded (the training of xor.graph cut to a few steps) and a reverse pass run when the target is a scalar.
    func loaded(_ file: URL) throws -> (Session, MergedOutput) {
        let (session, output) = makeSession()
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "steps=3000", with: "steps=3")
        XCTAssertTrue(execute(session, text, name: file.lastPathComponent), output.errors)
        return (session, output)
    }

    func testNoLineIsWiderThanTheWidthForEveryExample() throws {
        for file in try exampleFiles() {
            let (session, output) = try loaded(file)
            for width in [40, 80, 160] {
                for command in [":graph", ":graph expand", ":graph reverse"] {
                    output.text = ""
                    output.errors = ""
                    let drew = execute(session, ":set width \(width)\n" + (command == ":graph reverse" ? ":backward\n" : "") + command)
                    if !drew && command == ":graph reverse" { continue }  // a vector output has no reverse pass without a seed
                    XCTAssertTrue(drew, "\(file.lastPathComponent) \(command): \(output.errors)")
                    let lines = output.text.split(separator: "\n")
                    // After :backward's text: the drawing, or the list of boxes it falls back to when too wide.
                    let drawing = command == ":graph reverse"
                        ? lines.drop { !$0.hasPrefix("┌") && !$0.hasPrefix("┏") && !$0.contains(" do not fit ") } : lines[...]
                    XCTAssertFalse(drawing.isEmpty, "\(file.lastPathComponent) \(command)")
                    for line in drawing {
                        XCTAssertLessThanOrEqual(line.count, width, "\(file.lastPathComponent) \(command) at \(width): \(line)")
                    }
                }
            }
        }
    }

    /// The XOR network at 80 columns: every line within 80, each definition drawn once.
    func testXorAtEightyColumnsDrawsEachNodeOnce() throws {
        let (session, output) = try loaded(Self.examples.appendingPathComponent("xor.graph"))
        session.terminalWidth = { 80 }
        output.text = ""
        XCTAssertTrue(execute(session, ":graph L"), output.errors)
        let lines = output.text.split(separator: "\n")
        XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, 80)
        for name in ["X  input", "W1  param", "b1  param", "h = layer(X, W1, b1)", "w2  param", "b2  param", "T  input", "L = bce(y, T)"] {
            XCTAssertEqual(output.text.components(separatedBy: name).count, 2, "\(name) in\n\(output.text)")
        }
        XCTAssertFalse(output.text.contains("%"), "no unnamed node in the default drawing:\n\(output.text)")
    }

    /// A node with three consumers is one box with three edges leaving it; `COLUMNS`-style widths
    /// come from the session's width source.
    func testASharedNodeIsOneBoxWithEdgesToEveryConsumer() {
        let (session, output) = makeSession()
        session.terminalWidth = { 60 }
        XCTAssertTrue(execute(session, "x = 2; a = x * 3; b = x + a; c = a * b + x\n:graph c"), output.errors)
        XCTAssertEqual(output.text.components(separatedBy: "x  input").count, 2, output.text)
        XCTAssertEqual(output.text.components(separatedBy: "a = x · 3").count, 2, output.text)
        XCTAssertLessThanOrEqual(output.text.split(separator: "\n").map(\.count).max() ?? 0, 60)
    }

    /// What a walk has not computed is drawn as not computed, never as zero; the current box
    /// has a heavy border and what the last step changed a double one.
    func testTheDrawingShowsOnlyWhatTheReportKnows() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 2; w = 3; a = w * x; L = a + x"), output.errors)
        let target = try XCTUnwrap(session.workspace.graph.node(named: "L"))
        let a = try XCTUnwrap(session.workspace.graph.node(named: "a"))
        let known: [NodeID: Tensor] = [0: Tensor(2), 1: Tensor(3), a: Tensor(6)]
        let report = session.graphReport(target: target, granularity: .definitions, knownValue: { known[$0] },
                                         knownGradient: { $0 == target ? Tensor(1) : nil }, gradientOutput: "L",
                                         current: a, changed: [a])
        XCTAssertNil(report.boxes.last?.value)
        let text = session.drawing(of: report, width: 80).joined(separator: "\n")
        XCTAssert(text.contains("│ L = a + x      │\n                    │ = not computed │\n                    │ ∂L/∂L = 1      │"), text)
        for line in ["┃ a = w · x          ┃", "┃ = 6                ┃", "┃ ∂L/∂a not computed ┃"] { XCTAssert(text.contains(line), text) }
        XCTAssert(text.contains("┏"), "the current box has a heavy border:\n\(text)")
        XCTAssertFalse(text.contains("= 0\n"), text)
        let reverse = session.reverseReport(of: report)
        XCTAssertEqual(reverse.boxes.map(\.label), ["∂L/∂L", "∂L/∂a", "∂L/∂w", "∂L/∂x"])
        XCTAssertNil(reverse.boxes[1].gradient)
    }

    func testLectureNotation() {
        XCTAssertEqual(Session.lectureNotation("0.1 * sum(h^2)"), "0.1 · sum(h²)")
        XCTAssertEqual(Session.lectureNotation("W1 @ x + b1"), "W1 @ x + b1")
        XCTAssertEqual(Session.lectureNotation("x^2.5 + y^10 + A.T @ B.Tx"), "x^2.5 + y¹⁰ + Aᵀ @ B.Tx")
        XCTAssertEqual(Session.lectureNotation("einsum(\"i*j\", a) * b^2^3"), "einsum(\"i*j\", a) · b^2³")
    }

    /// Local Jacobians in the reverse drawing are named by their structure, indexing as a selection.
    func testReverseEdgesNameTheirJacobiansByStructure() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, """
            input x = [1, 2]
            param W = [[1, 2], [3, 4]]
            z = W @ x
            a = relu(z)
            s = a[1]
            L = sum(a) + 0.5 * s^2
            :backward L
            """), output.errors)
        let target = try XCTUnwrap(session.workspace.graph.node(named: "L"))
        let reverse = session.reverseReport(of: session.graphReport(target: target, granularity: .definitions))
        func edges(_ label: String) -> [String] {
            guard let box = reverse.boxes.first(where: { $0.label == label }) else { return [] }
            return box.incoming.map { reverse.boxes[$0.from].label + " · " + $0.jacobian }
        }
        XCTAssertEqual(edges("∂L/∂s"), ["∂L/∂L · 0.5 · 2·s"])
        // In the consumers' creation order: s = a[1] comes before L.
        XCTAssertEqual(edges("∂L/∂a"), ["∂L/∂s · E₁", "∂L/∂L · 1ᵀ"])
        XCTAssertEqual(edges("∂L/∂z"), ["∂L/∂a · diag(relu′(z))"])
        XCTAssertEqual(edges("∂L/∂W"), ["∂L/∂z · I ⊗ xᵀ"])
        XCTAssertEqual(edges("∂L/∂x"), ["∂L/∂z · W"])
        output.text = ""
        XCTAssertTrue(execute(session, ":set width 100\n:graph reverse L"), output.errors)
        XCTAssert(output.text.contains("│ = ∂L/∂s · E₁ │"), output.text)
        XCTAssert(output.text.contains("│ + ∂L/∂L · 1ᵀ │"), output.text)
        XCTAssert(output.text.contains("│ = ∂L/∂z · (I ⊗ xᵀ) │"), output.text)
        XCTAssertFalse(output.text.contains("dense"), output.text)
    }

    func testSettingsOfDrawings() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]; y = sum(x * x)\n:set show names,shapes\n:graph"), output.errors)
        XCTAssert(output.text.contains("│ x  input  │\n│ shape (2) │"), output.text)
        XCTAssertFalse(output.text.contains("= [1, 2]"), output.text)
        XCTAssertFalse(execute(session, ":set show colours"))
        XCTAssert(output.errors.contains("show takes names, values, grads and shapes (or all)"), output.errors)
        output.errors = ""
        XCTAssertFalse(execute(session, ":set width 5"))
        XCTAssert(output.errors.contains("width must be a whole number of columns from 20 to 10000"), output.errors)
        XCTAssertFalse(execute(session, ":set dot sideways"))
        XCTAssertTrue(execute(session, ":set dot tb\n:set show all\n:set full on\n:set width auto"), output.errors)
        output.text = ""
        XCTAssertTrue(execute(session, ":dot"), output.errors)
        XCTAssert(output.text.contains("rankdir=TB"), output.text)
    }

    /// A large, mostly zero tensor is summarised with where its nonzero entries are, never as a row of zeros.
    func testSummariesKeepTheInformativeEntries() {
        let (session, _) = makeSession()
        var t = Tensor.zeros([8, 8])
        for c in 0..<8 { t.scalars[5 * 8 + c] = 3 }
        XCTAssertEqual(session.boxLines(t), ["shape (8, 8)", "min 0  max 3", "nonzero row 5"])
        session.drawing.full = true
        XCTAssertEqual(session.boxLines(t).count, 8)
    }

    // MARK: Graphviz

    func graphviz(_ arguments: [String], input: String) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["dot"] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let (output, errors) = readToEnd(process, stdout, stderr)
        return (process.terminationStatus, output, String(decoding: errors, as: UTF8.self))
    }

    func requireGraphviz() throws {
        let found = ProcessInfo.processInfo.environment["PATH", default: ""].split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/dot") }
        // scripts/ensure-deps installs Graphviz; CI runs it first.
        XCTAssertTrue(found, "Graphviz's dot is not on the PATH: run scripts/ensure-deps")
        if !found { throw XCTSkip("no dot") }
    }

    func testGraphvizAcceptsEveryDrawingOfEveryExample() throws {
        try requireGraphviz()
        for file in try exampleFiles() {
            let (session, output) = try loaded(file)
            for command in [":dot", ":dot expand", ":dot reverse"] {
                output.text = ""
                output.errors = ""
                guard execute(session, command) else {
                    XCTAssert(command == ":dot reverse" && output.errors.contains("seed="), "\(file.lastPathComponent) \(command): \(output.errors)")
                    continue
                }
                let run = try graphviz(["-Tsvg"], input: output.text)
                XCTAssertEqual(run.status, 0, "\(file.lastPathComponent) \(command): \(run.errors)")
                XCTAssertEqual(run.errors, "", "\(file.lastPathComponent) \(command)")
                XCTAssert(String(decoding: run.output, as: UTF8.self).contains("</svg>"))
            }
        }
    }

    /// The PNG of examples/xor.graph fits a projector: at most 1600 px on its long side, with
    /// text at least 14 px high (16-point text at 72 dpi, with no size attribute to scale it down).
    func testXorRendersToAPictureAProjectorCanShow() throws {
        try requireGraphviz()
        let (session, output) = try loaded(Self.examples.appendingPathComponent("xor.graph"))
        XCTAssertTrue(execute(session, ":backward L"), output.errors)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-dot-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for reverse in [false, true] {
            let path = folder.appendingPathComponent(reverse ? "reverse.png" : "forward.png").path
            output.text = ""
            XCTAssertTrue(execute(session, ":dot \(path)\(reverse ? " reverse" : "")"), output.errors)
            XCTAssert(output.text.hasPrefix("drew 9 boxes"), output.text)
            let png = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
            let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
            XCTAssertLessThanOrEqual(max(width, height), 1600, "\(reverse ? "reverse" : "forward"): \(width)×\(height)")
            XCTAssertGreaterThan(min(width, height), 200)
            output.text = ""
            XCTAssertTrue(execute(session, reverse ? ":dot reverse" : ":dot"), output.errors)
            let dot = output.text
            XCTAssert(dot.contains("dpi=72"), dot)
            XCTAssertFalse(dot.contains(" size="), "a size attribute would scale the text down")
            let sizes = dot.components(separatedBy: "fontsize=").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
            XCTAssertFalse(sizes.isEmpty)
            XCTAssertGreaterThanOrEqual(sizes.min() ?? 0, 14, "every text is at least 14 pt, 14 px at 72 dpi")
            XCTAssertFalse(dot.contains("<font point-size"), "no label text is set smaller")
        }
    }

    func testRenderingWithoutGraphvizNamesThePackage() throws {
        let (session, output) = makeSession()
        let saved = ProcessInfo.processInfo.environment["PATH"] ?? ""
        setenv("PATH", "/nonexistent-chainrule", 1)
        defer { setenv("PATH", saved, 1) }
        XCTAssertFalse(execute(session, "x = 1\n:dot /tmp/chainrule-never-\(UInt64.random(in: 0...UInt64.max)).png"))
        XCTAssert(output.errors.contains("Graphviz's 'dot' is not installed; install it (apt-get install graphviz)"), output.errors)
    }
}
