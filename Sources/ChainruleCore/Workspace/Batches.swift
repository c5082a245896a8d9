/// Minibatches: which rows of the data a training step sees.
///
/// At each step `B` distinct rows of `N` are drawn by a partial Fisher–Yates shuffle of a
/// permutation that carries over from step to step (it starts as `0, 1, …, N − 1`): for
/// `i` in `0 ..< B`, `j = i + next() mod (N − i)` with ``SeededRandom`` seeded once, and
/// entries `i` and `j` are swapped; the batch is the first `B` entries, in that order. The
/// same seed gives the same batches on every machine.
public struct BatchSampler: Sendable {
    public let rows: Int
    public let size: Int
    private var permutation: [Int]
    private var random: SeededRandom

    public init(rows: Int, size: Int, seed: UInt64) {
        self.rows = rows
        self.size = min(size, rows)
        permutation = Array(0..<rows)
        random = SeededRandom(seed: seed)
    }

    /// The rows of the next step's batch.
    public mutating func next() -> ArraySlice<Int> {
        for i in 0..<size {
            let j = i + Int(random.next() % UInt64(rows - i))
            permutation.swapAt(i, j)
        }
        return permutation[..<size]
    }

    /// The rows `indices` of `data` along its first axis, as a tensor of `indices.count` rows.
    public static func rows(_ indices: ArraySlice<Int>, of data: Tensor) -> Tensor {
        let shape = data.shape
        let width = shape.dropFirst().reduce(1, *)
        var out = Tensor.zeros([indices.count] + shape.dropFirst())
        for (k, row) in indices.enumerated() {
            for e in 0..<width { out.scalars[k * width + e] = data.scalars[row * width + e] }
        }
        return out
    }
}

extension Workspace {
    /// A copy in which the leaves named hold new values of any shape (the rows of a minibatch):
    /// the graph is built again from the definitions. Throws the problem of `target` when it
    /// no longer evaluates with them.
    public func withLeafValues(_ values: [(name: String, value: Tensor)], target: String) throws(Diagnostic) -> Workspace {
        var result = self
        for (name, value) in values {
            guard let position = result.definitions.position(of: result.graph.nameID(name)),
                  result.definitions[position].isLeaf else { continue }
            var candidate = result
            candidate.rebuild(from: result, editing: position, formula: nil, value: value)
            result = candidate
        }
        if let problem = result.broken[target] { throw problem }
        result.trainingPlan = nil
        return result
    }
}
