import ChainruleCore
@testable import ChainruleSession
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// The SVG renderer of `:plot`'s report, read back as XML: where the lines go in the frame,
/// the tick labels, the markers and cells, and that nothing points outside the drawing.
final class PlotSVGTests: XCTestCase {
    /// The elements of an SVG document in order, each its name and attributes, and the texts.
    final class Elements: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var texts: [(attributes: [String: String], text: String)] = []
        private var open: [String: String]?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
            elements.append((name, attributes))
            if name == "text" { open = attributes; texts.append((attributes, "")) }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if open != nil { texts[texts.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { open = nil }
        }

        func all(_ name: String) -> [[String: String]] { elements.filter { $0.name == name }.map(\.attributes) }
    }

    func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws -> Elements {
        let parser = XMLParser(data: Data(svg.utf8))
        let elements = Elements()
        parser.delegate = elements
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "") at line \(parser.lineNumber)", file: file, line: line)
        return elements
    }

    func number(_ text: String?) -> Double { text.flatMap(Double.init) ?? .nan }

    func points(_ polyline: [String: String]) -> [(x: Double, y: Double)] {
        (polyline["points"] ?? "").split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").map { Double($0) ?? .nan }
            return (xy.first ?? .nan, xy.last ?? .nan)
        }
    }

    /// The frame's rectangle: left, top, width, height.
    func frame(_ elements: Elements) throws -> (x: Double, y: Double, w: Double, h: Double) {
        let rect = try XCTUnwrap(elements.all("rect").first { $0["class"] == "frame" })
        return (number(rect["x"]), number(rect["y"]), number(rect["width"]), number(rect["height"]))
    }

    static let unit = PlotReport.Axis(label: "x", low: 0, high: 1, ticks: [0, 0.5, 1])

    /// y = x over [0, 1]: one polyline from the frame's bottom left corner to its top right,
    /// through each sample; ticks 0, 0.5, 1 labelled on both axes; the legend names it.
    func testTheLineYEqualsXRunsCornerToCornerThroughItsSamples() throws {
        let samples = (0...8).map { PlotReport.Point(x: Double($0) / 8, y: Double($0) / 8) }
        var y = PlotSVGTests.unit
        y.label = "y"
        let report = PlotReport(title: "y = x", x: PlotSVGTests.unit, y: y, series: [.init(label: "y(x)", points: samples, style: .line)])
        let svg = PlotSVG(format: NumberFormat()).render(report)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"760\" height=\""), svg)
        let elements = try parse(svg)
        let (left, top, w, h) = try frame(elements)
        let polylines = elements.all("polyline")
        XCTAssertEqual(polylines.count, 1)
        let drawn = points(try XCTUnwrap(polylines.first))
        XCTAssertEqual(drawn.count, 9)
        for (i, p) in drawn.enumerated() {
            XCTAssertEqual(p.x, left + w * Double(i) / 8, accuracy: 0.051, "sample \(i) across")
            XCTAssertEqual(p.y, top + h - h * Double(i) / 8, accuracy: 0.051, "sample \(i) up")
        }
        let ticks = elements.texts.filter { $0.attributes["class"] == "tick" }
        XCTAssertEqual(ticks.map(\.text), ["0", "0.5", "1", "0", "0.5", "1"])
        // x labels centred under their ticks, y labels level with theirs.
        for (i, tick) in ticks.prefix(3).enumerated() {
            XCTAssertEqual(number(tick.attributes["x"]), left + w * Double(i) / 2, accuracy: 0.051)
            XCTAssertEqual(tick.attributes["text-anchor"], "middle")
        }
        for (i, tick) in ticks.suffix(3).enumerated() {
            XCTAssertEqual(number(tick.attributes["y"]) - 5, top + h - h * Double(i) / 2, accuracy: 0.051)
        }
        let texts = elements.texts.map(\.text)
        for label in ["y = x", "y(x)", "x", "y"] { XCTAssertTrue(texts.contains(label), label) }
        XCTAssertTrue(svg.contains("<title>y = x</title>"))
        try assertSelfContained(svg, elements)
    }

    /// Nothing refers to anything outside the drawing: `http` only in the SVG namespace, no
    /// href, no url(), no id to clash with another drawing on the page; text at least 13 px.
    func assertSelfContained(_ svg: String, _ elements: Elements, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(svg.components(separatedBy: "http").count - 1, 1, "one http, the namespace", file: file, line: line)
        XCTAssertEqual(elements.elements.first?.attributes["xmlns"], "http://www.w3.org/2000/svg", file: file, line: line)
        for forbidden in ["href", "url(", " id=", "<image", "<script", "<style", "@import"] {
            XCTAssertFalse(svg.contains(forbidden), forbidden, file: file, line: line)
        }
        let sizes = elements.elements.compactMap { $0.attributes["font-size"] }.map(number)
        XCTAssertFalse(sizes.isEmpty, file: file, line: line)
        for size in sizes { XCTAssertGreaterThanOrEqual(size, 13, file: file, line: line) }
        XCTAssertTrue(elements.elements.first?.attributes["font-family"]?.hasPrefix("system-ui,") == true, file: file, line: line)
    }

    /// A derivative is dashed, its function solid; a line leaving the frame is cut at its edge;
    /// a sample that is not finite breaks the line.
    func testDashesClippingAndBreaks() throws {
        let steep = (0...3).map { PlotReport.Point(x: Double($0) / 3, y: 2 * Double($0) / 3) }
        let broken = [0, 0.25, 0.5, 0.75, 1].map { PlotReport.Point(x: $0, y: $0 == 0.5 ? .nan : 0.5) }
        let report = PlotReport(title: "t", x: PlotSVGTests.unit, y: PlotSVGTests.unit,
                                series: [.init(label: "f(x)", points: steep, style: .line), .init(label: "f′(x)", points: broken, style: .dashed)])
        let svg = PlotSVG(format: NumberFormat()).render(report)
        let elements = try parse(svg)
        let (left, top, w, h) = try frame(elements)
        let groups = elements.all("g").filter { $0["class"] == "series" }
        XCTAssertEqual(groups.map { $0["stroke-dasharray"] }, [nil, "8 5"])
        let lines = elements.all("polyline").map(points)
        XCTAssertEqual(lines.count, 3, "one clipped piece of f, two pieces of f′")
        // y = 2x meets the top of the frame at x = 0.5: samples 0, 1/3, then the cut.
        XCTAssertEqual(lines[0].count, 3)
        XCTAssertEqual(lines[0][2].x, left + w / 2, accuracy: 0.051)
        XCTAssertEqual(lines[0][2].y, top, accuracy: 0.051)
        XCTAssertEqual(lines[1].map(\.x), [left, left + w / 4].map { ($0 * 10).rounded() / 10 })
        XCTAssertEqual(lines[2].map(\.x), [left + 3 * w / 4, left + w].map { ($0 * 10).rounded() / 10 })
        for p in lines[1] + lines[2] { XCTAssertEqual(p.y, top + h / 2, accuracy: 0.051) }
        XCTAssertEqual(svg, PlotSVG(format: NumberFormat()).render(report), "the same report, the same text")
    }

    /// Each label of a scatter has its own shape and colour, in the plot and in the legend;
    /// a point outside the axes is left out.
    func testScatterMarksEachLabelWithItsOwnShapeAndColour() throws {
        let report = PlotReport(title: "points", x: PlotSVGTests.unit, y: PlotSVGTests.unit, series: [
            .init(label: "T = 0", points: [.init(x: 0.1, y: 0.1), .init(x: 0.9, y: 0.9), .init(x: 3, y: 0.5)], style: .markers),
            .init(label: "T = 1", points: [.init(x: 0.1, y: 0.9), .init(x: 0.9, y: 0.1)], style: .markers),
        ])
        let svg = PlotSVG(format: NumberFormat()).render(report)
        let elements = try parse(svg)
        let groups = elements.all("g").filter { $0["class"] == "markers" }
        XCTAssertEqual(groups.map { $0["fill"] }, [PlotSVG.colours[0], PlotSVG.colours[1]])
        XCTAssertEqual(elements.all("circle").count, 2 + 1, "two circles of T = 0, and its legend's")
        XCTAssertEqual(elements.all("rect").filter { $0["class"] == nil && $0["width"] == "9.6" }.count, 2 + 1, "two squares of T = 1, and its legend's")
        try assertSelfContained(svg, elements)
    }

    /// A heat map is one cell per sample, the lowest viridis's first colour and the highest its
    /// last, a sample that is not finite grey and named in the legend; the scale is labelled.
    func testAHeatMapHasACellPerSampleAndAColourScale() throws {
        var report = PlotReport(title: "E over a and b", x: .init(label: "a", low: -1, high: 1), y: .init(label: "b", low: -1, high: 1))
        report.field = .init(label: "E", columns: 3, rows: 2, values: [0, 1, 2, 3, .nan, 4])
        report.marks = [.init(label: "now", at: .init(x: 0, y: 0))]
        report.path = .init(label: "path", points: [.init(x: -0.5, y: -0.5), .init(x: 0, y: 0)], style: .markers)
        let svg = PlotSVG(format: NumberFormat()).render(report)
        let elements = try parse(svg)
        let (left, top, w, h) = try frame(elements)
        // The cells are the rects of the heat map's group, in order.
        let start = try XCTUnwrap(elements.elements.firstIndex { $0.attributes["class"] == "heat-map" })
        let rects = elements.elements[(start + 1)...].prefix { $0.name == "rect" && $0.attributes["class"] == nil }.map(\.attributes)
        XCTAssertEqual(rects.map { $0["fill"] }, ["#440154", "#3b528b", "#21918c", "#5ec962", ColourScale.nonFinite, "#fde725"])
        // The cells cover the frame: half cells at the edges, a whole one in the middle.
        XCTAssertEqual(number(rects[0]["x"]), left)
        XCTAssertEqual(number(rects[1]["width"]), w / 2, accuracy: 0.11)
        XCTAssertEqual(number(rects[2]["x"]) + number(rects[2]["width"]), left + w, accuracy: 0.051)
        XCTAssertEqual(number(rects[3]["y"]) + number(rects[3]["height"]), top + h, accuracy: 0.051)
        let texts = elements.texts.map(\.text)
        for label in ["E", "E not finite", "now", "path", "0", "4"] { XCTAssertTrue(texts.contains(label), label) }
        XCTAssertEqual(elements.all("g").filter { $0["class"] == "mark" }.count, 2, "the mark and its legend")
        XCTAssertEqual(elements.all("polyline").count, 2, "the path's line and its halo")
        try assertSelfContained(svg, elements)
    }

    /// Numbers in coordinates: one decimal at most, no `-0`, nothing that cannot be written.
    func testCoordinatesAreWrittenWithOneDecimal() {
        XCTAssertEqual([0, -0.0, 12.25, -3.04, 7, 1e300, -.infinity, .nan].map(px), ["0", "0", "12.3", "-3", "7", "10000000", "0", "0"])
    }
}
