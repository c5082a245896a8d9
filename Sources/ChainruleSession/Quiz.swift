import ChainruleCore

/// One quantity of the current graph that `:quiz` hides and asks for.
struct Quiz {
    enum Quantity {
        /// A node's forward value.
        case value(NodeID)
        /// The local Jacobian of one edge: ∂consumer/∂(its input `argument`).
        case local(consumer: NodeID, argument: Int)
        /// ∂output/∂node, from a reverse pass of a scalar output.
        case gradient(output: NodeID, node: NodeID)
    }

    var quantity: Quantity
    /// The hidden quantity: finite, at most ``Session/quizEntryLimit`` elements.
    var hidden: Tensor
    /// How the quantity is written: `h`, `∂h/∂z`, `∂L/∂h`.
    var name: String
    /// The node gradients are taken of (the default target), for the worked step.
    var output: NodeID
}

/// Where the answer to a `:quiz` comes from.
enum QuizAnswerSource {
    /// The next line of the script (its text and where it is).
    case line(String, SourceSpan)
    /// The next line typed at the prompt, which then asks for an answer.
    case prompt
    /// Nothing follows the quiz (the end of a script or of `-e`): it is revealed.
    case none
}

/// `:quiz [NODE] [seed=k]`: hides a value, a local Jacobian or a gradient of the current
/// graph, asks for it, checks the answer and, when it is wrong or given up, works it out.
extension Session {
    /// An answer counts as right when every element is within this of the hidden one:
    /// absolutely for elements of magnitude up to 1, relatively above.
    static let quizTolerance = 1e-3
    static let quizToleranceText = "1e-3"
    /// The most elements a hidden quantity may have (an answer is typed by hand).
    static let quizEntryLimit = 16
    /// Answers that give up and show the quantity (compared lowercased, without blanks around).
    static let quizGiveUps: Set<String> = ["", "reveal", ":reveal", "?", "give up", "pass", "skip"]
    public static let answerPrompt = "answer?> "

    func quiz(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":quiz [NODE] [seed=k]"
        let (positional, keyed) = try arguments.keyed(["seed"], usage: usage)
        if positional.count > 1 { throw Diagnostic("unexpected argument '\(positional[1].text)'; usage: \(usage)", at: positional[1].span) }
        var seed = UInt64(quizzesAsked)
        if let word = keyed["seed"] {
            guard let k = UInt64(word.text) else {
                throw Diagnostic("seed must be a whole number from 0 up, as in seed=3", at: word.span)
            }
            seed = k
        }
        let about = try positional.first.map { word throws(Diagnostic) in try node(word) }
        let output = try defaultTarget(at: arguments.nameSpan)
        let candidates = quizCandidates(output: output, about: about)
        guard !candidates.isEmpty else {
            let what = about.map { "about \(label($0)) " } ?? ""
            throw Diagnostic("there is nothing \(what)to quiz: a quiz hides a finite value, local Jacobian or gradient of at most \(Session.quizEntryLimit) elements of a named node; define a formula first, as in 'f = x * x'",
                             at: positional.first?.span ?? arguments.nameSpan)
        }
        var random = SeededRandom(seed: seed)
        let quiz = candidates[Int(random.next() % UInt64(candidates.count))]
        quizzesAsked += 1
        pendingQuiz = quiz
        print(question(quiz))
        switch quizAnswer {
        case .line(let text, let span):
            print(style.dim("answer: ") + Session.trimmed(text))
            // A script's answer is its only one: an unreadable answer ends the quiz with the error.
            do throws(Diagnostic) { try answerQuiz(text, at: span) } catch {
                pendingQuiz = nil
                throw error
            }
        case .prompt:
            break
        case .none:
            print("no answer follows :quiz here, so it is revealed")
            revealQuiz()
        }
    }

    /// Every quantity that may be asked, in node order: values of named formulas, local
    /// Jacobians of edges between named nodes, and gradients of the output (when a scalar)
    /// with respect to named nodes. With `about`, only the quantities of that node.
    func quizCandidates(output: NodeID, about: NodeID?) -> [Quiz] {
        let graph = workspace.graph
        let named = workspace.order.compactMap { graph.node(named: $0) }.sorted()
        func fits(_ t: Tensor) -> Bool { t.count <= Session.quizEntryLimit && t.scalars.allSatisfy(\.isFinite) }
        func concerns(_ ids: NodeID...) -> Bool { about.map(ids.contains) ?? true }
        var result: [Quiz] = []
        for id in named where !graph[id].isLeaf && concerns(id) {
            if let v = try? workspace.value(of: id), fits(v) { result.append(Quiz(quantity: .value(id), hidden: v, name: label(id), output: output)) }
        }
        let isNamed = Set(named)
        for id in named where !graph[id].isLeaf {
            let node = graph[id]
            guard let value = try? workspace.value(of: id) else { continue }
            let inputs = node.inputs.map { workspace.evaluation[$0] ?? Tensor(0) }
            // An input used twice (y * y) has two local Jacobians of one name: neither is asked.
            for (k, input) in node.inputs.enumerated() where isNamed.contains(input) && concerns(id, input)
                && !graph.isClassIndex(id, argument: k) && node.inputs.filter({ $0 == input }).count == 1 {
                let local = LocalJacobian(op: node.op, inputs: inputs, output: value, argument: k)
                guard local.rows * local.columns <= Session.quizEntryLimit else { continue }
                let full = LocalJacobian.full(op: node.op, inputs: inputs, output: value, argument: k)
                let matrix = local.rows == 1 && local.columns == 1 ? full.reshaped([]) : full.reshaped([local.rows, local.columns])
                if fits(matrix) {
                    result.append(Quiz(quantity: .local(consumer: id, argument: k), hidden: matrix, name: "local ∂\(label(id))/∂\(label(input))", output: output))
                }
            }
        }
        if let y = try? workspace.value(of: output), y.isScalar,
           let gradients = try? workspace.gradients(of: output, recordContributions: false) {
            for id in named where id < output && concerns(id) {
                if let g = gradients[id], fits(g) {
                    result.append(Quiz(quantity: .gradient(output: output, node: id), hidden: g, name: partial(label(output), label(id), seeded: false), output: output))
                }
            }
        }
        return result
    }

    /// The question, with what a student needs to work it out.
    func question(_ quiz: Quiz) -> String {
        var lines: [String]
        let shape = quiz.hidden.isScalar ? "a number" : "shape \(describe(shape: quiz.hidden.shape))"
        switch quiz.quantity {
        case .value(let id):
            lines = [style.bold("quiz: what is the value of \(label(id)) = \(operation(id))?") + style.dim("   \(shape)")]
            lines += inputRows(of: id)
        case .local(let consumer, let k):
            let input = workspace.graph[consumer].inputs[k]
            let size = quiz.hidden.isScalar ? "a number" : "a \(quiz.hidden.shape[0])×\(quiz.hidden.shape[1]) matrix: rows \(label(consumer))'s elements, columns \(label(input))'s"
            lines = [style.bold("quiz: what is the local Jacobian ∂\(label(consumer))/∂\(label(input)) of \(label(consumer)) = \(operation(consumer))?") + style.dim("   \(size)")]
            lines += inputRows(of: consumer)
        case .gradient(let output, let id):
            lines = [style.bold("quiz: what is the gradient \(quiz.name)?") + style.dim("   \(shape)")]
            if id == output { break }
            let graph = workspace.graph
            let gradients = try? workspace.gradients(of: output, recordContributions: false)
            for consumer in (id + 1)...output where graph[consumer].inputs.contains(id) && gradients?[consumer] != nil {
                lines.append("  \(label(consumer)) = \(operation(consumer))")
                if let g = gradients?[consumer] {
                    lines.append("    given   " + partial(label(output), label(consumer), seeded: false) + " = " + style.gradient(format.inline(g)))
                }
                lines += inputRows(of: consumer).map { "  " + $0 }
            }
        }
        let ending = quizAnswer.isPrompt ? "type the answer at the '\(Session.answerPrompt.trimmingBlanks)' prompt" : "the next line is the answer"
        lines.append(style.dim("  a number or a tensor literal such as [1, 2] or [[1, 0], [0, 1]], right within \(Session.quizToleranceText) (absolute, or relative where |value| > 1); \(ending), an empty line or 'reveal' shows it"))
        return lines.joined(separator: "\n")
    }

    /// `  input   z = [1, -2]` for each input of a node that is not a literal.
    func inputRows(of id: NodeID) -> [String] {
        var seen = Set<NodeID>()
        return workspace.graph[id].inputs.filter { !isLiteral($0) && seen.insert($0).inserted }.map { input in
            "  input   \(label(input)) = " + style.value(format.inline(workspace.evaluation[input] ?? Tensor(0)))
        }
    }

    /// Checks `text` against the pending quiz. A give-up word shows the quantity; text that is
    /// not a number or tensor literal is an error that leaves the quiz pending.
    func answerQuiz(_ text: String, at span: SourceSpan?) throws(Diagnostic) {
        guard let quiz = pendingQuiz else { return }
        let trimmed = Session.trimmed(text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "")
        if Session.quizGiveUps.contains(trimmed.lowercased()) {
            revealQuiz()
            return
        }
        let given = try quizAnswerValue(trimmed, at: span)
        if let problem = mismatch(given, quiz.hidden) {
            print(style.bold("wrong: ") + problem)
        } else if zip(given.scalars, quiz.hidden.scalars).allSatisfy({ Session.agrees($0, $1) }) {
            pendingQuiz = nil
            print(style.bold("right: ") + "\(quiz.name) = " + format.inline(quiz.hidden) + style.dim("   (within \(Session.quizToleranceText))"))
            return
        } else {
            print(style.bold("wrong: ") + "\(quiz.name) is not \(format.inline(given))")
        }
        revealQuiz()
    }

    /// Shows the pending quiz's quantity and the step that computes it, and ends the quiz.
    func revealQuiz() {
        guard let quiz = pendingQuiz else { return }
        pendingQuiz = nil
        var lines = ["the answer: \(quiz.name) = " + style.value(format.inline(quiz.hidden)), style.dim("worked step:")]
        lines += workedStep(quiz)
        print(lines.joined(separator: "\n"))
    }

    /// Whether an answer element is right: within the tolerance, absolute up to magnitude 1.
    static func agrees(_ given: Double, _ hidden: Double) -> Bool {
        abs(given - hidden) <= quizTolerance * max(1, abs(hidden))
    }

    /// Why an answer cannot be the quantity (its shape), or nil when it can: the shapes
    /// agree once axes of size 1 are left out.
    func mismatch(_ given: Tensor, _ hidden: Tensor) -> String? {
        let squeeze: ([Int]) -> [Int] = { $0.filter { $0 != 1 } }
        guard squeeze(given.shape) != squeeze(hidden.shape) else { return nil }
        let expected = hidden.isScalar ? "a number" : "shape \(describe(shape: hidden.shape))"
        let got = given.isScalar ? "a number" : "shape \(describe(shape: given.shape))"
        return "the answer is \(expected), not \(got)"
    }

    /// The answer as a tensor: a number or a literal of numbers, read where it stands so that
    /// an error points into it. Names are not allowed (an answer is not a formula of the graph).
    func quizAnswerValue(_ text: String, at span: SourceSpan?) throws(Diagnostic) -> Tensor {
        let source = Source(name: span?.source.name ?? "<answer>", text: text)
        let (statements, diagnostics) = Parser.parse(source)
        let refusal = Diagnostic("expected a number or a tensor literal, as in 0.5 or [[1, 0], [0, 1]]; got '\(text)' (an empty line or 'reveal' shows the answer)",
                                 at: span)
        guard diagnostics.isEmpty, statements.count == 1, case .expression(let expr) = statements[0] else { throw refusal }
        var scratch = Workspace()
        scratch.memoryLimit = 1_000_000
        guard let value = try? scratch.evaluate(expr, in: source) else { throw refusal }
        return value
    }

    /// The step that computes the quantity, with its numbers: the forward step of a value;
    /// the local Jacobian of an edge and the chain-rule product it makes; for a gradient, each
    /// consumer's upstream gradient times its local Jacobian, and their sum.
    func workedStep(_ quiz: Quiz) -> [String] {
        switch quiz.quantity {
        case .value(let id):
            return ["  \(label(id)) = \(operation(id))"] + inputRows(of: id)
                + ["  value   \(label(id)) = " + style.value(format.inline(quiz.hidden))]
        case .local(let consumer, let k):
            let input = workspace.graph[consumer].inputs[k]
            var lines = ["  \(label(consumer)) = \(operation(consumer))"] + inputRows(of: consumer)
            let output = quiz.output
            if consumer <= output, let y = try? workspace.value(of: output), y.isScalar,
               let gradients = try? workspace.gradients(of: output, recordContributions: true),
               let upstream = gradients[consumer],
               let edge = gradients.contributions.first(where: { $0.consumer == consumer && $0.argument == k }) {
                let name = partial(label(output), label(consumer), seeded: false)
                lines += render([Row(role: "upstream", lhs: name, rhs: style.gradient(format.inline(upstream)))]
                                + edgeRows(edge, upstream: name))
            } else {
                let local = LocalJacobian(op: workspace.graph[consumer].op, inputs: workspace.graph[consumer].inputs.map { workspace.evaluation[$0] ?? Tensor(0) },
                                          output: workspace.evaluation[consumer] ?? Tensor(0), argument: k)
                lines += render([Row(role: "local", lhs: "∂\(label(consumer))/∂\(label(input))", rhs: format.inline(quiz.hidden), note: "\(local.rows)×\(local.columns)")])
            }
            return lines
        case .gradient(let output, let id):
            guard id != output else { return ["  " + quiz.name + " = 1, the seed"] }
            guard let gradients = try? workspace.gradients(of: output, recordContributions: true) else { return [] }
            var rows: [Row] = []
            let edges = gradients.contributions.filter { $0.input == id }
            for edge in edges {
                let name = partial(label(output), label(edge.consumer), seeded: false)
                rows.append(Row(role: "upstream", lhs: name, rhs: style.gradient(format.inline(gradients[edge.consumer] ?? Tensor(0))),
                                note: "\(label(edge.consumer)) = \(operation(edge.consumer))"))
                rows += edgeRows(edge, upstream: name)
            }
            if edges.count > 1 {
                rows.append(Row(role: "sum", lhs: quiz.name, rhs: style.gradient(format.inline(quiz.hidden)),
                                note: "\(edges.count) edges leave \(label(id)): their contributions add"))
            }
            return render(rows)
        }
    }
}

extension QuizAnswerSource {
    var isPrompt: Bool { if case .prompt = self { true } else { false } }
}

extension String {
    /// Without the blanks at its end.
    var trimmingBlanks: String { String(reversed().drop(while: { $0 == " " }).reversed()) }
}

extension Session {
    /// Where the answer to a `:quiz` statement comes from: the line after the one the
    /// statement ends on, when the source has one; else the prompt for text typed there, and
    /// nothing for a script. With the end of the answer line: statements that start before it
    /// are the answer, not run.
    static func quizAnswerSource(after statement: Statement, in source: Source, typed: Bool) -> (QuizAnswerSource, end: Int?)? {
        guard case .command(let command) = statement, command.name == "quiz" else { return nil }
        let line = source.lineRange(containing: max(command.range.start, command.range.end - 1))
        // A newline that ends the text starts no line.
        guard line.end + 1 < source.bytes.count else { return (typed ? .prompt : .none, nil) }
        let answer = source.lineRange(containing: line.end + 1)
        return (.line(source.text(answer), SourceSpan(source, answer)), answer.end)
    }
}
