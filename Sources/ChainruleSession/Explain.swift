import ChainruleCore

/// `:explain`: a gradient as the chain rule's sum over paths.
///
/// ∂L/∂x is the sum, over every path x → … → L in the graph, of the product of the
/// local Jacobians along the path. The reverse pass computes the same sum by sharing
/// the common parts of paths; this command writes it out path by path.
extension Session {

    /// The most paths written out one by one; the rest are summed without being listed.
    static let pathLimit = 24

    func explain(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 2...2, usage: ":explain L X")
        let (outWord, inWord) = (arguments.words[0], arguments.words[1])
        let output = try node(outWord), input = try node(inWord)
        let y = try value(output, at: outWord.span)
        guard y.isScalar else {
            throw Diagnostic("\(outWord.text) has shape \(describe(shape: y.shape)); :explain needs a scalar, as :grad does", at: outWord.span)
        }
        let graph = workspace.graph
        let (out, name) = (label(output), label(input))
        if let reason = noGradientReason(input, output: output) {
            print("∂\(out)/∂\(name): none, " + reason)
            return
        }
        let onPath = workspace.nodesBetween(input, output)
        guard input <= output, onPath[output] else {
            print("∂\(out)/∂\(name) = 0: no path leads from \(name) to \(out)")
            return
        }
        let paths = workspace.enumeratePaths(from: input, to: output, through: onPath, limit: Session.pathLimit + 1)
        let total = workspace.countPaths(from: input, to: output, through: onPath)
        let counted = total >= ChainRulePaths.countCap ? "more than 10¹⁸ paths" : "\(total) path\(total == 1 ? "" : "s")"
        var lines = ["∂\(out)/∂\(name) as a sum over \(counted) from \(name) to \(out): multiply the local derivatives along each path, add the paths"]
        var sum = Tensor.zeros(graph[input].shape)
        for (n, path) in paths.prefix(Session.pathLimit).enumerated() {
            let (contribution, numbers) = workspace.pullAlong(path, from: output)
            let factors = numbers?.map { number -> String in
                let text = format.format(number)
                return text.hasPrefix("-") ? "(\(text))" : text
            }
            sum.accumulate(contribution)
            var route = [name]
            var previous = input
            for edge in path {
                // A node that takes the same input twice (x * x) is reached along two edges: say which.
                let twice = graph[edge.consumer].inputs.filter { $0 == previous }.count > 1
                route.append(label(edge.consumer) + (twice ? " (as argument \(edge.argument + 1))" : ""))
                previous = edge.consumer
            }
            lines.append("")
            lines.append("  path \(n + 1)  " + style.bold(route.joined(separator: " → ")))
            let chain = path.reversed().map { "∂\(label($0.consumer))/∂\(label(graph[$0.consumer].inputs[$0.argument]))" }
            lines.append("    " + chain.joined(separator: " · ") + (factors.map { " = " + $0.joined(separator: " · ") } ?? ""))
            lines.append("    = " + style.gradient(format.inline(contribution)))
        }
        let gradient = try gradients(of: output, seed: nil, record: false, at: outWord.span)[input] ?? Tensor.zeros(graph[input].shape)
        lines.append("")
        let reverse = "reverse pass ∂\(out)/∂\(name)"
        let width = max(reverse.count, "sum of the paths".count)
        if total > Session.pathLimit {
            let rest = total >= ChainRulePaths.countCap ? "more than 10¹⁸" : "\(total - Session.pathLimit)"
            lines.append("  (\(rest) more paths not listed; the reverse pass adds them all)")
        } else {
            lines.append("  " + "sum of the paths".padded(to: width) + " = " + style.gradient(format.inline(sum)))
        }
        lines.append("  " + reverse.padded(to: width) + " = " + style.gradient(format.inline(gradient)))
        print(lines.joined(separator: "\n"))
    }
}
