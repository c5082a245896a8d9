/// A graph as a standalone Python script for JAX or PyTorch (`:export`, `--export`): the script
/// rebuilds the graph in float64, each node one statement written with its op's spelling
/// (``Op/python(_:_:)``), computes the output and the gradient of every node by the framework's
/// own automatic differentiation, and prints the document `--json` prints (SPEC §5).
///
/// - Leaves hold their values exactly (every float written in a form that reads back the same).
/// - Every named node is a variable of its name, made a Python identifier; the others are `n<id>`.
/// - A `grad(e, x)` node is the framework's `grad` of a function that computes `e` from `x`
///   (the nodes chainrule's rules emitted for it are left out of the script and its document).
/// - Which nodes have no gradient (`null`) is chainrule's rule (SPEC §5), which the frameworks do
///   not have: the script prints `null` for those nodes only while the framework's gradient is
///   zero there, and the framework's numbers otherwise.
public struct Exporter {
    public var graph: Graph
    public var values: Evaluation
    public var gradients: Gradients
    public var outputName: String
    public var source: String
    /// The modules by name: each call of one is written as a call of a Python function.
    public var modules: [String: Module]
    /// The `:train` runs that made the params' values, taken again by the script.
    public var replay: Replay?
    /// Leaves the script reads from elsewhere than their values (`PARAMS[3]`, `BATCH[0]`).
    var leafReads: [NodeID: String] = [:]

    public init(graph: Graph, values: Evaluation, gradients: Gradients, outputName: String, source: String,
                modules: [String: Module] = [:], replay: Replay? = nil) {
        self.graph = graph
        self.values = values
        self.gradients = gradients
        self.outputName = outputName
        self.source = source
        self.modules = modules
        self.replay = replay
        if let replay, !replay.trainings.isEmpty {
            for id in replay.start.keys { leafReads[id] = "PARAMS[\(id)]" }
            for training in replay.trainings { for (id, _) in training.batch?.leaves ?? [] { leafReads[id] = "DATA[\(id)]" } }
        }
    }

    /// A `grad(e, x)` call found in the graph: its result node, the body's output and `x`, and
    /// the first node its rule emitted (the seed).
    struct GradCall {
        var result: NodeID
        var body: NodeID
        var wrt: NodeID
        var seed: NodeID
    }

    /// The script.
    public func script(_ framework: Framework) -> String {
        let output = gradients.output
        let count = graph.count
        let (calls, omitted) = gradCalls(count: count)
        let names = variableNames(count: count)
        let exported = (0..<count).filter { !omitted[$0] }

        var text = "#!/usr/bin/env python3\n"
        text += "# \(outputName) and its gradients, exported by chainrule from \(source) for \(framework == .jax ? "JAX" : "PyTorch").\n"
        text += "# Run: python3 THIS_FILE (needs \(framework == .jax ? "jax" : "torch")); it prints the document `chainrule --json` prints.\n"
        text += "import json, math\n\n"
        text += Prelude.text(framework)
        var callsByResult: [NodeID: GradCall] = [:]
        for call in calls { callsByResult[call.result] = call }
        // Nodes a grad() body computes again from x: their own gradients are split between the
        // paths differently here (chainrule's rules read the node's value, the framework recomputes it).
        var recomputed = Set<NodeID>()
        for call in calls { recomputed.formUnion(bodyNodes(call, omitted: omitted)) }
        let functions = self.functions(omitted: omitted, recomputed: recomputed, gradResults: Set(callsByResult.keys),
                                       variables: names, framework: framework)
        if !functions.definitions.isEmpty {
            text += "# The modules: t(k, v) marks node k's value v (for its gradient); a call's nodes are k, k + 1, ….\n"
            text += functions.definitions.joined(separator: "\n\n") + "\n\n"
        }
        text += trainingText(framework, names: names)
        text += graphFunction("graph", framework: framework, names: names, calls: callsByResult, omitted: omitted, functions: functions)

        // The document's structure, as chainrule has it.
        text += "OUTPUT = \(output)\n"
        text += "OUTPUT_NAME = \(Export.string(outputName))\n"
        text += "NODES = [\n"
        for id in exported {
            let node = graph[id]
            let name = node.name.map(Export.string) ?? "None"
            text += "    (\(id), \(name), \(Export.string(node.kind.rawValue)), \(Export.string(node.op.name)), \(Export.list(Array(node.inputs))), \(Export.tuple(node.shape))),\n"
        }
        text += "]\n"
        let nulls = exported.filter { gradients[$0] == nil && !(graph[$0].isLeaf && graph[$0].name == nil) }
        let literals = exported.filter { gradients[$0] == nil && graph[$0].isLeaf && graph[$0].name == nil }
        text += "# Numbers written in formulas: chainrule gives them no gradient (null).\n"
        text += "LITERALS = {" + literals.map(String.init).joined(separator: ", ") + "}\n"
        text += "# Nodes the output does not depend on (SPEC §5: their gradient is null, not zero).\n"
        text += "NO_GRADIENT = {" + nulls.map(String.init).joined(separator: ", ") + "}\n"
        text += "# Nodes a grad() body computes again: ∂output/∂node is split between paths as each program's rules read them.\n"
        text += "RECOMPUTED = {" + recomputed.sorted().map(String.init).joined(separator: ", ") + "}\n\n"
        // With :train runs to take again, the document is computed once they are taken.
        let trains = replay?.trainings.isEmpty == false
        text += Self.main.split(separator: "\n", omittingEmptySubsequences: false)
            .map { trains && $0 == "def document():" ? "def document():\n    replay()" : String($0) }.joined(separator: "\n")
        return text
    }

    /// `def NAME(tap): …`, every node of the graph in topological order, returning their values by id.
    func graphFunction(_ function: String, framework: Framework, names: [String], calls: [NodeID: GradCall], omitted: [Bool],
                       functions: Functions) -> String {
        var text = "def \(function)(tap):\n"
        text += "    \"\"\"Every node in topological order; tap(k, v) marks node k's value v (for its gradient).\"\"\"\n"
        text += "    values = {}\n"
        text += "    def t(k, v):\n"
        text += "        values[k] = v = tap(k, v)\n"
        text += "        return v\n"
        var lines: [String] = []
        var skipUntil = -1
        for id in 0..<graph.count where !omitted[id] && id > skipUntil {
            if let call = functions.outermost[id] {
                let arguments = call.arguments.map { ", " + names[$0] }.joined() + call.globals.map { ", \(names[$0])=\(names[$0])" }.joined()
                lines.append("    \(names[call.last]) = \(call.function)(t, \(call.first)\(arguments))")
                skipUntil = call.last
                continue
            }
            lines += statements(for: id, names: names, calls: calls, omitted: omitted, indent: "    ", tapped: true, framework: framework)
        }
        text += lines.joined(separator: "\n") + "\n"
        return text + "    return values\n"
    }

    /// The lines of node `id`: its statement, and for a `grad()` result the function it differentiates,
    /// whose body holds the statements of the nodes it computes again (a nested `grad()` among them
    /// holding its own). Written from an explicit stack of what is still to write, not by recursion,
    /// so a `grad()` nested as deep as a user writes it takes no deeper a call stack.
    func statements(for id: NodeID, names: [String], calls: [NodeID: GradCall], omitted: [Bool], indent: String,
                    tapped: Bool, framework: Framework) -> [String] {
        enum Pending {
            /// A node's statement (after its function, for a `grad()` result).
            case node(NodeID, indent: String, tapped: Bool)
            /// A line ready to write.
            case line(String)
        }
        var lines: [String] = []
        var pending: [Pending] = [.node(id, indent: indent, tapped: tapped)]
        while let next = pending.popLast() {
            guard case .node(let id, let indent, let tapped) = next else {
                if case .line(let line) = next { lines.append(line) }
                continue
            }
            let node = graph[id]
            let expression: String
            if let call = calls[id] {
                let function = "e\(id)"
                lines.append("\(indent)def \(function)(\(names[call.wrt])):")
                lines.append("\(indent)    # the body of grad(…, \(graph[call.wrt].name ?? names[call.wrt])), computed from \(names[call.wrt])")
                expression = "grad_of(\(function), \(names[call.wrt]))"
                // Last out first: the body's statements, its return, then the node's own statement.
                pending.append(.line("\(indent)\(names[id]) = " + (tapped ? "t(\(id), \(expression))" : expression)))
                pending.append(.line("\(indent)    return \(names[call.body])"))
                for inner in bodyNodes(call, omitted: omitted).reversed() {
                    pending.append(.node(inner, indent: indent + "    ", tapped: false))
                }
                continue
            } else if node.isLeaf, let read = leafReads[id] {
                expression = read  // a trained param, or data a minibatch replaces
            } else if node.isLeaf {
                expression = "array(\(literal(values[id] ?? node.value ?? Tensor(0))))"
            } else {
                expression = node.op.python(node.inputs.map { names[$0] }, framework)
            }
            lines.append("\(indent)\(names[id]) = " + (tapped ? "t(\(id), \(expression))" : expression))
        }
        return lines
    }

    /// The nodes a `grad()` body computes again from `x`: those between `x` and the body's output.
    func bodyNodes(_ call: GradCall, omitted: [Bool]) -> [NodeID] {
        let ancestors = graph.ancestors(of: call.body)
        var depends = Array(repeating: false, count: call.body + 1)
        depends[call.wrt] = true
        var result: [NodeID] = []
        guard call.wrt < call.body else { return [] }
        for id in (call.wrt + 1)...call.body {
            depends[id] = graph[id].inputs.contains { $0 < depends.count && depends[$0] }
            if depends[id], ancestors[id], !omitted[id] { result.append(id) }
        }
        return result
    }

    /// The `grad()` calls, and the nodes their rules emitted (left out of the script). A call's
    /// nodes run from its seed (the one constant of a forward graph in the role of recomputing
    /// a node: the body) up to the next seed or forward node; the last of them is the result,
    /// in the role of the gradient of the node differentiated. A call whose result was folded to
    /// a constant left nodes nothing reads; one not recognised is written node by node.
    func gradCalls(count: Int) -> ([GradCall], [Bool]) {
        var omitted = Array(repeating: false, count: count)
        var calls: [GradCall] = []
        func isSeed(_ id: NodeID) -> NodeID? {
            guard case .recompute(let body) = graph[id].role, graph[id].op == .constant, body < id else { return nil }
            return body
        }
        var id = 0
        while id < count {
            guard let body = isSeed(id) else {
                id += 1
                continue
            }
            var end = id + 1
            while end < count, graph[end].role != .forward, isSeed(end) == nil { end += 1 }
            let r = end - 1
            if r > id, case .gradient(let x) = graph[r].role, x < id, graph[x].shape == graph[r].shape, isAncestor(x, of: body) {
                for k in id..<r { omitted[k] = true }
                calls.append(GradCall(result: r, body: body, wrt: x, seed: id))
            } else if !(id..<end).contains(where: { k in ((end)..<count).contains { graph[$0].inputs.contains(k) } || graph[k].name != nil }) {
                for k in id..<end { omitted[k] = true }  // folded to a constant: nothing reads these
            }
            id = end
        }
        return (calls, omitted)
    }

    func isAncestor(_ x: NodeID, of body: NodeID) -> Bool {
        let ancestors = graph.ancestors(of: body)
        return x < ancestors.count && ancestors[x]
    }

    /// A Python identifier for each node: its name with every character outside ASCII letters,
    /// digits and `_` spelled out (subscript digits as digits), unique, and clear of Python's
    /// keywords and the script's own names.
    func variableNames(count: Int) -> [String] {
        var used = Set(Self.reserved)
        var names: [String] = []
        for id in 0..<count {
            var base = "n\(id)"
            if let name = graph[id].name { base = Self.identifier(name) }
            var candidate = base
            while used.contains(candidate) { candidate += "_" }
            used.insert(candidate)
            names.append(candidate)
        }
        return names
    }

    static func identifier(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar.value {
            case 0x30...0x39, 0x41...0x5a, 0x61...0x7a, 0x5f: out.unicodeScalars.append(scalar)
            case 0x2080...0x2089: out += String(scalar.value - 0x2080)
            default: out += "_u\(String(scalar.value, radix: 16))_"
            }
        }
        if let first = out.unicodeScalars.first, (0x30...0x39).contains(first.value) { out = "_" + out }
        return out.isEmpty ? "_" : out
    }

    /// Python's keywords and built-ins the script uses, and every name its helpers define.
    static let reserved: [String] = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "print", "len", "range", "float", "int",
        "list", "dict", "tuple", "set", "zip", "min", "max", "abs", "sum", "isinstance", "bool", "str", "map", "any", "all",
        "json", "math", "jax", "jnp", "torch", "t", "tap", "values", "graph", "main", "document", "number", "nested", "OUTPUT", "OUTPUT_NAME",
        "NODES", "PARAMS", "DATA", "BATCH", "new_state", "descend", "replay", "NO_GRADIENT", "RECOMPUTED", "LITERALS", "FRAMEWORK", "where", "array", "mask", "broadcast_to", "transpose", "stack", "dot", "einsum",
        "take", "scatter", "gelu", "softmax", "log_softmax", "erf", "xlogy", "argmax_flat", "one_hot", "stop", "zeros_like",
        "exp", "log", "expm1", "softplus", "sum_keep", "positions", "grad_of", "einsum_transpose", "gradients", "to_list",
        "relu", "abs_", "step", "sign", "normal_cdf", "maximum", "minimum", "leaky_relu", "elu", "power", "first_max",
        "argmax_mask", "sum_to", "mse", "is_indices", "cross_entropy", "clamped_log", "bce", "bce_with_logits", "kl",
    ]

    /// A tensor as nested Python lists of floats that read back exactly (nested as deep as the
    /// rank, which ``Limits/rank`` bounds); one without elements as a zero broadcast to its shape,
    /// which `[]` would lose (`zeros(0, 3)`).
    func literal(_ t: Tensor) -> String {
        if t.shape.isEmpty { return Export.number(t.scalars.first ?? 0) }
        if t.scalars.isEmpty { return "broadcast_to(array(0.0), \(Export.tuple(t.shape)))" }
        return nested(t.scalars[...], t.shape[...])
    }

    private func nested(_ scalars: ArraySlice<Double>, _ shape: ArraySlice<Int>) -> String {
        guard let size = shape.first else { return Export.number(scalars.first ?? 0) }
        let inner = shape.dropFirst().reduce(1, *)
        var parts: [String] = []
        for i in 0..<size {
            let start = scalars.startIndex + i * inner
            parts.append(nested(scalars[start..<(start + inner)], shape.dropFirst()))
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    /// Runs the graph, takes the gradients, prints the document.
    static let main = #"""
def number(x):
    if x != x: return "nan"
    if x == math.inf: return "inf"
    if x == -math.inf: return "-inf"
    return x

def nested(x):
    return [nested(v) for v in x] if isinstance(x, list) else number(float(x))

def document():
    ids = [k for k, *_ in NODES]
    shapes = {k: shape for k, _, _, _, _, shape in NODES}
    values, grads = gradients(graph, OUTPUT, ids, shapes)
    nodes = []
    for k, name, kind, op, inputs, shape in NODES:
        g = nested(to_list(grads[k]))
        flat = g if isinstance(g, list) else [g]
        while flat and isinstance(flat[0], list): flat = [v for row in flat for v in row]
        if k in LITERALS or (k in NO_GRADIENT and all(v == 0 for v in flat)): g = None
        nodes.append({"id": k, "name": name, "kind": kind, "op": op, "inputs": inputs, "shape": list(shape),
                      "value": nested(to_list(values[k])), "grad": g})
    return {"output": OUTPUT_NAME, "framework": FRAMEWORK, "recomputed": sorted(RECOMPUTED), "nodes": nodes}

if __name__ == "__main__":
    print(json.dumps(document(), indent=1))
"""#
}
