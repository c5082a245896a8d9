import ChainruleCore

/// The HTML renderer of a ``Handout``: one page that needs nothing else, written as XHTML-clean
/// HTML (every element closed, the style and script in CDATA sections) so that an XML parser
/// reads it too.
///
/// Nothing is fetched: no scripts, stylesheets, fonts or images from anywhere (system font
/// stacks only, drawings as inline SVG). The walk's frames are all on the page, one shown at a
/// time; ← and → (or the buttons) step through them, and a fragment `#frame=N` (or
/// `#walk=K&frame=N` for the K-th walk) shows frame N by sending the same key presses, so a
/// link can point at a step. Printed, the page shows every frame.
struct HandoutPage {
    let handout: Handout

    func write(to out: inout TextStream) {
        out.write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
        out.write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        out.write("<meta name=\"generator\" content=\"chainrule --html\"/>\n")
        out.write("<title>\(HandoutPage.escape(handout.title))</title>\n<style>/*<![CDATA[*/\n\(HandoutPage.style)/*]]>*/</style>\n</head>\n<body>\n")
        out.write("<header>\n<h1>\(HandoutPage.escape(handout.title))</h1>\n")
        out.write("<p class=\"lead\">Every statement of the run as written, with what it printed; then, for each script, its graph drawn forward and backward, and the walk through both passes, one node at a time: use the <kbd>←</kbd> <kbd>→</kbd> keys or the buttons.</p>\n")
        if handout.sections.count > 1 || handout.sections.contains(where: { $0.walk != nil }) {
            out.write("<nav><ul>")
            for (i, section) in handout.sections.enumerated() {
                out.write("<li><a href=\"#script-\(i + 1)\">\(HandoutPage.escape(section.name))</a>")
                if section.walk != nil { out.write(" · <a href=\"#walk-\(i + 1)\">the walk</a>") }
                out.write("</li>")
            }
            out.write("</ul></nav>\n")
        }
        if handout.failed { out.write("<p class=\"stopped\">The run stopped at an error, shown below where it happened.</p>\n") }
        out.write("</header>\n<main>\n")
        for (i, section) in handout.sections.enumerated() { write(section, number: i + 1, to: &out) }
        out.write("</main>\n<footer>Made by <code>chainrule --html</code>. This page needs no network: open it anywhere.</footer>\n")
        out.write("<script>//<![CDATA[\n\(HandoutPage.script)//]]></script>\n</body>\n</html>\n")
    }

    func write(_ section: Handout.Section, number: Int, to out: inout TextStream) {
        out.write("<section class=\"script\" id=\"script-\(number)\">\n<h2>\(HandoutPage.escape(section.name))</h2>\n")
        for block in section.preamble { write(block, to: &out) }
        for statement in section.statements {
            if !statement.comments.isEmpty {
                out.write("<p class=\"comment\">\(statement.comments.map(HandoutPage.escape).joined(separator: "<br/>"))</p>\n")
            }
            out.write("<div class=\"statement\(statement.failed ? " failed" : "")\">\n")
            out.write("<div class=\"code\"><span class=\"where\">\(HandoutPage.escape(statement.location))</span><pre class=\"source\">\(HandoutPage.escape(statement.text))</pre></div>\n")
            for block in statement.blocks { write(block, to: &out) }
            out.write("</div>\n")
        }
        for note in section.notes { out.write("<p class=\"note\">\(HandoutPage.escape(note))</p>\n") }
        if let target = section.target, section.forward != nil {
            out.write("<h3>The graph of <var>\(HandoutPage.escape(target))</var></h3>\n")
            if let forward = section.forward { write(forward, to: &out) }
            if let reverse = section.reverse { write(reverse, to: &out) }
        }
        if let walk = section.walk { write(walk, number: number, to: &out) }
        out.write("</section>\n")
    }

    func write(_ walk: Handout.Walk, number: Int, to out: inout TextStream) {
        out.write("<h3 id=\"walk-\(number)\">The walk through <var>\(HandoutPage.escape(walk.target))</var>, step by step</h3>\n")
        out.write("<p class=\"how\">Forward, each step computes one node from its inputs' stored values; backward, each step pulls the gradient back through one node: the upstream gradient, each edge's local Jacobian, and their product. What is not reached yet is <em>not computed</em>, not zero. The box of the last step has a thick border; what it wrote is yellow.</p>\n")
        if let note = walk.note { out.write("<p class=\"note\">\(HandoutPage.escape(note))</p>\n") }
        out.write("<div class=\"walk\" data-frame=\"0\" data-frames=\"\(walk.frames.count)\" tabindex=\"0\">\n")
        out.write("<div class=\"controls\"><button type=\"button\" data-move=\"-1\" title=\"previous step (←)\">← back</button>")
        out.write("<span class=\"counter\" aria-live=\"polite\">\(HandoutPage.counter(0, walk.frames.count, walk.frames.first?.title ?? ""))</span>")
        out.write("<button type=\"button\" data-move=\"1\" title=\"next step (→)\">next →</button></div>\n")
        for (i, frame) in walk.frames.enumerated() {
            let wide = (frame.figure.svg.flatMap { HandoutPage.width(of: $0) } ?? 0) > HandoutPage.besideTextWidth
            out.write("<div class=\"frame\(wide ? " wide" : "")\" data-title=\"\(HandoutPage.escape(frame.title))\"\(i == 0 ? "" : " hidden=\"hidden\"")>\n")
            if let skipped = frame.skipped { out.write("<p class=\"note\">\(HandoutPage.escape(skipped))</p>\n") }
            out.write("<pre class=\"step\">\(HandoutPage.escape(frame.text))</pre>\n")
            write(frame.figure, to: &out)
            out.write("</div>\n")
        }
        out.write("</div>\n")
    }

    func write(_ block: Handout.Block, to out: inout TextStream) {
        switch block {
        case .output(let text):
            out.write("<pre class=\"output\">\(HandoutPage.escape(HandoutPage.withoutTrailingNewlines(text)))</pre>\n")
        case .diagnostic(let severity, let text):
            out.write("<pre class=\"diagnostic \(severity.rawValue)\">\(HandoutPage.escape(HandoutPage.withoutTrailingNewlines(text)))</pre>\n")
        case .figure(let figure):
            write(figure, to: &out)
        }
    }

    func write(_ figure: Handout.Figure, to out: inout TextStream) {
        out.write("<figure>\n")
        if let svg = figure.svg {
            out.write("<div class=\"drawing\">\(svg)</div>\n")
            if !figure.text.isEmpty {
                out.write("<details class=\"terminal\"><summary>as the terminal draws it</summary><pre class=\"output\">\(HandoutPage.escape(figure.text))</pre></details>\n")
            }
        } else {
            if let problem = figure.problem { out.write("<p class=\"note\">\(HandoutPage.escape(problem)); the terminal drawing instead:</p>\n") }
            out.write("<pre class=\"output\">\(HandoutPage.escape(figure.text))</pre>\n")
        }
        if !figure.caption.isEmpty { out.write("<figcaption>\(HandoutPage.escape(figure.caption))</figcaption>\n") }
        out.write("</figure>\n")
    }

    /// The widest drawing (in points) shown beside a step's text; a wider one goes under it.
    static let besideTextWidth = 620

    /// The `width="…pt"` Graphviz gives an SVG, in points.
    static func width(of svg: String) -> Int? {
        guard let start = svg.firstRange(of: " width=\"")?.upperBound else { return nil }
        return Int(svg[start...].prefix { $0.isASCII && $0.isNumber })
    }

    /// What the counter says at frame `index` (the script writes the same as it steps).
    static func counter(_ index: Int, _ count: Int, _ title: String) -> String {
        "step \(index) of \(max(0, count - 1)) · \(escape(title))"
    }

    static func withoutTrailingNewlines(_ text: String) -> String {
        var text = Substring(text)
        while text.last == "\n" { text = text.dropLast() }
        return String(text)
    }

    /// Text as HTML (and XML) character data: the markup characters as entities, control
    /// characters other than tabs and newlines as `�` (XML allows none of them).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\r": break
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
