import ChainruleCore
import Glibc

/// `:jvp`, `:hessian`, `:stats`, `:compare`, `:remat` and `:grad … method=`: forward mode,
/// second derivatives and what each way of differentiating costs. The core computes;
/// this file formats.
extension Session {
    static let derivativeCommands: [Command] = [
        Command(name: "jvp", usage: ":jvp NODE X [dir=V]", summary: "forward mode: every node's tangent along a direction of X, in topological order",
                detail: "The mirror of :backward. Starting from the tangent Ẋ = V (default: all ones), each node from X to NODE gets its tangent, the directional derivative of its value, computed from its inputs' tangents by the same derivative rules the reverse pass transposes. NODE may have any shape: its tangent is the Jacobian times V.",
                example: ":jvp h x dir=[1, 0]", run: { s, a throws(Diagnostic) in try s.jvp(a) }),
        Command(name: "hessian", usage: ":hessian NODE X", summary: "the Hessian of a scalar node with respect to X, with eigenvalues when symmetric",
                detail: "Forward mode over the reverse graph: one tangent pass of ∂NODE/∂X per element of X. When the Hessian is symmetric and at most 10×10, its eigenvalues are listed (all positive: a minimum; all negative: a maximum; mixed: a saddle).",
                example: ":hessian L w", run: { s, a throws(Diagnostic) in try s.hessian(a) }),
        Command(name: "stats", usage: ":stats [NODE]", summary: "costs of the reverse pass: bytes stored and FLOPs per node",
                detail: "For each node NODE depends on: the bytes of its value the backward pass reads (so the forward pass must keep them), its forward FLOPs and the FLOPs of its backward rule (1 per elementwise operation, 2 per multiply–add), with totals and the backward/forward ratio. Nodes marked with :remat are recomputed instead of stored.",
                example: ":stats L", run: { s, a throws(Diagnostic) in try s.stats(a) }),
        Command(name: "compare", usage: ":compare [NODE]", summary: "reverse mode vs forward mode vs finite differences: passes, FLOPs, memory, time, agreement",
                detail: "Computes the gradient of scalar NODE with respect to every leaf three ways and tabulates the passes each needs, their FLOPs, the bytes kept from the forward pass, the wall time, and the largest difference from reverse mode. Reverse mode costs a small constant times one forward pass; forward mode and finite differences grow with the number of inputs (they take at most 10000 input elements).",
                example: ":compare L", run: { s, a throws(Diagnostic) in try s.compare(a) }),
        Command(name: "remat", usage: ":remat NODE on|off", summary: "recompute a node in the backward pass instead of storing it (checkpointing)",
                detail: "':remat all' marks every intermediate node and ':remat none' clears the marks. A marked node's value is not kept for the backward pass: the reverse graph computes it again from its inputs where a rule needs it. Gradients stay bit for bit the same; :stats and :compare show the bytes saved and the FLOPs added. Without arguments, lists the marked nodes.",
                example: ":remat h on\n:remat all", run: { s, a throws(Diagnostic) in try s.rematCommand(a) }),
        reverseCommand,
    ]

    /// A leaf-like node name or `%ID` of the workspace, as a derivative's variable.
    func variable(_ word: CommandArguments.Word) throws(Diagnostic) -> NodeID { try node(word) }

    func evaluationError(_ error: EvaluationError, at span: SourceSpan) -> Diagnostic {
        located(error, at: span)
    }

    // MARK: :jvp

    func jvp(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":jvp NODE X [dir=V]"
        let (positional, keyed) = try arguments.keyed(["dir"], usage: usage)
        guard positional.count == 2 else {
            throw Diagnostic("expected a node and a variable; usage: \(usage)", at: positional.count > 2 ? positional[2].span : arguments.endSpan)
        }
        let output = try node(positional[0]), input = try variable(positional[1])
        _ = try value(output, at: positional[0].span)
        let inputShape = workspace.graph[input].shape
        var direction = Tensor(repeating: 1, shape: inputShape)
        if let word = keyed["dir"] {
            direction = try constant(word)
            guard direction.shape == inputShape else {
                throw Diagnostic("the direction has shape \(describe(shape: direction.shape)) but \(label(input)) has shape \(describe(shape: inputShape))", at: word.span)
            }
        }
        let result: (graph: TangentGraph, values: Evaluation)
        do { result = try workspace.tangents(of: output, wrt: input, direction: direction) } catch { throw evaluationError(error, at: positional[0].span) }
        let x = label(input)
        var lines = ["forward mode from \(x) along \(x)̇ = \(format.inline(direction)) to \(label(output)); nodes in topological order"]
        // Nothing to list when X comes after NODE (NODE cannot depend on it). A node that depends
        // on X with a zero derivative on the way (through `step`) has no tangent node: its tangent is 0.
        let needed = input <= output ? workspace.graph.ancestors(of: output) : []
        var downstream = Set(workspace.graph.descendants(of: input, through: output))
        downstream.insert(input)
        for id in stride(from: input, through: output, by: 1) where needed[id] && downstream.contains(id) {
            let node = workspace.graph[id]
            let tangent: Tensor
            if id < result.graph.tangent.count, let t = result.graph.tangent[id], let value = result.values[t] {
                tangent = value
            } else {
                tangent = Tensor.zeros(node.shape)
            }
            let heading = node.isLeaf ? "\(label(id))  \(node.kind.rawValue)" : "\(label(id)) = \(operation(id))"
            lines.append("")
            lines.append(style.bold(heading) + style.dim("   shape \(describe(shape: node.shape))"))
            var rows: [Row] = [Row(role: "value", lhs: label(id), rhs: style.value(format.inline(workspace.evaluation[id] ?? Tensor(0))))]
            let tangentLabel = "∂\(label(id))/∂\(x) · \(x)̇"
            if id == input {
                rows.append(Row(role: "tangent", lhs: tangentLabel, rhs: style.gradient(format.inline(tangent)), note: "the direction"))
            } else {
                let feeding = node.inputs.filter { downstream.contains($0) }
                let via = Session.unique(feeding).map(label).joined(separator: ", ")
                let zero = id >= result.graph.tangent.count || result.graph.tangent[id] == nil
                rows.append(Row(role: "tangent", lhs: tangentLabel, rhs: style.gradient(format.inline(tangent)),
                                note: zero ? "from \(via): zero, a derivative on the way is zero" : "from \(via)"))
            }
            lines.append(contentsOf: render(rows))
        }
        if !downstream.contains(output) {
            lines.append("")
            lines.append(style.dim("\(label(output)) does not depend on \(x): its tangent is zero"))
        }
        print(lines.joined(separator: "\n"))
    }

    static func unique(_ ids: [NodeID]) -> [NodeID] {
        var seen = Set<NodeID>()
        return ids.filter { seen.insert($0).inserted }
    }

    // MARK: :hessian

    func hessian(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 2...2, usage: ":hessian NODE X")
        let (fWord, xWord) = (arguments.words[0], arguments.words[1])
        let f = try node(fWord), x = try variable(xWord)
        let y = try value(f, at: fWord.span)
        guard y.isScalar else {
            throw Diagnostic("\(fWord.text) has shape \(describe(shape: y.shape)); :hessian needs a scalar node", at: fWord.span)
        }
        let n = workspace.graph[x].shape.reduce(1, *)
        guard n <= 1000 else {
            throw Diagnostic("\(xWord.text) has \(n) elements; the Hessian would be \(n)×\(n) (at most 1000×1000)", at: xWord.span)
        }
        let matrix: Tensor
        do { matrix = try workspace.hessian(of: f, wrt: x) } catch { throw evaluationError(error, at: fWord.span) }
        var lines = ["∂²\(fWord.text)/∂\(xWord.text)²: \(n)×\(n)" + style.dim("  (forward mode over the reverse graph, \(n) pass\(n == 1 ? "" : "es"))")]
        var shown = format
        shown.elementLimit = max(format.elementLimit, 400)
        lines.append(style.gradient(shown.block(matrix)))
        if !matrix.scalars.allSatisfy(\.isFinite) {
            lines.append(style.dim("some entries are not finite (the function or a derivative is infinite or undefined here)"))
        } else if !LinearAlgebra.isSymmetric(matrix.scalars, size: n) {
            lines.append(style.dim("not symmetric (the function is not twice continuously differentiable here)"))
        } else if n <= 10 {
            let values = LinearAlgebra.symmetricEigenvalues(matrix.scalars, size: n)
            // Eigenvalues within rounding of zero count as zero.
            let scale = values.map(abs).max() ?? 0
            let zero = 1e-10 * max(scale, Double.leastNormalMagnitude)
            let positive = values.filter { $0 > zero }.count, negative = values.filter { $0 < -zero }.count
            let verdict: String
            if positive == n { verdict = "all positive: it curves up in every direction (positive definite)" }
            else if negative == n { verdict = "all negative: it curves down in every direction (negative definite)" }
            else if positive > 0 && negative > 0 { verdict = "mixed signs: up in some directions, down in others (a saddle shape)" }
            else { verdict = "some zero: flat in some direction (semidefinite)" }
            lines.append("eigenvalues " + format.inline(Tensor(values)) + style.dim("  (\(verdict))"))
        }
        print(lines.joined(separator: "\n"))
    }

    // MARK: :grad … method=

    func gradByMethod(_ target: NodeID, ids: [NodeID], method: DerivativeMethod, name: String, at span: SourceSpan) throws(Diagnostic) -> [String] {
        var lines: [String] = []
        let ids = ids.filter { id in
            guard let reason = noGradientReason(id, output: target) else { return true }
            lines.append("∂\(name)/∂\(label(id)): none, " + reason)
            return false
        }
        try checkPerElementPasses(ids.map { workspace.graph[$0].shape.reduce(1, *) }.reduce(0, +), at: span)
        let feedsIndex = method == .fd ? workspace.graph.feedsClassIndex(of: target) : []
        for id in ids {
            if id < feedsIndex.count, feedsIndex[id] {
                lines.append("∂\(name)/∂\(label(id)): not by central differences, as \(name) reads \(label(id)) as a class index (a shift would make it fractional); method=reverse or forward gives it")
                continue
            }
            let g: Tensor
            do { g = try workspace.gradient(of: target, wrt: id, method: method) } catch { throw evaluationError(error, at: span) }
            let leaf = label(id)
            if id > target || !workspace.graph.ancestors(of: target)[id] {
                lines.append("∂\(name)/∂\(leaf) = " + format.inline(g) + style.dim("  (\(name) does not depend on \(leaf))"))
                continue
            }
            lines.append("∂\(name)/∂\(leaf) = " + style.gradient(format.block(g, indent: 6 + name.count + leaf.count)))
        }
        let passes: String = switch method {
        case .reverse: "one reverse pass"
        case .forward: "one forward-mode pass per element (\(ids.map { workspace.graph[$0].shape.reduce(1, *) }.reduce(0, +)))"
        case .fd: "central differences, two forward passes per element, h = ∛ε·max(1, |x|)"
        }
        lines.append(style.dim("(\(method.rawValue): \(passes))"))
        return lines
    }

    // MARK: :remat

    func rematCommand(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":remat NODE on|off | :remat all|none"
        try arguments.expect(count: 0...2, usage: usage)
        let words = arguments.words
        if words.isEmpty {
            let marked = workspace.rematAll ? ["all intermediate nodes"] : workspace.remat.sorted().map(label)
            print(marked.isEmpty ? "no node is recomputed; every value the backward pass reads is stored" : "recomputed in the backward pass: " + marked.joined(separator: ", "))
            return
        }
        if words.count == 1 {
            switch words[0].text {
            case "all": workspace.rematAll = true
            case "none": workspace.rematAll = false; workspace.remat = []
            default: throw Diagnostic("expected 'on' or 'off' after the node, or 'all' or 'none'; usage: \(usage)", at: words[0].span)
            }
            print(words[0].text == "all" ? "every intermediate node is recomputed in the backward pass" : "every value the backward pass reads is stored")
            return
        }
        if ["all", "none"].contains(words[0].text) && workspace.graph.node(named: words[0].text) == nil {
            throw Diagnostic("unexpected argument '\(words[1].text)': ':remat \(words[0].text)' takes nothing after it; usage: \(usage)", at: words[1].span)
        }
        let id = try node(words[0])
        guard !workspace.graph[id].isLeaf else {
            throw Diagnostic("\(words[0].text) is a leaf: its value is data and is always kept", at: words[0].span)
        }
        switch words[1].text {
        case "on": workspace.remat.insert(id)
        case "off": workspace.remat.remove(id)
        default: throw Diagnostic("expected 'on' or 'off', got '\(words[1].text)'", at: words[1].span)
        }
        print("\(label(id)) is \(words[1].text == "on" ? "recomputed in the backward pass instead of stored" : "stored for the backward pass")")
    }
}
