import ChainruleSession
import Glibc

/// The prompt at a terminal: libedit's line editing, history and completion.
struct Interactive {
    let session: Session
    let environment: [String: String]

    func run(banner: Bool) {
        if banner {
            Terminal.standardOutput.write("chainrule \(Chainrule.version) — computational graphs, forward and backward. :help lists commands; Ctrl-D leaves.\n", toError: false)
            Terminal.standardOutput.flush()
        }
        let session = self.session
        guard let editor = LineEditor(programName: "chainrule",
                                      historyPath: LineEditor.defaultHistoryPath(environment: environment),
                                      complete: { session.complete($0) }) else {
            REPL(session: session, reader: PlainLineReader(), afterEntry: { Terminal.standardOutput.flush() }).run()
            return
        }
        session.shouldStop = { LineEditor.takeInterrupt() }
        REPL(session: session, reader: editor, afterEntry: { Terminal.standardOutput.flush() }).run()
    }

    /// `--present FILE`: raw keys and libedit at a terminal, one line per key from a pipe.
    func present(_ path: String) -> Bool {
        guard isatty(0) == 1 else {
            return session.present(path: path, keys: LinePresenterKeys(), prompt: PlainLineReader(showsPrompt: false))
        }
        let session = self.session
        let prompt: LineReader = LineEditor(programName: "chainrule",
                                            historyPath: LineEditor.defaultHistoryPath(environment: environment),
                                            complete: { session.complete($0) }) ?? PlainLineReader()
        let keys = RawPresenterKeys()
        defer { keys.finish() }
        return session.present(path: path, keys: keys, prompt: CookedLineReader(prompt, keys: keys))
    }
}

/// Reads lines from standard input byte by byte, printing the prompt itself (when libedit is unavailable).
final class PlainLineReader: LineReader {
    /// Whether the prompt is printed (not for input that is not a terminal: it is a script).
    let showsPrompt: Bool

    init(showsPrompt: Bool = true) { self.showsPrompt = showsPrompt }

    func readLine(prompt: String) -> LineInput {
        if showsPrompt { Terminal.standardOutput.write(prompt, toError: false) }
        Terminal.standardOutput.flush()
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n < 0 && errno == EINTR { return .interrupt }
            if n <= 0 { return bytes.isEmpty ? .end : .line(String(decoding: bytes, as: UTF8.self)) }
            if byte == 10 { return .line(String(decoding: bytes, as: UTF8.self)) }
            bytes.append(byte)
        }
    }

    func addHistory(_ entry: String) {}
}
