import ChainruleCore

/// `:load` and `:save`.
extension Session {
    /// Runs a script file into this session.
    public func load(path: String) -> Bool {
        let text: String
        do { text = try Files.read(path) } catch {
            report(Diagnostic(error.message, at: nil))
            return false
        }
        return run(Source(name: path, text: text))
    }

    func load(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 1...1, usage: ":load FILE")
        let word = arguments.words[0]
        let base = arguments.source.name.hasPrefix("<") ? nil : arguments.source.name
        let path = Files.resolve(word.text, relativeTo: base)
        guard !loading.contains(path) else {
            throw Diagnostic("'\(word.text)' is already being loaded; a script cannot load itself", at: word.span)
        }
        try checkLoadLimits(at: word.span)
        let text: String
        do { text = try Files.read(path) } catch { throw Diagnostic(error.message, at: word.span) }
        loading.append(path)
        defer { loading.removeLast() }
        let wasQuitting = quitRequested
        if !run(Source(name: path, text: text)) {
            throw Diagnostic("'\(word.text)' stopped at an error", at: word.span, severity: .note)
        }
        // `:quit` inside a loaded script ends that script, not the session.
        quitRequested = wasQuitting
    }

    /// Scripts may load scripts ``Session/maximumLoadDepth`` deep and, under one top-level
    /// script or entry, ``Session/maximumLoads`` times in all; Ctrl-C stops before each load.
    func checkLoadLimits(at span: SourceSpan) throws(Diagnostic) {
        if loading.isEmpty { loadsStarted = 0 }
        guard loading.count < Session.maximumLoadDepth else {
            throw Diagnostic("scripts load each other more than \(Session.maximumLoadDepth) levels deep", at: span)
        }
        guard loadsStarted < Session.maximumLoads else {
            throw Diagnostic("more than \(Session.maximumLoads) :load commands under one script; is a script loading others in a loop?", at: span)
        }
        if shouldStop() { throw Diagnostic("interrupted", at: span) }
        loadsStarted += 1
    }

    /// The whole graph as a script: leaves with their exact values, formulas as written, in dependency order.
    public func script() -> String {
        var lines = ["# chainrule graph: \(workspace.order.count) definition\(workspace.order.count == 1 ? "" : "s")"]
        for name in workspace.dependencyOrder() {
            guard let entry = workspace.entries[name] else { continue }
            let prefix = entry.kind == .formula ? "" : entry.kind.rawValue + " "
            if let value = entry.value {
                lines.append("\(prefix)\(name) = \(Printer.literal(value))")
            } else if let formula = entry.formula {
                lines.append("\(prefix)\(name) = \(Printer.expression(formula))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func save(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 1...1, usage: ":save FILE")
        let word = arguments.words[0]
        do { try Files.write(script(), to: word.text) } catch { throw Diagnostic(error.message, at: word.span) }
        print("saved \(workspace.order.count) definition\(workspace.order.count == 1 ? "" : "s") to \(word.text)")
    }
}
