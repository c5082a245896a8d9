/// Running a checked script: each definition of a new name by a plain formula has its nodes
/// appended as it is read (``GraphBuilder``); every other statement is read again as a tree.
extension Workspace {
    /// The statements of a script that checked without errors, read for one workspace
    /// (``read(_:)``).
    public struct ScriptReader {
        var grammar: Grammar<GraphBuilder>
        /// How many of the statements are definitions (to make room for their names at once).
        public let definitions: Int
        /// Whether definitions are defined as they are read; when false, every statement is
        /// returned as a tree and nothing changes.
        public var defines: Bool {
            get { grammar.build.enabled }
            set { grammar.build.enabled = newValue }
        }

        /// Reads the statements `checked` gives, from its first.
        public init(_ checked: Parser.StatementReader) {
            grammar = Grammar(source: checked.source, tokens: checked.tokens, build: GraphBuilder(source: checked.source))
            definitions = checked.definitions
        }
    }

    /// What reading one statement did.
    public enum ReadStatement {
        /// A new name was defined as the statement was read.
        case defined(name: String, range: SourceRange)
        /// A statement to run, read as a tree.
        case statement(Statement)
        /// A definition refused as it was read: its nodes and values would pass the memory limit
        /// (the same error ``define(_:in:)`` gives, without reading the statement again as a tree).
        case refused(Diagnostic)
        /// A statement that could not be read again from its text (never expected).
        case unreadable(Diagnostic)

        public var range: SourceRange {
            switch self {
            case .defined(_, let range): range
            case .statement(let statement): statement.range
            case .refused(let diagnostic), .unreadable(let diagnostic): diagnostic.span?.range ?? SourceRange(0, 0)
            }
        }
    }

    /// Reads the next statement of `reader`: a definition of a new name by a plain formula is
    /// defined as it is read (what ``define(_:in:)`` would make of it, with no tree made);
    /// anything else is returned as a tree, to run. Nil after the last statement.
    public mutating func read(_ reader: inout ScriptReader) -> ReadStatement? {
        // The graph is lent to the reader while it reads one statement.
        swap(&reader.grammar.build.lowering.graph, &graph)
        let read = reader.grammar.nextStatement()
        swap(&reader.grammar.build.lowering.graph, &graph)
        let source = reader.grammar.source
        let range: SourceRange
        switch read {
        case nil:
            return nil
        case .lowered(let definition)?:
            let name = Lexer.text(source, definition.nameRange)
            var dependencies: [String] = []
            swap(&dependencies, &reader.grammar.build.dependencies)
            let leaf = definition.root < 0 ? reader.grammar.build.leafValue.take() : nil
            do throws(Diagnostic) {
                if try complete(definition, named: name, dependencies: dependencies, leaf: leaf, in: source) {
                    return .defined(name: name, range: definition.range)
                }
            } catch {
                graph.truncate(to: definition.firstNode)
                return .refused(error)
            }
            // Not a new name: read again, and defined or refused as a tree.
            graph.truncate(to: definition.firstNode)
            range = definition.range
        case .reread(let statementRange)?:
            range = statementRange
        }
        guard let statement = Parser.statement(in: source, range: range) else {
            return .unreadable(Diagnostic("this statement cannot be read again from its text", at: SourceSpan(source, range)))
        }
        return .statement(statement)
    }

    /// Records a definition read as it was lowered — a formula whose nodes were appended, or
    /// a leaf and its value — naming its node, as ``define(_:in:)`` records one; false
    /// (changing nothing but the nodes, which the caller drops) when it is not a new name; throws
    /// (changing nothing but the nodes) when its nodes and values would pass the memory limit.
    private mutating func complete(_ definition: LoweredDefinition, named name: String, dependencies: [String],
                                   leaf value: Tensor?, in source: Source) throws(Diagnostic) -> Bool {
        guard value != nil || definition.root >= 0 else { return false }
        // The name's place in the table of definitions, claimed now (one lookup), given back if refused.
        guard entries.claim(name).isNew else { return false }
        let span = SourceSpan(source, definition.range)
        let entry: Entry
        var id = definition.root
        if let value {
            entry = Entry(name: name, kind: definition.kind, formulaRange: nil, value: value, dependencies: [], span: span)
            id = graph.append(.constant, EmptyCollection(), shape: value.shape, kind: entry.nodeKind, value: value,
                              origin: span)
        } else {
            entry = Entry(name: name, kind: .formula, formulaRange: definition.formulaRange, value: nil,
                          dependencies: dependencies, span: span)
            if graph[id].hasName || id < definition.firstNode {
                // The formula is another node (`y = x`): give the name its own node.
                id = graph.append(.identity, CollectionOfOne(id), shape: graph[id].shape, kind: .op,
                                  origin: SourceSpan(source, definition.formulaRange))
            }
        }
        let added = Workspace.storageBytes(graph, from: definition.firstNode) + Workspace.definitionBytes
        do { try checkMemory(storedBytes + added, for: name, at: span) } catch {
            entries.release(name)
            throw error
        }
        structureChanged()
        graph.setName(name, of: id)
        if graph[id].isLeaf { graph.setKind(entry.nodeKind, of: id) }
        entries.fill(entry)
        storedBytes += added
        return true
    }
}
