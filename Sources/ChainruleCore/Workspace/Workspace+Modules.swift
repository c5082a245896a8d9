/// Modules: `layer(x, W, b) = relu(W @ x + b)` defines a function of its parameters, kept as a
/// definition with no node of its own. Each call is lowered into nodes marked with the call;
/// a definition that calls a module depends on it, so redefining the module lowers every call
/// again (spreadsheet semantics), and a module reaching itself is refused, naming the cycle.
extension Workspace {
    /// Defines or replaces the module `definition`.
    mutating func defineModule(_ definition: Definition, in source: Source, kept: Range<Int32>?,
                               names: [(start: Int, nameID: Int32)]) throws(Diagnostic) -> [Diagnostic] {
        let span = SourceSpan(source, definition.range)
        let name = definition.name
        if Builtins.isFunction(name) || Builtins.constant(named: name) != nil || ["input", "param"].contains(name) {
            throw Diagnostic("'\(name)' is a built-in name; give the module another name", at: SourceSpan(source, definition.nameRange))
        }
        let parameters = definition.parameters.map(\.name)
        var dependencies: [Int32] = []
        func depend(on nameID: Int32) { if !dependencies.contains(nameID) { dependencies.append(nameID) } }
        for (written, range, isCall) in References(definition.value) {
            let at = SourceSpan(source, range)
            if isCall {
                if written == name { throw selfReference(definition, cycle: [name, name], in: source) }
                if parameters.contains(written) {
                    throw Diagnostic("'\(written)' is a parameter of \(name), not a function", at: at)
                }
                if let nameID = graph.nameID(written), let p = definitions.position(of: nameID) {
                    guard definitions[p].kind == .module else {
                        throw Diagnostic("'\(written)' is a node, not a function", at: at)
                    }
                    depend(on: nameID)
                } else if !Builtins.isFunction(written) {
                    var message = "unknown function '\(written)'"
                    message += Suggestions.didYouMean(written, among: Builtins.functions.map(\.name) + modules.keys.sorted()) ?? ""
                    throw Diagnostic(message, at: at)
                }
                continue
            }
            if parameters.contains(written) { continue }
            if let nameID = graph.nameID(written), let p = definitions.position(of: nameID) {
                if definitions[p].kind == .module {
                    throw Diagnostic("'\(written)' is a module, not a node; call it, as in \(written)(…)", at: at)
                }
                depend(on: nameID)
            } else if written == name {
                throw Diagnostic("'\(name)' is the module being defined; call it, as in \(name)(…), or not at all", at: at)
            } else if Builtins.constant(named: written) == nil {
                var message = "undefined name '\(written)'"
                message += Suggestions.didYouMean(written, among: order + parameters + Builtins.constants.map(\.name)) ?? ""
                throw Diagnostic(message, at: at)
            }
        }
        let nameID = graph.intern(name: name)
        let position = definitions.position(of: nameID)
        if let position, let cycle = cycle(from: position, through: dependencies) {
            throw selfReference(definition, cycle: cycle, in: source)
        }
        var record = Definitions.Record(nameID: nameID, kind: .module, formula: nil, dependencies: 0..<0, span: span)
        let parameterIDs = parameters.map { graph.intern(name: $0) }
        let module = Lowering.Module(nameID: nameID, name: name, parameters: parameters, body: definition.value, span: span,
                                     nameSpan: SourceSpan(source, definition.nameRange))
        guard let position else {
            try checkMemory(storedBytes + Workspace.definitionBytes, for: name, at: span)
            if let kept {
                record.dependencies = definitions.keep(dependencies: dependencies)
                record.formula = kept
            } else {
                keep(&record, formula: definition.value, dependencies: dependencies, found: [])
            }
            record.parameters = definitions.keep(dependencies: parameterIDs)
            storedBytes += Workspace.definitionBytes
            modules[name] = module
            structureChanged()
            graphOrder.append(Int32(truncatingIfNeeded: definitions.append(record, first: Int32(truncatingIfNeeded: graph.count))))
            return []
        }
        var candidate = self
        candidate.keep(&record, formula: definition.value, dependencies: dependencies, found: [])
        record.parameters = candidate.definitions.keep(dependencies: parameterIDs)
        candidate.definitions[position] = record
        candidate.modules[name] = module
        candidate.rebuild(from: self, editing: position, formula: nil, value: nil)
        let warnings = try candidate.replacing(self, for: name, at: span)
        self = candidate
        return warnings
    }

    /// Takes `candidate`'s state (an edit of `old`, just rebuilt) after checking it, returning
    /// warnings for the definitions the edit broke.
    mutating func replacing(_ old: Workspace, for name: String, at span: SourceSpan) throws(Diagnostic) -> [Diagnostic] {
        if let problem = broken[name] { throw problem }
        storedBytes = Workspace.storageBytes(graph, from: 0) + definitions.count * Workspace.definitionBytes
        try checkMemory(storedBytes, for: name, at: span)
        let newlyBroken = broken.isEmpty ? [] : order.filter { broken[$0] != nil && old.broken[$0] == nil }
        return newlyBroken.compactMap { broken in
            self.broken[broken].map {
                Diagnostic("'\(broken)' no longer evaluates after this change: \($0.message)", at: span, severity: .warning, notes: [$0])
            }
        }
    }

    /// The modules, by name, in the order they were first defined.
    public var moduleNames: [String] { order.filter { modules[$0] != nil } }
}
