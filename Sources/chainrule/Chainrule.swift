import ArgumentParser
import Glibc

/// The command line of SPEC §3 as ArgumentParser reads it: help, version and usage errors
/// (exit status 2), and every form ``Options/read(_:)`` leaves to it.
struct Chainrule: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "chainrule",
        abstract: "An interactive REPL for computational graphs: forward values and reverse-mode gradients.",
        usage: "chainrule [-i] [--echo] [-e <statement> ...] [--json [--of <node>]] [--export jax|torch [--of <node>]] [--html <out.html>] [<file> ...]\n       chainrule --present <file>",
        discussion: """
            chainrule                      interactive REPL (line editing and history)
            chainrule FILE…                run the scripts, print what they print, exit
            chainrule -i FILE…             run the scripts, then stay at the prompt
            chainrule -e 'STATEMENT' …     run statements given on the command line
            chainrule --echo FILE…         print each statement before its output
            chainrule --present FILE       present the script one statement at a time, each echoed
                                           with its output: Enter or → next, b or ← back (the
                                           session as it was before that statement), : the prompt
                                           (an empty line or Ctrl-D comes back), q quit; from a
                                           pipe, one line per key (empty next, b, q, :)
            chainrule --json [--of NODE] FILE…
                                           run the scripts quietly, then print the graph as JSON
            chainrule --export jax|torch [--of NODE] FILE…
                                           run the scripts quietly, then print a Python script that
                                           computes that JSON with JAX or PyTorch (see :help export)
            chainrule --html OUT.html FILE…
                                           run the scripts and write one self-contained page: each
                                           statement with its output, the graph and reverse graph
                                           as SVG, and the walk as frames stepped with ← →
            Standard input that is not a terminal is read as a script.
            Exit status: 0 success, 1 an error in a script or statement, 2 bad usage.
            """,
        version: "chainrule \(version)")

    @Flag(name: .customShort("i"), help: "Run the scripts, then stay at the prompt.")
    var interactive = false

    @Option(name: .customShort("e"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Run a statement (repeatable).", valueName: "statement"))
    var statements: [String] = []

    @Flag(name: .long, help: "Print each statement of the scripts before its output (as ':set echo on').")
    var echo = false

    @Flag(name: .long, help: "Run the scripts quietly, then print every node's value and gradient as JSON.")
    var json = false

    @Option(name: .customLong("of"), help: ArgumentHelp("With --json: the output node to differentiate.", valueName: "node"))
    var outputNodes: [String] = []

    @Option(name: .customLong("export"),
            help: ArgumentHelp("Run the scripts quietly, then print the graph as a Python script for jax or torch.", valueName: "framework"))
    var exports: [String] = []

    @Option(name: .customLong("present"),
            help: ArgumentHelp("Present a script one statement at a time (Enter/→ next, b/← back, : prompt, q quit).", valueName: "file"))
    var present: String?
    @Option(name: .customLong("html"),
            help: ArgumentHelp("Run the scripts and write the run as one offline HTML page (statements, outputs, drawings, the walk).",
                               valueName: "out.html"))
    var htmlPages: [String] = []

    @Argument(help: ArgumentHelp("Scripts to run (.graph files).", valueName: "file"))
    var files: [String] = []

    var options: Options {
        Options(interactive: interactive, echo: echo, json: json, statements: statements,
                of: outputNodes.first, files: files, present: present, html: htmlPages.first, export: exports.first)
    }

    func validate() throws {
        // The rules in the order they were first written: with --json, a second --of is
        // reported before the rest; without it, the --of itself is.
        if json && outputNodes.count > 1 { throw ValidationError("--of is given more than once") }
        if htmlPages.count > 1 { throw ValidationError("--html is given more than once") }
        if exports.count > 1 { throw ValidationError("--export is given more than once") }
        if let message = options.usageError { throw ValidationError(message) }
    }

    /// The options of `words`, or, for help and version, the text printed and exit status 0,
    /// and for bad usage the message on standard error and exit status 2.
    static func options(parsing words: [String]) -> Options {
        do {
            return try parseOptions(words)
        } catch {
            let message = fullMessage(for: error)
            if exitCode(for: error) == .success {
                Terminal.standardOutput.write(message + "\n", toError: false)
                Terminal.standardOutput.flush()
                Glibc.exit(0)
            }
            Terminal.standardError.write("chainrule: \(message)\n")
            Glibc.exit(2)
        }
    }

    /// The options of `words`; throws for help, version and bad usage.
    static func parseOptions(_ words: [String]) throws -> Options {
        let (words, statements) = withStatementsSetAside(words)
        var options = try parse(words).options
        options.statements = options.statements.map { placeholder in
            Int(placeholder.dropFirst()).flatMap { statements.indices.contains($0) ? statements[$0] : nil } ?? placeholder
        }
        return options
    }
}

/// The command line with each `-e` argument taken out before ArgumentParser reads it, as
/// the placeholder `#N`: the argument of `-e` is always a statement, even one that looks
/// like an option (`-e '---1'`), which ArgumentParser would refuse before any option sees it.
func withStatementsSetAside(_ words: [String]) -> (words: [String], statements: [String]) {
    var result: [String] = [], statements: [String] = []
    var i = 0
    while i < words.count {
        let word = words[i]
        result.append(word)
        if word == "--" {
            result.append(contentsOf: words[(i + 1)...])
            break
        }
        if word == "-e", i + 1 < words.count {
            result.append("#\(statements.count)")
            statements.append(words[i + 1])
            i += 1
        }
        i += 1
    }
    return (result, statements)
}
