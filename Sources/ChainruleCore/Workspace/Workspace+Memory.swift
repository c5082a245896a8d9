import CAllocator

/// The memory budget: a running total of the bytes the graph's values occupy.
extension Workspace {
    /// Bytes the values of nodes `from…` take once computed: eight per element.
    static func valueBytes(_ graph: Graph, from start: NodeID) -> Int {
        var total = 0
        for id in start..<graph.count {
            total += 8 * (Limits.product(graph[id].shape, limit: Limits.elements) ?? Limits.elements)
        }
        return total
    }

    func checkMemory(_ bytes: Int, for name: String, at span: SourceSpan) throws(Diagnostic) {
        guard bytes > memoryLimit else { return }
        var (total, limit) = (Workspace.byteText(bytes), Workspace.byteText(memoryLimit))
        if total == limit { (total, limit) = ("\(bytes) bytes", "\(memoryLimit) bytes") }
        throw Diagnostic("defining '\(name)' would bring the graph's values to \(total), more than the memory limit of \(limit); remove definitions or raise the limit with ':set memory'", at: span)
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
