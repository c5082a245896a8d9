import Glibc

/// Elementwise functions of two tensors with NumPy broadcasting: `+ - * / ^`,
/// two-argument `max` and `min`, and the activations whose slope is an input
/// (`leaky_relu(x, a)`, `elu(x, a)`, with `a` broadcast from a scalar). The
/// reverse rule forms the elementwise partial derivative at the broadcast shape, then
/// sums it back onto the input's own shape (the adjoint of broadcasting), so a
/// scalar slope receives the sum over every element.
public enum BinaryArithmetic: UInt8, Hashable, Sendable, CaseIterable {
    case add, subtract, multiply, divide, power
    /// `max(a, b)`: `a` if `a ≥ b` (or `a` is NaN) else `b`. The derivative is `1` for the
    /// chosen argument and `0` for the other; at a tie the first argument is chosen, so
    /// `max(0, x)` has the derivative of `relu`, `0` at `x = 0`.
    case maximum
    /// `min(a, b)`: `a` if `a ≤ b` (or `a` is NaN) else `b`; derivatives as for ``maximum``,
    /// the first argument taking the gradient at a tie.
    case minimum
    /// `leaky_relu(x, a)`: `x` if `x > 0` else `a·x`. ∂/∂x = `1` or `a`; ∂/∂a = `0` or `x`
    /// (at `x = 0` both branches agree on the value; the derivative takes the `a·x` branch).
    case leakyRelu
    /// `elu(x, a)`: `x` if `x > 0` else `a·(eˣ − 1)`. ∂/∂x = `1` or `a·eˣ`; ∂/∂a = `0` or `eˣ − 1`.
    case elu

    public var name: String {
        switch self {
        case .add: "add"
        case .subtract: "sub"
        case .multiply: "mul"
        case .divide: "div"
        case .power: "pow"
        case .maximum: "maximum"
        case .minimum: "minimum"
        case .leakyRelu: "leaky_relu"
        case .elu: "elu"
        }
    }

    public var symbol: String {
        switch self {
        case .add: "+"
        case .subtract: "-"
        case .multiply: "*"
        case .divide: "/"
        case .power: "^"
        case .maximum: "max"
        case .minimum: "min"
        case .leakyRelu: "leaky_relu"
        case .elu: "elu"
        }
    }

    /// How the language spells it as a function (the operators `+ - * / ^` are spelled by the parser).
    public var function: Builtins.Function? {
        switch self {
        case .leakyRelu: Builtins.Function(name: "leaky_relu", signature: "leaky_relu(x, a=0.01)", summary: "x if x > 0 else a·x; a is any scalar, learnable", call: .slope(self))
        case .elu: Builtins.Function(name: "elu", signature: "elu(x, a=1)", summary: "x if x > 0 else a·(exp(x) − 1); a is any scalar, learnable", call: .slope(self))
        case .maximum: Builtins.Function(name: "max", signature: "max(a, b)", summary: "elementwise larger, broadcasting (gradient to a at a tie)",
                                         call: .apply(.binary(self), parameters: ["a", "b"], required: 2))
        case .minimum: Builtins.Function(name: "min", signature: "min(a, b)", summary: "elementwise smaller, broadcasting (gradient to a at a tie)",
                                         call: .apply(.binary(self), parameters: ["a", "b"], required: 2))
        case .add, .subtract, .multiply, .divide, .power: nil
        }
    }

    /// For an activation with a slope input, `f(x, a=…)`: the slope when none is given.
    public var defaultSlope: Double? {
        switch self {
        case .leakyRelu: 0.01
        case .elu: 1
        default: nil
        }
    }

    public func value(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: pow(a, b)
        case .maximum: a >= b || a.isNaN ? a : b
        case .minimum: a <= b || a.isNaN ? a : b
        case .leakyRelu: a > 0 ? a : b * a
        case .elu: a > 0 ? a : b * expm1(a)
        }
    }

    func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Broadcast.shape(a.shape, b.shape) ?? a.shape
        return Broadcast.zip(a, b, to: shape, value)
    }
}

extension BinaryArithmetic: OpFamily {
    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
            throw ShapeMessage("shapes \(describe(shape: shapes[0])) and \(describe(shape: shapes[1])) do not broadcast for '\(symbol)'")
        }
        return shape
    }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor { forward(x[0], x[1]) }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        // A closure, not the method itself: a method used as a value is a partial application, made on the heap.
        Broadcast.zip(x[0], x[1], to: Broadcast.shape(x[0].shape, x[1].shape) ?? x[0].shape, into: &out) { value($0, $1) }
        return true
    }

    var derivative: Derivative {
        switch self {
        case .add, .subtract: .linear(tangent: linearTangent, transpose: transpose)
        case .multiply: .multilinear(transpose: transpose)
        case .divide, .power, .maximum, .minimum, .leakyRelu, .elu: .elementwise(partial)
        }
    }

    /// The JAX and PyTorch spellings: operators as written; `max(a, b)` and `min(a, b)` through the
    /// exported script's `maximum`/`minimum`, which give a tie to the first argument as here.
    func python(_ x: [String], _ framework: Framework) -> String {
        switch self {
        case .add: "\(x[0]) + \(x[1])"
        case .subtract: "\(x[0]) - \(x[1])"
        case .multiply: "\(x[0]) * \(x[1])"
        case .divide: "\(x[0]) / \(x[1])"
        case .power: "power(\(x[0]), \(x[1]))"
        case .maximum: "maximum(\(x[0]), \(x[1]))"
        case .minimum: "minimum(\(x[0]), \(x[1]))"
        case .leakyRelu: "leaky_relu(\(x[0]), \(x[1]))"
        case .elu: "elu(\(x[0]), \(x[1]))"
        }
    }

    /// Elementwise with broadcasting, linear or not.
    func reading(input k: Int) -> ElementReading { .elementwise }

    var saves: Saved {
        switch self {
        case .add, .subtract: .nothing
        case .multiply, .maximum, .minimum, .leakyRelu: .inputs
        case .divide, .power, .elu: [.inputs, .output]
        }
    }

    func flops(_ shapes: [[Int]], result: [Int]) -> Int { result.reduce(1, *) }

    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? { value(x0, x1) }

    /// Every binary op is its own kernel: the evaluator computes it by ``value(_:_:)``.
    var scalarKernel: ScalarKernel { .binary(self) }

    /// Where the argument has the result's shape (no broadcasting): `I` for a sum, `±I` for a
    /// difference, else `diag(∂y/∂xₖ)`; broadcast arguments are shown as the full matrix.
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure {
        guard inputs[k].shape == output.shape else { return .dense }
        switch self {
        case .add: return .identity
        case .subtract: return k == 0 ? .identity : .negatedIdentity
        default: return .diagonal(LocalJacobian.diagonal(op: .binary(self), inputs: inputs, output: output, argument: k))
        }
    }

    func linearTangent(_ e: inout Emitter, node id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        let sum = self == .add ? try e.add(dx[0], dx[1]) : try e.subtract(dx[0], dx[1])
        return try e.broadcastTo(sum, e.shape(id))
    }

    func transpose(_ e: inout Emitter, node id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let target = e.shape(e.input(id, k)), other = e.input(id, 1 - k)
        switch self {
        case .add:
            return try e.unbroadcast(g, to: target)
        case .subtract:
            let summed = try e.unbroadcast(g, to: target)
            return k == 0 ? summed : try e.negate(summed)
        default:
            // Multiplication, linear in each argument: ḡ times the other one.
            return try e.unbroadcast(try e.multiply(g, try e.primal(other)), to: target)
        }
    }

    /// `∂(a ∘ b)/∂a` (k = 0) or `∂(a ∘ b)/∂b` (k = 1) as nodes, at the broadcast shape.
    func partial(_ e: inout Emitter, node id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        let x0 = e.input(id, 0), x1 = e.input(id, 1)
        let a = try e.primal(x0), b = try e.primal(x1)
        switch self {
        case .divide:
            return k == 0 ? try e.divide(e.scalar(1), b) : try e.negate(try e.divide(try e.primal(id), b))
        case .power:
            return try powerPartial(&e, node: id, a: a, b: b, input: k)
        case .maximum, .minimum:
            // The chosen argument gets the gradient; at a tie, the first.
            let first = self == .maximum ? try e.compare(.greaterEqual, a, b) : try e.compare(.greaterEqual, b, a)
            return k == 0 ? first : try e.subtract(e.scalar(1), first)
        case .leakyRelu:
            // ∂/∂x = 1 or a; ∂/∂a = 0 or x, by the sign of x.
            return k == 0 ? try e.select(try e.positive(a), e.scalar(1), b) : try e.select(try e.positive(a), nil, a)
        case .elu:
            // ∂/∂x = 1 or a·eˣ = y + a; ∂/∂a = 0 or eˣ − 1.
            if k == 0 { return try e.select(try e.positive(a), e.scalar(1), try e.add(try e.primal(id), b)) }
            return try e.select(try e.positive(a), nil, try e.subtract(try e.apply(.exp, a), e.scalar(1)))
        case .add, .subtract, .multiply:
            throw ShapeMessage("\(name) is linear in each argument: it has a transpose, not an elementwise derivative")
        }
    }

    /// `∂(aᵇ)/∂a = b·a^(b−1)` (0 where `b = 0`) and `∂(aᵇ)/∂b = aᵇ·log a` (0 where `a = 0, b ≥ 0`).
    private func powerPartial(_ e: inout Emitter, node id: NodeID, a: NodeID, b: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        if k == 0 {
            if e.isConstant(b, equalTo: 0) { return nil }
            let bMinusOne = try e.subtract(b, e.scalar(1)) ?? b
            if let bValue = e.constantValue(b), !bValue.scalars.contains(0) {
                let power = e.isConstant(bMinusOne, equalTo: 1) ? a : try e.emit(.binary(.power), [a, bMinusOne])
                return try e.multiply(b, power)
            }
            // Where b = 0 the branch is dead, and a is fed 1 there so that 0^(−1) leaks no NaN.
            let flat = try e.compare(.equal, b, e.scalar(0))
            let safeA = try e.select(flat, e.scalar(1), a) ?? a
            return try e.select(flat, nil, try e.multiply(b, try e.emit(.binary(.power), [safeA, bMinusOne])))
        }
        let flat = try e.multiply(try e.compare(.equal, a, e.scalar(0)), try e.compare(.greaterEqual, b, e.scalar(0))) ?? a
        let slope = try e.multiply(try e.primal(id), try e.apply(.log, try e.select(flat, e.scalar(1), a) ?? a))
        return try e.select(flat, nil, slope)
    }
}
