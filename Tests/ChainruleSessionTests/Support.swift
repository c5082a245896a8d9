import ChainruleCore
import ChainruleSession
import XCTest

/// Standard output and standard error interleaved in one text, as a terminal shows them.
final class MergedOutput: OutputSink {
    var text = ""
    var errors = ""
    func write(_ text: String, toError: Bool) {
        self.text += text
        if toError { errors += text }
    }
}

/// Feeds fixed lines to the REPL and writes each prompt and line into the transcript, as a terminal would echo them.
final class ScriptedReader: LineReader {
    var lines: [String]
    let output: MergedOutput
    var history: [String] = []

    init(_ lines: [String], output: MergedOutput) {
        self.lines = lines
        self.output = output
    }

    func readLine(prompt: String) -> LineInput {
        guard !lines.isEmpty else { return .end }
        let line = lines.removeFirst()
        output.text += prompt + line + "\n"
        return .line(line)
    }

    func addHistory(_ entry: String) { history.append(entry) }
}

/// A session writing into a merged buffer.
func makeSession() -> (Session, MergedOutput) {
    let output = MergedOutput()
    let session = Session(output: output)
    // Drawings take 80 columns whatever terminal or COLUMNS the tests run under.
    session.terminalWidth = { nil }
    return (session, output)
}

/// Runs source text as a script named `name`; returns whether it succeeded and what it printed.
@discardableResult
func execute(_ session: Session, _ text: String, name: String = "<stdin>") -> Bool {
    session.run(Source(name: name, text: text))
}
