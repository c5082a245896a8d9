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
        guard !loading.contains(path), loading.count < 32 else {
            throw Diagnostic("'\(word.text)' is already being loaded; a script cannot load itself", at: word.span)
        }
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
