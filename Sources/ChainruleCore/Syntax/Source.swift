/// A named piece of program text: a script file, one line typed at the prompt, an `-e` argument.
///
/// The text is kept as UTF-8 bytes and positions are byte offsets into them; they become
/// line and column numbers (columns counting Unicode scalars) only when a diagnostic is
/// shown, by a binary search in a table of line starts.
///
/// The text is normalised as it is read: a byte-order mark at the start is dropped
/// (it is not a column), and `\r\n` and a lone `\r` (old Mac files) end lines as `\n` does.
///
/// A class, so that every node and diagnostic that points into the text holds one reference
/// rather than a copy of its fields; it never changes after it is made.
public final class Source: Sendable, Equatable {
    public static func == (lhs: Source, rhs: Source) -> Bool {
        lhs === rhs || (lhs.name == rhs.name && lhs.firstLine == rhs.firstLine && lhs.bytes == rhs.bytes)
    }

    public let name: String
    /// The normalised text as UTF-8 (always valid UTF-8: it comes from a `String`).
    public let bytes: [UInt8]
    /// The line number (1-based) of the first line, for text that continues a larger input.
    public let firstLine: Int
    /// The offset where each line starts; the first is 0.
    let lineStarts: [Int]

    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        self.bytes = Source.normalized(text)
        self.firstLine = firstLine
        var starts = [0]
        bytes.withUnsafeBufferPointer { b in
            for i in b.indices where b[i] == UInt8(ascii: "\n") { starts.append(i + 1) }
        }
        self.lineStarts = starts
    }

    /// The text's UTF-8 without a leading byte-order mark, with every line ending made `\n`.
    static func normalized(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { utf8 in
            var start = 0
            if utf8.count >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF { start = 3 }
            let body = UnsafeBufferPointer(rebasing: utf8[start...])
            guard body.contains(UInt8(ascii: "\r")) else { return Array(body) }
            var result: [UInt8] = []
            result.reserveCapacity(body.count)
            var previousWasReturn = false
            for c in body {
                defer { previousWasReturn = c == UInt8(ascii: "\r") }
                if c == UInt8(ascii: "\r") {
                    result.append(UInt8(ascii: "\n"))
                } else if c == UInt8(ascii: "\n") && previousWasReturn {
                    continue  // the second half of `\r\n`
                } else {
                    result.append(c)
                }
            }
            return result
        }
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Text between two offsets.
    public func text(_ range: SourceRange) -> String {
        let lo = max(0, min(range.start, bytes.count)), hi = max(lo, min(range.end, bytes.count))
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
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

    /// Unicode scalars that start between two byte offsets (UTF-8 continuation bytes start none).
    public func scalarCount(_ range: Range<Int>) -> Int {
        var count = 0
        for i in range where bytes[i] & 0xC0 != 0x80 { count += 1 }
        return count
    }

    /// The 1-based line and column of an offset (columns count Unicode scalars).
    public func location(of offset: Int) -> SourceLocation {
        let end = min(max(offset, 0), bytes.count)
        let index = lineIndex(of: end)
        return SourceLocation(file: name, line: firstLine + index, column: scalarCount(lineStarts[index]..<end) + 1)
    }

    /// The range of the whole line containing `offset`, without its newline.
    public func lineRange(containing offset: Int) -> SourceRange {
        let index = lineIndex(of: min(max(offset, 0), bytes.count))
        let start = lineStarts[index]
        let end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : bytes.count
        return SourceRange(start, end)
    }

    /// The whole line containing `offset`, without its newline.
    public func lineText(containing offset: Int) -> String {
        text(lineRange(containing: offset))
    }

    /// The Unicode scalar starting at byte `offset`, and how many bytes it takes.
    public func scalar(at offset: Int) -> (scalar: Unicode.Scalar, length: Int) {
        bytes.withUnsafeBufferPointer { Source.decode($0, at: offset) }
    }

    /// Decodes the scalar of valid UTF-8 starting at `p`.
    @inline(__always)
    static func decode(_ s: UnsafeBufferPointer<UInt8>, at p: Int) -> (scalar: Unicode.Scalar, length: Int) {
        let b0 = UInt32(s[p])
        if b0 < 0x80 { return (Unicode.Scalar(UInt8(b0)), 1) }
        let length = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2
        guard p + length <= s.count else { return ("\u{FFFD}", 1) }
        var value = b0 & (0x7F >> UInt32(length))
        for k in 1..<length { value = value << 6 | (UInt32(s[p + k]) & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
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
