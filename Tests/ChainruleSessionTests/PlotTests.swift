import ChainruleCore
@testable import ChainruleSession
import Glibc
import XCTest

/// `:plot`: the canvases dot by dot, the ticks, the sampled derivatives against an independent
/// oracle, and what the command leaves of the session.
final class PlotTests: XCTestCase {
    // MARK: Canvas

    /// A line from the bottom left dot to the top right of a two-cell braille canvas sets the
    /// four dots of the diagonal: dots 7 and 6 of the first cell (⡠), 2 and 4 of the second (⠊).
    func testABrailleLineLandsOnTheDiagonalDots() {
        var canvas = PlotCanvas(kind: .braille, columns: 2, rows: 1)
        var phase = 0
        canvas.line(from: (0, 3), to: (3, 0), series: 0, phase: &phase)
        XCTAssertEqual(canvas.text(row: 0, key: { _ in "*" }), "⡠⠊")
        XCTAssertEqual(phase, 4)
    }

    /// In ASCII each dot is a cell, shown as its series' key; a dashed line leaves out two dots of four.
    func testAnASCIILineIsDrawnInItsKeyAndDashesLeaveDotsOut() {
        var canvas = PlotCanvas(kind: .ascii, columns: 8, rows: 1)
        var phase = 0
        canvas.line(from: (0, 0), to: (7, 0), series: 1, dashed: true, phase: &phase)
        XCTAssertEqual(canvas.text(row: 0, key: { $0 == 1 ? "+" : "?" }), "++  ++  ")
    }

    func testTicksAreWholeMultiplesOfOneTwoOrFive() {
        XCTAssertEqual(plotTicks(low: 0, high: 1), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(plotTicks(low: -6, high: 6, count: 7), [-6, -4, -2, 0, 2, 4, 6])
        XCTAssertEqual(plotTicks(low: -0.3, high: 0.7), [-0.25, 0, 0.25, 0.5])
        XCTAssertEqual(plotTicks(low: 1, high: 1), [1])
    }

    /// The line y = x over [0, 1] on an ASCII canvas: its ends in the corners, each tick label
    /// on the row (y) or under the column (x) of its value, and the legend naming the key.
    func testTickLabelsSitAtTheirValues() {
        let points = (0...8).map { PlotReport.Point(x: Double($0) / 8, y: Double($0) / 8) }
        let report = PlotReport(title: "y = x", x: .init(label: "x", low: 0, high: 1, ticks: [0, 0.5, 1]),
                                y: .init(label: "y", low: 0, high: 1, ticks: [0, 0.5, 1]),
                                series: [.init(label: "y(x)", points: points, style: .line)])
        let drawing = PlotDrawing(kind: .ascii, width: 16, height: 5, style: Style(enabled: false), format: NumberFormat())
        XCTAssertEqual(drawing.render(report), [
            "y = x",
            "  1 |        **",
            "    |      **",
            "0.5 |   ***",
            "    | **",
            "  0 |*",
            "    ++----+---+",
            "     0   0.5  1  x",
            "  * y(x)",
        ])
    }

    // MARK: Sampling

    /// tanh′ as the graph's derivative rule gives it, against 1 − tanh² computed here.
    func testTheDerivativeOfTanhIsOneMinusTanhSquared() throws {
        let span = SourceSpan(Source(name: "t", text: "tanh"), SourceRange(0, 4))
        let function = PlotFunction.builtin("tanh", spelled: "Tanh", memoryLimit: 1 << 30, shouldStop: { false }, at: span)
        let xs = (0...120).map { -6 + Double($0) / 10 }
        let (values, derivatives) = try function.sample(xs)
        XCTAssertEqual(values.count, xs.count)
        for (i, x) in xs.enumerated() {
            let t = Glibc.tanh(x)
            XCTAssertEqual(values[i], t, accuracy: 1e-12, "tanh(\(x))")
            XCTAssertEqual(derivatives[i], 1 - t * t, accuracy: 1e-12, "tanh′(\(x))")
        }
    }

    /// relu's derivative at the kink is 0, as the graph's rule has it; sigmoid′ = σ(1 − σ).
    func testKinksAndSigmoidFollowTheGraphsRules() throws {
        let span = SourceSpan(Source(name: "t", text: "relu"), SourceRange(0, 4))
        let relu = try PlotFunction.builtin("relu", spelled: "relu", memoryLimit: 1 << 30, shouldStop: { false }, at: span).sample([-1, 0, 2])
        XCTAssertEqual(relu.values, [0, 0, 2])
        XCTAssertEqual(relu.derivatives, [0, 0, 1])
        let sigmoid = try PlotFunction.builtin("sigmoid", spelled: "sigmoid", memoryLimit: 1 << 30, shouldStop: { false }, at: span).sample([-3, 0, 1.5])
        for (s, d) in zip(sigmoid.values, sigmoid.derivatives) { XCTAssertEqual(d, s * (1 - s), accuracy: 1e-12) }
    }

    func testOnlyElementwiseBuiltinsOfOneArgumentArePlotted() {
        XCTAssertEqual(PlotFunction.builtin(named: "Tanh"), "tanh")
        XCTAssertEqual(PlotFunction.builtin(named: "leaky_relu"), "leaky_relu")
        XCTAssertNil(PlotFunction.builtin(named: "sum"))
        XCTAssertNil(PlotFunction.builtin(named: "softmax"))
    }

    // MARK: The command

    /// Plotting against a leaf works on a copy: the leaf keeps its bits and no edit is counted.
    func testASliceLeavesTheLeafExactlyAsItWas() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = 0.1\nL = (w^2 - 1)^2 + w\nL"))
        let edits = session.workspace.valueEdits
        XCTAssertTrue(execute(session, ":plot L w -2 2"))
        XCTAssertEqual(session.workspace.entries["w"]?.value?.scalars[0].bitPattern, 0.1.bitPattern)
        XCTAssertEqual(session.workspace.valueEdits, edits)
        XCTAssertTrue(output.text.contains("now: w = 0.1, L = 1.0801"), output.text)
        XCTAssertEqual(output.errors, "")
    }

    /// After :train the path is drawn; an edit of the graph forgets it.
    func testThePathOfTrainingIsDrawnUntilTheGraphIsEdited() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = 2\nL = (w^2 - 1)^2 / 4\n:train L steps=20 lr=0.05"))
        XCTAssertEqual(session.trainingPath?.points.count, 21)
        XCTAssertEqual(session.trainingPath?.points.first, [2])
        XCTAssertEqual(session.trainingPath?.points.last, [session.workspace.entries["w"]?.value?.scalars[0] ?? .nan])
        XCTAssertTrue(execute(session, ":plot L w"))
        XCTAssertTrue(output.text.contains("path of :train (21 points)"), output.text)
        XCTAssertTrue(execute(session, "u = 1"))
        XCTAssertNil(session.trainingPath)
        output.text = ""
        XCTAssertTrue(execute(session, ":plot L w"))
        XCTAssertFalse(output.text.contains("path"), output.text)
    }

    /// Samples that are not finite are left out and counted; none finite is an error at the function.
    func testSamplesThatAreNotFiniteAreCountedAtTheFunction() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":plot sqrt -1 1 height=4"))
        XCTAssertTrue(output.errors.hasPrefix("<stdin>:1:7: warning: 161 of 322 samples of sqrt and its derivative on [-1, 1] are not finite; the finite part is drawn"), output.errors)
        XCTAssertTrue(output.text.contains("sqrt and its derivative on [-1, 1]"))
        XCTAssertFalse(execute(session, ":plot log -2 -1"))
        XCTAssertTrue(output.errors.contains("<stdin>:1:7: error: no sample of log on [-2, -1] is finite"), output.errors)
    }

    /// Colour only where the session may colour its output (a terminal without NO_COLOR).
    func testColourOnlyOnATerminal() {
        let (plain, plainOutput) = makeSession()
        XCTAssertTrue(execute(plain, ":plot tanh -1 1"))
        XCTAssertFalse(plainOutput.text.contains("\u{1B}["))
        let output = MergedOutput()
        let coloured = Session(output: output, colorOutput: true)
        coloured.terminalWidth = { nil }
        XCTAssertTrue(execute(coloured, ":plot tanh -1 1"))
        XCTAssertTrue(output.text.contains("\u{1B}[34m"))
    }

    /// The plot fits the width it is given.
    func testThePlotFitsTheWidth() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":set width 50\n:plot sigmoid tanh -6 6"))
        for line in output.text.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 50, String(line)) }
    }
}
