/// An error in user input, as a value: what is wrong and where.
///
/// The core returns diagnostics; the session renders them as
/// `file:line:col: error: message`, the source line and a caret.
public struct Diagnostic: Error, Sendable, Equatable {
    public enum Severity: String, Sendable { case error, warning, note }

    public var severity: Severity
    public var message: String
    /// Where the problem is; nil for problems with no place in the text (a missing file).
    public var span: SourceSpan?
    /// Further remarks, each possibly pointing elsewhere (a definition that a change breaks).
    public var notes: [Diagnostic]

    public init(_ message: String, at span: SourceSpan?, severity: Severity = .error, notes: [Diagnostic] = []) {
        self.severity = severity
        self.message = message
        self.span = span
        self.notes = notes
    }
}
