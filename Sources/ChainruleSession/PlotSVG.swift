/// The SVG renderer of a ``PlotReport``, for the `--html` page: the same report the terminal
/// draws (nothing is sampled again), framed by axes with tick labels, a title above and a
/// legend below. Each series is a polyline (dashed for a derivative, as the terminal dashes
/// it) or one marker shape and colour per label; the current point is a ring, the `:train`
/// path a line of dots, a heat map a grid of cells beside a colour scale.
///
/// The drawing is self-contained (no ids, no references to anything; a nested `<svg>` is
/// not needed because lines are clipped to the frame here), readable when projected (text
/// at least 13 px in the system's sans-serif), and deterministic: every coordinate is written
/// with one decimal by integer arithmetic, every number label by the session's ``NumberFormat``.
struct PlotSVG {
    var format: NumberFormat
    /// The width of the whole drawing and the height of its frame, in px.
    var width = 760
    var frameHeight = 340

    static let fonts = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Helvetica Neue', Arial, sans-serif"
    /// Series colours, Okabe and Ito's palette for colour-blind readers (yellow left out: too pale on white).
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#1d232b", "#8C564B"]
    static let ink = "#1d232b", muted = "#5b6570", grid = "#e3e7eb"
    static let tickSize = 14, titleSize = 16

    /// Where the frame is, in px, and how a point of the report's axes lands in it.
    struct Frame {
        var left: Double, top: Double, width: Double, height: Double
        var right: Double { left + width }
        var bottom: Double { top + height }
        func x(_ fx: Double) -> Double { left + fx * width }
        func y(_ fy: Double) -> Double { top + (1 - fy) * height }
    }

    /// A point as fractions of the axes (0…1 inside the frame), or nil when it cannot be placed.
    static func fraction(_ p: PlotReport.Point, _ x: PlotReport.Axis, _ y: PlotReport.Axis) -> (x: Double, y: Double)? {
        guard p.x.isFinite, p.y.isFinite else { return nil }
        let fx = (p.x - x.low) / (x.high - x.low), fy = (p.y - y.low) / (y.high - y.low)
        return fx.isFinite && fy.isFinite ? (fx, fy) : nil
    }

    static func inside(_ f: (x: Double, y: Double)) -> Bool {
        f.x >= -1e-9 && f.x <= 1 + 1e-9 && f.y >= -1e-9 && f.y <= 1 + 1e-9
    }

    /// The estimated width of `text` at `size` px in a sans-serif font (for layout only).
    static func textWidth(_ text: String, size: Int) -> Double { Double(text.count) * Double(size) * 0.58 }

    func render(_ report: PlotReport) -> String {
        let xTicks = (report.x.ticks ?? plotTicks(low: report.x.low, high: report.x.high, count: 7)).filter { PlotSVG.within($0, report.x) }
        let yTicks = (report.y.ticks ?? plotTicks(low: report.y.low, high: report.y.high, count: 6)).filter { PlotSVG.within($0, report.y) }
        let yLabels = yTicks.map(format.format)
        let titleLines = PlotSVG.wrap(report.title, size: PlotSVG.titleSize, width: Double(width) - 24)
        let scale = report.field.map { ColourScale(field: $0, format: format) }
        var left = 14 + (yLabels.map { PlotSVG.textWidth($0, size: PlotSVG.tickSize) }.max() ?? 0) + 10
        if !report.y.label.isEmpty { left += 24 }
        let right = 20 + (scale?.width ?? 0)
        let frame = Frame(left: left.rounded(), top: Double(18 + 22 * titleLines.count + (scale == nil ? 0 : 18)), width: (Double(width) - left - right).rounded(),
                          height: Double(frameHeight))
        var body = SVGText()
        for (i, line) in titleLines.enumerated() {
            body.element("<text x=\"\(px(Double(width) / 2))\" y=\"\(px(Double(22 + 22 * i)))\" text-anchor=\"middle\" font-size=\"\(PlotSVG.titleSize)\" font-weight=\"600\">\(PlotSVG.escape(line))</text>")
        }
        if let field = report.field, let scale { heatMap(field, scale: scale, in: frame, into: &body) }
        axes(report, xTicks: xTicks, yTicks: yTicks, yLabels: yLabels, heatMap: report.field != nil, in: frame, into: &body)
        for (k, series) in report.series.enumerated() { draw(series, k, report, in: frame, into: &body) }
        if let path = report.path { draw(path: path, report, in: frame, into: &body) }
        for mark in report.marks {
            guard let f = PlotSVG.fraction(mark.at, report.x, report.y), PlotSVG.inside(f) else { continue }
            body.element(PlotSVG.markSymbol(at: frame.x(f.x), frame.y(f.y)))
        }
        if let scale { scale.draw(left: frame.right + 24, top: frame.top, height: frame.height, into: &body) }
        let legendTop = frame.bottom + (report.x.label.isEmpty ? 50 : 74)
        let height = legend(report, top: legendTop, left: frame.left, into: &body)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"\(width)\" height=\"\(px(height))\" viewBox=\"0 0 \(width) \(px(height))\""
        svg += " role=\"img\" font-family=\"\(PlotSVG.fonts)\" font-size=\"\(PlotSVG.tickSize)\" fill=\"\(PlotSVG.ink)\">\n"
        svg += "<title>\(PlotSVG.escape(report.title))</title>\n"
        svg += "<rect width=\"\(width)\" height=\"\(px(height))\" fill=\"#ffffff\"/>\n"
        return svg + body.text + "</svg>"
    }

    static func within(_ v: Double, _ axis: PlotReport.Axis) -> Bool {
        let f = (v - axis.low) / (axis.high - axis.low)
        return f.isFinite && f >= -1e-9 && f <= 1 + 1e-9
    }

    /// Gridlines (not over a heat map), the zero lines, the frame, ticks and their labels, the axis labels.
    func axes(_ report: PlotReport, xTicks: [Double], yTicks: [Double], yLabels: [String], heatMap: Bool, in frame: Frame, into body: inout SVGText) {
        let fx = { (v: Double) in (v - report.x.low) / (report.x.high - report.x.low) }
        let fy = { (v: Double) in (v - report.y.low) / (report.y.high - report.y.low) }
        if !heatMap {
            var grid = ""
            for t in xTicks { grid += "M\(px(frame.x(fx(t)))) \(px(frame.top))V\(px(frame.bottom))" }
            for t in yTicks { grid += "M\(px(frame.left)) \(px(frame.y(fy(t))))H\(px(frame.right))" }
            if !grid.isEmpty { body.element("<path class=\"grid\" d=\"\(grid)\" stroke=\"\(PlotSVG.grid)\" stroke-width=\"1\" fill=\"none\"/>") }
            var zero = ""
            if report.x.low < 0 && report.x.high > 0 { zero += "M\(px(frame.x(fx(0)))) \(px(frame.top))V\(px(frame.bottom))" }
            if report.y.low < 0 && report.y.high > 0 { zero += "M\(px(frame.left)) \(px(frame.y(fy(0))))H\(px(frame.right))" }
            if !zero.isEmpty { body.element("<path class=\"zero\" d=\"\(zero)\" stroke=\"#9aa3ad\" stroke-width=\"1.2\" fill=\"none\"/>") }
        }
        body.element("<rect class=\"frame\" x=\"\(px(frame.left))\" y=\"\(px(frame.top))\" width=\"\(px(frame.width))\" height=\"\(px(frame.height))\" fill=\"none\" stroke=\"#444c55\" stroke-width=\"1.2\"/>")
        var ticks = ""
        for t in xTicks { ticks += "M\(px(frame.x(fx(t)))) \(px(frame.bottom))v6" }
        for t in yTicks { ticks += "M\(px(frame.left)) \(px(frame.y(fy(t))))h-6" }
        if !ticks.isEmpty { body.element("<path class=\"ticks\" d=\"\(ticks)\" stroke=\"#444c55\" stroke-width=\"1.2\"/>") }
        // x labels centred under their ticks, unless one would run into the one before.
        var free = -Double.infinity
        for t in xTicks {
            let label = format.format(t), x = frame.x(fx(t)), half = PlotSVG.textWidth(label, size: PlotSVG.tickSize) / 2
            guard x - half >= free else { continue }
            body.element("<text class=\"tick\" x=\"\(px(x))\" y=\"\(px(frame.bottom + 24))\" text-anchor=\"middle\">\(PlotSVG.escape(label))</text>")
            free = x + half + 6
        }
        for (t, label) in zip(yTicks, yLabels) {
            body.element("<text class=\"tick\" x=\"\(px(frame.left - 10))\" y=\"\(px(frame.y(fy(t)) + 5))\" text-anchor=\"end\">\(PlotSVG.escape(label))</text>")
        }
        if !report.x.label.isEmpty {
            body.element("<text class=\"label\" x=\"\(px(frame.left + frame.width / 2))\" y=\"\(px(frame.bottom + 46))\" text-anchor=\"middle\" font-style=\"italic\">\(PlotSVG.escape(report.x.label))</text>")
        }
        if !report.y.label.isEmpty {
            let x = 22.0, y = frame.top + frame.height / 2
            body.element("<text class=\"label\" x=\"\(px(x))\" y=\"\(px(y))\" transform=\"rotate(-90 \(px(x)) \(px(y)))\" text-anchor=\"middle\" font-style=\"italic\">\(PlotSVG.escape(report.y.label))</text>")
        }
    }

    /// A series: its runs of joined samples as polylines (clipped to the frame, broken at a
    /// sample that is not finite; a sample alone between breaks as a dot), or its markers.
    func draw(_ series: PlotReport.Series, _ k: Int, _ report: PlotReport, in frame: Frame, into body: inout SVGText) {
        let colour = PlotSVG.colours[k % PlotSVG.colours.count]
        if series.style == .markers {
            // One marker per 2 px square: many rows at one place draw as one (and a big node stays a small page).
            var shapes = "", placed = Set<Int>()
            for p in series.points {
                guard let f = PlotSVG.fraction(p, report.x, report.y), PlotSVG.inside(f) else { continue }
                let x = frame.x(f.x), y = frame.y(f.y)
                guard placed.insert(Int(x / 2) << 20 | Int(y / 2)).inserted else { continue }
                shapes += PlotSVG.marker(k, at: x, y)
            }
            body.element("<g class=\"markers\" fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"1\">\(shapes)</g>")
            return
        }
        let dash = series.style == .dashed ? " stroke-dasharray=\"8 5\"" : ""
        var lines = "", dots = ""
        for run in PlotSVG.runs(series.points, report.x, report.y) {
            if run.count == 1 {
                dots += "<circle cx=\"\(px(frame.x(run[0].x)))\" cy=\"\(px(frame.y(run[0].y)))\" r=\"2\"/>"
            } else {
                lines += "<polyline points=\"" + run.map { "\(px(frame.x($0.x))),\(px(frame.y($0.y)))" }.joined(separator: " ") + "\"/>"
            }
        }
        body.element("<g class=\"series\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\" stroke-linejoin=\"round\"\(dash)>\(lines)</g>")
        if !dots.isEmpty { body.element("<g fill=\"\(colour)\">\(dots)</g>") }
    }

    /// The path of `:train`: its points in order, joined by a thin line, each a dot.
    func draw(path: PlotReport.Series, _ report: PlotReport, in frame: Frame, into body: inout SVGText) {
        var lines = "", dots = ""
        for run in PlotSVG.runs(path.points, report.x, report.y) where run.count > 1 {
            lines += "<polyline points=\"" + run.map { "\(px(frame.x($0.x))),\(px(frame.y($0.y)))" }.joined(separator: " ") + "\"/>"
        }
        for p in path.points {
            guard let f = PlotSVG.fraction(p, report.x, report.y), PlotSVG.inside(f) else { continue }
            dots += "<circle cx=\"\(px(frame.x(f.x)))\" cy=\"\(px(frame.y(f.y)))\" r=\"3\"/>"
        }
        body.element("<g class=\"path\" fill=\"none\" stroke-linejoin=\"round\"><g stroke=\"#ffffff\" stroke-width=\"3.5\">\(lines)</g><g stroke=\"\(PlotSVG.ink)\" stroke-width=\"1.3\">\(lines)</g></g>")
        body.element("<g class=\"path-points\" fill=\"#E69F00\" stroke=\"\(PlotSVG.ink)\" stroke-width=\"1\">\(dots)</g>")
    }

    /// The pieces of a line inside the frame, as fractions of the axes: consecutive samples
    /// joined, each segment clipped to the frame (Liang–Barsky), a new piece where one leaves
    /// the frame or a sample cannot be placed.
    static func runs(_ points: [PlotReport.Point], _ x: PlotReport.Axis, _ y: PlotReport.Axis) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = [], run: [(x: Double, y: Double)] = []
        func flush() { if !run.isEmpty { runs.append(run); run = [] } }
        var previous: (x: Double, y: Double)?
        for p in points {
            guard let f = fraction(p, x, y) else { flush(); previous = nil; continue }
            if let a = previous {
                if let (start, end, enters, leaves) = clip(a, f) {
                    if run.isEmpty || enters { flush(); run = [start] }
                    if run.last.map({ $0 != end }) ?? true { run.append(end) }
                    if leaves { flush() }
                } else {
                    flush()
                }
            } else if inside(f) {
                run = [f]
            }
            previous = f
        }
        flush()
        return runs
    }

    /// The part of the segment `a`–`b` within the unit square, and whether it was cut at either end.
    static func clip(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double)) -> (start: (x: Double, y: Double), end: (x: Double, y: Double), enters: Bool, leaves: Bool)? {
        var t0 = 0.0, t1 = 1.0
        let dx = b.x - a.x, dy = b.y - a.y
        for (p, q) in [(-dx, a.x), (dx, 1 - a.x), (-dy, a.y), (dy, 1 - a.y)] {
            if p == 0 {
                if q < -1e-9 { return nil }
            } else {
                let r = q / p
                if p < 0 { t0 = max(t0, r) } else { t1 = min(t1, r) }
            }
        }
        guard t0 <= t1, t0.isFinite, t1.isFinite else { return nil }
        let start = t0 > 0 ? (a.x + t0 * dx, a.y + t0 * dy) : a
        let end = t1 < 1 ? (a.x + t1 * dx, a.y + t1 * dy) : b
        return ((min(max(start.0, 0), 1), min(max(start.1, 0), 1)), (min(max(end.0, 0), 1), min(max(end.1, 0), 1)), t0 > 0, t1 < 1)
    }

    /// The legend under the frame, wrapped to the width: a sample of each series, the path and
    /// the marks, each with its label. Returns the height of the whole drawing.
    func legend(_ report: PlotReport, top: Double, left: Double, into body: inout SVGText) -> Double {
        var entries: [(symbol: (Double, Double) -> String, label: String)] = []
        for (k, series) in report.series.enumerated() {
            let colour = PlotSVG.colours[k % PlotSVG.colours.count]
            entries.append(({ x, y in
                switch series.style {
                case .markers:
                    return "<g fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"1\">\(PlotSVG.marker(k, at: x + 14, y))</g>"
                case .line, .dashed:
                    let dash = series.style == .dashed ? " stroke-dasharray=\"8 5\"" : ""
                    return "<path d=\"M\(px(x)) \(px(y))h30\" stroke=\"\(colour)\" stroke-width=\"2.5\"\(dash)/>"
                }
            }, series.label))
        }
        if let path = report.path {
            entries.append(({ x, y in
                "<path d=\"M\(px(x)) \(px(y))h30\" stroke=\"\(PlotSVG.ink)\" stroke-width=\"1.3\"/><g fill=\"#E69F00\" stroke=\"\(PlotSVG.ink)\" stroke-width=\"1\"><circle cx=\"\(px(x + 5))\" cy=\"\(px(y))\" r=\"3\"/><circle cx=\"\(px(x + 25))\" cy=\"\(px(y))\" r=\"3\"/></g>"
            }, path.label))
        }
        for mark in report.marks { entries.append(({ x, y in PlotSVG.markSymbol(at: x + 14, y) }, mark.label)) }
        if let field = report.field, field.values.contains(where: { !$0.isFinite }) {
            entries.append(({ x, y in "<rect x=\"\(px(x + 5))\" y=\"\(px(y - 8))\" width=\"20\" height=\"16\" fill=\"\(ColourScale.nonFinite)\" stroke=\"#444c55\"/>" },
                            "\(field.label) not finite"))
        }
        var x = left, y = top, used = false
        let limit = Double(width) - 16
        for entry in entries {
            let w = 40 + PlotSVG.textWidth(entry.label, size: PlotSVG.tickSize)
            if used && x + w > limit { x = left; y += 26 }
            body.element("<g class=\"legend\">\(entry.symbol(x, y))<text x=\"\(px(x + 38))\" y=\"\(px(y + 5))\">\(PlotSVG.escape(entry.label))</text></g>")
            x += w + 22
            used = true
        }
        return used ? y + 20 : top - 10
    }

    /// Breaks a title into lines that fit `width` px, at spaces.
    static func wrap(_ text: String, size: Int, width: Double) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if !line.isEmpty && textWidth(candidate, size: size) > width { lines.append(line); line = String(word) } else { line = candidate }
        }
        lines.append(line)
        return lines
    }

    static func escape(_ text: String) -> String { HandoutPage.escape(text) }
}

/// A coordinate in px with one decimal, by integer arithmetic (no locale, no `-0`); clamped
/// far outside any drawing so that no conversion can trap.
func px(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let tenths = Int((min(max(v, -1e7), 1e7) * 10).rounded())
    let magnitude = abs(tenths)
    let text = magnitude % 10 == 0 ? "\(magnitude / 10)" : "\(magnitude / 10).\(magnitude % 10)"
    return tenths < 0 ? "-" + text : text
}

/// SVG elements, one a line.
struct SVGText {
    private(set) var text = ""
    mutating func element(_ element: String) { text += element + "\n" }
}
