import ChainruleCore

/// The scalar params' values as `:train` moved them, for `:plot` to draw the path taken.
/// Forgotten when the graph is edited.
struct TrainingPath {
    /// The loss trained.
    var loss: String
    /// The scalar params, in the order of each point's values.
    var names: [String]
    /// The params' values before each recorded step, then after the last; `losses` holds the loss at each.
    var points: [[Double]] = []
    var losses: [Double] = []
    /// The most points kept: a longer run keeps every k-th step.
    static let limit = 2000
}

/// `:plot`: which form the words ask for, the sampling, and the report it makes.
extension Session {
    static let plotUsage = ":plot F… LO HI | :plot NODE LEAF [LO HI] | :plot NODE LEAF1 LEAF2 [LO HI [LO2 HI2]] | :plot points X T"

    func plot(_ arguments: CommandArguments) throws(Diagnostic) {
        let (words, keyed) = try arguments.keyed(["height"], usage: Session.plotUsage)
        var height = 16
        if let word = keyed["height"] {
            guard let n = Int(word.text), (4...100).contains(n) else { throw Diagnostic("height must be a whole number of rows from 4 to 100", at: word.span) }
            height = n
        }
        guard let first = words.first else { throw Diagnostic("missing argument; usage: \(Session.plotUsage)", at: arguments.endSpan) }
        let drawing = PlotDrawing(kind: self.drawing.plot, width: drawingWidth, height: height, style: style, format: drawingFormat)
        let report: PlotReport
        if first.text == "points" && !names(first) {
            report = try scatterReport(Array(words.dropFirst()), at: arguments)
        } else if names(first) {
            if words.count == 3 || words.count >= 5 {
                report = try heatMapReport(words, drawing: drawing)
            } else {
                report = try sliceReport(words, samples: Session.samples(width: drawing.width), at: arguments)
            }
        } else {
            report = try functionReport(words, samples: Session.samples(width: drawing.width), at: arguments)
        }
        if let handout {
            // On the page the SVG is what is read; the terminal drawing is folded under it.
            var plain = drawing
            plain.style = Style(enabled: false)
            handout.attach(Handout.Figure(caption: "", svg: PlotSVG(format: drawingFormat).render(report),
                                          text: plain.render(report).joined(separator: "\n")))
        } else {
            print(drawing.render(report).joined(separator: "\n"))
        }
    }

    /// Samples along x: a few more than a wide braille canvas has dot columns.
    static func samples(width: Int) -> Int { min(2 * width, 400) + 1 }

    /// Whether a word names a node of the graph (or `%ID`).
    func names(_ word: CommandArguments.Word) -> Bool {
        word.text.hasPrefix("%") ? (try? node(word)) != nil : workspace.graph.node(named: word.text) != nil
    }

    /// A number given as a command argument: any constant expression (`-6`, `pi`, `-2*pi`), finite.
    func plotNumber(_ word: CommandArguments.Word, what: String) throws(Diagnostic) -> Double {
        guard let x = try constant(word).scalar, x.isFinite else { throw Diagnostic("\(what) must be a finite number, as in -3 or 2.5", at: word.span) }
        return x
    }

    /// `LO HI` read from two words, `LO` below `HI`.
    func plotRange(_ low: CommandArguments.Word, _ high: CommandArguments.Word) throws(Diagnostic) -> (Double, Double) {
        let lo = try plotNumber(low, what: "LO"), hi = try plotNumber(high, what: "HI")
        guard lo < hi else { throw Diagnostic("the range is empty: LO (\(format.format(lo))) must be below HI (\(format.format(hi)))", at: high.span) }
        return (lo, hi)
    }

    // MARK: Functions with their derivatives

    /// `:plot F… LO HI`: each function and its derivative, sampled over [LO, HI].
    func functionReport(_ words: [CommandArguments.Word], samples n: Int, at arguments: CommandArguments) throws(Diagnostic) -> PlotReport {
        func isFunction(_ word: CommandArguments.Word) -> Bool {
            PlotFunction.builtin(named: word.text) != nil || workspace.entries[word.text]?.isModule == true
        }
        guard words.count >= 3, !isFunction(words[words.count - 1]), !isFunction(words[words.count - 2]) else {
            throw Diagnostic("missing the range: write ':plot F… LO HI', as in ':plot \(words.first?.text ?? "tanh") -3 3'", at: arguments.endSpan)
        }
        let functions = try words.dropLast(2).map { (word) throws(Diagnostic) in try plotFunction(word) }
        let (lo, hi) = try plotRange(words[words.count - 2], words[words.count - 1])
        let xs = (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
        var series: [PlotReport.Series] = []
        for (function, word) in zip(functions, words) {
            let (values, derivatives) = try function.sample(xs)
            let bad = values.filter { !$0.isFinite }.count + derivatives.filter { !$0.isFinite }.count
            if !values.contains(where: \.isFinite) { throw Diagnostic("no sample of \(function.name) on [\(format.format(lo)), \(format.format(hi))] is finite", at: word.span) }
            if bad > 0 {
                report(Diagnostic("\(bad) of \(2 * n) samples of \(function.name) and its derivative on [\(format.format(lo)), \(format.format(hi))] are not finite; the finite part is drawn",
                                  at: word.span, severity: .warning))
            }
            series.append(PlotReport.Series(label: "\(function.name)(x)", points: zip(xs, values).map { PlotReport.Point(x: $0, y: $1) }, style: .line))
            series.append(PlotReport.Series(label: "\(function.name)′(x)", points: zip(xs, derivatives).map { PlotReport.Point(x: $0, y: $1) }, style: .dashed))
        }
        let names = functions.map(\.name)
        let title = (names.count == 1 ? "\(names[0]) and its derivative" : names.dropLast().joined(separator: ", ") + " and \(names[names.count - 1]) with their derivatives")
            + " on [\(format.format(lo)), \(format.format(hi))]"
        return PlotReport(title: title, x: .init(label: "x", low: lo, high: hi), y: Session.niceAxis("", series.flatMap { $0.points.map(\.y) }), series: series)
    }

    /// What a word names as a function to plot: an elementwise built-in of one argument.
    func plotFunction(_ word: CommandArguments.Word) throws(Diagnostic) -> PlotFunction {
        if let name = PlotFunction.builtin(named: word.text) {
            return PlotFunction.builtin(name, spelled: word.text, memoryLimit: workspace.memoryLimit, shouldStop: shouldStop, at: word.span)
        }
        if let entry = workspace.entries[word.text], entry.isModule {
            guard entry.parameters.count == 1 else {
                throw Diagnostic("the module \(word.text) takes \(entry.parameters.count) arguments (\(entry.parameters.joined(separator: ", "))); :plot draws a module of one argument", at: word.span)
            }
            return PlotFunction.module(word.text, of: workspace, at: word.span)
        }
        let list = "relu, tanh, sigmoid, gelu, softplus, … or a module of one argument (':help plot' lists them)"
        if Builtins.isFunction(word.text) {
            throw Diagnostic("'\(word.text)' is not an elementwise function of one argument; :plot draws \(list)", at: word.span)
        }
        let hint = Suggestions.didYouMean(word.text, among: PlotFunction.elementwiseBuiltins + workspace.names)
            ?? "; :plot draws \(list), or a node against a leaf as ':plot NODE LEAF LO HI'"
        throw Diagnostic("unknown function or node '\(word.text)'" + hint, at: word.span)
    }

    /// An axis over the finite values, widened to whole steps of its ticks (and to ±1 around
    /// a single value), so that both ends are labelled.
    static func niceAxis(_ label: String, _ values: [Double]) -> PlotReport.Axis {
        let finite = values.filter(\.isFinite)
        guard var low = finite.min(), var high = finite.max() else { return .init(label: label, low: 0, high: 1) }
        if high - low <= 1e-12 * max(1, abs(low)) { (low, high) = (low - max(1, abs(low) / 10), high + max(1, abs(high) / 10)) }
        let ticks = plotTicks(low: low, high: high)
        guard ticks.count >= 2 else { return .init(label: label, low: low, high: high) }
        let step = ticks[1] - ticks[0]
        let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
        guard (first * step).isFinite, (last * step).isFinite, last - first < 100 else { return .init(label: label, low: low, high: high) }
        return .init(label: label, low: first * step, high: last * step,
                     ticks: Swift.stride(from: first, through: last, by: 1).map { $0 == 0 ? 0 : $0 * step })
    }
}
