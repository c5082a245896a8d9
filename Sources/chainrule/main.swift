import ArgumentParser
import ChainruleCore
import ChainruleSession
import Glibc

/// The command line of SPEC §3. Parsing is ArgumentParser's; bad usage exits with status 2.
struct Chainrule: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "chainrule",
        abstract: "An interactive REPL for computational graphs: forward values and reverse-mode gradients.",
        usage: "chainrule [-i] [--echo] [-e <statement> ...] [--json [--of <node>]] [<file> ...]",
        discussion: """
            chainrule                      interactive REPL (line editing and history)
            chainrule FILE…                run the scripts, print what they print, exit
            chainrule -i FILE…             run the scripts, then stay at the prompt
            chainrule -e 'STATEMENT' …     run statements given on the command line
            chainrule --echo FILE…         print each statement before its output
            chainrule --json [--of NODE] FILE…
                                           run the scripts quietly, then print the graph as JSON
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

    /// The node `--of` names (given at most once).
    var of: String? { outputNodes.first }

    @Argument(help: ArgumentHelp("Scripts to run (.graph files).", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if of != nil && !json { throw ValidationError("--of needs --json") }
        if outputNodes.count > 1 { throw ValidationError("--of is given more than once") }
        if json && interactive { throw ValidationError("--json and -i cannot be combined") }
        // --json's standard output is the document alone.
        if json && echo { throw ValidationError("--json and --echo cannot be combined: --json prints only the JSON document") }
        // With nothing to run and a terminal for input there is no script: usage, not a script error.
        if json && files.isEmpty && statements.isEmpty && isatty(0) == 1 {
            throw ValidationError("--json needs a FILE, -e statements, or a script on standard input")
        }
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

var arguments: Chainrule
do {
    let (words, statements) = withStatementsSetAside(Array(CommandLine.arguments.dropFirst()))
    arguments = try Chainrule.parse(words)
    arguments.statements = arguments.statements.map { placeholder in
        Int(placeholder.dropFirst()).flatMap { statements.indices.contains($0) ? statements[$0] : nil } ?? placeholder
    }
} catch {
    let message = Chainrule.fullMessage(for: error)
    if Chainrule.exitCode(for: error) == .success {
        print(message)
        exit(0)
    }
    Terminal.standardError.write("chainrule: \(message)\n")
    exit(2)
}
// Past a file-size limit (`ulimit -f`) a write should fail with an error that is reported,
// not end the process.
signal(SIGXFSZ, SIG_IGN)
Allocator.keepLargeBlocks()
Launcher(arguments: arguments).run()
