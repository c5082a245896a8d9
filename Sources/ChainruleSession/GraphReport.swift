import ChainruleCore

/// What a drawing of the forward graph shows, built apart from any renderer: the boxes in
/// topological order, each box's inputs in argument order, and what is known of each box.
///
/// A value or gradient that is not known (not computed yet by a walk, or no reverse pass has
/// run) is nil: renderers draw it as "not computed", never as zero or a stale number. The
/// terminal drawing (``GraphDrawing``) and Graphviz (``DotDrawing``) render this value; the
/// walk builds it with what it has computed, commands with the session's current state.
///
/// A box is one named definition by default: the unnamed intermediate nodes of `h = tanh(X @ W1 + b1)`
/// are folded into its formula, and numbers written in a formula are never boxes of their own.
/// With ``Granularity/nodes`` every node of the graph but the literals is a box. Either way a
/// node is drawn once, however many consumers it has.
struct GraphReport {
    enum Granularity: Equatable {
        /// One box per named definition (and for the target when it is unnamed).
        case definitions
        /// One box per graph node, literals folded into their consumers.
        case nodes
    }

    struct Box {
        /// The graph node the box stands for (its value and gradient are this node's).
        var id: NodeID
        /// The name, or `%ID` for an unnamed node.
        var label: String
        /// The formula in infix as the user wrote it (`0.1 · sum(h²)`); nil for a leaf.
        var formula: String?
        var kind: NodeKind
        var shape: [Int]
        var value: Tensor?
        var gradient: Tensor?
        /// While a walk's backward pass is under way and `gradient` is not complete: the
        /// contributions that have arrived so far (`1 (via g) + -2 (via f)`), nil otherwise.
        var gradientSoFar: String?
        /// Indices into ``GraphReport/boxes``, in argument order (each input once per box
        /// under ``Granularity/definitions``; as the op lists them under ``Granularity/nodes``).
        var inputs: [Int]
        /// The graph nodes this box draws: `id` and the unnamed nodes folded into it.
        var members: [NodeID]
        /// Whether the target's gradient reaches this box at all (not a class index only).
        var receivesGradient = true
        /// Whether the walk stands at one of this box's nodes.
        var isCurrent = false
        /// Whether the last step wrote a value or gradient of one of this box's nodes.
        var isChanged = false
        /// Whether the box is a call of a module drawn as one block (its label the call as written).
        var isCall = false
        /// The calls of modules the box's node was made in, outermost first (key, the call as
        /// written): what a drawing of every node groups boxes by.
        var calls: [(key: Int, text: String)] = []
    }

    var target: NodeID
    var granularity: Granularity
    var boxes: [Box]
    /// The label of the node whose gradients are shown (`L` of ∂L/∂h), or nil when none is known.
    var gradientOutput: String?
    /// Whether the gradients are p·∂out/∂node (a reverse pass seeded with `seed=p`).
    var seeded: Bool
    /// Where each graph node is drawn: the index of its box, or nil (a literal, or not an ancestor).
    var boxOf: [Int?]

    /// How a gradient of this report is written: `∂L/∂h`.
    func partial(_ box: Box) -> String {
        (seeded ? "p·" : "") + "∂\(gradientOutput ?? "?")/∂\(box.label)"
    }
}

extension Session {
    /// The report of what to draw for `target`, with the values and gradients the caller knows.
    ///
    /// - Parameters:
    ///   - knownValue: the value of a node, or nil when it is not computed.
    ///   - knownGradient: ∂gradientOutput/∂node, or nil when it is not computed.
    ///   - gradientOutput: the label of the node the gradients are of, nil when none are known.
    ///   - current: the node the walk stands at; `changed`: the nodes the last step wrote.
    func graphReport(target: NodeID, granularity: GraphReport.Granularity,
                     knownValue: (NodeID) -> Tensor?, knownGradient: (NodeID) -> Tensor?,
                     gradientOutput: String?, seeded: Bool = false,
                     current: NodeID?, changed: Set<NodeID>) -> GraphReport {
        let graph = workspace.graph
        let needed = graph.ancestors(of: target)
        let differentiable = graph.differentiableAncestors(of: target)
        // One box for each call of a module made in a definition: its last node, the call's result.
        var callResult = [Bool](repeating: false, count: target + 1)
        if granularity == .definitions, graph.hasCalls {
            var last: [Int: NodeID] = [:]
            for id in 0...target where needed[id] { if let call = graph.outermostCall(of: id) { last[call] = id } }
            for id in last.values { callResult[id] = true }
        }
        func drawn(_ id: NodeID) -> Bool {
            let node = graph[id]
            if node.isLiteral { return false }
            return granularity == .nodes || id == target || node.hasName || callResult[id]
        }
        // Boxes in creation order (a topological order); each unnamed node belongs to the box of
        // its last consumer (found first walking down from the target).
        var boxOf = [Int?](repeating: nil, count: graph.count)
        var ids: [NodeID] = []
        for id in 0...target where needed[id] && drawn(id) {
            boxOf[id] = ids.count
            ids.append(id)
        }
        var owner = [Int?](repeating: nil, count: target + 1)
        var members = [[NodeID]](repeating: [], count: ids.count)
        for id in stride(from: target, through: 0, by: -1) where needed[id] {
            if let box = boxOf[id] { owner[id] = box }
            guard let box = owner[id] else { continue }
            if boxOf[id] == nil { members[box].append(id) }
            for input in graph[id].inputs where owner[input] == nil && boxOf[input] == nil && !graph[input].isLiteral {
                owner[input] = box
            }
        }
        var boxes: [GraphReport.Box] = []
        boxes.reserveCapacity(ids.count)
        for (index, id) in ids.enumerated() {
            let node = graph[id]
            var inputs: [Int] = []
            if granularity == .nodes {
                inputs = node.inputs.compactMap { boxOf[$0] }
            } else {
                // The boxes the definition reads, in the order its formula reads them.
                var seen = Set<NodeID>(), listed = Set<Int>()
                var stack = Array(node.inputs.reversed())
                while let input = stack.popLast() {
                    guard seen.insert(input).inserted else { continue }
                    if let box = boxOf[input] ?? owner[input].flatMap({ $0 != index ? $0 : nil }) {
                        if listed.insert(box).inserted { inputs.append(box) }
                    } else if !graph[input].isLiteral {
                        stack.append(contentsOf: graph[input].inputs.reversed())
                    }
                }
            }
            let all = [id] + members[index].reversed()
            var box = GraphReport.Box(id: id, label: label(id), formula: node.isLeaf ? nil : infixFormula(id, granularity: granularity),
                                      kind: node.kind, shape: node.shape, value: knownValue(id),
                                      gradient: gradientOutput == nil ? nil : knownGradient(id),
                                      inputs: inputs, members: all)
            box.receivesGradient = differentiable[id]
            if graph.hasCalls {
                box.calls = graph.callPath(of: id).map { ($0.key, Session.callText($0.call)) }
                if callResult[id], !node.hasName, let outermost = box.calls.first {
                    box.isCall = true
                    box.label = outermost.text
                    box.formula = nil
                }
            }
            box.isCurrent = current.map { all.contains($0) } ?? false
            box.isChanged = all.contains(where: changed.contains)
            boxes.append(box)
        }
        for (index, box) in boxes.enumerated() { for member in box.members { boxOf[member] = index } }
        return GraphReport(target: target, granularity: granularity, boxes: boxes, gradientOutput: gradientOutput,
                           seeded: seeded, boxOf: boxOf)
    }

    /// A call of a module as written (`layer(x, W₁, b₁)`), in the notation of slides.
    static func callText(_ call: ModuleCall) -> String {
        lectureNotation(call.site.source.text(call.site.range))
    }

    /// The report with the session's current state: the workspace's stored values and the
    /// gradients of the last reverse pass (when it was from `target`, or reached it).
    /// While a walk to `target` is under way, only what the walk has computed: the node it
    /// stands at is current, and what its last step computed is changed.
    func graphReport(target: NodeID, granularity: GraphReport.Granularity) -> GraphReport {
        if let walk = stepper?.walk, walk.target == target {
            var changed = Set<NodeID>()
            switch walk.last {
            case .forward(let id)?: changed.insert(id)
            case .backward(let id)?:
                changed.insert(id)
                for edge in walk.edges(from: id) { changed.insert(edge.input) }
            case nil: break
            }
            let hasBackward = walk.steps.count > walk.forwardCount
            var report = graphReport(target: target, granularity: granularity,
                                     knownValue: { walk.value(of: $0) },
                                     knownGradient: { walk.gradient(of: $0) },
                                     gradientOutput: hasBackward ? label(target) : nil,
                                     current: walk.last?.node, changed: changed)
            for i in report.boxes.indices where report.boxes[i].gradient == nil {
                let arrived = walk.arrived(at: report.boxes[i].id)
                if !arrived.isEmpty {
                    report.boxes[i].gradientSoFar = contributions(arrived.map { ($0.value, $0.edge.consumer) }, format: drawingFormat)
                        + (arrived.count < walk.expectedContributions(at: report.boxes[i].id) ? " + …" : "")
                }
            }
            return report
        }
        let gradients = lastGradients
        return graphReport(target: target, granularity: granularity,
                           knownValue: { workspace.evaluation[$0] },
                           knownGradient: { gradients?.gradients[$0] },
                           gradientOutput: gradients?.target, seeded: lastSeeded,
                           current: nil, changed: [])
    }

    /// A node's formula in infix: the definition as the user wrote it (under ``GraphReport/Granularity/definitions``,
    /// for a named node), else the node's own op over its inputs' labels (`%3 + b1`, `tanh(%4)`).
    func infixFormula(_ id: NodeID, granularity: GraphReport.Granularity) -> String {
        let node = workspace.graph[id]
        if granularity == .definitions, let name = node.name, let formula = workspace.entries[name]?.formula {
            return Session.lectureNotation(Printer.expression(formula))
        }
        let a = node.inputs.first.map(argument) ?? ""
        let b = node.inputs.count > 1 ? argument(node.inputs[1]) : ""
        switch node.op {
        case .binary(.add): return "\(a) + \(b)"
        case .binary(.subtract): return "\(a) - \(b)"
        case .binary(.multiply): return "\(a) · \(b)"
        case .binary(.divide): return "\(a) / \(b)"
        case .binary(.power): return Session.lectureNotation("\(a)^\(b)")
        case .matmul: return "\(a) @ \(b)"
        case .pointwise(.negate): return "-\(a)"
        case .transpose: return "\(a)ᵀ"
        default: return operation(id)
        }
    }

    /// Source text as slides write it: `*` as `·`, whole powers as superscripts (`h^2` → `h²`),
    /// `.T` as `ᵀ`. Strings (einsum specs) are left as they are.
    static func lectureNotation(_ text: String) -> String {
        let superscripts: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴",
                                                    "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹"]
        let characters = Array(text)
        var out = ""
        var i = 0
        var inString = false
        while i < characters.count {
            let c = characters[i]
            if c == "\"" { inString.toggle() }
            if inString { out.append(c); i += 1; continue }
            if c == "*", i > 0, i + 1 < characters.count, characters[i - 1] == " ", characters[i + 1] == " " {
                out.append("·"); i += 1; continue
            }
            if c == ".", i + 1 < characters.count, characters[i + 1] == "T",
               i + 2 == characters.count || !(characters[i + 2].isLetter || characters[i + 2].isNumber || characters[i + 2] == "_") {
                out.append("ᵀ"); i += 2; continue
            }
            if c == "^" {
                var j = i + 1
                while j < characters.count, characters[j].isASCII, characters[j].isNumber { j += 1 }
                let next = j < characters.count ? characters[j] : " "
                if j > i + 1, !(next == "." || next == "e" || next == "E" || next == "^" || next == "(" || next.isNumber) {
                    for d in characters[(i + 1)..<j] { out.append(superscripts[d] ?? d) }
                    i = j
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }
}
