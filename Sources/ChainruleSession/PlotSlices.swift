import ChainruleCore

/// `:plot NODE LEAF …`, `:plot NODE LEAF1 LEAF2 …` and `:plot points X T`: a scalar node
/// over one or two scalar leaves, each set to its samples as a redefinition would set it, on a
/// copy of the workspace (so the session's leaf is never moved); and the rows of a two-column
/// node marked by a label node.
extension Session {
    /// A scalar leaf named by a word that `node` depends on: its id, name and current value.
    func plotLeaf(_ word: CommandArguments.Word, of node: NodeID, nodeWord: CommandArguments.Word) throws(Diagnostic) -> (name: String, value: Double) {
        let id = try self.node(word)
        guard workspace.graph[id].isLeaf, let name = workspace.graph[id].name, let value = workspace.entries[name]?.value else {
            throw Diagnostic("\(word.text) is computed from other nodes; :plot varies a leaf (a node defined by a value, as in 'w = 0.5')", at: word.span)
        }
        guard value.isScalar else {
            throw Diagnostic("\(word.text) has shape \(describe(shape: value.shape)); :plot varies a scalar leaf", at: word.span)
        }
        guard id <= node, workspace.graph.ancestors(of: node)[id] else {
            throw Diagnostic("\(nodeWord.text) does not depend on \(word.text); its plot against \(word.text) would be flat", at: word.span)
        }
        return (name, value.scalars[0])
    }

    /// The scalar node a word names, and its value now.
    func plotNode(_ word: CommandArguments.Word) throws(Diagnostic) -> (id: NodeID, value: Double) {
        let id = try node(word)
        let y = try value(id, at: word.span)
        guard y.isScalar else { throw Diagnostic("\(word.text) has shape \(describe(shape: y.shape)); :plot draws a scalar node against its leaves", at: word.span) }
        return (id, y.scalars[0])
    }

    /// Evaluates `node` with the named leaves set to each point's values, on one copy of the workspace.
    func plotSamples(_ node: NodeID, leaves: [String], at points: [[Double]], word: CommandArguments.Word) throws(Diagnostic) -> [Double] {
        var probe = workspace
        var result: [Double] = []
        result.reserveCapacity(points.count)
        for point in points {
            if shouldStop() { throw Diagnostic("interrupted", at: word.span) }
            for (name, x) in zip(leaves, point) { probe.setValue(Tensor(x), of: name) }
            do { result.append(try probe.value(of: node).scalars[0]) } catch { throw located(error, at: word.span) }
        }
        return result
    }

    /// The range of a leaf when none is given: its value ± max(1, |value|), widened to the path it took.
    func defaultRange(_ value: Double, path: [Double]) -> (Double, Double) {
        let reach = max(1, abs(value))
        return (min(value - reach, path.min() ?? value), max(value + reach, path.max() ?? value))
    }

    /// The recorded `:train` path of the named leaves (every one of them a trained scalar), at most `limit` points.
    func pathPoints(of leaves: [String], limit: Int = 200) -> (points: [[Double]], losses: [Double], loss: String)? {
        guard let path = trainingPath, !path.points.isEmpty else { return nil }
        let columns = leaves.compactMap { path.names.firstIndex(of: $0) }
        guard columns.count == leaves.count else { return nil }
        let stride = max(1, (path.points.count + limit - 1) / limit)
        var kept = Array(Swift.stride(from: 0, to: path.points.count, by: stride))
        if kept.last != path.points.count - 1 { kept.append(path.points.count - 1) }
        return (kept.map { k in columns.map { path.points[k][$0] } }, kept.map { path.losses[$0] }, path.loss)
    }

    /// `:plot NODE LEAF [LO HI]`: the node as a function of one scalar leaf, the leaf's value now marked.
    func sliceReport(_ words: [CommandArguments.Word], samples n: Int, at arguments: CommandArguments) throws(Diagnostic) -> PlotReport {
        guard words.count == 2 || words.count == 4 else {
            throw Diagnostic(words.count < 2 ? "missing the leaf; usage: :plot NODE LEAF [LO HI]" : "unexpected argument '\(words[4].text)'; usage: \(Session.plotUsage)",
                             at: words.count < 2 ? arguments.endSpan : words[4].span)
        }
        let (node, now) = try plotNode(words[0])
        let (leaf, x0) = try plotLeaf(words[1], of: node, nodeWord: words[0])
        let path = pathPoints(of: [leaf])
        let (lo, hi) = words.count == 4 ? try plotRange(words[2], words[3]) : defaultRange(x0, path: path?.points.map { $0[0] } ?? [])
        let xs = (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
        let ys = try plotSamples(node, leaves: [leaf], at: xs.map { [$0] }, word: words[0])
        let bad = ys.filter { !$0.isFinite }.count
        if bad == n { throw Diagnostic("no sample of \(words[0].text) over \(leaf) in [\(format.format(lo)), \(format.format(hi))] is finite", at: words[0].span) }
        if bad > 0 { report(Diagnostic("\(bad) of \(n) samples of \(words[0].text) are not finite; the finite part is drawn", at: words[0].span, severity: .warning)) }
        let name = words[0].text
        var report = PlotReport(title: "\(name) against \(leaf), the other leaves as they are, \(leaf) in [\(format.format(lo)), \(format.format(hi))]",
                                x: .init(label: leaf, low: lo, high: hi), y: .init(label: name, low: 0, high: 1),
                                series: [.init(label: "\(name)(\(leaf))", points: zip(xs, ys).map { .init(x: $0, y: $1) }, style: .line)])
        report.marks = [.init(label: "now: \(leaf) = \(format.format(x0)), \(name) = \(format.format(now))", at: .init(x: x0, y: now))]
        var pathYs: [Double] = []
        if let path {
            // The loss trained is drawn as it was at each step; another node is evaluated along the path.
            pathYs = path.loss == label(node) ? path.losses : try plotSamples(node, leaves: [leaf], at: path.points, word: words[0])
            report.path = .init(label: "path of :train (\(path.points.count) points)", points: zip(path.points, pathYs).map { .init(x: $0[0], y: $1) }, style: .markers)
        }
        report.y = Session.niceAxis(name, ys + pathYs + [now])
        return report
    }

    /// `:plot NODE LEAF1 LEAF2 [LO HI [LO2 HI2]]`: a heat map of the node over two scalar leaves.
    func heatMapReport(_ words: [CommandArguments.Word], drawing: PlotDrawing) throws(Diagnostic) -> PlotReport {
        guard words.count <= 7, words.count != 4 else {
            throw Diagnostic("unexpected argument '\(words[words.count == 4 ? 3 : 7].text)'; usage: :plot NODE LEAF1 LEAF2 [LO HI [LO2 HI2]]", at: words[words.count == 4 ? 3 : 7].span)
        }
        guard words.count != 6 else { throw Diagnostic("missing HI2; usage: :plot NODE LEAF1 LEAF2 [LO HI [LO2 HI2]]", at: words[5].span) }
        let (node, now) = try plotNode(words[0])
        let (a, a0) = try plotLeaf(words[1], of: node, nodeWord: words[0])
        let (b, b0) = try plotLeaf(words[2], of: node, nodeWord: words[0])
        guard a != b else { throw Diagnostic("the two leaves are the same; name two different scalar leaves", at: words[2].span) }
        let path = pathPoints(of: [a, b])
        let x = words.count >= 5 ? try plotRange(words[3], words[4]) : defaultRange(a0, path: path?.points.map { $0[0] } ?? [])
        let y = words.count == 7 ? try plotRange(words[5], words[6]) : words.count == 5 ? x : defaultRange(b0, path: path?.points.map { $0[1] } ?? [])
        let rows = drawing.height, columns = min(drawing.canvasColumns(.init(label: b, low: y.0, high: y.1)), 100)
        var points: [[Double]] = []
        points.reserveCapacity(rows * columns)
        let across = (0..<columns).map { c in x.0 + (x.1 - x.0) * Double(c) / Double(columns - 1) }
        let up = (0..<rows).map { r in y.1 - (y.1 - y.0) * Double(r) / Double(rows - 1) }
        for v in up {
            for u in across { points.append([u, v]) }
        }
        let values = try plotSamples(node, leaves: [a, b], at: points, word: words[0])
        let bad = values.filter { !$0.isFinite }.count
        if bad == values.count { throw Diagnostic("no sample of \(words[0].text) over \(a) and \(b) is finite", at: words[0].span) }
        if bad > 0 { report(Diagnostic("\(bad) of \(values.count) samples of \(words[0].text) are not finite (drawn '?')", at: words[0].span, severity: .warning)) }
        let name = words[0].text
        var report = PlotReport(title: "\(name) over \(a) (across) and \(b) (up)", x: .init(label: a, low: x.0, high: x.1), y: .init(label: b, low: y.0, high: y.1))
        report.field = .init(label: name, columns: columns, rows: rows, values: values)
        report.marks = [.init(label: "now: \(a) = \(format.format(a0)), \(b) = \(format.format(b0)), \(name) = \(format.format(now))", at: .init(x: a0, y: b0))]
        if let path {
            report.path = .init(label: "path of :train (\(path.points.count) points)", points: path.points.map { .init(x: $0[0], y: $0[1]) }, style: .markers)
        }
        return report
    }

    /// `:plot points X T`: the rows of a two-column node, each marked by its label in `T`.
    func scatterReport(_ words: [CommandArguments.Word], at arguments: CommandArguments) throws(Diagnostic) -> PlotReport {
        guard words.count == 2 else {
            throw Diagnostic(words.count < 2 ? "missing argument; usage: :plot points X T" : "unexpected argument '\(words[2].text)'; usage: :plot points X T",
                             at: words.count < 2 ? arguments.endSpan : words[2].span)
        }
        let xs = try value(try node(words[0]), at: words[0].span)
        guard xs.rank == 2, xs.shape[1] == 2 else {
            throw Diagnostic("\(words[0].text) has shape \(describe(shape: xs.shape)); :plot points scatters the rows of a node of shape (N, 2)", at: words[0].span)
        }
        let n = xs.shape[0]
        let t = try value(try node(words[1]), at: words[1].span)
        // One label per row: a number each, or a row of one-hot (or probability) columns, read as its largest column.
        let labels: [Double]
        if t.count == n && (t.rank == 1 || (t.rank == 2 && t.shape[1] == 1)) {
            labels = t.scalars
        } else if t.rank == 2 && t.shape[0] == n {
            let c = t.shape[1]
            labels = (0..<n).map { (i: Int) -> Double in
                let row = Array(t.scalars[(i * c)..<(i * c + c)])
                return Double(row.indices.max { (j: Int, k: Int) -> Bool in row[j] < row[k] } ?? 0)
            }
        } else {
            throw Diagnostic("\(words[1].text) has shape \(describe(shape: t.shape)); :plot points needs one label per row of \(words[0].text) (shape (\(n)), or (\(n), C) one-hot)", at: words[1].span)
        }
        let classes = Array(Set(labels.map { $0.isNaN ? Double.infinity : $0 })).sorted()
        guard classes.count <= PlotDrawing.keys.count else {
            throw Diagnostic("\(words[1].text) holds \(classes.count) different labels; :plot points marks at most \(PlotDrawing.keys.count)", at: words[1].span)
        }
        let points = (0..<n).map { PlotReport.Point(x: xs.scalars[2 * $0], y: xs.scalars[2 * $0 + 1]) }
        let series = classes.map { label in
            PlotReport.Series(label: "\(words[1].text) = \(format.format(label))",
                              points: zip(points, labels).filter { ($1.isNaN ? Double.infinity : $1) == label }.map(\.0), style: .markers)
        }
        func padded(_ values: [Double]) -> (Double, Double) {
            let finite = values.filter(\.isFinite)
            guard let low = finite.min(), let high = finite.max() else { return (0, 1) }
            let pad = high > low ? (high - low) / 10 : 1
            return (low - pad, high + pad)
        }
        let x = padded(points.map(\.x)), y = padded(points.map(\.y))
        let name = words[0].text
        return PlotReport(title: "the rows of \(name): \(name)[:, 1] against \(name)[:, 0], marked by \(words[1].text)",
                          x: .init(label: "\(name)[:, 0]", low: x.0, high: x.1), y: .init(label: "\(name)[:, 1]", low: y.0, high: y.1), series: series)
    }
}
