/// A named piece of program text: a script file, one line typed at the prompt, an `-e` argument.
///
/// Positions are offsets into `scalars`; they become line and column numbers
/// only when a diagnostic is shown, by a binary search in a table of line starts.
///
/// The text is normalised as it is read: a byte-order mark at the start is dropped
/// (it is not a column), and `\r\n` and a lone `\r` (old Mac files) end lines as `\n` does.
///
/// A class, so that every node and diagnostic that points into the text holds one reference
/// rather than a copy of its fields; it never changes after it is made.
public final class Source: Sendable, Equatable {
    public static func == (lhs: Source, rhs: Source) -> Bool {
        lhs === rhs || (lhs.name == rhs.name && lhs.firstLine == rhs.firstLine && lhs.scalars == rhs.scalars)
    }

    public let name: String
    public let scalars: [Unicode.Scalar]
    /// The line number (1-based) of the first line, for text that continues a larger input.
    public let firstLine: Int
    /// The offset where each line starts; the first is 0.
    let lineStarts: [Int]

    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        self.scalars = Source.normalized(text)
        self.firstLine = firstLine
        var starts = [0]
        for (i, c) in scalars.enumerated() where c == "\n" { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// The text's scalars without a leading byte-order mark, with every line ending made `\n`.
    static func normalized(_ text: String) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.utf8.count)
        var previousWasReturn = false
        for (i, c) in text.unicodeScalars.enumerated() {
            defer { previousWasReturn = c == "\r" }
            if i == 0 && c == "\u{FEFF}" { continue }
            if c == "\r" {
                result.append("\n")
            } else if c == "\n" && previousWasReturn {
                continue  // the second half of `\r\n`
            } else {
                result.append(c)
            }
        }
        return result
    }

    public var text: String { String(String.UnicodeScalarView(scalars)) }

    /// Text between two offsets.
    public func text(_ range: SourceRange) -> String {
        let lo = max(0, min(range.start, scalars.count)), hi = max(lo, min(range.end, scalars.count))
        return String(String.UnicodeScalarView(scalars[lo..<hi]))
    }

    /// The index in `lineStarts` of the line containing `offset` (binary search).
    func lineIndex(of offset: Int) -> Int {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The 1-based line and column of an offset (columns count Unicode scalars).
    public func location(of offset: Int) -> SourceLocation {
        let end = min(max(offset, 0), scalars.count)
        let index = lineIndex(of: end)
        return SourceLocation(file: name, line: firstLine + index, column: end - lineStarts[index] + 1)
    }

    /// The range of the whole line containing `offset`, without its newline.
    public func lineRange(containing offset: Int) -> SourceRange {
        let index = lineIndex(of: min(max(offset, 0), scalars.count))
        let start = lineStarts[index]
        let end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : scalars.count
        return SourceRange(start, end)
    }

    /// The whole line containing `offset`, without its newline.
    public func lineText(containing offset: Int) -> String {
        text(lineRange(containing: offset))
    }
}

/// A half-open range of offsets into a ``Source``.
public struct SourceRange: Sendable, Equatable, Hashable {
    public var start: Int
    public var end: Int
    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = end
    }
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(min(start, other.start), max(end, other.end))
    }
}

/// A position as people read it: `file:line:column`.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var description: String { "\(file):\(line):\(column)" }
    /// `line:column`, for pointing elsewhere in the same file.
    public var lineAndColumn: String { "\(line):\(column)" }
}

/// A range within a particular source: where a node or statement came from.
public struct SourceSpan: Sendable, Equatable {
    public var source: Source
    public var range: SourceRange
    public init(_ source: Source, _ range: SourceRange) {
        self.source = source
        self.range = range
    }
    public var location: SourceLocation { source.location(of: range.start) }
    public var text: String { source.text(range) }
}
