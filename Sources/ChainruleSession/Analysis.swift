import ChainruleCore

/// `:jacobian` and `:check`: whole Jacobians and finite-difference checks.
extension Session {
    /// ∂y/∂x as a (y.count × x.count) matrix, by rows or columns, whichever needs fewer passes.
    func fullJacobian(of y: NodeID, wrt x: NodeID, at span: SourceSpan) throws(Diagnostic) -> (matrix: Tensor, method: DerivativeMethod, passes: Int) {
        let output = try value(y, at: span)
        let columns = workspace.graph[x].shape.reduce(1, *)
        guard Limits.product([output.count, columns], limit: Limits.elements) != nil else {
            throw Diagnostic("the Jacobian would be \(output.count)×\(columns), more than \(Limits.elements) entries", at: span)
        }
        do { return try workspace.jacobian(of: y, wrt: x) } catch { throw located(error, at: span) }
    }

    func jacobian(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 2...2, usage: ":jacobian Y X")
        let (yWord, xWord) = (arguments.words[0], arguments.words[1])
        let y = try node(yWord), x = try node(xWord)
        if let reason = noGradientReason(x, output: y) {
            print("∂\(yWord.text)/∂\(xWord.text): none, " + reason)
            return
        }
        let (matrix, method, passes) = try fullJacobian(of: y, wrt: x, at: yWord.span)
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        let how = method == .reverse ? "by rows: \(passes) reverse pass\(passes == 1 ? "" : "es")" : "by columns: \(passes) forward-mode pass\(passes == 1 ? "" : "es")"
        var lines = ["∂\(yWord.text)/∂\(xWord.text): \(rows)×\(columns)" + style.dim(
            "  (rows: \(yWord.text) \(describe(shape: workspace.graph[y].shape)), columns: \(xWord.text) \(describe(shape: workspace.graph[x].shape)), row-major; \(how))")]
        if !workspace.graph.ancestors(of: max(x, y))[min(x, y)] || x > y {
            lines.append(style.dim("\(yWord.text) does not depend on \(xWord.text): the Jacobian is zero"))
        }
        var shown = format
        shown.elementLimit = max(format.elementLimit, 400)
        lines.append(style.gradient(shown.block(matrix)))
        if rows == columns {
            lines.append("det = " + format.format(LinearAlgebra.determinant(matrix.scalars, size: rows)))
        }
        print(lines.joined(separator: "\n"))
    }

    /// The comparison of one leaf's reverse-pass gradient with central differences.
    struct LeafCheck {
        var name: String
        var shape: [Int]
        var maxAbsoluteError = 0.0
        var maxRelativeError = 0.0
        /// Elements whose difference is larger than the tolerance.
        var mismatches = 0
        /// Of those, the elements at a kink: the one-sided differences disagree there.
        var kinks = 0
        /// Elements that agree only because their difference is within the rounding noise of the differences.
        var withinNoise = 0
    }

    /// What `:check` found: one comparison per leaf the target depends on differentiably.
    struct GradientCheck {
        var leaves: [LeafCheck] = []
        /// Leaves the target depends on only through class indices: they have no gradient.
        var notDifferentiated: [String] = []
        /// Leaves with a gradient that also feed a class index, which a perturbation would move off a whole number.
        var notPerturbed: [String] = []
    }

    /// Relative tolerance of `:check`: central differences with h = ∛ε·max(1, |x|) are far more accurate than this.
    static let checkTolerance = 1e-4

    /// Compares ∂target/∂leaf from the reverse pass with central differences
    /// `(f(x+h) − f(x−h)) / 2h`, `h = ∛ε·max(1, |x|)`, for every element of every named leaf
    /// the scalar `target` depends on differentiably. An element agrees when
    /// `|exact − numeric| ≤ 1e-4·max(|exact|, |numeric|) + noise`, where `noise = 64·ε·max|f|/h`
    /// bounds the rounding error of the differences. A disagreement is put down to a kink when
    /// the one-sided differences `(f(x+h) − f(x))/h` and `(f(x) − f(x−h))/h` disagree too.
    /// Class indices (and leaves that feed one) are never perturbed.
    /// Central differences take two forward passes per element, so the elements to perturb
    /// are counted first and refused past ``Workspace/perElementPassLimit`` (as `:compare` and
    /// `method=fd` are), before any pass runs. `only` restricts the check to one leaf.
    func gradientCheck(of target: NodeID, only: NodeID? = nil, at span: SourceSpan) throws(Diagnostic) -> GradientCheck {
        let f0 = try value(target, at: span).scalars[0]
        let graph = workspace.graph
        let ancestors = graph.ancestors(of: target)
        let feedsIndex = graph.feedsClassIndex(of: target)
        let differentiable = graph.differentiableAncestors(of: target)
        var candidates: [(name: String, id: NodeID, leaf: Tensor)] = []
        var elements = 0
        for name in workspace.order {
            guard let id = graph.node(named: name), only == nil || only == id, id <= target, ancestors[id],
                  graph[id].isLeaf, let leaf = workspace.entries[name]?.value else { continue }
            candidates.append((name, id, leaf))
            if differentiable[id] && !feedsIndex[id] { elements += leaf.count }
        }
        let limit = Workspace.perElementPassLimit
        guard elements <= limit else {
            let advice = only == nil ? "; check one leaf with ':check \(label(target)) wrt X'" : ""
            throw Diagnostic("central differences take two forward passes per input element: \(elements) here, more than \(limit)\(advice) (:grad gives the gradient in one reverse pass)", at: span)
        }
        let analytic = try gradients(of: target, seed: nil, record: false, at: span)
        var result = GradientCheck()
        for (name, id, leaf) in candidates {
            guard let exact = analytic[id] else {
                result.notDifferentiated.append(name)
                continue
            }
            if feedsIndex[id] {
                result.notPerturbed.append(name)
                continue
            }
            var check = LeafCheck(name: name, shape: leaf.shape)
            let differences: FiniteDifferences
            do { differences = try workspace.finiteDifferences(of: target, wrt: id) } catch { throw located(error, at: span) }
            for i in 0..<leaf.count {
                let (up, down, h) = (differences.up.scalars[i], differences.down.scalars[i], differences.steps.scalars[i])
                let (a, n) = (exact.scalars[i], differences.central.scalars[i])
                let difference = abs(a - n)
                let scale = max(abs(a), abs(n))
                let noise = 64 * Double.ulpOfOne * max(abs(up), abs(down), abs(f0)) / h
                let relative = difference == 0 ? 0 : difference / scale
                check.maxAbsoluteError = max(check.maxAbsoluteError, difference.isNaN ? .infinity : difference)
                check.maxRelativeError = max(check.maxRelativeError, relative.isNaN ? .infinity : relative)
                if difference <= Session.checkTolerance * scale + noise {
                    if difference > Session.checkTolerance * scale { check.withinNoise += 1 }
                    continue
                }
                check.mismatches += 1
                let (forward, backward) = (differences.forward.scalars[i], differences.backward.scalars[i])
                let oneSided = abs(forward - backward)
                if oneSided > Session.checkTolerance * max(abs(forward), abs(backward)) + 2 * noise { check.kinks += 1 }
            }
            result.leaves.append(check)
        }
        return result
    }

    func check(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":check [NODE] [wrt X]"
        try arguments.expect(count: 0...3, usage: usage)
        let words = arguments.words
        if words.count == 2 || (words.count == 3 && words[1].text != "wrt") {
            throw Diagnostic("expected 'wrt X' after the node; usage: \(usage)", at: words[1].span)
        }
        let span = words.first?.span ?? arguments.nameSpan
        let target = try self.target(words.first, arguments)
        let y = try value(target, at: span)
        guard y.isScalar else {
            throw Diagnostic("\(label(target)) has shape \(describe(shape: y.shape)); :check needs a scalar output", at: span)
        }
        var only: NodeID?
        if words.count == 3 {
            let leaf = try node(words[2])
            guard workspace.graph[leaf].isLeaf else {
                throw Diagnostic("'\(words[2].text)' is not a leaf; :check perturbs leaves (input or param)", at: words[2].span)
            }
            only = leaf
        }
        let found = try gradientCheck(of: target, only: only, at: span)
        let kink = "at a kink: the two finite-difference points straddle it"
        var rows = [["leaf", "shape", "max abs error", "max rel error", ""]]
        for leaf in found.leaves {
            let verdict: String
            if leaf.mismatches == 0 {
                verdict = leaf.withinNoise == 0 ? "ok" : "ok (differences within rounding noise)"
            } else if leaf.kinks == leaf.mismatches {
                verdict = style.warning(kink)
            } else {
                verdict = style.error("MISMATCH") + (leaf.kinks > 0 ? " (\(leaf.kinks) of \(leaf.mismatches) \(kink))" : "")
            }
            rows.append([leaf.name, describe(shape: leaf.shape), format.format(leaf.maxAbsoluteError),
                         format.format(leaf.maxRelativeError), verdict])
        }
        let out = label(target)
        var lines = ["gradient check of \(out): reverse pass vs central differences, h = ∛ε·max(1, |x|)"]
        if found.leaves.isEmpty {
            lines.append("no leaf to check: \(out) depends differentiably on no named leaf")
        } else {
            lines.append(table(rows))
        }
        if !found.notDifferentiated.isEmpty {
            lines.append(style.dim("not checked, no gradient (used only as class indices): " + found.notDifferentiated.joined(separator: ", ")))
        }
        if !found.notPerturbed.isEmpty {
            lines.append(style.dim("not checked, also used as class indices (a step would leave the whole numbers): " + found.notPerturbed.joined(separator: ", ")))
        }
        if !found.leaves.isEmpty {
            let worst = found.leaves.map(\.maxRelativeError).max() ?? 0
            let mismatches = found.leaves.map(\.mismatches).reduce(0, +), kinks = found.leaves.map(\.kinks).reduce(0, +)
            let verdict = mismatches == 0 ? "gradients agree"
                : mismatches == kinks ? "gradients differ only at kinks, which central differences cannot resolve"
                : "gradients disagree"
            lines.append("max relative error \(format.format(worst)): " + verdict)
        }
        print(lines.joined(separator: "\n"))
    }
}
