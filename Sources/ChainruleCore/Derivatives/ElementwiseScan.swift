/// What the walks over a whole graph (``Dependence``, ``ReverseMode/liveness(_:output:wrt:)``)
/// read of its commonest nodes, elementwise ops, straight from the node store's columns:
/// no node view, input list or op is made for them.
extension Graph {
    /// For the ops of the prefix's store and of the graph's own, whether each is elementwise
    /// (``Op/pointwise(_:)`` or ``Op/binary(_:)``): every argument differentiated, read elementwise.
    var elementwiseOps: (prefix: [Bool], own: [Bool]) {
        func marks(_ store: NodeStore?) -> [Bool] {
            (store?.opTable ?? []).map { op in
                switch op {
                case .pointwise, .binary: true
                default: false
                }
            }
        }
        return (marks(prefix), marks(store))
    }

    /// The store and pool positions of node `id`'s inputs when its op is elementwise
    /// (`elementwise` from ``elementwiseOps``) or it is a leaf (no inputs), else nil.
    @inline(__always)
    func elementwiseInputs(of id: NodeID, _ elementwise: (prefix: [Bool], own: [Bool])) -> (store: NodeStore, range: Range<Int>)? {
        let (s, i) = locate(id)
        let range = s.inputRange(i)
        if range.isEmpty { return (s, range) }
        let op = Int(s.opIDs[i])
        let marks = id >= prefixCount ? elementwise.own : elementwise.prefix
        guard op < marks.count, marks[op] else { return nil }
        return (s, range)
    }

    /// ``Node/isDifferentiableLeaf`` of a leaf, from its store's columns.
    @inline(__always)
    func isDifferentiableLeaf(_ id: NodeID) -> Bool {
        let (s, i) = locate(id)
        return s.inputRange(i).isEmpty && s.nameID(i) >= 0 && s.roleTags[i] == 0
    }
}
