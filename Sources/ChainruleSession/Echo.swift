import ChainruleCore

/// `--echo` and `:set echo on`: each statement of a script is printed before its output, so a
/// class can tell which line gave which number.
///
/// A statement whose output is one line of value is printed with it, `relu(-3)  →  0`; any
/// other statement (a definition, a command, a value of several lines, a statement that
/// fails) is printed on its own line after `» `, and its output, if any, follows as usual.
/// Statements typed at the prompt are not echoed (the terminal shows them already); those of
/// a script the prompt `:load`s are. Comments and blank lines are not statements: they are
/// never echoed. Echoed text goes to standard output, with the rest of what a script prints.
extension Session {
    /// What marks a statement printed on its own line.
    static let echoMarker = "» "
    /// What joins a statement to its one-line value.
    static let echoArrow = "  →  "

    /// Runs one statement of a script, printing it first (see the type's comment).
    func executeEchoed(_ statement: Statement, in source: Source) throws(Diagnostic) {
        let text = Session.trimmed(source.text(statement.range))
        if case .command(let command) = statement, Session.unechoedCommands.contains(command.name) {
            try execute(statement, in: source)
            return
        }
        guard case .expression(let expr) = statement else {
            echoStatement(text)
            try execute(statement, in: source)
            return
        }
        let value: Tensor
        do throws(Diagnostic) { value = try workspace.evaluate(expr, in: source) } catch {
            echoStatement(text)
            throw error
        }
        let block = format.block(value)
        if block.contains("\n") || text.contains("\n") {
            echoStatement(text)
            print(style.value(block))
        } else {
            print(style.bold(text) + style.dim(Session.echoArrow) + style.value(block))
        }
    }

    /// Prints a statement on its own line: the marker, then the text, its continuation lines
    /// indented under the first.
    func echoStatement(_ text: String) {
        let lines = Session.trimmed(text).split(separator: "\n", omittingEmptySubsequences: false)
        let indent = String(repeating: " ", count: Session.echoMarker.count)
        print(lines.enumerated().map { i, line in
            (i == 0 ? style.dim(Session.echoMarker) : indent) + style.bold(String(line))
        }.joined(separator: "\n"))
    }

    /// A statement's text without the blanks around it (a command's range runs to the end of its line).
    static func trimmed(_ text: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
