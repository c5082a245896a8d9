import ChainruleCore

/// A chainrule session: the workspace, the settings, and the commands that act on them.
///
/// Scripts, `-e` statements, piped input and the prompt all go through ``run(_:)``:
/// there is one way to execute text.
public final class Session {
    public internal(set) var workspace = Workspace()
    public var format = NumberFormat()
    /// `:set color on|off`; colour also needs ``colorAllowed``.
    public var colorSetting = true
    /// `--echo`, `:set echo on|off`: print each statement of a script before its output.
    public var echo = false
    /// Whether standard output and standard error may carry colour (terminals, no NO_COLOR).
    public let colorAllowed: (output: Bool, error: Bool)
    /// Whether a presentation (`--present`) is running: `:say` shows narration, `:pause` is a stop.
    public var presenting = false
    /// How many `:quiz` questions were asked: the seed of the next one when none is given.
    var quizzesAsked = 0
    /// The question waiting for its answer at the prompt.
    var pendingQuiz: Quiz?
    /// Whether a `:quiz` waits for its answer: the prompt then reads one (``answer(_:)``).
    public var awaitsAnswer: Bool { pendingQuiz != nil }
    /// Where the `:quiz` being run gets its answer (set before each statement runs).
    var quizAnswer = QuizAnswerSource.none
    /// Whether standard output is a terminal (progress bars redraw in place).
    public var showsProgress = false
    /// Suppress printing of values and command results (`--json`); errors are still reported.
    public var quiet = false
    public internal(set) var quitRequested = false
    /// The node of the last `:backward`, the default output of `--json`.
    public internal(set) var lastBackwardTarget: String?
    /// The name defined most recently.
    public internal(set) var lastDefined: String?
    /// The last reverse pass, for `:show`.
    var lastGradients: (target: String, gradients: Gradients)?
    /// Whether the last reverse pass was seeded with an explicit `seed=p`: its gradients are then p·∂target/∂node.
    var lastSeeded = false
    /// Where `:step` stands, if a walk is under way.
    var stepper: Stepper? {
        get {
            if walkStore == nil, let pending = pendingWalk {
                pendingWalk = nil
                walkStore = restartedWalk(pending)
            }
            return walkStore
        }
        set {
            walkStore = newValue
            pendingWalk = nil
        }
    }
    /// The walk under way, made when first needed after an edit (see ``pendingWalk``).
    var walkStore: Stepper?
    /// A walk that an edit interrupted, to start again on the same target when it is next
    /// used: a script of many definitions after a `:step` rebuilds it once, not once each.
    /// Breakpoints are kept by name (node ids change when the graph is rebuilt).
    var pendingWalk: (targetName: String, breakpoints: [(name: String, backward: Bool)])?
    /// The scalar params' path during `:train`, for `:plot`; forgotten when the graph is edited.
    var trainingPath: TrainingPath?
    /// The minibatch copy of the workspace that `:train … batch=B` trained last, with the
    /// optimizer state it holds, for the next `:train` on the same graph and data.
    var batchStore: (key: BatchSetup.Key, space: Workspace)?
    /// The `:train` runs that made the params' values, for `:export` to take again.
    var trainingRecord: TrainingRecord?
    /// The params defined by a seeded initialiser (`param W = xavier(2, 2, seed=1)`), by name,
    /// with the definition: what `:train … restarts=K` draws again from other seeds.
    var initialisers: [String: (definition: Definition, source: Source)] = [:]
    /// `:set show`, `:set full`, `:set width`, `:set dot`, `:set plot`: what drawings show and how.
    var drawing = DrawingSettings()
    /// The terminal's width (or `COLUMNS`), asked whenever a drawing is made; nil: 80 columns.
    public var terminalWidth: @Sendable () -> Int? = { Session.environmentWidth() }
    /// `:set output N`: the most characters one command or value prints.
    public var outputLimit = Session.defaultOutputLimit
    /// What a listing's cells may take before it stops making rows: less than the limit,
    /// as a table pads its cells and ends with a note of what is left out.
    var rowBudget: Int { outputLimit / 2 }
    /// Files being loaded (real paths), innermost last, to refuse a script that loads itself.
    var loading: [String] = []
    /// `:load`s run since the outermost one began.
    var loadsStarted = 0
    static let maximumLoadDepth = 16
    static let maximumLoads = 1000
    /// `:set max-file-size`: the largest script `:load` reads (and standard input, as a script).
    public var maximumFileSize = Files.defaultMaximumSize
    /// `:set max-errors`: how many syntax errors of one script are shown; the rest are counted.
    public var maximumErrors = 20
    let output: OutputSink
    /// While `--html` runs the scripts: what they print and report, by statement (see ``HandoutRecorder``).
    var handout: HandoutRecorder?

    public init(output: OutputSink, colorOutput: Bool = false, colorError: Bool = false) {
        self.output = output
        self.colorAllowed = (colorOutput, colorError)
        workspace.memoryLimit = Session.defaultMemoryLimit
    }

    /// Polled during long computations; return true to abandon them (Ctrl-C).
    /// How many interrupts (Ctrl-C) have arrived in all: a script stops before its next
    /// statement once one arrives, even when the statement it interrupted took it (`:train`
    /// stops early, keeps what it learned, and the rest of the script is not run).
    public var interruptCount: @Sendable () -> Int = { 0 }

    public var shouldStop: @Sendable () -> Bool {
        get { workspace.shouldStop }
        set { workspace.shouldStop = newValue }
    }

    var style: Style { Style(enabled: colorSetting && colorAllowed.output) }
    var errorStyle: Style { Style(enabled: colorSetting && colorAllowed.error) }

    // MARK: Output

    func print(_ text: String, terminator: String = "\n") {
        guard !quiet else { return }
        if let handout { handout.record(output: bounded(text) + terminator) } else { output.write(bounded(text) + terminator, toError: false) }
    }

    public func report(_ diagnostic: Diagnostic) {
        handout?.record(diagnostic)
        output.write(DiagnosticRenderer(style: errorStyle).render(diagnostic), toError: true)
    }

    // MARK: Running text

    /// How running a script ended.
    public enum RunOutcome: Equatable, Sendable {
        /// Every statement ran.
        case finished
        /// A statement failed (reported); nothing after it ran.
        case failed
        /// Ctrl-C arrived; what ran before it stays, nothing after the statement it stopped runs.
        case interrupted
    }

    /// Parses all of `source`, reporting every syntax error, then runs its statements in order,
    /// stopping at the first error. Returns whether everything ran. Text `typed` at the prompt
    /// is not echoed (``echo``): the terminal shows it already.
    @discardableResult
    public func run(_ source: Source, typed: Bool = false) -> Bool { runScript(source, typed: typed) == .finished }

    /// ``run(_:typed:)``, telling an interrupt apart from an error.
    func runScript(_ source: Source, typed: Bool = false) -> RunOutcome {
        // Statements pasted from a terminal or the README keep their prompts out of the grammar.
        let source = PastedPrompt.script(source) ?? source
        // Every statement is checked before any runs; then each is read again and run: a
        // plain definition of a new name has its nodes appended as it is read, anything else
        // is read into a tree, run and let go, so a long script's trees are never all held at
        // once (definitions keep only where their formula is).
        let (diagnostics, statements) = Parser.check(source)
        if !diagnostics.isEmpty {
            diagnostics.prefix(maximumErrors).forEach(report)
            let hidden = diagnostics.count - maximumErrors
            if hidden > 0 {
                report(Diagnostic("\(hidden) more error\(hidden == 1 ? "" : "s") in \(source.name) not shown (':set max-errors' shows more)",
                                  at: nil, severity: .note))
            }
            return .failed
        }
        var reader = Workspace.ScriptReader(statements)
        workspace.reserve(definitions: reader.definitions)
        let interrupts = interruptCount()
        // Statements that start before this offset are the answer to a :quiz, not run.
        var answerEnd: Int?
        while !quitRequested {
            // After Ctrl-C the next statement is only read (as a tree), for where to say the script stopped.
            let interrupted = interruptCount() != interrupts
            reader.defines = !interrupted && answerEnd == nil
            guard let read = workspace.read(&reader) else { break }
            if let end = answerEnd {
                if read.range.start < end { continue }
                answerEnd = nil
            }
            if case .statement(let statement) = read, let (answer, end) = Session.quizAnswerSource(after: statement, in: source, typed: typed) {
                quizAnswer = answer
                answerEnd = end
            }
            if interrupted {
                report(Diagnostic("interrupted: the rest of \(source.name) is not run", at: SourceSpan(source, read.range),
                                  severity: .note))
                return .interrupted
            }
            handout?.begin(source, read.range, depth: loading.count)
            // A handout page shows every statement already: echo would repeat it.
            let echoing = echo && !typed && handout == nil
            do throws(Diagnostic) {
                switch read {
                case .defined(let name, let range):
                    if echoing { echoStatement(source.text(range)) }
                    recordInitialiser(named: name, in: source, range: range)
                    defined(name)
                case .statement(let statement):
                    if echoing { try executeEchoed(statement, in: source) } else { try execute(statement, in: source) }
                case .refused(let problem, let range):
                    if echoing { echoStatement(source.text(range)) }
                    throw problem
                }
            } catch {
                report(error)
                // A statement that failed because Ctrl-C stopped it was interrupted, not wrong.
                return interruptCount() != interrupts ? .interrupted : .failed
            }
        }
        return .finished
    }

    /// What follows a definition: commands act on it by default, results of the graph before are dropped.
    func defined(_ name: String) {
        lastDefined = name
        lastGradients = nil
        trainingPath = nil
        restartWalk(because: "\(name) was redefined")
    }

    func execute(_ statement: Statement, in source: Source) throws(Diagnostic) {
        switch statement {
        case .definition(let definition):
            let warnings = try workspace.define(definition, in: source)
            warnings.forEach(report)
            recordInitialiser(definition, in: source)
            defined(definition.name)
        case .expression(let expr):
            let value = try workspace.evaluate(expr, in: source)
            print(style.value(format.block(value)))
        case .command(let command):
            try runCommand(command, in: source)
        }
    }

    /// Everything a script can change, to put back when `:load` fails.
    struct Snapshot {
        var workspace: Workspace
        var format: NumberFormat
        var colorSetting: Bool
        var echo: Bool
        var maximumFileSize: Int
        var maximumErrors: Int
        var lastBackwardTarget: String?
        var lastDefined: String?
        var outputLimit: Int
        var lastGradients: (target: String, gradients: Gradients)?
        var lastSeeded: Bool
        var stepper: Stepper?
        var pendingWalk: (targetName: String, breakpoints: [(name: String, backward: Bool)])?
        var drawing: DrawingSettings
        var trainingPath: TrainingPath?
        var trainingRecord: TrainingRecord?
        var quizzesAsked: Int
        var initialisers: [String: (definition: Definition, source: Source)]
    }

    func snapshot() -> Snapshot {
        Snapshot(workspace: workspace, format: format, colorSetting: colorSetting, echo: echo, maximumFileSize: maximumFileSize,
                 maximumErrors: maximumErrors, lastBackwardTarget: lastBackwardTarget, lastDefined: lastDefined,
                 outputLimit: outputLimit, lastGradients: lastGradients, lastSeeded: lastSeeded, stepper: walkStore,
                 pendingWalk: pendingWalk, drawing: drawing, trainingPath: trainingPath, trainingRecord: trainingRecord, quizzesAsked: quizzesAsked,
                 initialisers: initialisers)
    }

    func restore(_ snapshot: Snapshot) {
        workspace = snapshot.workspace
        format = snapshot.format
        colorSetting = snapshot.colorSetting
        echo = snapshot.echo
        maximumFileSize = snapshot.maximumFileSize
        maximumErrors = snapshot.maximumErrors
        lastBackwardTarget = snapshot.lastBackwardTarget
        lastDefined = snapshot.lastDefined
        outputLimit = snapshot.outputLimit
        lastGradients = snapshot.lastGradients
        lastSeeded = snapshot.lastSeeded
        walkStore = snapshot.stepper
        pendingWalk = snapshot.pendingWalk
        drawing = snapshot.drawing
        trainingPath = snapshot.trainingPath
        trainingRecord = snapshot.trainingRecord
        quizzesAsked = snapshot.quizzesAsked
        initialisers = snapshot.initialisers
        batchStore = nil
    }

    /// Forgets every definition and result; settings stay.
    public func clear() {
        workspace.clear()
        batchStore = nil
        initialisers = [:]
        lastBackwardTarget = nil
        lastDefined = nil
        lastGradients = nil
        trainingPath = nil
        stepper = nil
    }

    // MARK: Names

    /// How a node is shown: its name, or `%id` for an unnamed intermediate.
    func label(_ id: NodeID) -> String { label(id, in: workspace.graph) }

    /// ``label(_:)`` read from a graph the caller holds (a listing of many nodes reads it once).
    func label(_ id: NodeID, in graph: Graph) -> String {
        graph[id].name ?? "%\(id)"
    }

    /// The node for a name given as a command argument; `%ID` names an unnamed node as listings show it.
    func node(_ argument: CommandArguments.Word) throws(Diagnostic) -> NodeID {
        if argument.text.hasPrefix("%") {
            guard let id = Int(argument.text.dropFirst()), id >= 0, id < workspace.graph.count else {
                throw Diagnostic("there is no node \(argument.text); :forward lists the nodes with their ids", at: argument.span)
            }
            return id
        }
        guard let first = argument.text.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
              !argument.text.contains(where: { "()[]{},+-*/@^=:\"".contains($0) }) else {
            throw Diagnostic("expected the name of a node, got '\(argument.text)' (commands take names, or %ID as listings show them)", at: argument.span)
        }
        return try workspace.node(named: argument.text, at: argument.span)
    }

    /// The node commands act on when none is named: the last `:backward` target, else the last definition.
    func defaultTarget(at span: SourceSpan) throws(Diagnostic) -> NodeID {
        guard let name = lastBackwardTarget ?? lastDefined ?? workspace.order.last else {
            throw Diagnostic("nothing is defined yet; define a node first, as in 'f = x * x'", at: span)
        }
        return try workspace.node(named: name, at: span)
    }

    /// The node a command names, or the default target when it names none.
    func target(_ word: CommandArguments.Word?, _ arguments: CommandArguments) throws(Diagnostic) -> NodeID {
        if let word { return try node(word) }
        return try defaultTarget(at: arguments.nameSpan)
    }

    /// How a gradient of the reverse pass is written: `∂f/∂x`, or `p·∂f/∂x` after a pass seeded
    /// with `seed=p` (a vector–Jacobian product, not the Jacobian ∂f/∂x itself).
    func partial(_ output: String, _ node: String, seeded: Bool) -> String {
        (seeded ? "p·" : "") + "∂\(output)/∂\(node)"
    }

    func value(_ id: NodeID, at span: SourceSpan?) throws(Diagnostic) -> Tensor {
        do { return try workspace.value(of: id) } catch { throw located(error, at: span) }
    }

    /// An evaluation failure met while running a command, reported at the command (`span`),
    /// with a note pointing at the operation that failed. Without a span (`--json`), the
    /// failure stays where the operation is.
    func located(_ error: EvaluationError, at span: SourceSpan?) -> Diagnostic {
        let found = Workspace.diagnostic(error, at: span)
        guard let span else { return found }
        guard let origin = found.span else { return Diagnostic(found.message, at: span, notes: found.notes) }
        guard origin != span else { return found }
        return Diagnostic(found.message, at: span, notes: [Diagnostic("the operation that failed", at: origin)] + found.notes)
    }

    func gradients(of id: NodeID, seed: Tensor?, record: Bool, at span: SourceSpan?) throws(Diagnostic) -> Gradients {
        // The last pass's values are let go first, so that two passes are never held at once.
        lastGradients = nil
        do {
            let result = try workspace.gradients(of: id, seed: seed, recordContributions: record)
            lastGradients = (label(id), result)
            lastSeeded = seed != nil
            return result
        } catch {
            throw located(error, at: span)
        }
    }
}
