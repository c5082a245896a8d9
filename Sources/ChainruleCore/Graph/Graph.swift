/// A node's position in its graph. Creation order is a topological order:
/// every node's inputs have smaller ids.
public typealias NodeID = Int

/// How a node is shown and whether training may change it.
public enum NodeKind: String, Sendable, Equatable {
    /// A leaf holding data (a constant, an `input`, or a definition that refers to no node).
    case input
    /// A trainable leaf (`param`).
    case param
    /// An intermediate node computed from its inputs.
    case op
}

/// Where a node came from: the user's formulas, or a derivative rule.
public enum NodeRole: Hashable, Sendable {
    case forward
    /// Emitted by the reverse pass while pulling the gradient back through node `of`.
    case gradient(of: NodeID)
    /// Emitted by forward mode for the tangent of node `of`.
    case tangent(of: NodeID)
    /// Node `of` computed again inside the reverse graph (checkpointing) instead of stored.
    case recompute(of: NodeID)
    /// The seed of a derivative pass: ∂out/∂out, or a direction for forward mode.
    case seed
}

/// The nodes of one graph (or of the part of it appended to a shared prefix), as columns:
/// one small number per node and field, the variable-length parts pooled.
///
/// - ops are interned: a node holds the index of its op in `opTable`;
/// - inputs of every node are in one pool: node `i`'s are `pool[inputEnd[i - 1] ..< inputEnd[i]]`;
/// - shapes are interned (the scalar shape is id 0, found without hashing);
/// - names are ids of the workspace's one name table (`-1`: none), shared by the stores of
///   the graphs that extend this one; leaf values are slots into the graph's value tables;
/// - an origin is a source (a small table, usually one entry) and a range of offsets into it.
///
/// A class, so that a ``Node`` view holds one reference; ``Graph`` copies it before a
/// change when it is shared (copy on write), so graphs keep value semantics.
final class NodeStore: @unchecked Sendable {
    @exclusivity(unchecked) var opIDs: [Int32] = []
    @exclusivity(unchecked) var inputEnd: [Int32] = []
    @exclusivity(unchecked) var pool: [Int32] = []
    @exclusivity(unchecked) var shapeIDs: [Int32] = []
    @exclusivity(unchecked) var kinds: [NodeKind] = []
    /// 0 forward, 1 gradient, 2 tangent, 3 recompute, 4 seed; `roleOf` holds the node of the first three.
    @exclusivity(unchecked) var roleTags: [UInt8] = []
    @exclusivity(unchecked) var roleOf: [Int32] = []
    /// Sparse: node `i` has no name when `i` is past the end (a derivative's nodes add nothing here).
    @exclusivity(unchecked) var nameIDs: [Int32] = []
    /// `-1`: no stored value; `2k`: scalar `k` of the graph's `leafScalars`; `2k + 1`: tensor `k` of `leafTensors`.
    @exclusivity(unchecked) var valueSlots: [Int32] = []
    /// `-1`: no origin; else an index into `sources`; the range is `originStart ..< originEnd`.
    /// Sparse, as `nameIDs`: a node past their end has no origin.
    @exclusivity(unchecked) var originSources: [Int32] = []
    @exclusivity(unchecked) var originStart: [Int32] = []
    @exclusivity(unchecked) var originEnd: [Int32] = []
    /// Sparse, as `nameIDs`: the call of a module that made node `i` (an index into `calls`),
    /// -1 for a node made outside every call.
    @exclusivity(unchecked) var callIDs: [Int32] = []
    /// The calls of modules whose nodes this store holds, in the order they began.
    @exclusivity(unchecked) var calls: [ModuleCall] = []

    @exclusivity(unchecked) var opTable: [Op] = []
    /// For each op of `opTable`, its scalar kernel (``Op/scalarKernel``), so that the evaluator's
    /// loop over scalars switches on a byte instead of copying the op out of the table.
    @exclusivity(unchecked) var opKernels: [ScalarKernel] = []
    @exclusivity(unchecked) var opIndex: [Op: Int32] = [:]
    @exclusivity(unchecked) var shapeTable: [[Int]] = [[]]
    @exclusivity(unchecked) var shapeIndex: [[Int]: Int32] = [[]: 0]
    /// The names nodes' `nameIDs` index: one table for a workspace and every graph extending its graph.
    @exclusivity(unchecked) var nameTable = NameTable.empty
    @exclusivity(unchecked) var sources: [Source] = []

    init() {}

    /// The id of `name`, interned if new (the table is copied first when another store shares it).
    func intern(name: String) -> Int32 {
        if !isKnownUniquelyReferenced(&nameTable) {
            if let id = nameTable.ids[name] { return id }
            nameTable = nameTable.copy()
        }
        return nameTable.intern(name)
    }

    static let empty = NodeStore()

    var count: Int { opIDs.count }

    func copy() -> NodeStore {
        let c = NodeStore()
        c.opIDs = opIDs; c.inputEnd = inputEnd; c.pool = pool; c.shapeIDs = shapeIDs; c.kinds = kinds
        c.roleTags = roleTags; c.roleOf = roleOf; c.nameIDs = nameIDs; c.valueSlots = valueSlots
        c.originSources = originSources; c.originStart = originStart; c.originEnd = originEnd
        c.callIDs = callIDs; c.calls = calls
        c.opTable = opTable; c.opKernels = opKernels; c.opIndex = opIndex; c.kernelOpIDs = kernelOpIDs; c.shapeTable = shapeTable; c.shapeIndex = shapeIndex
        c.nameTable = nameTable; c.sources = sources
        return c
    }

    func reserve(_ extra: Int) {
        let n = count + extra
        opIDs.reserveCapacity(n); inputEnd.reserveCapacity(n); pool.reserveCapacity(pool.count + 2 * extra)
        shapeIDs.reserveCapacity(n); kinds.reserveCapacity(n); roleTags.reserveCapacity(n); roleOf.reserveCapacity(n)
        valueSlots.reserveCapacity(n)
        originSources.reserveCapacity(n); originStart.reserveCapacity(n); originEnd.reserveCapacity(n)
    }

    /// Node `i`'s name id, or -1.
    @inline(__always)
    func nameID(_ i: Int) -> Int32 { i < nameIDs.count ? nameIDs[i] : -1 }

    /// Fills the origin columns with "none" up to node `i` (exclusive).
    func padOrigins(to i: Int) {
        guard originSources.count < i else { return }
        let missing = i - originSources.count
        originSources += repeatElement(-1, count: missing)
        originStart += repeatElement(0, count: missing)
        originEnd += repeatElement(0, count: missing)
    }

    @inline(__always)
    func inputRange(_ i: Int) -> Range<Int> {
        let end = Int(inputEnd[i])
        return (i == 0 ? 0 : Int(inputEnd[i - 1]))..<end
    }

    /// The last few ops interned, tried before hashing (consecutive nodes often share an op).
    @exclusivity(unchecked) var recentOps: [(op: Op, id: Int32)] = []

    /// For each scalar kernel that belongs to one op only (``ScalarKernel/namesOneOp``), that
    /// op's id once interned: the commonest ops are found by a byte, without comparing ops.
    @exclusivity(unchecked) var kernelOpIDs: [Int32] = []

    func intern(_ op: Op) -> Int32 {
        let kernel = op.scalarKernel
        if kernel.namesOneOp, Int(kernel.rawValue) < kernelOpIDs.count {
            let id = kernelOpIDs[Int(kernel.rawValue)]
            if id >= 0 { return id }
        }
        let id = internByValue(op)
        if kernel.namesOneOp {
            let slot = Int(kernel.rawValue)
            if kernelOpIDs.count <= slot { kernelOpIDs += repeatElement(-1, count: slot + 1 - kernelOpIDs.count) }
            kernelOpIDs[slot] = id
        }
        return id
    }

    private func internByValue(_ op: Op) -> Int32 {
        for entry in recentOps where entry.op == op { return entry.id }
        let id: Int32
        if let found = opIndex[op] {
            id = found
        } else {
            id = Int32(opTable.count)
            opTable.append(op)
            opKernels.append(op.scalarKernel)
            opIndex[op] = id
        }
        if recentOps.count < 4 {
            recentOps.append((op, id))
        } else {
            recentOps[Int(id) & 3] = (op, id)
        }
        return id
    }

    @inline(__always)
    func intern(shape: [Int]) -> Int32 {
        if shape.isEmpty { return 0 }
        if let id = shapeIndex[shape] { return id }
        let id = Int32(shapeTable.count)
        shapeTable.append(shape)
        shapeIndex[shape] = id
        return id
    }

    func intern(source: Source) -> Int32 {
        if let last = sources.last, last === source { return Int32(sources.count - 1) }
        if let i = sources.lastIndex(where: { $0 === source }) { return Int32(i) }
        sources.append(source)
        return Int32(sources.count - 1)
    }

    func truncate(to n: Int) {
        let poolCount = n == 0 ? 0 : Int(inputEnd[n - 1])
        opIDs.removeSubrange(n...); inputEnd.removeSubrange(n...); pool.removeSubrange(poolCount...)
        shapeIDs.removeSubrange(n...); kinds.removeSubrange(n...); roleTags.removeSubrange(n...)
        roleOf.removeSubrange(n...); valueSlots.removeSubrange(n...)
        let named = Swift.min(n, nameIDs.count), placed = Swift.min(n, originSources.count)
        nameIDs.removeSubrange(named...)
        originSources.removeSubrange(placed...); originStart.removeSubrange(placed...); originEnd.removeSubrange(placed...)
        callIDs.removeSubrange(Swift.min(n, callIDs.count)...)
        while let last = calls.last, Int(last.first) >= n { calls.removeLast() }
    }

    /// Node `i`'s call id, or -1.
    @inline(__always)
    func callID(_ i: Int) -> Int32 { i < callIDs.count ? callIDs[i] : -1 }
}

/// One call of a module (`layer(x, W₁, b₁)`): the nodes its body made remember it, so that
/// drawings can show the call as one block and open it.
public struct ModuleCall: Sendable, Equatable {
    /// The module's name id in the workspace's name table.
    let moduleID: Int32
    /// The call this one was made in (an index into the same store's calls), -1 at the top.
    let parent: Int32
    /// The first node (in its store) made inside the call.
    let first: Int32
    /// Where the call is written.
    public let site: SourceSpan
    /// The node standing for each parameter, in order; -1 for an argument that is a number
    /// (folded into the call's nodes).
    public let arguments: [NodeID]
}

/// Names, each interned once: the one table a workspace finds definitions and nodes by. Ids
/// are never reused, so a table shared by several graphs (a graph and those extending it, a
/// workspace and the copy it tries an edit on) is copied only when one of them adds a name.
final class NameTable: @unchecked Sendable {
    @exclusivity(unchecked) var names: [String] = []
    @exclusivity(unchecked) var ids: [String: Int32] = [:]

    init() {}

    static let empty = NameTable()

    func copy() -> NameTable {
        let c = NameTable()
        c.names = names
        c.ids = ids
        return c
    }

    func reserve(_ extra: Int) {
        names.reserveCapacity(names.count + extra)
        ids.reserveCapacity(ids.count + extra)
    }

    func intern(_ name: String) -> Int32 {
        // One probe of the table whether the name is new or not.
        let next = Int32(truncatingIfNeeded: names.count)
        let id = NameTable.settle(&ids[name, default: next])
        if id == next { names.append(name) }
        return id
    }

    private static func settle(_ id: inout Int32) -> Int32 { id }
}

/// The columns of one store that the evaluator's scalar loop reads, borrowed as buffers for
/// the length of a pass (the store does not change during it): each node costs a few loads,
/// with no reference counting and no reading of the store's fields through its object.
struct ScalarColumns {
    /// The id of the store's first node in the graph.
    let base: Int
    let opIDs: UnsafeBufferPointer<Int32>
    let inputEnd: UnsafeBufferPointer<Int32>
    let pool: UnsafeBufferPointer<Int32>
    let shapeIDs: UnsafeBufferPointer<Int32>
    let valueSlots: UnsafeBufferPointer<Int32>
    let kernels: UnsafeBufferPointer<ScalarKernel>
    /// The store's table of distinct ops (what `opIDs` index, as `kernels` does).
    let ops: UnsafeBufferPointer<Op>

    @inline(__always)
    func inputRange(_ i: Int) -> Range<Int> {
        (i == 0 ? 0 : Int(inputEnd[i &- 1]))..<Int(inputEnd[i])
    }
}

extension NodeStore {
    /// Calls `body` with this store's columns, its first node being node `base` of the graph.
    func withColumns<R, E: Error>(base: Int, _ body: (ScalarColumns) throws(E) -> R) throws(E) -> R {
        try opIDs.withUnsafeBufferPointer { (opIDs) throws(E) in
            try inputEnd.withUnsafeBufferPointer { (inputEnd) throws(E) in
                try pool.withUnsafeBufferPointer { (pool) throws(E) in
                    try shapeIDs.withUnsafeBufferPointer { (shapeIDs) throws(E) in
                        try valueSlots.withUnsafeBufferPointer { (valueSlots) throws(E) in
                            try opKernels.withUnsafeBufferPointer { (kernels) throws(E) in
                                try opTable.withUnsafeBufferPointer { (ops) throws(E) in
                                    try body(ScalarColumns(base: base, opIDs: opIDs, inputEnd: inputEnd, pool: pool,
                                                           shapeIDs: shapeIDs, valueSlots: valueSlots, kernels: kernels,
                                                           ops: ops))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Graph {
    /// Calls `body` with the columns of the shared prefix's store (empty when there is none),
    /// of the graph's own store, and the leaves' scalars that their value slots index.
    func withColumns<R, E: Error>(_ body: (_ prefix: ScalarColumns, _ own: ScalarColumns,
                                           _ leafScalars: UnsafeBufferPointer<Double>) throws(E) -> R) throws(E) -> R {
        try (prefix ?? NodeStore.empty).withColumns(base: 0) { (prefixColumns) throws(E) in
            try store.withColumns(base: prefixCount) { (ownColumns) throws(E) in
                try values.scalars.withUnsafeBufferPointer { (leafScalars) throws(E) in
                    try body(prefixColumns, ownColumns, leafScalars)
                }
            }
        }
    }
}

/// The values of a graph's leaves: scalars inline in one buffer, other tensors beside them.
/// A node's value slot indexes into these.
final class LeafValues: @unchecked Sendable {
    @exclusivity(unchecked) var scalars: [Double] = []
    @exclusivity(unchecked) var tensors: [Tensor] = []

    init() {}

    static let empty = LeafValues()

    func copy() -> LeafValues {
        let c = LeafValues()
        c.scalars = scalars
        c.tensors = tensors
        return c
    }
}

/// Held by a graph and its copies (never by node views), so that a graph changes its store in
/// place exactly when no other graph shares it: views that outlive a change still read valid
/// nodes, and do not force a copy of the store on every append.
final class Ownership: Sendable {
    init() {}
    /// The ownership of every empty graph: shared, so the first change copies the empty store.
    static let shared = Ownership()
}

/// One node of a graph, read in place: a store and a position, every field read on demand
/// (reading `op` or `inputs` copies nothing else and allocates nothing).
public struct Node: Sendable {
    let store: NodeStore
    let index: Int
    let values: LeafValues

    public var op: Op { store.opTable[Int(store.opIDs[index])] }
    public var inputs: NodeInputs {
        NodeInputs(store: store, range: store.inputRange(index))
    }
    public var shape: [Int] { store.shapeTable[Int(store.shapeIDs[index])] }
    /// Whether the value is a scalar (rank 0), without touching the shape table.
    public var isScalar: Bool { store.shapeIDs[index] == 0 }
    public var kind: NodeKind { store.kinds[index] }
    /// The user's name for the node, if the node is the root of a definition.
    public var name: String? {
        let id = store.nameID(index)
        return id < 0 ? nil : store.nameTable.names[Int(id)]
    }
    public var hasName: Bool { store.nameID(index) >= 0 }
    /// A leaf's value; nil for computed nodes.
    public var value: Tensor? {
        let slot = Int(store.valueSlots[index])
        if slot < 0 { return nil }
        return slot & 1 == 0 ? Tensor(values.scalars[slot >> 1]) : values.tensors[slot >> 1]
    }
    public var hasValue: Bool { store.valueSlots[index] >= 0 }
    /// The text that made this node, for errors found while evaluating it.
    public var origin: SourceSpan? {
        guard index < store.originSources.count else { return nil }
        let s = store.originSources[index]
        if s < 0 { return nil }
        return SourceSpan(store.sources[Int(s)], SourceRange(Int(store.originStart[index]), Int(store.originEnd[index])))
    }
    /// Whether the node comes from a formula or from a derivative rule.
    public var role: NodeRole {
        let of = Int(store.roleOf[index])
        switch store.roleTags[index] {
        case 1: return .gradient(of: of)
        case 2: return .tangent(of: of)
        case 3: return .recompute(of: of)
        case 4: return .seed
        default: return .forward
        }
    }
    /// Whether the node comes from a formula (cheaper than comparing ``role``).
    var isForward: Bool { store.roleTags[index] == 0 }
    var isSeed: Bool { store.roleTags[index] == 4 }

    public var isLeaf: Bool {
        let end = store.inputEnd[index]
        return end == (index == 0 ? 0 : store.inputEnd[index - 1])
    }
}

/// A node's inputs, read in place from the graph's pool: indices from 0.
///
/// It holds the store, not a copy of the pool, so a rule that keeps a node's inputs while
/// it appends nodes does not make the pool copy itself on every append.
public struct NodeInputs: RandomAccessCollection, Equatable, Sendable, CustomStringConvertible {
    let store: NodeStore
    let range: Range<Int>

    public var startIndex: Int { 0 }
    public var endIndex: Int { range.count }
    @inline(__always)
    public subscript(position: Int) -> NodeID {
        precondition(position >= 0 && position < range.count, "input index out of range")
        return NodeID(store.pool[range.lowerBound &+ position])
    }
    public static func == (a: NodeInputs, b: NodeInputs) -> Bool { a.elementsEqual(b) }
    public static func == (a: NodeInputs, b: [NodeID]) -> Bool { a.elementsEqual(b) }
    public var description: String { Array(self).description }
}

/// Up to three node ids kept inline: the inputs of a node being made, without an array.
struct SmallInputs: RandomAccessCollection {
    var ids: (NodeID, NodeID, NodeID) = (0, 0, 0)
    var count: Int = 0

    init(_ a: NodeID) { ids.0 = a; count = 1 }
    init(_ a: NodeID, _ b: NodeID) { ids = (a, b, 0); count = 2 }
    init(_ a: NodeID, _ b: NodeID, _ c: NodeID) { ids = (a, b, c); count = 3 }

    var startIndex: Int { 0 }
    var endIndex: Int { count }
    subscript(position: Int) -> NodeID {
        switch position {
        case 0: ids.0
        case 1: ids.1
        default: ids.2
        }
    }
}

/// The computational graph: nodes in creation (topological) order.
///
/// A graph may extend another without copying it (a reverse or tangent graph over the
/// forward graph): the nodes below `prefixCount` are read from the shared `prefix`, the
/// rest from `store`. Leaf values are kept in two tables the nodes index into: scalars
/// inline in one buffer of doubles, other tensors beside them.
public struct Graph: Sendable {
    var prefix: NodeStore?
    var prefixCount = 0
    /// Every empty graph starts with the one empty store, copied on the first append, so
    /// that making a graph (a lowering makes one per definition) allocates nothing.
    var store = NodeStore.empty
    var storeOwner = Ownership.shared
    var values = LeafValues.empty
    var valuesOwner = Ownership.shared
    var leafScalars: [Double] { values.scalars }
    var leafTensors: [Tensor] { values.tensors }
    /// The node each name refers to, by the name's id in the name table (`-1`: none).
    private(set) var roots: [Int32] = []
    /// The call of a module whose body is being lowered (an index into the store's calls),
    /// -1 outside every call: the nodes appended are marked with it.
    var currentCall: Int32 = -1

    public init() {}

    /// A graph whose first nodes are `base`'s, shared rather than copied; nodes appended
    /// to it are its own. A graph that already extends another is flattened first.
    init(extending base: Graph) {
        self.init()
        if base.prefix == nil {
            prefix = base.count > 0 ? base.store : nil
            prefixCount = base.count
            values = base.values
            valuesOwner = base.valuesOwner
            roots = base.roots
            // The nodes appended have the base's names (one table for both).
            store = NodeStore()
            store.nameTable = base.store.nameTable
            storeOwner = Ownership()
        } else {
            store = NodeStore()
            store.nameTable = base.store.nameTable
            storeOwner = Ownership()
            reserve(base.count)
            for id in 0..<base.count {
                let node = base[id]
                let appended = append(node.op, node.inputs, shape: node.shape, kind: node.kind, value: node.value,
                                      origin: node.origin, role: node.role)
                if let name = node.name { setName(name, of: appended) }
            }
        }
    }

    public var count: Int { prefixCount + store.count }

    /// The store holding node `id`, and its position there.
    @inline(__always)
    func locate(_ id: NodeID) -> (store: NodeStore, index: Int) {
        if id >= prefixCount { return (store, id - prefixCount) }
        return (prefix.unsafelyUnwrapped, id)
    }

    /// A node, read in place.
    public subscript(id: NodeID) -> Node {
        let (s, i) = locate(id)
        precondition(i < s.count, "node id out of range")
        return Node(store: s, index: i, values: values)
    }

    /// The node `id` (what derivative rules read: `op`, `inputs`, `shape`, `isLeaf`).
    func view(_ id: NodeID) -> Node { self[id] }

    /// The id of node `id`'s shape in its store's table of shapes.
    @inline(__always)
    func shapeID(_ id: NodeID) -> Int32 {
        let (s, i) = locate(id)
        return s.shapeIDs[i]
    }

    /// Whether node `id`'s value is a scalar, without reading its shape.
    @inline(__always)
    func isScalar(_ id: NodeID) -> Bool {
        let (s, i) = locate(id)
        return s.shapeIDs[i] == 0
    }

    /// Makes room for `count` more nodes, so that appending them never copies the store.
    mutating func reserve(_ count: Int) {
        makeUnique()
        store.reserve(count)
    }

    public func node(named name: String) -> NodeID? {
        guard let id = store.nameTable.ids[name] else { return nil }
        return node(nameID: id)
    }

    /// The node the name of id `id` refers to.
    @inline(__always)
    func node(nameID id: Int32) -> NodeID? {
        guard id >= 0, Int(id) < roots.count else { return nil }
        let root = roots[Int(id)]
        return root < 0 ? nil : Int(root)
    }

    /// The id of `name` in the name table, if it is there.
    func nameID(_ name: String) -> Int32? { store.nameTable.ids[name] }

    /// The name of id `id`.
    func name(ofID id: Int32) -> String { store.nameTable.names[Int(id)] }

    /// The id of `name`, interned if new.
    mutating func intern(name: String) -> Int32 {
        // A name already there changes nothing (so a shared store is not copied for it).
        if let id = store.nameTable.ids[name] { return id }
        makeUnique()
        return store.intern(name: name)
    }

    /// Makes room for `count` more names.
    mutating func reserveNames(_ count: Int) {
        makeUnique()
        roots.reserveCapacity(roots.count + count)
        if !isKnownUniquelyReferenced(&store.nameTable) { store.nameTable = store.nameTable.copy() }
        store.nameTable.reserve(count)
    }

    /// The id of `op` in the graph's own store (interned there if new).
    mutating func intern(_ op: Op) -> Int32 {
        makeUnique()
        return store.intern(op)
    }

    @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storeOwner) {
            store = store.copy()
            storeOwner = Ownership()
        }
    }

    @inline(__always)
    private mutating func makeValuesUnique() {
        if !isKnownUniquelyReferenced(&valuesOwner) {
            values = values.copy()
            valuesOwner = Ownership()
        }
    }

    /// Appends a node; its inputs must already be in the graph.
    @discardableResult
    mutating func append(_ op: Op, _ inputs: some Collection<NodeID>, shape: [Int], kind: NodeKind,
                         value: Tensor? = nil, origin: SourceSpan? = nil, role: NodeRole = .forward) -> NodeID {
        makeUnique()
        return append(opID: store.intern(op), inputs, shape: shape, kind: kind, value: value, origin: origin, role: role)
    }

    /// ``append(_:_:shape:kind:value:origin:role:)`` of an op already interned in the graph's
    /// own store (``intern(_:)``).
    mutating func append(opID: Int32, _ inputs: some Collection<NodeID>, shape: [Int], kind: NodeKind,
                         value: Tensor? = nil, origin: SourceSpan? = nil, role: NodeRole = .forward) -> NodeID {
        makeUnique()
        return append(opID: opID, inputs, shapeID: store.intern(shape: shape), kind: kind, value: value, origin: origin,
                      role: role)
    }

    /// ``append(opID:_:shape:kind:value:origin:role:)`` of a shape already interned in the graph's own store.
    mutating func append(opID: Int32, _ inputs: some Collection<NodeID>, shapeID: Int32, kind: NodeKind,
                         value: Tensor? = nil, origin: SourceSpan? = nil, role: NodeRole = .forward) -> NodeID {
        let id = count
        makeUnique()
        let s = store
        for input in inputs {
            precondition(input >= 0 && input < id, "inputs must precede their consumer")
            s.pool.append(Int32(truncatingIfNeeded: input))
        }
        s.inputEnd.append(Int32(truncatingIfNeeded: s.pool.count))
        s.opIDs.append(opID)
        s.shapeIDs.append(shapeID)
        s.kinds.append(kind)
        switch role {
        case .forward: s.roleTags.append(0); s.roleOf.append(0)
        case .gradient(let of): s.roleTags.append(1); s.roleOf.append(Int32(truncatingIfNeeded: of))
        case .tangent(let of): s.roleTags.append(2); s.roleOf.append(Int32(truncatingIfNeeded: of))
        case .recompute(let of): s.roleTags.append(3); s.roleOf.append(Int32(truncatingIfNeeded: of))
        case .seed: s.roleTags.append(4); s.roleOf.append(0)
        }
        if let value {
            s.valueSlots.append(storeValue(value))
        } else {
            s.valueSlots.append(-1)
        }
        if currentCall >= 0 {
            let i = id - prefixCount
            if s.callIDs.count < i { s.callIDs += repeatElement(-1, count: i - s.callIDs.count) }
            s.callIDs.append(currentCall)
        }
        if let origin {
            s.padOrigins(to: id - prefixCount)
            s.originSources.append(s.intern(source: origin.source))
            s.originStart.append(Int32(clamping: origin.range.start))
            s.originEnd.append(Int32(clamping: origin.range.end))
        }
        return id
    }

    /// Appends a scalar constant leaf (a number written in a formula), its value stored
    /// inline with no tensor made.
    mutating func appendConstant(_ value: Double, origin: SourceSpan?) -> NodeID {
        let id = append(.constant, EmptyCollection(), shape: [], kind: .input, origin: origin)
        makeValuesUnique()
        values.scalars.append(value)
        store.valueSlots[id - prefixCount] = Int32(truncatingIfNeeded: 2 * (values.scalars.count - 1))
        return id
    }

    private mutating func storeValue(_ value: Tensor) -> Int32 {
        makeValuesUnique()
        let v = values
        if value.isScalar {
            v.scalars.append(value.scalars[0])
            return Int32(truncatingIfNeeded: 2 * (v.scalars.count - 1))
        }
        v.tensors.append(value)
        return Int32(truncatingIfNeeded: 2 * (v.tensors.count - 1) + 1)
    }

    /// Nodes are only renamed, re-kinded or given values in the graph's own part.
    private mutating func own(_ id: NodeID) -> Int {
        precondition(id >= prefixCount && id < count, "only a graph's own nodes change")
        makeUnique()
        return id - prefixCount
    }

    mutating func setName(_ name: String, of id: NodeID) {
        setName(id: intern(name: name), of: id)
    }

    /// Names node `id` by the name of id `nameID` (a node has one name).
    mutating func setName(id nameID: Int32, of id: NodeID) {
        let i = own(id)
        let s = store
        if s.nameIDs.count <= i { s.nameIDs += repeatElement(-1, count: i + 1 - s.nameIDs.count) }
        s.nameIDs[i] = nameID
        let n = Int(nameID)
        if roots.count <= n { roots += repeatElement(-1, count: Swift.max(n + 1, 2 * roots.count) - roots.count) }
        roots[n] = Int32(truncatingIfNeeded: id)
    }

    mutating func setKind(_ kind: NodeKind, of id: NodeID) {
        let i = own(id)
        store.kinds[i] = kind
    }

    /// Replaces a leaf's value with one of the same shape.
    mutating func setValue(_ value: Tensor, of id: NodeID) {
        let (s, i) = locate(id)
        let slot = Int(s.valueSlots[i])
        precondition(slot >= 0 && self[id].shape == value.shape)
        makeValuesUnique()
        if slot & 1 == 0 {
            values.scalars[slot >> 1] = value.scalars[0]
        } else {
            values.tensors[slot >> 1] = value
        }
    }

    /// Changes the elements of leaf `id`'s value in place (no copy once its storage is its own).
    mutating func updateValue(of id: NodeID, _ body: (UnsafeMutableBufferPointer<Double>) -> Void) {
        let (s, i) = locate(id)
        let slot = Int(s.valueSlots[i])
        precondition(slot >= 0, "only a leaf's value is changed")
        makeValuesUnique()
        if slot & 1 == 0 {
            values.scalars.withUnsafeMutableBufferPointer { body(UnsafeMutableBufferPointer(rebasing: $0[(slot >> 1)...(slot >> 1)])) }
        } else {
            values.tensors[slot >> 1].scalars.withUnsafeMutableBufferPointer { body($0) }
        }
    }

    /// Drops the nodes from `count` on (undoing a lowering that failed half-way).
    mutating func truncate(to count: Int) {
        if count == self.count, let last = store.calls.last, Int(last.first) >= count - prefixCount {
            // A call that made no node yet (refused half-way) is dropped too.
            makeUnique()
            store.truncate(to: count - prefixCount)
        }
        guard count < self.count else { return }
        precondition(count >= prefixCount, "only a graph's own nodes are dropped")
        makeUnique()
        let s = store
        var firstScalar = leafScalars.count, firstTensor = leafTensors.count
        for i in (count - prefixCount)..<s.count {
            let name = Int(s.nameID(i))
            if name >= 0, name < roots.count, roots[name] == Int32(truncatingIfNeeded: i + prefixCount) { roots[name] = -1 }
            let slot = Int(s.valueSlots[i])
            if slot >= 0 {
                if slot & 1 == 0 { firstScalar = min(firstScalar, slot >> 1) } else { firstTensor = min(firstTensor, slot >> 1) }
            }
        }
        s.truncate(to: count - prefixCount)
        if firstScalar < leafScalars.count || firstTensor < leafTensors.count {
            makeValuesUnique()
            values.scalars.removeSubrange(firstScalar...)
            values.tensors.removeSubrange(firstTensor...)
        }
    }

    /// The inputs of node `id`, read in place.
    @inline(__always)
    func inputs(of id: NodeID) -> NodeInputs {
        let (s, i) = locate(id)
        return NodeInputs(store: s, range: s.inputRange(i))
    }

    /// Marks every node that `target` depends on (itself included).
    public func ancestors(of target: NodeID) -> [Bool] {
        var mark = Array(repeating: false, count: target + 1)
        mark[target] = true
        for id in stride(from: target, through: 0, by: -1) where mark[id] {
            let (s, i) = locate(id)
            for k in s.inputRange(i) { mark[Int(s.pool[k])] = true }
        }
        return mark
    }

    /// The nodes after `source`, up to `last`, that depend on it, in creation order.
    public func descendants(of source: NodeID, through last: NodeID) -> [NodeID] {
        guard source < last else { return [] }
        var mark = Array(repeating: false, count: last - source + 1)
        mark[0] = true
        var result: [NodeID] = []
        for id in (source + 1)...last {
            let (s, i) = locate(id)
            if s.inputRange(i).contains(where: { k in
                let input = Int(s.pool[k])
                return input >= source && mark[input - source]
            }) {
                mark[id - source] = true
                result.append(id)
            }
        }
        return result
    }

    /// Number of consumers of each node, counting an input used twice by one node twice.
    public func fanOut() -> [Int] {
        var counts = Array(repeating: 0, count: count)
        for id in 0..<count {
            let (s, i) = locate(id)
            for k in s.inputRange(i) { counts[Int(s.pool[k])] += 1 }
        }
        return counts
    }
}

extension Graph {
    /// Appends a copy of nodes `range` of `old`, a graph this one was cut from (so that ops,
    /// shapes, names and sources are numbered alike): inputs from `cut` on are renumbered by
    /// `moved` (old id − `cut` → new id), which records the copies too. A node whose inputs
    /// all kept their values (`unchanged`) takes its value from `values` into `evaluation`.
    /// False, appending nothing, when a node reads one that was not moved.
    mutating func move(_ range: ClosedRange<NodeID>, from old: Graph, cut: Int, moved: inout [Int32],
                       unchanged: inout [Bool], values oldValues: Evaluation, into evaluation: inout Evaluation) -> Bool {
        guard old.prefix == nil, prefix == nil, range.lowerBound >= cut, range.upperBound < old.count else { return false }
        makeUnique()
        makeValuesUnique()
        let s = old.store, t = store
        // The columns are copied as they are: this store was copied from the old one, so an
        // op, shape, name or source has the same number in both.
        guard s !== t, t.opTable.count >= s.opTable.count, t.shapeTable.count >= s.shapeTable.count,
              t.sources.count >= s.sources.count else { return false }
        let start = count
        let oldScalars = old.values.scalars, oldTensors = old.values.tensors
        func fail() -> Bool {
            truncate(to: start)
            return false
        }
        for oldID in range {
            var clean = true
            for k in s.inputRange(oldID) {
                let x = Int(s.pool[k])
                if x < cut {
                    t.pool.append(Int32(truncatingIfNeeded: x))
                    continue
                }
                let m = moved[x - cut]
                guard m >= 0 else {
                    t.pool.removeSubrange(Int(t.inputEnd.last ?? 0)...)
                    return fail()
                }
                t.pool.append(m)
                clean = clean && unchanged[x - cut]
            }
            var of = s.roleOf[oldID]
            let tag = s.roleTags[oldID]
            if (1...3).contains(tag), Int(of) >= cut {
                of = moved[Int(of) - cut]
                guard of >= 0 else {
                    t.pool.removeSubrange(Int(t.inputEnd.last ?? 0)...)
                    return fail()
                }
            }
            let id = t.opIDs.count
            t.inputEnd.append(Int32(truncatingIfNeeded: t.pool.count))
            t.opIDs.append(s.opIDs[oldID])
            t.shapeIDs.append(s.shapeIDs[oldID])
            t.kinds.append(s.kinds[oldID])
            t.roleTags.append(tag)
            t.roleOf.append(of)
            let slot = Int(s.valueSlots[oldID])
            if slot < 0 {
                t.valueSlots.append(-1)
            } else if slot & 1 == 0 {
                values.scalars.append(oldScalars[slot >> 1])
                t.valueSlots.append(Int32(truncatingIfNeeded: 2 * (values.scalars.count - 1)))
            } else {
                values.tensors.append(oldTensors[slot >> 1])
                t.valueSlots.append(Int32(truncatingIfNeeded: 2 * (values.tensors.count - 1) + 1))
            }
            if oldID < s.originSources.count, s.originSources[oldID] >= 0 {
                t.padOrigins(to: id)
                t.originSources.append(s.originSources[oldID])
                t.originStart.append(s.originStart[oldID])
                t.originEnd.append(s.originEnd[oldID])
            }
            let name = s.nameID(oldID)
            if name >= 0 { setName(id: name, of: id) }
            moved[oldID - cut] = Int32(truncatingIfNeeded: id)
            unchanged[oldID - cut] = clean
            if clean { evaluation.adopt(id, from: oldValues, at: oldID) }
        }
        return true
    }
}
