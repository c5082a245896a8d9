/// "Did you mean …?" for misspelt names.
public enum Suggestions {
    /// Names longer than this are not compared letter by letter (no one misspells them).
    static let longestCompared = 256
    /// The most edits a suggestion may be away, however long the name.
    static let mostEdits = 5

    /// The candidates that look like a misspelling of `word`, nearest first, at most `limit`:
    /// those within a small edit distance, and those that `word` begins (`learn` → `learning_rate`).
    ///
    /// The work is bounded: a candidate whose length differs by more than the allowed edits
    /// is skipped without comparing, and the comparison only fills a band of the table.
    public static func close(to word: String, among candidates: [String], limit: Int = 3) -> [String] {
        let target = Array(word.unicodeScalars.prefix(longestCompared + 1))
        let comparable = target.count <= longestCompared
        // One-letter names are too short for a misspelling to be recognisable.
        let reach = target.count <= 1 ? 0 : min(mostEdits, max(1, target.count / 3))
        var scored: [(String, Int)] = []
        for candidate in Set(candidates) where candidate != word {
            let scalars = candidate.unicodeScalars
            if comparable, abs(scalars.count - target.count) <= reach,
               let d = distance(target, Array(scalars), atMost: reach) {
                scored.append((candidate, d))
            } else if target.count >= 3 && candidate.hasPrefix(word) {
                scored.append((candidate, reach + 1))
            }
        }
        let nearest = scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
        let sameLetters = differingInCase(from: word, among: candidates)
        return Array((sameLetters + nearest.filter { !sameLetters.contains($0) }).prefix(limit))
    }

    /// The case-insensitive pass: candidates spelt like `word` but for case (`RELU` → `relu`),
    /// sorted; they come before every other suggestion.
    static func differingInCase(from word: String, among candidates: [String]) -> [String] {
        let folded = word.lowercased()
        return Set(candidates).filter { $0 != word && $0.lowercased() == folded }.sorted()
    }

    /// `; did you mean 'a'?`, `; did you mean 'a' or 'b'?`, or nil when nothing is close.
    public static func didYouMean(_ word: String, among candidates: [String], prefix: String = "") -> String? {
        let found = close(to: word, among: candidates).map { "'\(prefix)\($0)'" }
        guard let last = found.last else { return nil }
        let list = found.count == 1 ? last : found.dropLast().joined(separator: ", ") + " or " + last
        return "; did you mean \(list)?"
    }

    /// Levenshtein distance, with a transposition of neighbours counting as one edit, or nil
    /// when it is more than `bound`. Only cells within `bound` of the diagonal are computed
    /// (cells outside hold more than `bound`), so the work is about `a.count · (2·bound + 1)`.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], atMost bound: Int) -> Int? {
        if abs(a.count - b.count) > bound { return nil }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        let outside = bound + 1
        var previous2 = [Int](repeating: outside, count: b.count + 1)
        var previous = (0...b.count).map { Swift.min($0, outside) }
        var current = [Int](repeating: outside, count: b.count + 1)
        for i in 1...a.count {
            let low = Swift.max(1, i - bound), high = Swift.min(b.count, i + bound)
            current[0] = i <= bound ? i : outside
            if low > 1 { current[low - 1] = outside }
            var best = current[0]
            if low <= high {
                for j in low...high {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    var d = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        d = Swift.min(d, previous2[j - 2] + 1)
                    }
                    current[j] = Swift.min(d, outside)
                    best = Swift.min(best, current[j])
                }
            }
            if high < b.count { current[high + 1] = outside }
            if best > bound { return nil }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count] <= bound ? previous[b.count] : nil
    }
}
