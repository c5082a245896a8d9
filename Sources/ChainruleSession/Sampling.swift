import ChainruleCore
import Foundation

/// `:sample LOGITS X`: text drawn from a model that reads one-hot rows and writes, in row t of
/// its logits, the scores of what follows position t (a causal language model such as
/// examples/tiny-gpt.graph). The context starts as one character; each step puts the
/// character drawn for the next position into X and evaluates again. X is put back exactly.
extension Session {
    static let sampleUsage = ":sample LOGITS X [chars=\"…\"] [start=i] [count=N] [temperature=τ] [seed=k]"

    func sample(_ arguments: CommandArguments) throws(Diagnostic) {
        let (positional, keyed) = try arguments.keyed(["chars", "start", "count", "temperature", "seed"], usage: Session.sampleUsage)
        guard positional.count == 2 else {
            throw Diagnostic(positional.count < 2 ? "missing \(positional.isEmpty ? "LOGITS and X" : "X"); usage: \(Session.sampleUsage)"
                                                  : "unexpected argument '\(positional[2].text)'; usage: \(Session.sampleUsage)",
                             at: positional.count > 2 ? positional[2].span : arguments.endSpan)
        }
        let logitsWord = positional[0], inputWord = positional[1]
        let logits = try node(logitsWord), input = try node(inputWord)
        let graph = workspace.graph
        guard let inputName = graph[input].name, graph[input].isLeaf, graph[input].kind == .input else {
            throw Diagnostic("\(inputWord.text) must be an input leaf of one-hot rows (T, V)", at: inputWord.span)
        }
        let shape = graph[input].shape
        guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
            throw Diagnostic("\(inputWord.text) has shape \(describe(shape: shape)); :sample needs one-hot rows of shape (T, V)", at: inputWord.span)
        }
        guard graph[logits].shape == shape else {
            throw Diagnostic("\(logitsWord.text) has shape \(describe(shape: graph[logits].shape)) but \(inputWord.text) has shape \(describe(shape: shape)): row t of the logits scores what follows position t", at: logitsWord.span)
        }
        guard graph.ancestors(of: logits)[input] else {
            throw Diagnostic("\(logitsWord.text) does not depend on \(inputWord.text)", at: logitsWord.span)
        }
        let (positions, vocabulary) = (shape[0], shape[1])
        var characters: [String]? = nil
        if let word = keyed["chars"] {
            var text = word.text
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
            guard text.count == vocabulary else {
                throw Diagnostic("chars has \(text.count) characters but \(inputWord.text) has \(vocabulary) columns: one character a column", at: word.span)
            }
            characters = text.map(String.init)
        }
        func whole(_ key: String, _ range: ClosedRange<Int>, _ fallback: Int) throws(Diagnostic) -> Int {
            guard let word = keyed[key] else { return fallback }
            guard let n = Int(word.text), range.contains(n) else {
                throw Diagnostic("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)", at: word.span)
            }
            return n
        }
        let start = try whole("start", 0...(vocabulary - 1), 0)
        let count = try whole("count", 1...100, 1)
        let seed = UInt64(try whole("seed", 0...Int.max, 0))
        var temperature = 1.0
        if let word = keyed["temperature"] {
            guard let t = try constant(word).scalar, t.isFinite, t > 0 else { throw Diagnostic("temperature must be a positive number", at: word.span) }
            temperature = t
        }
        func spelled(_ index: Int) -> String { characters?[index] ?? "\(index)" }

        let original = try value(input, at: inputWord.span)
        defer { workspace.setValue(original, of: inputName) }
        var random = SeededRandom(seed: seed)
        var lines = ["sampling \(count) sequence\(count == 1 ? "" : "s") of \(positions) from softmax(\(logitsWord.text) / \(format.format(temperature))), seed \(seed); each starts with \(spelled(start))"]
        for _ in 0..<count {
            var context = Tensor.zeros(shape)
            context.scalars[start] = 1
            var drawn = [start]
            for t in 0..<positions {
                workspace.setValue(context, of: inputName)
                let scores = try value(logits, at: logitsWord.span)
                let row = Array(scores.scalars[(t * vocabulary)..<((t + 1) * vocabulary)])
                let next = Session.draw(row, temperature: temperature, random: &random)
                guard let next else {
                    throw Diagnostic("row \(t) of \(logitsWord.text) is not finite: nothing can be drawn from it", at: logitsWord.span)
                }
                drawn.append(next)
                if t + 1 < positions { context.scalars[(t + 1) * vocabulary + next] = 1 }
            }
            let text = drawn.map(spelled).joined(separator: characters == nil ? " " : "")
            lines.append("  " + style.value(text))
        }
        print(lines.joined(separator: "\n"))
    }

    /// An index drawn with probability softmax(scores / τ), by one uniform number; nil when a
    /// score is not finite.
    static func draw(_ scores: [Double], temperature: Double, random: inout SeededRandom) -> Int? {
        guard let top = scores.max(), top.isFinite, scores.allSatisfy(\.isFinite) else { return nil }
        let weights = scores.map { exp(($0 - top) / temperature) }
        let total = weights.reduce(0, +)
        var u = random.uniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.lastIndex { $0 > 0 } ?? 0
    }
}
