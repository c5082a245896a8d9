import ChainruleCore

/// Where the walk stands: the core's ``Walk`` and what the session adds to it.
struct Stepper {
    /// The target by name (or `%ID`), so that an edit can start the walk again on it.
    var targetName: String
    var walk: Walk
    /// `:break NODE` (forward) and `:break ∂NODE` (backward).
    var breakpoints: [Walk.Step] = []
    /// The same by name, to set them again when an edit rebuilds the graph (ids change).
    var breakpointNames: [(name: String, backward: Bool)] = []
    /// The workspace's rebuilds and value edits when the walk was made: a new definition,
    /// appended, changes neither and leaves the walk as it is.
    var made: (rebuilds: Int, valueEdits: Int) = (0, 0)
}

/// The walk through both passes: `:step`, `:back`, `:break`, `:continue`, `:run`, `:reset`, `:where`.
extension Session {
    /// The walk on `target`, made afresh (nothing computed).
    func startWalk(on target: NodeID, at span: SourceSpan) throws(Diagnostic) -> Stepper {
        do {
            let walk = try Walk(graph: workspace.graph, target: target, remat: workspace.rematNodes, shouldStop: shouldStop)
            var stepper = Stepper(targetName: label(target), walk: walk)
            stepper.made = (workspace.rebuilds, workspace.valueEdits)
            return stepper
        } catch {
            throw evaluationError(error, at: span)
        }
    }

    /// The walk under way, or a new one on `word` (default: the last defined node); a named
    /// node that is not the walk's target starts a walk on it.
    func currentWalk(_ word: CommandArguments.Word?, _ arguments: CommandArguments, announce: Bool = true) throws(Diagnostic) -> Stepper {
        let span = word?.span ?? arguments.nameSpan
        if let word {
            let id = try node(word)
            if let stepper, stepper.walk.target == id { return stepper }
        } else if let stepper {
            return stepper
        }
        let target = try self.target(word, arguments)
        let started = try startWalk(on: target, at: span)
        if announce { print(style.dim(walkAnnouncement(started))) }
        return started
    }

    /// What a new walk says first: how many steps each pass takes.
    func walkAnnouncement(_ stepper: Stepper) -> String {
        let forward = stepper.walk.forwardCount, backward = stepper.walk.steps.count - forward
        var text = "walking \(stepper.targetName): \(forward) step\(forward == 1 ? "" : "s") forward"
        text += backward > 0 ? ", then \(backward) backward" : " (\(stepper.targetName) is not a scalar: no backward walk)"
        return text + "; values not reached are not computed"
    }

    /// `:step [NODE] [N]`: N steps (default 1).
    func step(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":step [NODE] [N]"
        try arguments.expect(count: 0...2, usage: usage)
        var words = arguments.words
        var count = 1
        if let last = words.last, let n = try stepCount(last) {
            count = n
            words.removeLast()
        }
        guard words.count <= 1 else { throw Diagnostic("expected a number of steps, got '\(words[1].text)'; usage: \(usage)", at: words[1].span) }
        var stepper = try currentWalk(words.first, arguments)
        if stepper.walk.isFinished { stepper.walk.reset() }
        defer { self.stepper = stepper }
        try advance(&stepper, steps: count, at: words.first?.span ?? arguments.nameSpan)
    }

    /// A number of steps (at least 1), or nil when the word is not a whole number (a node name).
    func stepCount(_ word: CommandArguments.Word) throws(Diagnostic) -> Int? {
        let digits = word.text.drop { $0 == "-" || $0 == "+" }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        guard let n = Int(word.text) else {
            throw Diagnostic("the number of steps '\(word.text)' is far too large", at: word.span)
        }
        guard n >= 1 else { throw Diagnostic("the number of steps must be at least 1", at: word.span) }
        return n
    }

    /// Takes up to `steps` steps, printing each, stopping early at a breakpoint (after the
    /// first step) or at the end.
    func advance(_ stepper: inout Stepper, steps: Int, stopAtBreakpoints: Bool = false, at span: SourceSpan) throws(Diagnostic) {
        var lines: [String] = []
        var size = 0
        for taken in 0..<steps {
            if shouldStop() { throw Diagnostic("interrupted", at: span) }
            if stopAtBreakpoints, taken > 0, let next = stepper.walk.next, stepper.breakpoints.contains(next) {
                lines.append(style.dim("breakpoint at \(stepName(next)): :step takes it"))
                break
            }
            let step: Walk.Step?
            do { step = try stepper.walk.step(shouldStop: shouldStop) } catch { throw evaluationError(error, at: span) }
            guard let step else { break }
            let text = stepDescription(step, in: stepper.walk)
            size += text.count
            if size > rowBudget {
                lines.append("… more steps taken than shown (:set output N shows more)")
                size = -Int.max / 2
            } else if size > 0 {
                lines.append(text)
            }
        }
        if let end = walkEndNote(stepper) { lines.append(style.dim(end)) }
        print(lines.joined(separator: "\n"))
    }

    /// What `:step` says after a step that ends a pass, or nil.
    func walkEndNote(_ stepper: Stepper) -> String? {
        if stepper.walk.isFinished {
            return "walk done: \(passesDone(stepper)); :back goes back, :reset starts again"
        } else if stepper.walk.position == stepper.walk.forwardCount, stepper.walk.last.map({ if case .forward = $0 { true } else { false } }) == true {
            return "forward pass done; the next :step starts the backward pass from \(stepper.targetName)"
        }
        return nil
    }

    /// "forward 3/5" or "backward 2/5".
    func position(of step: Walk.Step, in walk: Walk) -> String {
        let index = (walk.index(of: step) ?? 0) + 1
        switch step {
        case .forward: return "forward \(index)/\(walk.forwardCount)"
        case .backward: return "backward \(index - walk.forwardCount)/\(walk.steps.count - walk.forwardCount)"
        }
    }

    /// A step as `:break` names it: `h` forward, `∂h` backward.
    func stepName(_ step: Walk.Step) -> String {
        switch step {
        case .forward(let id): label(id)
        case .backward(let id): "∂" + label(id)
        }
    }

    /// What one step computed, as the class reads it.
    func stepDescription(_ step: Walk.Step, in walk: Walk) -> String {
        let id = step.node
        let node = workspace.graph[id]
        let what = node.isLeaf ? "\(label(id))  \(node.kind.rawValue)" : "\(label(id)) = \(operation(id))"
        let graph = workspace.graph
        let path = graph.hasCalls ? graph.callPath(of: id) : []
        let call = path.last.map { "   in " + Session.callText($0.call) } ?? ""
        var lines = [style.bold(position(of: step, in: walk)) + "  \(what)" + style.dim("   shape \(describe(shape: node.shape))" + call)]
        switch step {
        case .forward:
            for input in node.inputs where !isLiteral(input) {
                lines.append("  input   \(label(input)) = " + style.value(format.inline(walk.value(of: input) ?? Tensor(0))))
            }
            if let value = walk.value(of: id) {
                lines.append("  value   \(label(id)) = " + style.value(format.block(value, indent: 12 + label(id).count)))
                // The last node of a call (its nodes are contiguous) is the call's result.
                if let outermost = path.first, id + 1 >= graph.count || graph.outermostCall(of: id + 1) != outermost.key {
                    lines.append("  call    \(Session.callText(outermost.call)) = " + style.value(format.inline(value)) + style.dim("   the module's result"))
                }
            }
        case .backward:
            lines.append(contentsOf: backwardRows(of: id, in: walk))
        }
        return lines.joined(separator: "\n")
    }

    /// A backward step's rows: the upstream gradient (the sum of what arrived), then per input
    /// edge the local Jacobian, the product, and, where the input feeds several consumers, the
    /// contributions that have reached it so far.
    func backwardRows(of id: NodeID, in walk: Walk) -> [String] {
        let out = label(walk.target), name = label(id)
        let upstream = partial(out, name, seeded: false)
        let g = walk.gradient(of: id) ?? Tensor.zeros(workspace.graph[id].shape)
        var rows = upstreamRows(upstream, g, arriving: walk.arrived(at: id).map { ($0.value, $0.edge.consumer) }, isSeed: id == walk.target)
        let values: (NodeID) -> Tensor? = { walk.value(of: $0) }
        for edge in walk.edges(from: id) where !isLiteral(edge.input) {
            let value = edge.contribution.flatMap { walk.reverseValue($0) } ?? Tensor.zeros(workspace.graph[edge.input].shape)
            rows.append(contentsOf: edgeRows(EdgeContribution(consumer: id, argument: edge.argument, input: edge.input, value: value),
                                             upstream: upstream, values: values))
            let expected = walk.expectedContributions(at: edge.input)
            if expected > 1 {
                let arrived = walk.arrived(at: edge.input)
                let more = arrived.count < expected ? " + …" : ""
                rows.append(Row(role: "so far", lhs: partial(out, label(edge.input), seeded: false),
                                rhs: contributions(arrived.map { ($0.value, $0.edge.consumer) }) + more,
                                note: "\(arrived.count) of \(expected) contributions arrived"))
            }
        }
        for (k, input) in workspace.graph[id].inputs.enumerated() where workspace.graph.isClassIndex(id, argument: k) {
            rows.append(Row(role: "local", lhs: "∂\(name)/∂\(label(input))", rhs: "none", note: "a class index: not differentiated"))
        }
        return render(rows)
    }

    /// `:back [N]`: undoes N steps (default 1): what they computed is not computed any more.
    func back(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":back [N]")
        var count = 1
        if let word = arguments.words.first {
            guard let n = try stepCount(word) else { throw Diagnostic("expected a number of steps of at least 1, got '\(word.text)'", at: word.span) }
            count = n
        }
        guard var stepper else { throw Diagnostic("no walk is under way; :step starts one", at: arguments.nameSpan) }
        var undone: [Walk.Step] = []
        for _ in 0..<count {
            guard let step = stepper.walk.back() else { break }
            undone.append(step)
        }
        self.stepper = stepper
        if undone.isEmpty {
            print("at the start of the walk on \(stepper.targetName): nothing is computed")
            return
        }
        let names = undone.map(stepName).joined(separator: ", ")
        print("back \(undone.count) step\(undone.count == 1 ? "" : "s") (\(names) not computed any more)\n" + whereText(stepper))
    }

    /// `:break NODE` stops `:continue` before NODE's forward step, `:break ∂NODE` before its
    /// backward step; `:break` lists them, `:break clear` removes them.
    func breakpoint(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":break [NODE | ∂NODE | clear]")
        guard var stepper = try? currentWalk(nil, arguments, announce: false) else {
            throw Diagnostic("nothing is defined to walk through", at: arguments.nameSpan)
        }
        defer { self.stepper = stepper }
        guard let word = arguments.words.first else {
            print(stepper.breakpoints.isEmpty ? "no breakpoints" : "breakpoints: " + stepper.breakpoints.map(stepName).joined(separator: ", "))
            return
        }
        if word.text == "clear" {
            stepper.breakpoints = []
            stepper.breakpointNames = []
            print("breakpoints cleared")
            return
        }
        let backward = word.text.hasPrefix("∂") || word.text.hasPrefix("d:")
        let name = backward ? String(word.text.drop(while: { $0 == "∂" }).replacing("d:", with: "", maxReplacements: 1)) : word.text
        let id = try node(CommandArguments.Word(text: name, span: word.span))
        let step: Walk.Step = backward ? .backward(id) : .forward(id)
        guard stepper.walk.passes(step) else {
            throw Diagnostic(backward ? "the backward walk from \(stepper.targetName) does not pass \(name): it has no gradient there"
                                      : "the walk to \(stepper.targetName) does not pass \(name)", at: word.span)
        }
        if !stepper.breakpoints.contains(step) {
            stepper.breakpoints.append(step)
            stepper.breakpointNames.append((name, backward))
        }
        print("breakpoint at \(stepName(step)) (\(position(of: step, in: stepper.walk)))")
    }

    /// `:continue`: steps until the next breakpoint or the end.
    func continueWalk(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...0, usage: ":continue")
        var stepper = try currentWalk(nil, arguments)
        defer { self.stepper = stepper }
        guard !stepper.walk.isFinished else {
            print("the walk is done; :reset starts it again")
            return
        }
        try advance(&stepper, steps: stepper.walk.steps.count, stopAtBreakpoints: true, at: arguments.nameSpan)
    }

    /// `:run`: steps to the end, printing only where it ends.
    func runWalk(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":run [NODE]")
        var stepper = try currentWalk(arguments.words.first, arguments)
        defer { self.stepper = stepper }
        var taken = 0
        while !stepper.walk.isFinished {
            if shouldStop() { throw Diagnostic("interrupted", at: arguments.nameSpan) }
            do { _ = try stepper.walk.step(shouldStop: shouldStop) } catch { throw evaluationError(error, at: arguments.nameSpan) }
            taken += 1
        }
        print("ran \(taken) step\(taken == 1 ? "" : "s")\n" + whereText(stepper))
    }

    /// `:reset`: the walk back at its start, breakpoints kept.
    func resetWalk(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...0, usage: ":reset")
        guard var stepper else { throw Diagnostic("no walk is under way; :step starts one", at: arguments.nameSpan) }
        stepper.walk.reset()
        self.stepper = stepper
        print("the walk on \(stepper.targetName) is back at its start: nothing is computed")
    }

    /// `:where`: where the walk stands.
    func whereWalk(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...0, usage: ":where")
        guard let stepper else {
            print("no walk is under way; :step starts one")
            return
        }
        print(whereText(stepper))
    }

    /// What a finished walk computed: both passes, or the forward pass of a target that is not a scalar.
    func passesDone(_ stepper: Stepper) -> String {
        stepper.walk.steps.count > stepper.walk.forwardCount ? "both passes of \(stepper.targetName) computed"
            : "the forward pass of \(stepper.targetName) computed (it is not a scalar: no backward walk; ':backward \(stepper.targetName) seed=…' gives gradients)"
    }

    func whereText(_ stepper: Stepper) -> String {
        let walk = stepper.walk
        var lines: [String] = []
        if let last = walk.last {
            lines.append("walk on \(stepper.targetName): \(walk.position) of \(walk.steps.count) steps taken; last \(position(of: last, in: walk)) at \(stepName(last))")
        } else {
            lines.append("walk on \(stepper.targetName): at the start, nothing computed")
        }
        if let next = walk.next {
            lines.append("next: \(position(of: next, in: walk)) at \(stepName(next))" + (stepper.breakpoints.contains(next) ? " (a breakpoint)" : ""))
        } else {
            lines.append("done: " + passesDone(stepper))
        }
        return lines.joined(separator: "\n")
    }

    /// After an edit, the walk starts again on the same target (never on the edited node);
    /// `reason` says what changed ("w was redefined"). The notice is printed once; the walk is
    /// made again when it is next used, so that later edits cost nothing more.
    func restartWalk(because reason: String) {
        guard let old = walkStore, old.made != (workspace.rebuilds, workspace.valueEdits) else { return }
        walkStore = nil
        pendingWalk = (old.targetName, old.breakpointNames)
        print(style.dim("\(reason): the walk on \(old.targetName) starts again (nothing computed)"))
    }

    /// The walk on `pending`'s target at its start, with the breakpoints that still apply, or
    /// nil when the target no longer evaluates.
    func restartedWalk(_ pending: (targetName: String, breakpoints: [(name: String, backward: Bool)])) -> Stepper? {
        guard let target = workspace.graph.node(named: pending.targetName), (try? workspace.value(of: target)) != nil,
              let walk = try? Walk(graph: workspace.graph, target: target, remat: workspace.rematNodes, shouldStop: shouldStop) else {
            return nil
        }
        var fresh = Stepper(targetName: pending.targetName, walk: walk)
        fresh.made = (workspace.rebuilds, workspace.valueEdits)
        for breakpoint in pending.breakpoints {
            guard let id = workspace.graph.node(named: breakpoint.name) else { continue }
            let step: Walk.Step = breakpoint.backward ? .backward(id) : .forward(id)
            guard walk.passes(step) else { continue }
            fresh.breakpoints.append(step)
            fresh.breakpointNames.append(breakpoint)
        }
        return fresh
    }
}
