import ChainruleSession
// Placeholder until the libedit wrapper lands.
final class LineEditor: LineReader {
    init?(programName: String, historyPath: String?, complete: @escaping (String) -> Completion) { return nil }
    func readLine(prompt: String) -> LineInput { .end }
    func addHistory(_ entry: String) {}
    static func takeInterrupt() -> Bool { false }
    static func defaultHistoryPath(environment: [String: String]) -> String? { nil }
}
