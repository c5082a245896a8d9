import Glibc

/// Cost functions: a prediction and a target in, a scalar out.
public enum Loss: Hashable, Sendable, CaseIterable {
    /// `mean((y − t)²)` with broadcasting. ∂/∂y = `2(y − t)/n`, ∂/∂t = `−2(y − t)/n`.
    case mse
    /// Softmax cross-entropy of logits `z` (shape `(C)`, `(N, C)`, or any `(…, C)`: classes on the
    /// last axis, each row one prediction) against class indices (a scalar, or of `z`'s shape
    /// without its last axis: `(N)`, `(…)`) or a probability tensor of `z`'s shape, averaged over
    /// the `N` rows (all of them: `N` is the product of the axes before the last). Computed
    /// through `log_softmax`, so logits of ±1000 are exact.
    /// ∂/∂z = `(softmax(z)·Σt − t)/N`; ∂/∂t = `−log_softmax(z)/N` for probabilities, 0 for indices.
    case crossEntropy
    /// Binary cross-entropy `mean(−t·log p − (1−t)·log(1−p))`, each logarithm clamped at
    /// −100 as PyTorch does, so a saturated `p` of exactly 0 or 1 costs 100, not ∞.
    /// ∂/∂p = `(−t/p + (1−t)/(1−p))/n`, where a clamped logarithm is a constant and its
    /// term contributes 0 (so the gradient stays finite); ∂/∂t = `(log(1−p) − log p)/n`
    /// with the clamped logarithms.
    case bce
    /// `bce(sigmoid(z), t)` from the logits: `mean(softplus(z) − t·z)`, with the stable
    /// `softplus(z) = max(z, 0) + log1p(e^−|z|)`, exact for any `z` (no clamping needed).
    /// ∂/∂z = `(σ(z) − t)/n`, ∂/∂t = `−z/n`.
    case bceWithLogits
    /// Kullback–Leibler divergence `Σ p·(log p − log q)`, with `0·log 0 = 0`.
    /// ∂/∂p = `log p − log q + 1`, ∂/∂q = `−p/q`.
    case kl

    public var name: String {
        switch self {
        case .mse: "mse"
        case .crossEntropy: "cross_entropy"
        case .bce: "bce"
        case .bceWithLogits: "bce_with_logits"
        case .kl: "kl"
        }
    }

    /// How the language spells it, for lowering, completion and `:help functions`.
    public var function: Builtins.Function {
        let call = Builtins.Call.apply(.loss(self), parameters: ["y", "t"], required: 2)
        return switch self {
        case .mse: Builtins.Function(name: "mse", signature: "mse(y, t)", summary: "mean((y − t)^2)", call: call)
        case .crossEntropy: Builtins.Function(name: "cross_entropy", signature: "cross_entropy(z, t)", summary: "softmax cross-entropy of logits z (classes on the last axis) against class indices or probabilities t, mean over rows", call: call)
        case .bce: Builtins.Function(name: "bce", signature: "bce(p, t)", summary: "mean(−t·log p − (1−t)·log(1−p)), logs clamped at −100", call: call)
        case .bceWithLogits: Builtins.Function(name: "bce_with_logits", signature: "bce_with_logits(z, t)", summary: "bce(sigmoid(z), t) computed stably from logits (prefer it)", call: call)
        case .kl: Builtins.Function(name: "kl", signature: "kl(p, q)", summary: "sum(p·(log p − log q))", call: call)
        }
    }

    /// Whether cross-entropy's target holds class indices (rather than probabilities): one per
    /// row, of the logits' shape without its last axis.
    static func targetsAreIndices(_ z: [Int], _ t: [Int]) -> Bool {
        !z.isEmpty && t.count == z.count - 1 && t.elementsEqual(z.prefix(z.count - 1))
    }

    func check(_ shapes: [[Int]]) throws(ShapeMessage) {
        let (a, b) = (shapes[0], shapes[1])
        switch self {
        case .mse, .bce, .bceWithLogits, .kl:
            guard Broadcast.shape(a, b) != nil else {
                throw ShapeMessage("shapes \(describe(shape: a)) and \(describe(shape: b)) do not broadcast for \(name)")
            }
        case .crossEntropy:
            guard !a.isEmpty else {
                throw ShapeMessage("cross_entropy needs logits of shape (C), (N, C) or (…, C), got \(describe(shape: a))")
            }
            guard a == b || Loss.targetsAreIndices(a, b) else {
                let indexShape = a.count == 1 ? "a scalar class index" : "class indices of shape \(describe(shape: Array(a.dropLast())))"
                throw ShapeMessage("cross_entropy target must be \(indexShape) or probabilities of shape \(describe(shape: a)), got \(describe(shape: b))")
            }
        }
    }

    /// `x·log y`, taken as 0 when `x = 0` (the limit used by entropy and KL).
    static func xlogy(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x * log(y) }

    /// The floor of ``clampedLog(_:)``, PyTorch's for `binary_cross_entropy`.
    static let logFloor = -100.0

    /// `max(log p, −100)`; NaN stays NaN.
    static func clampedLog(_ p: Double) -> Double {
        let l = log(p)
        return l < logFloor ? logFloor : l
    }

    /// A class index as an offset into a row of `classes`, or nil when it is not a whole
    /// number in `0..<classes` (NaN included).
    static func classIndex(_ value: Double, classes: Int) -> Int? {
        guard value == value.rounded(), value >= 0, value < Double(classes) else { return nil }
        return Int(value)
    }

    /// The logits as rows of `C`, and the target as one probability row per logit row.
    static func rows(_ z: Tensor, _ t: Tensor) throws(ShapeMessage) -> (logits: Tensor, target: Tensor) {
        let classes = z.shape.last ?? 1
        let logits = z.reshaped([z.count / Swift.max(classes, 1), classes])
        guard targetsAreIndices(z.shape, t.shape) else { return (logits, t.reshaped(logits.shape)) }
        var target = Tensor.zeros(logits.shape)
        for (row, value) in t.scalars.enumerated() {
            guard let index = classIndex(value, classes: classes) else {
                guard value == value.rounded() else {
                    throw ShapeMessage("cross_entropy class index \(value.isNaN ? "nan" : Printer.number(value)) is not a whole number")
                }
                throw ShapeMessage("cross_entropy class index \(Printer.number(value)) is out of range for \(classes) classes (0 to \(classes - 1))")
            }
            target.scalars[row * classes + index] = 1
        }
        return (logits, target)
    }

    func forward(_ a: Tensor, _ b: Tensor) throws(ShapeMessage) -> Tensor {
        switch self {
        case .mse:
            let shape = Broadcast.shape(a.shape, b.shape) ?? []
            let d = Broadcast.zip(a, b, to: shape) { ($0 - $1) * ($0 - $1) }
            return Tensor(d.scalars.reduce(0, +) / Double(d.count))
        case .crossEntropy:
            let (logits, target) = try Loss.rows(a, b)
            let logp = Reduction.logSoftmax(logits)
            var total = 0.0
            for i in logp.scalars.indices where target.scalars[i] != 0 { total -= target.scalars[i] * logp.scalars[i] }
            return Tensor(total / Double(logits.shape[0]))
        case .bce:
            let shape = Broadcast.shape(a.shape, b.shape) ?? []
            let terms = Broadcast.zip(a, b, to: shape) { p, t in
                // A coefficient of 0 makes its term 0 even where the log is clamped or −∞.
                (t == 0 ? 0 : -t * Loss.clampedLog(p)) + (t == 1 ? 0 : -(1 - t) * Loss.clampedLog(1 - p))
            }
            return Tensor(terms.scalars.reduce(0, +) / Double(terms.count))
        case .bceWithLogits:
            let shape = Broadcast.shape(a.shape, b.shape) ?? []
            let terms = Broadcast.zip(a, b, to: shape) { z, t in Pointwise.softplus.value(z) - t * z }
            return Tensor(terms.scalars.reduce(0, +) / Double(terms.count))
        case .kl:
            let shape = Broadcast.shape(a.shape, b.shape) ?? []
            let terms = Broadcast.zip(a, b, to: shape) { p, q in Loss.xlogy(p, p) - Loss.xlogy(p, q) }
            return Tensor(terms.scalars.reduce(0, +))
        }
    }
}

extension Loss: OpFamily {
    func resultShape(_ shapes: [[Int]]) throws(ShapeMessage) -> [Int] {
        try check(shapes)
        return []
    }

    func forward(_ x: [Tensor]) throws(ShapeMessage) -> Tensor { try forward(x[0], x[1]) }

    /// The cross-entropy is written into `out` with no tensor made (the same terms summed in
    /// the same order as ``forward(_:_:)``); the other costs as ``forward(_:)``.
    func forward(_ x: [Tensor], into out: inout Tensor, shouldStop: () -> Bool) throws(ShapeMessage) -> Bool {
        guard self == .crossEntropy else {
            out = try forward(x)
            return true
        }
        let (z, t) = (x[0], x[1])
        let classes = Swift.max(z.shape.last ?? 1, 1), rows = z.count / classes
        let indices = Loss.targetsAreIndices(z.shape, t.shape)
        var total = 0.0
        for r in 0..<rows {
            let row = (r * classes)..<((r + 1) * classes)
            let normalizer = Reduction.logSumExp(z, row)
            if indices {
                guard let index = Loss.classIndex(t.scalars[r], classes: classes) else {
                    _ = try Loss.rows(z, t)  // the message for the first bad index
                    throw ShapeMessage("cross_entropy class index is out of range")
                }
                total -= 1 * (z.scalars[row.lowerBound + index] - normalizer)
            } else {
                for i in row where t.scalars[i] != 0 { total -= t.scalars[i] * (z.scalars[i] - normalizer) }
            }
        }
        out.prepare(shape: [])
        out.scalars[0] = total / Double(rows)
        return true
    }

    var derivative: Derivative { .scalar(gradientTensor) }

    /// The exported script's helpers, each the formula above in the framework's ops (`kl(p, q)`
    /// in this argument order, `bce` clamped at −100, class indices as integers).
    func python(_ x: [String], _ framework: Framework) -> String {
        "\(name)(\(x[0]), \(x[1]))"
    }
    var saves: Saved { .inputs }

    /// Class indices receive no gradient (null, not zero).
    func differentiates(argument k: Int, shapes: [[Int]]) -> Bool {
        self != .crossEntropy || k == 0 || !Loss.targetsAreIndices(shapes[0], shapes[1])
    }

    func flops(_ shapes: [[Int]], result: [Int]) -> Int {
        let count = shapes.map { $0.reduce(1, *) }.max() ?? 0
        switch self {
        case .mse: return 3 * count
        case .crossEntropy: return 5 * (shapes.first?.reduce(1, *) ?? 0)
        case .bce: return 7 * count
        case .bceWithLogits: return 4 * count
        case .kl: return 4 * count
        }
    }

    /// ∂loss/∂(input k) as nodes, elementwise at a shape that broadcasts with the input's
    /// (the rule sums it back onto the input's own shape).
    func gradientTensor(_ e: inout Emitter, node id: NodeID, input k: Int) throws(ShapeMessage) -> NodeID? {
        let x0 = e.input(id, 0), x1 = e.input(id, 1)
        let a = try e.primal(x0), b = try e.primal(x1)
        let n = Double(max((Broadcast.shape(e.shape(a), e.shape(b)) ?? []).reduce(1, *), 1))
        switch self {
        case .mse:
            let d = try e.subtract(a, b)
            return try e.multiply(d, e.scalar(k == 0 ? 2 / n : -2 / n))
        case .crossEntropy:
            let z = e.shape(a)
            let rows = Double(max(z.dropLast().reduce(1, *), 1))
            if k == 1 { return try e.multiply(try e.emit(.logSoftmax, [a]), e.scalar(-1 / rows)) }
            let softmax = try e.emit(.softmax, [a])
            let error: NodeID?
            if Loss.targetsAreIndices(z, e.shape(b)) {
                error = try e.subtract(softmax, try e.emit(.oneHot(classes: z.last ?? 1), [b]))
            } else {
                error = try e.subtract(try e.multiply(softmax, try e.sumLastAxisKeep(b)), b)
            }
            return try e.multiply(error, e.scalar(1 / rows))
        case .bce:
            return try bceGradient(&e, p: a, t: b, input: k, count: n)
        case .bceWithLogits:
            // mean(softplus(z) − t·z): ∂/∂z = (σ(z) − t)/n, ∂/∂t = −z/n.
            let d = k == 0 ? try e.subtract(try e.apply(.sigmoid, a), b) : try e.negate(a)
            return try e.multiply(d, e.scalar(1 / n))
        case .kl:
            if k == 0 {
                return try e.add(try e.subtract(try e.apply(.log, a), try e.apply(.log, b)), e.scalar(1))
            }
            // 0 where p = 0, with q fed 1 there so that q = 0 leaks no NaN into higher derivatives.
            let empty = try e.compare(.equal, a, e.scalar(0))
            let ratio = try e.negate(try e.divide(a, try e.select(empty, e.scalar(1), b) ?? b))
            return try e.select(empty, nil, ratio)
        }
    }

    /// Binary cross-entropy with each logarithm clamped at −100: a clamped term is flat.
    private func bceGradient(_ e: inout Emitter, p: NodeID, t: NodeID, input k: Int, count n: Double) throws(ShapeMessage) -> NodeID? {
        let floor = e.scalar(-100), one = e.scalar(1)
        let oneMinusP = try e.subtract(one, p) ?? p
        let liveP = try e.compare(.greater, try e.apply(.log, p), floor)
        let liveQ = try e.compare(.greater, try e.apply(.log, oneMinusP), floor)
        // Where a logarithm is clamped its branch is dead: it is fed 1 instead, so that neither its
        // value nor its own derivatives (1/p at p = 0) leak NaN through the selection (a "double where").
        let safeP = try e.select(liveP, p, one) ?? p, safeQ = try e.select(liveQ, oneMinusP, one) ?? oneMinusP
        if k == 1 {
            let clampedP = try e.select(liveP, try e.apply(.log, safeP), floor)
            let clampedQ = try e.select(liveQ, try e.apply(.log, safeQ), floor)
            return try e.multiply(try e.subtract(clampedQ, clampedP), e.scalar(1 / n))
        }
        let oneMinusT = try e.subtract(one, t) ?? t
        let towardZero = try e.select(liveP, try e.negate(try e.divide(t, safeP)), nil)
        let towardOne = try e.select(liveQ, try e.divide(oneMinusT, safeQ), nil)
        return try e.multiply(try e.add(towardZero, towardOne), e.scalar(1 / n))
    }
}
