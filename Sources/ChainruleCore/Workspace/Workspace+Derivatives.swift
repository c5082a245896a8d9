/// Derivatives of the workspace's graph: every method here builds (or reuses) a
/// derivative graph and evaluates it. Nothing outside the core differentiates.
struct ReverseKey: Equatable, Sendable {
    var version: Int
    var output: NodeID
    var seeded: Bool
    var wrt: Set<NodeID>?
    /// Whether the pass wants numbers only (a ``ScalarTape`` where the graph allows one).
    var numbersOnly = false
}

extension Workspace {
    /// The nodes marked for recomputation, resolved against the current graph.
    public var rematNodes: Set<NodeID> {
        guard rematAll else { return remat }
        return Set((0..<graph.count).filter { !graph[$0].isLeaf })
    }

    /// The reverse graph of `output`, built once per graph version and reused while only
    /// leaf values change (training steps, redefinitions of a leaf with a value of its shape).
    /// With `wrt`, only the gradients of those nodes are built (training needs the params',
    /// not the data's).
    public mutating func reverseGraph(of output: NodeID, seeded: Bool, wrt: Set<NodeID>? = nil) throws(EvaluationError) -> ReverseGraph {
        let key = ReverseKey(version: version, output: output, seeded: seeded, wrt: wrt)
        if let cached = derivativeCache, cached.key == key { return cached.graph }
        // The reverse graph's nodes count against the memory limit as they are made; their values, below.
        let built = try ReverseMode.build(graph, output: output, wrt: wrt, seeded: seeded, remat: rematNodes,
                                          maximumNodes: derivativeNodeBudget,
                                          refusal: { passRefusal(nodes: $0, bytes: nil) }, shouldStop: shouldStop)
        derivativeCache = (key, built)
        reverseBuilds &+= 1
        return built
    }

    /// The reverse pass of the scalar `output` for its numbers only: a ``ScalarTape`` where
    /// the graph allows one (``ReverseMode/buildNumbers(_:output:wrt:maximumNodes:refusal:shouldStop:)``),
    /// else the reverse graph. Built once per graph version; a reverse graph already built for
    /// the same output serves as well.
    mutating func numbersGraph(of output: NodeID, wrt: Set<NodeID>? = nil) throws(EvaluationError) -> ReverseGraph {
        let key = ReverseKey(version: version, output: output, seeded: false, wrt: wrt, numbersOnly: true)
        if let cached = derivativeCache {
            var asGraph = key
            asGraph.numbersOnly = false
            if cached.key == key || cached.key == asGraph { return cached.graph }
        }
        let built = try ReverseMode.buildNumbers(graph, output: output, wrt: wrt, maximumNodes: derivativeNodeBudget,
                                                 refusal: { passRefusal(nodes: $0, bytes: nil) }, shouldStop: shouldStop)
        derivativeCache = (key, built)
        reverseBuilds &+= 1
        return built
    }

    /// Runs the reverse pass from `output` (forward first if needed): builds the reverse
    /// graph and evaluates it. The seed defaults to 1 for a scalar output; any other output
    /// is seeded with `seed` or, without one, with ones. Without contributions to record, a
    /// scalar output's gradients come from a tape of the same nodes (``numbersGraph(of:wrt:)``).
    public mutating func gradients(of output: NodeID, seed: Tensor? = nil, wrt: Set<NodeID>? = nil,
                                   recordContributions: Bool = false) throws(EvaluationError) -> Gradients {
        let y = try value(of: output)
        let seeded = !(y.isScalar && (seed == nil || seed == Tensor(1)))
        if !seeded && !recordContributions {
            let numbers = try numbersGraph(of: output, wrt: wrt)
            // The tape is charged as the graph would be; past the limit the graph's pass refuses.
            if let tape = numbers.tape, storedBytes + tape.count * (8 + Workspace.nodeBytes) <= memoryLimit {
                let values = try tape.evaluate(forward: evaluation, shouldStop: shouldStop)
                return numbers.gradients(forward: evaluation, tape: values)
            }
        }
        let reverse = try reverseGraph(of: output, seeded: seeded, wrt: wrt)
        try checkMemory(ofPass: reverse.graph, from: reverse.base)
        let values = try reverse.evaluate(forward: evaluation,
                                          seed: seeded ? seed ?? Tensor(repeating: 1, shape: y.shape) : nil,
                                          shouldStop: shouldStop)
        return reverse.gradients(values, contributions: recordContributions)
    }

    /// The tangent graph from `input` to `output`, evaluated along `direction`.
    public mutating func tangents(of output: NodeID, wrt input: NodeID,
                                  direction: Tensor) throws(EvaluationError) -> (graph: TangentGraph, values: Evaluation) {
        _ = try value(of: output)
        let tangent = try ForwardMode.build(graph, input: input, output: output, shouldStop: shouldStop)
        try checkMemory(ofPass: tangent.graph, from: graph.count)
        return (tangent, try tangent.evaluate(forward: evaluation, direction: direction, shouldStop: shouldStop))
    }
}
