/// The walk that lowers a syntax tree: one explicit stack of frames, each a subexpression
/// waiting for one of its own to be lowered, so that no tree the parser accepts can exhaust
/// the stack of the thread that lowers it (nothing here recurses).
///
/// A frame asks for its subexpressions one at a time, in the order it needs them, and checks
/// what it can between them, so errors come in the order the text reads.
extension Lowering {
    /// What lowering a subexpression needs next.
    enum Progress {
        /// It is lowered, to this.
        case done(Value)
        /// This subexpression lowered; then the frame resumes with its value.
        case lower(Expr)
        /// This subexpression read as a constant whole number (an index, an axis, a size, a seed):
        /// lowered like any other, but whatever it adds to the graph is dropped again; the frame
        /// resumes with the number appended to its ``Frame/integers``.
        case integer(Expr, what: String)
    }

    /// What a call does with the subexpressions it asks for (other expressions need no more
    /// than their own kind).
    enum Task {
        /// The call is not matched to a function yet.
        case start
        /// `f(x)` of an elementwise function, its one argument written alone.
        case pointwise(Pointwise)
        /// The slots lowered as operands, then `op` of them.
        case apply(Op)
        /// `leaky_relu(x, a)`, `elu(x, a)`: the operand, then the slope.
        case slope(BinaryArithmetic)
        /// `sum(x, axis)`, `mean(x, axis)`: the operand, then the axis.
        case reduce(@Sendable (Int?) -> Op)
        /// `one_hot(t, classes)`: the operand, then the count, a constant whole number.
        case count(@Sendable (Int) -> Op, what: String)
        indirect case einsum(EinsumSpec)
        /// `zeros`, `ones`, `eye`, `randn`, `rand`: the keywords' numbers, then the sizes.
        case creation(String)
        /// `grad(e, x)`: the expression `e`, differentiated with respect to the node `x`.
        indirect case grad(Expr, NodeID)
        /// A call of a module: its arguments, then its formula.
        indirect case module(Module)
    }

    /// A subexpression part way through its lowering.
    struct Frame {
        let expr: Expr
        var task = Task.start
        /// A call's arguments matched to its parameters, nil where none is given.
        var slots: [Expr?] = []
        /// The operands lowered so far (a list's items, a call's slots), with where each is written.
        var operands: [(value: Value, range: SourceRange)] = []
        /// One operand held (no array made): the left operand of `^`, what a chain has folded
        /// so far, the base of an index.
        var held: (value: Value, range: SourceRange)?
        /// How far the frame has got through its links or bounds.
        var next = 0
        /// The constant whole numbers read so far (an index's bounds, a call's axis, seed and sizes).
        var integers: [Int] = []
        /// The constant being read for this frame (the graph as it was before it is kept by the walk).
        var awaited: (range: SourceRange, what: String)?

        init(_ expr: Expr) { self.expr = expr }

        /// Where the operand of slot `i` is written: the call's own range for a slot not given.
        func range(ofSlot i: Int) -> SourceRange { slots[i]?.range ?? expr.range }
    }

    /// Where the walk goes after a step: into a subexpression, or back to the frame below with a value.
    private enum Move {
        case descend(Expr)
        case ascend(Value)
    }

    /// Lowers `root` to a value: a constant when it refers to no node, else the node of its result.
    mutating func lower(_ root: Expr) throws(Diagnostic) -> Value {
        var frames: [Frame] = []
        frames.reserveCapacity(4)
        /// The graph as it was before each constant being read, innermost last (see ``Progress/integer(_:what:)``).
        var saved: [Graph] = []
        var move = Move.descend(root)
        do throws(Diagnostic) {
            while true {
                switch move {
                case .descend(let e):
                    if let leaf = try leaf(e) {
                        move = .ascend(leaf)
                        continue
                    }
                    // The frame is made in place on the frame stack (it is large to copy).
                    frames.append(Frame(e))
                    move = follow(try advance(&frames[frames.count - 1], with: nil), &frames, &saved)
                case .ascend(let value):
                    guard let top = frames.indices.last else { return value }
                    let progress: Progress
                    if let awaited = frames[top].awaited, let before = saved.popLast() {
                        frames[top].awaited = nil
                        graph = before
                        frames[top].integers.append(try integer(value, at: awaited.range, what: awaited.what))
                        progress = try advance(&frames[top], with: nil)
                    } else {
                        progress = try advance(&frames[top], with: value)
                    }
                    move = follow(progress, &frames, &saved)
                }
            }
        } catch {
            // Whatever a constant being read had added is dropped, as when it is read to the end.
            if let outermost = saved.first { graph = outermost }
            let placed = placedAtCall(error)
            abandonCalls()
            throw placed
        }
    }

    /// Where `progress` of the frame on top of `frames` leads (a finished frame is taken off).
    private mutating func follow(_ progress: Progress, _ frames: inout [Frame], _ saved: inout [Graph]) -> Move {
        switch progress {
        case .done(let value):
            frames.removeLast()
            return .ascend(value)
        case .lower(let e):
            return .descend(e)
        case .integer(let e, let what):
            frames[frames.count - 1].awaited = (e.range, what)
            saved.append(graph)
            return .descend(e)
        }
    }

    /// One step of lowering `frame`: `value` is what the subexpression it asked for last lowered
    /// to, nil when it starts or when it asked for a constant whole number.
    mutating func advance(_ frame: inout Frame, with value: Value?) throws(Diagnostic) -> Progress {
        let expr = frame.expr
        switch expr.kind {
        case .number, .string, .name:
            // Lowered without a frame; here only for a switch that covers every kind.
            return .done(try leaf(expr) ?? .constant(Tensor(0)))
        case .negate(let operand):
            guard let value else { return .lower(operand) }
            return .done(try apply(.pointwise(.negate), value, operand.range, focus: expr.focus))
        case .transpose(let operand):
            guard let value else { return .lower(operand) }
            return .done(try apply(.transpose, [(value, operand.range)], focus: expr.focus))
        case .binary(let op, let a, let b):
            guard let value else { return .lower(a) }
            guard let left = frame.held else {
                if let right = immediateOperand(b, of: op, beside: value) {
                    return .done(try apply(self.op(for: op, value, right), value, a.range, right, b.range, focus: expr.focus))
                }
                frame.held = (value, a.range)
                return .lower(b)
            }
            return .done(try apply(self.op(for: op, left.value, value), left.value, left.range, value, b.range, focus: expr.focus))
        case .chain(let first, let links):
            return try advanceChain(&frame, first, links, with: value)
        case .list(let items):
            if let value { frame.operands.append((value, items[frame.operands.count].range)) }
            if frame.operands.count < items.count { return .lower(items[frame.operands.count]) }
            return .done(try stack(frame.operands, expr: expr))
        case .index(let base, let indices):
            return try advanceIndex(&frame, base, indices, with: value)
        case .call(let name, let arguments, let keywords):
            return try advanceCall(&frame, name, arguments, keywords, with: value)
        }
    }

    /// The value of a number or a name; nil for an expression that is not a leaf.
    private mutating func leaf(_ expr: Expr) throws(Diagnostic) -> Value? {
        switch expr.kind {
        case .number(let number):
            return .constant(Tensor(number))
        case .negate(let operand):
            // `-0.41` folds as `negate` of a constant does, with no frame.
            guard case .number(let number) = operand.kind else { return nil }
            return .constant(Tensor(-number))
        case .string:
            throw error("a string can only be an einsum spec, as in einsum(\"ij,j->i\", A, x)", at: expr.range)
        case .name(let name):
            if !calls.isEmpty, let value = argument(named: name) { return value }
            if let id = resolve(name, at: expr.range.start) { return .node(id) }
            if let value = Builtins.constant(named: name) { return .constant(Tensor(value)) }
            if let module = module(named: name) {
                throw error("'\(name)' is a module, not a node; call it, as in \(name)(\(module.parameters.joined(separator: ", ")))",
                            at: expr.range)
            }
            throw error("undefined name '\(name)'", at: expr.range)
        default:
            return nil
        }
    }

    /// A chain, left to right, one node per operator: `a + b - c` is `(a + b) - c`. What is
    /// folded so far is the frame's one operand; ``Frame/next`` counts the links folded.
    private mutating func advanceChain(_ frame: inout Frame, _ first: Expr, _ links: [ChainLink],
                                       with value: Value?) throws(Diagnostic) -> Progress {
        guard let value else { return .lower(first) }
        var folded = frame.held ?? (value, first.range)
        defer { frame.held = folded }
        if frame.held != nil {
            try fold(&folded, links, frame.next, value)
            frame.next += 1
        }
        // On to the next link whose operand is to be lowered (a number beside a scalar node is not).
        while frame.next < links.count {
            let i = frame.next
            guard let right = immediateOperand(links[i].operand, of: links[i].op, beside: folded.value) else {
                return .lower(links[i].operand)
            }
            try fold(&folded, links, i, right)
            frame.next += 1
        }
        return .done(folded.value)
    }

    /// Folds link `i` of a chain, whose operand lowered to `right`, into what precedes it.
    private mutating func fold(_ folded: inout (value: Value, range: SourceRange), _ links: [ChainLink], _ i: Int,
                               _ right: Value) throws(Diagnostic) {
        // The link read in place (a copy of a link would retain its subtree).
        let op = links[i].op, operandRange = links[i].operand.range
        folded.value = try apply(self.op(for: op, folded.value, right), folded.value, folded.range, right, operandRange,
                                 focus: links[i].focus)
        folded.range = folded.range.union(operandRange)
    }

    /// `[a, b, c]`: the items stacked along a new leading axis, once all have the same shape.
    private mutating func stack(_ items: [(value: Value, range: SourceRange)], expr: Expr) throws(Diagnostic) -> Value {
        guard let first = items.first.map({ shape($0.value) }) else { return .constant(Tensor([])) }
        if let bad = items.firstIndex(where: { shape($0.value) != first }) {
            throw error("ragged list: element \(bad + 1) has shape \(describe(shape: shape(items[bad].value))) but element 1 has shape \(describe(shape: first))",
                        at: items[bad].range)
        }
        return try apply(.stack, items, focus: expr.focus)
    }

    /// `x[i, a:b:c]`: the base, then each bound in turn as a constant whole number.
    /// ``Frame/next`` counts the bounds passed, three to each index (an index `i` has one).
    private mutating func advanceIndex(_ frame: inout Frame, _ base: Expr, _ indices: [IndexArgument],
                                       with value: Value?) throws(Diagnostic) -> Progress {
        if let value { frame.held = (value, base.range) }
        guard let (value, baseRange) = frame.held else { return .lower(base) }
        while frame.next < 3 * indices.count {
            let (i, part) = frame.next.quotientAndRemainder(dividingBy: 3)
            switch indices[i] {
            case .at(let e):
                frame.next += 3
                return .integer(e, what: "an index")
            case .slice(let start, let stop, let step):
                frame.next += 1
                if let bound = part == 0 ? start : part == 1 ? stop : step { return .integer(bound, what: "a slice bound") }
            }
        }
        // Every bound written is read, in order.
        var components: [IndexComponent] = []
        var read = 0
        func bound(_ e: Expr?) -> Int? {
            guard e != nil else { return nil }
            defer { read += 1 }
            return frame.integers[read]
        }
        for index in indices {
            switch index {
            case .at: components.append(.at(frame.integers[read])); read += 1
            case .slice(let start, let stop, let step):
                components.append(.slice(start: bound(start), stop: bound(stop), step: bound(step)))
            }
        }
        let plan: IndexPlan
        do { plan = try IndexPlan(components: components, shape: shape(value)) } catch { throw self.error(error.text, at: frame.expr.focus) }
        return .done(try apply(.index(plan), [(value, baseRange)], focus: frame.expr.focus))
    }
}
