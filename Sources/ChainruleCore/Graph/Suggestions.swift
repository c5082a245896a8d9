/// "Did you mean …?" for misspelt names.
public enum Suggestions {
    /// The candidates that look like a misspelling of `word`, nearest first, at most `limit`:
    /// those within a small edit distance, and those that `word` begins (`learn` → `learning_rate`).
    public static func close(to word: String, among candidates: [String], limit: Int = 3) -> [String] {
        let target = Array(word.unicodeScalars)
        // One-letter names are too short for a misspelling to be recognisable.
        let reach = target.count <= 1 ? 0 : max(1, target.count / 3)
        var scored: [(String, Int)] = []
        for candidate in Set(candidates) where candidate != word {
            let d = distance(target, Array(candidate.unicodeScalars))
            if d <= reach {
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

    /// Levenshtein distance, with a transposition of neighbours counting as one edit.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
