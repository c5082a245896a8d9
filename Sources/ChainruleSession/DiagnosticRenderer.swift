import ChainruleCore

/// Renders diagnostics as `file:line:col: error: message`, the source line and a caret.
public struct DiagnosticRenderer: Sendable {
    public var style: Style
    public init(style: Style) { self.style = style }

    public func render(_ diagnostic: Diagnostic) -> String {
        var out = ""
        let label: String = switch diagnostic.severity {
        case .error: style.error("error:")
        case .warning: style.warning("warning:")
        case .note: style.note("note:")
        }
        if let span = diagnostic.span {
            out += style.bold("\(span.location):") + " \(label) \(diagnostic.message)\n"
            let line = span.source.lineText(containing: span.range.start)
            let column = span.location.column
            // Keep tabs so the caret lines up under tab-indented text.
            let lead = String(line.unicodeScalars.prefix(column - 1).map { $0 == "\t" ? "\t" : " " })
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
}
