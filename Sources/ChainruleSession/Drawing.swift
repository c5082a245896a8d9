import ChainruleCore

/// `:graph` and `:dot`: the commands that draw; what they draw is a ``GraphReport`` (or its
/// ``ReverseGraphReport``) of the session's current state, rendered by ``LayeredLayout`` in the
/// terminal and as DOT for Graphviz.
extension Session {
    /// What `:graph` and `:dot` were asked for: the words `reverse` and `expand`, then a node or a file.
    struct DrawingRequest {
        var reverse = false
        var granularity = GraphReport.Granularity.definitions
        var rest: [CommandArguments.Word] = []

        init(_ arguments: CommandArguments) {
            for word in arguments.words {
                switch word.text {
                case "reverse" where rest.isEmpty: reverse = true
                case "expand" where rest.isEmpty: granularity = .nodes
                default: rest.append(word)
                }
            }
        }
    }

    func graph(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":graph [reverse] [expand] [NODE]"
        let request = DrawingRequest(arguments)
        if request.rest.count > 1 {
            throw Diagnostic("unexpected argument '\(request.rest[1].text)'; usage: \(usage)", at: request.rest[1].span)
        }
        // While a walk is under way, drawing it is the default.
        let target: NodeID
        if request.rest.isEmpty, let walking = stepper?.walk.target { target = walking } else { target = try self.target(request.rest.first, arguments) }
        let span = request.rest.first?.span ?? arguments.nameSpan
        let y = try value(target, at: span)
        let walking = stepper?.walk.target == target
        if request.reverse && lastGradients == nil && !walking {
            // The reverse drawing needs gradients: those of the last pass, else a pass from the target.
            guard y.isScalar else {
                throw Diagnostic("\(label(target)) has shape \(describe(shape: y.shape)); the reverse graph is drawn after ':backward \(label(target)) seed=…'", at: span)
            }
            _ = try gradients(of: target, seed: nil, record: false, at: span)
        }
        let report = graphReport(target: target, granularity: request.granularity)
        let width = drawingWidth
        print((request.reverse ? try reverseDrawing(of: report, width: width, at: arguments) : drawing(of: report, width: width))
            .joined(separator: "\n"))
    }

    /// The reverse graph drawn in the terminal: gradient boxes from the output down, each showing
    /// the sum of its contributions, ∂L/∂consumer · (local Jacobian), and its value.
    func reverseDrawing(of report: GraphReport, width: Int, at arguments: CommandArguments) throws(Diagnostic) -> [String] {
        let reverse = reverseReport(of: report)
        guard report.gradientOutput != nil else {
            throw Diagnostic("no gradients to draw yet: run ':backward \(report.boxes.last?.label ?? "")' (or step through the backward pass) first", at: arguments.nameSpan)
        }
        let items = reverse.boxes.map { box -> LayeredLayout.Item in
            var lines = [box.label]
            for (k, edge) in box.incoming.enumerated() {
                let factor = edge.jacobian == "I" || edge.jacobian == "1" ? ""
                    : " · " + (edge.jacobian.contains(" ") ? "(\(edge.jacobian))" : edge.jacobian)
                lines.append((k == 0 ? "= " : "+ ") + reverse.boxes[edge.from].label + factor)
            }
            if drawing.show.contains(.shapes) { lines.append("shape \(describe(shape: box.shape))") }
            var value = labelled("=", box.gradient), compact = labelled("=", box.gradient, compact: true)
            if box.gradient == nil, let soFar = box.gradientSoFar { value = ["so far = " + soFar]; compact = value }
            if box.incoming.isEmpty, !value.isEmpty { value[0] += "  (seed)"; compact[0] += "  (seed)" }
            return LayeredLayout.Item(lines: lines + value, inputs: box.incoming.map(\.from),
                                      border: box.isCurrent ? .heavy : box.isChanged ? .double : .light,
                                      compact: lines + compact, rank: box.box)
        }
        return layered(items, width: width) { items.map { $0.lines.joined(separator: "   ") } }
    }

    func dot(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":dot [FILE] [reverse] [expand]"
        var reverse = false, granularity = GraphReport.Granularity.definitions
        var files: [CommandArguments.Word] = []
        for word in arguments.words {
            switch word.text {
            case "reverse": reverse = true
            case "expand": granularity = .nodes
            default: files.append(word)
            }
        }
        if files.count > 1 { throw Diagnostic("unexpected argument '\(files[1].text)'; usage: \(usage)", at: files[1].span) }
        let target: NodeID
        if let walking = stepper?.walk.target { target = walking } else { target = try defaultTarget(at: arguments.nameSpan) }
        do { try workspace.evaluateAll() } catch { throw located(error, at: arguments.nameSpan) }
        if reverse && lastGradients == nil && stepper?.walk.target != target {
            // The reverse drawing needs gradients: those of the last pass, else a pass from the target.
            let y = try value(target, at: arguments.nameSpan)
            guard y.isScalar else {
                throw Diagnostic("\(label(target)) has shape \(describe(shape: y.shape)); the reverse graph is drawn after ':backward \(label(target)) seed=…'", at: arguments.nameSpan)
            }
            _ = try gradients(of: target, seed: nil, record: false, at: arguments.nameSpan)
        }
        let report = graphReport(target: target, granularity: granularity)
        let text = reverse ? dotText(of: reverseReport(of: report)) : dotText(of: report)
        guard let file = files.first else {
            print(text, terminator: "")
            return
        }
        let path = self.path(file, in: arguments)
        let what = "\(report.boxes.count) box\(report.boxes.count == 1 ? "" : "es")\(reverse ? " of the reverse graph" : "")"
        if let format = Graphviz.format(of: path) {
            let warning: String?
            do { warning = try Graphviz.render(text, format: format, to: path, interrupted: shouldStop) } catch { throw Diagnostic(error.message, at: file.span) }
            print("drew \(what) to \(path)")
            if let warning { self.report(Diagnostic("Graphviz: \(warning)", at: file.span, severity: .warning)) }
            return
        }
        do { try Files.write(text, to: path) } catch { throw Diagnostic(error.message, at: file.span) }
        print("wrote \(what) to \(path) (render with: dot -Tpng \(path) -o graph.png, or name the file .png or .svg)")
    }

    static func dotString(_ text: String) -> String {
        var out = "\""
        for c in text {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
