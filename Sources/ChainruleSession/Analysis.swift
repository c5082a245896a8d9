import ChainruleCore

/// `:jacobian` and `:check`: whole Jacobians and finite-difference checks.
extension Session {
    /// ∂y/∂x as a (y.count × x.count) matrix, one reverse pass per element of `y`.
    func fullJacobian(of y: NodeID, wrt x: NodeID, at span: SourceSpan) throws(Diagnostic) -> Tensor {
        let output = try value(y, at: span)
        let columns = workspace.graph[x].shape.reduce(1, *)
        guard Limits.product([output.count, columns], limit: Limits.elements) != nil else {
            throw Diagnostic("the Jacobian would be \(output.count)×\(columns), more than \(Limits.elements) entries", at: span)
        }
        var matrix = Tensor.zeros([output.count, columns])
        var seed = Tensor.zeros(output.shape)
        for r in 0..<output.count {
            // One reverse pass per row, each perhaps too small to poll on its own.
            if shouldStop() { throw Diagnostic("interrupted", at: span) }
            seed.scalars[r] = 1
            let result: Gradients
            do { result = try workspace.gradients(of: y, seed: seed) } catch { throw Workspace.diagnostic(error, at: span) }
            seed.scalars[r] = 0
            if let row = result[x] {
                for c in 0..<columns { matrix.scalars[r * columns + c] = row.scalars[c] }
            }
        }
        return matrix
    }

    func jacobian(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 2...2, usage: ":jacobian Y X")
        let (yWord, xWord) = (arguments.words[0], arguments.words[1])
        let y = try node(yWord), x = try node(xWord)
        let matrix = try fullJacobian(of: y, wrt: x, at: yWord.span)
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        var lines = ["∂\(yWord.text)/∂\(xWord.text): \(rows)×\(columns)" + style.dim(
            "  (rows: \(yWord.text) \(describe(shape: workspace.graph[y].shape)), columns: \(xWord.text) \(describe(shape: workspace.graph[x].shape)), row-major)")]
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

    /// Central differences `(f(x+h) − f(x−h)) / 2h` for every element of a leaf, with `h = 1e-6·max(1, |x|)`.
    func numericGradient(of target: NodeID, wrt name: String, at span: SourceSpan) throws(Diagnostic) -> Tensor {
        guard let leaf = workspace.entries[name]?.value else { return Tensor(0) }
        var probe = workspace
        var result = Tensor.zeros(leaf.shape)
        for i in 0..<leaf.count {
            if shouldStop() { throw Diagnostic("interrupted", at: span) }
            let h = 1e-6 * max(1, abs(leaf.scalars[i]))
            var shifted = leaf
            shifted.scalars[i] = leaf.scalars[i] + h
            probe.setValue(shifted, of: name)
            let up: Tensor
            do { up = try probe.value(of: target) } catch { throw Workspace.diagnostic(error, at: span) }
            shifted.scalars[i] = leaf.scalars[i] - h
            probe.setValue(shifted, of: name)
            let down: Tensor
            do { down = try probe.value(of: target) } catch { throw Workspace.diagnostic(error, at: span) }
            result.scalars[i] = (up.scalars[0] - down.scalars[0]) / (2 * h)
        }
        return result
    }

    func check(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":check [NODE]")
        let span = arguments.words.first?.span ?? arguments.nameSpan
        let target = try self.target(arguments.words.first, arguments)
        let y = try value(target, at: span)
        guard y.isScalar else {
            throw Diagnostic("\(label(target)) has shape \(describe(shape: y.shape)); :check needs a scalar output", at: span)
        }
        let analytic = try gradients(of: target, seed: nil, record: false, at: span)
        let leaves = workspace.order.filter { name in
            guard let id = workspace.graph.node(named: name) else { return false }
            return workspace.graph[id].isLeaf
        }
        var rows = [["leaf", "shape", "max abs error", "max rel error", ""]]
        var worst = 0.0
        for name in leaves {
            guard let id = workspace.graph.node(named: name) else { continue }
            let numeric = try numericGradient(of: target, wrt: name, at: span)
            let exact = analytic[id] ?? Tensor.zeros(numeric.shape)
            var absolute = 0.0, relative = 0.0
            for i in 0..<numeric.count {
                let (a, n) = (exact.scalars[i], numeric.scalars[i])
                let difference = abs(a - n)
                let scale = max(abs(a), abs(n))
                absolute = max(absolute, difference.isNaN ? .infinity : difference)
                // Differences below the step's own rounding noise count as agreement.
                let r = difference <= 1e-7 ? 0 : difference / scale
                relative = max(relative, r.isNaN ? .infinity : r)
            }
            worst = max(worst, relative)
            rows.append([name, describe(shape: numeric.shape), format.format(absolute), format.format(relative),
                         relative < 1e-4 ? "ok" : style.error("MISMATCH")])
        }
        var text = "gradient check of \(label(target)): reverse pass vs central differences, h = 1e-6·max(1, |x|)\n" + table(rows)
        text += "\nmax relative error \(format.format(worst)): " + (worst < 1e-4 ? "gradients agree" : "gradients disagree (a kink, or a wrong derivative)")
        print(text)
    }
}
