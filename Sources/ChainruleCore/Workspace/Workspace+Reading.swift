/// Running a checked script: each statement is read as a tree, once, and run; a definition
/// of a new name is defined here as it is read.
extension Workspace {
    /// The statements of a script that checked without errors, read for one workspace
    /// (``read(_:)``).
    public struct ScriptReader {
        var statements: Parser.StatementReader
        /// How many of the statements are definitions (to make room for their names at once).
        public let definitions: Int
        /// Whether definitions of new names are defined as they are read; when false, every
        /// statement is returned as a tree and nothing changes.
        public var defines = true
        /// The ids of the names the statement just read refers to (scratch, kept between statements).
        var found: [(start: Int, nameID: Int32)] = []

        /// Reads the statements `checked` gives, from its first.
        public init(_ checked: Parser.StatementReader) {
            statements = checked
            definitions = checked.definitions
        }
    }

    /// What reading one statement did.
    public enum ReadStatement {
        /// A new name was defined as the statement was read.
        case defined(name: String, range: SourceRange)
        /// A statement to run.
        case statement(Statement)
        /// A definition of a new name refused as it was read (the error ``define(_:in:)`` gives).
        case refused(Diagnostic, range: SourceRange)

        public var range: SourceRange {
            switch self {
            case .defined(_, let range): range
            case .statement(let statement): statement.range
            case .refused(_, let range): range
            }
        }
    }

    /// Reads the next statement of `reader`: a definition of a new name is defined as it is
    /// read; anything else is returned, to run. Nil after the last statement.
    public mutating func read(_ reader: inout ScriptReader) -> ReadStatement? {
        guard reader.defines else { return reader.statements.next().map(ReadStatement.statement) }
        // The formula is kept as the grammar wrote it while reading; dropped unless a new
        // definition keeps it.
        let mark = definitions.formulas.beginFormula()
        guard let statement = reader.statements.next(recordingInto: &definitions.formulas, names: &graph, found: &reader.found) else {
            definitions.formulas.drop(since: mark)
            return nil
        }
        guard case .definition(let definition) = statement,
              definitions.position(of: graph.nameID(definition.name)) == nil else {
            definitions.formulas.drop(since: mark)
            return .statement(statement)
        }
        let records = definitions.formulas.records(since: mark)
        do throws(Diagnostic) {
            try define(definition, in: reader.statements.source, kept: records, names: reader.found)
            if let position = definitions.position(of: graph.nameID(definition.name)),
               definitions[position].formula != records {
                definitions.formulas.drop(since: mark)
            }
            return .defined(name: definition.name, range: definition.range)
        } catch {
            definitions.formulas.drop(since: mark)
            return .refused(error, range: definition.range)
        }
    }
}
