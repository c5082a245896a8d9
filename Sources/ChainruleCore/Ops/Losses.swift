import Glibc

/// Cost functions: a prediction and a target in, a scalar out.
public enum Loss: Hashable, Sendable {
    /// `mean((y − t)²)` with broadcasting. ∂/∂y = `2(y − t)/n`, ∂/∂t = `−2(y − t)/n`.
    case mse
    /// Softmax cross-entropy of logits `z` (shape `(C)` or `(N, C)`) against class
    /// indices (a scalar, or shape `(N)`) or a probability tensor of `z`'s shape,
    /// averaged over `N`. Computed through `log_softmax`, so logits of ±1000 are exact.
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

    /// Whether cross-entropy's target holds class indices (rather than probabilities).
    static func targetsAreIndices(_ z: [Int], _ t: [Int]) -> Bool {
        (z.count == 1 && t.isEmpty) || (z.count == 2 && t == [z[0]])
    }

    func check(_ shapes: [[Int]]) throws(ShapeMessage) {
        let (a, b) = (shapes[0], shapes[1])
        switch self {
        case .mse, .bce, .bceWithLogits, .kl:
            guard Broadcast.shape(a, b) != nil else {
                throw ShapeMessage("shapes \(describe(shape: a)) and \(describe(shape: b)) do not broadcast for \(name)")
            }
        case .crossEntropy:
            guard a.count == 1 || a.count == 2 else {
                throw ShapeMessage("cross_entropy needs logits of shape (C) or (N, C), got \(describe(shape: a))")
            }
            guard a == b || Loss.targetsAreIndices(a, b) else {
                let indexShape = a.count == 1 ? "a scalar class index" : "class indices of shape (\(a[0]))"
                throw ShapeMessage("cross_entropy target must be \(indexShape) or probabilities of shape \(describe(shape: a)), got \(describe(shape: b))")
            }
        }
    }

    /// `x·log y`, taken as 0 when `x = 0` (the limit used by entropy and KL).
    static func xlogy(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x * log(y) }

    /// `x / y`, taken as 0 when `x = 0` (the derivative of ``xlogy(_:_:)`` in `y`).
    static func ratio(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x / y }

    /// The floor of ``clampedLog(_:)``, PyTorch's for `binary_cross_entropy`.
    static let logFloor = -100.0

    /// `max(log p, −100)`; NaN stays NaN.
    static func clampedLog(_ p: Double) -> Double {
        let l = log(p)
        return l < logFloor ? logFloor : l
    }

    /// `t / p` where `log p` is not clamped, else 0: the derivative of `t·clampedLog(p)` in `p`
    /// (0 also when `t = 0`, as for ``ratio(_:_:)``).
    static func clampedRatio(_ t: Double, _ p: Double) -> Double {
        log(p) < logFloor ? 0 : ratio(t, p)
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

    /// The target as probability rows, for the pullback: the forward pass has already
    /// refused every index ``classIndex(_:classes:)`` rejects, so none reaches here; were
    /// one to, its row would be NaN (a visible wrong value, never a plausible zero).
    static func targetRows(_ t: Tensor, logits: Tensor, indices: Bool) -> Tensor {
        guard indices else { return t.reshaped(logits.shape) }
        let classes = logits.shape[1]
        var target = Tensor.zeros(logits.shape)
        for (row, value) in t.scalars.enumerated() {
            if let index = classIndex(value, classes: classes) {
                target.scalars[row * classes + index] = 1
            } else {
                for c in 0..<classes { target.scalars[row * classes + c] = .nan }
            }
        }
        return target
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

    func pullback(_ g: Tensor, _ a: Tensor, _ b: Tensor, input k: Int) -> Tensor {
        let scale = g.scalars[0]
        let shape = Broadcast.shape(a.shape, b.shape) ?? a.shape
        let n = Double(shape.reduce(1, *))
        switch self {
        case .mse:
            let d = Broadcast.zip(a, b, to: shape) { y, t in 2 * (y - t) / n * scale }
            return Broadcast.reduce(k == 0 ? d : d.map { -$0 }, to: k == 0 ? a.shape : b.shape)
        case .crossEntropy:
            let classes = a.shape.last ?? 1
            let logits = a.reshaped([a.count / Swift.max(classes, 1), classes])
            let indices = Loss.targetsAreIndices(a.shape, b.shape)
            let rows = Double(logits.shape[0])
            if k == 1 {
                // Class indices are not differentiable: the formula does not vary with them.
                if indices { return Tensor.zeros(b.shape) }
                return Reduction.logSoftmax(logits).map { -$0 / rows * scale }.reshaped(b.shape)
            }
            let target = Loss.targetRows(b, logits: logits, indices: indices)
            let p = Reduction.softmax(logits)
            var result = p
            Reduction.forEachRow(of: p) { row in
                var mass = 0.0
                for i in row { mass += target.scalars[i] }
                for i in row { result.scalars[i] = (p.scalars[i] * mass - target.scalars[i]) / rows * scale }
            }
            return result.reshaped(a.shape)
        case .bce:
            let d = Broadcast.zip(a, b, to: shape) { p, t in
                // Each term's coefficient (t or 1 − t) may be 0 where its log is −∞: that term is 0;
                // a clamped log is constant in p: its term contributes 0 to ∂/∂p.
                k == 0
                    ? (-Loss.clampedRatio(t, p) + Loss.clampedRatio(1 - t, 1 - p)) / n * scale
                    : (Loss.clampedLog(1 - p) - Loss.clampedLog(p)) / n * scale
            }
            return Broadcast.reduce(d, to: k == 0 ? a.shape : b.shape)
        case .bceWithLogits:
            let d = Broadcast.zip(a, b, to: shape) { z, t in
                k == 0 ? (Pointwise.sigmoid(z) - t) / n * scale : -z / n * scale
            }
            return Broadcast.reduce(d, to: k == 0 ? a.shape : b.shape)
        case .kl:
            let d = Broadcast.zip(a, b, to: shape) { p, q in
                k == 0 ? (log(p) - log(q) + 1) * scale : -Loss.ratio(p, q) * scale
            }
            return Broadcast.reduce(d, to: k == 0 ? a.shape : b.shape)
        }
    }
}
