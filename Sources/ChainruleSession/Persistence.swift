import ChainruleCore

/// `:load` and `:save`.
extension Session {
    /// Runs a script file into this session (a file named on the command line).
    public func load(path: String) -> Bool {
        let canonical = Files.canonical(path)
        let text: String
        do { text = try Files.read(path, limit: maximumFileSize, shouldStop: shouldStop) } catch {
            report(Diagnostic(error.message, at: nil))
            return false
        }
        if loading.isEmpty { loadsStarted = 0 }
        loading.append(canonical)
        defer { loading.removeLast() }
        return run(Source(name: path, text: text))
    }

    /// `:load FILE`: all or nothing. When the script stops at an error, the session is put back
    /// exactly as it was before (definitions, results, settings), so a half-run script leaves no trace.
    /// An interrupt (Ctrl-C) is not an error: what the script defined and trained before it is kept.
    func load(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 1...1, usage: ":load FILE")
        let word = arguments.words[0]
        let path = self.path(word, in: arguments)
        // Compare real paths, so that `./x.graph` or a link to it is the same script.
        let canonical = Files.canonical(path)
        guard !loading.contains(canonical) else {
            throw Diagnostic("'\(word.text)' is already being loaded; a script cannot load itself", at: word.span)
        }
        try checkLoadLimits(at: word.span)
        let text: String
        do { text = try Files.read(path, limit: maximumFileSize, shouldStop: shouldStop) } catch {
            throw Diagnostic(error.message, at: word.span)
        }
        loading.append(canonical)
        defer { loading.removeLast() }
        let before = snapshot()
        let wasQuitting = quitRequested
        switch runScript(Source(name: path, text: text)) {
        case .finished:
            break
        case .interrupted:
            quitRequested = wasQuitting
            report(Diagnostic("':load \(word.text)' was interrupted: what it defined and trained before the interrupt is kept",
                              at: word.span, severity: .note))
        case .failed:
            restore(before)
            quitRequested = wasQuitting
            throw Diagnostic("'\(word.text)' stopped at an error; the session is as it was before ':load'",
                             at: word.span, severity: .note)
        }
        // `:quit` inside a loaded script ends that script, not the session.
        quitRequested = wasQuitting
    }

    /// A file named in a command: relative to the script's folder inside a script, else to the
    /// current folder (as `:load`, `:save` and `:dot` all take it).
    func path(_ word: CommandArguments.Word, in arguments: CommandArguments) -> String {
        let base = arguments.source.name.hasPrefix("<") ? nil : arguments.source.name
        return Files.resolve(word.text, relativeTo: base)
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
    ///
    /// The file loads back into the same session: numbers are spelt so that no name can change them
    /// (``Printer/sourceNumber(_:)``), and a definition that does not evaluate when saved (a later
    /// redefinition broke it) is written as a comment with the reason, so that it cannot stop the load.
    public func script() throws(Diagnostic) -> String {
        try checkSavable()
        return TextStream.text { writeScript(to: &$0) }
    }

    /// Throws when a leaf's value has no literal within the parser's depth limit, so that a
    /// script that cannot be written is refused before anything is written.
    func checkSavable() throws(Diagnostic) {
        for name in workspace.dependencyOrder() {
            if let value = workspace.entries[name]?.value, !Session.hasLiteral(value) {
                throw Diagnostic("cannot save '\(name)': a literal of rank \(value.rank) would nest deeper than \(Parser.maximumDepth) levels", at: nil)
            }
        }
    }

    /// Writes ``script()`` to `stream` a definition, and a leaf's value an element, at a time
    /// (after ``checkSavable()``).
    ///
    /// Definitions are written in dependency order. When that is not the order they were
    /// first defined in (`x = 1; y = 2; x = y + 1`), the names from the first difference on
    /// are first given a placeholder `0` in their own order, so that the loaded session lists
    /// them (`:vars`) exactly as this one does.
    func writeScript(to stream: inout TextStream) {
        let names = workspace.dependencyOrder()
        stream.write("# chainrule graph: \(workspace.order.count) definition\(workspace.order.count == 1 ? "" : "s")\n")
        let written = names.filter { name in
            guard let entry = workspace.entries[name], workspace.broken[name] == nil else { return false }
            return entry.value != nil || entry.formula != nil
        }
        let writtenSet = Set(written)
        let defined = workspace.order.filter(writtenSet.contains)
        let firstDifference = written.indices.first { written[$0] != defined[$0] }
        for name in names {
            if let k = firstDifference, name == written[k] {
                stream.write("# placeholders, so that the names keep the order they were defined in\n")
                for placeholder in defined[k...] { stream.write("\(placeholder) = 0\n") }
            }
            guard let entry = workspace.entries[name] else { continue }
            let formula = entry.value == nil ? entry.formula.map(Printer.expression) : nil
            guard entry.value != nil || formula != nil else { continue }
            let prefix = entry.kind == .formula || entry.isModule ? "" : entry.kind.rawValue + " "
            if let problem = workspace.broken[name] {
                let reason = problem.message.split(whereSeparator: \.isNewline).joined(separator: " ")
                stream.write("# '\(name)' did not evaluate when saved: \(reason)\n# ")
            }
            stream.write("\(prefix)\(Session.definedName(entry)) = ")
            if let value = entry.value {
                Session.writeLiteral(value, to: &stream)
            } else if let formula {
                stream.write(formula)
            }
            stream.write("\n")
        }
    }

    /// A definition's name as written on the left of its `=`: a module's with its parameters.
    static func definedName(_ entry: Workspace.Entry) -> String {
        entry.isModule ? "\(entry.name)(\(entry.parameters.joined(separator: ", ")))" : entry.name
    }

    /// The deepest literal `:save` writes; tensors of higher rank are built by broadcasting instead.
    static let maximumLiteralRank = 64

    /// Whether ``writeLiteral(_:to:)`` can write `value` within the parser's depth limit.
    static func hasLiteral(_ value: Tensor) -> Bool {
        guard value.rank > maximumLiteralRank, value.count > 0 else { return true }
        return value.shape.drop { $0 == 1 }.count <= maximumLiteralRank
    }

    /// A leaf's value as source text, or nil when no literal within the parser's depth limit holds it.
    static func literal(_ value: Tensor) -> String? {
        hasLiteral(value) ? TextStream.text { writeLiteral(value, to: &$0) } : nil
    }

    /// A leaf's value as source text (``Printer/literal(_:)``), written an element at a time.
    ///
    /// A literal nests one bracket per axis. Past ``maximumLiteralRank`` the leading size-1 axes are
    /// written as `ones(1, …, 1, n, …) * literal`, which broadcasts to the same shape and (times 1)
    /// the same bits. The caller checks ``hasLiteral(_:)`` first.
    static func writeLiteral(_ value: Tensor, to stream: inout TextStream) {
        if value.count == 0 && value.rank > 1 { return stream.write(Printer.literal(value)) }
        guard value.rank > maximumLiteralRank else { return stream.writeNested(value, Printer.sourceNumber) }
        let rest = Array(value.shape.drop { $0 == 1 })
        stream.write("ones(" + value.shape.map(String.init).joined(separator: ", ") + ") * ")
        stream.writeNested(Tensor(shape: rest, scalars: value.scalars), Printer.sourceNumber)
    }

    func save(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 1...1, usage: ":save FILE")
        let word = arguments.words[0]
        let path = self.path(word, in: arguments)
        // Checked before the file is opened, so a script that cannot be written leaves the old file alone.
        do { try checkSavable() } catch {
            var located = error
            located.span = word.span
            throw located
        }
        do {
            try Files.write(to: path) { writeScript(to: &$0) }
        } catch { throw Diagnostic(error.message, at: word.span) }
        print("saved \(workspace.order.count) definition\(workspace.order.count == 1 ? "" : "s") to \(path)")
    }
}
