/// Lowering of function calls: matching arguments to parameters, then choosing the op.
extension Lowering {
    /// Matches positional and keyword arguments to the named parameters; the first `required` must be given.
    func bind(_ name: String, _ arguments: [Expr], _ keywords: [KeywordArgument], parameters: [String],
              required: Int, expr: Expr) throws(Diagnostic) -> [Expr?] {
        guard arguments.count <= parameters.count else {
            throw error("\(name) takes at most \(parameters.count) argument\(parameters.count == 1 ? "" : "s"), got \(arguments.count)",
                        at: arguments[parameters.count].range)
        }
        var slots: [Expr?] = arguments + Array(repeating: nil, count: parameters.count - arguments.count)
        for keyword in keywords {
            guard let slot = parameters.firstIndex(of: keyword.name), slot > 0 else {
                let accepted = parameters.dropFirst().map { "'\($0)'" }.joined(separator: ", ")
                throw error("\(name) has no keyword argument '\(keyword.name)'" + (accepted.isEmpty ? "" : "; it takes \(accepted)"),
                            at: keyword.nameRange)
            }
            guard slots[slot] == nil else {
                throw error("\(name) got '\(keyword.name)' both by position and by keyword", at: keyword.nameRange)
            }
            slots[slot] = keyword.value
        }
        if let missing = slots.prefix(required).firstIndex(where: { $0 == nil }) {
            throw error("\(name) needs \(required) argument\(required == 1 ? "" : "s") (\(parameters.prefix(required).joined(separator: ", "))); '\(parameters[missing])' is missing",
                        at: expr.range)
        }
        return slots
    }

    /// One step of lowering a call (see ``advance(_:with:)``): matched to its function when
    /// it starts, then its arguments lowered in the order of the function's parameters.
    mutating func advanceCall(_ frame: inout Frame, _ written: String, _ arguments: [Expr], _ keywords: [KeywordArgument],
                              with value: Value?) throws(Diagnostic) -> Progress {
        let expr = frame.expr, focus = expr.focus
        switch frame.task {
        case .start:
            return try startCall(&frame, written, arguments, keywords)
        case .pointwise(let p):
            guard let value else { return .lower(arguments[0]) }
            return .done(try apply(.pointwise(p), value, arguments[0].range, focus: focus))
        case .apply(let op):
            if let request = nextOperand(&frame, value, upTo: frame.slots.count) { return request }
            return .done(try apply(op, frame.operands, focus: focus))
        case .slope(let activation):
            // The slope is an input like any other (a constant leaf when a number is given),
            // so a `param` slope is learned.
            if let request = nextOperand(&frame, value, upTo: 2) { return request }
            if let e = frame.slots[1] {
                let slope = frame.operands[1].value
                guard shape(slope).isEmpty else {
                    throw error("the slope 'a' must be a scalar, got shape \(describe(shape: shape(slope)))", at: e.range)
                }
            } else {
                frame.operands[1] = (.constant(Tensor(activation.defaultSlope ?? 0)), expr.range)
            }
            return .done(try apply(.binary(activation), frame.operands, focus: focus))
        case .reduce(let reduction):
            if let request = nextOperand(&frame, value, upTo: 1) { return request }
            if frame.integers.isEmpty, let e = frame.slots[1] { return .integer(e, what: "the axis") }
            var axis = frame.integers.first
            if let written = axis {
                do { axis = try Reduction.normalize(axis: written, rank: shape(frame.operands[0].value).count) } catch { throw self.error(error.text, at: focus) }
            }
            return .done(try apply(reduction(axis), frame.operands, focus: focus))
        case .count(let op, let what):
            if let request = nextOperand(&frame, value, upTo: 1) { return request }
            // The count is required: `bind` has made sure it is given.
            guard let e = frame.slots[1] else { throw error("\(what) is missing", at: expr.range) }
            guard let n = frame.integers.first else { return .integer(e, what: what) }
            guard n >= 1 else { throw error("\(what) must be at least 1, got \(n)", at: e.range) }
            guard n <= Limits.elements else { throw error("\(what) must be at most \(Limits.elements), got \(n)", at: e.range) }
            return .done(try apply(op(n), frame.operands, focus: focus))
        case .einsum(let spec):
            if let request = nextOperand(&frame, value, upTo: frame.slots.count) { return request }
            let plan: EinsumPlan
            do { plan = try EinsumPlan(spec, shapes: frame.operands.map { shape($0.value) }) } catch { throw self.error(error.text, at: focus) }
            return .done(try apply(.einsum(plan), frame.operands, focus: focus))
        case .creation(let name):
            return try advanceCreation(&frame, name, arguments, keywords)
        case .grad(let body, let x):
            guard let value else { return .lower(body) }
            return .done(try differentiate(value, body: body, wrt: x, expr: expr))
        case .module(let module):
            return try advanceModuleCall(&frame, module, with: value)
        }
    }

    /// Takes `value` as the operand of the slot asked for last, then asks for the next of the
    /// slots before `end` (a slot not given is 0, at once); nil when all are lowered.
    private func nextOperand(_ frame: inout Frame, _ value: Value?, upTo end: Int) -> Progress? {
        if let value { frame.operands.append((value, frame.range(ofSlot: frame.operands.count))) }
        while frame.operands.count < end {
            if let e = frame.slots[frame.operands.count] { return .lower(e) }
            frame.operands.append((.constant(Tensor(0)), frame.expr.range))
        }
        return nil
    }

    /// Matches a call to its function and its arguments to the function's parameters (nothing
    /// lowered yet), then asks for what it lowers first.
    private mutating func startCall(_ frame: inout Frame, _ written: String, _ arguments: [Expr],
                                    _ keywords: [KeywordArgument]) throws(Diagnostic) -> Progress {
        let expr = frame.expr, focus = expr.focus
        if let module = module(named: written) { return try startModuleCall(&frame, module, arguments, keywords) }
        let name = Builtins.canonical(written)
        func operands(_ task: Task, _ parameters: [String], required: Int) throws(Diagnostic) -> Progress {
            frame.slots = try bind(written, arguments, keywords, parameters: parameters, required: required, expr: expr)
            frame.task = task
            return try advanceCall(&frame, written, arguments, keywords, with: nil)
        }
        guard let function = Builtins.function(named: name, arguments: arguments.count) else {
            if resolve(name) != nil {
                throw error("'\(name)' is a node, not a function", at: focus)
            }
            var message = "unknown function '\(name)'"
            message += Suggestions.didYouMean(name, among: Builtins.functions.map(\.name) + modules.keys.sorted()) ?? ""
            throw error(message, at: focus)
        }
        switch function.call {
        case .apply(.pointwise(let p), _, _) where arguments.count == 1 && keywords.isEmpty:
            // The common case, `f(x)`, has nothing to match.
            frame.task = .pointwise(p)
            return .lower(arguments[0])
        case .apply(let op, let parameters, let required):
            return try operands(.apply(op), parameters, required: required)
        case .slope(let activation):
            return try operands(.slope(activation), ["x", "a"], required: 1)
        case .axis(let op):
            return try operands(.reduce(op), ["x", "axis"], required: 1)
        case .count(let parameters, let what, let op):
            return try operands(.count(op, what: what), parameters, required: 2)
        case .einsum:
            guard let first = arguments.first, case .string(let text) = first.kind else {
                throw error("einsum's first argument is its spec, a string such as \"ij,j->i\"", at: arguments.first?.range ?? expr.range)
            }
            if let keyword = keywords.first { throw error("einsum takes no keyword arguments", at: keyword.nameRange) }
            let spec: EinsumSpec
            do { spec = try EinsumSpec(text, operandCount: arguments.count - 1) } catch { throw self.error(error.text, at: first.range) }
            frame.slots = arguments.dropFirst().map { $0 }
            frame.task = .einsum(spec)
            return try advanceCall(&frame, written, arguments, keywords, with: nil)
        case .grad:
            let (body, x) = try gradArguments(arguments, keywords, expr: expr)
            frame.task = .grad(body, x)
            return .lower(body)
        case .creation:
            frame.task = .creation(name)
            return try advanceCreation(&frame, name, arguments, keywords)
        }
    }

    /// One step of `zeros`, `ones`, `eye`, `randn`, `rand`, constants made on the spot: each
    /// keyword (the seed) checked and read, then each size; the frame's integers are the
    /// numbers read so far, the keywords' first.
    private func advanceCreation(_ frame: inout Frame, _ name: String, _ arguments: [Expr],
                                 _ keywords: [KeywordArgument]) throws(Diagnostic) -> Progress {
        let expr = frame.expr
        let read = frame.integers.count
        // The number read last, checked.
        if read > 0, read <= keywords.count {
            guard keywords[read - 1].name == "uniform" || frame.integers[read - 1] >= 0 else { throw error("the seed must not be negative", at: keywords[read - 1].value.range) }
        } else if read > keywords.count {
            let size = frame.integers[read - 1], argument = arguments[read - 1 - keywords.count]
            guard size >= 0 else { throw error("a size must not be negative, got \(size)", at: argument.range) }
            guard size <= Limits.elements else {
                throw error("a size must be at most \(Limits.elements), got \(size)", at: argument.range)
            }
        }
        let initialiser = Initialiser(rawValue: name)
        if read < keywords.count {
            let keyword = keywords[read]
            if initialiser != nil, keyword.name == "uniform" {
                // true or false, read here: a flag, not a number of the graph.
                guard case .name(let flag) = keyword.value.kind, flag == "true" || flag == "false" else {
                    throw error("uniform is true or false", at: keyword.value.range)
                }
                frame.integers.append(flag == "true" ? 1 : 0)
                return try advanceCreation(&frame, name, arguments, keywords)
            }
            guard keyword.name == "seed", name == "randn" || name == "rand" || initialiser != nil else {
                let takes = initialiser != nil ? "; it takes 'seed' and 'uniform'" : name.hasPrefix("rand") ? "; it takes 'seed'" : ""
                throw error("\(name) has no keyword argument '\(keyword.name)'" + takes, at: keyword.nameRange)
            }
            return .integer(keyword.value, what: "the seed")
        }
        if read == keywords.count {
            guard arguments.count <= Limits.rank else {
                throw error("\(name) of \(arguments.count) sizes would have more than \(Limits.rank) axes", at: expr.range)
            }
        }
        if read - keywords.count < arguments.count {
            return .integer(arguments[read - keywords.count], what: "a size")
        }
        let seedAt = keywords.lastIndex { $0.name == "seed" }
        let seed = seedAt.map { UInt64(frame.integers[$0]) } ?? 0
        let shape = Array(frame.integers[keywords.count...])
        if let initialiser {
            guard (1...2).contains(shape.count) else {
                throw error("\(name) takes one or two sizes, as in \(name)(4, 2, seed=1)", at: expr.range)
            }
            let uniform = keywords.lastIndex { $0.name == "uniform" }.map { frame.integers[$0] == 1 } ?? false
            try checkSize(of: name, shape, expr: expr)
            guard let values = initialiser.values(shape: shape, seed: seed, uniform: uniform, shouldStop: shouldStop) else {
                throw error("interrupted", at: expr.range)
            }
            return .done(.constant(values))
        }
        return .done(.constant(try creation(name, seed: seed, shape: shape, expr: expr)))
    }

    /// The constant `zeros`, `ones`, `eye`, `randn` or `rand` of sizes `shape`, each already checked.
    func creation(_ name: String, seed: UInt64, shape: [Int], expr: Expr) throws(Diagnostic) -> Tensor {
        try checkSize(of: name, shape, expr: expr)
        switch name {
        case "eye":
            guard shape.count == 1 else { throw error("eye takes one size, as in eye(3)", at: expr.range) }
            var t = Tensor.zeros([shape[0], shape[0]])
            for i in 0..<shape[0] { t.scalars[i * shape[0] + i] = 1 }
            return t
        case "zeros", "ones":
            return Tensor(repeating: name == "ones" ? 1 : 0, shape: shape)
        default:
            var random = SeededRandom(seed: seed)
            var t = Tensor.zeros(shape)
            var stopped = false
            t.scalars.withUnsafeMutableBufferPointer { scalars in
                for i in scalars.indices {
                    // A constant of millions of samples stops when asked to, as a long pass does.
                    if i & 0xFFFFF == 0xFFFFF, shouldStop() { stopped = true; return }
                    scalars[i] = name == "randn" ? random.normal() : random.uniform()
                }
            }
            if stopped { throw error("interrupted", at: expr.range) }
            return t
        }
    }

    /// Refuses a constant `name` of sizes `shape` with more elements than the limit, before it is made.
    func checkSize(of name: String, _ shape: [Int], expr: Expr) throws(Diagnostic) {
        guard Limits.product(name == "eye" ? shape + shape : shape, limit: Limits.elements) != nil else {
            throw error("\(name) of shape \(describe(shape: name == "eye" ? shape + shape : shape)) is too large (more than \(Limits.elements) elements)", at: expr.range)
        }
    }
}
