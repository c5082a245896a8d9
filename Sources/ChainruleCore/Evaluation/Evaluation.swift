/// Asks `shouldStop` after every ``interval`` units of work (elements computed), so that
/// a pass over a few huge nodes and a pass over many tiny ones are both stopped promptly.
///
/// The question is passed to each ``account(_:_:)`` rather than kept, so that a pass holds
/// no escaping closure (which would be allocated on every pass).
public struct StopPoll {
    /// Elements of work between two questions; a node counts at least one.
    public static let interval = 1 << 16
    var done = 0

    public init() {}

    /// The work of computing node `id`, as its op counts it (``OpFamily/workUnits(elements:firstInput:)``):
    /// its multiply–adds for products, else its elements.
    static func units(of id: NodeID, in graph: Graph) -> Int {
        let node = graph[id]
        if node.isScalar { return 1 }
        var count = 1
        for size in node.shape { count &*= size }
        return node.op.workUnits(elements: count) { node.inputs.isEmpty ? [] : graph[node.inputs[0]].shape }
    }

    /// Counts `units` of work about to be done; throws when `shouldStop` says to stop.
    public mutating func account(_ units: Int, _ shouldStop: () -> Bool) throws(EvaluationError) {
        done += Swift.min(Swift.max(1, units), StopPoll.interval)
        guard done >= StopPoll.interval else { return }
        done = 0
        if shouldStop() { throw .interrupted }
    }
}

/// The forward pass's results: every node's value, kept so the reverse pass can reuse them.
///
/// A rank-0 value is kept as a bare `Double` (no tensor, no heap allocation), any other
/// as a ``Tensor``; ``subscript(_:)`` gives both as tensors. Scalar nodes whose inputs are
/// all scalars are computed on the numbers themselves (``Op/scalarForward(_:_:_:)``, the
/// same formulas as ``Op/forward(_:)``), so a graph of scalars never makes a tensor.
public struct Evaluation: Sendable {
    /// Where a node's value is kept.
    enum Slot: UInt8, Sendable {
        case empty, scalar, tensor
    }

    /// `slots[id]` says where node `id`'s value is, if it has one.
    private var slots: [Slot] = []
    /// Scratch marks for ``compute(_:in:shouldStop:)``'s walk; false between calls.
    private var marks: [Bool] = []
    /// The value of node `id` when `slots[id] == .scalar`.
    private var scalars: [Double] = []
    /// The value of node `id` when `slots[id] == .tensor`; nil otherwise.
    /// Kept only as long as the last node with a tensor value needs: a graph of scalars has
    /// none, so copying an evaluation (a reverse pass starts from the forward values) copies
    /// two flat buffers and no references.
    private var tensors: [Tensor?] = []
    /// Scratch space kept from pass to pass, so that a pass run again allocates nothing: the
    /// list of an op's arguments, one-element tensors that carry scalar arguments to tensor
    /// rules, and one that a tensor rule with a scalar result writes into.
    private var scratch = Scratch()
    /// How many nodes the passes over this evaluation (and the one it was copied from) have
    /// computed: what a test counts to see that a value is computed once, not again.
    public private(set) var computedNodes = 0

    struct Scratch {
        var arguments: [Tensor] = []
        var scalarArguments: [Tensor] = []
        var scalarResult: Tensor?
    }

    public init() {}

    /// The value of node `id`, or nil if it has not been computed. A scalar is made into a
    /// tensor on each read: the evaluator's own loop never reads values through here.
    public subscript(id: NodeID) -> Tensor? {
        guard id < slots.count else { return nil }
        switch slots[id] {
        case .empty: return nil
        case .scalar: return Tensor(scalars[id])
        case .tensor: return id < tensors.count ? tensors[id] : nil
        }
    }

    /// The value of node `id` when it is a scalar (nil when it is not computed or not a scalar), read with no tensor made.
    func scalar(_ id: NodeID) -> Double? {
        id < slots.count && slots[id] == .scalar ? scalars[id] : nil
    }

    /// Calls `body` with where each node's value is and the scalars, in place: what a
    /// ``ScalarTape`` reads of the forward pass, with nothing copied.
    func withScalars<R, E: Error>(_ body: (_ slots: UnsafeBufferPointer<Slot>,
                                           _ scalars: UnsafeBufferPointer<Double>) throws(E) -> R) throws(E) -> R {
        try slots.withUnsafeBufferPointer { (slots) throws(E) in
            try scalars.withUnsafeBufferPointer { (scalars) throws(E) in try body(slots, scalars) }
        }
    }

    /// Calls `body` with the elements of node `id`'s value in place (nothing when it has none).
    func withElements(of id: NodeID, _ body: (UnsafeBufferPointer<Double>) -> Void) {
        guard id < slots.count else { return }
        switch slots[id] {
        case .empty: return
        case .scalar: scalars.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[id...id])) }
        case .tensor: if id < tensors.count, let t = tensors[id] { t.scalars.withUnsafeBufferPointer(body) }
        }
    }

    /// Forgets node `id`'s value and lets go of its tensor (a leaf's, about to be changed in place).
    mutating func drop(_ id: NodeID) {
        guard id < slots.count else { return }
        slots[id] = .empty
        if id < tensors.count { tensors[id] = nil }
    }

    /// `values[id]` is the value of node `id`, or nil if it has not been computed.
    public var values: [Tensor?] { slots.indices.map { self[$0] } }

    /// Whether node `id` has a value.
    func has(_ id: NodeID) -> Bool { id < slots.count && slots[id] != .empty }

    /// Makes room for the values of a graph of `count` nodes.
    mutating func pad(to count: Int) {
        guard slots.count < count else { return }
        let extra = count - slots.count
        if extra == 1 {
            // One more node (values given one at a time): no repeated collection made.
            slots.append(.empty)
            scalars.append(0)
            return
        }
        slots += repeatElement(.empty, count: extra)
        scalars += repeatElement(0, count: extra)
    }

    /// A copy of `forward`'s values with room for the nodes of a graph of `count` nodes that
    /// extends it (a reverse pass), each buffer made once at its final size.
    init(extending forward: Evaluation, to count: Int) {
        let total = Swift.max(count, forward.slots.count)
        slots.reserveCapacity(total)
        slots += forward.slots
        slots += repeatElement(.empty, count: total - forward.slots.count)
        scalars.reserveCapacity(total)
        scalars += forward.scalars
        scalars += repeatElement(0, count: total - forward.scalars.count)
        tensors = forward.tensors
        computedNodes = forward.computedNodes
    }

    /// Puts a tensor at `id`, growing the table (geometrically) to reach it.
    private static func store(_ value: Tensor, at id: NodeID, in tensors: inout [Tensor?]) {
        if id >= tensors.count {
            // Reserving from the capacity, not the count: reserving twice the count on each
            // call reallocates on every call once the count passes half the capacity.
            if id >= tensors.capacity { tensors.reserveCapacity(Swift.max(id + 1, 2 * tensors.capacity)) }
            tensors += repeatElement(nil, count: id + 1 - tensors.count)
        }
        tensors[id] = value
    }

    /// Gives node `id` a value (a seed, set before the pass that reads it).
    mutating func set(_ id: NodeID, _ value: Tensor) {
        pad(to: id + 1)
        if value.isScalar {
            slots[id] = .scalar
            scalars[id] = value.scalars[0]
            if id < tensors.count { tensors[id] = nil }
        } else {
            slots[id] = .tensor
            Evaluation.store(value, at: id, in: &tensors)
        }
    }

    /// Gives node `id` the value node `oldID` has in `other` (a node an edit moved but did not
    /// change, whose inputs did not change either), if it has one.
    mutating func adopt(_ id: NodeID, from other: Evaluation, at oldID: NodeID) {
        guard oldID < other.slots.count else { return }
        switch other.slots[oldID] {
        case .empty:
            return
        case .scalar:
            pad(to: id + 1)
            slots[id] = .scalar
            scalars[id] = other.scalars[oldID]
        case .tensor:
            guard oldID < other.tensors.count, let t = other.tensors[oldID] else { return }
            pad(to: id + 1)
            slots[id] = .tensor
            Evaluation.store(t, at: id, in: &tensors)
        }
    }

    /// Makes room for the values of `count` nodes, so that values given one at a time
    /// (``adopt(_:from:at:)``) do not grow the tables again and again.
    mutating func reserve(_ count: Int) {
        slots.reserveCapacity(count)
        scalars.reserveCapacity(count)
    }

    /// Forgets every value from node `id` on (after the graph changed there).
    public mutating func invalidate(from id: NodeID = 0) {
        guard id < slots.count else { return }
        slots.removeSubrange(id...)
        scalars.removeSubrange(id...)
        if id < tensors.count { tensors.removeSubrange(id...) }
    }

    /// Forgets the values of `ids` but keeps each tensor's storage, which the next computation
    /// of the same node writes into when it has the same size: a pass run again (a training
    /// step) makes no new buffers for them.
    mutating func recycle(_ ids: [NodeID]) {
        for id in ids where id < slots.count { slots[id] = .empty }
    }

    /// Where node `id`'s tensor keeps its elements, if it has one (to see that a buffer is reused).
    func tensorStorage(of id: NodeID) -> UnsafePointer<Double>? {
        guard id < tensors.count, let t = tensors[id] else { return nil }
        return t.scalars.withUnsafeBufferPointer { $0.baseAddress }
    }

    /// Forgets the values of `ids` (computed again when next asked for).
    mutating func forget(_ ids: [NodeID]) {
        for id in ids where id < slots.count {
            slots[id] = .empty
            if id < tensors.count { tensors[id] = nil }
        }
    }

    /// Forgets every computed (non-leaf) value, keeping nothing stale after a leaf changed.
    public mutating func invalidateAll() {
        slots.removeAll(keepingCapacity: true)
        scalars.removeAll(keepingCapacity: true)
        tensors.removeAll(keepingCapacity: true)
    }

    /// Computes, in creation order, the value of `target` and of every node it depends on
    /// that has no value yet. Walks back from `target` with an explicit stack and stops at
    /// nodes that have values, so the work is proportional to what is missing, not to the
    /// size of the graph (a statement typed after a long script costs what it adds).
    public mutating func compute(_ target: NodeID, in graph: Graph,
                                 shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        pad(to: graph.count)
        if has(target) { return }
        // `marks` is scratch space kept between calls, all false outside this walk.
        if marks.count < graph.count { marks += repeatElement(false, count: graph.count - marks.count) }
        var missing: [NodeID] = [target]
        marks[target] = true
        var stack = [target]
        while let id = stack.popLast() {
            for input in graph[id].inputs where !has(input) && !marks[input] {
                marks[input] = true
                missing.append(input)
                stack.append(input)
            }
        }
        // In creation order: sorted when few are missing, else read off the marks in one
        // sweep (a first evaluation misses everything, and sorting a million ids costs more).
        if missing.count < (target + 1) / 16 {
            for id in missing { marks[id] = false }
            missing.sort()
        } else {
            missing.removeAll(keepingCapacity: true)
            for id in 0...target where marks[id] {
                marks[id] = false
                missing.append(id)
            }
        }
        try compute(in: graph, shouldStop: shouldStop, ids: missing)
    }

    /// The forward pass over the nodes `ids` (in creation order) that have no value yet.
    mutating func compute(in graph: Graph, shouldStop: () -> Bool, ids: [NodeID]) throws(EvaluationError) {
        try pass(in: graph, shouldStop: shouldStop, ids: ids)
    }

    /// The forward pass over the nodes `ids` (in creation order) that have no value yet.
    mutating func compute(in graph: Graph, shouldStop: () -> Bool, ids: Range<NodeID>) throws(EvaluationError) {
        try pass(in: graph, shouldStop: shouldStop, ids: ids)
    }

    /// Computes every node of the graph that has no value yet, in creation order.
    public mutating func computeAll(in graph: Graph, shouldStop: () -> Bool = { false }) throws(EvaluationError) {
        pad(to: graph.count)
        try compute(in: graph, shouldStop: shouldStop, ids: 0..<graph.count)
    }

    /// The forward pass over the nodes `ids` (in creation order) that have no value yet.
    /// Nodes are borrowed from the graph's storage, not copied, and the argument list is
    /// reused from node to node and pass to pass: this loop is the evaluator's hot path. A
    /// scalar node of scalars is computed on its inputs' numbers; every other node by its
    /// op's tensor rule. Called only through the `compute` overloads above, in this file, so
    /// that it is specialized for each kind of `ids` whatever the build.
    @inline(__always)
    private mutating func pass(in graph: Graph, shouldStop: () -> Bool,
                               ids: some Sequence<NodeID>) throws(EvaluationError) {
        // The buffers are moved out for the pass (no copy) and back after it, even when it
        // stops early, so the values computed so far are kept.
        var slots: [Slot] = [], scalars: [Double] = [], tensors: [Tensor?] = [], scratch = Scratch()
        var computed = 0
        swap(&slots, &self.slots)
        swap(&scalars, &self.scalars)
        swap(&tensors, &self.tensors)
        swap(&scratch, &self.scratch)
        defer {
            computedNodes &+= computed
            scratch.arguments.removeAll(keepingCapacity: true)
            swap(&slots, &self.slots)
            swap(&scalars, &self.scalars)
            swap(&tensors, &self.tensors)
            swap(&scratch, &self.scratch)
        }
        var poll = StopPoll()
        try slots.withUnsafeMutableBufferPointer { (slots) throws(EvaluationError) in
            try scalars.withUnsafeMutableBufferPointer { (scalars) throws(EvaluationError) in
                try graph.withColumns { (prefix, own, leafScalars) throws(EvaluationError) in
                    let split = own.base
                    for id in ids where slots[id] == .empty {
                        computed &+= 1
                        let columns = id >= split ? own : prefix
                        let i = id &- columns.base
                        if columns.shapeIDs[i] == 0 {
                            let slot = Int(columns.valueSlots[i])
                            // A scalar leaf: its number, read in place.
                            if slot >= 0, slot & 1 == 0 {
                                try poll.account(1, shouldStop)
                                slots[id] = .scalar
                                scalars[id] = leafScalars[slot >> 1]
                                continue
                            }
                            // A scalar of scalars (never a product or an einsum): one unit of work.
                            if slot < 0, let value = Evaluation.scalarForward(columns, i, slots, scalars) {
                                try poll.account(1, shouldStop)
                                slots[id] = .scalar
                                scalars[id] = value
                                continue
                            }
                        }
                        try poll.account(StopPoll.units(of: id, in: graph), shouldStop)
                        // A tensor kept from an earlier pass (``recycle(_:)``) is taken out, so that
                        // nothing else holds its storage when the op writes into it.
                        // A scalar result is written into the one-element tensor kept for that.
                        var buffer: Tensor? = nil
                        let scalarResult = columns.shapeIDs[i] == 0
                        if id < tensors.count, tensors[id] != nil {
                            swap(&buffer, &tensors[id])
                        } else if scalarResult {
                            swap(&buffer, &scratch.scalarResult)
                        }
                        let value = try Evaluation.tensorValue(of: graph[id], slots, scalars, tensors, reusing: &buffer,
                                                               scratch: &scratch, shouldStop: shouldStop)
                        if value.isScalar {
                            slots[id] = .scalar
                            scalars[id] = value.scalars[0]
                            if scalarResult && scratch.scalarResult == nil { scratch.scalarResult = value }
                        } else {
                            slots[id] = .tensor
                            Evaluation.store(value, at: id, in: &tensors)
                        }
                    }
                }
            }
        }
    }

    /// A leaf's stored value, or the node's op applied by its tensor rule to its inputs'
    /// values (scalars carried in one-element tensors). `scratch` is reused between calls.
    private static func tensorValue(of node: Node, _ slots: UnsafeMutableBufferPointer<Slot>,
                                    _ scalars: UnsafeMutableBufferPointer<Double>, _ tensors: [Tensor?],
                                    reusing buffer: inout Tensor?, scratch: inout Scratch,
                                    shouldStop: () -> Bool) throws(EvaluationError) -> Tensor {
        if let leaf = node.value { return leaf }
        // Let go of the last node's arguments first, so that the kept scalar tensors are written in place.
        scratch.arguments.removeAll(keepingCapacity: true)
        var scalarCount = 0
        for input in node.inputs {
            switch slots[input] {
            case .empty: preconditionFailure("input evaluated before its consumer")
            case .scalar:
                if scalarCount == scratch.scalarArguments.count {
                    scratch.scalarArguments.append(Tensor(scalars[input]))
                } else {
                    scratch.scalarArguments[scalarCount].scalars[0] = scalars[input]
                }
                scratch.arguments.append(scratch.scalarArguments[scalarCount])
                scalarCount += 1
            case .tensor: scratch.arguments.append(input < tensors.count ? tensors[input] ?? Tensor(0) : Tensor(0))
            }
        }
        let arguments = scratch.arguments
        // Matrix products also ask `shouldStop` between blocks of rows.
        let result: Tensor?
        do throws(ShapeMessage) {
            if var out = buffer {
                buffer = nil  // `out` now holds the storage alone
                result = try node.op.forward(arguments, into: &out, shouldStop: shouldStop) ? out : nil
            } else {
                result = try node.op.forward(arguments, shouldStop: shouldStop)
            }
        } catch {
            throw .failed(Diagnostic(error.text, at: node.origin))
        }
        guard let result else { throw .interrupted }
        return result
    }

    /// The op of node `i` of a store (read through its `columns`) on the numbers of its inputs
    /// when there are at most three, every one is a scalar and the op has a scalar rule (see
    /// ``Op/scalarForward(_:_:_:)``), else nil.
    @inline(__always)
    private static func scalarForward(_ columns: ScalarColumns, _ i: Int, _ slots: UnsafeMutableBufferPointer<Slot>,
                                      _ scalars: UnsafeMutableBufferPointer<Double>) -> Double? {
        let range = columns.inputRange(i)
        let pool = columns.pool
        var x = (0.0, 0.0, 0.0)
        switch range.count {
        case 3:
            let input = Int(pool[range.lowerBound &+ 2])
            guard slots[input] == .scalar else { return nil }
            x.2 = scalars[input]
            fallthrough
        case 2:
            let input = Int(pool[range.lowerBound &+ 1])
            guard slots[input] == .scalar else { return nil }
            x.1 = scalars[input]
            fallthrough
        case 1:
            let input = Int(pool[range.lowerBound])
            guard slots[input] == .scalar else { return nil }
            x.0 = scalars[input]
        default:
            return nil
        }
        let op = Int(columns.opIDs[i])
        return columns.kernels[op].value(of: columns.ops[op], x.0, x.1, x.2)
    }
}

public enum EvaluationError: Error, Sendable {
    case failed(Diagnostic)
    case interrupted
}
