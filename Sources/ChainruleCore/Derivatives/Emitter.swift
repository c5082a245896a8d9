/// Appends the nodes that derivative rules ask for to a graph.
///
/// A missing node (`nil`) is a symbolic zero: rules pass it along and nothing is
/// emitted for it. Emitting also skips what would only clutter the derivative's
/// graph — `x·1`, `x + 0`, a `sum_to`, `broadcast_to` or `reshape` to the shape the
/// node already has — folds operations on constants, and shares equal nodes
/// (hash-consing), so higher derivatives do not grow needlessly.
///
/// An emitter made ``init(numbersOver:tape:)`` writes the same nodes, from the same rules,
/// to a ``ScalarTape`` instead: scalars only, nothing shared, for a pass that wants numbers.
struct Emitter {
    var graph: Graph
    /// Where emitted nodes go when the pass wants numbers only; nil: to `graph`.
    let tape: ScalarTape?
    /// The role given to every node emitted next.
    var role: NodeRole = .forward
    /// Nodes marked for recomputation: rules that read their value read a recomputed twin.
    var remat: Set<NodeID> {
        get { tables.remat }
        set { tables.remat = newValue }
    }
    var recomputed: [NodeID: NodeID] { tables.recomputed }

    /// The emitter's bookkeeping, in one object: rules that capture the emitter (a method
    /// passed as a function, such as `inputs.map(shape)`) then copy one reference, not each table.
    /// An emitter is never copied to be changed on its own, so the tables need no copy on write.
    private final class Tables {
        @exclusivity(unchecked) var remat: Set<NodeID> = []
        @exclusivity(unchecked) var recomputed: [NodeID: NodeID] = [:]
        @exclusivity(unchecked) var shared = ShareTable()
        @exclusivity(unchecked) var sharedLong: [LongKey: NodeID] = [:]
        @exclusivity(unchecked) var scalars: [UInt64: NodeID] = [:]
    }
    private let tables = Tables()

    /// An op (interned in the graph's own store) and up to three inputs: a key hashed
    /// without allocating. Ops of more inputs are keyed by `LongKey`.
    struct Key: Equatable {
        var op: Int32
        var count: Int32
        var a: Int, b: Int, c: Int
        /// The input the share table files the key under: one of `a`, `b`, `c`.
        var anchor = -1
    }
    fileprivate struct LongKey: Hashable {
        var op: Int32
        var inputs: [NodeID]
    }

    /// `expected`: about how many nodes will be emitted, to size the store and the table once.
    /// The graph's nodes are shared with `graph`, not copied: emitted nodes are appended after them.
    init(graph: Graph, expected: Int = 0) {
        self.graph = Graph(extending: graph)
        tape = nil
        self.graph.reserve(expected)
        tables.shared = ShareTable(expected: expected)
    }

    /// An emitter over `graph` (whose nodes it reads, and never changes) that appends to `tape`.
    init(numbersOver graph: Graph, tape: ScalarTape) {
        self.graph = graph
        self.tape = tape
    }

    /// The id the next node emitted gets.
    var count: Int { tape.map { $0.base + $0.count } ?? graph.count }

    /// A node's shape; on a tape every node is a scalar (the forward nodes a pass for numbers
    /// reads are checked to be, ``ReverseMode/readsScalarsOnly(_:output:live:)``).
    func shape(_ id: NodeID) -> [Int] {
        if tape != nil { return [] }
        return graph[id].shape
    }

    /// Whether `id` is a literal: a leaf with a value known without evaluating anything,
    /// not named and not a seed.
    @inline(__always)
    private func isLiteral(_ id: NodeID) -> Bool {
        if let tape, id >= tape.base { return tape.isConstant(id - tape.base) }
        let (s, i) = graph.locate(id)
        return s.valueSlots[i] >= 0 && s.nameID(i) < 0 && s.roleTags[i] != 4
    }

    /// The value of a node known without evaluating anything: a literal or a folded constant.
    func constantValue(_ id: NodeID) -> Tensor? {
        guard isLiteral(id) else { return nil }
        if let tape, id >= tape.base { return Tensor(tape.constant(id - tape.base)) }
        return graph[id].value
    }

    func isConstant(_ id: NodeID, equalTo value: Double) -> Bool {
        guard isLiteral(id) else { return false }
        if let tape, id >= tape.base { return tape.constant(id - tape.base) == value }
        let (s, i) = graph.locate(id)
        let slot = Int(s.valueSlots[i])
        if slot & 1 == 0 { return graph.values.scalars[slot >> 1] == value }
        return graph.values.tensors[slot >> 1].scalars.allSatisfy { $0 == value }
    }

    mutating func constant(_ value: Tensor) -> NodeID {
        if value.isScalar, let id = tables.scalars[value.scalars[0].bitPattern] { return id }
        if let tape {
            guard value.isScalar else { return tape.appendUnsupported() }
            let id = tape.appendConstant(value.scalars[0])
            tables.scalars[value.scalars[0].bitPattern] = id
            return id
        }
        let id = graph.append(.constant, EmptyCollection(), shape: value.shape, kind: .input, value: value, role: role)
        if value.isScalar { tables.scalars[value.scalars[0].bitPattern] = id }
        return id
    }

    mutating func scalar(_ value: Double) -> NodeID { constant(Tensor(value)) }

    /// Appends `op` applied to `inputs` (or finds it already there).
    mutating func emit(_ op: Op, _ inputs: [NodeID]) throws(ShapeMessage) -> NodeID {
        switch inputs.count {
        case 1: try emitShared(op, SmallInputs(inputs[0]))
        case 2: try emitShared(op, SmallInputs(inputs[0], inputs[1]))
        case 3: try emitShared(op, SmallInputs(inputs[0], inputs[1], inputs[2]))
        default: try emitShared(op, inputs)
        }
    }

    /// `op` of one input, with no array made.
    mutating func emit(_ op: Op, _ a: NodeID) throws(ShapeMessage) -> NodeID {
        try emitShared(op, SmallInputs(a))
    }

    /// `op` of two inputs, with no array made.
    mutating func emit(_ op: Op, _ a: NodeID, _ b: NodeID) throws(ShapeMessage) -> NodeID {
        try emitShared(op, SmallInputs(a, b))
    }

    /// Keys of one to three inputs are filed in the share table, others (none, or more than three) in a dictionary.
    private mutating func emitShared(_ op: Op, _ inputs: some RandomAccessCollection<NodeID>) throws(ShapeMessage) -> NodeID {
        if let tape { return try emitToTape(tape, op, inputs) }
        let opID = graph.intern(op)
        let n = inputs.count
        let short = n >= 1 && n <= 3
        var allLiteral = true
        var key = Key(op: opID, count: Int32(truncatingIfNeeded: n), a: -1, b: -1, c: -1)
        if short {
            var k = inputs.startIndex
            key.a = inputs[k]; k = inputs.index(after: k)
            if n > 1 { key.b = inputs[k]; k = inputs.index(after: k) }
            if n > 2 { key.c = inputs[k] }
            // Filed under the newest input that is not a literal: literals (a 0 or 1 that
            // every rule of a kind reads) would gather the keys of the whole pass.
            var anchor = -1
            for input in inputs where !isLiteral(input) {
                allLiteral = false
                anchor = Swift.max(anchor, input)
            }
            key.anchor = anchor >= 0 ? anchor : Swift.max(key.a, key.b, key.c)
            if let id = tables.shared.find(key, in: graph) { return id }
        } else {
            if let id = tables.sharedLong[LongKey(op: opID, inputs: Array(inputs))] { return id }
            allLiteral = inputs.allSatisfy { isLiteral($0) }
        }
        // Elementwise ops of scalars are scalars: no shapes to gather or check.
        let shape: [Int]
        if op.isElementwise && inputs.allSatisfy({ graph.isScalar($0) }) {
            shape = []
        } else {
            shape = try op.resultShape(inputs.map { graph[$0].shape })
        }
        let id: NodeID
        if allLiteral {
            id = constant(try op.forward(inputs.map { constantValue($0) ?? Tensor(0) }))
        } else {
            id = graph.append(opID: opID, inputs, shape: shape, kind: .op, role: role)
        }
        if short {
            tables.shared.insert(key, id, in: graph)
        } else {
            tables.sharedLong[LongKey(op: opID, inputs: Array(inputs))] = id
        }
        return id
    }

    /// ``emitShared(_:_:)`` onto a tape: the same shapes checked and the same constants folded,
    /// nothing shared. A node that is not a scalar of scalars marks the tape unsupported.
    private mutating func emitToTape(_ tape: ScalarTape, _ op: Op,
                                     _ inputs: some RandomAccessCollection<NodeID>) throws(ShapeMessage) -> NodeID {
        let allLiteral = inputs.allSatisfy { isLiteral($0) }
        if !op.isElementwise {
            guard try op.resultShape(inputs.map { shape($0) }).isEmpty else { return tape.appendUnsupported() }
        }
        if allLiteral { return constant(try op.forward(inputs.map { constantValue($0) ?? Tensor(0) })) }
        return tape.append(op, inputs)
    }

    /// The node whose value a rule may read for `id`: `id` itself, or for a node marked
    /// for recomputation, its twin computed again from the inputs (never shared with `id`).
    /// Iterative, so a long chain of marked nodes does not grow the stack.
    mutating func primal(_ id: NodeID) throws(ShapeMessage) -> NodeID {
        guard !tables.remat.isEmpty, tables.remat.contains(id), !graph[id].isLeaf else { return id }
        if let twin = recomputed[id] { return twin }
        var stack = [id]
        while let top = stack.last {
            if recomputed[top] != nil { stack.removeLast(); continue }
            let pending = graph[top].inputs.filter { remat.contains($0) && !graph[$0].isLeaf && recomputed[$0] == nil }
            if !pending.isEmpty { stack.append(contentsOf: pending); continue }
            let node = graph[top]
            let inputs = node.inputs.map { recomputed[$0] ?? $0 }
            let saved = role
            role = .recompute(of: top)
            tables.recomputed[top] = graph.append(node.op, inputs, shape: node.shape, kind: .op,
                                           origin: node.origin, role: role)
            role = saved
            stack.removeLast()
        }
        return recomputed[id] ?? id
    }

    // MARK: Arithmetic on possibly-zero nodes

    mutating func add(_ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let a else { return b }
        guard let b else { return a }
        if isConstant(b, equalTo: 0), Broadcast.shape(shape(a), shape(b)) == shape(a) { return a }
        if isConstant(a, equalTo: 0), Broadcast.shape(shape(a), shape(b)) == shape(b) { return b }
        return try emit(.binary(.add), a, b)
    }

    mutating func subtract(_ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let b else { return a }
        guard let a else { return try negate(b) }
        return try emit(.binary(.subtract), a, b)
    }

    mutating func multiply(_ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let a, let b else { return nil }
        if isConstant(b, equalTo: 1), Broadcast.shape(shape(a), shape(b)) == shape(a) { return a }
        if isConstant(a, equalTo: 1), Broadcast.shape(shape(a), shape(b)) == shape(b) { return b }
        return try emit(.binary(.multiply), a, b)
    }

    mutating func divide(_ a: NodeID?, _ b: NodeID) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        if isConstant(b, equalTo: 1), Broadcast.shape(shape(a), shape(b)) == shape(a) { return a }
        return try emit(.binary(.divide), a, b)
    }

    mutating func negate(_ a: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        if let tape {
            if a >= tape.base, tape.isNegation(a - tape.base) { return tape.input(a - tape.base, 0) }
        } else if !graph[a].isForward, graph[a].op == .pointwise(.negate) {
            return graph[a].inputs[0]
        }
        return try emit(.pointwise(.negate), a)
    }

    mutating func apply(_ p: Pointwise, _ x: NodeID) throws(ShapeMessage) -> NodeID {
        try emit(.pointwise(p), x)
    }

    mutating func sumTo(_ a: NodeID?, _ target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        return shape(a) == target ? a : try emit(.sumTo(target), a)
    }

    /// The adjoint of broadcasting an argument of shape `target`: a gradient contribution `a`,
    /// formed at any shape that broadcasts with `target` (the op's broadcast shape, or a smaller
    /// one where it does not vary along some axes), summed back onto `target`. Every rule that
    /// hands a gradient to a broadcasting argument ends here, so each argument's gradient has
    /// that argument's own shape (HIPS autograd's `unbroadcast`).
    mutating func unbroadcast(_ a: NodeID?, to target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        let own = shape(a)
        guard own != target else { return a }
        guard let full = Broadcast.shape(own, target) else {
            throw ShapeMessage("a gradient of shape \(describe(shape: own)) does not broadcast with its argument's shape \(describe(shape: target))")
        }
        return try sumTo(try broadcastTo(a, full), target)
    }

    mutating func broadcastTo(_ a: NodeID?, _ target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        return shape(a) == target ? a : try emit(.broadcastTo(target), a)
    }

    mutating func reshape(_ a: NodeID?, _ target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        return shape(a) == target ? a : try emit(.reshape(target), a)
    }

    /// `a` where `mask` is non-zero, else `b`; a zero branch becomes the constant 0.
    mutating func select(_ mask: NodeID, _ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        if a == nil && b == nil { return nil }
        let zero = scalar(0)
        return try emit(.select, [mask, a ?? zero, b ?? zero])
    }

    mutating func compare(_ c: Comparison, _ a: NodeID, _ b: NodeID) throws(ShapeMessage) -> NodeID {
        try emit(.compare(c), a, b)
    }

    /// A materialised zero of a shape, for ops that need every argument (stack).
    mutating func zeros(_ shape: [Int]) throws(ShapeMessage) -> NodeID {
        try emit(.broadcastTo(shape), [scalar(0)])
    }

    /// Sums over the last axis, keeping it with size 1, then repeats it back: `Σⱼ t[…, j]` at every `j`.
    mutating func sumLastAxisKeep(_ t: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let t else { return nil }
        let full = shape(t)
        guard !full.isEmpty else { return t }
        let summed = try emit(.sum(axis: full.count - 1), [t])
        let kept = try reshape(summed, Array(full.dropLast()) + [1])
        return try broadcastTo(kept, full)
    }
}

private extension Op {
    /// Ops whose result has the broadcast shape of their arguments (a scalar of scalars).
    var isElementwise: Bool {
        switch self {
        case .binary, .pointwise: true
        default: false
        }
    }
}

/// The sharing table of an ``Emitter``. Each node emitted is filed under its *anchor* (its
/// newest input that is not a literal), in a chain of the nodes with that anchor, newest
/// first. The table holds no keys: `heads[anchor]` is the newest node filed there and
/// `next` links each node to the one before, and a lookup compares the op and inputs the
/// store already holds. A rule keys what it emits by the node it just made, so the anchor
/// and the nodes compared are among the newest, still in cache, however large the graph;
/// the table costs 9 bytes a node and allocates nothing per key.
///
/// An anchor that gathers many keys (a seed, a param read by every layer) files those
/// beyond the first ``chainLimit`` in a hash table instead, so no lookup walks far; so are
/// keys whose node is not the key's own (an op on constants, folded to a constant).
/// Node ids and op ids in it are below 2³¹ (the store keeps them as Int32).
struct ShareTable {
    private static let chainLimit: UInt8 = 32
    /// `heads[id]`: the newest node anchored at node `id`, or -1.
    private var heads: [Int32] = []
    /// `lengths[id]`: how many nodes are filed under anchor `id`; ``chainLimit`` once the
    /// anchor's keys go to the hash table.
    private var lengths: [UInt8] = []
    /// `next[i]`: the node filed before the store's node `i` under the same anchor, or -1.
    private var next: [Int32] = []
    private var hashed = HashedKeys()

    init(expected: Int = 0) {
        next.reserveCapacity(expected)
    }

    /// Whether node `i` of `store` is `key`'s op of `key`'s inputs.
    @inline(__always)
    private static func matches(_ store: NodeStore, _ i: Int, _ key: Emitter.Key) -> Bool {
        guard store.opIDs[i] == key.op else { return false }
        let range = store.inputRange(i)
        guard range.count == Int(key.count) else { return false }
        let pool = store.pool, k = range.lowerBound
        switch range.count {
        case 1: return Int(pool[k]) == key.a
        case 2: return Int(pool[k]) == key.a && Int(pool[k &+ 1]) == key.b
        default: return Int(pool[k]) == key.a && Int(pool[k &+ 1]) == key.b && Int(pool[k &+ 2]) == key.c
        }
    }

    /// The node shared for `key` in `graph` (whose own store holds every node filed), if any.
    func find(_ key: Emitter.Key, in graph: Graph) -> NodeID? {
        let anchor = key.anchor
        guard anchor >= 0, anchor < heads.count else { return nil }
        let store = graph.store, base = graph.prefixCount
        var id = Int(heads[anchor])
        while id >= 0 {
            let i = id &- base
            if ShareTable.matches(store, i, key) { return id }
            id = Int(next[i])
        }
        return lengths[anchor] == ShareTable.chainLimit ? hashed.find(key) : nil
    }

    /// Files `key` → `value`; the key must not be there already (``find(_:in:)`` said nil).
    /// `value` is usually the node just appended for `key`; any other (a folded constant)
    /// is kept with its key in the hash table.
    mutating func insert(_ key: Emitter.Key, _ value: NodeID, in graph: Graph) {
        let anchor = key.anchor
        guard anchor >= 0 else { return }
        if anchor >= heads.count {
            // Filled only as far as the anchor (memory written is memory paid for in page
            // faults); the capacity doubles, so growing stays amortised.
            if anchor >= heads.capacity {
                let capacity = Swift.max(anchor + 1, 2 * heads.capacity, 1024)
                heads.reserveCapacity(capacity)
                lengths.reserveCapacity(capacity)
            }
            heads += repeatElement(-1, count: anchor + 1 - heads.count)
            lengths += repeatElement(0, count: anchor + 1 - lengths.count)
        }
        let store = graph.store, i = value - graph.prefixCount
        guard lengths[anchor] < ShareTable.chainLimit, i >= 0, i < store.count, ShareTable.matches(store, i, key) else {
            // A full chain, or a value that is not the key's own node: the hash table keeps the
            // key, and every later key of this anchor.
            lengths[anchor] = ShareTable.chainLimit
            hashed.insert(key, value)
            return
        }
        if i == next.count {
            next.append(-1)
        } else if i > next.count {
            next += repeatElement(-1, count: i + 1 - next.count)
        }
        lengths[anchor] += 1
        next[i] = heads[anchor]
        heads[anchor] = Int32(truncatingIfNeeded: value)
    }
}

/// Open addressing over one flat array of entries, hashed by a few multiplications: where
/// ``ShareTable`` files the keys of an anchor with many of them.
private struct HashedKeys {
    private struct Entry {
        var op: Int32, count: Int32
        var a: Int32, b: Int32, c: Int32
        var value: Int32
    }
    /// Empty until the first key: most emitters never overflow a chain.
    private var entries: [Entry] = []
    private var used = 0
    private var mask = -1

    @inline(__always)
    private static func hash(_ key: Emitter.Key) -> Int {
        var h = UInt64(UInt32(bitPattern: key.op)) | UInt64(UInt32(bitPattern: key.count)) << 32
        h = (h ^ UInt64(bitPattern: Int64(key.a))) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ UInt64(bitPattern: Int64(key.b))) &* 0xC2B2_AE3D_27D4_EB4F
        h = (h ^ UInt64(bitPattern: Int64(key.c))) &* 0x9E37_79B9_7F4A_7C15
        // Products carry low bits upward only: fold the high half down before masking.
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }

    @inline(__always)
    private static func matches(_ e: Entry, _ key: Emitter.Key) -> Bool {
        e.op == key.op && e.count == key.count && Int(e.a) == key.a && Int(e.b) == key.b && Int(e.c) == key.c
    }

    func find(_ key: Emitter.Key) -> NodeID? {
        guard !entries.isEmpty else { return nil }
        var i = HashedKeys.hash(key) & mask
        while true {
            let e = entries[i]
            if e.value < 0 { return nil }
            if HashedKeys.matches(e, key) { return Int(e.value) }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ key: Emitter.Key, _ value: NodeID) {
        // Grown at 70 % full: with the hash below, probes stay short, and the table small.
        if 10 * (used + 1) > 7 * entries.count { grow() }
        var i = HashedKeys.hash(key) & mask
        while entries[i].value >= 0 {
            if HashedKeys.matches(entries[i], key) { entries[i].value = Int32(truncatingIfNeeded: value); return }
            i = (i + 1) & mask
        }
        entries[i] = Entry(op: key.op, count: key.count, a: Int32(truncatingIfNeeded: key.a),
                           b: Int32(truncatingIfNeeded: key.b), c: Int32(truncatingIfNeeded: key.c),
                           value: Int32(truncatingIfNeeded: value))
        used += 1
    }

    private mutating func grow() {
        let old = entries
        let capacity = Swift.max(1024, 2 * old.count)
        entries = Array(repeating: Entry(op: 0, count: 0, a: 0, b: 0, c: 0, value: -1), count: capacity)
        mask = capacity - 1
        used = 0
        for e in old where e.value >= 0 {
            insert(Emitter.Key(op: e.op, count: e.count, a: Int(e.a), b: Int(e.b), c: Int(e.c), anchor: -1), Int(e.value))
        }
    }
}
