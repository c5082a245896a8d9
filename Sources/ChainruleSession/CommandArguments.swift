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

    init(_ command: CommandStatement, in source: Source) {
        self.command = command
        self.source = source
        let scalars = Array(command.arguments.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == " " || scalars[i] == "\t" { i += 1; continue }
            let start = i
            var text = ""
            if scalars[i] == "\"" {
                i += 1
                while i < scalars.count && scalars[i] != "\"" { text.unicodeScalars.append(scalars[i]); i += 1 }
                i += 1
            } else {
                // A word runs to the next blank, but brackets may hold blanks: `seed=[1, 0]`.
                var depth = 0
                while i < scalars.count && (depth > 0 || (scalars[i] != " " && scalars[i] != "\t")) {
                    if scalars[i] == "[" || scalars[i] == "(" { depth += 1 }
                    if scalars[i] == "]" || scalars[i] == ")" { depth -= 1 }
                    text.unicodeScalars.append(scalars[i])
                    i += 1
                }
            }
            let offset = command.argumentsStart
            words.append(Word(text: text, span: SourceSpan(source, SourceRange(offset + start, offset + min(i, scalars.count)))))
        }
    }

    /// The command's name, for errors about the command as a whole.
    var nameSpan: SourceSpan {
        SourceSpan(source, SourceRange(command.range.start, command.range.start + 1 + command.name.unicodeScalars.count))
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
            guard keys.contains(key) else {
                throw Diagnostic("unknown option '\(key)'; usage: \(usage)", at: word.span)
            }
            let valueText = String(word.text[word.text.index(after: equals)...])
            let offset = key.unicodeScalars.count + 1
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
        for scalar in original.scalars.prefix(word.span.range.start) {
            text.unicodeScalars.append(scalar == "\n" ? "\n" : " ")
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
