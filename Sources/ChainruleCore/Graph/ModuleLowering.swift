/// Lowering of a call of a module (`layer(x, W₁, b₁)`): its arguments are lowered where the
/// call is written, then the module's formula is lowered with each parameter standing for its
/// argument, into nodes marked with the call (``ModuleCall``). Calls nest on the walk's one
/// frame stack, as any subexpression does: nothing recurses.
extension Lowering {
    /// A module as the lowering sees it.
    struct Module: Sendable {
        let nameID: Int32
        let name: String
        let parameters: [String]
        let body: Expr
        /// The definition, for notes pointing at it.
        let span: SourceSpan
        let nameSpan: SourceSpan
    }

    /// A call being lowered: its module, the values standing for the parameters, and where the
    /// call is written (in the source of what called it).
    struct ActiveCall {
        let module: Module
        let arguments: [Value]
        let site: SourceRange
        let callerSource: Source
        /// The graph's call before this one began.
        let outer: Int32
    }

    /// The most calls open at once: a module calling another module … this deep (each in a
    /// different module, since no module reaches itself).
    static let maximumCallDepth = 1_000

    /// The module a call is of, when `name` names one.
    func module(named name: String) -> Module? { modules.isEmpty ? nil : modules[name] }

    /// The parameter `name` of the call whose formula is being lowered, if it is one.
    func argument(named name: String) -> Value? {
        guard let call = calls.last, let i = call.module.parameters.firstIndex(of: name) else { return nil }
        return call.arguments[i]
    }

    /// Starts a call of `module` (nothing lowered yet): its arguments are checked against its
    /// parameters, then lowered in order.
    mutating func startModuleCall(_ frame: inout Frame, _ module: Module, _ arguments: [Expr], _ keywords: [KeywordArgument]) throws(Diagnostic) -> Progress {
        let expr = frame.expr
        if let keyword = keywords.first {
            throw error("the module \(module.name) takes no keyword arguments; give its \(module.parameters.count) parameter\(module.parameters.count == 1 ? "" : "s") (\(module.parameters.joined(separator: ", "))) in order",
                        at: keyword.nameRange, notes: [definedHere(module)])
        }
        guard arguments.count == module.parameters.count else {
            let wanted = "\(module.parameters.count) argument\(module.parameters.count == 1 ? "" : "s") (\(module.parameters.joined(separator: ", ")))"
            let at = arguments.count > module.parameters.count ? arguments[module.parameters.count].range : expr.range
            throw error("\(module.name) takes \(wanted), got \(arguments.count)", at: at, notes: [definedHere(module)])
        }
        frame.slots = arguments
        frame.task = .module(module)
        return try advanceModuleCall(&frame, module, with: nil)
    }

    /// One step of a call of a module: the next argument, then the formula, then the result.
    mutating func advanceModuleCall(_ frame: inout Frame, _ module: Module, with value: Value?) throws(Diagnostic) -> Progress {
        if frame.next == 1, let value {
            // The formula is lowered: the call ends with its value.
            if let call = calls.popLast() {
                source = call.callerSource
                graph.endCall(restoring: call.outer)
            }
            return .done(value)
        }
        if let value { frame.operands.append((value, frame.slots[frame.operands.count]?.range ?? frame.expr.range)) }
        if frame.operands.count < frame.slots.count, let e = frame.slots[frame.operands.count] { return .lower(e) }
        guard calls.count < Lowering.maximumCallDepth else {
            throw error("calls of modules nest more than \(Lowering.maximumCallDepth) deep", at: frame.expr.focus)
        }
        if nodeBudget < .max, graph.count - startCount > nodeBudget {
            throw error("the calls of modules make more than \(nodeBudget) nodes, more than the memory limit allows; raise it with ':set memory'",
                        at: frame.expr.focus)
        }
        let arguments = frame.operands.map { operand -> NodeID in
            if case .node(let id) = operand.value { return id }
            return -1
        }
        let outer = graph.beginCall(moduleID: module.nameID, site: SourceSpan(source, frame.expr.range), arguments: arguments)
        calls.append(ActiveCall(module: module, arguments: frame.operands.map(\.value), site: frame.expr.focus,
                                callerSource: source, outer: outer))
        source = module.span.source
        frame.next = 1
        return .lower(module.body)
    }

    /// A note pointing at a module's definition.
    func definedHere(_ module: Module) -> Diagnostic {
        Diagnostic("\(module.name) is defined here, with parameters (\(module.parameters.joined(separator: ", ")))",
                   at: module.nameSpan, severity: .note)
    }

    /// An error met inside the formulas of open calls, placed at the outermost call (where the
    /// user wrote something), with a note at each module's formula where it went wrong.
    func placedAtCall(_ inner: Diagnostic) -> Diagnostic {
        guard let outermost = calls.first else { return inner }
        var notes: [Diagnostic] = []
        for k in calls.indices {
            // Where module k's formula went wrong: the call of the next module, or the error itself.
            let span = k + 1 < calls.count ? SourceSpan(calls[k + 1].callerSource, calls[k + 1].site) : inner.span
            notes.append(Diagnostic("in \(calls[k].module.name), defined here", at: span, severity: .note))
        }
        return Diagnostic("\(inner.message) (in the call of \(outermost.module.name))",
                          at: SourceSpan(outermost.callerSource, outermost.site), notes: notes + inner.notes)
    }

    /// Closes every open call (after an error), going back to the source and call outside them.
    mutating func abandonCalls() {
        guard let outermost = calls.first else { return }
        source = outermost.callerSource
        graph.endCall(restoring: outermost.outer)
        calls = []
    }
}
