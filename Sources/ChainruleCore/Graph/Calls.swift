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

    mutating func lowerCall(_ written: String, _ arguments: [Expr], _ keywords: [KeywordArgument], expr: Expr) throws(Diagnostic) -> Value {
        let focus = expr.focus
        let name = Builtins.canonical(written)
        func operand(_ e: Expr?) throws(Diagnostic) -> (value: Value, range: SourceRange) {
            guard let e else { return (.constant(Tensor(0)), expr.range) }
            return (try lower(e), e.range)
        }
        if let p = Builtins.pointwise[name] {
            // The common case, `f(x)`, has nothing to match.
            if arguments.count == 1, keywords.isEmpty {
                let x = arguments[0]
                return try apply(.pointwise(p), try lower(x), x.range, focus: focus)
            }
            let a = try bind(written, arguments, keywords, parameters: ["x"], required: 1, expr: expr)
            return try apply(.pointwise(p), [try operand(a[0])], focus: focus)
        }
        if let loss = Builtins.losses[name] {
            let a = try bind(written, arguments, keywords, parameters: ["y", "t"], required: 2, expr: expr)
            return try apply(.loss(loss), [try operand(a[0]), try operand(a[1])], focus: focus)
        }
        if let activation = Builtins.slopeActivations[name] {
            // The slope is an input like any other (a constant leaf when a number is given),
            // so a `param` slope is learned.
            let a = try bind(written, arguments, keywords, parameters: ["x", "a"], required: 1, expr: expr)
            let x = try operand(a[0])
            let slope: (value: Value, range: SourceRange)
            if let e = a[1] {
                slope = (try lower(e), e.range)
                guard shape(slope.value).isEmpty else {
                    throw error("the slope 'a' must be a scalar, got shape \(describe(shape: shape(slope.value)))", at: e.range)
                }
            } else {
                slope = (.constant(Tensor(activation.defaultSlope ?? 0)), expr.range)
            }
            return try apply(.binary(activation), [x, slope], focus: focus)
        }
        switch name {
        case "sum", "mean":
            let a = try bind(written, arguments, keywords, parameters: ["x", "axis"], required: 1, expr: expr)
            let x = try operand(a[0])
            var axis = try a[1].map { e throws(Diagnostic) in try integer(e, what: "the axis") }
            if let written = axis {
                do { axis = try Reduction.normalize(axis: written, rank: shape(x.value).count) } catch { throw self.error(error.text, at: focus) }
            }
            return try apply(name == "sum" ? .sum(axis: axis) : .mean(axis: axis), [x], focus: focus)
        case "max" where arguments.count > 1, "min":
            let a = try bind(written, arguments, keywords, parameters: ["a", "b"], required: 2, expr: expr)
            return try apply(.binary(name == "max" ? .maximum : .minimum), [try operand(a[0]), try operand(a[1])], focus: focus)
        case "max", "softmax", "log_softmax", "transpose":
            let a = try bind(written, arguments, keywords, parameters: ["x"], required: 1, expr: expr)
            let op: Op = switch name {
            case "max": .max
            case "softmax": .softmax
            case "log_softmax": .logSoftmax
            default: .transpose
            }
            return try apply(op, [try operand(a[0])], focus: focus)
        case "dot":
            let a = try bind(written, arguments, keywords, parameters: ["a", "b"], required: 2, expr: expr)
            return try apply(.dot, [try operand(a[0]), try operand(a[1])], focus: focus)
        case "einsum":
            guard let first = arguments.first, case .string(let text) = first.kind else {
                throw error("einsum's first argument is its spec, a string such as \"ij,j->i\"", at: arguments.first?.range ?? expr.range)
            }
            if let keyword = keywords.first { throw error("einsum takes no keyword arguments", at: keyword.nameRange) }
            let spec: EinsumSpec
            do { spec = try EinsumSpec(text, operandCount: arguments.count - 1) } catch { throw self.error(error.text, at: first.range) }
            var operands: [(value: Value, range: SourceRange)] = []
            for e in arguments.dropFirst() { operands.append((try lower(e), e.range)) }
            let plan: EinsumPlan
            do { plan = try EinsumPlan(spec, shapes: operands.map { shape($0.value) }) } catch { throw self.error(error.text, at: focus) }
            return try apply(.einsum(plan), operands, focus: focus)
        case "grad":
            return try lowerGrad(arguments, keywords, expr: expr)
        case "zeros", "ones", "randn", "rand", "eye":
            return .constant(try creation(name, arguments, keywords, expr: expr))
        default:
            if resolve(name) != nil {
                throw error("'\(name)' is a node, not a function", at: focus)
            }
            var message = "unknown function '\(name)'"
            message += Suggestions.didYouMean(name, among: Builtins.functions.map(\.name)) ?? ""
            throw error(message, at: focus)
        }
    }

    /// `zeros`, `ones`, `eye`, `randn`, `rand`: constants made on the spot.
    func creation(_ name: String, _ arguments: [Expr], _ keywords: [KeywordArgument], expr: Expr) throws(Diagnostic) -> Tensor {
        var seed: UInt64 = 0
        for keyword in keywords {
            guard keyword.name == "seed", name == "randn" || name == "rand" else {
                throw error("\(name) has no keyword argument '\(keyword.name)'" + (name.hasPrefix("rand") ? "; it takes 'seed'" : ""), at: keyword.nameRange)
            }
            let value = try integer(keyword.value, what: "the seed")
            guard value >= 0 else { throw error("the seed must not be negative", at: keyword.value.range) }
            seed = UInt64(value)
        }
        guard arguments.count <= Limits.rank else {
            throw error("\(name) of \(arguments.count) sizes would have more than \(Limits.rank) axes", at: expr.range)
        }
        var shape: [Int] = []
        for argument in arguments {
            let size = try integer(argument, what: "a size")
            guard size >= 0 else { throw error("a size must not be negative, got \(size)", at: argument.range) }
            guard size <= Limits.elements else {
                throw error("a size must be at most \(Limits.elements), got \(size)", at: argument.range)
            }
            shape.append(size)
        }
        guard Limits.product(name == "eye" ? shape + shape : shape, limit: Limits.elements) != nil else {
            throw error("\(name) of shape \(describe(shape: name == "eye" ? shape + shape : shape)) is too large (more than \(Limits.elements) elements)", at: expr.range)
        }
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
            for i in t.scalars.indices { t.scalars[i] = name == "randn" ? random.normal() : random.uniform() }
            return t
        }
    }
}
