import Glibc

/// How a training step turns gradients into new param values, as PyTorch's `torch.optim`
/// defines each method (weight decay added to the gradient, as its `weight_decay` does).
///
/// With `g = ∂loss/∂w + decay·w`:
/// - `sgd`: `w ← w − η·g`
/// - `momentum`: `v ← β·v + g`, `w ← w − η·v` (`v` starts at 0, so the first step is sgd's)
/// - `adam` (Kingma & Ba): `m ← β·m + (1 − β)·g`, `v ← β₂·v + (1 − β₂)·g²`, and at step `t`
///   (from 1) `w ← w − η·m̂ / (√v̂ + ε)` with `m̂ = m / (1 − βᵗ)`, `v̂ = v / (1 − β₂ᵗ)`;
///   ε is added outside the square root.
public struct Optimizer: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case sgd, momentum, adam

        /// The learning rate used when none is given: 0.1 for sgd and momentum, 0.001 for adam.
        public var defaultLearningRate: Double { self == .adam ? 0.001 : 0.1 }
    }

    public var method: Method
    public var learningRate: Double
    /// Momentum's β, Adam's β₁.
    public var beta: Double
    /// Adam's β₂.
    public var beta2: Double
    /// Adam's ε.
    public var epsilon: Double
    /// L2 weight decay: `decay·w` is added to each gradient.
    public var decay: Double

    public init(_ method: Method, learningRate: Double, beta: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, decay: Double = 0) {
        self.method = method
        self.learningRate = learningRate
        self.beta = beta
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decay = decay
    }

    /// One update of the elements `w` from the gradient `g`, with the method's state `m` and
    /// `v` (each empty or of `w`'s size) and Adam's bias corrections `1 − βᵗ`, `1 − β₂ᵗ`.
    func update(_ w: UnsafeMutableBufferPointer<Double>, gradient g: UnsafeBufferPointer<Double>,
                m: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Double>,
                correction1: Double, correction2: Double) {
        let rate = learningRate
        switch method {
        case .sgd:
            for i in w.indices { w[i] -= rate * (g[i] + decay * w[i]) }
        case .momentum:
            for i in w.indices {
                m[i] = beta * m[i] + (g[i] + decay * w[i])
                w[i] -= rate * m[i]
            }
        case .adam:
            for i in w.indices {
                let gi = g[i] + decay * w[i]
                m[i] = beta * m[i] + (1 - beta) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                w[i] -= rate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
            }
        }
    }
}

/// What one training step did: the loss before it, and where it stopped if it could not step.
public struct TrainingStep: Sendable {
    public var loss: Double
    /// Set when the loss or a gradient was not finite: the params were left as they were.
    public var divergence: NonFiniteNode?
}
