import ChainruleCore

/// `:graph` and `:dot`: the DAG drawn in the terminal and as Graphviz.
extension Session {
    /// The target's ancestors as a tree hanging from the target; a node reached a second
    /// time is shown once more by name only (it is the same node: the graph is a DAG).
    func tree(from target: NodeID) -> [String] {
        let gradients = lastGradients
        var lines: [String] = []
        var shown = Set<NodeID>()
        // (node, prefix for its own line, prefix for its children)
        var stack: [(NodeID, String, String)] = [(target, "", "")]
        while let (id, lead, childLead) = stack.popLast() {
            let node = workspace.graph[id]
            var text = lead + style.bold(label(id))
            if shown.contains(id) && !node.isLeaf {
                lines.append(text + style.dim("  (shown above)"))
                continue
            }
            shown.insert(id)
            text += node.isLeaf ? "  \(node.name == nil ? "const" : node.kind.rawValue)" : " = \(operation(id))"
            text += style.dim("  \(describe(shape: node.shape))")
            if let value = workspace.evaluation[id] { text += "  " + style.value(format.inline(value)) }
            if let (output, g) = gradients, let gradient = g[id] {
                text += "  " + style.gradient("∂\(output)/∂\(label(id)) = \(format.inline(gradient))")
            }
            lines.append(text)
            let inputs = node.inputs
            for (k, input) in inputs.enumerated().reversed() {
                let last = k == inputs.count - 1
                stack.append((input, childLead + (last ? "└── " : "├── "), childLead + (last ? "    " : "│   ")))
            }
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
            if let (output, g) = gradients, let gradient = g[id] { rows.append("∂\(output)/∂\(label(id)) \(format.inline(gradient))") }
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
        do { try workspace.evaluateAll() } catch { throw Workspace.diagnostic(error, at: arguments.nameSpan) }
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
