import ChainruleCore

/// Renders diagnostics as `file:line:col: error: message`, the source line and a caret.
public struct DiagnosticRenderer: Sendable {
    public var style: Style
    public init(style: Style) { self.style = style }

    /// The widest source line echoed in full; a longer one is shown as a window around the caret.
    public static let maximumLineWidth = 100

    public func render(_ diagnostic: Diagnostic) -> String {
        var out = ""
        let label: String = switch diagnostic.severity {
        case .error: style.error("error:")
        case .warning: style.warning("warning:")
        case .note: style.note("note:")
        }
        if let span = diagnostic.span {
            let location = span.location
            out += style.bold("\(location):") + " \(label) \(diagnostic.message)\n"
            let (line, lead) = DiagnosticRenderer.excerpt(span.source, at: span.range.start)
            out += "    \(line)\n    \(lead)\(style.caret("^"))\n"
        } else {
            out += "chainrule: \(label) \(diagnostic.message)\n"
        }
        for note in diagnostic.notes {
            var shown = note
            shown.severity = .note
            out += render(shown)
        }
        return out
    }

    /// The line containing `offset` as it is echoed, and the blanks that put a caret under `offset`.
    ///
    /// A line wider than ``maximumLineWidth`` is cut to a window around the offset, marked with `…`
    /// where text is left out. Control characters other than tabs are shown as `�` so that a binary
    /// file cannot drive the terminal; tabs stay, so that the caret lines up under tab-indented text.
    static func excerpt(_ source: Source, at offset: Int) -> (line: String, lead: String) {
        let range = source.lineRange(containing: offset)
        let caretOffset = min(max(offset, range.start), range.end)
        // The line's scalars, and the caret's place among them.
        var scalars: [Unicode.Scalar] = []
        var caret = 0
        var p = range.start
        while p < range.end {
            if p < caretOffset { caret += 1 }
            let (c, length) = source.scalar(at: p)
            scalars.append(c)
            p += length
        }
        // The window is measured in terminal columns (a wide character takes two), half of it
        // before the caret where the line allows, the rest after.
        let widths = scalars.map { $0 == "\t" ? 1 : DiagnosticRenderer.columns($0) }
        var start = 0, end = scalars.count
        if widths.reduce(0, +) > maximumLineWidth {
            start = min(caret, scalars.count)
            end = start
            var width = 0
            while start > 0 && width + widths[start - 1] <= maximumLineWidth / 2 {
                start -= 1
                width += widths[start]
            }
            while end < scalars.count && width + widths[end] <= maximumLineWidth {
                width += widths[end]
                end += 1
            }
            while start > 0 && width + widths[start - 1] <= maximumLineWidth {
                start -= 1
                width += widths[start]
            }
        }
        var line = String.UnicodeScalarView(), lead = String.UnicodeScalarView()
        if start > 0 {
            line.append("…")
            lead.append(" ")
        }
        for i in start..<end {
            let c = scalars[i]
            let isControl = c.value < 0x20 || (0x7F...0x9F).contains(c.value)
            line.append(c == "\t" ? "\t" : isControl ? "\u{FFFD}" : c)
            if i < caret {
                if c == "\t" {
                    lead.append("\t")
                } else {
                    // As many blanks as the character takes on a terminal: none for a combining
                    // mark, two for a wide (CJK, emoji) one.
                    for _ in 0..<DiagnosticRenderer.columns(c) { lead.append(" ") }
                }
            }
        }
        if end < scalars.count { line.append("…") }
        return (String(line), String(lead))
    }

    /// The terminal columns a character takes: 0 for combining marks and other zero-width
    /// characters, 2 for East Asian wide and full-width characters and emoji, else 1.
    static func columns(_ c: Unicode.Scalar) -> Int {
        let v = c.value
        if v < 0x300 { return 1 }
        switch c.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        let wide: [ClosedRange<UInt32>] = [
            0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD,
        ]
        return wide.contains { $0.contains(v) } ? 2 : 1
    }
}
