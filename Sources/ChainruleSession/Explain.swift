import ChainruleCore

/// `:explain`: a gradient as the chain rule's sum over paths.
///
/// ∂L/∂x is the sum, over every path x → … → L in the graph, of the product of the
/// local Jacobians along the path. The reverse pass computes the same sum by sharing
/// the common parts of paths; this command writes it out path by path.
extension Session {
    /// One edge of a path: `consumer` takes the path's previous node as its argument `argument`.
    struct PathEdge {
        var consumer: NodeID
        var argument: Int
    }

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
        let onPath = nodesBetween(input, output)
        guard input <= output, onPath[output] else {
            print("∂\(out)/∂\(name) = 0: no path leads from \(name) to \(out)")
            return
        }
        let paths = enumeratePaths(from: input, to: output, through: onPath, limit: Session.pathLimit + 1)
        let total = countPaths(from: input, to: output, through: onPath)
        let counted = total >= Session.pathCountCap ? "more than 10¹⁸ paths" : "\(total) path\(total == 1 ? "" : "s")"
        var lines = ["∂\(out)/∂\(name) as a sum over \(counted) from \(name) to \(out): multiply the local derivatives along each path, add the paths"]
        var sum = Tensor.zeros(graph[input].shape)
        for (n, path) in paths.prefix(Session.pathLimit).enumerated() {
            let (contribution, factors) = pullAlong(path, from: output)
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
            let rest = total >= Session.pathCountCap ? "more than 10¹⁸" : "\(total - Session.pathLimit)"
            lines.append("  (\(rest) more paths not listed; the reverse pass adds them all)")
        } else {
            lines.append("  " + "sum of the paths".padded(to: width) + " = " + style.gradient(format.inline(sum)))
        }
        lines.append("  " + reverse.padded(to: width) + " = " + style.gradient(format.inline(gradient)))
        print(lines.joined(separator: "\n"))
    }

    /// Nodes that lie on some path from `source` to `target`: descendants of `source` among the ancestors of `target`.
    /// Only differentiable edges count: a path through a class index carries no derivative.
    func nodesBetween(_ source: NodeID, _ target: NodeID) -> [Bool] {
        guard source <= target else { return [] }
        let graph = workspace.graph
        let ancestors = graph.differentiableAncestors(of: target)
        var mark = Array(repeating: false, count: target + 1)
        mark[source] = ancestors[source]
        for id in (source + 1)..<(target + 1) where ancestors[id] {
            mark[id] = graph[id].inputs.indices.contains { k in
                graph[id].inputs[k] >= source && mark[graph[id].inputs[k]] && graph.isDifferentiable(id, argument: k)
            }
        }
        return mark
    }

    /// Path counts from here on are shown as "more than 10¹⁸" rather than as a number.
    static let pathCountCap = 1_000_000_000_000_000_000

    /// How many distinct paths (an input used twice by one node gives two) lead from `source` to `target`,
    /// saturating at ``pathCountCap`` instead of overflowing.
    func countPaths(from source: NodeID, to target: NodeID, through onPath: [Bool]) -> Int {
        var count = Array(repeating: 0, count: target + 1)
        count[source] = 1
        for id in (source + 1)..<(target + 1) where onPath[id] {
            for (k, input) in workspace.graph[id].inputs.enumerated()
            where input >= source && onPath[input] && workspace.graph.isDifferentiable(id, argument: k) {
                count[id] = min(count[id] + count[input], Session.pathCountCap)
            }
        }
        return count[target]
    }

    /// Up to `limit` paths from `source` to `target`, in order, each as its edges from `source` on.
    /// Depth-first with an explicit stack: paths can be as long as the graph is deep.
    func enumeratePaths(from source: NodeID, to target: NodeID, through onPath: [Bool], limit: Int) -> [[PathEdge]] {
        var consumers: [NodeID: [PathEdge]] = [:]
        for id in source...target where onPath[id] {
            for (k, input) in workspace.graph[id].inputs.enumerated()
            where input >= source && onPath[input] && workspace.graph.isDifferentiable(id, argument: k) {
                consumers[input, default: []].append(PathEdge(consumer: id, argument: k))
            }
        }
        var paths: [[PathEdge]] = []
        // Each frame: the node reached and how many of its outgoing edges were tried.
        var stack: [(node: NodeID, next: Int)] = [(source, 0)]
        var path: [PathEdge] = []
        while let (node, next) = stack.last, paths.count < limit {
            if node == target {
                paths.append(path)
                stack.removeLast()
                if !path.isEmpty { path.removeLast() }
                continue
            }
            let edges = consumers[node] ?? []
            if next < edges.count {
                stack[stack.count - 1].next += 1
                path.append(edges[next])
                stack.append((edges[next].consumer, 0))
            } else {
                stack.removeLast()
                if !path.isEmpty { path.removeLast() }
            }
        }
        return paths
    }

    /// The contribution of one path: the seed pulled back along the path's edges only,
    /// from `output` down to its first node. When every factor is a scalar, also the factors.
    func pullAlong(_ path: [PathEdge], from output: NodeID) -> (Tensor, [String]?) {
        var g = Tensor(repeating: 1, shape: workspace.graph[output].shape)
        var factors: [String]? = []
        for edge in path.reversed() {
            let node = workspace.graph[edge.consumer]
            let inputs = node.inputs.map { workspace.evaluation[$0] ?? Tensor(0) }
            let y = workspace.evaluation[edge.consumer] ?? Tensor(0)
            if y.count == 1 && inputs[edge.argument].count == 1 {
                let local = node.op.pullback(Tensor(repeating: 1, shape: y.shape), inputs: inputs, output: y, input: edge.argument)
                let text = format.format(local.scalars[0])
                factors?.append(text.hasPrefix("-") ? "(\(text))" : text)
            } else {
                factors = nil
            }
            g = node.op.pullback(g, inputs: inputs, output: y, input: edge.argument)
        }
        return (g, factors)
    }
}
