/// Elementwise comparisons. Their results are masks of 0 and 1: the derivative
/// is zero everywhere (a step has no slope), so they stop gradients.
public enum Comparison: Hashable, Sendable {
    /// `a > b`.
    case greater
    /// `a ≥ b`.
    case greaterEqual
    /// `a = b`.
    case equal

    public var name: String {
        switch self {
        case .greater: "greater"
        case .greaterEqual: "greater_equal"
        case .equal: "equal"
        }
    }

    public func value(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .greater: a > b ? 1 : 0
        case .greaterEqual: a >= b ? 1 : 0
        case .equal: a == b ? 1 : 0
        }
    }
}

/// Choosing elements, the ops derivative rules use for kinks and branches:
/// `select(mask, a, b)` (`a` where the mask is non-zero, else `b`, broadcasting),
/// comparisons (0/1 masks) and one-hot rows of class indices. `select` is linear in
/// its two branches (the mask gets no gradient); masks have derivative zero.
struct Selection: OpFamily {
    let op: Op
    init(_ op: Op) { self.op = op }

    static let functions = [
        Builtins.Function(name: "one_hot", signature: "one_hot(t, classes)",
                          summary: "class indices t as one-hot rows: shape t's + (classes), 1 in the column of each index; no gradient",
                          call: .count(parameters: ["t", "classes"], what: "the number of classes") { .oneHot(classes: $0) }),
    ]

    /// Every op of the family (``Op/declared()``).
    static func examples() throws(ShapeMessage) -> [Op] {
        [.select, .compare(.greater), .compare(.greaterEqual), .compare(.equal), .oneHot(classes: 3)]
    }

    var name: String {
        switch op {
        case .select: "select"
        case .compare(let c): c.name
        default: "one_hot"
        }
    }

    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        switch op {
        case .select:
            guard let ab = Broadcast.shape(shapes[1], shapes[2]), let all = Broadcast.shape(shapes[0], ab) else {
                throw ShapeMessage("select of shapes \(shapes.map { describe(shape: $0) }.joined(separator: ", ")) does not broadcast")
            }
            return all
        case .compare(let c):
            guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
                throw ShapeMessage("shapes \(describe(shape: shapes[0])) and \(describe(shape: shapes[1])) do not broadcast for \(c.name)")
            }
            return shape
        case .oneHot(let classes):
            return shapes[0] + [classes]
        default:
            throw ShapeMessage("\(op.name) does not select")
        }
    }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        switch op {
        case .select:
            let shape = try resultShape(x.map(\.shape))
            let mask = Broadcast.expand(x[0], to: shape)
            let a = Broadcast.expand(x[1], to: shape), b = Broadcast.expand(x[2], to: shape)
            var result = a
            for i in result.scalars.indices where mask.scalars[i] == 0 { result.scalars[i] = b.scalars[i] }
            return result
        case .compare(let c):
            let shape = try resultShape(x.map(\.shape))
            return Broadcast.zip(x[0], x[1], to: shape, c.value)
        case .oneHot(let classes):
            var result = Tensor.zeros(x[0].shape + [classes])
            for (row, value) in x[0].scalars.enumerated() {
                guard value == value.rounded(), value >= 0, value < Double(classes) else {
                    throw ShapeMessage("class index \(value.isNaN ? "nan" : Printer.number(value)) is not a whole number from 0 to \(classes - 1)")
                }
                result.scalars[row * classes + Int(value)] = 1
            }
            return result
        default:
            throw ShapeMessage("\(op.name) does not select")
        }
    }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        guard case .compare(let c) = op else {
            out = try forward(x)
            return true
        }
        // The shapes were checked when the node was made: their broadcast is the result's.
        Broadcast.zip(x[0], x[1], to: Broadcast.shape(x[0].shape, x[1].shape) ?? x[0].shape, into: &out) { c.value($0, $1) }
        return true
    }

    var derivative: Derivative { op == .select ? .linear(tangent: linearTangent, transpose: transpose) : .none }

    func python(_ x: [String], _ framework: Framework) -> String {
        switch op {
        case .select: "where(\(x[0]) != 0, \(x[1]), \(x[2]))"
        case .compare(.greater): "mask(\(x[0]) > \(x[1]))"
        case .compare(.greaterEqual): "mask(\(x[0]) >= \(x[1]))"
        case .compare(.equal): "mask(\(x[0]) == \(x[1]))"
        case .oneHot(let classes): "one_hot(\(x[0]), \(classes))"
        default: "unknown"
        }
    }
    /// A selection and a comparison read their arguments elementwise (a branch may be chosen
    /// anywhere, whatever the mask holds now).
    func reading(input k: Int) -> ElementReading {
        if case .oneHot = op { return .everything }
        return .elementwise
    }
    /// `select` reads its mask.
    var saves: Saved { op == .select ? .inputs : .nothing }

    func differentiates(argument k: Int, shapes: [[Int]]) -> Bool {
        switch op {
        case .select: k > 0
        case .oneHot: false
        default: true
        }
    }

    func flops(_ shapes: [[Int]], result: [Int]) -> Int { result.reduce(1, *) }

    /// `select` takes `x2` only where the mask `x0` is exactly 0 (a NaN mask takes `x1`), as the
    /// tensor rule does; one-hot rows can fail (a class index out of range), so they have none.
    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        switch op {
        case .select: x0 == 0 ? x2 : x1
        case .compare(let c): c.value(x0, x1)
        default: nil
        }
    }

    func linearTangent(_ e: inout Emitter, node id: NodeID, inputs dx: [NodeID?]) throws(ShapeMessage) -> NodeID? {
        try e.select(try e.primal(e.input(id, 0)), dx[1], dx[2])
    }

    func transpose(_ e: inout Emitter, node id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let target = e.shape(e.input(id, k))
        let mask = try e.primal(e.input(id, 0))
        return try e.sumTo(k == 1 ? try e.select(mask, g, nil) : try e.select(mask, nil, g), target)
    }
}
