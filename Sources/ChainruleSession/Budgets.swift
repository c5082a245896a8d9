import ChainruleCore

/// `:set output N` and `:set memory SIZE`: how much one command may print, and how much
/// the graph, its values and a derivative pass may take (enforced by the workspace).
extension Session {
    /// The default of `:set output`: characters one command or value may print.
    public static let defaultOutputLimit = 1_000_000
    /// The default of `:set memory`: bytes the graph and a derivative pass may take (800 MB).
    /// With it the process stays under 1 GB, as `scripts/bench` measures: what the budget does not
    /// count (the program, a script being read, an op's scratch) is well under the 200 MB left.
    public static let defaultMemoryLimit = 800_000_000

    /// `text` cut to the output limit, with a line saying how much was left out.
    func bounded(_ text: String) -> String {
        var end = text.startIndex
        var kept = 0
        while end < text.endIndex && kept < outputLimit {
            end = text.index(after: end)
            kept += 1
        }
        guard end < text.endIndex else { return text }
        var cut = String(text[..<end])
        if let newline = cut.lastIndex(of: "\n") { cut = String(cut[..<newline]) }
        return cut + "\n… output cut at \(outputLimit) characters (:set output N shows more)"
    }

    /// The lines of a command's output, made only until they pass the output limit: ``bounded(_:)``
    /// cuts the text there, so lines past it would be formatted only to be thrown away. What is
    /// printed is what the whole text prints, cut at the same line and with the same note.
    struct CutLines {
        private(set) var lines: [String] = []
        let limit: Int
        /// Characters of the lines joined by newlines.
        private(set) var characters = 0

        init(limit: Int) { self.limit = limit }

        /// Whether the text already has more characters than the limit: any more lines would be cut.
        var isFull: Bool { characters > limit }

        mutating func append(_ line: String) {
            characters += (lines.isEmpty ? 0 : 1) + line.count
            lines.append(line)
        }

        var text: String { lines.joined(separator: "\n") }
    }

    /// A table with a heading, cut at the output limit, whose rows are made only until the limit
    /// is passed: each row is made once, and rows past the ones the cut can reach are never made.
    /// A row's cells joined by two spaces are never longer than its padded line, so once their
    /// sum passes the limit the cut falls inside the rows made. The columns are as wide as
    /// those rows need; a table the limit does not cut is the whole table.
    struct CutTable {
        let limit: Int
        private(set) var heading: [String]
        let header: [String]
        private(set) var rows: [[String]] = []
        /// A lower bound on the characters of the text: the heading, the header and the rows unpadded.
        private var characters: Int

        init(limit: Int, heading: [String], header: [String]) {
            self.limit = limit
            self.heading = heading
            self.header = header
            characters = heading.reduce(0) { $0 + $1.count + 1 } + CutTable.unpaddedCount(header)
        }

        /// Whether the rows made already pass the limit: any more would be cut.
        var isFull: Bool { characters > limit }

        mutating func add(_ row: [String]) {
            characters += 1 + CutTable.unpaddedCount(row)
            rows.append(row)
        }

        /// The characters of `row` written with no padding: its cells joined by two spaces, without
        /// trailing empty cells (a table line drops its trailing spaces).
        static func unpaddedCount(_ row: [String]) -> Int {
            guard let last = row.lastIndex(where: { !$0.isEmpty }) else { return 0 }
            return row[...last].reduce(2 * last) { $0 + $1.count }
        }
    }

    /// Reads `2GB`, `500MB`, `64KB`, `1000000` (bytes); nil for anything else.
    static func parse(bytes text: String) -> Int? {
        let upper = text.uppercased()
        let units: [(String, Int)] = [("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1)]
        for (suffix, size) in units where upper.hasSuffix(suffix) {
            guard let number = Double(upper.dropLast(suffix.count)), number.isFinite, number > 0,
                  number * Double(size) < 1e18 else { return nil }
            return Int((number * Double(size)).rounded())
        }
        guard let n = Int(text), n > 0, n < 1_000_000_000_000_000_000 else { return nil }
        return n
    }
}
