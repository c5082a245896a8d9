import ChainruleCore

/// What the person presenting asked for with one key (or, from a pipe, one line).
public enum PresenterKey: Equatable, Sendable {
    /// Run the next statement (Enter, →, Space; an empty line).
    case next
    /// Undo the last statement run (b, ←).
    case back
    /// Leave (q, Ctrl-C, Ctrl-D).
    case quit
    /// Drop to the prompt (:).
    case prompt
    /// A key that means nothing here.
    case other

    /// The key a line of piped input stands for: an empty line (or `n`) is next, `b` back,
    /// `q` quit, `:` the prompt.
    public init(line: String) {
        switch Session.trimmed(line).lowercased() {
        case "", "n", "next": self = .next
        case "b", "back": self = .back
        case "q", "quit", ":quit": self = .quit
        case ":": self = .prompt
        default: self = .other
        }
    }
}

/// Where a presentation gets its keys: raw keys at a terminal, lines from a pipe.
public protocol PresenterKeys: AnyObject {
    /// Waits for the next key; nil at the end of input.
    func nextKey() -> PresenterKey?
}

/// `chainrule --present FILE`: a script run one statement at a time, each echoed with its
/// output. Before each statement the session is kept (``Session/Snapshot``, a value), so
/// going back puts it exactly as it was before that statement.
public final class Presentation {
    struct Step {
        var statement: Statement
        /// Where a `:quiz` statement gets its answer: the script's next line, else the keyboard.
        var answer: QuizAnswerSource
    }

    let session: Session
    let source: Source
    let steps: [Step]
    /// The session as it was before each statement run so far.
    var snapshots: [Session.Snapshot] = []
    /// How many statements have run.
    public private(set) var position = 0
    /// How many statements failed (each was reported, and the presentation went on).
    public private(set) var failures = 0

    /// Reads the whole script; reports its syntax errors and returns nil when it has any.
    public init?(session: Session, source: Source) {
        let source = PastedPrompt.script(source) ?? source
        let (diagnostics, checked) = Parser.check(source)
        guard diagnostics.isEmpty else {
            diagnostics.prefix(session.maximumErrors).forEach(session.report)
            return nil
        }
        var reader = Workspace.ScriptReader(checked)
        reader.defines = false
        var scratch = Workspace()
        var steps: [Step] = []
        var answerEnd: Int?
        while let read = scratch.read(&reader) {
            guard case .statement(let statement) = read else { continue }
            if let end = answerEnd, statement.range.start < end { continue }
            answerEnd = nil
            var step = Step(statement: statement, answer: .none)
            if let (answer, end) = Session.quizAnswerSource(after: statement, in: source, typed: true) {
                step.answer = answer
                answerEnd = end
            }
            steps.append(step)
        }
        self.session = session
        self.source = source
        self.steps = steps
    }

    var style: Style { session.style }

    /// Runs until `q`, the end of input, `:quit`, or Enter after the last statement. `prompt`
    /// reads what is typed after `:` (and answers to a quiz that has none in the script).
    public func run(keys: PresenterKeys, prompt: LineReader) {
        session.presenting = true
        defer { session.presenting = false }
        session.print(style.bold("presenting \(source.name): \(steps.count) statement\(steps.count == 1 ? "" : "s")")
                      + style.dim("   " + Presentation.keyHelp))
        loop: while !session.quitRequested, let key = keys.nextKey() {
            switch key {
            case .next:
                guard position < steps.count else { break loop }
                runStep(prompt: prompt)
                if session.quitRequested { break loop }
                status(position == steps.count ? "statement \(position) of \(steps.count), the last: Enter or q leaves, b goes back"
                                               : "statement \(position) of \(steps.count)")
            case .back:
                guard position > 0 else {
                    status("at the start: nothing to go back to; Enter runs statement 1 of \(steps.count)")
                    continue
                }
                position -= 1
                session.restore(snapshots.removeLast())
                status("back: statement \(position + 1) undone, the session is as it was before it; next: \(describe(step: position))")
            case .quit:
                break loop
            case .prompt:
                status("at the prompt: type statements; an empty line or Ctrl-D goes back to the presentation")
                REPL(session: session, reader: prompt, endsAtBlankLine: true).run()
                if session.quitRequested { break loop }
                status("back to the presentation after statement \(position) of \(steps.count)"
                       + (position < steps.count ? "; next: \(describe(step: position))" : ""))
            case .other:
                status(Presentation.keyHelp)
            }
        }
    }

    static let keyHelp = "Enter or → next · b or ← back · : prompt · q quit"

    /// Runs the next statement, echoed; an error is shown and the presentation goes on.
    func runStep(prompt: LineReader) {
        snapshots.append(session.snapshot())
        let step = steps[position]
        position += 1
        session.quizAnswer = step.answer
        do throws(Diagnostic) { try session.executeEchoed(step.statement, in: source) } catch {
            session.report(error)
            failures += 1
        }
        session.quizAnswer = .none
        while session.awaitsAnswer {
            switch prompt.readLine(prompt: session.style.wrap("1;34", Session.answerPrompt)) {
            case .line(let text): session.answer(text)
            case .interrupt, .end: session.answer("")
            }
        }
    }

    /// `line 3: x = 2`.
    func describe(step index: Int) -> String {
        guard index < steps.count else { return "the end" }
        let range = steps[index].statement.range
        let text = Session.trimmed(source.text(range)).split(separator: "\n").first.map(String.init) ?? ""
        return "line \(source.location(of: range.start).line): \(text)"
    }

    func status(_ text: String) {
        session.print(style.dim("── " + text + " ──"))
    }
}

/// `:say` and `:pause`, the script's side of presenting.
extension Session {
    static let presentationCommands: [Command] = [
        Command(name: "say", usage: ":say TEXT", summary: "narration: its own style while presenting (--present), a '# TEXT' comment line otherwise",
                detail: "TEXT runs to the end of the line (or a ';' or '#'). While presenting, it is shown after '▌ ' in bold cyan on a terminal (no colour with NO_COLOR or :set color off; the bar marks it without colour); in any other run it prints '# TEXT', so a transcript reads as a script. Echo never repeats it.",
                example: ":say the chain rule multiplies local Jacobians", run: { s, a throws(Diagnostic) in s.say(a) }, takesText: true),
        Command(name: "pause", usage: ":pause", summary: "a stop while presenting: waits for a key before going on; ignored otherwise",
                detail: "While presenting (chainrule --present FILE) every statement waits for a key; :pause is a stop that shows nothing, for a moment before what follows. In any other run it does nothing.",
                example: ":pause", run: { s, a throws(Diagnostic) in try a.expect(count: 0...0, usage: ":pause") }),
        Command(name: "quiz", usage: ":quiz [NODE] [seed=k]", summary: "hide a value, local Jacobian or gradient of the graph, ask for it, check the answer",
                detail: "Chooses one quantity of the current graph (with NODE, one about NODE): the value of a named formula, the local Jacobian ∂a/∂b of an edge between named nodes, or the gradient ∂L/∂node of the default target L (the last :backward target, else the last definition) when L is a scalar; never a quantity that is not finite or has more than 16 elements. seed=k chooses it reproducibly (default: how many quizzes were asked before). The answer is the next line: at the prompt, which then reads 'answer?>'; in a script, the script's next line. A number or a tensor literal is right when every element is within 1e-3 (absolute, or relative where |value| > 1); shapes may differ only by axes of size 1. An empty line or 'reveal' gives up. A wrong answer, or giving up, shows the answer and the worked step: a value's forward step, or the upstream gradient times the local Jacobian, with the numbers. An answer that is not a number or literal is an error; at the prompt the question stays.",
                example: ":quiz\n:quiz h seed=3", run: { s, a throws(Diagnostic) in try s.quiz(a) }),
    ]

    /// Commands that print what they say themselves: echo does not repeat them.
    static let unechoedCommands: Set<String> = ["say", "pause"]

    func say(_ arguments: CommandArguments) {
        let text = arguments.command.arguments
        if presenting {
            print(style.wrap("1;36", "▌ " + text))
        } else {
            print("# " + text)
        }
    }

    /// An answer to the pending `:quiz`; an unreadable one is reported and the quiz stays.
    public func answer(_ text: String) {
        do throws(Diagnostic) { try answerQuiz(text, at: nil) } catch { report(error) }
    }
}

extension Session {
    /// Presents the script at `path` (``Presentation``). False when it cannot be read, does
    /// not parse, or a statement in it failed (each failure was shown and the presentation went on).
    public func present(path: String, keys: PresenterKeys, prompt: LineReader) -> Bool {
        let text: String
        do { text = try Files.read(path, limit: maximumFileSize, shouldStop: shouldStop) } catch {
            report(Diagnostic(error.message, at: nil))
            return false
        }
        guard let presentation = Presentation(session: self, source: Source(name: path, text: text)) else { return false }
        loadsStarted = 0
        loading.append(Files.canonical(path))
        defer { loading.removeLast() }
        presentation.run(keys: keys, prompt: prompt)
        return presentation.failures == 0
    }
}
