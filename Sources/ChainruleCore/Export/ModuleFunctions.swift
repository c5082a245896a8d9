/// Modules as Python functions in an exported script: each call of a module becomes a call of a
/// function written once from the call's nodes, `def layer(t, k, x, W, b): …`, whose statements
/// tap the nodes `k`, `k + 1`, … they compute (so every node inside a call keeps its value and
/// gradient in the document). Two calls share a function when their nodes are written alike;
/// a call that cannot be a function (an argument that is a number, folded into its nodes; a node
/// read from outside it other than its result; a node a `grad()` body computes again) is written
/// node by node, as if no module had made it.
extension Exporter {
    /// A module as the script writes it: its parameters and its definition (for a comment).
    public struct Module: Sendable {
        public var parameters: [String]
        public var definition: String
        /// The names its formula reads that are not parameters (nodes defined outside it).
        public var reads: Set<String>

        public init(parameters: [String], definition: String, reads: Set<String> = []) {
            self.parameters = parameters
            self.definition = definition
            self.reads = reads
        }
    }

    /// A call written as a call of a function: its nodes `first…last` and the function's name.
    struct FunctionCall {
        var first: NodeID
        var last: NodeID
        var function: String
        var arguments: [NodeID]
        /// The named nodes outside the call its module's formula reads (`s` in `scale(u) = u * s`),
        /// passed by keyword.
        var globals: [NodeID]
    }

    /// The functions of the script and the calls written with them.
    struct Functions {
        /// Each function's text, in the order they were first needed.
        var definitions: [String] = []
        /// The call written at each node, keyed by its first node, for each call written as a
        /// function whose callers are not (the outermost ones, written in `graph`).
        var outermost: [NodeID: FunctionCall] = [:]
    }

    /// Which calls are written as functions, and the functions' texts.
    func functions(omitted: [Bool], recomputed: Set<NodeID>, gradResults: Set<NodeID>, variables: [String],
                   framework: Framework) -> Functions {
        var result = Functions()
        let calls = graph.allCalls
        guard !calls.isEmpty, !modules.isEmpty else { return result }
        let count = graph.count
        // Each node's calls, outermost first, and each call's first and last node and size.
        var paths: [[Int]] = []
        paths.reserveCapacity(count)
        var first = Array(repeating: Int.max, count: calls.count), last = Array(repeating: -1, count: calls.count)
        var size = Array(repeating: 0, count: calls.count)
        for id in 0..<count {
            let path = graph.callPath(of: id).map(\.key)
            for k in path where k < calls.count {
                first[k] = min(first[k], id)
                last[k] = max(last[k], id)
                size[k] += 1
            }
            paths.append(path)
        }
        var writable: [Bool] = []
        for (k, call) in calls.enumerated() {
            let contiguous = size[k] > 0 && size[k] == last[k] - first[k] + 1
            let parameters = modules[graph.moduleName(of: call)]?.parameters.count
            writable.append(contiguous && !call.arguments.contains(-1) && parameters == call.arguments.count)
        }
        var globals = Array(repeating: [NodeID](), count: calls.count)
        for id in 0..<count {
            let inside = paths[id]
            for k in inside where writable[k] {
                if omitted[id] || recomputed.contains(id) || gradResults.contains(id) { writable[k] = false }
            }
            for input in graph[id].inputs {
                // A node of call k read from outside k other than its result; an input from
                // outside k that is not an argument of k.
                for k in paths[input] where writable[k] && input != last[k] && !inside.contains(k) { writable[k] = false }
                for k in inside where writable[k] && !paths[input].contains(k) && !calls[k].arguments.contains(input) {
                    // A named node the formula reads is passed by keyword; anything else cannot be.
                    if graph[input].name != nil {
                        if !globals[k].contains(input) { globals[k].append(input) }
                    } else {
                        writable[k] = false
                    }
                }
            }
        }
        // The inner calls first, so a caller's text names the functions of the calls inside it.
        var named: [Int: String] = [:]
        var texts: [String: [(text: String, name: String)]] = [:]
        var definitions: [(key: Int, text: String)] = []
        var used = Set(Self.reserved).union(variables)
        for k in (0..<calls.count).reversed() where writable[k] {
            let moduleName = graph.moduleName(of: calls[k])
            guard let module = modules[moduleName] else { continue }
            // A node passed for two parameters, or passed and read by name too, would be read
            // under one name where the formula writes another: such a call is written out.
            let passed = calls[k].arguments
            if Set(passed).count < passed.count || passed.contains(where: { graph[$0].name.map(module.reads.contains) ?? false }) {
                writable[k] = false
                continue
            }
            guard let body = functionBody(k, module: module, first: first, last: last, paths: paths, writable: writable, named: named,
                                          globals: globals, variables: variables, framework: framework) else {
                writable[k] = false
                continue
            }
            if let same = texts[moduleName]?.first(where: { $0.text == body.text }) {
                named[k] = same.name
                if let d = definitions.firstIndex(where: { $0.text.hasPrefix("def \(same.name)(") }) { definitions[d].key = k }
                continue
            }
            var name = Self.identifier(moduleName)
            if let earlier = texts[moduleName]?.count, earlier > 0 { name += "_\(earlier + 1)" }
            while used.contains(name) { name += "_" }
            used.insert(name)
            texts[moduleName, default: []].append((body.text, name))
            named[k] = name
            let comments = module.definition.split(separator: "\n", omittingEmptySubsequences: false).map { "    # \($0)" }
            definitions.append((k, ([body.signature(name)] + comments + [body.text]).joined(separator: "\n")))
        }
        // In the order the script first calls them (a caller before the functions it calls).
        result.definitions = definitions.sorted { $0.key < $1.key }.map(\.text)
        for id in 0..<count {
            guard let k = paths[id].first(where: { writable[$0] }), first[k] == id, let name = named[k] else { continue }
            result.outermost[id] = FunctionCall(first: id, last: last[k], function: name, arguments: calls[k].arguments,
                                                globals: globals[k])
        }
        return result
    }

    /// A function's parameters and statements for call `k`: its nodes in order, each tapped as
    /// `k + offset`, a call inside it that is written as a function called as one.
    /// Nil when a node it reads from outside has a name that a parameter takes.
    func functionBody(_ k: Int, module: Module, first: [Int], last: [Int], paths: [[Int]], writable: [Bool],
                      named: [Int: String], globals: [[NodeID]], variables: [String],
                      framework: Framework) -> (signature: (String) -> String, text: String)? {
        let call = graph.allCalls[k]
        var parameters: [String] = []
        var used = Set(Self.reserved).union(["k"])
        for p in module.parameters {
            var name = Self.identifier(p)
            if name.count > 1, name.first == "v", name.dropFirst().allSatisfy(\.isNumber) { name += "_" }  // clear of the locals v0, v1, …
            while used.contains(name) { name += "_" }
            used.insert(name)
            parameters.append(name)
        }
        for g in globals[k] {
            guard !used.contains(variables[g]), !(variables[g].first == "v" && variables[g].dropFirst().allSatisfy(\.isNumber)) else { return nil }
        }
        let base = first[k]
        func local(_ id: NodeID) -> String {
            if id >= base, id <= last[k] { return "v\(id - base)" }
            if let i = call.arguments.firstIndex(of: id) { return parameters[i] }
            return variables[id]  // a named node outside the call, passed by keyword
        }
        var lines: [String] = []
        var id = base
        while id <= last[k] {
            let path = paths[id]
            let depth = path.firstIndex(of: k) ?? path.count
            if let inner = path[(depth + 1)...].first(where: { writable[$0] }), first[inner] == id, let name = named[inner] {
                let arguments = graph.allCalls[inner].arguments.map(local) + globals[inner].map { "\(variables[$0])=\(local($0))" }
                lines.append("    v\(last[inner] - base) = \(name)(t, k + \(id - base)\(arguments.map { ", " + $0 }.joined()))")
                id = last[inner] + 1
                continue
            }
            let node = graph[id]
            let expression = node.isLeaf ? "array(\(literal(values[id] ?? node.value ?? Tensor(0))))"
                                         : node.op.python(node.inputs.map(local), framework)
            lines.append("    v\(id - base) = t(k + \(id - base), \(expression))")
            id += 1
        }
        lines.append("    return v\(last[k] - base)")
        var parameterList = parameters.map { ", " + $0 }.joined()
        if !globals[k].isEmpty { parameterList += ", *" + globals[k].map { ", " + variables[$0] }.joined() }
        return ({ "def \($0)(t, k\(parameterList)):" }, lines.joined(separator: "\n"))
    }
}

extension Workspace {
    /// Every module with its parameters and definition, as ``Exporter`` writes them.
    public var exportedModules: [String: Exporter.Module] {
        modules.mapValues { module in
            var reads = Set<String>()
            for (name, _, isCall) in References(module.body) where !isCall && !module.parameters.contains(name) { reads.insert(name) }
            return Exporter.Module(parameters: module.parameters, definition: module.span.text, reads: reads)
        }
    }
}
