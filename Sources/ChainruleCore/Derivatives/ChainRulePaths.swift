/// The chain rule as a sum over paths (`:explain`): ∂L/∂x is the sum, over every path
/// x → … → L, of the product of the local Jacobians along it. The reverse pass computes
/// the same sum sharing the paths' common parts; these functions write it out path by path,
/// with each op's local derivative (its reverse rule evaluated on its own, ``LocalDerivative``).
public enum ChainRulePaths {
    /// Path counts from here on are shown as "more than 10¹⁸" rather than as a number.
    public static let countCap = 1_000_000_000_000_000_000
}

/// One edge of a path: `consumer` takes the path's previous node as its argument `argument`.
public struct PathEdge: Sendable, Equatable {
    public var consumer: NodeID
    public var argument: Int
}

extension Workspace {
    /// Nodes that lie on some path from `source` to `target`: descendants of `source` among the ancestors of `target`.
    /// Only differentiable edges count: a path through a class index carries no derivative.
    public func nodesBetween(_ source: NodeID, _ target: NodeID) -> [Bool] {
        guard source <= target else { return [] }
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

    /// How many distinct paths (an input used twice by one node gives two) lead from `source` to `target`,
    /// saturating at ``ChainRulePaths/countCap`` instead of overflowing.
    public func countPaths(from source: NodeID, to target: NodeID, through onPath: [Bool]) -> Int {
        var count = Array(repeating: 0, count: target + 1)
        count[source] = 1
        for id in (source + 1)..<(target + 1) where onPath[id] {
            for (k, input) in graph[id].inputs.enumerated()
            where input >= source && onPath[input] && graph.isDifferentiable(id, argument: k) {
                count[id] = min(count[id] + count[input], ChainRulePaths.countCap)
            }
        }
        return count[target]
    }

    /// Up to `limit` paths from `source` to `target`, in order, each as its edges from `source` on.
    /// Depth-first with an explicit stack: paths can be as long as the graph is deep.
    public func enumeratePaths(from source: NodeID, to target: NodeID, through onPath: [Bool], limit: Int) -> [[PathEdge]] {
        var consumers: [NodeID: [PathEdge]] = [:]
        for id in source...target where onPath[id] {
            for (k, input) in graph[id].inputs.enumerated()
            where input >= source && onPath[input] && graph.isDifferentiable(id, argument: k) {
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
    public func pullAlong(_ path: [PathEdge], from output: NodeID) -> (contribution: Tensor, factors: [Double]?) {
        var g = Tensor(repeating: 1, shape: graph[output].shape)
        var factors: [Double]? = []
        for edge in path.reversed() {
            let node = graph[edge.consumer]
            let inputs = node.inputs.map { evaluation[$0] ?? Tensor(0) }
            let y = evaluation[edge.consumer] ?? Tensor(0)
            let rule: LocalDerivative
            do {
                rule = try LocalDerivative(op: node.op, inputs: inputs, output: y, argument: edge.argument)
            } catch {
                // A state the forward pass refused: NaN from here on, never a plausible number.
                g = Tensor(repeating: .nan, shape: inputs[edge.argument].shape)
                factors = nil
                continue
            }
            if y.count == 1 && inputs[edge.argument].count == 1 {
                factors?.append(rule.contributionOrNaN(Tensor(repeating: 1, shape: y.shape)).scalars[0])
            } else {
                factors = nil
            }
            g = rule.contributionOrNaN(g)
        }
        return (g, factors)
    }
}
