import ChainruleCore

/// The read–evaluate–print loop: reads entries (joining continuation lines), runs them, repeats.
public struct REPL {
    public static let prompt = "chainrule> "
    public static let continuationPrompt = "      ...> "

    let session: Session
    let reader: LineReader
    /// Called after each entry, e.g. to flush buffered output.
    let afterEntry: () -> Void
    /// Whether an empty line ends the loop (the prompt a presentation drops to).
    let endsAtBlankLine: Bool

    public init(session: Session, reader: LineReader, endsAtBlankLine: Bool = false, afterEntry: @escaping () -> Void = {}) {
        self.session = session
        self.reader = reader
        self.endsAtBlankLine = endsAtBlankLine
        self.afterEntry = afterEntry
    }

    /// Runs until `:quit` or end of input. Errors are reported and never end the loop.
    /// A line pasted with its prompt (`chainrule> x = 1`, copied from a terminal or the README)
    /// is run without it; in a paste that began so, the lines without a prompt are the output
    /// that was copied along, and are skipped.
    public func run() {
        var pending: [String] = []
        var pastingTranscript = false
        while !session.quitRequested {
            // A :quiz waits for its answer: the next line is read as one, under its own prompt.
            if session.awaitsAnswer {
                switch reader.readLine(prompt: colored(Session.answerPrompt)) {
                case .line(let text): session.answer(text)
                case .interrupt, .end: session.answer("")
                }
                afterEntry()
                continue
            }
            let prompt = pending.isEmpty ? colored(REPL.prompt) : colored(REPL.continuationPrompt)
            let pastedBefore = reader.hasPendingInput
            switch reader.readLine(prompt: prompt) {
            case .end:
                return
            case .interrupt:
                pending.removeAll()
                pastingTranscript = false
            case .line(var line):
                let pasted = pastedBefore || reader.hasPendingInput
                if let unprompted = PastedPrompt.blanked(line) {
                    line = unprompted
                    pastingTranscript = pasted
                } else if pastingTranscript && pastedBefore && pending.isEmpty {
                    continue  // output copied along with a transcript
                } else {
                    pastingTranscript = false
                }
                if endsAtBlankLine && pending.isEmpty && line.allSatisfy({ $0 == " " || $0 == "\t" }) { return }
                pending.append(line)
                let text = pending.joined(separator: "\n")
                if Lexer.needsContinuation(text) { continue }
                pending.removeAll()
                if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                reader.addHistory(text)
                session.run(Source(name: "<stdin>", text: text), typed: true)
                afterEntry()
            }
        }
    }

    func colored(_ prompt: String) -> String {
        session.style.wrap("1;34", prompt)
    }
}
