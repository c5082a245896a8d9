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

public struct Node: Sendable, Equatable {
    public var op: Op
    public var inputs: [NodeID]
    public var shape: [Int]
    public var kind: NodeKind
    /// The user's name for the node, if the node is the root of a definition.
    public var name: String?
    /// A leaf's value; nil for computed nodes.
    public var value: Tensor?
    /// The text that made this node, for errors found while evaluating it.
    public var origin: SourceSpan?
    /// Whether the node comes from a formula or from a derivative rule.
    public var role: NodeRole = .forward

    public var isLeaf: Bool { inputs.isEmpty }
}

/// The computational graph: nodes in creation (topological) order.
public struct Graph: Sendable {
    public private(set) var nodes: [Node] = []
    /// The node each defined name refers to.
    private(set) var named: [String: NodeID] = [:]

    public init() {}

    public var count: Int { nodes.count }

    /// A node, lent rather than copied: reading one field costs no reference counting of the others.
    public subscript(id: NodeID) -> Node {
        _read { yield nodes[id] }
    }

    /// The parts of a node that derivative rules read, without copying (and reference counting)
    /// its name, value and origin.
    struct View {
        let op: Op
        let inputs: [NodeID]
        let shape: [Int]
        let isLeaf: Bool
    }

    func view(_ id: NodeID) -> View {
        View(op: nodes[id].op, inputs: nodes[id].inputs, shape: nodes[id].shape, isLeaf: nodes[id].inputs.isEmpty)
    }

    /// Makes room for `count` more nodes, so that appending them never copies the store.
    mutating func reserve(_ count: Int) { nodes.reserveCapacity(nodes.count + count) }

    public func node(named name: String) -> NodeID? { named[name] }

    /// Appends a node; its inputs must already be in the graph.
    @discardableResult
    mutating func append(_ node: consuming Node) -> NodeID {
        precondition(node.inputs.allSatisfy { $0 < nodes.count }, "inputs must precede their consumer")
        nodes.append(consume node)
        return nodes.count - 1
    }

    mutating func setName(_ name: String, of id: NodeID) {
        nodes[id].name = name
        named[name] = id
    }

    mutating func setKind(_ kind: NodeKind, of id: NodeID) { nodes[id].kind = kind }

    /// Replaces a leaf's value with one of the same shape.
    mutating func setValue(_ value: Tensor, of id: NodeID) {
        precondition(nodes[id].isLeaf && nodes[id].shape == value.shape)
        nodes[id].value = value
    }

    /// Drops the nodes from `count` on (undoing a lowering that failed half-way).
    mutating func truncate(to count: Int) {
        for node in nodes[count...] {
            if let name = node.name { named[name] = nil }
        }
        nodes.removeSubrange(count...)
    }

    /// Marks every node that `target` depends on (itself included).
    public func ancestors(of target: NodeID) -> [Bool] {
        var mark = Array(repeating: false, count: target + 1)
        mark[target] = true
        for id in stride(from: target, through: 0, by: -1) where mark[id] {
            for input in nodes[id].inputs { mark[input] = true }
        }
        return mark
    }

    /// Number of consumers of each node, counting an input used twice by one node twice.
    public func fanOut() -> [Int] {
        var counts = Array(repeating: 0, count: nodes.count)
        for node in nodes { for input in node.inputs { counts[input] += 1 } }
        return counts
    }
}
