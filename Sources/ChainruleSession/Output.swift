/// Where a session writes: standard output for results, standard error for diagnostics.
public protocol OutputSink: AnyObject {
    func write(_ text: String, toError: Bool)
}

/// Collects output in memory (tests, JSON mode).
public final class BufferedOutput: OutputSink {
    public private(set) var standardOutput = ""
    public private(set) var standardError = ""
    public init() {}
    public func write(_ text: String, toError: Bool) {
        if toError { standardError += text } else { standardOutput += text }
    }
}

/// ANSI styling, enabled only when the executable says the stream is a terminal and NO_COLOR is unset.
public struct Style: Sendable {
    public var enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }

    func wrap(_ code: String, _ text: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
    public func error(_ text: String) -> String { wrap("1;31", text) }
    public func warning(_ text: String) -> String { wrap("1;33", text) }
    public func note(_ text: String) -> String { wrap("1;36", text) }
    public func bold(_ text: String) -> String { wrap("1", text) }
    public func dim(_ text: String) -> String { wrap("2", text) }
    /// Forward values.
    public func value(_ text: String) -> String { wrap("32", text) }
    /// Gradients.
    public func gradient(_ text: String) -> String { wrap("35", text) }
    public func caret(_ text: String) -> String { wrap("1;32", text) }
}
