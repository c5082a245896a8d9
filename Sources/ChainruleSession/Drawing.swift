import ChainruleCore

/// `:graph` and `:dot`: the DAG drawn in the terminal and as Graphviz.
extension Session {
    /// The target's ancestors as a tree hanging from the target; a node reached a second
    /// time is shown once more by name only (it is the same node: the graph is a DAG).
    ///
    /// Stops once the lines reach the output limit (a chain of 20,000 nodes would otherwise
    /// take memory growing with the square of its depth). The stack holds no prefixes: each
    /// line's prefix is built from one flag per level, "more siblings follow here".
    func tree(from target: NodeID) -> [String] {
        let gradients = lastGradients
        var lines: [String] = []
        var size = 0
        var shown = Set<NodeID>()
        // Per level above the current line: whether that level has more children to come.
        var open: [Bool] = []
        // (node, its level, whether it is the last child of its parent)
        var stack: [(id: NodeID, level: Int, last: Bool)] = [(target, 0, true)]
        while let (id, level, last) = stack.popLast() {
            open.removeSubrange(min(open.count, max(0, level - 1))...)
            var lead = ""
            for more in open { lead += more ? "│   " : "    " }
            if level > 0 { lead += last ? "└── " : "├── " }
            if level > 0 { open.append(!last) }
            let node = workspace.graph[id]
            var text = lead + style.bold(label(id))
            if shown.contains(id) && !node.isLeaf {
                text += style.dim("  (shown above)")
            } else {
                shown.insert(id)
                text += node.isLeaf ? "  \(node.name == nil ? "const" : node.kind.rawValue)" : " = \(operation(id))"
                text += style.dim("  \(describe(shape: node.shape))")
                if let value = workspace.evaluation[id] { text += "  " + style.value(format.inline(value)) }
                if let (output, g) = gradients, let gradient = g[id] {
                    text += "  " + style.gradient(partial(output, label(id), seeded: lastSeeded) + " = \(format.inline(gradient))")
                }
                for (k, input) in node.inputs.enumerated().reversed() {
                    stack.append((input, level + 1, k == node.inputs.count - 1))
                }
            }
            size += text.count + 1
            // Room is left for the closing note, so that the whole stays within the limit.
            if size > outputLimit - 100 {
                lines.append("… drawing cut at \(outputLimit) characters (:set output N shows more)")
                break
            }
            lines.append(text)
        }
        return lines
    }

    func graph(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":graph [NODE]")
        let target = try self.target(arguments.words.first, arguments)
        _ = try value(target, at: arguments.words.first?.span ?? arguments.nameSpan)
        print(tree(from: target).joined(separator: "\n"))
    }

    /// The graph as Graphviz DOT: one box per node with its op, shape, value and gradient
    /// (when computed), edges from inputs to consumers, leaves at the top.
    public func dot() -> String {
        let graph = workspace.graph
        var lines = [
            "digraph chainrule {",
            "  rankdir=BT;",
            "  node [shape=box, fontname=\"Helvetica\", fontsize=11];",
        ]
        let gradients = lastGradients
        for id in 0..<graph.count {
            let node = graph[id]
            var rows = [node.isLeaf ? "\(label(id)) (\(node.name == nil ? "const" : node.kind.rawValue))" : "\(label(id)) = \(operation(id))"]
            rows.append("shape \(describe(shape: node.shape))")
            if let value = workspace.evaluation[id] { rows.append("value \(format.inline(value))") }
            if let (output, g) = gradients, let gradient = g[id] { rows.append(partial(output, label(id), seeded: lastSeeded) + " \(format.inline(gradient))") }
            let fill = node.kind == .param ? "#fde9c9" : node.isLeaf ? "#dbe9f7" : "#ffffff"
            lines.append("  n\(id) [label=\(Session.dotString(rows.joined(separator: "\n"))), style=filled, fillcolor=\"\(fill)\"];")
        }
        for id in 0..<graph.count {
            for (k, input) in graph[id].inputs.enumerated() {
                let tag = graph[id].inputs.count > 1 ? " [label=\"\(k + 1)\"]" : ""
                lines.append("  n\(input) -> n\(id)\(tag);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func dotString(_ text: String) -> String {
        var out = "\""
        for c in text {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    func dot(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":dot [FILE]")
        do { try workspace.evaluateAll() } catch { throw located(error, at: arguments.nameSpan) }
        let text = dot()
        guard let file = arguments.words.first else {
            print(text, terminator: "")
            return
        }
        let path = self.path(file, in: arguments)
        do { try Files.write(text, to: path) } catch { throw Diagnostic(error.message, at: file.span) }
        print("wrote \(workspace.graph.count) node\(workspace.graph.count == 1 ? "" : "s") to \(path) (render with: dot -Tpng \(path) -o graph.png)")
    }
}
