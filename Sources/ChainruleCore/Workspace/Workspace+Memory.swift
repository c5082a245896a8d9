import CAllocator

/// The memory budget: a running total of what the graph takes, and a check of what each
/// derivative pass would add before it is made.
///
/// A node is charged its value (eight bytes an element) and ``nodeBytes`` for itself; a
/// definition ``definitionBytes`` more. The two charges are set from measured peaks (`/usr/bin/time`,
/// release build): a script of one-node definitions (`v2 = -v1`) took 366 bytes a node, a
/// formula of 10⁷ terms 71 bytes a node, and its reverse pass 124 bytes more a term.
extension Workspace {
    /// Bytes charged for each node besides its value: the node store's columns, its slot in an
    /// evaluation, and what a reverse pass keeps for it (liveness, gradient and edge tables).
    public static let nodeBytes = 128
    /// Bytes charged for each definition besides its nodes: its entry, its name in the tables,
    /// its list of dependencies and its share of the source text kept.
    public static let definitionBytes = 320

    /// Bytes charged for nodes `from…`: their values once computed and ``nodeBytes`` each.
    static func storageBytes(_ graph: Graph, from start: NodeID) -> Int {
        var total = 0
        // Each shape's size found once (a graph has few shapes), each node read by its shape's id.
        var sizes: [Int32: Int] = [:]
        for id in start..<graph.count {
            let (store, i) = graph.locate(id)
            let shape = store.shapeIDs[i]
            let elements = shape == 0 ? 1 : sizes[shape] ?? {
                let n = Limits.product(store.shapeTable[Int(shape)], limit: Limits.elements) ?? Limits.elements
                sizes[shape] = n
                return n
            }()
            total += 8 * elements + nodeBytes
        }
        return total
    }

    func checkMemory(_ bytes: Int, for name: String, at span: SourceSpan) throws(Diagnostic) {
        guard bytes > memoryLimit else { return }
        var (total, limit) = (Workspace.byteText(bytes), Workspace.byteText(memoryLimit))
        if total == limit { (total, limit) = ("\(bytes) bytes", "\(memoryLimit) bytes") }
        throw Diagnostic("defining '\(name)' would bring the graph to \(total), more than the memory limit of \(limit); remove definitions or raise the limit with ':set memory'", at: span)
    }

    /// The most nodes a derivative graph built over this graph may add within the memory limit.
    var derivativeNodeBudget: Int {
        max(0, memoryLimit - storedBytes) / Workspace.nodeBytes
    }

    /// Refuses a derivative graph (ids `base…` of `derivative`) whose nodes and values would take
    /// the graph past the memory limit, before any of its values is computed.
    func checkMemory(ofPass derivative: Graph, from base: Int) throws(EvaluationError) {
        let added = Workspace.storageBytes(derivative, from: base)
        guard storedBytes + added > memoryLimit else { return }
        throw .failed(passRefusal(nodes: derivative.count - base, bytes: added))
    }

    /// The message for a derivative past the memory limit: how much it would take, and what to do.
    func passRefusal(nodes: Int, bytes: Int?) -> Diagnostic {
        let size = bytes.map { "\(Workspace.byteText($0)) for its \(nodes) nodes and their values" } ?? "more than \(nodes) nodes"
        return Diagnostic("the derivative would take \(size), on top of the graph's \(Workspace.byteText(storedBytes)), more than the memory limit of \(Workspace.byteText(memoryLimit)); raise the limit with ':set memory'", at: nil)
    }

    /// `1.5 GB`, `300 MB`, `12 KB`, `100 B` (decimal units).
    public static func byteText(_ bytes: Int) -> String {
        let units: [(Int, String)] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")]
        for (size, name) in units where bytes >= size {
            let tenths = (bytes / size) * 10 + (bytes % size) * 10 / size
            return tenths % 10 == 0 ? "\(tenths / 10) \(name)" : "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return "\(bytes) B"
    }
}

/// How the process asks the C allocator for memory.
public enum Allocator {
    /// Blocks up to 64 MB come from the heap, and up to 128 MB of freed heap is kept for
    /// reuse instead of being given back to the system at once. glibc's default maps each
    /// block above a threshold that it moves with the last block freed, so a pass run again
    /// (`:grad` twice, a reverse pass's buffers of tens of megabytes) often got fresh pages,
    /// whose faults cost about as much as the pass itself; peak memory is unchanged.
    /// Whether the allocator took both settings.
    @discardableResult
    public static func keepLargeBlocks() -> Bool {
        mallopt(M_MMAP_THRESHOLD, 64 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 128 << 20) == 1
    }
}
