/// What one read from a ``LineReader`` produced.
public enum LineInput: Equatable, Sendable {
    /// A line of text, without its trailing newline.
    case line(String)
    /// The user pressed Ctrl-C: discard whatever entry is pending.
    case interrupt
    /// End of input (Ctrl-D on an empty line, or the end of a pipe).
    case end
}

/// Where the read–evaluate–print loop gets its lines: libedit at a terminal,
/// a plain byte stream from a pipe, or a scripted list in tests.
public protocol LineReader: AnyObject {
    /// Shows `prompt` (when the reader shows prompts) and reads one line.
    func readLine(prompt: String) -> LineInput

    /// Records a complete entry (possibly several physical lines) in the history.
    func addHistory(_ entry: String)

    /// Whether more input has already arrived, unread (the rest of a paste): the REPL reads
    /// the lines of a pasted transcript that have no prompt as output, not as statements.
    var hasPendingInput: Bool { get }
}

extension LineReader {
    public var hasPendingInput: Bool { false }
}

/// The candidates for completing the word that ends at the cursor.
public struct Completion: Equatable, Sendable {
    /// The text before the cursor that the candidates replace.
    public var word: String
    /// Full replacements for `word`, sorted, without duplicates.
    public var candidates: [String]

    public init(word: String, candidates: [String]) {
        self.word = word
        self.candidates = candidates
    }
}
