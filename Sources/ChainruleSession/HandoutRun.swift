import ChainruleCore

/// `chainrule --html OUT.html FILE…`: the scripts run as a plain run runs them, and what they
/// did is written as one self-contained page (see ``Handout`` and ``HandoutPage``).
extension Session {
    /// The most frames a walk shows; a longer walk shows its first steps forward and its first
    /// steps backward, and the page says how many it leaves out.
    static let maximumHandoutFrames = 60

    /// Runs `files`, then `statements`, as a plain run does (the first error stops them), records
    /// every statement with its output, draws each script's target and walks it, and writes the
    /// page to `path` atomically. Errors go to standard error as in a plain run, and to the page;
    /// standard output says where the page went. Returns false on an error in a script (the page
    /// is written up to and including it) or when the page cannot be written.
    public func writeHandout(to path: String, files: [String], statements: [String]) -> Bool {
        let recorder = HandoutRecorder()
        handout = recorder
        var page = Handout(title: (files.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "chainrule") + " · chainrule")
        var stopped = false
        for file in files where !stopped && !quitRequested {
            recorder.depth = 1
            let ran = load(path: file)
            page.sections.append(section(file, recorder, ran: ran, path: path, index: page.sections.count))
            stopped = !ran
        }
        if !statements.isEmpty && !stopped && !quitRequested {
            recorder.depth = 0
            var ran = true
            for (i, statement) in statements.enumerated() where ran && !quitRequested {
                ran = run(Source(name: statements.count == 1 ? "<-e>" : "<-e \(i + 1)>", text: statement))
            }
            page.sections.append(section("-e statements", recorder, ran: ran, path: path, index: page.sections.count))
        }
        handout = nil
        do {
            try Files.write(to: path) { HandoutPage(handout: page).write(to: &$0) }
        } catch {
            report(Diagnostic(error.message, at: nil))
            return false
        }
        let count = page.sections.reduce(0) { $0 + $1.statements.count }
        let frames = page.sections.reduce(0) { $0 + ($1.walk?.frames.count ?? 0) }
        print("wrote \(path): \(count) statement\(count == 1 ? "" : "s"), \(frames) frame\(frames == 1 ? "" : "s") of the walk")
        return !page.failed
    }

    /// The section of what `recorder` holds, with the drawings of the target made now (unless
    /// the script stopped at an error).
    func section(_ name: String, _ recorder: HandoutRecorder, ran: Bool, path: String, index: Int) -> Handout.Section {
        let (preamble, statements) = recorder.take()
        var section = Handout.Section(name: name, preamble: preamble, statements: statements, failed: !ran)
        guard ran else {
            section.notes.append("the script stopped at an error, so nothing after it ran and its graph is not drawn")
            return section
        }
        guard let name = defaultOutputName, let target = workspace.graph.node(named: name) else { return section }
        section.target = name
        // The drawings must leave the session as the script left it (a walk under way, the last pass).
        let saved = snapshot()
        defer { restore(saved) }
        stepper = nil
        let prefix = "s\(index)-"
        let y: Tensor
        do { y = try workspace.value(of: target) } catch {
            section.notes.append("\(name) does not evaluate (\(Workspace.diagnostic(error, at: nil).message)): nothing is drawn")
            return section
        }
        var gradientsKnown = false
        if y.isScalar {
            gradientsKnown = (try? gradients(of: target, seed: nil, record: false, at: nil)) != nil
        } else {
            section.notes.append("\(name) has shape \(describe(shape: y.shape)), not a scalar: there is no reverse graph, and the walk goes forward only")
            lastGradients = nil
        }
        let report = graphReport(target: target, granularity: .definitions)
        section.forward = figure("the forward graph of \(name): every value stored" + (gradientsKnown ? ", with its gradient" : ""),
                                 dot: dotText(of: report), text: drawing(of: report, width: drawingWidth), path: path, id: prefix + "f-")
        if gradientsKnown {
            let reverse = reverseReport(of: report)
            let text = reverse.boxes.map { $0.label + " = " + ($0.gradient.map { format.inline($0) } ?? "not computed") }
            section.reverse = figure("the reverse graph of \(name): each gradient is its consumers' gradients times the local Jacobians",
                                     dot: dotText(of: reverse), text: text, path: path, id: prefix + "r-")
        }
        lastGradients = nil
        section.walk = walkFrames(target, path: path, prefix: prefix)
        return section
    }

    /// The walk on `target` as frames: its start, then each step as `:step` prints it, with the
    /// graph as it stands after the step (drawn by the same report `:graph` draws during a walk).
    func walkFrames(_ target: NodeID, path: String, prefix: String) -> Handout.Walk? {
        guard let walk = try? Walk(graph: workspace.graph, target: target, remat: workspace.rematNodes, shouldStop: shouldStop) else { return nil }
        let steps = walk.steps.count, forward = walk.forwardCount
        // Which steps get a frame: all of them, or the first of each pass within the cap.
        var shown = Array(0..<steps)
        var note: String?
        let cap = Session.maximumHandoutFrames - 1
        if steps > cap {
            let backward = steps - forward
            let forwardShown = backward == 0 ? cap : min(forward, max(cap / 2, cap - backward))
            let backwardShown = min(backward, cap - forwardShown)
            shown = Array(0..<forwardShown) + Array(forward..<(forward + backwardShown))
            note = "The walk has \(steps) steps; the page shows \(shown.count + 1) frames: the start, the first \(forwardShown) forward steps"
                + (backward > 0 ? " and the first \(backwardShown) backward steps" : "")
                + "; :step in chainrule goes through every one."
        }
        var stepper = Stepper(targetName: label(target), walk: walk)
        var frames: [Handout.Frame] = []
        func frame(_ title: String, _ text: String, skipped: String? = nil) {
            self.stepper = stepper
            let report = graphReport(target: target, granularity: .definitions)
            frames.append(Handout.Frame(title: title, text: text,
                                        figure: figure(title == "start" ? "the graph of \(stepper.targetName) at the start of the walk: nothing computed"
                                                           : "the graph of \(stepper.targetName) after \(title)", dot: dotText(of: report),
                                                       text: drawing(of: report, width: drawingWidth), path: path,
                                                       id: prefix + "w\(frames.count)-"),
                                        skipped: skipped))
        }
        frame("start", walkAnnouncement(stepper) + "\nnothing is computed yet: → takes the first step")
        var previous = -1
        for index in shown {
            // Steps not shown are still taken: each frame is the walk as it stands.
            while stepper.walk.position < index { guard (try? stepper.walk.step(shouldStop: shouldStop)) != nil else { return nil } }
            guard let step = try? stepper.walk.step(shouldStop: shouldStop) else { return nil }
            var text = stepDescription(step, in: stepper.walk)
            if let end = walkEndNote(stepper) { text += "\n" + end }
            let skipped = index > previous + 1 ? "steps \(previous + 2)–\(index) are taken without a frame" : nil
            frame(position(of: step, in: stepper.walk), text, skipped: skipped)
            previous = index
        }
        self.stepper = nil
        return Handout.Walk(target: label(target), steps: steps, frames: frames, note: note)
    }

    /// A drawing as inline SVG, or its terminal drawing where Graphviz cannot draw it.
    func figure(_ caption: String, dot: String, text: [String], path: String, id: String) -> Handout.Figure {
        do {
            return Handout.Figure(caption: caption, svg: try Graphviz.inlineSVG(of: dot, besides: path, idPrefix: id))
        } catch {
            return Handout.Figure(caption: caption, svg: nil, text: text.joined(separator: "\n"), problem: error.message)
        }
    }
}
