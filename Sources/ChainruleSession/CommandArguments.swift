import ChainruleCore

/// A command's argument text split into words, each remembering where it is for carets.
struct CommandArguments {
    struct Word {
        var text: String
        var span: SourceSpan
    }

    let command: CommandStatement
    let source: Source
    var words: [Word] = []
    /// Where a quoted word with no closing quote starts: refused before the command runs.
    var unterminated: SourceSpan?

    init(_ command: CommandStatement, in source: Source) {
        self.command = command
        self.source = source
        // Offsets are UTF-8 byte offsets, as in the source; every delimiter is ASCII.
        let bytes = Array(command.arguments.utf8)
        func blank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        var i = 0
        while i < bytes.count {
            if blank(bytes[i]) { i += 1; continue }
            let start = i
            let text: String
            if bytes[i] == UInt8(ascii: "\"") {
                i += 1
                let contents = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += 1 }
                text = String(decoding: bytes[contents..<i], as: UTF8.self)
                if i >= bytes.count, unterminated == nil {
                    unterminated = SourceSpan(source, SourceRange(command.argumentsStart + start, command.argumentsStart + start + 1))
                }
                i += 1
            } else {
                // A word runs to the next blank, but brackets may hold blanks: `seed=[1, 0]`.
                var depth = 0
                while i < bytes.count && (depth > 0 || !blank(bytes[i])) {
                    if bytes[i] == UInt8(ascii: "[") || bytes[i] == UInt8(ascii: "(") { depth += 1 }
                    if bytes[i] == UInt8(ascii: "]") || bytes[i] == UInt8(ascii: ")") { depth -= 1 }
                    i += 1
                }
                text = String(decoding: bytes[start..<i], as: UTF8.self)
            }
            let offset = command.argumentsStart
            words.append(Word(text: text, span: SourceSpan(source, SourceRange(offset + start, offset + min(i, bytes.count)))))
        }
    }

    /// The command's name, for errors about the command as a whole.
    var nameSpan: SourceSpan {
        SourceSpan(source, SourceRange(command.range.start, command.range.start + 1 + command.name.utf8.count))
    }

    /// Where a missing argument would go.
    var endSpan: SourceSpan {
        SourceSpan(source, SourceRange(command.range.end, command.range.end))
    }

    func expect(count range: ClosedRange<Int>, usage: String) throws(Diagnostic) {
        if words.count < range.lowerBound {
            throw Diagnostic("missing argument; usage: \(usage)", at: endSpan)
        }
        if words.count > range.upperBound {
            throw Diagnostic("unexpected argument '\(words[range.upperBound].text)'; usage: \(usage)", at: words[range.upperBound].span)
        }
    }

    /// Splits `key=value` words off the positional ones.
    func keyed(_ keys: [String], usage: String) throws(Diagnostic) -> (positional: [Word], keyed: [String: Word]) {
        var positional: [Word] = []
        var keyed: [String: Word] = [:]
        for word in words {
            guard let equals = word.text.firstIndex(of: "=") else {
                positional.append(word)
                continue
            }
            let key = String(word.text[..<equals])
            guard !key.isEmpty else {
                throw Diagnostic("an option is written key=value with no blanks around '=' (as in \(keys.first ?? "key")=…); usage: \(usage)", at: word.span)
            }
            guard keys.contains(key) else {
                let suggestion = Suggestions.didYouMean(key, among: keys).map { $0 + " " } ?? "; "
                throw Diagnostic("unknown option '\(key)'\(suggestion)usage: \(usage)", at: word.span)
            }
            guard keyed[key] == nil else {
                throw Diagnostic("option '\(key)' is given twice; usage: \(usage)", at: word.span)
            }
            let valueText = String(word.text[word.text.index(after: equals)...])
            let offset = key.utf8.count + 1
            keyed[key] = Word(text: valueText, span: SourceSpan(source, SourceRange(word.span.range.start + offset, word.span.range.end)))
        }
        return (positional, keyed)
    }
}

extension Session {
    /// Evaluates a constant expression given as a command argument (`seed=[1, 0]`, `lr=0.1`).
    func constant(_ word: CommandArguments.Word) throws(Diagnostic) -> Tensor {
        // Parse the word where it stands (blanks before it), so errors point into the command line.
        let original = word.span.source
        var text = ""
        // One blank per byte, so that offsets in the new text are offsets in the original.
        for byte in original.bytes.prefix(word.span.range.start) {
            text.unicodeScalars.append(byte == UInt8(ascii: "\n") ? "\n" : " ")
        }
        text += word.text
        let source = Source(name: original.name, text: text, firstLine: original.firstLine)
        let (statements, diagnostics) = Parser.parse(source)
        if let first = diagnostics.first { throw Self.relocate(first, to: word.span.source) }
        guard statements.count == 1, case .expression(let expr) = statements[0] else {
            throw Diagnostic("expected a value, as in 0.1 or [1, 0]", at: word.span)
        }
        do {
            return try workspace.evaluate(expr, in: source)
        } catch {
            throw Self.relocate(error, to: word.span.source)
        }
    }

    /// Points a diagnostic made against a padded copy of a line back at the original source.
    static func relocate(_ diagnostic: Diagnostic, to source: Source) -> Diagnostic {
        var moved = diagnostic
        if let span = diagnostic.span { moved.span = SourceSpan(source, span.range) }
        return moved
    }
}
