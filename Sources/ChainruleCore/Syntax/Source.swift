/// A named piece of program text: a script file, one line typed at the prompt, an `-e` argument.
///
/// Positions are offsets into `scalars`; they become line and column numbers
/// only when a diagnostic is shown.
public struct Source: Sendable, Equatable {
    public let name: String
    public let scalars: [Unicode.Scalar]
    /// The line number (1-based) of the first line, for text that continues a larger input.
    public let firstLine: Int

    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        self.scalars = Array(text.unicodeScalars)
        self.firstLine = firstLine
    }

    public var text: String { String(String.UnicodeScalarView(scalars)) }

    /// Text between two offsets.
    public func text(_ range: SourceRange) -> String {
        let lo = max(0, min(range.start, scalars.count)), hi = max(lo, min(range.end, scalars.count))
        return String(String.UnicodeScalarView(scalars[lo..<hi]))
    }

    /// The 1-based line and column of an offset (columns count Unicode scalars).
    public func location(of offset: Int) -> SourceLocation {
        var line = firstLine, lineStart = 0
        let end = min(max(offset, 0), scalars.count)
        for i in 0..<end where scalars[i] == "\n" {
            line += 1
            lineStart = i + 1
        }
        return SourceLocation(file: name, line: line, column: end - lineStart + 1)
    }

    /// The whole line containing `offset`, without its newline.
    public func lineText(containing offset: Int) -> String {
        let at = min(max(offset, 0), scalars.count)
        var start = at, end = at
        while start > 0 && scalars[start - 1] != "\n" { start -= 1 }
        while end < scalars.count && scalars[end] != "\n" { end += 1 }
        return text(SourceRange(start, end))
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
