import ChainruleCore

/// The read–evaluate–print loop: reads entries (joining continuation lines), runs them, repeats.
public struct REPL {
    public static let prompt = "chainrule> "
    public static let continuationPrompt = "      ...> "

    let session: Session
    let reader: LineReader
    /// Called after each entry, e.g. to flush buffered output.
    let afterEntry: () -> Void

    public init(session: Session, reader: LineReader, afterEntry: @escaping () -> Void = {}) {
        self.session = session
        self.reader = reader
        self.afterEntry = afterEntry
    }

    /// Runs until `:quit` or end of input. Errors are reported and never end the loop.
    public func run() {
        var pending: [String] = []
        while !session.quitRequested {
            let prompt = pending.isEmpty ? colored(REPL.prompt) : colored(REPL.continuationPrompt)
            switch reader.readLine(prompt: prompt) {
            case .end:
                return
            case .interrupt:
                pending.removeAll()
            case .line(let line):
                pending.append(line)
                let text = pending.joined(separator: "\n")
                if Lexer.needsContinuation(text) { continue }
                pending.removeAll()
                if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                reader.addHistory(text)
                session.run(Source(name: "<stdin>", text: text))
                afterEntry()
            }
        }
    }

    func colored(_ prompt: String) -> String {
        session.style.wrap("1;34", prompt)
    }
}
