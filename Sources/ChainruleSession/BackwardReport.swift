import ChainruleCore

/// `:backward` and `:grad`: the reverse pass, shown edge by edge.
extension Session {
    /// Local Jacobians with more entries than this are summarised instead of written out.
    static let jacobianEntryLimit = 36

    func backward(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":backward [NODE] [seed=VALUE] [modules]"
        var (positional, keyed) = try arguments.keyed(["seed"], usage: usage)
        let perModule = positional.last?.text == "modules" && workspace.graph.node(named: "modules") == nil
        if perModule { positional.removeLast() }
        if positional.count > 1 {
            let word = positional[1]
            // `modulse`: the flag misspelt.
            let hint = Suggestions.didYouMean(word.text, among: ["modules"]).map { $0 + " " } ?? "; "
            throw Diagnostic("unexpected argument '\(word.text)'\(hint)usage: \(usage)", at: word.span)
        }
        let place = positional.first?.span ?? arguments.nameSpan
        let target = try self.target(positional.first, arguments)
        let y = try value(target, at: place)
        var seed: Tensor? = nil
        if let seedWord = keyed["seed"] {
            let s = try constant(seedWord)
            guard s.shape == y.shape else {
                throw Diagnostic("the seed has shape \(describe(shape: s.shape)) but \(label(target)) has shape \(describe(shape: y.shape))", at: seedWord.span)
            }
            seed = s
        } else if !y.isScalar {
            throw Diagnostic("\(label(target)) has shape \(describe(shape: y.shape)), not a scalar; reduce it (sum, mean, a loss) or give seed=… of its shape", at: place)
        }
        let result = try gradients(of: target, seed: seed, record: true, at: place)
        lastBackwardTarget = label(target)
        print(report(result, seeded: seed != nil, perModule: perModule).lines.text)
    }

    /// Whether a node is an unnamed constant (a literal such as the `2` in `x^2`), left out of reports.
    func isLiteral(_ id: NodeID) -> Bool { workspace.graph[id].isLiteral }

    /// Why a node that `output` depends on gets no gradient from it, or nil when it gets one
    /// (or does not reach `output` at all).
    func noGradientReason(_ id: NodeID, output: NodeID) -> String? {
        let graph = workspace.graph
        guard id <= output, graph.ancestors(of: output)[id], !graph.differentiableAncestors(of: output)[id] else { return nil }
        if graph[id].isLiteral { return "\(label(id)) is a number written in a formula, a constant" }
        return "\(label(output)) uses \(label(id)) only as a class index, which is not differentiated"
    }

    /// One line of a node's block: a role, `lhs = rhs`, and a dim note; `=` signs line up within a block.
    struct Row {
        var role: String
        var lhs: String
        var rhs: String
        var note = ""
    }

    /// The whole reverse pass, as far as the output limit, and how many of its edges were read
    /// to make it. With an explicit seed `p` every gradient is the vector–Jacobian product
    /// p·∂out/∂node, and is labelled so.
    func report(_ result: Gradients, seeded: Bool = false, perModule: Bool = false) -> (lines: CutLines, edgesRead: Int) {
        let out = label(result.output)
        let heading = seeded
            ? "backward pass from \(out), seed p = \(format.inline(result.seed)): each gradient is p·∂\(out)/∂node; nodes in reverse topological order"
            : "backward pass from \(out), seed ∂\(out)/∂\(out) = \(format.inline(result.seed)); nodes in reverse topological order"
        // Blocks are made only until the output limit is passed: `print` cuts the text there.
        var lines = CutLines(limit: outputLimit)
        lines.append(heading)
        var edges = EdgeCursor(result.contributions)
        let graph = workspace.graph
        let calls = perModule ? callBlocks(upTo: result.output) : [:]
        for id in stride(from: result.output, through: 0, by: -1) where result[id] != nil && !isLiteral(id) {
            guard !lines.isFull else { break }
            let nodeEdges = edges.advance(to: id)
            if perModule, !graph.callPath(of: id).isEmpty {
                // A call is one block, at its result; the nodes inside it are not shown.
                guard let call = calls[id] else { continue }
                lines.append("")
                for line in moduleBlock(call, in: result, seeded: seeded) { lines.append(line) }
                continue
            }
            lines.append("")
            for line in block(for: id, in: result, edges: nodeEdges, seeded: seeded) { lines.append(line) }
        }
        return (lines, edges.read)
    }

    /// The reverse pass's edges read from the output down, as far as the blocks made: the pass
    /// records them consumer by consumer from the output down (see ``Gradients/contributions``),
    /// so the edges a node sends are together, and those it receives were all read before them.
    struct EdgeCursor {
        private let contributions: [EdgeContribution]
        /// How many edges have been read.
        private(set) var read = 0
        /// Edges read whose input's block is not made yet, by input.
        private var arrived: [NodeID: [EdgeContribution]] = [:]

        init(_ contributions: [EdgeContribution]) { self.contributions = contributions }

        /// The edges that enter `id` (from its consumers) and those it sends to its inputs,
        /// for a node below every one asked about before.
        mutating func advance(to id: NodeID) -> (incoming: [EdgeContribution], outgoing: [EdgeContribution]) {
            var outgoing: [EdgeContribution] = []
            while read < contributions.count && contributions[read].consumer >= id {
                let edge = contributions[read]
                read += 1
                arrived[edge.input, default: []].append(edge)
                if edge.consumer == id { outgoing.append(edge) }
            }
            return (arrived.removeValue(forKey: id) ?? [], outgoing)
        }
    }

    /// One node's part of the reverse pass: its gradient (summed over its consumers when it
    /// feeds several), then each input edge's local Jacobian and chain-rule product.
    func block(for id: NodeID, in result: Gradients, edges: (incoming: [EdgeContribution], outgoing: [EdgeContribution]),
               seeded: Bool = false) -> [String] {
        guard let g = result[id] else { return [] }
        let out = label(result.output)
        let node = workspace.graph[id]
        let name = label(id)
        let heading = node.isLeaf ? "\(name)  \(node.kind.rawValue)" : "\(name) = \(operation(id))"
        let call = workspace.graph.callPath(of: id).last.map { "   in " + Session.callText($0.call) } ?? ""
        let lines = [style.bold(heading) + style.dim("   shape \(describe(shape: node.shape))" + call)]
        let upstream = partial(out, name, seeded: seeded)
        var rows = upstreamRows(upstream, g, arriving: edges.incoming.map { ($0.value, $0.consumer) },
                                isSeed: id == result.output)
        for edge in edges.outgoing where !isLiteral(edge.input) {
            rows.append(contentsOf: edgeRows(edge, upstream: upstream))
        }
        for (k, input) in node.inputs.enumerated() where workspace.graph.isClassIndex(id, argument: k) {
            rows.append(Row(role: "local", lhs: "∂\(name)/∂\(label(input))", rhs: "none", note: "a class index: not differentiated"))
        }
        return lines + render(rows)
    }

    /// The upstream gradient `g` of a node: as it is, or as the sum of the contributions that
    /// arrived from several consumers (`value`, `consumer`).
    func upstreamRows(_ upstream: String, _ g: Tensor, arriving: [(value: Tensor, consumer: NodeID)], isSeed: Bool) -> [Row] {
        guard arriving.count > 1 else {
            return [Row(role: "upstream", lhs: upstream, rhs: style.gradient(format.inline(g)), note: isSeed ? "seed" : "")]
        }
        return [Row(role: "upstream", lhs: upstream, rhs: contributions(arriving)),
                Row(role: "", lhs: "", rhs: style.gradient(format.inline(g)), note: "sum of \(arriving.count) paths")]
    }

    /// `5 (via f) + 2 (via %2)`.
    func contributions(_ arriving: [(value: Tensor, consumer: NodeID)], format: NumberFormat? = nil) -> String {
        let format = format ?? self.format
        return arriving.map { "\(format.inline($0.value)) (via \(label($0.consumer)))" }.joined(separator: " + ")
    }

    /// A block's rows with their `=` signs lined up.
    func render(_ rows: [Row]) -> [String] {
        let width = rows.map(\.lhs.count).max() ?? 0
        return rows.map { row in
            let line = "  " + row.role.padded(to: 9) + " " + row.lhs.padded(to: width) + " = " + row.rhs
            return row.note.isEmpty ? line : line + style.dim("   " + row.note)
        }
    }

    /// The local Jacobian of one edge and the chain-rule product that moves the gradient along it.
    /// `values` gives the forward values (the workspace's, or a walk's).
    func edgeRows(_ edge: EdgeContribution, upstream: String, values: ((NodeID) -> Tensor?)? = nil) -> [Row] {
        let consumer = label(edge.consumer), input = label(edge.input)
        let node = workspace.graph[edge.consumer]
        let value = values ?? { self.workspace.evaluation[$0] }
        let inputs = node.inputs.map { value($0) ?? Tensor(0) }
        let output = value(edge.consumer) ?? Tensor(0)
        let local = LocalJacobian(op: node.op, inputs: inputs, output: output, argument: edge.argument)
        let jacobian = jacobianText(local, op: node.op, inputIDs: Array(node.inputs), inputs: inputs, output: output,
                                    argument: edge.argument, consumer: edge.consumer)
        let localLabel = "∂\(consumer)/∂\(input)"
        return [
            Row(role: "local", lhs: localLabel, rhs: jacobian, note: "\(local.rows)×\(local.columns)"),
            Row(role: "chain", lhs: "\(upstream) · \(localLabel)", rhs: style.gradient(format.inline(edge.value)), note: "→ \(input)"),
        ]
    }

    /// The local Jacobian in its structured form where it has one, else written out or summarised.
    func jacobianText(_ local: LocalJacobian, op: Op, inputIDs: [NodeID], inputs: [Tensor], output: Tensor, argument k: Int,
                      consumer: NodeID? = nil) -> String {
        let square = local.rows == local.columns
        let small = local.rows * local.columns <= Session.jacobianEntryLimit
        switch local.structure {
        case .identity where square:
            return local.rows == 1 ? "1" : "I"
        case .negatedIdentity where square:
            return local.rows == 1 ? "-1" : "-I"
        case .diagonal(let d) where square:
            return local.rows == 1 ? format.format(d.scalars[0]) : "diag(\(format.inline(d.reshaped([d.count]))))"
        case .matrix(let operand, let transposed):
            let matrix = transposed ? inputs[operand].transposed : inputs[operand]
            return "\(label(inputIDs[operand]))\(transposed ? "ᵀ" : "") = \(format.inline(matrix))"
        case .identityKroneckerRow(let operand):
            let text = "I ⊗ \(label(inputIDs[operand]))ᵀ"
            guard small else { return text }
            return text + " = " + format.inline(LocalJacobian.full(op: op, inputs: inputs, output: output, argument: k))
        case .constantRow(let c) where !small:
            return "a row of \(local.columns) × \(format.format(c))"
        default:
            guard small else {
                // A selection, broadcast or axis sum is named by its structure; only what has none is dense.
                if let consumer, case let symbol = jacobianSymbol(consumer, argument: k, granularity: .nodes), !symbol.hasPrefix("∂") {
                    return symbol
                }
                return "dense, not shown (:jacobian shows full Jacobians)"
            }
            return format.inline(LocalJacobian.full(op: op, inputs: inputs, output: output, argument: k))
        }
    }

    func grad(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":grad NODE [wrt X] [method=reverse|forward|fd]"
        let (words, keyed) = try arguments.keyed(["method"], usage: usage)
        guard !words.isEmpty else { throw Diagnostic("missing argument; usage: \(usage)", at: arguments.endSpan) }
        guard words.count <= 3 else { throw Diagnostic("unexpected argument '\(words[3].text)'; usage: \(usage)", at: words[3].span) }
        if words.count == 2 || (words.count == 3 && words[1].text != "wrt") {
            throw Diagnostic("expected 'wrt X' after the node; usage: \(usage)", at: words[1].span)
        }
        var method = DerivativeMethod.reverse
        if let word = keyed["method"] {
            guard let chosen = DerivativeMethod(rawValue: word.text) else {
                throw Diagnostic("unknown method '\(word.text)'; methods are 'reverse', 'forward' and 'fd'", at: word.span)
            }
            method = chosen
        }
        let target = try node(words[0])
        let y = try value(target, at: words[0].span)
        guard y.isScalar else {
            throw Diagnostic("\(words[0].text) has shape \(describe(shape: y.shape)), not a scalar; use :jacobian \(words[0].text) X for a vector output", at: words[0].span)
        }
        let ids: [NodeID]
        if words.count == 3 {
            ids = [try node(words[2])]
        } else {
            // Every named leaf, but not those `target` uses only as class indices: they have no gradient.
            let graph = workspace.graph
            let ancestors = graph.ancestors(of: target), differentiable = graph.differentiableAncestors(of: target)
            ids = workspace.order.compactMap { graph.node(named: $0) }
                .filter { graph[$0].isLeaf && ($0 > target || !ancestors[$0] || differentiable[$0]) }
        }
        if method != .reverse {
            print(try gradByMethod(target, ids: ids, method: method, name: words[0].text, at: words[0].span).joined(separator: "\n"))
            return
        }
        let result = try gradients(of: target, seed: nil, record: false, at: words[0].span)
        var lines: [String] = []
        var finite = y.scalars.allSatisfy(\.isFinite)
        for id in ids {
            let name = label(id)
            // A node with a gradient needs no reason (looking for one walks the whole graph).
            if let g = result[id] {
                if !g.scalars.allSatisfy(\.isFinite) { finite = false }
                lines.append("∂\(words[0].text)/∂\(name) = " + style.gradient(format.block(g, indent: 6 + words[0].text.count + name.count)))
            } else if words.count == 3, let reason = noGradientReason(id, output: target) {
                lines.append("∂\(words[0].text)/∂\(name): none, " + reason)
            } else {
                lines.append("∂\(words[0].text)/∂\(name) = " + format.inline(Tensor.zeros(workspace.graph[id].shape)) + style.dim("  (\(words[0].text) does not depend on \(name))"))
            }
        }
        print(lines.joined(separator: "\n"))
        if !finite { noteNonFinite(to: target, reverse: true) }
    }
}
