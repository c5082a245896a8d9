import ChainruleCore

/// `:export FILE.py [jax|torch] [of=NODE]` and `chainrule --export jax|torch`: the graph as a
/// standalone Python script that prints `--json`'s document computed by JAX or PyTorch (``Exporter``).
extension Session {
    static let exportUsage = ":export FILE.py [jax|torch] [of=NODE]"

    func export(_ arguments: CommandArguments) throws(Diagnostic) {
        var framework = Framework.jax
        var files: [CommandArguments.Word] = []
        var of: CommandArguments.Word?
        for word in arguments.words {
            if let f = Framework(rawValue: word.text) {
                framework = f
            } else if word.text.hasPrefix("of=") {
                var span = word.span  // the name, after "of="
                span.range.start = min(span.range.start + 3, span.range.end)
                of = CommandArguments.Word(text: String(word.text.dropFirst(3)), span: span)
            } else {
                files.append(word)
            }
        }
        guard let file = files.first else { throw Diagnostic("export needs a file; usage: \(Self.exportUsage)", at: arguments.nameSpan) }
        if files.count > 1 {
            let guess = Suggestions.didYouMean(files[1].text, among: Framework.allCases.map(\.rawValue)) ?? ""
            throw Diagnostic("unexpected argument '\(files[1].text)'\(guess.isEmpty ? ";" : guess) usage: \(Self.exportUsage)", at: files[1].span)
        }
        guard let name = of?.text ?? defaultOutputName else {
            throw Diagnostic("nothing is defined, so there is nothing to export", at: arguments.nameSpan)
        }
        let text = try exportScript(output: name, framework: framework, at: of?.span ?? arguments.nameSpan)
        let path = self.path(file, in: arguments)
        do { try Files.write(text, to: path) } catch { throw Diagnostic(error.message, at: file.span) }
        let runs = replay?.trainings.count ?? 0
        let training = runs == 0 ? "" : ", taking the \(runs) :train run\(runs == 1 ? "" : "s") again"
        print("wrote \(name) and its gradients for \(framework == .jax ? "JAX" : "PyTorch") to \(path)\(training) (run: python3 \(path))")
    }

    /// The script of `output` for `framework`: the graph evaluated, differentiated from `output`
    /// as `--json` does, then written out.
    public func exportScript(output name: String, framework: Framework, at span: SourceSpan? = nil) throws(Diagnostic) -> String {
        let document = try jsonDocument(output: name, at: span)
        let source = workspace.graph.count == 0 ? "an empty session" : "a chainrule session"
        return Exporter(graph: document.graph, values: document.values, gradients: document.gradients,
                        outputName: name, source: source, modules: workspace.exportedModules, replay: replay).script(framework)
    }
}
