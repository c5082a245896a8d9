/// Which nodes and edges the reverse pass differentiates.
///
/// A number written in a formula (the `2` in `x^2`) is a constant: it gets no gradient.
/// A class-index argument (the `t` of `one_hot(t, classes)`, and of `cross_entropy(z, t)` when it holds indices) selects
/// an element rather than entering a formula, so no gradient flows into it either. The
/// reverse pass skips such edges, so a node reached only through them has no gradient
/// (nil, `null` in JSON), and finite-difference checks leave it out.
extension Node {
    /// Whether the node is a number written in a formula: an unnamed leaf.
    public var isLiteral: Bool { isLeaf && !hasName }

    /// Whether the node may receive a gradient at all: every node but a literal.
    public var isDifferentiable: Bool { !isLiteral }
}

extension Graph {
    /// Whether a gradient flows from node `consumer` into its argument `k`: the argument is
    /// differentiable and the op is differentiable in that argument.
    public func isDifferentiable(_ consumer: NodeID, argument k: Int) -> Bool {
        // Reads through the node array without copying nodes: the reverse pass calls this per edge.
        guard self[inputs(of: consumer)[k]].isDifferentiable else { return false }
        return !isClassIndex(consumer, argument: k)
    }

    /// Marks the nodes that `target` reads as class indices, and every node they are computed
    /// from: central differences cannot shift them (a shifted index is not a whole number).
    public func feedsClassIndex(of target: NodeID) -> [Bool] {
        let ancestors = ancestors(of: target)
        var marks = Array(repeating: false, count: target + 1)
        for id in 0...target where ancestors[id] {
            for (k, input) in inputs(of: id).enumerated() where isClassIndex(id, argument: k) { marks[input] = true }
        }
        for id in stride(from: target, through: 0, by: -1) where marks[id] {
            for input in inputs(of: id) { marks[input] = true }
        }
        return marks
    }

    /// Whether argument `k` of `consumer` is a class index: the indices of `one_hot`, or the
    /// target of `cross_entropy` when it holds indices.
    public func isClassIndex(_ consumer: NodeID, argument k: Int) -> Bool {
        switch self[consumer].op {
        case .oneHot: return k == 0
        case .loss(.crossEntropy) where k == 1:
            let inputs = inputs(of: consumer)
            return Loss.targetsAreIndices(self[inputs[0]].shape, self[inputs[1]].shape)
        default: return false
        }
    }

    /// Marks the nodes through which `target` depends differentiably on something: `target`
    /// itself and every input reached from it along differentiable edges. A node that is not
    /// marked gets no gradient from a reverse pass started at `target`.
    public func differentiableAncestors(of target: NodeID) -> [Bool] {
        var mark = Array(repeating: false, count: target + 1)
        mark[target] = true
        for id in stride(from: target, through: 0, by: -1) where mark[id] {
            for (k, input) in inputs(of: id).enumerated() where isDifferentiable(id, argument: k) {
                mark[input] = true
            }
        }
        return mark
    }
}
