import ChainruleCore

/// The `--json` document: every node with its value and gradient (see SPEC §5).
extension Session {
    /// The node `--json` reports on by default: the last `:backward` target, else the last definition.
    public var defaultOutputName: String? { lastBackwardTarget ?? lastDefined ?? workspace.order.last }

    /// Evaluates everything, runs the reverse pass from `name` (seeded with ones), and returns the JSON text.
    public func json(output name: String) throws(Diagnostic) -> String {
        let document = try jsonDocument(output: name)
        return TextStream.text { document.write(to: &$0) }
    }

    /// Evaluates everything, runs the reverse pass from `name`, and writes the JSON document to
    /// standard output a chunk at a time, a value an element at a time (nothing is written when
    /// evaluating fails).
    public func writeJSON(output name: String) throws(Diagnostic) {
        let document = try jsonDocument(output: name)
        var stream = TextStream(to: output)
        document.write(to: &stream)
        stream.finish()
    }

    /// `span`: where `name` is written, for an error naming it.
    func jsonDocument(output name: String, at span: SourceSpan? = nil) throws(Diagnostic) -> JSONDocument {
        let id = try workspace.node(named: name, at: span)
        do { try workspace.evaluateAll() } catch { throw Workspace.diagnostic(error, at: nil) }
        let gradients = try self.gradients(of: id, seed: nil, record: false, at: nil)
        let graph = workspace.graph, values = workspace.evaluation
        if (0..<graph.count).contains(where: { values[$0]?.scalars.allSatisfy(\.isFinite) == false || (graph[$0].isLeaf && gradients[$0]?.scalars.allSatisfy(\.isFinite) == false) }) {
            noteNonFinite(to: id, reverse: graph[id].isScalar)
        }
        return JSONDocument(output: name, graph: workspace.graph, values: workspace.evaluation, gradients: gradients)
    }
}

/// The `--json` document of one output: the graph with its values and gradients (SPEC §5).
struct JSONDocument {
    var output: String
    var graph: Graph
    var values: Evaluation
    var gradients: Gradients

    func write(to stream: inout TextStream) {
        stream.write("{\n  \"output\": \(JSON.string(output)),\n  \"nodes\": [\n")
        for node in 0..<graph.count {
            let n = graph[node]
            stream.write("    {\"id\": \(node), \"name\": " + (n.name.map(JSON.string) ?? "null")
                         + ", \"kind\": \(JSON.string(n.kind.rawValue)), \"op\": \(JSON.string(n.op.name))"
                         + ", \"inputs\": [" + n.inputs.map(String.init).joined(separator: ", ") + "]"
                         + ", \"shape\": [" + n.shape.map(String.init).joined(separator: ", ") + "], \"value\": ")
            JSON.write(values[node], to: &stream)
            stream.write(", \"grad\": ")
            JSON.write(gradients[node], to: &stream)
            stream.write(node == graph.count - 1 ? "}\n" : "},\n")
        }
        stream.write("  ]\n}\n")
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
    static func tensor(_ t: Tensor) -> String { TextStream.text { $0.writeNested(t, number) } }

    /// ``tensor(_:)`` written an element at a time; `null` for no tensor.
    static func write(_ t: Tensor?, to stream: inout TextStream) {
        guard let t else { return stream.write("null") }
        stream.writeNested(t, number)
    }
}
