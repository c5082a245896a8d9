/// The terminal renderer of a ``PlotReport``: a ``PlotCanvas`` framed by axes with tick
/// labels, a title above and a legend below. Meaning never rests on braille or colour alone:
/// each series has a key character (the curve itself in ASCII, stamped on it in braille),
/// derivatives are dashed, and the legend names every key.
struct PlotDrawing {
    var kind: PlotCanvas.Kind
    /// The columns the whole drawing may take.
    var width: Int
    /// Rows of the canvas.
    var height: Int
    var style: Style
    var format: NumberFormat

    /// Key characters of the series, in order; the marks and the path have their own.
    static let keys: [Character] = ["*", "+", "o", "x", "#", "%", "&", "$"]
    static let colours = ["34", "31", "32", "35", "33", "36"]
    /// Heat-map shades, lowest first.
    var shades: [Character] { kind == .braille ? [" ", "░", "▒", "▓", "█"] : [" ", ".", ":", "-", "=", "+", "*", "#", "%"] }
    var markCharacter: Character { kind == .braille ? "●" : "@" }
    var pathCharacter: Character { kind == .braille ? "•" : "o" }

    func key(_ series: Int) -> Character { PlotDrawing.keys[series % PlotDrawing.keys.count] }

    /// The y axis's tick values: the report's, else nice ones.
    func yTicks(_ axis: PlotReport.Axis) -> [Double] { axis.ticks ?? plotTicks(low: axis.low, high: axis.high) }

    /// The width of the y axis's tick labels.
    func margin(_ y: PlotReport.Axis) -> Int {
        max(yTicks(y).map { format.format($0).count }.max() ?? 1, 1)
    }

    /// The cells across the canvas for a y axis: the width less its tick labels, and less room
    /// for the x axis's name after its last tick label (`xLabel`, with two spaces before it and
    /// two for the half of a last tick label that reaches past the canvas).
    func canvasColumns(_ y: PlotReport.Axis, xLabel: String = "") -> Int {
        max(10, min(width - margin(y) - 3 - (xLabel.isEmpty ? 0 : xLabel.count + 4), 160))
    }

    func render(_ report: PlotReport) -> [String] {
        let yTicks = yTicks(report.y)
        let yLabels = yTicks.map(format.format)
        let margin = margin(report.y)
        let columns = canvasColumns(report.y, xLabel: report.x.label)
        var canvas = PlotCanvas(kind: kind, columns: columns, rows: max(3, height))
        var clashes = 0
        let series = report.series
        let markSeries = series.count, pathSeries = series.count + 1
        // Where a value falls among `n` dots of an axis (nil: not finite, or outside).
        func place(_ v: Double, _ axis: PlotReport.Axis, _ n: Int) -> Int? {
            guard v.isFinite else { return nil }
            let f = (v - axis.low) / (axis.high - axis.low)
            guard f.isFinite, f >= -1e-9, f <= 1 + 1e-9 else { return nil }
            return Int((min(max(f, 0), 1) * Double(n - 1)).rounded())
        }
        func dot(_ p: PlotReport.Point) -> (x: Int, y: Int)? {
            guard let x = place(p.x, report.x, canvas.dotColumns), let y = place(p.y, report.y, canvas.dotRows) else { return nil }
            return (x, canvas.dotRows - 1 - y)
        }
        func cell(_ p: PlotReport.Point) -> (column: Int, row: Int)? {
            guard let x = place(p.x, report.x, canvas.columns), let y = place(p.y, report.y, canvas.rows) else { return nil }
            return (x, canvas.rows - 1 - y)
        }
        let lineSeries = series.indices.filter { series[$0].style != .markers }
        for (k, s) in series.enumerated() {
            switch s.style {
            case .line, .dashed:
                var phase = 0, previous: (x: Int, y: Int)?
                for p in s.points {
                    guard let d = dot(p) else { previous = nil; continue }
                    canvas.line(from: previous ?? d, to: d, series: k, dashed: s.style == .dashed, phase: &phase)
                    previous = d
                }
            case .markers:
                for p in s.points { if let c = cell(p), canvas.stamp(key(k), column: c.column, row: c.row, series: k) { clashes += 1 } }
            }
        }
        // In braille, each curve's key is stamped on it, the curves' keys spread along the x axis.
        if kind == .braille {
            for (n, k) in lineSeries.enumerated() {
                let points = series[k].points.filter { $0.y.isFinite }
                guard !points.isEmpty else { continue }
                let at = points[min(points.count - 1, points.count * (n + 1) / (lineSeries.count + 1))]
                if let c = cell(at) { canvas.stamp(key(k), column: c.column, row: c.row, series: k) }
            }
        }
        for p in report.path?.points ?? [] { if let c = cell(p) { canvas.stamp(pathCharacter, column: c.column, row: c.row, series: pathSeries) } }
        for mark in report.marks { if let c = cell(mark.at) { canvas.stamp(markCharacter, column: c.column, row: c.row, series: markSeries) } }

        // A heat map's cells take the shade of the nearest sample of the field.
        var levels: [Double] = []
        var shadeOf: (Int, Int) -> Character = { _, _ in " " }
        if let field = report.field {
            let finite = field.values.filter(\.isFinite)
            let low = finite.min() ?? 0, high = finite.max() ?? 0
            let shades = self.shades
            levels = (0...shades.count).map { low + (high - low) * Double($0) / Double(shades.count) }
            shadeOf = { column, row in
                let fc = column * (field.columns - 1) / max(1, canvas.columns - 1)
                let fr = row * (field.rows - 1) / max(1, canvas.rows - 1)
                let v = field.values[fr * field.columns + fc]
                guard v.isFinite else { return "?" }
                guard high > low else { return shades[shades.count / 2] }
                return shades[min(shades.count - 1, Int((v - low) / (high - low) * Double(shades.count)))]
            }
        }

        let colour: (Int, String) -> String = { k, text in
            k == markSeries ? style.bold(text) : k == pathSeries ? style.wrap("33", text) : style.wrap(PlotDrawing.colours[k % PlotDrawing.colours.count], text)
        }
        let (vertical, tee, corner, horizontal, down) = kind == .braille ? ("│", "┤", "└", "─", "┬") : ("|", "|", "+", "-", "+")
        var rowLabels = [String?](repeating: nil, count: canvas.rows)
        for (t, label) in zip(yTicks, yLabels) {
            if let r = place(t, report.y, canvas.rows), rowLabels[canvas.rows - 1 - r] == nil { rowLabels[canvas.rows - 1 - r] = label }
        }
        var lines = [report.title]
        for row in 0..<canvas.rows {
            let label = rowLabels[row] ?? ""
            let body = canvas.text(row: row, key: key, background: { shadeOf($0, row) }, colour: colour)
            var line = String(repeating: " ", count: margin - label.count) + label + " " + (rowLabels[row] == nil ? vertical : tee) + body
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        // The x axis: a tee under each tick, its label centred below unless it would overlap the one before.
        var axis = Array(repeating: Character(horizontal), count: canvas.columns)
        var labelLine = Array(repeating: Character(" "), count: margin + 2 + canvas.columns + 12)
        var free = 0
        for t in report.x.ticks ?? plotTicks(low: report.x.low, high: report.x.high, count: max(2, min(7, canvas.columns / 10))) {
            guard let c = place(t, report.x, canvas.columns) else { continue }
            axis[c] = Character(down)
            let text = Array(format.format(t))
            let start = max(0, margin + 2 + c - text.count / 2)
            guard start >= free, start + text.count <= labelLine.count else { continue }
            for (i, ch) in text.enumerated() { labelLine[start + i] = ch }
            free = start + text.count + 1
        }
        lines.append(String(repeating: " ", count: margin + 1) + corner + String(axis))
        var labels = String(labelLine)
        while labels.last == " " { labels.removeLast() }
        // The axis's name follows its last tick label (``canvasColumns(_:xLabel:)`` leaves it room).
        lines.append(labels + "  " + report.x.label)
        lines += legend(report, levels: levels, clashes: clashes, colour: colour)
        return lines
    }

    /// The legend: each series' key (and in braille whether it is solid or dashed), the path,
    /// the marks, a heat map's levels, wrapped to the width.
    func legend(_ report: PlotReport, levels: [Double], clashes: Int, colour: (Int, String) -> String) -> [String] {
        var entries: [String] = []
        for (k, s) in report.series.enumerated() {
            let sample = kind == .braille && s.style != .markers ? (s.style == .dashed ? " ┄┄" : " ──") : ""
            entries.append(colour(k, String(key(k)) + sample) + " " + s.label)
        }
        if let path = report.path { entries.append(colour(report.series.count + 1, String(pathCharacter)) + " " + path.label) }
        for mark in report.marks { entries.append(colour(report.series.count, String(markCharacter)) + " " + mark.label) }
        var lines: [String] = []
        var line = ""
        for entry in entries {
            if !line.isEmpty && visibleCount(line) + 3 + visibleCount(entry) > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "  " : "   ") + entry
        }
        if !line.isEmpty { lines.append(line) }
        if levels.count >= 2, let field = report.field {
            let shades = self.shades
            var text = "  levels of \(field.label):"
            for (i, shade) in shades.enumerated() {
                let entry = "'\(shade)' \(format.format(levels[i]))…\(format.format(levels[i + 1]))"
                if visibleCount(text) + 2 + entry.count > width { lines.append(text); text = "   " }
                text += "  " + entry
            }
            lines.append(text)
        }
        if clashes > 0 {
            lines.append("  \(clashes) cell\(clashes == 1 ? " holds" : "s hold") points of different labels (the last drawn is shown)")
        }
        return lines
    }

    /// Characters shown, not counting colour escapes.
    func visibleCount(_ text: String) -> Int {
        var count = 0, escape = false
        for c in text.unicodeScalars {
            if c == "\u{1B}" { escape = true; continue }
            if escape { if c == "m" { escape = false }; continue }
            count += 1
        }
        return count
    }
}
