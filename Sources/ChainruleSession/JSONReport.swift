import ChainruleCore

/// The `--json` document: every node with its value and gradient (see SPEC §5).
extension Session {
    /// The node `--json` reports on by default: the last `:backward` target, else the last definition.
    public var defaultOutputName: String? { lastBackwardTarget ?? lastDefined ?? workspace.order.last }

    /// Evaluates everything, runs the reverse pass from `name` (seeded with ones), and returns the JSON text.
    public func json(output name: String) throws(Diagnostic) -> String {
        let id = try workspace.node(named: name, at: nil)
        do { try workspace.evaluateAll() } catch { throw Workspace.diagnostic(error, at: nil) }
        let gradients = try self.gradients(of: id, seed: nil, record: false, at: nil)
        var lines = ["{", "  \"output\": \(JSON.string(name)),", "  \"nodes\": ["]
        let graph = workspace.graph
        for node in 0..<graph.count {
            let n = graph[node]
            let fields = [
                "\"id\": \(node)",
                "\"name\": " + (n.name.map(JSON.string) ?? "null"),
                "\"kind\": \(JSON.string(n.kind.rawValue))",
                "\"op\": \(JSON.string(n.op.name))",
                "\"inputs\": [" + n.inputs.map(String.init).joined(separator: ", ") + "]",
                "\"shape\": [" + n.shape.map(String.init).joined(separator: ", ") + "]",
                "\"value\": " + (workspace.evaluation[node].map(JSON.tensor) ?? "null"),
                "\"grad\": " + (gradients[node].map(JSON.tensor) ?? "null"),
            ]
            lines.append("    {" + fields.joined(separator: ", ") + "}" + (node == graph.count - 1 ? "" : ","))
        }
        lines.append("  ]")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// JSON text for the few kinds of value chainrule writes.
enum JSON {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A number exactly as Swift prints it (shortest round-trip form); non-finite ones as strings.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "\"nan\"" }
        if x.isInfinite { return x < 0 ? "\"-inf\"" : "\"inf\"" }
        return "\(x)"
    }

    /// Nested arrays in row-major order with the tensor's shape; a bare number for a scalar.
    static func tensor(_ t: Tensor) -> String { t.nestedText(number) }
}
