/// One op's derivative rule evaluated on its own, at given values: the contribution
/// `ḡ · ∂node/∂input_k` that the reverse graph sends along one edge, for any `ḡ`.
///
/// It is built as every reverse graph is: a small graph of named leaves holding the inputs,
/// the op's node holding the output, and that node's reverse graph (``ReverseMode/build(_:output:wrt:seeded:remat:maximumNodes:refusal:shouldStop:)``)
/// seeded by a leaf of the output's shape. What is shown of a derivative — a local Jacobian
/// (``LocalJacobian``), a path's factors (`:explain`), which elements an op reads
/// (``Dependence``) — is this rule evaluated, so it is the rule that moves every gradient:
/// there is no second formula to drift from it.
public struct LocalDerivative: Sendable {
    private let reverse: ReverseGraph
    private let forward: Evaluation
    /// The gradient node of the leaf that holds input `k`, or nil when the rule sends it
    /// nothing (a zero derivative, as out of `step`, or an argument that is not differentiated).
    private let gradient: NodeID?
    private let inputShape: [Int]

    /// The rule of `op` for argument `k`, at `inputs` and the `output` they gave.
    public init(op: Op, inputs: [Tensor], output: Tensor, argument k: Int) throws(EvaluationError) {
        var graph = Graph()
        var values = Evaluation()
        for (j, x) in inputs.enumerated() {
            // Named, so that no rule folds a leaf away as a literal (nor its value into a constant).
            let id = graph.append(.constant, EmptyCollection(), shape: x.shape, kind: .input, value: x)
            graph.setName("x\(j)", of: id)
            values.set(id, x)
        }
        let node = graph.append(op, 0..<inputs.count, shape: output.shape, kind: .op)
        values.set(node, output)
        reverse = try ReverseMode.build(graph, output: node, wrt: [k], seeded: true)
        forward = values
        gradient = reverse.gradient[k]
        inputShape = inputs[k].shape
    }

    /// `seed · ∂node/∂input_k`, of the input's shape, where `seed` has the output's shape.
    public func contribution(_ seed: Tensor) throws(EvaluationError) -> Tensor {
        guard let gradient else { return Tensor.zeros(inputShape) }
        let values = try reverse.evaluate(forward: forward, seed: seed)
        // Every node of the reverse graph has been computed; were one missing, NaN says so.
        return values[gradient] ?? Tensor(repeating: .nan, shape: inputShape)
    }

    /// ``contribution(_:)``, or NaN in every element where the rule could not be evaluated (a
    /// state the forward pass already refused): a visibly wrong value, never a plausible zero.
    func contributionOrNaN(_ seed: Tensor) -> Tensor {
        do {
            return try contribution(seed)
        } catch {
            return Tensor(repeating: .nan, shape: inputShape)
        }
    }

    /// ``contributionOrNaN(_:)`` of a rule built for the purpose.
    static func contributionOrNaN(op: Op, inputs: [Tensor], output: Tensor, argument k: Int, seed: Tensor) -> Tensor {
        do {
            return try LocalDerivative(op: op, inputs: inputs, output: output, argument: k).contribution(seed)
        } catch {
            return Tensor(repeating: .nan, shape: inputs[k].shape)
        }
    }
}
