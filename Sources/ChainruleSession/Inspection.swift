import ChainruleCore

/// `:vars`, `:show` and `:forward`: looking at nodes and the forward pass.
extension Session {
    /// A node's operation applied to its inputs: `matmul(A, x)`, `leaky_relu(%3, a=0.2)`, `input`.
    func operation(_ id: NodeID) -> String { operation(id, in: workspace.graph, arguments: argument) }

    /// A node of `graph` (the workspace's, read once by a listing of many nodes) applied to its
    /// inputs, each written by `argument`.
    func operation(_ id: NodeID, in graph: Graph, arguments argument: (NodeID) -> String) -> String {
        let node = graph[id]
        if node.isLeaf { return node.name == nil ? "const" : node.kind.rawValue }
        var arguments = node.inputs.map(argument)
        switch node.op {
        case .sumTo(let shape), .broadcastTo(let shape), .reshape(let shape):
            arguments.append("shape=\(describe(shape: shape))")
        case .oneHot(let classes):
            arguments.append("classes=\(classes)")
        case .binary(.leakyRelu), .binary(.elu): arguments[1] = "a=" + arguments[1]
        case .sum(let axis?), .mean(let axis?): arguments.append("axis=\(axis)")
        case .einsum(let plan):
            let spec = plan.spec
            let operands = spec.operands.map { String($0.map { spec.letters[$0] }) }.joined(separator: ",")
            arguments.insert("\"\(operands)->\(String(spec.output.map { spec.letters[$0] }))\"", at: 0)
        case .index(let plan):
            let parts = plan.components.map { component -> String in
                switch component {
                case .at(let i): return String(i)
                case .slice(let a, let b, let c):
                    return (a.map(String.init) ?? "") + ":" + (b.map(String.init) ?? "") + (c.map { ":\($0)" } ?? "")
                }
            }
            return label(node.inputs[0], in: graph) + "[" + parts.joined(separator: ", ") + "]"
        default: break
        }
        return node.op.name + "(" + arguments.joined(separator: ", ") + ")"
    }

    /// How an input reads inside an operation: a small literal by its value (`mul(%3, 2)`),
    /// anything else by its label.
    func argument(_ id: NodeID) -> String {
        let node = workspace.graph[id]
        if node.isLeaf && node.name == nil, let value = node.value, value.count <= 4 {
            return format.inline(value)
        }
        return label(id)
    }

    /// The formula of a named node as the user wrote it, or its value for a leaf.
    func formula(of name: String) -> String {
        guard let entry = workspace.entries[name] else { return "" }
        if let formula = entry.formula { return Printer.expression(formula) }
        return entry.value.map(format.inline) ?? ""
    }

    /// `:show` of a module: its definition and its calls in the graph.
    func showModule(_ entry: Workspace.Entry) -> String {
        let graph = workspace.graph
        let sites = graph.allCalls.filter { graph.moduleName(of: $0) == entry.name }.sorted { $0.site.range.start < $1.site.range.start }.map { $0.site.source.location(of: $0.site.range.start).description }
        var lines = ["\(Session.definedName(entry)) = \(formula(of: entry.name))", "  kind   module (\(entry.parameters.count) parameter\(entry.parameters.count == 1 ? "" : "s"))"]
        lines.append(sites.isEmpty ? "  calls  none yet" : "  calls  \(sites.count): " + sites.prefix(8).joined(separator: ", ") + (sites.count > 8 ? ", …" : ""))
        return lines.joined(separator: "\n")
    }

    func vars(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":vars [all]")
        if let word = arguments.words.first, word.text != "all" {
            throw Diagnostic("unexpected argument '\(word.text)'; usage: :vars [all]", at: word.span)
        }
        guard !workspace.order.isEmpty else {
            print("no nodes yet; define one, as in 'x = [1, 2]'")
            return
        }
        let listing = varsListing(all: !arguments.words.isEmpty)
        print(table(listing.rows) + listing.note)
    }

    /// The rows of `:vars` (every definition) or `:vars all` (every node), made only while they
    /// fit in the output limit.
    func varsListing(all: Bool) -> Listing {
        var header = ["name", "kind", "shape", "formula or value"]
        if stepper != nil && !all { header.insert("walk", at: 3) }
        var listing = Listing(header: header, budget: rowBudget)
        if all {
            // Every node of the graph in creation order (a topological order), unnamed ones as %ID.
            let graph = workspace.graph
            for id in 0..<graph.count {
                guard !listing.isFull else { listing.leaveOut(graph.count - id); break }
                let node = graph[id]
                let text = node.name.map { formula(of: $0) }
                    ?? (node.isLeaf ? format.inline(workspace.evaluation[id] ?? node.value ?? Tensor(0)) : operation(id))
                listing.add([label(id), node.kind.rawValue, describe(shape: node.shape), text])
            }
            // Definitions that do not currently evaluate have no node: listed after, as `:vars` lists them.
            for name in workspace.order {
                guard let problem = workspace.broken[name], let entry = workspace.entries[name] else { continue }
                guard !listing.isFull else { listing.leaveOut(); continue }
                listing.add([name, entry.nodeKind.rawValue, "—", "error: " + problem.message])
            }
        } else {
            for name in workspace.order {
                guard !listing.isFull else { listing.leaveOut(); continue }
                guard let entry = workspace.entries[name] else { continue }
                let kind = entry.isModule ? "module" : entry.nodeKind.rawValue
                if entry.isModule {
                    var row = [Session.definedName(entry), kind, "—", formula(of: name)]
                    if stepper != nil { row.insert("—", at: 3) }
                    listing.add(row)
                    continue
                }
                if let problem = workspace.broken[name] {
                    listing.add([name, kind, "—", "error: " + problem.message])
                    continue
                }
                let shape = workspace.graph.node(named: name).map { describe(shape: workspace.graph[$0].shape) } ?? "—"
                var row = [name, kind, shape, formula(of: name)]
                if let walk = stepper?.walk { row.insert(walkState(of: workspace.graph.node(named: name), in: walk), at: 3) }
                listing.add(row)
            }
        }
        return listing
    }

    /// What the walk has computed of a node, for `:vars`: its value, its gradient, or nothing yet.
    func walkState(of id: NodeID?, in walk: Walk) -> String {
        guard let id, walk.passes(.forward(id)) else { return "—" }
        let current = walk.last?.node == id ? " ←" : ""
        if let g = walk.gradient(of: id) { return "∂ = " + format.inline(g) + current }
        if let v = walk.value(of: id) { return "= " + format.inline(v) + current }
        return "not computed"
    }

    /// The rows of a listing, made only while they fit in its budget: a listing of a million
    /// nodes would otherwise be formatted in full only to be cut. The rest are counted.
    struct Listing {
        private(set) var rows: [[String]]
        let budget: Int
        private var size = 0
        private(set) var leftOut = 0

        init(header: [String], budget: Int) {
            rows = [header]
            self.budget = budget
        }

        var isFull: Bool { size > budget }

        mutating func add(_ row: [String]) {
            guard !isFull else { return leaveOut() }
            size += row.reduce(2 * row.count) { $0 + $1.utf8.count }
            rows.append(row)
        }

        mutating func leaveOut(_ count: Int = 1) { leftOut += count }

        /// How many rows there are in all, made or not (the header aside).
        var total: Int { rows.count - 1 + leftOut }

        /// A last line saying how many rows were left out, if any.
        var note: String { leftOut > 0 ? "\n… and \(leftOut) more (:set output N shows more)" : "" }
    }

    /// Left-aligned columns separated by two spaces; the first row is a dim header.
    func table(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { widen(&widths, to: row) }
        return rows.enumerated().map { r, row in tableLine(row, widths: widths, header: r == 0) }.joined(separator: "\n")
    }

    /// Widens each column of `widths` to fit its cell of `row`, in characters.
    func widen(_ widths: inout [Int], to row: [String]) {
        for (c, cell) in row.enumerated() where c < widths.count { widths[c] = max(widths[c], cell.count) }
    }

    /// One line of a table whose columns have the given widths: every cell but the last padded
    /// to its width, two spaces between cells, no trailing spaces; dim for the header.
    func tableLine(_ row: [String], widths: [Int], header: Bool = false) -> String {
        var line = ""
        for (c, cell) in row.enumerated() {
            if c > 0 { line += "  " }
            line += c == widths.count - 1 ? cell : cell.padded(to: widths[c])
        }
        // Walks back over the trailing spaces only.
        let trimmed = line.lastIndex(where: { $0 != " " }).map { String(line[...$0]) } ?? ""
        return header ? style.dim(trimmed) : trimmed
    }

    func show(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 1...1, usage: ":show NAME")
        let word = arguments.words[0]
        if let entry = workspace.entries[word.text], entry.isModule {
            print(showModule(entry))
            return
        }
        let id = try node(word)
        let node = workspace.graph[id]
        if let stepper, stepper.walk.passes(.forward(id)) {
            print(showInWalk(id, name: word.text, stepper.walk))
            return
        }
        let value = try value(id, at: word.span)
        let definition = node.isLeaf ? format.inline(value) : node.name == nil ? operation(id) : formula(of: word.text)
        var lines = ["\(word.text) = \(definition)"]
        lines.append("  kind   \(node.kind.rawValue)" + (node.isLeaf ? "" : " (\(operation(id)))"))
        lines.append("  shape  \(describe(shape: node.shape))")
        lines.append("  value  " + style.value(format.block(value, indent: 9)))
        if let (target, gradients) = lastGradients {
            let partial = self.partial(target, word.text, seeded: lastSeeded)
            if let g = gradients[id] {
                lines.append("  grad   \(partial) = " + style.gradient(format.block(g, indent: 12 + partial.count)))
            } else if let reason = noGradientReason(id, output: gradients.output) {
                lines.append("  grad   \(partial): none, \(reason)")
            } else {
                lines.append("  grad   \(partial): \(target) does not depend on \(word.text)")
            }
        } else {
            lines.append("  grad   not computed (run :backward or :grad)")
        }
        print(lines.joined(separator: "\n"))
    }

    /// `:show` of a node the walk passes: only what the walk has computed.
    func showInWalk(_ id: NodeID, name: String, _ walk: Walk) -> String {
        let node = workspace.graph[id]
        let notReached = style.dim("not computed (the walk has not reached it)")
        let definition = node.isLeaf ? node.kind.rawValue : node.name == nil ? operation(id) : formula(of: name)
        var lines = ["\(name) = \(definition)"]
        lines.append("  kind   \(node.kind.rawValue)" + (node.isLeaf ? "" : " (\(operation(id)))"))
        lines.append("  shape  \(describe(shape: node.shape))")
        lines.append("  value  " + (walk.value(of: id).map { style.value(format.block($0, indent: 9)) } ?? notReached)
                     + (walk.last == .forward(id) ? style.dim("   ← the last step") : ""))
        let partial = self.partial(label(walk.target), name, seeded: false)
        if let g = walk.gradient(of: id) {
            lines.append("  grad   \(partial) = " + style.gradient(format.block(g, indent: 12 + partial.count))
                         + (walk.last == .backward(id) ? style.dim("   ← the last step") : ""))
        } else if walk.passes(.backward(id)) {
            let arrived = walk.arrived(at: id)
            if arrived.isEmpty {
                lines.append("  grad   \(partial): " + notReached)
            } else {
                let terms = contributions(arrived.map { ($0.value, $0.edge.consumer) })
                let expected = walk.expectedContributions(at: id)
                lines.append("  grad   \(partial) so far = \(terms)" + (arrived.count < expected ? " + …" : "")
                             + style.dim("   \(arrived.count) of \(expected) contributions arrived; summed at its own step"))
            }
        } else if walk.steps.count == walk.forwardCount {
            lines.append("  grad   \(partial): " + style.dim("not computed (\(label(walk.target)) is not a scalar: the walk has no backward pass)"))
        } else {
            lines.append("  grad   \(partial): none (\(label(walk.target)) gets no gradient through it)")
        }
        return lines.joined(separator: "\n")
    }

    func forward(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":forward [NODE]")
        let target = try self.target(arguments.words.first, arguments)
        _ = try value(target, at: arguments.words.first?.span ?? arguments.nameSpan)
        print(forwardListing(to: target).lines.text)
        noteNonFinite(to: target, reverse: false)
    }

    /// The forward pass to `target` (computed), one row per node it depends on, in creation order,
    /// as far as the output limit: rows past the cut are never made.
    func forwardListing(to target: NodeID) -> (lines: CutLines, rows: Int) {
        let graph = workspace.graph
        let needed = graph.ancestors(of: target)
        let count = (0...target).reduce(0) { needed[$1] ? $0 + 1 : $0 }
        // As ``argument(_:)`` writes an input, with a scalar literal's text kept by its bits: a
        // chain writes the same few numbers at every link.
        var literals: [UInt64: String] = [:]
        func argument(_ id: NodeID) -> String {
            let node = graph[id]
            guard node.isLeaf, node.name == nil, let value = node.value else { return label(id, in: graph) }
            guard value.isScalar else { return self.argument(id) }
            let bits = value.scalars[0].bitPattern
            if let text = literals[bits] { return text }
            let text = self.argument(id)
            literals[bits] = text
            return text
        }
        let scalarShape = describe(shape: [])
        var table = CutTable(limit: outputLimit,
                             heading: ["forward pass to \(label(target)): \(count) node\(count == 1 ? "" : "s") in topological order"],
                             header: ["node", "op", "shape", "value"])
        func cells(_ id: NodeID) -> [String] {
            let node = graph[id]
            return [label(id, in: graph), operation(id, in: graph, arguments: argument),
                    node.isScalar ? scalarShape : describe(shape: node.shape)]
        }
        // Every row sets the widths of the columns, as the whole table's are (a cut table is
        // the whole table cut), measured from their parts without writing the rows; values are
        // formatted only for the rows made, until the limit.
        var widths = [4, 2, 5, 0]  // the header's
        func labelWidth(_ id: NodeID) -> Int {
            if let name = graph[id].name { return name.count }
            var digits = 1, rest = id / 10
            while rest > 0 { digits += 1; rest /= 10 }
            return 1 + digits
        }
        func argumentWidth(_ id: NodeID) -> Int {
            let node = graph[id]
            return node.isLeaf && node.name == nil ? argument(id).count : labelWidth(id)
        }
        func operationWidth(_ id: NodeID) -> Int {
            let node = graph[id]
            switch node.op {
            case _ where node.isLeaf, .sumTo, .broadcastTo, .reshape, .oneHot, .binary(.leakyRelu), .binary(.elu),
                 .sum(_?), .mean(_?), .einsum, .index:
                return operation(id, in: graph, arguments: argument).count
            default:
                // `name(a, b)`, as ``operation(_:in:arguments:)`` writes it.
                let inputs = node.inputs
                return node.op.name.count + 2 + inputs.reduce(0) { $0 + argumentWidth($1) } + 2 * max(0, inputs.count - 1)
            }
        }
        for id in 0...target where needed[id] {
            let node = graph[id]
            let shapeWidth = node.isScalar ? scalarShape.count : describe(shape: node.shape).count
            widths[0] = max(widths[0], labelWidth(id))
            widths[1] = max(widths[1], operationWidth(id))
            widths[2] = max(widths[2], shapeWidth)
        }
        for id in 0...target where needed[id] {
            guard !table.isFull else { break }
            table.add(cells(id) + [style.value(workspace.evaluation[id].map(format.inline) ?? "?")])
        }
        return (cut(table, widths: widths), table.rows.count)
    }

    /// A cut table's lines, as far as the output limit (`print` cuts the text there), its
    /// columns at least `widths` wide.
    func cut(_ table: CutTable, widths least: [Int] = []) -> CutLines {
        var widths = least + Array(repeating: 0, count: max(0, table.header.count - least.count))
        widen(&widths, to: table.header)
        for row in table.rows { widen(&widths, to: row) }
        var lines = CutLines(limit: table.limit)
        for line in table.heading { lines.append(line) }
        lines.append(tableLine(table.header, widths: widths, header: true))
        for row in table.rows {
            guard !lines.isFull else { break }
            lines.append(tableLine(row, widths: widths))
        }
        return lines
    }
}
