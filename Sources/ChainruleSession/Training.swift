import ChainruleCore

/// How one run of training ended, with what it saw along the way.
struct TrainingRun {
    enum End {
        case finished
        case interrupted
        /// Step `step` could not be taken: its loss or a gradient was not finite.
        case diverged(NonFiniteNode, step: Int)
    }

    /// The loss at each step taken (before its update; a minibatch's loss with `batch=`).
    var losses: [Double] = []
    /// With `batch=`: the rows each step took.
    var batches: [[Int]] = []
    /// The loss on all the data before the first step and after the last one.
    var initial = Double.nan
    var final = Double.nan
    var end = End.finished
    /// The first step whose loss passed 10× the loss at step 0, and that loss.
    var grew: (step: Int, loss: Double)?

    var stepsTaken: Int { losses.count - (diverged ? 1 : 0) }
    var diverged: Bool { if case .diverged = end { true } else { false } }
    /// The lowest finite loss seen, at the step it was seen (the last one: after the last step).
    var best: (step: Int, loss: Double)? {
        var result: (step: Int, loss: Double)?
        for (step, loss) in curve.enumerated() where loss.isFinite && loss <= result?.loss ?? .infinity {
            result = (step, loss)
        }
        return result
    }
    /// The losses drawn: each step's, then the loss after the last step.
    var curve: [Double] { diverged ? losses : losses + [final] }
}

/// `:train`: gradient descent (sgd, momentum, Adam) on the `param` leaves, with progress and a loss curve.
extension Session {
    func train(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = TrainingOptions.usage
        let (positional, keyed) = try arguments.keyed(TrainingOptions.keys, usage: usage)
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
        let options = try trainingOptions(keyed)
        let params = workspace.order.filter { workspace.entries[$0]?.kind == .param && workspace.graph.node(named: $0) != nil }
        guard !params.isEmpty else {
            throw Diagnostic("there are no params to train; declare them with 'param W = …'", at: arguments.nameSpan)
        }
        let used = workspace.trainableParams(of: loss)
        guard !used.isEmpty else {
            throw Diagnostic("\(lossWord.text) depends on none of the params (\(params.joined(separator: ", ")))", at: lossWord.span)
        }
        let name = lossWord.text
        let batch = try options.batch.map { b throws(Diagnostic) in try batchSetup(loss: loss, size: b, at: keyed["batch"]?.span ?? lossWord.span) }
        let optimizer = options.optimizer
        var header = "training \(name): \(options.steps) step\(options.steps == 1 ? "" : "s") of \(optimizer.method.rawValue), lr = \(format.format(optimizer.learningRate))"
        if optimizer.method != .sgd { header += ", beta = \(format.format(optimizer.beta))" }
        if optimizer.method == .adam { header += ", beta2 = \(format.format(optimizer.beta2)), eps = \(format.format(optimizer.epsilon))" }
        if optimizer.decay > 0 { header += ", decay = \(format.format(optimizer.decay))" }
        print(header + ", on \(used.joined(separator: ", "))")
        if let batch {
            print("batch: \(batch.size) of \(batch.rows) rows, sampled along axis 0 (the batch axis) of \(batch.leaves.joined(separator: ", ")), seed \(options.seed)")
        }
        let record = startRecord(params: params)
        trainingRecord = nil  // until this run ends: a run that fails half-way leaves nothing to take again
        if let restarts = options.restarts {
            try trainRestarts(restarts, loss: loss, name: name, params: used, options: options, batch: batch, at: lossWord.span)
            trainingRecord = record.notTakenAgain(arguments, why: "its restarts draw the params again", after: workspace)
            return
        }
        if optimizer.method != .sgd {
            if let kept = batch == nil ? workspace.keptOptimizerState(loss: loss, params: used) : batchState(batch, loss: loss, params: used),
               kept.method == optimizer.method {
                print("\(optimizer.method.rawValue) state: continued from the \(kept.steps) step\(kept.steps == 1 ? "" : "s") before (kept until a param is redefined)")
            } else {
                print("\(optimizer.method.rawValue) state: new (kept from one :train to the next until a param is redefined)")
            }
        }
        let continued = (batch == nil ? workspace.keptOptimizerState(loss: loss, params: used) : batchState(batch, loss: loss, params: used))?.method
            == optimizer.method
        var path = startedPath(loss: name, params: used)
        let run = try trainingRun(loss: loss, name: name, params: used, options: options, batch: batch, path: &path, progress: true,
                                  at: lossWord.span)
        var taken = TrainingRecord.Run(command: TrainingRecord.command(arguments), loss: name, params: used, optimizer: optimizer,
                                       steps: run.stepsTaken, continued: continued)
        if let batch, let space = batchStore?.space {
            taken.batch = TrainingRecord.Minibatch(space: space, leaves: batch.leaves, rows: Array(run.batches.prefix(run.stepsTaken)))
        }
        trainingRecord = record.adding(taken, after: workspace)
        lastGradients = nil
        restartWalk(because: ":train changed the params")
        if var path, run.final.isFinite {
            path.points.append(currentValues(path))
            path.losses.append(run.final)
            trainingPath = path
        }
        print(summary(of: run, name: name, options: options, batch: batch).joined(separator: "\n"))
    }

    /// Trains the workspace's params (through a minibatch copy of it with `batch`) and returns
    /// how it went; the params keep the values of the last step finished.
    func trainingRun(loss: NodeID, name: String, params: [String], options: TrainingOptions, batch: BatchSetup?,
                     path: inout TrainingPath?, progress: Bool, at span: SourceSpan) throws(Diagnostic) -> TrainingRun {
        var run = TrainingRun()
        run.initial = try value(loss, at: span).scalars[0]
        // The workspace is moved out while it trains (no copy of its values), and put back
        // however the run ends; with `batch=`, its minibatch copy trains and the params go back.
        var space = Workspace()
        var sampler: BatchSampler?
        var lossID = loss
        var batchIDs: [NodeID] = []
        if let batch {
            let key = batch.key(version: workspace.version, edits: workspace.valueEdits)
            space = batchStore.flatMap { $0.key == key ? $0.space : nil } ?? batch.space
            space.shouldStop = workspace.shouldStop
            sampler = BatchSampler(rows: batch.rows, size: batch.size, seed: options.seed)
            lossID = space.graph.node(named: name) ?? loss
            batchIDs = batch.leaves.compactMap { space.graph.node(named: $0) }
        } else {
            swap(&space, &workspace)
        }
        defer {
            if let batch {
                for p in params { if let v = space.entries[p]?.value { workspace.setValue(v, of: p) } }
                // Kept with its optimizer state, for a `:train` that goes on from here.
                batchStore = (batch.key(version: workspace.version, edits: workspace.valueEdits), space)
            } else {
                swap(&space, &workspace)
            }
        }
        let steps = options.steps
        let every = max(1, steps / TrainingPath.limit)
        let clock = ContinuousClock()
        let started = clock.now
        let shouldStop = space.shouldStop
        for step in 0..<steps {
            if shouldStop() {
                run.end = .interrupted
                break
            }
            if var s = sampler, let batch {
                let rows = s.next()
                sampler = s
                run.batches.append(Array(rows))
                for (k, leaf) in batch.leaves.enumerated() { space.setValue(BatchSampler.rows(rows, of: batch.data[k]), of: leaf) }
            }
            let before = step % every == 0 && path != nil ? path.map { p in p.names.map { space.entries[$0]?.value?.scalars.first ?? .nan } } : nil
            let result: TrainingStep
            do {
                result = try space.descend(lossID, params: params, optimizer: options.optimizer, varying: batchIDs)
            } catch {
                if case .interrupted = error {
                    run.end = .interrupted
                    break
                }
                trainingPath = path
                throw located(error, at: span)
            }
            run.losses.append(result.loss)
            if let divergence = result.divergence {
                run.end = .diverged(divergence, step: step)
                break
            }
            if let before {
                path?.points.append(before)
                path?.losses.append(result.loss)
            }
            if run.grew == nil, run.losses[0] > 0, result.loss > 10 * run.losses[0] { run.grew = (step, result.loss) }
            if progress, showsProgress, step + 1 == steps || (step + 1) % max(1, steps / 100) == 0 {
                let seconds = Double((clock.now - started).components.attoseconds) * 1e-18 + Double((clock.now - started).components.seconds)
                output.write("\r" + progressBar(step: step + 1, of: steps, name: name, loss: result.loss,
                                                perSecond: seconds > 0 ? Double(step + 1) / seconds : nil), toError: false)
            } else if progress, !showsProgress, let every = options.every, step % every == 0 {
                print("step \(step): \(name) = \(format.format(result.loss))")
            }
        }
        if progress, showsProgress { output.write("\r\u{1B}[2K", toError: false) }
        if batch != nil {
            // The loss on all the data, from the params learned.
            for p in params { if let v = space.entries[p]?.value { workspace.setValue(v, of: p) } }
            run.final = (try? value(loss, at: span).scalars[0]) ?? .nan
        } else {
            run.final = (try? space.value(of: lossID).scalars[0]) ?? .nan
        }
        // The last update made the loss non-finite: the step after it is where training stops.
        if case .finished = run.end, !run.final.isFinite, !run.losses.isEmpty,
           let place = try? (batch == nil ? space.firstNonFinite(to: lossID, reverse: false) : workspace.firstNonFinite(to: loss, reverse: false)) {
            run.losses.append(run.final)
            run.end = .diverged(place, step: run.losses.count - 1)
        }
        return run
    }

    /// What `:train` prints when it ends: how it ended, the loss curve, and the warnings.
    func summary(of run: TrainingRun, name: String, options: TrainingOptions, batch: BatchSetup?) -> [String] {
        let n = run.stepsTaken
        let steps = "\(n) step\(n == 1 ? "" : "s")"
        let data = batch == nil ? "" : " (on all \(batch?.rows ?? 0) rows)"
        var lines: [String]
        switch run.end {
        case .finished: lines = ["done: \(steps); \(name) \(format.format(run.initial)) → \(format.format(run.final))\(data)"]
        case .interrupted:
            let kept = n == 0 ? "the params are as they were" : "the params are as after step \(n - 1)"
            lines = ["interrupted after \(steps) (\(kept)); \(name) \(format.format(run.initial)) → \(format.format(run.final))\(data)"]
        case .diverged(_, let step): lines = ["stopped at step \(step), which made no update: \(name) \(format.format(run.initial)) → \(format.format(run.final))\(data)"]
        }
        lines.append(contentsOf: lossCurve(run.curve, best: run.best))
        if let grew = run.grew {
            lines.append(style.warning("warning:") + " \(name) grew past 10× its value at step 0 (\(format.format(run.losses[0]))): \(format.format(grew.loss)) at step \(grew.step); a smaller lr (now \(format.format(options.optimizer.learningRate))) may converge")
        }
        if case .diverged(let place, let step) = run.end {
            lines.append("diverged: \(whereNonFinite(place, step: step))")
            lines.append("  a smaller lr (now \(format.format(options.optimizer.learningRate))) may converge")
        }
        return lines
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

    /// `[██████░░░░]  step 40/100  L 0.25  1200 steps/s`
    func progressBar(step: Int, of total: Int, name: String, loss: Double, perSecond: Double?) -> String {
        let width = 30
        let filled = width * step / total
        let rate = perSecond.map { "  \(format.format(($0 * 10).rounded() / 10)) steps/s" } ?? ""
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]  step \(step)/\(total)  \(name) \(format.format(loss))" + rate
    }
}
