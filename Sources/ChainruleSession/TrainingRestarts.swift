import ChainruleCore

/// `:train … restarts=K`: the same training from K draws of the seeded initialisers, compared in one table.
extension Session {
    static let seededInitialisers: Set<String> = ["randn", "rand", "xavier", "he"]

    /// Remembers a `param` defined by a seeded initialiser call; forgets any other definition of the name.
    func recordInitialiser(_ definition: Definition, in source: Source) {
        initialisers[definition.name] = nil
        guard definition.kind == .param, case .call(let function, _, let keywords) = definition.value.kind,
              Session.seededInitialisers.contains(function),
              let seed = keywords.first(where: { $0.name == "seed" }), case .number = seed.value.kind else { return }
        initialisers[definition.name] = (definition, source)
    }

    /// ``recordInitialiser(_:in:)`` of a definition the reader made as it read it, read again as a
    /// tree only when it is a `param` that calls an initialiser.
    func recordInitialiser(named name: String, in source: Source, range: SourceRange) {
        initialisers[name] = nil
        let text = source.text(range)
        guard text.hasPrefix("param"), Session.seededInitialisers.contains(where: { text.contains($0 + "(") }), text.contains("seed"),
              case .definition(let definition)? = Parser.statement(in: source, range: range) else { return }
        recordInitialiser(definition, in: source)
    }

    /// The value of an initialiser's call with its seed moved on by `offset`, and that seed.
    func reinitialised(_ name: String, offset: Int) throws(Diagnostic) -> (value: Tensor, seed: Int)? {
        guard let (definition, source) = initialisers[name], case .call(let function, let arguments, var keywords) = definition.value.kind,
              let k = keywords.firstIndex(where: { $0.name == "seed" }), case .number(let written) = keywords[k].value.kind else { return nil }
        let seed = Int(written) + offset
        keywords[k].value = Expr(.number(Double(seed)), range: keywords[k].value.range)
        let call = Expr(.call(function, arguments, keywords), range: definition.value.range, focus: definition.value.focus)
        return (try workspace.evaluate(call, in: source), seed)
    }

    func trainRestarts(_ count: Int, loss: NodeID, name: String, params: [String], options: TrainingOptions, batch: BatchSetup?,
                       at span: SourceSpan) throws(Diagnostic) {
        let seeded = params.filter { initialisers[$0] != nil }
        guard !seeded.isEmpty else {
            throw Diagnostic("restarts= draws again the params defined by a seeded initialiser (randn, rand, xavier or he with seed=k), and none of \(params.joined(separator: ", ")) is", at: span)
        }
        let fixed = params.filter { initialisers[$0] == nil }
        print("restarts: \(count), each from the seeds as written + 0 … \(count - 1) for \(seeded.joined(separator: ", "))"
              + (fixed.isEmpty ? "" : "; \(fixed.joined(separator: ", ")) start\(fixed.count == 1 ? "s" : "") as defined each time"))
        let original = workspace
        var rows: [[String]] = []
        var kept: (restart: Int, final: Double, workspace: Workspace)?
        var stoppedBefore: Int?
        for restart in 0..<count {
            if shouldStop() {
                stoppedBefore = restart
                break
            }
            workspace = original
            batchStore = nil
            var seeds: [String] = []
            for p in seeded {
                guard let (value, seed) = try reinitialised(p, offset: restart) else { continue }
                workspace.setValue(value, of: p)
                seeds.append("\(p) \(seed)")
            }
            var path: TrainingPath?
            let run = try trainingRun(loss: loss, name: name, params: params, options: options, batch: batch, path: &path,
                                      progress: false, at: span)
            let end = switch run.end {
            case .finished: "done"
            case .interrupted: "interrupted"
            case .diverged(_, let step): "diverged at step \(step)"
            }
            rows.append(["\(restart)", seeds.joined(separator: ", "), format.format(run.initial), format.format(run.final),
                         run.best.map { format.format($0.loss) } ?? "–", "\(run.stepsTaken)", end])
            if run.final.isFinite, run.final < kept?.final ?? .infinity { kept = (restart, run.final, workspace) }
            if case .interrupted = run.end { break }
        }
        workspace = kept?.workspace ?? original
        batchStore = nil
        trainingPath = nil
        lastGradients = nil
        restartWalk(because: ":train changed the params")
        let header = ["restart", "seeds", "\(name) at step 0", "final \(name)", "best \(name)", "steps", "end"]
        var widths = header.map(\.count)
        for row in rows { for (k, cell) in row.enumerated() { widths[k] = max(widths[k], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (k, cell) in cells.enumerated() {
                text += cell + String(repeating: " ", count: k == cells.count - 1 ? 0 : widths[k] - cell.count + 2)
            }
            return text
        }
        var lines = [line(header), line(widths.map { String(repeating: "─", count: $0) })] + rows.map(line)
        if let stoppedBefore {
            lines.append("interrupted before restart \(stoppedBefore): \(stoppedBefore) of \(count) restart\(count == 1 ? "" : "s") ran")
        }
        if let kept {
            lines.append("kept restart \(kept.restart): the lowest final \(name) (\(format.format(kept.final)))")
        } else {
            lines.append("no restart ended with a finite \(name): the params are as before")
        }
        print(lines.joined(separator: "\n"))
    }
}
