import Glibc

/// Reductions: `sum` and `mean` (of everything, or along one axis), `sum_to` (summing a
/// broadcast tensor back to its shape, the adjoint of broadcasting), `max` of all elements
/// and its derivative's mask, and `softmax`/`log_softmax` along the last axis.
struct Reductions: OpFamily {
    let op: Op
    init(_ op: Op) { self.op = op }

    static let functions: [Builtins.Function] = [
        Builtins.Function(name: "sum", signature: "sum(x[, axis])", summary: "sum of all elements, or along one axis", call: .axis { .sum(axis: $0) }),
        Builtins.Function(name: "mean", signature: "mean(x[, axis])", summary: "mean of all elements, or along one axis", call: .axis { .mean(axis: $0) }),
        .unary(.max, name: "max", signature: "max(x)", summary: "largest element (gradient to the first largest)"),
        .unary(.softmax, name: "softmax", signature: "softmax(x)", summary: "softmax over the last axis, computed stably"),
        .unary(.logSoftmax, name: "log_softmax", signature: "log_softmax(x)", summary: "log of softmax over the last axis, computed stably"),
    ]

    /// Every op of the family, of shapes a scalar fits where it has a shape (``Op/declared()``).
    static func examples() throws(ShapeMessage) -> [Op] {
        [.sum(axis: nil), .mean(axis: nil), .sumTo([]), .max, .argmaxMask, .softmax, .logSoftmax]
    }

    var name: String {
        switch op {
        case .sum: "sum"
        case .mean: "mean"
        case .sumTo: "sum_to"
        case .max: "max"
        case .argmaxMask: "argmax_mask"
        case .softmax: "softmax"
        default: "log_softmax"
        }
    }

    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        switch op {
        case .sum(let axis), .mean(let axis):
            guard let axis else { return [] }
            var shape = shapes[0]
            guard axis >= 0 && axis < shape.count else {
                throw ShapeMessage("axis \(axis) is out of range for a tensor of rank \(shape.count)")
            }
            shape.remove(at: axis)
            return shape
        case .sumTo(let target):
            guard Broadcast.shape(target, shapes[0]) == shapes[0] else {
                throw ShapeMessage("cannot sum shape \(describe(shape: shapes[0])) to \(describe(shape: target))")
            }
            return target
        case .max, .argmaxMask:
            guard shapes[0].reduce(1, *) > 0 else { throw ShapeMessage("max of an empty tensor") }
            return op == .max ? [] : shapes[0]
        default:
            return shapes[0]
        }
    }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor {
        switch op {
        case .sum(nil):
            return Tensor(x[0].scalars.reduce(0, +))
        case .sum(let axis?):
            return Reduction.sum(x[0], axis: axis)
        case .mean(nil):
            return Tensor(x[0].scalars.reduce(0, +) / Double(x[0].count))
        case .mean(let axis?):
            let n = Double(x[0].shape[axis])
            return Reduction.sum(x[0], axis: axis).map { $0 / n }
        case .sumTo(let target):
            return Broadcast.reduce(x[0], to: target)
        case .max:
            return Tensor(x[0].scalars[Reduction.argmax(x[0].scalars)])
        case .argmaxMask:
            var mask = Tensor.zeros(x[0].shape)
            mask.scalars[Reduction.argmax(x[0].scalars)] = 1
            return mask
        case .softmax:
            return Reduction.softmax(x[0])
        default:
            return Reduction.logSoftmax(x[0])
        }
    }

    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        if case .sumTo(let target) = op, x[0].shape != target {
            Broadcast.reduce(x[0], to: target, into: &out)
        } else if op == .sum(axis: nil) || op == .mean(axis: nil) || op == .max {
            // A scalar result: written into `out` (the evaluator keeps one for scalar results).
            let x = x[0]
            let value = op == .max ? x.scalars[Reduction.argmax(x.scalars)]
                : op == .sum(axis: nil) ? x.scalars.reduce(0, +) : x.scalars.reduce(0, +) / Double(x.count)
            out.prepare(shape: [])
            out.scalars[0] = value
        } else if op == .softmax {
            Reduction.softmax(x[0], into: &out)
        } else if op == .logSoftmax {
            Reduction.logSoftmax(x[0], into: &out)
        } else {
            out = try forward(x)
        }
        return true
    }

    var derivative: Derivative {
        switch op {
        case .sum, .mean, .sumTo: .linear(transpose: transpose)
        case .max: .scalar(gradientTensor)
        case .argmaxMask: .none
        default: .rowwise(rowMap)
        }
    }

    /// `max` through the exported script's `first_max` (the gradient to the first largest
    /// element, as here); softmax over the last axis.
    func python(_ x: [String], _ framework: Framework) -> String {
        switch op {
        case .sum(nil): "\(x[0]).sum()"
        case .sum(let axis?): "\(x[0]).sum(\(axis))"
        case .mean(nil): "\(x[0]).sum() / " + (framework == .torch ? "\(x[0]).numel()" : "\(x[0]).size")
        case .mean(let axis?): "\(x[0]).sum(\(axis)) / \(x[0]).shape[\(axis)]"
        case .sumTo(let shape): "sum_to(\(x[0]), \(Export.tuple(shape)))"
        case .max: "first_max(\(x[0]))"
        case .argmaxMask: "argmax_mask(\(x[0]))"
        case .softmax: "softmax(\(x[0]))"
        default: "log_softmax(\(x[0]))"
        }
    }

    var saves: Saved {
        switch op {
        case .max: .inputs
        case .softmax, .logSoftmax: .output
        default: .nothing
        }
    }

    /// A reduction of one element: `sum` is `0 + x` (turning −0 into +0, as the tensor's
    /// reduction does), `mean` that over 1, `max` and `sum_to` the element itself, its mask 1.
    func scalarValue(_ x0: Double, _ x1: Double, _ x2: Double) -> Double? {
        switch op {
        case .sumTo, .max: x0
        case .sum(nil): 0 + x0
        case .mean(nil): (0 + x0) / 1
        case .argmaxMask: 1
        default: nil
        }
    }
    var scalarKernel: ScalarKernel {
        switch op {
        case .sumTo, .max: .first
        default: scalarValue(0, 0, 0) == nil ? .none : .general
        }
    }

    /// A full sum or mean: every row the same, all ones or all `1/n`.
    func jacobianStructure(_ inputs: [Tensor], output: Tensor, argument k: Int) -> LocalJacobian.Structure {
        switch op {
        case .sum(nil): .constantRow(1)
        case .mean(nil): .constantRow(1 / Double(Swift.max(inputs[0].count, 1)))
        default: .dense
        }
    }

    func flops(_ shapes: [[Int]], result: [Int]) -> Int {
        let input = shapes.first?.reduce(1, *) ?? 0
        switch op {
        case .mean: return input + result.reduce(1, *)
        case .softmax, .logSoftmax: return 4 * result.reduce(1, *)
        default: return input
        }
    }

    func transpose(_ e: inout Emitter, node id: NodeID, input k: Int, gradient g: NodeID) throws(ShapeMessage) -> NodeID? {
        let target = e.shape(e.input(id, k))
        switch op {
        case .sum(nil), .sumTo:
            return try e.broadcastTo(g, target)
        case .mean(nil):
            return try e.multiply(try e.broadcastTo(g, target), e.scalar(1 / Double(max(target.reduce(1, *), 1))))
        case .sum(let a?), .mean(let a?):
            var kept = target
            kept[a] = 1
            let spread = try e.broadcastTo(try e.reshape(g, kept), target)
            if case .sum = op { return spread }
            return try e.multiply(spread, e.scalar(1 / Double(max(target[a], 1))))
        default:
            throw ShapeMessage("\(op.name) has no transpose rule")
        }
    }

    /// `max`: the whole gradient to the first largest element.
    func gradientTensor(_ e: inout Emitter, node id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        try e.emit(.argmaxMask, [try e.primal(e.input(id, 0))])
    }

    /// The Jacobian of a row function applied to `v`, or its transpose. Softmax: `v ↦ y ⊙ (v − Σ y⊙v)`
    /// (symmetric); log-softmax: `v ↦ v − Σ eʸ⊙v`, transposed `v ↦ v − eʸ ⊙ Σ v`. Sums run along the last axis.
    func rowMap(_ e: inout Emitter, node id: NodeID, _ v: NodeID, transposed: Bool) throws(ShapeMessage) -> NodeID? {
        guard !e.shape(id).isEmpty else { return nil }
        let y = try e.primal(id)
        if op == .softmax {
            return try e.multiply(y, try e.subtract(v, try e.sumLastAxisKeep(try e.multiply(y, v))))
        }
        let p = try e.apply(.exp, y)
        if !transposed { return try e.subtract(v, try e.sumLastAxisKeep(try e.multiply(p, v))) }
        return try e.subtract(v, try e.multiply(p, try e.sumLastAxisKeep(v)))
    }
}
