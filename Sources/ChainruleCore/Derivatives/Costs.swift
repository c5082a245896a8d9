/// What each op costs is stated by its family (``Op/flops(_:result:)``); here, the
/// ledger of a reverse graph: per forward node, stored bytes and FLOPs on each side.
extension Graph {
    /// The op's FLOPs for node `id`.
    public func flops(of id: NodeID) -> Int {
        let node = self[id]
        return node.op.flops(node.inputs.map { self[$0].shape }, result: node.shape)
    }

    /// Bytes of a node's value.
    public func bytes(of id: NodeID) -> Int { 8 * self[id].shape.reduce(1, *) }
}

/// The cost ledger of a reverse graph: per forward node, what the backward pass needs
/// stored and the FLOPs spent on each side.
public struct CostLedger: Sendable {
    public struct Row: Sendable {
        public var node: NodeID
        /// Bytes of this node's value kept for the backward pass (0 when nothing reads it there).
        public var stored: Int
        public var forwardFlops: Int
        /// FLOPs of the gradient nodes this node's rule emitted, and of its recomputation.
        public var backwardFlops: Int
        public var recomputed: Bool
    }

    public var rows: [Row]
    /// Bytes of intermediate values the backward pass reads (leaves are kept anyway).
    public var storedBytes: Int { rows.reduce(0) { $0 + $1.stored } }
    public var forwardFlops: Int { rows.reduce(0) { $0 + $1.forwardFlops } }
    public var backwardFlops: Int { rows.reduce(0) { $0 + $1.backwardFlops } }

    /// The ledger of `reverse`, over the forward nodes its output depends on.
    public init(_ reverse: ReverseGraph) {
        let graph = reverse.graph
        let needed = graph.ancestors(of: reverse.output)
        var stored = Array(repeating: 0, count: reverse.base)
        for id in reverse.residuals where !graph[id].isLeaf { stored[id] = graph.bytes(of: id) }
        var backward = Array(repeating: 0, count: reverse.base)
        var recomputed = Array(repeating: false, count: reverse.base)
        for id in reverse.base..<graph.count {
            guard let owner = reverse.owner(of: id), owner < reverse.base else { continue }
            backward[owner] += graph.flops(of: id)
            if case .recompute = graph[id].role { recomputed[owner] = true }
        }
        rows = (0..<reverse.base).filter { needed.indices.contains($0) && needed[$0] }.map { id in
            Row(node: id, stored: stored[id], forwardFlops: graph.flops(of: id), backwardFlops: backward[id],
                recomputed: recomputed[id])
        }
    }
}
