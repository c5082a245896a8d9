/// Turns an expression into graph nodes.
///
/// Subexpressions that refer to no node are folded into constants on the spot
/// (`2 * 3`, `randn(2, 3, seed=1)`, `[1, 2]`); a constant becomes a leaf node only
/// when it meets a node. Shapes are checked as nodes are made, so every error
/// points at the operator or function that caused it.
struct Lowering {
    enum Value {
        case constant(Tensor)
        case node(NodeID)
    }

    var graph: Graph
    /// The source of what is being lowered: a module's own while its formula is.
    var source: Source
    /// The modules calls may be of, by name.
    var modules: [String: Module] = [:]
    /// The calls of modules open, outermost first.
    var calls: [ActiveCall] = []
    /// The most nodes the calls of modules may add (an expansion that would exhaust memory is refused).
    var nodeBudget = Int.max
    /// The graph's size when the lowering began.
    var startCount = 0
    /// Polled while a large constant is made (`randn(7000, 7000)`): true stops the lowering.
    var shouldStop: @Sendable () -> Bool = { false }
    /// The nodes that the names written at these offsets of the source were found to be
    /// (a new definition's references, in source order): looked up by where a name is
    /// written, so that no name is hashed a second time.
    var resolved: [(start: Int, id: NodeID)] = []

    /// The node a name refers to, or nil when the name is not a node.
    func resolve(_ name: String) -> NodeID? {
        if !calls.isEmpty, let value = argument(named: name) {
            if case .node(let id) = value { return id }
            return nil
        }
        return graph.node(named: name)
    }

    /// The node the name written at offset `start` refers to.
    func resolve(_ name: String, at start: Int) -> NodeID? {
        // Inside a module's formula, offsets are the module's: names are looked up by name.
        if !calls.isEmpty { return graph.node(named: name) }
        var lo = 0, hi = resolved.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if resolved[mid].start < start { lo = mid + 1 } else { hi = mid }
        }
        if lo < resolved.count, resolved[lo].start == start { return resolved[lo].id }
        return graph.node(named: name)
    }

    func error(_ message: String, at range: SourceRange, notes: [Diagnostic] = []) -> Diagnostic {
        Diagnostic(message, at: SourceSpan(source, range), notes: notes)
    }

    func shape(_ value: Value) -> [Int] {
        switch value {
        case .constant(let t): t.shape
        case .node(let id): graph[id].shape
        }
    }

    mutating func materialize(_ value: Value, range: SourceRange) -> NodeID {
        switch value {
        case .node(let id):
            return id
        case .constant(let t):
            return graph.append(.constant, EmptyCollection(), shape: t.shape, kind: .input, value: t,
                                origin: SourceSpan(source, range))
        }
    }

    /// Applies `op` to lowered arguments: folds when all are constants, else appends a node.
    mutating func apply(_ op: Op, _ arguments: [(value: Value, range: SourceRange)], focus: SourceRange) throws(Diagnostic) -> Value {
        if let scalar = applyToScalars(op, arguments, focus: focus) { return scalar }
        let shapes = arguments.map { shape($0.value) }
        let resultShape: [Int]
        do {
            resultShape = try op.resultShape(shapes)
        } catch {
            throw self.error(error.text, at: focus)
        }
        guard resultShape.count <= Limits.rank else {
            throw error("the result would have \(resultShape.count) axes, more than the limit of \(Limits.rank)", at: focus)
        }
        guard Limits.product(resultShape, limit: Limits.elements) != nil else {
            throw error("the result would have shape \(describe(shape: resultShape)), more than \(Limits.elements) elements", at: focus)
        }
        if let work = op.work(shapes), work > Limits.work {
            throw error("\(op.name) of these shapes needs about \(work) multiply–adds, more than the limit of \(Limits.work)", at: focus)
        }
        let allConstant = arguments.allSatisfy { if case .constant = $0.value { true } else { false } }
        if allConstant {
            var constants: [Tensor] = []
            for argument in arguments {
                if case .constant(let t) = argument.value { constants.append(t) }
            }
            do { return .constant(try op.forward(constants)) } catch { throw self.error(error.text, at: focus) }
        }
        let inputs = arguments.map { materialize($0.value, range: $0.range) }
        return .node(graph.append(op, inputs, shape: resultShape, kind: .op, origin: SourceSpan(source, focus)))
    }

    /// `apply` of one argument, with no argument list made when the result is a scalar node.
    mutating func apply(_ op: Op, _ a: Value, _ aRange: SourceRange, focus: SourceRange) throws(Diagnostic) -> Value {
        if case .node(let x) = a, graph.isScalar(x), op.isScalarElementwise {
            return .node(graph.append(op, SmallInputs(x), shape: [], kind: .op, origin: SourceSpan(source, focus)))
        }
        return try apply(op, [(a, aRange)], focus: focus)
    }

    /// `apply` of two arguments, with no argument list made when the result is a scalar node.
    mutating func apply(_ op: Op, _ a: Value, _ aRange: SourceRange, _ b: Value, _ bRange: SourceRange,
                        focus: SourceRange) throws(Diagnostic) -> Value {
        if op.isScalarElementwise, let x = scalarOperand(a), let y = scalarOperand(b), x || y {
            let inputs = SmallInputs(materialize(a, range: aRange), materialize(b, range: bRange))
            return .node(graph.append(op, inputs, shape: [], kind: .op, origin: SourceSpan(source, focus)))
        }
        return try apply(op, [(a, aRange), (b, bRange)], focus: focus)
    }

    /// Nil when `value` is not a scalar; else whether it is a node (not a constant).
    private func scalarOperand(_ value: Value) -> Bool? {
        switch value {
        case .node(let id): graph.isScalar(id) ? true : nil
        case .constant(let t): t.isScalar ? false : nil
        }
    }

    /// The right operand `e` of `op` whose left operand is `left`, when it needs no lowering: a
    /// number written beside a scalar node under an elementwise operator (`w * 0.41`) becomes
    /// its constant node at once, with no tensor made. Nil when `e` is to be lowered as usual.
    mutating func immediateOperand(_ e: Expr, of op: BinaryOperator, beside left: Value) -> Value? {
        guard let number = Lowering.literal(e) else { return nil }
        return constantNode(number, at: e.range, of: op, beside: left)
    }

    /// The number `e` is when it is a number as written, or one negated (`-0.41`): what
    /// lowering it would fold to, found with no tensor made.
    static func literal(_ e: Expr) -> Double? {
        switch e.kind {
        case .number(let number): return number
        case .negate(let operand): if case .number(let number) = operand.kind { return -number } else { return nil }
        default: return nil
        }
    }

    /// The constant node of a number written at `range` as the right operand of `op` beside a
    /// scalar node, made at once with no tensor; nil anywhere else (a product, or beside a tensor).
    mutating func constantNode(_ number: Double, at range: SourceRange, of op: BinaryOperator, beside left: Value) -> Value? {
        guard op != .matmul, op != .middleDot, case .node(let id) = left, graph.isScalar(id) else { return nil }
        return .node(graph.appendConstant(number, origin: SourceSpan(source, range)))
    }

    /// `apply` for an elementwise op of one or two scalars, not all constant: the result is a
    /// scalar node, with no shapes to gather or check (nothing can fail). Nil for anything else.
    private mutating func applyToScalars(_ op: Op, _ arguments: [(value: Value, range: SourceRange)],
                                         focus: SourceRange) -> Value? {
        guard op.isScalarElementwise, arguments.count == 1 || arguments.count == 2 else { return nil }
        var anyNode = false
        for argument in arguments {
            switch argument.value {
            case .node(let id):
                guard graph.isScalar(id) else { return nil }
                anyNode = true
            case .constant(let t):
                guard t.isScalar else { return nil }
            }
        }
        guard anyNode else { return nil }
        let a = materialize(arguments[0].value, range: arguments[0].range)
        let inputs = arguments.count == 1
            ? SmallInputs(a) : SmallInputs(a, materialize(arguments[1].value, range: arguments[1].range))
        return .node(graph.append(op, inputs, shape: [], kind: .op, origin: SourceSpan(source, focus)))
    }

    /// The operation of a binary operator between two lowered operands.
    func op(for op: BinaryOperator, _ left: Value, _ right: Value) -> Op {
        switch op {
        case .add: .binary(.add)
        case .subtract: .binary(.subtract)
        case .multiply: .binary(.multiply)
        case .divide: .binary(.divide)
        case .power: .binary(.power)
        case .matmul: .matmul
        // `·` from slides: a matrix product between tensors, a product when either side is a scalar.
        case .middleDot: shape(left).isEmpty || shape(right).isEmpty ? .binary(.multiply) : .matmul
        }
    }

    /// A constant scalar, such as a slope or a seed, from the lowering of the expression at
    /// `range`: it may not depend on any node.
    func number(_ value: Value, at range: SourceRange, what: String) throws(Diagnostic) -> Double {
        guard case .constant(let t) = value else {
            throw error("\(what) must be a constant, not an expression of nodes", at: range)
        }
        guard let value = t.scalar, t.isScalar else {
            throw error("\(what) must be a single number, got shape \(describe(shape: t.shape))", at: range)
        }
        return value
    }

    /// A constant whole number, such as an index, an axis or a size, from the lowering of the
    /// expression at `range`.
    func integer(_ value: Value, at range: SourceRange, what: String) throws(Diagnostic) -> Int {
        let value = try number(value, at: range, what: what)
        guard value.isFinite, value == value.rounded() else {
            throw error("\(what) must be a whole number, got \(value.isNaN ? "nan" : Printer.number(value))", at: range)
        }
        guard abs(value) < 1e15 else {
            throw error("\(what) is far too large: \(Printer.number(value))", at: range)
        }
        return Int(value)
    }
}

private extension Op {
    /// Ops whose result is a scalar when their arguments are (no shape to check, nothing can fail).
    var isScalarElementwise: Bool {
        switch self {
        case .binary, .pointwise: true
        default: false
        }
    }
}
