/// Appends the nodes that derivative rules ask for to a graph.
///
/// A missing node (`nil`) is a symbolic zero: rules pass it along and nothing is
/// emitted for it. Emitting also skips what would only clutter the derivative's
/// graph — `x·1`, `x + 0`, a `sum_to`, `broadcast_to` or `reshape` to the shape the
/// node already has — folds operations on constants, and shares equal nodes
/// (hash-consing), so higher derivatives do not grow needlessly.
struct Emitter {
    var graph: Graph
    /// The role given to every node emitted next.
    var role: NodeRole = .forward
    /// Nodes marked for recomputation: rules that read their value read a recomputed twin.
    var remat: Set<NodeID> = []
    private(set) var recomputed: [NodeID: NodeID] = [:]

    private struct Key: Hashable {
        var op: Op
        var inputs: [NodeID]
    }
    private var shared: [Key: NodeID] = [:]
    private var scalars: [UInt64: NodeID] = [:]

    /// `expected`: about how many nodes will be emitted, to size the store and the table once.
    init(graph: Graph, expected: Int = 0) {
        self.graph = graph
        self.graph.reserve(expected)
        shared.reserveCapacity(expected)
    }

    func shape(_ id: NodeID) -> [Int] { graph[id].shape }

    /// The value of a node known without evaluating anything: a literal or a folded constant.
    func constantValue(_ id: NodeID) -> Tensor? {
        guard graph[id].op == .constant, graph[id].name == nil, graph[id].role != .seed else { return nil }
        return graph[id].value
    }

    func isConstant(_ id: NodeID, equalTo value: Double) -> Bool {
        guard let t = constantValue(id) else { return false }
        return t.scalars.allSatisfy { $0 == value }
    }

    mutating func constant(_ value: Tensor) -> NodeID {
        if value.isScalar, let id = scalars[value.scalars[0].bitPattern] { return id }
        let id = graph.append(Node(op: .constant, inputs: [], shape: value.shape, kind: .input, value: value, role: role))
        if value.isScalar { scalars[value.scalars[0].bitPattern] = id }
        return id
    }

    mutating func scalar(_ value: Double) -> NodeID { constant(Tensor(value)) }

    /// Appends `op` applied to `inputs` (or finds it already there).
    mutating func emit(_ op: Op, _ inputs: [NodeID]) throws(ShapeMessage) -> NodeID {
        let key = Key(op: op, inputs: inputs)
        if let id = shared[key] { return id }
        let shape = try op.resultShape(inputs.map { graph[$0].shape })
        let id: NodeID
        if inputs.allSatisfy({ constantValue($0) != nil }) {
            id = constant(try op.forward(inputs.map { constantValue($0) ?? Tensor(0) }))
        } else {
            id = graph.append(Node(op: op, inputs: inputs, shape: shape, kind: .op, role: role))
        }
        shared[key] = id
        return id
    }

    /// The node whose value a rule may read for `id`: `id` itself, or for a node marked
    /// for recomputation, its twin computed again from the inputs (never shared with `id`).
    /// Iterative, so a long chain of marked nodes does not grow the stack.
    mutating func primal(_ id: NodeID) throws(ShapeMessage) -> NodeID {
        guard remat.contains(id), !graph[id].isLeaf else { return id }
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
            recomputed[top] = graph.append(Node(op: node.op, inputs: inputs, shape: node.shape, kind: .op,
                                                origin: node.origin, role: role))
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
        return try emit(.binary(.add), [a, b])
    }

    mutating func subtract(_ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let b else { return a }
        guard let a else { return try negate(b) }
        return try emit(.binary(.subtract), [a, b])
    }

    mutating func multiply(_ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let a, let b else { return nil }
        if isConstant(b, equalTo: 1), Broadcast.shape(shape(a), shape(b)) == shape(a) { return a }
        if isConstant(a, equalTo: 1), Broadcast.shape(shape(a), shape(b)) == shape(b) { return b }
        return try emit(.binary(.multiply), [a, b])
    }

    mutating func divide(_ a: NodeID?, _ b: NodeID) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        if isConstant(b, equalTo: 1), Broadcast.shape(shape(a), shape(b)) == shape(a) { return a }
        return try emit(.binary(.divide), [a, b])
    }

    mutating func negate(_ a: NodeID?) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        if graph[a].op == .pointwise(.negate), graph[a].role != .forward { return graph[a].inputs[0] }
        return try emit(.pointwise(.negate), [a])
    }

    mutating func apply(_ p: Pointwise, _ x: NodeID) throws(ShapeMessage) -> NodeID {
        try emit(.pointwise(p), [x])
    }

    mutating func sumTo(_ a: NodeID?, _ target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        return shape(a) == target ? a : try emit(.sumTo(target), [a])
    }

    mutating func broadcastTo(_ a: NodeID?, _ target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        return shape(a) == target ? a : try emit(.broadcastTo(target), [a])
    }

    mutating func reshape(_ a: NodeID?, _ target: [Int]) throws(ShapeMessage) -> NodeID? {
        guard let a else { return nil }
        return shape(a) == target ? a : try emit(.reshape(target), [a])
    }

    /// `a` where `mask` is non-zero, else `b`; a zero branch becomes the constant 0.
    mutating func select(_ mask: NodeID, _ a: NodeID?, _ b: NodeID?) throws(ShapeMessage) -> NodeID? {
        if a == nil && b == nil { return nil }
        let zero = scalar(0)
        return try emit(.select, [mask, a ?? zero, b ?? zero])
    }

    mutating func compare(_ c: Comparison, _ a: NodeID, _ b: NodeID) throws(ShapeMessage) -> NodeID {
        try emit(.compare(c), [a, b])
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
