import ChainruleCore

/// What drawings show and how (`:set show`, `:set full`, `:set width`, `:set dot`).
struct DrawingSettings: Equatable {
    enum Part: String, CaseIterable { case names, values, grads, shapes }
    /// `:set show names,values,grads` (any of them, combined with `,` or `+`).
    var show: Set<Part> = [.names, .values, .grads]
    /// `:set full on`: every entry of every tensor, however large.
    var full = false
    /// `:set width N`: the width drawings fit, instead of the terminal's (or `COLUMNS`).
    var width: Int?
    /// `:set dot lr|tb`: Graphviz lays the graph out left to right, or top to bottom.
    var leftToRight = true
    /// `:set plot braille|ascii`: the canvas `:plot` draws on.
    var plot = PlotCanvas.Kind.braille
}

/// The terminal renderers of ``GraphReport`` and ``ReverseGraphReport``: boxes in layers
/// (``LayeredLayout``), or one line per box when boxes cannot fit the width.
extension Session {
    /// Graphs with more boxes than this are listed one box per line (a layout of thousands
    /// of boxes would not fit a screen, and its grid would take memory for nothing).
    static let largestLayeredDrawing = 150

    /// The width drawings fit: `:set width`, else the terminal's or `COLUMNS`, else 80.
    var drawingWidth: Int { max(20, drawing.width ?? terminalWidth() ?? 80) }

    /// A tensor as lines for a box: whole when small (a matrix as an aligned grid) or under
    /// `:set full on`, else its shape with a summary that keeps what is informative: min and
    /// max, and which rows, columns or entries are nonzero when most are zero.
    func boxLines(_ t: Tensor, compact: Bool = false) -> [String] {
        let format = drawingFormat
        if t.isScalar { return [format.format(t.scalars[0])] }
        let small = t.rank == 1 ? t.count <= 8 : t.rank == 2 && t.count <= 16 && t.shape[1] <= 4
        if drawing.full || (small && !compact) {
            return t.rank == 1 ? [t.nestedText(format.format)] : format.block(t).split(separator: "\n").map(String.init)
        }
        return summary(t)
    }

    /// `shape (8, 8)  min 0  max 3` and, when most entries are zero, where the others are.
    /// Numbers in drawings: `:set precision` digits, at most 4 unless `:set full on`.
    var drawingFormat: NumberFormat {
        var f = format
        if !drawing.full { f.precision = min(f.precision, 4) }
        return f
    }

    func summary(_ t: Tensor) -> [String] {
        let format = drawingFormat
        let finite = t.scalars.filter(\.isFinite)
        var lines = ["shape \(describe(shape: t.shape))"]
        if let low = finite.min(), let high = finite.max() {
            lines.append("min \(format.format(low))  max \(format.format(high))")
        }
        let nonFinite = t.count - finite.count
        if nonFinite > 0 { lines.append("\(nonFinite) not finite (nan or inf)") }
        lines += NumberFormat.nonzeroPlaces(t)
        return lines
    }

    /// `= value` lines: the first after `lead`, the rest indented under it.
    func labelled(_ lead: String, _ t: Tensor?, compact: Bool = false) -> [String] {
        guard let t else { return [lead + " not computed"] }
        let lines = boxLines(t, compact: compact)
        let pad = String(repeating: " ", count: lead.count + 1)
        return lines.enumerated().map { i, line in (i == 0 ? lead + " " : pad) + line }
    }

    /// The lines of one forward box, as `:set show` chooses.
    func lines(of box: GraphReport.Box, in report: GraphReport, compact: Bool = false) -> [String] {
        let show = drawing.show
        var lines: [String] = []
        if box.isCall {
            lines.append("\(box.label)  module")
        } else if show.contains(.names) {
            lines.append(box.formula.map { "\(box.label) = \($0)" } ?? "\(box.label)  \(box.kind.rawValue)")
            if report.granularity == .nodes, let call = box.calls.last { lines.append("in \(call.text)") }
        } else {
            lines.append(box.label)
        }
        if show.contains(.shapes) { lines.append("shape \(describe(shape: box.shape))") }
        if show.contains(.values) { lines += labelled("=", box.value, compact: compact) }
        if show.contains(.grads), report.gradientOutput != nil, box.receivesGradient {
            if box.gradient == nil, let soFar = box.gradientSoFar {
                lines.append(report.partial(box) + " so far = " + soFar)
            } else {
                lines += box.gradient == nil ? [report.partial(box) + " not computed"] : labelled(report.partial(box) + " =", box.gradient, compact: compact)
            }
        }
        return lines
    }

    /// The forward graph drawn within `width` columns.
    func drawing(of report: GraphReport, width: Int) -> [String] {
        let items = report.boxes.map { box in
            LayeredLayout.Item(lines: lines(of: box, in: report), inputs: box.inputs,
                               border: box.isCurrent ? .heavy : box.isChanged ? .double : .light,
                               compact: lines(of: box, in: report, compact: true))
        }
        return layered(items, width: width) {
            report.boxes.enumerated().map { i, box in
                let from = box.inputs.isEmpty ? "" : "   ← " + box.inputs.map { report.boxes[$0].label }.joined(separator: ", ")
                let mark = box.isCurrent ? "▶ " : box.isChanged ? "* " : ""
                return mark + items[i].lines.joined(separator: "   ") + from
            }
        }
    }

    /// The boxes in layers, or, when they cannot fit or are too many, one line per box cut to the width.
    func layered(_ items: [LayeredLayout.Item], width: Int, list: () -> [String]) -> [String] {
        let drawn = items.count <= Session.largestLayeredDrawing ? LayeredLayout.draw(items, width: width) : nil
        var lines = drawn == nil ? ["\(items.count) boxes do not fit \(width) columns side by side: one per line, inputs first"] : []
        if let first = lines.first, first.count > width { lines[0] = String(first.prefix(width - 1)) + "…" }
        var size = lines.first.map { $0.count + 1 } ?? 0
        // Cut before the output limit, leaving room for the note that says so.
        for line in drawn ?? list() {
            let cut = line.count > width ? String(line.prefix(width - 1)) + "…" : line
            size += cut.count + 1
            if size > outputLimit - 100 {
                lines.append("… drawing cut at \(outputLimit) characters (:set output N shows more)")
                break
            }
            lines.append(cut)
        }
        return lines
    }
}

