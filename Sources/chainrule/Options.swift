import Glibc

/// What the command line of SPEC §3 asks for, as the launcher uses it.
///
/// The common forms (`-e`, `-i`, `--echo`, `--json`, `--of NODE`, `--present FILE`, `--html OUT`, `--`, files) are read here
/// by hand; anything else (`--help`, `--version`, a mistake, a rarer spelling such as `-ie`
/// or `--of=NODE`) goes to ArgumentParser (``Chainrule``), which prints help and usage
/// errors. ArgumentParser finds a command's options by runtime reflection, which took 1–2 ms
/// of a 6–9 ms start; the two readers agree on every command line the fast one accepts
/// (`OptionsTests`), and both check the same rules (``usageError``).
struct Options: Equatable {
    var interactive = false
    var echo = false
    var json = false
    /// The `-e` statements, in order; run after the files.
    var statements: [String] = []
    /// The node `--of` names.
    var of: String?
    var files: [String] = []
    /// `--present FILE`: the script to present one statement at a time.
    var present: String?
    /// `--html OUT.html`: where the page of the run goes.
    var html: String?
    /// `--export jax|torch`: print the graph as a Python script for that framework (with `--of`, of that node).
    var export: String?

    /// Why this combination is bad usage, if it is (exit status 2).
    var usageError: String? {
        if let export, export != "jax" && export != "torch" { return "--export takes jax or torch, got '\(export)'" }
        if export != nil && (json || interactive || present != nil || html != nil) {
            return "--export cannot be combined with --json, -i, --present or --html"
        }
        if export != nil && files.isEmpty && statements.isEmpty && isatty(0) == 1 {
            return "--export needs a FILE, -e statements, or a script on standard input"
        }
        if of != nil && !json && export == nil { return "--of needs --json or --export" }
        if present != nil && (json || interactive || !statements.isEmpty || !files.isEmpty) {
            return "--present takes one FILE and runs it on its own: not with --json, -i, -e or other files"
        }
        if json && interactive { return "--json and -i cannot be combined" }
        if html != nil && json { return "--html and --json cannot be combined" }
        if html != nil && present != nil { return "--html and --present cannot be combined" }
        if html != nil && interactive { return "--html and -i cannot be combined: the page is of the scripts' run" }
        if html != nil && files.isEmpty && statements.isEmpty { return "--html needs a FILE or -e statements to run" }
        // --json's standard output is the document alone.
        if json && echo { return "--json and --echo cannot be combined: --json prints only the JSON document" }
        // With nothing to run and a terminal for input there is no script: usage, not a script error.
        if json && files.isEmpty && statements.isEmpty && isatty(0) == 1 {
            return "--json needs a FILE, -e statements, or a script on standard input"
        }
        return nil
    }

    /// The options of a well-formed command line in the common forms, or nil when
    /// ArgumentParser should read it (help, version, anything it would refuse or that is
    /// spelled another way). The argument of `-e` is always a statement, even one that
    /// looks like an option (`-e '---1'`); after `--` every word is a file.
    static func read(_ words: [String]) -> Options? {
        var options = Options()
        var i = 0
        while i < words.count {
            let word = words[i]
            i += 1
            switch word {
            case "--":
                options.files.append(contentsOf: words[i...])
                i = words.count
            case "-e":
                guard i < words.count else { return nil }
                options.statements.append(words[i])
                i += 1
            case "--of":
                // Given twice, or followed by an option rather than a node name: ArgumentParser says why.
                guard options.of == nil, i < words.count, !words[i].hasPrefix("-") else { return nil }
                options.of = words[i]
                i += 1
            case "--present":
                guard options.present == nil, i < words.count, !words[i].hasPrefix("-") else { return nil }
                options.present = words[i]
            case "--export":
                guard options.export == nil, i < words.count, !words[i].hasPrefix("-") else { return nil }
                options.export = words[i]
                i += 1
            case "--html":
                guard options.html == nil, i < words.count, !words[i].hasPrefix("-") else { return nil }
                options.html = words[i]
                i += 1
            case "-i": options.interactive = true
            case "--echo": options.echo = true
            case "--json": options.json = true
            default:
                guard !word.hasPrefix("-") else { return nil }
                options.files.append(word)
            }
        }
        return options.usageError == nil ? options : nil
    }
}
