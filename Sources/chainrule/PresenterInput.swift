import ChainruleSession
import Glibc

/// The terminal's settings while a key is awaited in raw mode, for a signal handler to put
/// back (`tcsetattr` is async-signal-safe). Set and cleared on the main thread only.
nonisolated(unsafe) private var settingsToRestore: termios?

/// Puts the terminal back as it was, then lets the signal do what it would have done.
private func restoreTerminalAndRaise(_ signal: Int32) {
    if var settings = settingsToRestore { _ = tcsetattr(0, TCSAFLUSH, &settings) }
    Glibc.signal(signal, SIG_DFL)
    raise(signal)
}

/// Keys read one at a time from a terminal in raw mode: Enter, Space, → or `n` next; `b`,
/// ← back; `q`, Ctrl-C or Ctrl-D quit; `:` the prompt. The terminal is raw (no echo, no line
/// buffering; output and Ctrl-C as usual) from ``init()`` to ``finish()``, so keys pressed
/// while a statement runs are not echoed, except while a line is read at the prompt
/// (``cooked(_:)``). It is put back on SIGTERM, SIGHUP and SIGQUIT too.
final class RawPresenterKeys: PresenterKeys {
    private var original = termios()
    private let isRaw: Bool

    init() {
        isRaw = tcgetattr(0, &original) == 0
        for signal in [SIGTERM, SIGHUP, SIGQUIT] {
            Glibc.signal(signal) { restoreTerminalAndRaise($0) }
        }
        enterRawMode()
    }

    private func enterRawMode() {
        guard isRaw else { return }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        settingsToRestore = original
        _ = tcsetattr(0, TCSANOW, &raw)
    }

    /// Puts the terminal back as it was; called on every way out of a presentation.
    func finish() {
        guard isRaw else { return }
        _ = tcsetattr(0, TCSANOW, &original)
        settingsToRestore = nil
    }

    /// Runs `body` with the terminal as it was (the prompt's line editing), then raw again.
    func cooked<T>(_ body: () -> T) -> T {
        finish()
        defer { enterRawMode() }
        return body()
    }

    func nextKey() -> PresenterKey? {
        Terminal.standardOutput.flush()
        guard let byte = readByte() else { return nil }
        switch byte {
        case 13, 10, 32, UInt8(ascii: "n"): return .next
        case UInt8(ascii: "b"): return .back
        case UInt8(ascii: "q"), 3, 4: return .quit
        case UInt8(ascii: ":"): return .prompt
        case 27: return escapeSequence()
        default: return .other
        }
    }

    /// After ESC: `[C` or `OC` (→) is next, `[D` or `OD` (←) back; anything else, or ESC
    /// alone, means nothing. The rest of a sequence arrives with it, so a short wait suffices.
    private func escapeSequence() -> PresenterKey {
        guard let introducer = readByte(waitingAtMost: 100), introducer == UInt8(ascii: "[") || introducer == UInt8(ascii: "O") else {
            return .other
        }
        var final = readByte(waitingAtMost: 100)
        // Parameters (`ESC [ 1 ; 5 C`) before the final byte.
        while let byte = final, (0x30...0x3F).contains(byte) { final = readByte(waitingAtMost: 100) }
        switch final {
        case UInt8(ascii: "C"): return .next
        case UInt8(ascii: "D"): return .back
        default: return .other
        }
    }

    /// One byte of standard input, or nil at its end; with a limit, nil when none arrives in time.
    private func readByte(waitingAtMost milliseconds: Int32? = nil) -> UInt8? {
        if let milliseconds {
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, milliseconds) > 0 else { return nil }
        }
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            // Ctrl-C (SIGINT) while a key is awaited leaves, as q does.
            if n < 0 && errno == EINTR && !LineEditor.takeInterrupt() { continue }
            if n < 0 && errno == EINTR { return 3 }
            return n == 1 ? byte : nil
        }
    }
}

/// Keys from input that is not a terminal, one line each: an empty line next, `b` back, `q`
/// quit, `:` the prompt (``PresenterKey/init(line:)``), so a presentation can be scripted.
final class LinePresenterKeys: PresenterKeys {
    private let lines = PlainLineReader(showsPrompt: false)

    func nextKey() -> PresenterKey? {
        Terminal.standardOutput.flush()
        guard case .line(let line) = lines.readLine(prompt: "") else { return nil }
        return PresenterKey(line: line)
    }
}

/// The prompt a presentation drops to, read with the terminal as it was (``RawPresenterKeys/cooked(_:)``).
final class CookedLineReader: LineReader {
    let inner: LineReader
    let keys: RawPresenterKeys

    init(_ inner: LineReader, keys: RawPresenterKeys) {
        self.inner = inner
        self.keys = keys
    }

    func readLine(prompt: String) -> LineInput { keys.cooked { inner.readLine(prompt: prompt) } }
    func addHistory(_ entry: String) { inner.addHistory(entry) }
    var hasPendingInput: Bool { inner.hasPendingInput }
}
