import CEditLine
import ChainruleSession

import Glibc

/// Reads lines at a terminal through libedit: emacs-style editing, Tab
/// completion, Ctrl-R history search, and a history file that grows by one
/// appended entry after every entry.
///
/// This is the only place that talks to libedit; piped input never comes here.
/// Key bindings can be changed in `~/.editrc` (lines may be prefixed with the
/// program name, e.g. `chainrule:bind -v`).
public final class LineEditor: LineReader {
    /// How many entries the history keeps, in memory and in the file.
    public static let historySize: Int32 = 1000

    private let programName: String
    private let editor: OpaquePointer   // EditLine *
    private let history: OpaquePointer  // History *
    /// Where history is kept between sessions, and what may be done to it.
    private let historyFile: HistoryFile?
    private let complete: (String) -> Completion
    /// The current prompt, with escape sequences marked, owned by this object:
    /// libedit asks for it through `promptCallback` whenever it redraws.
    private var promptText: UnsafeMutablePointer<CChar>

    /// The marker that brackets invisible prompt text (`EL_PROMPT_ESC`).
    private static let invisibleMarker: Unicode.Scalar = "\u{1}"

    /// Creates an editor on standard input and output, or returns nil when
    /// libedit cannot be set up.
    ///
    /// - Parameters:
    ///   - programName: the name used for `~/.editrc` lines and messages.
    ///   - historyPath: the history file, or nil to keep history in memory.
    ///   - complete: given the text before the cursor, the word to complete and
    ///     its candidates.
    public init?(
        programName: String,
        historyPath: String?,
        complete: @escaping (String) -> Completion
    ) {
        LineEditor.setUpLocale()
        LineEditor.installInterruptHandler()
        guard let editor = ceditline_init(programName) else { return nil }
        guard let history = history_init() else {
            el_end(editor)
            return nil
        }
        guard let promptText = strdup("") else {
            history_end(history)
            el_end(editor)
            return nil
        }
        self.programName = programName
        self.editor = editor
        self.history = history
        self.historyFile = historyPath.map { HistoryFile(path: $0, capacity: Int(LineEditor.historySize)) }
        self.complete = complete
        self.promptText = promptText

        _ = ceditline_history_set_size(history, LineEditor.historySize)
        _ = ceditline_history_set_unique(history, 1)
        loadHistory()

        _ = ceditline_set_client_data(editor, Unmanaged.passUnretained(self).toOpaque())
        _ = ceditline_set_prompt(editor, LineEditor.promptCallback, CChar(LineEditor.invisibleMarker.value))
        _ = ceditline_set_editor(editor, "emacs")
        _ = ceditline_set_signal(editor, 1)  // restore the tty on signals, redraw on SIGWINCH
        _ = ceditline_set_reader(editor)  // a Ctrl-C between two keys is not lost
        _ = ceditline_set_history(editor, history)

        let completeCommand = "\(programName)-complete"
        _ = ceditline_add_function(
            editor, completeCommand, "Complete the word before the cursor", LineEditor.completeCallback)
        _ = ceditline_bind(editor, "^I", completeCommand)
        for (key, command) in LineEditor.extraBindings {
            _ = ceditline_bind(editor, key, command)
        }
        _ = ceditline_source_editrc(editor)  // last, so that the user's bindings win
    }

    /// Keys that libedit's emacs map leaves unbound or binds unlike readline.
    /// (Arrows, Delete, and the xterm forms of Home and End work already.)
    private static let extraBindings: [(key: String, command: String)] = [
        ("^R", "em-inc-search-prev"),     // reverse incremental history search
        ("^W", "ed-delete-prev-word"),
        ("\\e[1;5D", "ed-prev-word"),     // Ctrl-Left
        ("\\e[1;5C", "em-next-word"),     // Ctrl-Right
        ("\\e[1~", "ed-move-to-beg"),     // Home and End as sent by tmux,
        ("\\e[4~", "ed-move-to-end"),     // screen and the Linux console
        ("\\e[7~", "ed-move-to-beg"),     // and by rxvt
        ("\\e[8~", "ed-move-to-end"),
    ]

    deinit {
        el_end(editor)
        history_end(history)
        free(promptText)
    }

    // MARK: Reading

    public func readLine(prompt: String) -> LineInput {
        setPrompt(prompt)
        _ = LineEditor.takeInterrupt()  // a Ctrl-C during evaluation is spent
        var count: Int32 = 0
        var error: Int32 = 0
        guard let raw = ceditline_gets(editor, &count, &error) else {
            if LineEditor.takeInterrupt() || error == EINTR {
                // Rewrite the text after the cursor to move past it, then mark
                // the abandoned line as shells do.
                ceditline_print(textAfterCursor() + "^C\n")
                el_reset(editor)
                return .interrupt
            }
            ceditline_print("\n")  // libedit leaves the cursor after the prompt
            return .end
        }
        var line = String(cString: raw)
        if line.hasSuffix("\n") { line.removeLast() }
        return .line(line)
    }

    private func textAfterCursor() -> String {
        guard let info = el_line(editor)?.pointee else { return "" }
        let bytes = UnsafeRawBufferPointer(start: info.cursor, count: info.lastchar - info.cursor)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func setPrompt(_ prompt: String) {
        guard let copy = strdup(LineEditor.markingInvisibleText(prompt)) else { return }
        free(promptText)
        promptText = copy
    }

    /// Marks the ANSI escape sequences in `prompt` so that libedit prints them
    /// without counting them as columns (`EL_PROMPT_ESC`).
    ///
    /// libedit prints a marked run together with the visible character that
    /// follows it, and drops a run that nothing follows. So consecutive
    /// sequences form one run, and sequences at the very end (a colour reset)
    /// move before the last visible character.
    static func markingInvisibleText(_ prompt: String) -> String {
        var pieces: [(text: [Unicode.Scalar], isVisible: Bool)] = []
        let scalars = Array(prompt.unicodeScalars)
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "\u{1B}" else {
                pieces.append(([scalars[index]], true))
                index += 1
                continue
            }
            var end = index + 1
            if end < scalars.count, scalars[end] == "[" {
                // CSI: ESC [ parameters… final byte in 0x40–0x7E.
                end += 1
                while end < scalars.count, !(0x40...0x7E).contains(scalars[end].value) { end += 1 }
                end = min(end + 1, scalars.count)
            } else if end < scalars.count {
                end += 1  // a two-character sequence such as ESC ( B
            }
            if let last = pieces.last, !last.isVisible {
                pieces[pieces.count - 1].text += scalars[index..<end]
            } else {
                pieces.append((Array(scalars[index..<end]), false))
            }
            index = end
        }
        if let last = pieces.last, !last.isVisible {
            pieces.removeLast()
            if let glyph = pieces.lastIndex(where: \.isVisible) {
                if glyph > 0, !pieces[glyph - 1].isVisible {
                    pieces[glyph - 1].text += last.text
                } else {
                    pieces.insert(last, at: glyph)
                }
            }
        }
        var result = String.UnicodeScalarView()
        for piece in pieces {
            if !piece.isVisible { result.append(LineEditor.invisibleMarker) }
            result.append(contentsOf: piece.text)
            if !piece.isVisible { result.append(LineEditor.invisibleMarker) }
        }
        return String(result)
    }

    private static let promptCallback: ceditline_prompt_fn = { el in
        guard let data = ceditline_client_data(el) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue().promptText
    }

    // MARK: Completion

    private static let completeCallback: ceditline_command_fn = { el, _ in
        guard let data = ceditline_client_data(el) else { return UInt8(CC_ERROR) }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue().completeAtCursor()
    }

    /// Tab: insert what all candidates share beyond the typed word; when there
    /// is nothing to add, list the candidates.
    private func completeAtCursor() -> UInt8 {
        guard let info = el_line(editor)?.pointee else { return UInt8(CC_ERROR) }
        let typed = UnsafeRawBufferPointer(
            start: info.buffer, count: info.cursor - info.buffer)
        let text = String(decoding: typed, as: UTF8.self)
        let completion = complete(text)
        let word = completion.word.unicodeScalars
        let candidates = completion.candidates
        guard let first = candidates.first, text.unicodeScalars.reversed().starts(with: word.reversed())
        else { return UInt8(CC_REFRESH_BEEP) }

        let shared = candidates.count == 1 ? first : LineEditor.commonPrefix(of: candidates)
        if shared.unicodeScalars.count > word.count
            || (candidates.count == 1 && !shared.unicodeScalars.elementsEqual(word))
        {
            // libedit counts characters (wide chars, i.e. Unicode scalars) here.
            el_deletestr(editor, Int32(word.count))
            guard el_insertstr(editor, shared) == 0 else { return UInt8(CC_REFRESH_BEEP) }
            return UInt8(CC_REFRESH)
        }
        if candidates.count == 1 { return UInt8(CC_NORM) }
        ceditline_print("\n" + LineEditor.list(candidates, width: Int(ceditline_columns(editor))))
        return UInt8(CC_REDISPLAY)
    }

    /// The candidates separated by two spaces, in lines of at most `width`
    /// columns that never split a candidate.
    static func list(_ candidates: [String], width: Int) -> String {
        var text = ""
        var column = 0
        for candidate in candidates {
            let length = candidate.unicodeScalars.count
            if column > 0 && column + 2 + length > width {
                text += "\n"
                column = 0
            }
            if column > 0 {
                text += "  "
                column += 2
            }
            text += candidate
            column += length
        }
        return text + "\n"
    }

    /// The longest run of Unicode scalars that every string starts with.
    static func commonPrefix(of strings: [String]) -> String {
        guard var prefix = strings.first.map({ Array($0.unicodeScalars) }) else { return "" }
        for string in strings.dropFirst() {
            let length = zip(prefix, string.unicodeScalars).prefix(while: { $0 == $1 }).count
            prefix.removeSubrange(length...)
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: prefix)
        return String(view)
    }

    // MARK: History

    public func addHistory(_ entry: String) {
        guard entry.contains(where: { !$0.isWhitespace }) else { return }
        let previous = ceditline_history_newest(history).map { String(cString: $0) }
        _ = ceditline_history_enter(history, entry)
        // Now, so that a killed session loses nothing; a repeat of the last entry is not kept.
        if previous != entry { saveHistory() }
    }

    private func loadHistory() {
        guard let file = historyFile else { return }
        if let warning = file.warning { warn(warning) }
        let history = self.history
        if let warning = file.load({ ceditline_history_load(history, $0) >= 0 }) { warn(warning) }
    }

    /// Appends the newest entry to the file: one short write per entry, however long the history.
    /// A new file, and one grown past twice the history size, is written whole instead: to a
    /// temporary file beside it that then replaces it, so the old file stays whole until then.
    private func saveHistory() {
        guard let file = historyFile else { return }
        let history = self.history
        let warning = file.record(
            append: { ceditline_history_append_newest(history, $0) == 0 },
            writeAll: { ceditline_history_save(history, $0) >= 0 })
        if let warning { warn(warning) }
    }

    private func warn(_ message: String) {
        ceditline_print_error("\(programName): warning: \(message)\n")
    }

    /// `$CHAINRULE_HISTORY` when set (empty means no history file), else
    /// `${XDG_STATE_HOME:-$HOME/.local/state}/chainrule/history`, creating
    /// that directory (mode 0700). Nil when neither variable gives a place.
    public static func defaultHistoryPath(environment: [String: String]) -> String? {
        if let explicit = environment["CHAINRULE_HISTORY"] {
            return explicit.isEmpty ? nil : explicit
        }
        let stateHome: String
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            stateHome = xdg  // the XDG spec ignores relative paths
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            stateHome = home + "/.local/state"
        } else {
            return nil
        }
        let directory = stateHome + "/chainrule"
        makeDirectories(directory)
        return directory + "/history"
    }

    /// `mkdir -p` with mode 0700 for each missing component; failures surface
    /// later, when the history file cannot be written.
    private static func makeDirectories(_ path: String) {
        var partial = ""
        for component in path.split(separator: "/") {
            partial += "/" + component
            _ = mkdir(partial, 0o700)
        }
    }

    // MARK: Process-wide set-up

    /// Returns whether Ctrl-C was pressed since the last call, and clears it.
    /// Long computations poll this to stop early.
    public static func takeInterrupt() -> Bool { ceditline_take_interrupt() != 0 }

    /// How many times Ctrl-C was pressed in all (a count never cleared).
    public static func interruptCount() -> Int { Int(ceditline_interrupt_count()) }

    /// Makes Ctrl-C set a flag instead of ending the process. Called by `init`;
    /// idempotent.
    public static func installInterruptHandler() { ceditline_install_interrupt_handler() }

    /// Selects the user's character encoding (falling back to UTF-8 instead of
    /// ASCII), which libedit needs for non-ASCII input. Called by `init`;
    /// affects `LC_CTYPE` only, so number formatting is unchanged.
    public static func setUpLocale() { ceditline_setup_locale() }
}
