/// The workspace's definitions: each parsed once and kept in a compact form, found by the id
/// of its name in the workspace's one name table (the graph's, ``NameTable``).
///
/// A definition holds no copy of anything the graph holds: a leaf's value is its node's, and
/// its formula is kept as records of a ``FormulaStore``, read back as a tree only to be
/// lowered again or printed.
public struct Definitions: Sendable {
    /// One `name = …` as the user wrote it.
    struct Record: Sendable {
        var nameID: Int32
        var kind: DefinitionKind
        /// The formula's records, for definitions that refer to other nodes; nil for a leaf.
        var formula: Range<Int32>?
        /// The names the formula refers to (ids), in order of first use: `pool[dependencies]`.
        var dependencies: Range<Int32>
        /// The whole definition, for messages.
        var span: SourceSpan
        /// A module's parameters (name ids), in order: `pool[parameters]`.
        var parameters: Range<Int32> = 0..<0

        var isLeaf: Bool { formula == nil }
        var nodeKind: NodeKind {
            switch kind {
            case .param: .param
            case .input: .input
            case .formula: isLeaf ? .input : .op
            case .module: .op
            }
        }
    }

    private(set) var records: [Record] = []
    /// For each definition, the first of its nodes in the graph (its nodes are contiguous, its
    /// root the last); -1 while it does not fit (a broken definition has no nodes). Kept apart
    /// from the records, which an edit does not change: an edit rewrites these alone.
    private(set) var firsts: [Int32] = []
    /// The position of each name's definition, by name id (-1: none).
    private var positions: [Int32] = []
    /// Every definition's dependencies, as name ids.
    private(set) var pool: [Int32] = []
    var formulas = FormulaStore()
    /// Definitions that do not currently fit, by position, with the reason.
    var problems: [Int32: Diagnostic] = [:]

    init() {}

    public var count: Int { records.count }

    subscript(position: Int) -> Record {
        get { records[position] }
        set { records[position] = newValue }
    }

    /// The position of the definition of the name of id `nameID`.
    @inline(__always)
    func position(of nameID: Int32?) -> Int? {
        guard let nameID, nameID >= 0, Int(nameID) < positions.count else { return nil }
        let p = positions[Int(nameID)]
        return p < 0 ? nil : Int(p)
    }

    /// The dependencies of the definition at `position`, as name ids.
    func dependencies(of position: Int) -> ArraySlice<Int32> {
        let range = records[position].dependencies
        return pool[Int(range.lowerBound)..<Int(range.upperBound)]
    }

    /// The first node of the definition at `position` (-1: none).
    func first(_ position: Int) -> Int32 { firsts[position] }

    mutating func setFirst(_ first: Int32, of position: Int) { firsts[position] = first }

    mutating func reserveCapacity(_ count: Int) {
        records.reserveCapacity(records.count + count)
        firsts.reserveCapacity(firsts.count + count)
        positions.reserveCapacity(positions.count + count)
    }

    /// Keeps dependencies, returning where they are.
    mutating func keep(dependencies: [Int32]) -> Range<Int32> {
        let start = Int32(truncatingIfNeeded: pool.count)
        pool += dependencies
        return start..<Int32(truncatingIfNeeded: pool.count)
    }

    /// Adds a definition after the others (its name has none yet), returning its position.
    @discardableResult
    mutating func append(_ record: Record, first: Int32) -> Int {
        let n = Int(record.nameID)
        if positions.count <= n { positions += repeatElement(-1, count: Swift.max(n + 1, 2 * positions.count) - positions.count) }
        positions[n] = Int32(truncatingIfNeeded: records.count)
        records.append(record)
        firsts.append(first)
        return records.count - 1
    }

    /// Bytes the definition at `position` keeps besides its nodes.
    static let recordBytes = MemoryLayout<Record>.stride + 4

    /// Definitions ordered so that each comes after what it refers to; ties keep definition
    /// order (positions).
    func dependencyOrder() -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(records.count)
        // 0: not seen, 1: in progress, 2: done.
        var state = [UInt8](repeating: 0, count: records.count)
        var stack: [(position: Int, next: Int)] = []
        for root in records.indices where state[root] == 0 {
            stack.append((root, 0))
            state[root] = 1
            while let (position, next) = stack.last {
                let dependencies = records[position].dependencies
                if next < dependencies.count {
                    stack[stack.count - 1].next += 1
                    let nameID = pool[Int(dependencies.lowerBound) + next]
                    if let d = self.position(of: nameID), state[d] == 0 {
                        state[d] = 1
                        stack.append((d, 0))
                    }
                } else {
                    stack.removeLast()
                    state[position] = 2
                    result.append(Int32(truncatingIfNeeded: position))
                }
            }
        }
        return result
    }
}

extension Workspace {
    /// One definition, read in place: its formula and value are read on demand.
    public struct Entry: Sendable {
        let record: Definitions.Record
        let definitions: Definitions
        let graph: Graph

        public var name: String { graph.name(ofID: record.nameID) }
        public var kind: DefinitionKind { record.kind }
        public var isLeaf: Bool { record.isLeaf }
        public var nodeKind: NodeKind { record.nodeKind }
        public var span: SourceSpan { record.span }
        /// The names the formula refers to, in order of first use.
        public var dependencies: [String] {
            definitions.pool[Int(record.dependencies.lowerBound)..<Int(record.dependencies.upperBound)].map(graph.name(ofID:))
        }
        /// Whether this is a module (`name(x, …) = …`), with no node of its own.
        public var isModule: Bool { record.kind == .module }
        /// A module's parameters, in order (empty for anything else).
        public var parameters: [String] {
            definitions.pool[Int(record.parameters.lowerBound)..<Int(record.parameters.upperBound)].map(graph.name(ofID:))
        }
        /// The formula, as a tree (nil for a leaf).
        public var formula: Expr? {
            record.formula.flatMap { definitions.formulas.expression($0, names: graph.name(ofID:)) }
        }
        /// A leaf's value: its node's (the one copy).
        public var value: Tensor? {
            guard record.isLeaf, let id = graph.node(nameID: record.nameID) else { return nil }
            return graph[id].value
        }
    }

    /// The definitions, by name, in the order their names were first defined.
    public struct Entries: Sendable, RandomAccessCollection {
        let definitions: Definitions
        let graph: Graph

        public var startIndex: Int { 0 }
        public var endIndex: Int { definitions.count }
        public subscript(position: Int) -> Entry {
            Entry(record: definitions[position], definitions: definitions, graph: graph)
        }
        public subscript(name: String) -> Entry? {
            guard let p = definitions.position(of: graph.nameID(name)) else { return nil }
            return self[p]
        }
        public func contains(_ name: String) -> Bool { definitions.position(of: graph.nameID(name)) != nil }
        public var values: [Entry] { Array(self) }
    }

    /// The names of the definitions, in the order they were first defined, read in place.
    public struct Names: RandomAccessCollection, Sendable {
        let definitions: Definitions
        let graph: Graph
        public var startIndex: Int { 0 }
        public var endIndex: Int { definitions.count }
        public subscript(position: Int) -> String { graph.name(ofID: definitions[position].nameID) }
    }

    /// Definitions that do not currently fit, by name, with the reason.
    public struct Broken: Sendable {
        let definitions: Definitions
        let graph: Graph
        public subscript(name: String) -> Diagnostic? {
            guard !definitions.problems.isEmpty, let p = definitions.position(of: graph.nameID(name)) else { return nil }
            return definitions.problems[Int32(truncatingIfNeeded: p)]
        }
        public var count: Int { definitions.problems.count }
        public var isEmpty: Bool { definitions.problems.isEmpty }
    }

    public var entries: Entries { Entries(definitions: definitions, graph: graph) }
    /// Names in the order they were first defined.
    public var order: Names { Names(definitions: definitions, graph: graph) }
    public var broken: Broken { Broken(definitions: definitions, graph: graph) }
}
