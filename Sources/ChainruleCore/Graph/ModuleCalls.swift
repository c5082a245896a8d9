/// The calls of modules that made a graph's nodes: each node made while a module's body was
/// lowered remembers the call (``ModuleCall``), and calls nest as the modules calling them do.
extension Graph {
    /// Begins a call of the module of name id `moduleID` written at `site`: the nodes appended
    /// until ``endCall(restoring:)`` are marked with it; `arguments` are the nodes standing for
    /// its parameters (-1 for a number). Returns what to restore.
    mutating func beginCall(moduleID: Int32, site: SourceSpan, arguments: [NodeID]) -> Int32 {
        let outer = currentCall
        let first = Int32(truncatingIfNeeded: count - prefixCount)
        makeUnique()
        store.calls.append(ModuleCall(moduleID: moduleID, parent: outer, first: first, site: site, arguments: arguments))
        currentCall = Int32(truncatingIfNeeded: store.calls.count - 1)
        return outer
    }

    /// Ends the call begun last, going back to `outer`.
    mutating func endCall(restoring outer: Int32) {
        currentCall = outer
    }

    /// The calls node `id` was made in, outermost first (empty for a node made outside every
    /// call), each with a key unique within the graph.
    public func callPath(of id: NodeID) -> [(key: Int, call: ModuleCall)] {
        let (s, i) = locate(id)
        let offset = s === store ? (prefix?.calls.count ?? 0) : 0
        var result: [(key: Int, call: ModuleCall)] = []
        var c = s.callID(i)
        while c >= 0, Int(c) < s.calls.count {
            result.append((Int(c) + offset, s.calls[Int(c)]))
            c = s.calls[Int(c)].parent
        }
        return result.reversed()
    }

    /// The calls node `id` was made in, outermost first.
    public func calls(of id: NodeID) -> [ModuleCall] { callPath(of: id).map(\.call) }

    /// The key of the outermost call node `id` was made in (nil outside every call).
    public func outermostCall(of id: NodeID) -> Int? { callPath(of: id).first?.key }

    /// The name of the module a call is of.
    public func moduleName(of call: ModuleCall) -> String { name(ofID: call.moduleID) }

    /// Every call of a module that made nodes of the graph, in the order they began.
    public var allCalls: [ModuleCall] { (prefix?.calls ?? []) + store.calls }

    /// Whether any node of the graph was made in a call of a module.
    public var hasCalls: Bool { !store.calls.isEmpty || !(prefix?.calls.isEmpty ?? true) }
}

extension Graph {
    /// Gives node `id`, the last one appended, another role.
    mutating func setRole(_ role: NodeRole, of id: NodeID) {
        guard id == count - 1, id >= prefixCount else { return }
        makeUnique()
        let i = id - prefixCount
        switch role {
        case .forward: store.roleTags[i] = 0; store.roleOf[i] = 0
        case .gradient(let of): store.roleTags[i] = 1; store.roleOf[i] = Int32(truncatingIfNeeded: of)
        case .tangent(let of): store.roleTags[i] = 2; store.roleOf[i] = Int32(truncatingIfNeeded: of)
        case .recompute(let of): store.roleTags[i] = 3; store.roleOf[i] = Int32(truncatingIfNeeded: of)
        case .seed: store.roleTags[i] = 4; store.roleOf[i] = 0
        }
    }
}
