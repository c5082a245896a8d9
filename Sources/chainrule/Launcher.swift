import ChainruleCore
import ChainruleSession
import Glibc

/// Chooses the mode from the command line and standard input, and runs it.
struct Launcher {
    let options: Options

    var environment: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// Runs, then exits with the status: 0 success, 1 an error in a script or statement, or
    /// standard output could not be written (a failed write is an error, not lost output).
    /// The process ends with the session still alive: freeing a graph of millions of nodes
    /// one object at a time would only delay the exit.
    func run() -> Never {
        let noColor = getenv("NO_COLOR") != nil
        let output = Terminal.standardOutput
        let session = Session(output: output,
                              colorOutput: !noColor && isatty(1) == 1 && !options.json && options.export == nil && options.html == nil,
                              colorError: !noColor && isatty(2) == 1)
        var status = run(session)
        output.flush()
        if let failure = output.failure {
            Terminal.standardError.write("chainrule: error: cannot write standard output: \(failure)\n")
            status = 1
        }
        withExtendedLifetime(session) { exit(status) }
    }

    /// For a document about one node (`--json`, `--export`): runs the scripts quietly (and
    /// standard input when it is piped with no script), then gives the node, `--of` or the
    /// default; nil after an error, which is reported (`nothing` when nothing is defined).
    private func documentNode(_ session: Session, nothing: String) -> String? {
        session.quiet = true
        guard runScripts(session) else { return nil }
        if options.files.isEmpty && options.statements.isEmpty && isatty(0) == 0 {
            guard runStandardInput(session) else { return nil }
        }
        guard let name = options.of ?? session.defaultOutputName else {
            session.report(Diagnostic(nothing, at: nil))
            return nil
        }
        return name
    }

    func run(_ session: Session) -> Int32 {
        let output = Terminal.standardOutput
        session.showsProgress = isatty(1) == 1 && !options.json && options.export == nil && options.html == nil
        session.echo = options.echo
        // Ctrl-C stops what runs (a :train keeps what it learned) and then the script, never
        // the process: with -i the prompt follows with the session as it stands.
        LineEditor.installInterruptHandler()
        session.shouldStop = { LineEditor.takeInterrupt() }
        session.interruptCount = { LineEditor.interruptCount() }

        if options.json {
            guard let name = documentNode(session, nothing: "nothing is defined, so there is no output node for --json") else { return 1 }
            do {
                try session.writeJSON(output: name)
            } catch {
                session.report(error)
                return 1
            }
            return 0
        }

        if let name = options.export, let framework = Framework(rawValue: name) {
            guard let node = documentNode(session, nothing: "nothing is defined, so there is nothing to export") else { return 1 }
            do {
                print(try session.exportScript(output: node, framework: framework), terminator: "")
            } catch {
                session.report(error)
                return 1
            }
            return 0
        }

        if let path = options.present {
            return Interactive(session: session, environment: environment).present(path) ? 0 : 1
        }
        if let page = options.html {
            return session.writeHandout(to: page, files: options.files, statements: options.statements) ? 0 : 1
        }

        let hasScripts = !options.files.isEmpty || !options.statements.isEmpty
        if hasScripts {
            let succeeded = runScripts(session)
            if !options.interactive || session.quitRequested { return succeeded ? 0 : 1 }
        }
        if isatty(0) == 1 {
            output.flush()
            Interactive(session: session, environment: environment).run(banner: !hasScripts)
            return 0
        }
        return runStandardInput(session) ? 0 : 1
    }

    /// The files, then the `-e` statements; the first error stops everything.
    func runScripts(_ session: Session) -> Bool {
        for file in options.files {
            guard session.load(path: file) else { return false }
            if session.quitRequested { return true }
        }
        for (i, statement) in options.statements.enumerated() {
            let name = options.statements.count == 1 ? "<-e>" : "<-e \(i + 1)>"
            guard session.run(Source(name: name, text: statement)) else { return false }
            if session.quitRequested { return true }
        }
        return true
    }

    /// Standard input that is not a terminal is a script: no prompt, no line editing.
    /// It is read in chunks, up to the session's file-size limit, and refused at a NUL byte.
    func runStandardInput(_ session: Session) -> Bool {
        do {
            let text = try Files.readText(from: 0, name: "standard input", limit: session.maximumFileSize)
            return session.run(Source(name: "<stdin>", text: text))
        } catch {
            session.report(Diagnostic(error.message, at: nil))
            return false
        }
    }
}
