import ChainruleCore
import ChainruleSession
import Glibc

/// One input run through the whole pipeline in-process: lexing, parsing, definitions,
/// forward and reverse passes, every command that touches no files, and the history file.
///
/// The bytes are a script. They run twice: once as a script file (all syntax errors first,
/// then statements until the first error, then a fixed tail of read-only commands), and once
/// line by line through the read–evaluate–print loop, where errors never stop the session.
/// Their lines are then recorded as history entries (``HistoryCheck``), in a folder of its own.
enum Pipeline {
    /// Longer inputs are cut here: what matters is shape, not bulk.
    static let maxBytes = 4096
    /// Work one input may do before `shouldStop` ends it, as Ctrl-C would.
    static let budgetSeconds = 0.5
    /// Commands run after the script, whatever it defined.
    static let tail = [":vars", ":forward", ":graph", ":dot", ":backward", ":step", ":step", ":grad", ":explain",
                       ":stats", ":reverse", ":remat all", ":stats", ":reverse", ":remat none"]
    /// Commands whose cost grows with the number of leaf elements: run only on small graphs.
    static let smallGraphTail = [":check", ":compare", ":grad method=forward"]
    /// `:check` joins them when the leaves are this small: it runs two forward passes per leaf element.
    static let checkedElements = 64
    /// The most bytes a script's graph may take (nodes and values, as the memory budget counts
    /// them) for its edits to be checked against a fresh build, which evaluates it twice more.
    static let editCheckedBytes = 4_000_000

    /// Runs `bytes`; returns the number of bytes written to standard output and standard error.
    @discardableResult
    static func run(_ bytes: UnsafeRawBufferPointer) -> Int {
        let text = neutralized(String(decoding: bytes.prefix(maxBytes), as: UTF8.self))
        let deadline = now() + budgetSeconds
        let stop: @Sendable () -> Bool = { now() > deadline }

        // The check a script gets before it runs reads it without making trees: it must find
        // exactly what a parse finds.
        let source = Source(name: "fuzz.graph", text: text)
        precondition(Parser.check(source).diagnostics == Parser.parse(source).diagnostics,
                     "checking and parsing disagree on the errors of this input")

        let sink = CountingOutput()
        let script = Session(output: sink)
        script.shouldStop = stop
        script.run(source)
        let leafElements = script.workspace.entries.values.reduce(0) { $0 + ($1.value?.count ?? 0) }
        // Every edit the script made keeps the graph, node for node, as a fresh build of its
        // definitions makes it (checked when it edited, on graphs small enough to evaluate twice more).
        if script.workspace.rebuilds + script.workspace.valueEdits > 0, script.workspace.storedBytes <= editCheckedBytes,
           let difference = script.workspace.differenceFromFreshBuild() {
            preconditionFailure("an edited workspace and a fresh build of it disagree: \(difference)")
        }
        for command in tail + (leafElements <= checkedElements ? smallGraphTail : []) where !script.quitRequested {
            script.run(Source(name: "<stdin>", text: command))
        }
        // What :save would write, without writing it (or its refusal, itself a checked error).
        if let saved = try? script.script() { _ = Parser.parse(Source(name: "saved.graph", text: saved)) }

        let prompt = Session(output: sink, colorOutput: true, colorError: true)
        prompt.shouldStop = stop
        prompt.showsProgress = true
        REPL(session: prompt, reader: Lines(text)).run()

        HistoryCheck.run(text)
        return sink.bytes
    }

    /// `text` with every command that reads or writes files made harmless:
    /// `:load` and `:save` become `:help`, and `:dot` loses its arguments.
    ///
    /// The rewrite is textual, so it holds however the lexer later groups the text into
    /// statements or the prompt into entries.
    static func neutralized(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func follows(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            return i + w.count < scalars.count && Array(scalars[(i + 1)...(i + w.count)]) == w
        }
        while i < scalars.count {
            out.append(scalars[i])
            if scalars[i] == ":" {
                if follows("load") || follows("save") {
                    out.append(contentsOf: "help".unicodeScalars)
                    i += 5
                    continue
                }
                if follows("dot") {
                    out.append(contentsOf: "dot;#".unicodeScalars)
                    i += 4
                    continue
                }
            }
            i += 1
        }
        return String(out)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

/// Counts what a session writes and keeps none of it.
final class CountingOutput: OutputSink {
    var bytes = 0
    func write(_ text: String, toError: Bool) { bytes += text.utf8.count }
}

/// The prompt's side of the loop: the input's lines, one at a time.
final class Lines: LineReader {
    var lines: ArraySlice<Substring>
    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
    }
    func readLine(prompt: String) -> LineInput {
        guard let line = lines.popFirst() else { return .end }
        return .line(String(line))
    }
    func addHistory(_ entry: String) {}
}
