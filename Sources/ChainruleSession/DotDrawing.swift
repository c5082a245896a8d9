import ChainruleCore

/// The Graphviz renderers of ``GraphReport`` and ``ReverseGraphReport``, made to be projected:
/// HTML-like labels (matrices as small tables), sans-serif text of 16 points at 72 dpi (16 px),
/// values and gradients in colours of their own, argument order shown by ports (small grey
/// slots where edges enter, in order) rather than by numbers on edges, numbers written in a
/// formula folded into their consumer's label.
extension Session {
    static let dotFont = "Helvetica,Arial,sans-serif"
    /// Points; at the 72 dpi the header sets, one point is one pixel of a PNG.
    static let dotFontSize = 16
    static let valueColour = "#1a4d8f"
    static let gradientColour = "#b0301c"

    func dotHeader(rankdir: String) -> [String] {
        [
            "digraph chainrule {",
            "  graph [rankdir=\(rankdir), dpi=72, fontname=\"\(Session.dotFont)\", nodesep=0.25, ranksep=0.45, pad=0.15];",
            "  node [shape=plain, fontname=\"\(Session.dotFont)\", fontsize=\(Session.dotFontSize)];",
            "  edge [fontname=\"\(Session.dotFont)\", fontsize=\(Session.dotFontSize - 2), color=\"#555555\", arrowsize=0.7];",
        ]
    }

    static func html(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A tensor as label rows: a small table of numbers, or the summary's lines.
    /// The most entries `:dot` writes out under `:set full on`; larger tensors are summarised.
    static let dotFullLimit = 400

    func dotTensor(_ lead: String, _ t: Tensor?, colour: String, soFar: String? = nil) -> String {
        let format = drawingFormat
        let head = "<td align=\"left\"><font color=\"\(colour)\">\(Session.html(lead))</font></td>"
        guard let t else {
            let text = soFar.map { "so far " + Session.html($0) } ?? "<i>not computed</i>"
            return "<tr><td><table border=\"0\" cellspacing=\"0\" cellpadding=\"1\"><tr>\(head)<td><font color=\"#888888\">\(text)</font></td></tr></table></td></tr>"
        }
        let small = t.isScalar || (t.count > 0 && (t.rank == 1 ? t.count <= 8 : t.rank == 2 && t.count <= 16 && t.shape[1] <= 4))
        var cells: String
        // Under `full on` a matrix is written out up to ``dotFullLimit`` entries: Graphviz cannot lay out a table of millions.
        let full = drawing.full && t.count <= Session.dotFullLimit
        if t.isScalar || !(small || full) || t.rank > 2 || t.count == 0 {
            let lines = t.isScalar ? [format.format(t.scalars[0])] : (t.rank > 2 && full ? format.block(t).split(separator: "\n").map(String.init) : summary(t))
            cells = "<td align=\"left\"><font color=\"\(colour)\">" + lines.map(Session.html).joined(separator: "<br align=\"left\"/>") + "</font></td>"
        } else {
            let rows = t.rank == 1 ? 1 : t.shape[0], columns = t.rank == 1 ? t.count : t.shape[1]
            var table = "<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\" color=\"#bbbbbb\">"
            for r in 0..<rows {
                table += "<tr>"
                for c in 0..<columns {
                    table += "<td align=\"right\"><font color=\"\(colour)\">\(Session.html(format.format(t.scalars[r * columns + c])))</font></td>"
                }
                table += "</tr>"
            }
            cells = "<td>" + table + "</table></td>"
        }
        return "<tr><td><table border=\"0\" cellspacing=\"0\" cellpadding=\"1\"><tr>\(head)\(cells)</tr></table></td></tr>"
    }

    /// Node declarations (one per box, in order), each inside the clusters of the calls of
    /// modules its box was made in (`calls[i]`, outermost first): a call is drawn as a labelled
    /// frame around its nodes, nested as the calls are. Written with an explicit stack.
    static func clustered(_ declarations: [String], calls: [[(key: Int, text: String)]]) -> [String] {
        var lines: [String] = []
        var open: [Int] = []
        for (i, declaration) in declarations.enumerated() {
            let path = i < calls.count ? calls[i] : []
            // Close the clusters this box is not in, then open the ones it is in.
            var shared = 0
            while shared < open.count, shared < path.count, open[shared] == path[shared].key { shared += 1 }
            while open.count > shared {
                open.removeLast()
                lines.append(String(repeating: "  ", count: open.count + 1) + "}")
            }
            for call in path[shared...] {
                let indent = String(repeating: "  ", count: open.count + 1)
                lines.append(indent + "subgraph cluster_call\(call.key) {")
                lines.append(indent + "  label=<<b>\(html(call.text))</b>>; labeljust=l; style=\"rounded,filled\"; fillcolor=\"#f1f8ee\"; color=\"#6a9f5b\";")
                open.append(call.key)
            }
            lines.append(String(repeating: "  ", count: open.count + 1) + declaration)
        }
        while !open.isEmpty {
            open.removeLast()
            lines.append(String(repeating: "  ", count: open.count + 1) + "}")
        }
        return lines
    }

    /// The forward graph as DOT.
    func dotText(of report: GraphReport) -> String {
        let lr = drawing.leftToRight
        var lines = dotHeader(rankdir: lr ? "LR" : "TB")
        let show = drawing.show
        var declarations: [String] = []
        for (i, box) in report.boxes.enumerated() {
            let fill = box.isChanged ? "#fff3b0" : box.isCall ? "#e2f0d9" : box.kind == .param ? "#fde9c9" : box.kind == .input ? "#dbe9f7" : "#ffffff"
            let header = box.formula.map { "<b>\(Session.html(box.label))</b> = \(Session.html($0))" }
                ?? "<b>\(Session.html(box.label))</b>  <font color=\"#666666\">\(box.isCall ? "module" : box.kind.rawValue)</font>"
            var rows = ["<tr><td align=\"left\">\(show.contains(.names) ? header : "<b>\(Session.html(box.label))</b>")</td></tr>"]
            if show.contains(.shapes) { rows.append("<tr><td align=\"left\"><font color=\"#666666\">shape \(describe(shape: box.shape))</font></td></tr>") }
            if show.contains(.values) { rows.append(dotTensor("=", box.value, colour: Session.valueColour)) }
            if show.contains(.grads), report.gradientOutput != nil, box.receivesGradient {
                rows.append(dotTensor(report.partial(box) + " =", box.gradient, colour: Session.gradientColour, soFar: box.gradientSoFar))
            }
            let content = "<table border=\"0\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"2\">" + rows.joined() + "</table>"
            var cells = "<td>\(content)</td>"
            if box.inputs.count > 1 {
                let slots = (0..<box.inputs.count).map { "<td port=\"a\($0)\" width=\"7\" height=\"7\" bgcolor=\"#c8c8c8\"></td>" }
                let ports = lr ? slots.map { "<tr>\($0)</tr>" }.joined() : "<tr>" + slots.joined() + "</tr>"
                cells = "<td><table border=\"0\" cellborder=\"0\" cellspacing=\"5\" cellpadding=\"0\">\(ports)</table></td>" + (lr ? "" : "</tr><tr>") + cells
            }
            let border = box.isCurrent ? "border=\"3\" color=\"#d35400\"" : "border=\"1\" color=\"#444444\""
            declarations.append("n\(i) [label=<<table \(border) cellborder=\"0\" cellspacing=\"0\" cellpadding=\"4\" bgcolor=\"\(fill)\"\(box.isCall ? " style=\"rounded\"" : "")><tr>\(cells)</tr></table>>];")
        }
        lines += Session.clustered(declarations, calls: report.granularity == .nodes ? report.boxes.map(\.calls) : [])
        for (i, box) in report.boxes.enumerated() {
            for (k, input) in box.inputs.enumerated() {
                let head = box.inputs.count > 1 ? ":a\(k):\(lr ? "w" : "n")" : ""
                lines.append("  n\(input) -> n\(i)\(head);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The reverse graph as DOT: gradient boxes mirroring the forward graph (right to left, or
    /// bottom to top), edges labelled with local Jacobians, a `+` where contributions add.
    func dotText(of reverse: ReverseGraphReport) -> String {
        let lr = drawing.leftToRight
        var lines = dotHeader(rankdir: lr ? "RL" : "BT")
        lines.append("  edge [fontcolor=\"\(Session.gradientColour)\"];")
        for (i, box) in reverse.boxes.enumerated() {
            let fill = box.isChanged ? "#fff3b0" : "#fbeae6"
            let border = box.isCurrent ? "border=\"3\" color=\"#d35400\"" : "border=\"1\" color=\"\(Session.gradientColour)\""
            var rows = ["<tr><td align=\"left\"><b><font color=\"\(Session.gradientColour)\">\(Session.html(box.label))</font></b>\(box.incoming.isEmpty ? "  <font color=\"#666666\">seed</font>" : "")</td></tr>"]
            if drawing.show.contains(.shapes) { rows.append("<tr><td align=\"left\"><font color=\"#666666\">shape \(describe(shape: box.shape))</font></td></tr>") }
            if drawing.show.contains(.grads) || drawing.show.contains(.values) {
                rows.append(dotTensor("=", box.gradient, colour: Session.gradientColour, soFar: box.gradientSoFar))
            }
            let content = "<table border=\"0\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"2\">" + rows.joined() + "</table>"
            lines.append("  g\(i) [label=<<table \(border) cellborder=\"0\" cellspacing=\"0\" cellpadding=\"4\" bgcolor=\"\(fill)\"><tr><td>\(content)</td></tr></table>>];")
            if box.incoming.count > 1 {
                lines.append("  s\(i) [shape=circle, label=\"+\", width=0.35, fixedsize=true, fontsize=\(Session.dotFontSize + 2), color=\"\(Session.gradientColour)\", fontcolor=\"\(Session.gradientColour)\"];")
                lines.append("  s\(i) -> g\(i);")
            }
        }
        for (i, box) in reverse.boxes.enumerated() {
            let into = box.incoming.count > 1 ? "s\(i)" : "g\(i)"
            for edge in box.incoming {
                lines.append("  g\(edge.from) -> \(into) [label=\(Session.dotString(edge.jacobian))];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
