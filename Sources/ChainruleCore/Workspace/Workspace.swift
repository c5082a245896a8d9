/// Everything the user has defined, the graph built from it, and the values computed so far.
///
/// Definitions are formulas, like a spreadsheet: `f = relu(A @ x)` keeps referring
/// to `A` and `x`. A new name is appended to the graph; redefining a name rebuilds
/// the graph from the definitions, in dependency order, and a definition that no
/// longer fits (a shape changed under it) is reported and left out until fixed.
public struct Workspace: Sendable {
    /// One `name = …` as the user wrote it.
    public struct Entry: Sendable {
        public var name: String
        public var kind: DefinitionKind
        /// Where the formula is in the definition's source, for definitions that refer to
        /// other nodes. Only the place is kept, not the syntax tree: the tree is parsed again
        /// when the formula is lowered again (a dependency changed) or printed.
        public var formulaRange: SourceRange?
        /// The formula, parsed again from its text.
        public var formula: Expr? {
            formulaRange.flatMap { Parser.expression(in: span.source, range: $0) }
        }
        /// A leaf's value, for `input`, `param` and definitions that refer to no node.
        public var value: Tensor?
        /// The names the formula refers to, in order of first use.
        public var dependencies: [String]
        /// The whole definition, for messages and for printing the formula.
        public var span: SourceSpan

        public var isLeaf: Bool { formulaRange == nil }
        public var nodeKind: NodeKind {
            switch kind {
            case .param: .param
            case .input: .input
            case .formula: isLeaf ? .input : .op
            }
        }
    }

    public internal(set) var entries = Definitions()
    /// Names in the order they were first defined.
    public var order: Definitions.Names { entries.names }
    public internal(set) var graph = Graph()
    /// Definitions that do not currently fit, with the reason.
    public private(set) var broken: [String: Diagnostic] = [:]
    public internal(set) var evaluation = Evaluation()
    /// Counts structural changes of the graph (not new leaf values): derivative graphs built
    /// for one version are reused until it changes.
    public private(set) var version = 0
    /// Nodes recomputed in the reverse pass instead of stored (`:remat`), and whether all are.
    public var remat: Set<NodeID> = [] { didSet { derivativeCache = nil; trainingPlan = nil } }
    public var rematAll = false { didSet { derivativeCache = nil; trainingPlan = nil } }
    /// The reverse graph last built, with what it was built for.
    var derivativeCache: (key: ReverseKey, graph: ReverseGraph)?
    /// Counts the reverse graphs built: a training plan holds ids of the one it was made for.
    var reverseBuilds = 0
    /// Counts new values given to leaves, so that a training plan knows its values are current.
    var leafEdits = 0
    /// How many times the graph was built anew (a redefinition), and leaf values changed: a
    /// result computed before either may be stale; a new definition, appended, changes neither.
    public private(set) var rebuilds = 0
    public var valueEdits: Int { leafEdits }
    /// The training step last compiled (``descend(_:params:learningRate:)``).
    var trainingPlan: TrainingPlan?
    /// Cooperative cancellation, polled during long loops.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// The most bytes the graph may take (see ``storageBytes(_:from:)``); a definition or a
    /// derivative pass past it is refused.
    public var memoryLimit = Int.max
    /// Bytes the graph's nodes, their values once computed and its definitions take (see ``storageBytes(_:from:)``).
    public internal(set) var storedBytes = 0
    /// Scratch marks for the nodes one definition refers to.
    private var referenceMarks = NodeMarks()

    public init() {}

    mutating func structureChanged() {
        version &+= 1
        derivativeCache = nil
    }

    public mutating func clear() {
        let (stop, limit) = (shouldStop, memoryLimit)
        self = Workspace()
        (shouldStop, memoryLimit) = (stop, limit)
    }

    public var names: [String] { Array(order) }

    /// The node for a defined name, or a diagnostic saying why there is none.
    public func node(named name: String, at span: SourceSpan?) throws(Diagnostic) -> NodeID {
        if let id = graph.node(named: name) { return id }
        if let problem = broken[name] {
            throw Diagnostic("'\(name)' cannot be evaluated: \(problem.message)", at: span, notes: [problem])
        }
        throw undefined(name, at: span)
    }

    func selfReference(_ definition: Definition, cycle: [String], in source: Source) -> Diagnostic {
        // A long cycle is shown by its ends (a chain of 10⁵ names would make a line of megabytes).
        let shown = cycle.count <= 12 ? cycle
            : Array(cycle.prefix(5)) + ["… \(cycle.count - 10) more …"] + Array(cycle.suffix(5))
        return Diagnostic("definition makes '\(definition.name)' depend on itself: \(shown.joined(separator: " → "))",
                          at: SourceSpan(source, definition.nameRange))
    }

    func undefined(_ name: String, at span: SourceSpan?) -> Diagnostic {
        var message = "undefined name '\(name)'"
        message += Suggestions.didYouMean(name, among: order + Builtins.constants.map(\.name)) ?? ""
        return Diagnostic(message, at: span)
    }

    /// Makes room for `count` more definitions, so that a long script's names are not
    /// hashed again each time the tables grow.
    public mutating func reserve(definitions count: Int) {
        guard count > 0 else { return }
        entries.reserveCapacity(entries.count + count)
        graph.reserveNames(count)
    }

    // MARK: Defining

    /// Adds or replaces a definition. Throws (leaving everything as it was) when the
    /// definition itself is wrong; returns warnings for other definitions it breaks.
    /// A plain `name = value` for an existing leaf keeps the leaf's kind (param or input).
    @discardableResult
    public mutating func define(_ definition: Definition, in source: Source) throws(Diagnostic) -> [Diagnostic] {
        let span = SourceSpan(source, definition.range)
        // One pass over the names the formula refers to: each is looked up once, and the
        // defined ones are collected without repeats (a set only for long formulas). The
        // nodes found are handed to the lowering, which then looks none of them up again.
        // Repeats are found by the node a name is (a mark per node, nothing hashed again);
        // a defined name without a node (a broken definition) by comparing names.
        var dependencies: [String] = []
        var resolved: [(start: Int, id: NodeID)] = []
        referenceMarks.next(covering: graph.count)
        for (name, range) in References(definition.value) {
            if let id = graph.node(named: name) {
                resolved.append((range.start, id))
                guard referenceMarks.mark(id) else { continue }
            } else if entries.contains(name) {
                if dependencies.contains(name) { continue }
            } else if name == definition.name, definition.kind == .formula {
                // `x = x + 1` with no `x` yet: a cycle, as it is when `x` exists.
                throw selfReference(definition, cycle: [name, name], in: source)
            } else {
                if Builtins.constant(named: name) == nil { throw undefined(name, at: SourceSpan(source, range)) }
                continue
            }
            dependencies.append(name)
        }
        let claim = entries.claim(definition.name)
        let old = claim.isNew ? nil : entries[claim.position]
        // A new name's reserved place is given back if the definition is refused.
        var defined = false
        defer { if claim.isNew && !defined { entries.release(definition.name) } }
        // `input` and `param` are evaluated once, now, and keep no dependencies: no cycle can form.
        if old != nil, definition.kind == .formula, let cycle = cycle(from: definition.name, through: dependencies) {
            throw selfReference(definition, cycle: cycle, in: source)
        }

        var kind = definition.kind
        if kind == .formula, dependencies.isEmpty, let old, old.isLeaf {
            // `w = 2` after `param w = -2` gives the leaf a new value; it stays a param.
            // Only `input`/`param`, or a formula, changes what a leaf is.
            kind = old.kind
        }
        var entry = Entry(name: definition.name, kind: kind, formulaRange: definition.value.range,
                          value: nil, dependencies: dependencies, span: span)
        if dependencies.isEmpty || definition.kind != .formula {
            // A leaf: evaluated once, now.
            entry.value = try evaluate(definition.value, in: source)
            entry.formulaRange = nil
            entry.dependencies = []
        }

        if let old, old.isLeaf, let value = entry.value, old.nodeKind == entry.nodeKind,
           let id = graph.node(named: definition.name), graph[id].shape == value.shape {
            // A leaf given a new value of its shape (`x = [-1, 2]`): nothing else changes shape,
            // so the graph stays and only values are recomputed.
            entries.put(entry)
            graph.setValue(value, of: id)
            evaluation.invalidateAll()
            leafEdits &+= 1
            return []
        }
        if old == nil {
            let before = graph.count
            let added: Int
            do {
                try lower(entry, formula: definition.value, resolved: resolved)
                added = Workspace.storageBytes(graph, from: before) + Workspace.definitionBytes
                try checkMemory(storedBytes + added, for: entry.name, at: span)
            } catch {
                graph.truncate(to: before)
                throw error
            }
            storedBytes += added
            entries.fill(entry)
            defined = true
            return []
        }
        var candidate = self
        candidate.entries.put(entry)
        candidate.rebuild()
        if let problem = candidate.broken[entry.name] { throw problem }
        candidate.storedBytes = Workspace.storageBytes(candidate.graph, from: 0) + candidate.order.count * Workspace.definitionBytes
        try checkMemory(candidate.storedBytes, for: entry.name, at: span)
        let newlyBroken = candidate.order.filter { candidate.broken[$0] != nil && broken[$0] == nil }
        self = candidate
        return newlyBroken.compactMap { name in
            broken[name].map {
                Diagnostic("'\(name)' no longer evaluates after this change: \($0.message)", at: span, severity: .warning, notes: [$0])
            }
        }
    }

    /// Replaces the value of a leaf (training, loading) with one of the same shape.
    public mutating func setValue(_ value: Tensor, of name: String) {
        guard var entry = entries[name], entry.isLeaf, let id = graph.node(named: name),
              graph[id].shape == value.shape else { return }
        entry.value = value
        entries.put(entry)
        graph.setValue(value, of: id)
        evaluation.invalidateAll()
        leafEdits &+= 1
    }

    /// Appends the nodes of one definition, naming its root. `parsed` is the formula's tree
    /// when the caller has it (a new definition); otherwise it is parsed again from its text.
    /// `resolved` holds nodes the formula's names were found to be, which the lowering need not look up.
    mutating func lower(_ entry: Entry, formula parsed: Expr? = nil,
                        resolved: [(start: Int, id: NodeID)] = []) throws(Diagnostic) {
        structureChanged()
        if let value = entry.value {
            let id = graph.append(.constant, EmptyCollection(), shape: value.shape, kind: entry.nodeKind,
                                  value: value, origin: entry.span)
            graph.setName(entry.name, of: id)
            return
        }
        guard entry.formulaRange != nil else { return }
        guard let formula = parsed ?? entry.formula else {
            // Never expected: the text parsed when it was defined. Refused rather than left without a node.
            throw Diagnostic("the formula of '\(entry.name)' cannot be read again from its text", at: entry.span)
        }
        // Every definition not in `broken` has its node, so the check is needed only when some are.
        for dependency in entry.dependencies where !broken.isEmpty && graph.node(named: dependency) == nil {
            let reason = broken[dependency]?.message ?? "it is not defined"
            throw Diagnostic("'\(entry.name)' depends on '\(dependency)', which cannot be evaluated (\(reason))", at: entry.span)
        }
        let before = graph.count
        // Move the graph into the lowering (no copy), and back again whatever happens.
        var lowering = Lowering(graph: Graph(), source: entry.span.source)
        lowering.resolved = resolved
        swap(&lowering.graph, &graph)
        defer { swap(&lowering.graph, &graph) }
        let root = lowering.materialize(try lowering.lower(formula), range: formula.range)
        var id = root
        if lowering.graph[root].hasName || root < before {
            // The formula is another node (`y = x`): give the name its own node.
            id = lowering.graph.append(.identity, CollectionOfOne(root), shape: lowering.graph[root].shape, kind: .op,
                                       origin: SourceSpan(entry.span.source, formula.range))
        }
        lowering.graph.setName(entry.name, of: id)
        if lowering.graph[id].isLeaf { lowering.graph.setKind(entry.nodeKind, of: id) }
    }

    /// Builds the graph anew from every definition, in dependency order.
    mutating func rebuild() {
        structureChanged()
        rebuilds &+= 1
        remat = []
        graph = Graph()
        evaluation = Evaluation()
        broken = [:]
        for name in dependencyOrder() {
            guard let entry = entries[name] else { continue }
            let before = graph.count
            do throws(Diagnostic) {
                try lower(entry)
            } catch {
                graph.truncate(to: before)
                broken[name] = error
            }
        }
    }

    /// Definitions ordered so that each comes after what it refers to; ties keep definition order.
    public func dependencyOrder() -> [String] {
        var result: [String] = []
        var state: [String: Bool] = [:]  // false: in progress, true: done
        for root in order where state[root] == nil {
            var stack: [(String, Int)] = [(root, 0)]
            state[root] = false
            while let (name, next) = stack.last {
                let dependencies = entries[name]?.dependencies ?? []
                if next < dependencies.count {
                    stack[stack.count - 1].1 += 1
                    let dependency = dependencies[next]
                    if state[dependency] == nil && entries[dependency] != nil {
                        state[dependency] = false
                        stack.append((dependency, 0))
                    }
                } else {
                    stack.removeLast()
                    state[name] = true
                    result.append(name)
                }
            }
        }
        return result
    }

    /// A path `name → … → name` if giving `name` these dependencies would close a cycle.
    func cycle(from name: String, through dependencies: [String]) -> [String]? {
        var parent: [String: String] = [:]
        var queue: [String] = []
        for dependency in dependencies where parent[dependency] == nil {
            parent[dependency] = name
            queue.append(dependency)
        }
        var head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            if current == name {
                var path = [name]
                var step = parent[name] ?? name
                while step != name {
                    path.append(step)
                    step = parent[step] ?? name
                }
                path.append(name)
                return Array(path.reversed())
            }
            for next in entries[current]?.dependencies ?? [] where parent[next] == nil {
                parent[next] = current
                queue.append(next)
            }
        }
        return nil
    }

    /// Every name an expression refers to (not function or keyword names), in source order.
    static func references(in expr: Expr) -> [(name: String, range: SourceRange)] {
        Array(References(expr))
    }

    /// The names an expression refers to, in source order, found with one explicit stack
    /// (no recursion, and no array of children made per subexpression).
    struct References: Sequence, IteratorProtocol {
        var stack: [Expr]

        init(_ expr: Expr) { stack = [expr] }

        mutating func next() -> (name: String, range: SourceRange)? {
            while let e = stack.popLast() {
                switch e.kind {
                case .name(let name):
                    return (name, e.range)
                case .number, .string:
                    break
                case .list(let items):
                    stack.append(contentsOf: items.reversed())
                case .negate(let operand), .transpose(let operand):
                    stack.append(operand)
                case .binary(_, let a, let b):
                    stack.append(b)
                    stack.append(a)
                case .chain(let first, let links):
                    for link in links.reversed() { stack.append(link.operand) }
                    stack.append(first)
                case .call(_, let arguments, let keywords):
                    for keyword in keywords.reversed() { stack.append(keyword.value) }
                    stack.append(contentsOf: arguments.reversed())
                case .index(let base, let indices):
                    for index in indices.reversed() {
                        switch index {
                        case .at(let e):
                            stack.append(e)
                        case .slice(let a, let b, let c):
                            for bound in [c, b, a] { if let bound { stack.append(bound) } }
                        }
                    }
                    stack.append(base)
                }
            }
            return nil
        }
    }
}

/// Marks on nodes that are cleared all at once: a node is marked when its stamp is the
/// current one, so starting afresh costs nothing however many nodes were marked.
struct NodeMarks: Sendable {
    private var stamps: [UInt32] = []
    private var current: UInt32 = 0

    /// Clears every mark, with room for nodes below `count`.
    mutating func next(covering count: Int) {
        if stamps.count < count { stamps += repeatElement(0, count: Swift.max(count, 2 * stamps.count) - stamps.count) }
        current &+= 1
        if current == 0 {
            for i in stamps.indices { stamps[i] = 0 }
            current = 1
        }
    }

    /// Marks node `id`; false when it was marked already.
    mutating func mark(_ id: NodeID) -> Bool {
        if stamps[id] == current { return false }
        stamps[id] = current
        return true
    }
}
