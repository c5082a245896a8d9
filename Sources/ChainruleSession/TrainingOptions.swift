import ChainruleCore

/// The options of `:train`, read and checked.
struct TrainingOptions {
    static let usage = ":train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"
    static let keys = ["steps", "lr", "optimizer", "beta", "beta2", "eps", "decay", "batch", "seed", "every", "restarts"]

    var steps = 100
    var optimizer = Optimizer(.sgd, learningRate: 0.1)
    /// Rows sampled from the batch axis at each step; nil: every row (full batch).
    var batch: Int?
    var seed: UInt64 = 0
    /// Off a terminal, a line every `every` steps; nil: none.
    var every: Int?
    var restarts: Int?
}

extension Session {
    /// Reads `:train`'s options from its keyed words.
    func trainingOptions(_ keyed: [String: CommandArguments.Word]) throws(Diagnostic) -> TrainingOptions {
        var options = TrainingOptions()
        func whole(_ key: String, _ range: ClosedRange<Int>) throws(Diagnostic) -> Int? {
            guard let word = keyed[key] else { return nil }
            guard let n = Int(word.text), range.contains(n) else {
                throw Diagnostic("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)", at: word.span)
            }
            return n
        }
        func number(_ key: String, _ what: String, _ valid: (Double) -> Bool) throws(Diagnostic) -> Double? {
            guard let word = keyed[key] else { return nil }
            guard let r = try constant(word).scalar, r.isFinite, valid(r) else {
                throw Diagnostic("\(key) must be \(what)", at: word.span)
            }
            return r
        }
        options.steps = try whole("steps", 1...10_000_000) ?? options.steps
        var method = Optimizer.Method.sgd
        if let word = keyed["optimizer"] {
            guard let m = Optimizer.Method(rawValue: word.text) else {
                let suggestion = Suggestions.didYouMean(word.text, among: Optimizer.Method.allCases.map(\.rawValue)) ?? ""
                throw Diagnostic("unknown optimizer '\(word.text)'\(suggestion.isEmpty ? ";" : suggestion) it is sgd, momentum or adam", at: word.span)
            }
            method = m
        }
        options.optimizer = Optimizer(method, learningRate: try number("lr", "a positive number") { $0 > 0 } ?? method.defaultLearningRate)
        if let word = keyed["beta"], method == .sgd {
            throw Diagnostic("beta is an option of momentum and adam; add optimizer=momentum or optimizer=adam", at: word.span)
        }
        if let word = keyed["beta2"] ?? keyed["eps"], method != .adam {
            throw Diagnostic("\(keyed["beta2"] != nil ? "beta2" : "eps") is an option of adam; add optimizer=adam", at: word.span)
        }
        options.optimizer.beta = try number("beta", "a number from 0 up to (not including) 1") { $0 >= 0 && $0 < 1 } ?? 0.9
        options.optimizer.beta2 = try number("beta2", "a number from 0 up to (not including) 1") { $0 >= 0 && $0 < 1 } ?? 0.999
        options.optimizer.epsilon = try number("eps", "a positive number") { $0 > 0 } ?? 1e-8
        options.optimizer.decay = try number("decay", "a number not below 0") { $0 >= 0 } ?? 0
        options.batch = try whole("batch", 1...Limits.elements)
        options.seed = try whole("seed", 0...Int.max).map { UInt64($0) } ?? 0
        options.every = try whole("every", 1...10_000_000)
        options.restarts = try whole("restarts", 1...1000)
        return options
    }
}
