import Glibc

/// The initialisers `xavier(n, m, seed=k)` and `he(n, m, seed=k)`: `randn` or `rand` of the
/// same seed, scaled, so the same seed gives the same numbers on every machine.
///
/// For shape (n, m) (an `(out, in)` weight read as `W @ x`: fan_in = m, fan_out = n; one size
/// n is a vector with fan_in = fan_out = n):
/// - `xavier`: `√(2 / (fan_in + fan_out)) · randn`, with `uniform=true` `√(6 / (fan_in + fan_out)) · (2·rand − 1)`
/// - `he`: `√(2 / fan_in) · randn`, with `uniform=true` `√(6 / fan_in) · (2·rand − 1)`
enum Initialiser: String, CaseIterable {
    case xavier, he

    static let functions: [Builtins.Function] = [
        Builtins.Function(name: "xavier", signature: "xavier(n, m, seed=0, uniform=false)",
                          summary: "Glorot initialisation: √(2/(n+m))·randn, or √(6/(n+m))·(2·rand − 1) with uniform=true", call: .creation),
        Builtins.Function(name: "he", signature: "he(n, m, seed=0, uniform=false)",
                          summary: "He initialisation (fan_in m): √(2/m)·randn, or √(6/m)·(2·rand − 1) with uniform=true", call: .creation),
    ]

    /// The values for `shape` (one or two sizes, each checked) from `seed`; nil when
    /// `shouldStop` asks, part way through millions of samples.
    func values(shape: [Int], seed: UInt64, uniform: Bool, shouldStop: () -> Bool = { false }) -> Tensor? {
        let fanOut = shape.first ?? 1, fanIn = shape.count > 1 ? shape[1] : fanOut
        let spread = self == .xavier ? Double(fanIn + fanOut) : Double(fanIn)
        let scale = ((uniform ? 6 : 2) / max(spread, 1)).squareRoot()
        var random = SeededRandom(seed: seed)
        var t = Tensor.zeros(shape)
        for i in t.scalars.indices {
            if i & 0xFFFFF == 0xFFFFF, shouldStop() { return nil }
            t.scalars[i] = uniform ? scale * (2 * random.uniform() - 1) : scale * random.normal()
        }
        return t
    }
}

extension Lowering {
    /// Whether a keyword argument is a flag, `uniform=true` or `uniform=false`: read by its
    /// call, not a name of the graph.
    static func isFlag(_ keyword: KeywordArgument) -> Bool {
        guard keyword.name == "uniform", case .name(let flag) = keyword.value.kind else { return false }
        return flag == "true" || flag == "false"
    }
}
