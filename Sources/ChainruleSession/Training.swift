import ChainruleCore

/// `:train`: gradient descent on the `param` leaves, with progress and a loss curve.
extension Session {
    func train(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":train LOSS [steps=N] [lr=η]"
        let (positional, keyed) = try arguments.keyed(["steps", "lr"], usage: usage)
        guard positional.count == 1 else {
            throw Diagnostic(positional.isEmpty ? "missing the loss; usage: \(usage)" : "unexpected argument '\(positional[1].text)'; usage: \(usage)",
                             at: positional.count > 1 ? positional[1].span : arguments.endSpan)
        }
        let lossWord = positional[0]
        let loss = try node(lossWord)
        let initial = try value(loss, at: lossWord.span)
        guard initial.isScalar else {
            throw Diagnostic("\(lossWord.text) has shape \(describe(shape: initial.shape)); training needs a scalar loss", at: lossWord.span)
        }
        var steps = 100
        if let word = keyed["steps"] {
            guard let n = Int(word.text), (1...10_000_000).contains(n) else {
                throw Diagnostic("steps must be a whole number from 1 to 10000000", at: word.span)
            }
            steps = n
        }
        var rate = 0.1
        if let word = keyed["lr"] {
            guard let r = try constant(word).scalar, r.isFinite, r > 0 else {
                throw Diagnostic("lr must be a positive number", at: word.span)
            }
            rate = r
        }
        let params = workspace.order.filter { workspace.entries[$0]?.kind == .param && workspace.graph.node(named: $0) != nil }
        guard !params.isEmpty else {
            throw Diagnostic("there are no params to train; declare them with 'param W = …'", at: arguments.nameSpan)
        }
        let used = workspace.trainableParams(of: loss)
        guard !used.isEmpty else {
            throw Diagnostic("\(lossWord.text) depends on none of the params (\(params.joined(separator: ", ")))", at: lossWord.span)
        }

        print("training \(lossWord.text): \(steps) step\(steps == 1 ? "" : "s") of gradient descent, lr = \(format.format(rate)), on \(used.joined(separator: ", "))")
        var losses: [Double] = []
        losses.reserveCapacity(steps + 1)
        var interrupted = false
        var diverged: Int?
        var path = startedPath(loss: lossWord.text, params: used)
        let every = max(1, steps / TrainingPath.limit)
        for step in 1...steps {
            if shouldStop() {
                interrupted = true
                break
            }
            let before = (step - 1) % every == 0 ? path.map(currentValues) : nil
            do {
                losses.append(try workspace.descend(loss, params: used, learningRate: rate))
            } catch {
                trainingPath = path
                throw located(error, at: lossWord.span)
            }
            if let before, losses[losses.count - 1].isFinite {
                path?.points.append(before)
                path?.losses.append(losses[losses.count - 1])
            }
            // A loss that is no longer finite stays so: the steps after it would only spread NaN.
            if !losses[losses.count - 1].isFinite {
                diverged = step - 1
                break
            }
            if showsProgress && (step == steps || step % max(1, steps / 100) == 0) {
                output.write("\r" + progressBar(step: step, of: steps, loss: losses[losses.count - 1]), toError: false)
            }
        }
        if showsProgress { output.write("\r\u{1B}[2K", toError: false) }
        lastGradients = nil
        restartWalk(because: ":train changed the params")
        let final = try value(loss, at: lossWord.span).scalars[0]
        losses.append(final)
        if var path, final.isFinite {
            path.points.append(currentValues(path))
            path.losses.append(final)
            trainingPath = path
        }
        let ran = interrupted ? "interrupted after" : diverged != nil ? "stopped after" : "done:"
        var lines = ["\(ran) \(losses.count - 1) step\(losses.count == 2 ? "" : "s"); \(lossWord.text) \(format.format(losses[0])) → \(format.format(final))"]
        lines.append(contentsOf: lossCurve(losses))
        if let diverged, let bad = losses.last(where: { !$0.isFinite }) {
            lines.append("diverged: after step \(diverged) \(lossWord.text) was \(format.format(bad)); a smaller lr (now \(format.format(rate))) may converge")
        }
        print(lines.joined(separator: "\n"))
    }

    /// The path `:train` records for the scalar params it trains: the one recorded so far when
    /// it ends where they stand now (a second `:train` goes on from the first), else a new one.
    func startedPath(loss: String, params: [String]) -> TrainingPath? {
        let scalars = params.filter { workspace.entries[$0]?.value?.isScalar == true }
        guard !scalars.isEmpty else { return nil }
        var path = TrainingPath(loss: loss, names: scalars)
        if let recorded = trainingPath, recorded.loss == loss, recorded.names == scalars,
           recorded.points.last == currentValues(path), recorded.points.count < 4 * TrainingPath.limit {
            path = recorded
            path.points.removeLast()
            path.losses.removeLast()
        }
        return path
    }

    /// The values of a path's params now.
    func currentValues(_ path: TrainingPath) -> [Double] {
        path.names.map { workspace.entries[$0]?.value?.scalars.first ?? .nan }
    }

    /// `[██████░░░░]  step 40/100  loss 0.25`
    func progressBar(step: Int, of total: Int, loss: Double) -> String {
        let width = 30
        let filled = width * step / total
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]  step \(step)/\(total)  loss \(format.format(loss))"
    }

    /// The loss over the steps as a bar chart of `height` rows, at most 60 columns wide,
    /// with eighth-block tops; each column shows the loss at one sampled step.
    func lossCurve(_ losses: [Double], height: Int = 8) -> [String] {
        let finite = losses.filter(\.isFinite)
        guard let top = finite.max(), let bottom = finite.min() else { return ["(no finite loss to draw)"] }
        let columns = min(losses.count, 60)
        let samples = (0..<columns).map { c in losses[c * (losses.count - 1) / max(columns - 1, 1)] }
        // Halved, so that the range of two finite losses (up to ±1.8e308) cannot overflow.
        let halfSpan = top / 2 - bottom / 2
        let eighths = samples.map { v -> Int in
            guard v.isFinite else { return height * 8 }
            guard halfSpan > 0 else { return height * 4 }
            let fraction = min(1, max(0, (v / 2 - bottom / 2) / halfSpan))
            return Int((fraction * Double(height * 8 - 1)).rounded()) + 1
        }
        let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let labels = [format.format(top), format.format(bottom)]
        let labelWidth = labels.map(\.count).max() ?? 0
        var lines: [String] = []
        for row in stride(from: height - 1, through: 0, by: -1) {
            var text = ""
            for e in eighths { text.append(blocks[min(8, max(0, e - row * 8))]) }
            while text.last == " " { text.removeLast() }
            let label = row == height - 1 ? labels[0] : row == 0 ? labels[1] : ""
            lines.append(String(repeating: " ", count: labelWidth - label.count) + label + " ┤" + style.value(text))
        }
        lines.append(String(repeating: " ", count: labelWidth) + " └" + String(repeating: "─", count: columns) + " step 0 … \(losses.count - 1)")
        return lines
    }
}
