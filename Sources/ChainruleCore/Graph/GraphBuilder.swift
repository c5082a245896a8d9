/// Lowering while reading: the nodes of a definition appended to the graph as the grammar
/// reads its tokens, with no syntax tree made.
///
/// A definition of a new name by a formula of operators, names of nodes, numbers, `.T` and
/// one-argument elementwise functions (`h = tanh(w*h0 + 0.01)`, a neuron of a scalar
/// network) is lowered here, node by node, through the same ``Lowering`` steps a tree goes
/// through, so the nodes are the same; so is a new leaf whose value is such a formula of
/// numbers alone (`param w = -0.41`). Anything else — a redefinition, an `input` or `param`
/// computed from nodes, calls with keywords or of other functions, lists, indexing,
/// strings, a name that is no node, or any error — stops the lowering; the statement's
/// nodes are dropped and the statement is read again as a tree (``Workspace/read(_:)``),
/// which is the one path that reports errors.
struct GraphBuilder: SyntaxBuilder {
    /// A subexpression: its extent and depth (what the grammar reads, as the check has them),
    /// and what it lowered to.
    struct Node: SyntaxNode {
        var extents: Extents.Node
        var value = Operand.none

        init(_ extents: Extents.Node, value: Operand = .none) {
            self.extents = extents
            self.value = value
        }

        var range: SourceRange {
            get { extents.range }
            set { extents.range = newValue }
        }
        var focus: SourceRange { extents.focus }
        var depth: Int {
            get { extents.depth }
            set { extents.depth = newValue }
        }
        var isChain: Bool { extents.isChain }
    }

    enum Operand {
        /// Not lowered (the statement is read again as a tree).
        case none
        /// A number as written, made a tensor or a constant node only where it is used.
        case number(Double)
        case lowered(Lowering.Value)
    }

    /// A call's arguments, a list's items: how many, the first, and the deepest.
    struct Nodes {
        var count = 0
        var first: Node?
        var deepest = Extents.Deepest()
    }

    /// A chain read so far: its value and extent, folded left to right as links come.
    struct Links {
        var value: Operand
        var range: SourceRange
        var deepest = Extents.Deepest()
        var last: (focus: SourceRange, end: Int)?
    }

    /// What a statement was: a definition lowered as it was read, or a statement to read
    /// again as a tree from its text.
    enum Statement {
        case lowered(LoweredDefinition)
        case reread(SourceRange)
    }

    var lowering: Lowering
    /// Whether definitions are lowered at all (else every statement is read again as a tree).
    var enabled = true
    /// Whether the statement being read is still being lowered.
    private(set) var active = false
    /// The graph's size when the statement began (what it is cut back to if dropped).
    private(set) var start = 0
    /// Whether a definition has begun and not ended: only its nodes are dropped when a
    /// syntax error ends it (never those of a definition read before, which the workspace keeps).
    private var pending = false
    /// The names of nodes the definition refers to, each once, in order of first use (taken
    /// by the workspace with a lowered definition, which holds only numbers).
    var dependencies: [String] = []
    /// A new leaf's value (taken by the workspace as the names are).
    var leafValue: Tensor?
    private var marks = NodeMarks()

    init(source: Source) {
        lowering = Lowering(graph: Graph(), source: source)
    }

    /// Stops lowering the statement: it will be read again as a tree.
    private mutating func stop() { active = false }

    // MARK: Statements

    mutating func beginDefinition(_ kind: DefinitionKind, name: Token, in source: Source) {
        start = lowering.graph.count
        pending = true
        active = enabled
        dependencies = []
        if active { marks.next(covering: start) }
    }

    mutating func beginExpression() { active = false }

    mutating func abandonStatement() {
        active = false
        if pending { lowering.graph.truncate(to: start) }
        pending = false
    }

    mutating func definition(_ kind: DefinitionKind, name: Token, _ value: Node, range: SourceRange,
                             in source: Source) -> Statement {
        defer { active = false; pending = false }
        if active, dependencies.isEmpty, lowering.graph.count == start, let constant = self.value(value.value),
           case .constant(let leaf) = constant {
            // A leaf: its value, computed as the tree's lowering folds it.
            leafValue = leaf
            return .lowered(LoweredDefinition(nameRange: name.range, range: range, formulaRange: value.range,
                                              root: -1, kind: kind, firstNode: start))
        }
        guard active, kind == .formula, !dependencies.isEmpty, case .lowered(.node(let root)) = value.value else {
            lowering.graph.truncate(to: start)
            return .reread(range)
        }
        return .lowered(LoweredDefinition(nameRange: name.range, range: range, formulaRange: value.range,
                                          root: root, kind: kind, firstNode: start))
    }

    func expression(_ value: Node) -> Statement { .reread(value.range) }
    func command(_ token: Token, in source: Source) -> Statement { .reread(token.range) }

    // MARK: Leaves

    func number(_ value: Double, range: SourceRange) -> Node {
        Node(Extents.Node(range: range, focus: range), value: active ? .number(value) : .none)
    }

    mutating func string(_ token: Token, in source: Source) -> Node {
        stop()
        return Node(Extents.Node(range: token.range, focus: token.range))
    }

    mutating func name(_ token: Token, in source: Source) -> Node {
        var node = Node(Extents.Node(range: token.range, focus: token.range))
        guard active else { return node }
        // A name that is no node (undefined, broken, or a constant such as `pi`) is left to the tree.
        let text = Lexer.text(source, token.range)
        guard let id = lowering.graph.node(named: text) else { stop(); return node }
        if marks.mark(id) { dependencies.append(text) }
        node.value = .lowered(.node(id))
        return node
    }

    // MARK: Operations

    /// The lowered value of an operand (a number becomes a constant).
    private func value(_ operand: Operand) -> Lowering.Value? {
        switch operand {
        case .none: nil
        case .number(let x): .constant(Tensor(x))
        case .lowered(let v): v
        }
    }

    /// `left op right`, as ``Lowering`` lowers a binary operator or a chain's link.
    private mutating func binary(_ op: BinaryOperator, _ left: Operand, _ leftRange: SourceRange,
                                 _ right: Operand, _ rightRange: SourceRange, focus: SourceRange) -> Operand {
        guard active, let a = value(left) else { stop(); return .none }
        let b: Lowering.Value
        if case .number(let x) = right, let node = lowering.constantNode(x, at: rightRange, of: op, beside: a) {
            b = node
        } else if let lowered = value(right) {
            b = lowered
        } else {
            stop()
            return .none
        }
        do throws(Diagnostic) {
            return .lowered(try lowering.apply(lowering.op(for: op, a, b), a, leftRange, b, rightRange, focus: focus))
        } catch {
            stop()
            return .none
        }
    }

    /// An op of one operand.
    private mutating func unary(_ op: Op, _ operand: Node, focus: SourceRange) -> Operand {
        guard active, let a = value(operand.value) else { stop(); return .none }
        do throws(Diagnostic) {
            return .lowered(try lowering.apply(op, a, operand.range, focus: focus))
        } catch {
            stop()
            return .none
        }
    }

    mutating func negate(_ operand: Node, range: SourceRange, focus: SourceRange) -> Node {
        var node = Node(Extents.level(operand.depth, range: range, focus: focus))
        guard active else { return node }
        if case .number(let x) = operand.value {
            node.value = .number(-x)  // what folding the negation gives, exactly
        } else {
            node.value = unary(.pointwise(.negate), operand, focus: focus)
        }
        return node
    }

    mutating func power(_ base: Node, _ exponent: Node, range: SourceRange, focus: SourceRange) -> Node {
        var node = Node(Extents.level(Swift.max(base.depth, exponent.depth), range: range, focus: focus))
        if active { node.value = binary(.power, base.value, base.range, exponent.value, exponent.range, focus: focus) }
        return node
    }

    func links(startingWith first: Node) -> Links { Links(value: first.value, range: first.range) }

    mutating func append(_ link: BinaryOperator, at focus: SourceRange, _ operand: Node, to links: inout Links) {
        links.deepest.add(operand.extents)
        links.last = (focus, operand.range.end)
        if active { links.value = binary(link, links.value, links.range, operand.value, operand.range, focus: focus) }
        links.range = links.range.union(operand.range)
    }

    func chain(_ first: Node, _ links: Links) -> Node {
        guard let last = links.last else { return first }
        return Node(Extents.Node(range: SourceRange(first.range.start, Swift.max(first.range.end, last.end)), focus: last.focus,
                                  depth: Swift.max(first.depth, links.deepest.depth), isChain: true),
                    value: active ? links.value : .none)
    }

    mutating func transpose(_ base: Node, range: SourceRange, focus: SourceRange) -> Node {
        var node = Node(Extents.level(base.depth, range: range, focus: focus))
        if active { node.value = unary(.transpose, base, focus: focus) }
        return node
    }

    // MARK: Calls

    /// The elementwise function a call names, if it is one.
    private func pointwise(_ name: Token, in source: Source) -> Pointwise? {
        Builtins.pointwise[Builtins.canonical(Lexer.text(source, name.range))]
    }

    static var noNodes: Nodes { Nodes() }
    static var noKeywords: Extents.Deepest { Extents.Deepest() }
    static var noIndices: Extents.Deepest { Extents.Deepest() }

    mutating func beginCall(_ name: Token, in source: Source) {
        if active, pointwise(name, in: source) == nil { stop() }
    }

    func append(_ node: Node, to nodes: inout Nodes) {
        if nodes.count == 0 { nodes.first = node }
        nodes.count += 1
        nodes.deepest.add(node.extents)
    }

    mutating func append(keyword name: String, at nameRange: SourceRange, _ value: Node, to keywords: inout Extents.Deepest) {
        stop()
        keywords.add(value.extents)
    }

    mutating func call(_ name: Token, _ arguments: Nodes, _ keywords: Extents.Deepest, range: SourceRange,
                       in source: Source) -> Node {
        var node = Node(Extents.level(Swift.max(arguments.deepest.depth, keywords.depth), range: range, focus: name.range))
        guard active, arguments.count == 1, let x = arguments.first, let p = pointwise(name, in: source) else {
            stop()
            return node
        }
        node.value = unary(.pointwise(p), x, focus: name.range)
        return node
    }

    mutating func list(_ items: Nodes, range: SourceRange, focus: SourceRange) -> Node {
        stop()
        return Node(Extents.level(items.deepest.depth, range: range, focus: focus))
    }

    mutating func append(index: Node, to indices: inout Extents.Deepest) {
        stop()
        indices.add(index.extents)
    }

    mutating func append(slice a: Node?, _ b: Node?, _ c: Node?, to indices: inout Extents.Deepest) {
        stop()
        indices.add(a?.extents)
        indices.add(b?.extents)
        indices.add(c?.extents)
    }

    mutating func index(_ base: Node, _ indices: Extents.Deepest, range: SourceRange, focus: SourceRange) -> Node {
        stop()
        return Node(Extents.level(Swift.max(base.depth, indices.depth), range: range, focus: focus))
    }
}

/// A definition of a new name whose nodes were appended as it was read: what
/// ``Workspace`` needs to name its root and record it, besides the names it refers to
/// (``GraphBuilder/dependencies``). Only positions, so that statements pass through the
/// grammar without reference counting.
struct LoweredDefinition {
    var nameRange: SourceRange
    /// The whole statement, and its formula.
    var range: SourceRange
    var formulaRange: SourceRange
    /// The node of the formula, or -1 for a leaf (its value is ``GraphBuilder/leafValue``).
    var root: NodeID
    var kind: DefinitionKind
    /// The first node the definition appended.
    var firstNode: NodeID
}
