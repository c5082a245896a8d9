/// Everything the user has defined, the graph built from it, and the values computed so far.
///
/// Definitions are formulas, like a spreadsheet: `f = relu(A @ x)` keeps referring
/// to `A` and `x`. A new name is appended to the graph; redefining a name rebuilds
/// the graph from the definitions, in dependency order, and a definition that no
/// longer fits (a shape changed under it) is reported and left out until fixed.
/// Everything the user has defined, the graph built from it, and the values computed so far.
///
/// Definitions are formulas, like a spreadsheet: `f = relu(A @ x)` keeps referring
/// to `A` and `x`. A new name is appended to the graph. Redefining a name lowers that
/// definition again and re-evaluates what depends on it: the graph is kept up to the
/// first definition the change moves, and after it each definition's nodes are moved
/// (copied, their values kept when nothing they read changed) or, when a shape they read
/// changed, lowered again from the formula kept for them — so the graph is node for node
/// the one a fresh build in dependency order makes (``rebuiltFromFormulas()``). A
/// definition that no longer fits is reported and left out until fixed.
public struct Workspace: Sendable {
    /// Every definition, parsed once and kept (see ``entries``).
    var definitions = Definitions()
    /// The definitions with nodes, in the order of their nodes in the graph (dependency order).
    var graphOrder: [Int32] = []
    public internal(set) var graph = Graph()
    public internal(set) var evaluation = Evaluation()
    /// Counts structural changes of the graph (not new leaf values): derivative graphs built
    /// for one version are reused until it changes.
    public private(set) var version = 0
    /// Nodes marked for recomputation in the reverse pass instead of stored (`:remat`), kept by
    /// name so that they survive a rebuild; an unnamed node's mark lasts until the graph changes.
    var rematNames: Set<String> = [] { didSet { derivativeCache = nil; trainingPlan = nil } }
    var rematUnnamed: Set<NodeID> = [] { didSet { derivativeCache = nil; trainingPlan = nil } }
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
    /// How many definitions have been lowered from a formula (or leaf value), and how many had
    /// their nodes moved by an edit without lowering: what a test counts to see that an edit
    /// lowers only what it changes.
    public private(set) var loweredDefinitions = 0
    public private(set) var movedDefinitions = 0
    /// The training step last compiled (``descend(_:params:learningRate:)``).
    var trainingPlan: TrainingPlan?
    /// Cooperative cancellation, polled during long loops.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// The most bytes the graph may take (see ``storageBytes(_:from:)``); a definition or a
    /// derivative pass past it is refused.
    public var memoryLimit = Int.max
    /// Bytes the graph's nodes, their values once computed and its definitions take (see ``storageBytes(_:from:)``).
    public internal(set) var storedBytes = 0
    /// The modules, by name, as the lowering calls them (derived from the definitions).
    var modules: [String: Lowering.Module] = [:]
    /// Scratch marks for the nodes one definition refers to.
    private var referenceMarks = NodeMarks()
    /// The last few function and keyword names interned, tried before the name table.
    private var recentNames: [(name: String, id: Int32)] = []

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

    /// Nodes recomputed in the reverse pass instead of stored (`:remat`), as nodes of the current graph.
    public var remat: Set<NodeID> {
        get { rematUnnamed.union(rematNames.compactMap(graph.node(named:))) }
        set {
            var named: Set<String> = [], unnamed: Set<NodeID> = []
            for id in newValue where id < graph.count {
                if let name = graph[id].name { named.insert(name) } else { unnamed.insert(id) }
            }
            (rematNames, rematUnnamed) = (named, unnamed)
        }
    }

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
        definitions.reserveCapacity(count)
        graph.reserveNames(count)
    }

    // MARK: Defining

    /// Adds or replaces a definition. Throws (leaving everything as it was) when the
    /// definition itself is wrong; returns warnings for other definitions it breaks.
    /// A plain `name = value` for an existing leaf keeps the leaf's kind (param or input).
    @discardableResult
    public mutating func define(_ definition: Definition, in source: Source) throws(Diagnostic) -> [Diagnostic] {
        try define(definition, in: source, kept: nil)
    }

    /// ``define(_:in:)`` of a definition whose formula the grammar already wrote into the
    /// store (`kept`, used for a new name; anything else keeps the formula itself).
    @discardableResult
    /// `names` are the ids the grammar interned for the formula's names, by where each is
    /// written (in source order), so that none is looked up again.
    mutating func define(_ definition: Definition, in source: Source, kept: Range<Int32>?,
                         names: [(start: Int, nameID: Int32)] = []) throws(Diagnostic) -> [Diagnostic] {
        let span = SourceSpan(source, definition.range)
        // One pass over the names the formula refers to: each is looked up once, and the
        // defined ones are collected without repeats. The nodes found are handed to the
        // lowering, which then looks none of them up again. Repeats are found by the node a
        // name is (a mark per node, nothing hashed again); a defined name without a node (a
        // broken definition) by comparing ids.
        var dependencies: [Int32] = []
        var resolved: [(start: Int, id: NodeID)] = []
        // The ids of the names found, by where they are written, for keeping the formula.
        var found: [(start: Int, nameID: Int32)] = []
        referenceMarks.next(covering: graph.count)
        var next = 0
        if definition.kind == .module {
            return try defineModule(definition, in: source, kept: kept, names: names)
        }
        for (name, range, isCall) in References(definition.value) {
            if isCall {
                // A module called: the definition depends on it (redefining it lowers the call again).
                if let nameID = graph.nameID(name), let p = definitions.position(of: nameID), definitions[p].kind == .module {
                    if !dependencies.contains(nameID) { dependencies.append(nameID) }
                }
                continue
            }
            while next < names.count, names[next].start < range.start { next += 1 }
            let nameID = next < names.count && names[next].start == range.start ? names[next].nameID : graph.nameID(name)
            if let nameID { found.append((range.start, nameID)) }
            if let nameID, let id = graph.node(nameID: nameID) {
                resolved.append((range.start, id))
                guard referenceMarks.mark(id) else { continue }
                dependencies.append(nameID)
            } else if let nameID, definitions.position(of: nameID) != nil {
                if !dependencies.contains(nameID) { dependencies.append(nameID) }
            } else if name == definition.name, definition.kind == .formula {
                // `x = x + 1` with no `x` yet: a cycle, as it is when `x` exists.
                throw selfReference(definition, cycle: [name, name], in: source)
            } else if Builtins.constant(named: name) == nil {
                throw undefined(name, at: SourceSpan(source, range))
            }
        }
        let nameID = graph.intern(name: definition.name)
        let position = definitions.position(of: nameID)
        let old = position.map { definitions[$0] }
        // `input` and `param` are evaluated once, now, and keep no dependencies: no cycle can form.
        if let position, definition.kind == .formula, let cycle = cycle(from: position, through: dependencies) {
            throw selfReference(definition, cycle: cycle, in: source)
        }

        var kind = definition.kind
        if kind == .formula, dependencies.isEmpty, let old, old.isLeaf {
            // `w = 2` after `param w = -2` gives the leaf a new value; it stays a param.
            // Only `input`/`param`, or a formula, changes what a leaf is.
            kind = old.kind
        }
        let isLeaf = dependencies.isEmpty || definition.kind != .formula
        // A leaf: evaluated once, now.
        let value = isLeaf ? try evaluate(definition.value, in: source) : nil
        if isLeaf { dependencies = [] }
        var record = Definitions.Record(nameID: nameID, kind: kind, formula: nil, dependencies: 0..<0, span: span)

        if let position, let old, old.isLeaf, let value, old.nodeKind == record.nodeKind,
           let id = graph.node(nameID: nameID), graph[id].shape == value.shape {
            // A leaf given a new value of its shape (`x = [-1, 2]`): nothing changes shape, so
            // the graph stays and only what depends on the leaf is computed again.
            definitions[position].span = span
            definitions[position].kind = kind
            graph.setValue(value, of: id)
            forgetValues(dependingOn: id)
            leafEdits &+= 1
            return []
        }
        if old == nil {
            let before = graph.count
            let added: Int
            do {
                try lower(record, formula: isLeaf ? nil : definition.value, value: value, dependencies: dependencies,
                          resolved: resolved)
                added = Workspace.storageBytes(graph, from: before) + Workspace.definitionBytes
                try checkMemory(storedBytes + added, for: definition.name, at: span)
            } catch {
                graph.truncate(to: before)
                throw error
            }
            storedBytes += added
            if let kept, !isLeaf {
                record.dependencies = definitions.keep(dependencies: dependencies)
                record.formula = kept
            } else {
                keep(&record, formula: isLeaf ? nil : definition.value, dependencies: dependencies, found: found)
            }
            graphOrder.append(Int32(truncatingIfNeeded: definitions.append(record, first: Int32(truncatingIfNeeded: before))))
            return []
        }
        guard let position else { return [] }
        var candidate = self
        candidate.keep(&record, formula: isLeaf ? nil : definition.value, dependencies: dependencies, found: found)
        candidate.definitions[position] = record
        // (The nodes the names were found to be may move: the lowering looks them up again.)
        if old?.kind == .module { candidate.modules[definition.name] = nil }
        candidate.rebuild(from: self, editing: position, formula: isLeaf ? nil : definition.value, value: value)
        var result = candidate
        let warnings = try result.replacing(self, for: definition.name, at: span)
        self = result
        return warnings
    }

    /// Keeps a definition's formula (its compact form) and dependencies in the store.
    /// `found` holds the ids of names the formula refers to, by where each is written (in
    /// source order): those are not looked up again, nor are names just seen (a function
    /// called throughout a script).
    mutating func keep(_ record: inout Definitions.Record, formula: Expr?, dependencies: [Int32],
                               found: [(start: Int, nameID: Int32)]) {
        record.dependencies = definitions.keep(dependencies: dependencies)
        guard let formula else { return }
        // The store is taken out while the graph interns the formula's names.
        var formulas = FormulaStore()
        swap(&formulas, &definitions.formulas)
        var next = 0
        record.formula = formulas.append(formula) { name, start in
            if let start {
                // References come in source order, as `found` has them.
                while next < found.count, found[next].start < start { next += 1 }
                if next < found.count, found[next].start == start { return found[next].nameID }
            }
            for seen in recentNames where seen.name == name { return seen.id }
            let id = graph.intern(name: name)
            if recentNames.count < 4 { recentNames.append((name, id)) } else { recentNames[Int(id & 3)] = (name, id) }
            return id
        }
        swap(&formulas, &definitions.formulas)
    }

    /// Forgets the values of leaf `id` and of every node that depends on it.
    private mutating func forgetValues(dependingOn id: NodeID) {
        guard id < graph.count else { return }
        evaluation.forget([id] + graph.descendants(of: id, through: graph.count - 1))
    }

    /// Replaces the value of a leaf (training, loading) with one of the same shape.
    public mutating func setValue(_ value: Tensor, of name: String) {
        guard let position = definitions.position(of: graph.nameID(name)), definitions[position].isLeaf,
              let id = graph.node(named: name), graph[id].shape == value.shape else { return }
        graph.setValue(value, of: id)
        forgetValues(dependingOn: id)
        leafEdits &+= 1
    }

    /// Appends the nodes of one definition, naming its root: a leaf of `value`, or the
    /// lowering of `formula`. `resolved` holds nodes the formula's names were found to be,
    /// which the lowering need not look up.
    mutating func lower(_ record: Definitions.Record, formula: Expr?, value: Tensor?, dependencies: some Collection<Int32>,
                        resolved: [(start: Int, id: NodeID)] = []) throws(Diagnostic) {
        structureChanged()
        loweredDefinitions &+= 1
        // A module has no node of its own: its calls are lowered where they are written.
        if record.kind == .module { return }
        if let value {
            let id = graph.append(.constant, EmptyCollection(), shape: value.shape, kind: record.nodeKind,
                                  value: value, origin: record.span)
            graph.setName(id: record.nameID, of: id)
            return
        }
        guard let formula else {
            // Never expected: every formula is kept when it is defined.
            throw Diagnostic("the formula of '\(graph.name(ofID: record.nameID))' is missing", at: record.span)
        }
        // Every definition not broken has its node, so the check is needed only when some are.
        if !definitions.problems.isEmpty || graphOrder.count < definitions.count {
            for dependency in dependencies where graph.node(nameID: dependency) == nil && !isModule(dependency) {
                let name = graph.name(ofID: dependency)
                let reason = broken[name]?.message ?? "it is not defined"
                throw Diagnostic("'\(graph.name(ofID: record.nameID))' depends on '\(name)', which cannot be evaluated (\(reason))", at: record.span)
            }
        }
        let before = graph.count
        // Move the graph into the lowering (no copy), and back again whatever happens.
        var lowering = Lowering(graph: Graph(), source: record.span.source)
        lowering.resolved = resolved
        lowering.modules = modules
        lowering.shouldStop = shouldStop
        if !modules.isEmpty { lowering.nodeBudget = derivativeNodeBudget; lowering.startCount = before }
        swap(&lowering.graph, &graph)
        defer { swap(&lowering.graph, &graph) }
        let root = lowering.materialize(try lowering.lower(formula), range: formula.range)
        var id = root
        if lowering.graph[root].hasName || root < before {
            // The formula is another node (`y = x`): give the name its own node.
            id = lowering.graph.append(.identity, CollectionOfOne(root), shape: lowering.graph[root].shape, kind: .op,
                                       origin: SourceSpan(record.span.source, formula.range))
        }
        lowering.graph.setName(id: record.nameID, of: id)
        if lowering.graph[id].isLeaf { lowering.graph.setKind(record.nodeKind, of: id) }
    }

    /// Builds the graph again after the definition at `edited` changed (`formula` or `value` is
    /// its new form), from what `old` had: the graph is kept up to the first definition whose
    /// place or form changed, in dependency order; after it, each definition whose
    /// dependencies kept their shapes has its nodes moved from `old`'s graph (their values
    /// kept when nothing they read changed), and every other is lowered again, from its
    /// kept formula. With `moving` false every definition is lowered again (a fresh build).
    mutating func rebuild(from old: Workspace, editing edited: Int?, formula: Expr?, value: Tensor?,
                          moving: Bool = true) {
        structureChanged()
        rebuilds &+= 1
        rematUnnamed = []
        let order = definitions.dependencyOrder()
        let oldOrder = old.graphOrder
        var i = 0
        if moving {
            while i < order.count, i < oldOrder.count, order[i] == oldOrder[i], Int(order[i]) != edited { i += 1 }
        }
        let cut = i < oldOrder.count ? Int(old.definitions.first(Int(oldOrder[i]))) : old.graph.count
        graph.truncate(to: cut)
        evaluation.invalidate(from: cut)
        // Room for what follows the cut, made once (it is about what the old graph had there).
        graph.reserve(old.graph.count - cut)
        evaluation.reserve(old.graph.count)
        definitions.problems = [:]
        graphOrder = Array(oldOrder[..<i])
        // For each node of the old graph from `cut` on: its id now (-1: not moved), and whether
        // its value still holds (nothing it reads changed).
        var moved = [Int32](repeating: -1, count: old.graph.count - cut)
        var unchanged = [Bool](repeating: false, count: old.graph.count - cut)
        // Definitions whose root changed shape (or that have no node now): their dependents are lowered again.
        var reshaped = [Bool](repeating: false, count: definitions.count)
        for k in order[i...] {
            let position = Int(k)
            let record = definitions[position]
            let oldFirst = position < old.definitions.count ? old.definitions.first(position) : -1
            let before = graph.count
            var done = false
            // A definition calling a module is lowered again: its nodes are marked with their calls.
            if moving, position != edited, oldFirst >= 0,
               let oldRoot = old.graph.node(nameID: record.nameID),
               !definitions.dependencies(of: position).contains(where: {
                   definitions.position(of: $0).map { reshaped[$0] || definitions[$0].kind == .module } ?? true
               }) {
                done = graph.move(Int(oldFirst)...oldRoot, from: old.graph, cut: cut, moved: &moved,
                                  unchanged: &unchanged, values: old.evaluation, into: &evaluation)
                if done { movedDefinitions &+= 1 }
            }
            if !done {
                let tree = position == edited ? formula : record.formula.flatMap {
                    definitions.formulas.expression($0, names: graph.name(ofID:))
                }
                let leaf = position == edited ? value : record.isLeaf ? old.leafValue(record.nameID) : nil
                do throws(Diagnostic) {
                    try lower(record, formula: tree, value: leaf, dependencies: definitions.dependencies(of: position))
                    done = true
                } catch {
                    graph.truncate(to: before)
                    definitions.problems[k] = error
                }
            }
            definitions.setFirst(done ? Int32(truncatingIfNeeded: before) : -1, of: position)
            if done { graphOrder.append(k) }
            if record.kind == .module {
                // What calls a module is lowered again when the module, or what it reads, changed.
                reshaped[position] = position == edited || !done || definitions.dependencies(of: position).contains {
                    definitions.position(of: $0).map { reshaped[$0] } ?? true
                }
                continue
            }
            // Shapes compared by id: this graph's shapes are numbered as the old one's, new ones after.
            guard let now = graph.node(nameID: record.nameID), let then = old.graph.node(nameID: record.nameID),
                  old.graph.shapeID(then) == graph.shapeID(now) else {
                reshaped[position] = true
                continue
            }
            // A definition lowered again keeps its shape: what reads its root moves with it.
            if then >= cut, moved[then - cut] < 0 { moved[then - cut] = Int32(truncatingIfNeeded: now) }
        }
    }

    /// The workspace as a fresh build makes it: every definition lowered again from its kept
    /// form, in dependency order (what an edit's result must equal node for node).
    public func rebuiltFromFormulas() -> Workspace {
        var fresh = self
        fresh.graph.truncate(to: 0)
        fresh.evaluation = Evaluation()
        fresh.graphOrder = []
        fresh.rebuild(from: self, editing: nil, formula: nil, value: nil, moving: false)
        return fresh
    }

    /// Whether the name of id `nameID` is a module's.
    func isModule(_ nameID: Int32) -> Bool {
        definitions.position(of: nameID).map { definitions[$0].kind == .module } ?? false
    }

    /// The value of the leaf named by id `nameID`, from the graph.
    func leafValue(_ nameID: Int32) -> Tensor? {
        graph.node(nameID: nameID).flatMap { graph[$0].value }
    }

    /// Definitions ordered so that each comes after what it refers to; ties keep definition order.
    public func dependencyOrder() -> [String] {
        definitions.dependencyOrder().map { graph.name(ofID: definitions[Int($0)].nameID) }
    }

    /// A path `name → … → name` if giving the definition at `position` these dependencies
    /// would close a cycle.
    func cycle(from position: Int, through dependencies: [Int32]) -> [String]? {
        // Breadth first over definitions (by position); `parent[p]` is where p was reached from.
        let unseen = Int32(-2), start = Int32(-1)
        var parent = [Int32](repeating: unseen, count: definitions.count)
        var queue: [Int32] = []
        func reach(_ nameID: Int32, from: Int32) {
            guard let p = definitions.position(of: nameID), parent[p] == unseen else { return }
            parent[p] = from
            queue.append(Int32(truncatingIfNeeded: p))
        }
        for dependency in dependencies { reach(dependency, from: start) }
        var head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            if Int(current) == position {
                var path = [position]
                var step = parent[position]
                while step >= 0 {
                    path.append(Int(step))
                    step = parent[Int(step)]
                }
                path.append(position)
                return path.reversed().map { graph.name(ofID: definitions[$0].nameID) }
            }
            for next in definitions.dependencies(of: Int(current)) { reach(next, from: current) }
        }
        return nil
    }

    /// Every name an expression refers to (not function or keyword names), in source order.
    static func references(in expr: Expr) -> [(name: String, range: SourceRange)] {
        References(expr).compactMap { $0.isCall ? nil : ($0.name, $0.range) }
    }

    /// The names an expression refers to, and the names of the functions it calls, in source
    /// order, found with one explicit stack (no recursion, and no array of children made per
    /// subexpression). A call's name comes before its arguments.
    struct References: Sequence, IteratorProtocol {
        var stack: [Expr]
        /// A call whose name is yet to be given, before its arguments are visited.
        var pendingCall: Expr?

        init(_ expr: Expr) { stack = [expr] }

        mutating func next() -> (name: String, range: SourceRange, isCall: Bool)? {
            while let e = stack.popLast() {
                switch e.kind {
                case .name(let name):
                    return (name, e.range, false)
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
                case .call(let name, let arguments, let keywords):
                    // A flag (`uniform=true`) names no node.
                    for keyword in keywords.reversed() where !Lowering.isFlag(keyword) { stack.append(keyword.value) }
                    stack.append(contentsOf: arguments.reversed())
                    return (name, e.focus, true)
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
