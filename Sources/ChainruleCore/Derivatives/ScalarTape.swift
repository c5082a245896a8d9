/// The reverse graph of a scalar output over scalar nodes, kept for its numbers only.
///
/// The nodes are those the derivative rules emit (``Emitter`` writing to a tape), in the
/// order they emit them: the nodes of ``ReverseGraph/graph`` less the sharing of equal
/// nodes (which never changes a value), and without what only drawing, stepping or
/// differentiating again reads (roles, names, origins, shapes, a sharing table). Each node
/// is an op's index (one byte) and two input ids; a third input, which only `select` has,
/// is kept aside. Node ids go on from the forward graph's (``base``), so inputs below it are
/// forward values, read in place from the forward ``Evaluation``.
///
/// Its values are computed by the scalar kernels the evaluator runs for the same nodes
/// (``ScalarKernel/value(of:_:_:_:)``), so a gradient read from here is the reverse graph's,
/// bit for bit. Built once, it can be evaluated again (after a leaf changed) for the cost of
/// one sweep over a few bytes a node.
final class ScalarTape: @unchecked Sendable {
    /// The id of the tape's first node: the number of nodes of the forward graph.
    let base: Int
    /// For each node, its op as an index into ``ops``; index 0 is a constant, whose value is
    /// `constants[a]`.
    @exclusivity(unchecked) private(set) var opIndices: [UInt8] = []
    @exclusivity(unchecked) private(set) var a: [Int32] = []
    /// The second input, or -1.
    @exclusivity(unchecked) private(set) var b: [Int32] = []
    /// Sparse: the third input of node `i`, or -1; a node past the end has none.
    @exclusivity(unchecked) private(set) var c: [Int32] = []
    /// The distinct ops of the tape and each one's scalar kernel.
    @exclusivity(unchecked) private(set) var ops: [Op] = [.constant]
    @exclusivity(unchecked) private(set) var kernels: [ScalarKernel] = [.none]
    @exclusivity(unchecked) private(set) var constants: [Double] = []
    /// For each kernel that names one op, that op's index once it is in ``ops``.
    @exclusivity(unchecked) private var kernelIndices: [UInt8] = []
    /// Set when a rule asked for a node that is not a scalar computed from scalars by a scalar
    /// kernel: the tape is not used, and the pass is made as a graph.
    private(set) var unsupported = false

    init(base: Int, expected: Int = 0) {
        self.base = base
        opIndices.reserveCapacity(expected)
        a.reserveCapacity(expected)
        b.reserveCapacity(expected)
    }

    var count: Int { opIndices.count }

    /// Bytes the tape takes, and its values once computed.
    var bytes: Int { count * (MemoryLayout<UInt8>.size + 2 * MemoryLayout<Int32>.size + MemoryLayout<Double>.size) }

    /// Whether tape node `i` (counted from ``base``) is a constant.
    @inline(__always)
    func isConstant(_ i: Int) -> Bool { opIndices[i] == 0 }

    /// The value of tape node `i`, a constant.
    @inline(__always)
    func constant(_ i: Int) -> Double { constants[Int(a[i])] }

    /// Whether tape node `i` is a negation.
    @inline(__always)
    func isNegation(_ i: Int) -> Bool { kernels[Int(opIndices[i])] == .pointwise(.negate) }

    /// Input `k` of tape node `i`.
    func input(_ i: Int, _ k: Int) -> NodeID {
        switch k {
        case 0: Int(a[i])
        case 1: Int(b[i])
        default: i < c.count ? Int(c[i]) : -1
        }
    }

    /// The inputs of tape node `i`.
    func inputs(_ i: Int) -> [NodeID] {
        if opIndices[i] == 0 { return [] }
        return [Int(a[i]), Int(b[i]), i < c.count ? Int(c[i]) : -1].filter { $0 >= 0 }
    }

    /// Appends a constant; returns its id.
    func appendConstant(_ value: Double) -> NodeID {
        constants.append(value)
        return append(index: 0, Int32(truncatingIfNeeded: constants.count - 1), -1, -1)
    }

    /// Appends a node of no constant value that the tape cannot compute, marking the tape unsupported.
    func appendUnsupported() -> NodeID {
        unsupported = true
        return appendConstant(.nan)
    }

    /// Appends `op` of up to three inputs (each below the new node's id); returns its id.
    func append(_ op: Op, _ inputs: some RandomAccessCollection<NodeID>) -> NodeID {
        guard let index = intern(op), inputs.count >= 1, inputs.count <= 3 else { return appendUnsupported() }
        var k = inputs.startIndex
        let x0 = Int32(truncatingIfNeeded: inputs[k])
        var x1: Int32 = -1, x2: Int32 = -1
        if inputs.count > 1 { k = inputs.index(after: k); x1 = Int32(truncatingIfNeeded: inputs[k]) }
        if inputs.count > 2 { k = inputs.index(after: k); x2 = Int32(truncatingIfNeeded: inputs[k]) }
        return append(index: index, x0, x1, x2)
    }

    @inline(__always)
    private func append(index: UInt8, _ x0: Int32, _ x1: Int32, _ x2: Int32) -> NodeID {
        let i = count
        opIndices.append(index)
        a.append(x0)
        b.append(x1)
        if x2 >= 0 {
            if c.count < i { c += repeatElement(-1, count: i - c.count) }
            c.append(x2)
        }
        return base + i
    }

    /// The index of `op` in ``ops`` (added if new); nil for an op with no scalar kernel, or
    /// past 255 distinct ops.
    private func intern(_ op: Op) -> UInt8? {
        let kernel = op.scalarKernel
        if kernel == .none { return nil }
        let slot = Int(kernel.rawValue)
        if kernel.namesOneOp, slot < kernelIndices.count, kernelIndices[slot] != 0 { return kernelIndices[slot] }
        let index: UInt8
        if let found = ops.lastIndex(of: op), found > 0 {
            index = UInt8(truncatingIfNeeded: found)
        } else {
            guard ops.count <= Int(UInt8.max) else { return nil }
            index = UInt8(truncatingIfNeeded: ops.count)
            ops.append(op)
            kernels.append(kernel)
        }
        if kernel.namesOneOp {
            if kernelIndices.count <= slot { kernelIndices += repeatElement(0, count: slot + 1 - kernelIndices.count) }
            kernelIndices[slot] = index
        }
        return index
    }

    /// Computes every node's value in order, reading forward nodes' values from `forward`
    /// (which must hold every forward node the tape reads, as scalars).
    func evaluate(forward: Evaluation, shouldStop: () -> Bool = { false }) throws(EvaluationError) -> [Double] {
        let n = count, base = base
        // Read as local arrays: the loop then reads no field of the tape through its object.
        let opIndices = opIndices, a = a, b = b, c = c, ops = ops, kernels = kernels, constants = constants
        var poll = StopPoll()
        var failure: EvaluationError?
        let values = [Double](unsafeUninitializedCapacity: n) { out, initialized in
            initialized = 0
            forward.withScalars { slots, scalars in
                @inline(__always)
                func read(_ id: Int32) -> Double {
                    let id = Int(id)
                    if id >= base { return out[id &- base] }
                    precondition(id >= 0 && id < slots.count && slots[id] == .scalar,
                                 "a tape reads forward values that have been computed")
                    return scalars[id]
                }
                for i in 0..<n {
                    if i & (StopPoll.interval - 1) == 0 {
                        do throws(EvaluationError) { try poll.account(StopPoll.interval, shouldStop) } catch {
                            failure = error
                            return
                        }
                    }
                    let op = Int(opIndices[i])
                    if op == 0 {
                        out[i] = constants[Int(a[i])]
                    } else {
                        let x0 = read(a[i])
                        let x1 = b[i] >= 0 ? read(b[i]) : 0
                        let x2 = i < c.count && c[i] >= 0 ? read(c[i]) : 0
                        out[i] = kernels[op].value(of: ops[op], x0, x1, x2) ?? .nan
                    }
                    initialized = i + 1
                }
            }
        }
        if let failure { throw failure }
        return values
    }
}
