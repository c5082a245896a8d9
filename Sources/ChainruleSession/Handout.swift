import ChainruleCore

/// What `chainrule --html` puts on its page, built apart from the HTML: per script, every
/// statement as written with where it is and what it printed or reported, the drawings of the
/// script's target, and the walk through both passes as frames. ``HandoutPage`` renders it.
struct Handout {
    /// A drawing: its SVG (Graphviz's of a graph, ``PlotSVG``'s of a plot), or, where Graphviz
    /// could not draw, the terminal drawing as text and why.
    struct Figure {
        /// Under the drawing; none when empty.
        var caption: String
        /// Inline SVG (no prologue, no DOCTYPE, no external references; see ``Graphviz/inlineSVG(_:)``).
        var svg: String?
        /// The terminal drawing: shown when there is no SVG, folded under it when there is.
        var text: String = ""
        /// Why there is no SVG (Graphviz missing or failing).
        var problem: String?
    }

    /// One piece of what a statement gave, in the order it came.
    enum Block {
        /// Text it printed, as the terminal shows it (drawings such as `:graph` included).
        case output(String)
        /// An error, warning or note, rendered as on standard error (with its caret).
        case diagnostic(Diagnostic.Severity, String)
        /// A drawing the statement made as a report value: a renderer of that report (a plot's,
        /// say) attaches its SVG with ``HandoutRecorder/attach(_:)``.
        case figure(Figure)
    }

    struct Statement {
        /// `file:line` of its first character.
        var location: String
        var text: String
        /// The comment lines before it (after the statement before), without their `#`.
        var comments: [String] = []
        var blocks: [Block] = []
        var failed: Bool { blocks.contains { if case .diagnostic(.error, _) = $0 { true } else { false } } }
    }

    /// One frame of the walk: the graph after `position` steps and the step's text as `:step` prints it.
    struct Frame {
        /// "start", "forward 2/5", "backward 1/5".
        var title: String
        var text: String
        var figure: Figure
        /// Set on the first frame after steps that are not shown (a walk longer than the cap).
        var skipped: String?
    }

    struct Walk {
        var target: String
        var steps: Int
        var frames: [Frame]
        /// Said on the page when the frames are capped.
        var note: String?
    }

    /// One script (or the `-e` statements): what ran, and the drawings made after it.
    struct Section {
        var name: String
        /// What was reported before any statement ran (a file that cannot be read, syntax errors).
        var preamble: [Block] = []
        var statements: [Statement] = []
        /// The node the drawings are of (the last `:backward` target, else the last definition).
        var target: String?
        var forward: Figure?
        var reverse: Figure?
        var walk: Walk?
        /// Why some drawing is missing (an error stopped the script, the target is not a scalar).
        var notes: [String] = []
        var failed = false
    }

    var title: String
    var sections: [Section] = []
    var failed: Bool { sections.contains(where: \.failed) }
}

/// Collects what a session prints and reports while `--html` runs its scripts, statement by
/// statement. The session calls ``begin(_:_:depth:)`` before each statement it runs; statements
/// of scripts loaded deeper than ``depth`` (`:load` inside a script) belong to the statement
/// that loaded them, so their output is that statement's.
final class HandoutRecorder {
    /// The load depth of the statements shown: 1 for a file named on the command line, 0 for `-e`.
    var depth = 1
    private(set) var statements: [Handout.Statement] = []
    /// Blocks that came before any statement of the section.
    private(set) var preamble: [Handout.Block] = []
    /// Where the last statement shown ended, in its source: comments after it are the next one's.
    private var lastSource: Source?
    private var lastEnd: Int?

    func begin(_ source: Source, _ range: SourceRange, depth: Int) {
        guard depth <= self.depth else { return }
        if source != lastSource { lastSource = source; lastEnd = nil }
        let location = source.location(of: range.start)
        var written = source.text(range)
        // A comment after the statement on its line is part of it, as written.
        let line = source.lineRange(containing: max(range.start, range.end - 1))
        if range.end < line.end {
            let rest = source.text(SourceRange(range.end, line.end))
            if Session.trimmed(rest).hasPrefix("#") { written += rest }
        }
        let text = Session.trimmed(written).split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in String(line.reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed()) }
            .joined(separator: "\n")
        // Comment lines since the statement before (the script's narration) come before it.
        var comments: [String] = []
        let gap = source.text(SourceRange(lastEnd ?? 0, range.start)).split(separator: "\n", omittingEmptySubsequences: false)
        for (i, piece) in gap.enumerated() where !(i == 0 && lastEnd != nil) {
            let trimmed = Session.trimmed(String(piece).filter { $0 != "\r" })
            if trimmed.hasPrefix("#") { comments.append(String(trimmed.dropFirst().drop(while: { $0 == " " }))) }
        }
        lastEnd = range.end
        statements.append(Handout.Statement(location: "\(location.file):\(location.line)", text: text, comments: comments))
    }

    func record(output text: String) {
        guard !text.isEmpty else { return }
        if let last = statements.last?.blocks.last, case .output(let before) = last {
            statements[statements.count - 1].blocks[statements[statements.count - 1].blocks.count - 1] = .output(before + text)
        } else {
            append(.output(text))
        }
    }

    func record(_ diagnostic: Diagnostic) {
        append(.diagnostic(diagnostic.severity, DiagnosticRenderer(style: Style(enabled: false)).render(diagnostic)))
    }

    /// A drawing made by the statement running now, shown after what it printed so far.
    func attach(_ figure: Handout.Figure) { append(.figure(figure)) }

    private func append(_ block: Handout.Block) {
        if statements.isEmpty { preamble.append(block) } else { statements[statements.count - 1].blocks.append(block) }
    }

    /// What was recorded since the last call, and a fresh start for the next section.
    func take() -> (preamble: [Handout.Block], statements: [Handout.Statement]) {
        defer { statements = []; preamble = []; lastSource = nil; lastEnd = nil }
        return (preamble, statements)
    }
}
