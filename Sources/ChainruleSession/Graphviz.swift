import Glibc

/// Renders DOT text to SVG or PNG through Graphviz's `dot`, found on the `PATH`.
enum Graphviz {
    /// The output format a file name asks for: `svg` or `png`, or nil for DOT text.
    static func format(of path: String) -> String? {
        let lower = path.lowercased()
        if lower.hasSuffix(".svg") { return "svg" }
        if lower.hasSuffix(".png") { return "png" }
        return nil
    }

    static let missing = "Graphviz's 'dot' is not installed; install it (apt-get install graphviz) or write a .dot file"

    /// Writes the DOT text beside `path`, runs `dot -T<format>` into a temporary beside it, then
    /// renames that over `path`, so a failed run leaves the old file whole.
    /// Returns what Graphviz warned about (a drawing too large for a bitmap is scaled down), if anything.
    @discardableResult
    static func render(_ text: String, format: String, to path: String,
                       interrupted: () -> Bool = { false }) throws(Files.Failure) -> String? {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? "./"
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let source = folder + "." + base + ".dot-\(getpid())"
        let output = folder + "." + base + ".out-\(getpid())"
        let errors = folder + "." + base + ".err-\(getpid())"
        defer { unlink(source); unlink(output); unlink(errors) }
        do { try Files.write(text, to: source) } catch {
            // The temporary's name means nothing to the user: the folder of `path` is the problem.
            throw Files.Failure(message: "cannot write '\(path)': \(Files.reason())")
        }
        let status = run(["dot", "-T\(format)", source, "-o", output], errors: errors)
        guard let status else { throw Files.Failure(message: missing) }
        let said = (try? Files.read(errors, limit: 4096, shouldStop: { false })) ?? ""
        guard status == 0 else {
            if interrupted() { throw Files.Failure(message: "interrupted: '\(path)' was not drawn") }
            let first = said.split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
            throw Files.Failure(message: "Graphviz could not draw '\(path)': \(first)")
        }
        guard rename(output, path) == 0 else {
            throw Files.Failure(message: "cannot write '\(path)': \(Files.reason())")
        }
        let warning = said.split(separator: "\n").first.map { String($0.drop { $0 == " " }) }
        return warning?.isEmpty == false ? warning : nil
    }

    /// DOT text drawn as SVG to sit inside an HTML page (see ``inlineSVG(_:idPrefix:)``), rendered
    /// through a temporary file beside `path` (the page being written), which is removed after.
    static func inlineSVG(of text: String, besides path: String, idPrefix: String) throws(Files.Failure) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? "./"
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let drawn = folder + "." + base + ".svg-\(getpid())"
        defer { unlink(drawn) }
        try render(text, format: "svg", to: drawn)
        return inlineSVG(try Files.read(drawn, limit: Files.defaultMaximumSize, shouldStop: { false }), idPrefix: idPrefix)
    }

    /// An SVG document as an element of an HTML page: from its `<svg` on (no XML prologue, no
    /// DOCTYPE), without comments, every `id` prefixed so that several drawings on one page keep
    /// them apart, and without any `href` that points outside the drawing (Graphviz writes them
    /// only for `URL` attributes, which chainrule never sets: this makes sure of it).
    static func inlineSVG(_ document: String, idPrefix: String) -> String {
        var text = Substring(document)
        if let start = text.firstRange(of: "<svg") { text = text[start.lowerBound...] }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        while let open = text.firstRange(of: "<!--") {
            out += text[..<open.lowerBound]
            guard let close = text[open.upperBound...].firstRange(of: "-->") else { text = ""; break }
            text = text[close.upperBound...]
        }
        out += text
        out = out.replacing(" id=\"", with: " id=\"\(idPrefix)")
        out = out.replacing(#/ (xlink:)?href="(?!#)[^"]*"/#, with: "")
        out = out.replacing(#/ (xlink:)?href="#/#, with: { " \($0.output.1 ?? "")href=\"#\(idPrefix)" })
        while out.last == "\n" { out.removeLast() }
        return out
    }

    /// Runs a program found on the `PATH` with standard output to /dev/null and standard error
    /// into `errors`; its exit status, or nil when it cannot be started (not installed).
    static func run(_ arguments: [String], errors: String) -> Int32? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid = pid_t()
        guard posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return nil }
        }
        // WIFEXITED / WEXITSTATUS: the low 7 bits are the signal (0 when it exited).
        if status & 0x7f != 0 { return 128 + (status & 0x7f) }
        // 127: the shell convention posix_spawnp follows on some systems when the program is missing.
        let code = (status >> 8) & 0xff
        return code == 127 ? nil : code
    }
}
