import ChainruleCore

/// `:train … batch=B`: the data leaves sampled, and the copy of the workspace that trains on B rows.
struct BatchSetup {
    /// What a kept minibatch copy was made for: the workspace's version and leaf edits, the
    /// leaves and the batch size.
    struct Key: Equatable {
        var version: Int
        var edits: Int
        var leaves: [String]
        var size: Int
    }

    /// The `input` leaves whose first axis is the batch axis, in definition order, and their data.
    var leaves: [String]
    var data: [Tensor]
    var rows: Int
    var size: Int
    /// The workspace with each leaf holding its first `size` rows.
    var space: Workspace

    func key(version: Int, edits: Int) -> Key { Key(version: version, edits: edits, leaves: leaves, size: size) }
}

extension Session {
    /// The batch axis of `loss`: axis 0 of every `input` leaf it depends on whose first axis has
    /// the most rows of all such leaves (data of N rows, a target of N rows).
    func batchSetup(loss: NodeID, size: Int, at span: SourceSpan) throws(Diagnostic) -> BatchSetup {
        let ancestors = workspace.graph.ancestors(of: loss)
        var candidates: [(name: String, value: Tensor)] = []
        for name in workspace.order {
            guard workspace.entries[name]?.kind == .input, let id = workspace.graph.node(named: name), id <= loss, ancestors[id],
                  let value = workspace.entries[name]?.value, !value.isScalar else { continue }
            candidates.append((name, value))
        }
        guard let rows = candidates.map({ $0.value.shape[0] }).max() else {
            throw Diagnostic("batch= samples rows of the input leaves, and the loss depends on no input of rank 1 or more", at: span)
        }
        guard size <= rows else {
            throw Diagnostic("batch=\(size) is more than the \(rows) rows of the batch axis (axis 0 of \(candidates.filter { $0.value.shape[0] == rows }.map(\.name).joined(separator: ", ")))", at: span)
        }
        let sampled = candidates.filter { $0.value.shape[0] == rows }
        let first = sampled.map { ($0.name, BatchSampler.rows(Array(0..<size)[...], of: $0.value)) }
        let name = workspace.graph[loss].name ?? "%\(loss)"
        let space: Workspace
        do {
            space = try workspace.withLeafValues(first, target: name)
        } catch {
            throw Diagnostic("with \(size) of the \(rows) rows of \(sampled.map(\.name).joined(separator: ", ")), \(name) does not evaluate: \(error.message)", at: span, notes: [error])
        }
        return BatchSetup(leaves: sampled.map(\.name), data: sampled.map(\.value), rows: rows, size: size, space: space)
    }

    /// The optimizer state kept in the minibatch copy that a `:train` with `batch` would go on from.
    func batchState(_ batch: BatchSetup?, loss: NodeID, params: [String]) -> (method: Optimizer.Method, steps: Int)? {
        guard let batch, let store = batchStore, store.key == batch.key(version: workspace.version, edits: workspace.valueEdits),
              let name = workspace.graph[loss].name, let id = store.space.graph.node(named: name) else { return nil }
        return store.space.keptOptimizerState(loss: id, params: params)
    }
}
