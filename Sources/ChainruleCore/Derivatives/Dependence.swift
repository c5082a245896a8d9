/// Which nodes an output depends on at all: it reads some element of theirs, whatever the
/// values. SPEC §5 gives a node the output does not depend on no gradient (`null`), and a node
/// it depends on a gradient, zero or not; this is the one rule for telling them apart.
///
/// A node is walked element by element where an op reads only some elements (indexing) and
/// another hands different elements to different inputs (stacking): `[w, c][0]` depends on `w`
/// alone, and so does `grad(sum([w, c]^2), w)`, which is `(2·[w, c])[0]`, as `grad(w^2 + 3·c, w)`
/// does. A node reached through a zero derivative (`step(c)`, `0·c`, `c − c`) is read, so it
/// depends. Which elements an op reads is its family's ``OpFamily/reading(input:)``.
enum Dependence {
    /// For each node up to `output`, whether `output` reads some element of it along arguments
    /// that are differentiated at all. A node is read whole unless `masks` holds the elements
    /// read (1 where read): the walk keeps a mask only for nodes of which some elements are
    /// read, and drops it once the node is passed.
    static func reached(_ graph: Graph, output: NodeID) -> [Bool] {
        var reached = Array(repeating: false, count: output + 1)
        var masks: [NodeID: Tensor] = [:]
        reached[output] = true
        let elementwise = graph.elementwiseOps
        for id in stride(from: output, through: 0, by: -1) where reached[id] {
            // An elementwise op differentiates every argument and reads each whole (what the walk
            // below finds for it), read off the columns: the commonest case, with nothing made.
            if masks.isEmpty, let inputs = graph.elementwiseInputs(of: id, elementwise) {
                for k in inputs.range { reached[Int(inputs.store.pool[k])] = true }
                continue
            }
            let inputs = graph.inputs(of: id)
            if inputs.isEmpty { continue }
            let op = graph[id].op
            let shapes = ReverseMode.argumentShapes(op, inputs, graph)
            let mask = masks.isEmpty ? nil : masks.removeValue(forKey: id)
            for (k, input) in inputs.enumerated() where op.differentiates(argument: k, shapes: shapes) {
                if reached[input] && (masks.isEmpty || masks[input] == nil) { continue }  // read whole already
                let reading = op.reading(input: k)
                if mask == nil && (reading != .selectively || graph[input].isLeaf) {
                    // Every element read by some output element; of a leaf only whether any is read matters.
                    reached[input] = true
                    if !masks.isEmpty { masks[input] = nil }
                    continue
                }
                let read = elementsRead(of: id, op: op, reading: reading, input: k, mask: mask, graph: graph)
                merge(read, into: input, &reached, &masks)
            }
        }
        return reached
    }

    /// The elements of input `k` of node `id` read by the elements of the node in `mask`
    /// (1 where read; nil: every element of the node), as a 0/1 tensor of the input's shape.
    private static func elementsRead(of id: NodeID, op: Op, reading: ElementReading, input k: Int,
                                     mask: Tensor?, graph: Graph) -> Tensor {
        let inputs = graph.inputs(of: id)
        let own = graph[id].shape, shape = graph[inputs[k]].shape
        let read = mask ?? Tensor(repeating: 1, shape: own)
        switch reading {
        case .everything:
            return Tensor(repeating: 1, shape: shape)
        case .elementwise:
            return marks(Broadcast.reduce(read, to: shape))
        case .rows:
            guard shape == own, let width = own.last, width > 0 else { return Tensor(repeating: 1, shape: shape) }
            var rows = read
            for start in stride(from: 0, to: rows.count, by: width) {
                let any = rows.scalars[start..<(start + width)].contains { $0 != 0 }
                for i in start..<(start + width) { rows.scalars[i] = any ? 1 : 0 }
            }
            return rows
        case .asPulledBack, .selectively:
            // The op's own reverse rule (``LocalDerivative``) routing the mask, with every argument
            // 1: a linear op moves the mask as it moves a gradient; a product of ones counts the
            // elements each one meets. Were the rule not to evaluate, every element counts as read
            // (a gradient of zero, not a missing one).
            let ones = inputs.map { Tensor(repeating: 1, shape: graph[$0].shape) }
            let routed = LocalDerivative.contributionOrNaN(op: op, inputs: ones, output: Tensor(repeating: 1, shape: own),
                                                           argument: k, seed: read)
            return marks(routed)
        }
    }

    /// 1 where `counts` is not zero, else 0, in place.
    private static func marks(_ counts: Tensor) -> Tensor {
        var result = counts
        result.scalars.withUnsafeMutableBufferPointer { r in
            for i in r.indices { r[i] = r[i] != 0 ? 1 : 0 }
        }
        return result
    }

    /// Adds the elements in `read` to what is read of node `id`.
    private static func merge(_ read: Tensor, into id: NodeID, _ reached: inout [Bool], _ masks: inout [NodeID: Tensor]) {
        var union = read
        if reached[id], let previous = masks[id] { union = previous.zipMap(read) { Swift.max($0, $1) } }
        if !union.scalars.contains(0) {
            reached[id] = true
            masks[id] = nil
        } else if union.scalars.contains(1) {
            reached[id] = true
            masks[id] = union
        }
    }
}
