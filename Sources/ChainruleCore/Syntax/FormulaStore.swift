/// The formulas of a workspace, each parsed once and kept in a compact form: one record per
/// syntax node, in postfix order, in columns shared by every formula. Names are ids of the
/// workspace's one name table; numbers and strings sit in side tables.
///
/// A formula is read back as a tree (``expression(_:names:)``) when it is lowered again (a
/// shape it depends on changed) or printed; nothing is ever read again from the text.
/// Both directions use one explicit stack: no formula the parser accepts can exhaust the stack.
struct FormulaStore: Sendable {
    /// What a record is. Markers (`link`, `keyword`, `at`, `slice`) follow the operand they carry.
    enum Tag: UInt8, Sendable {
        case number, string, name, list, negate, binary, chain, link, call, keyword, index, at, slice, transpose
    }

    private var tags: [Tag] = []
    /// The operator of a `binary` or `link`; which bounds a `slice` has (bits 0, 1, 2).
    private var flags: [UInt8] = []
    /// A number's or string's index, a name's id, a call's function name id.
    private var payloads: [Int32] = []
    /// How many items a `list`, `chain`, `call` (arguments) or `index` has.
    private var counts: [Int32] = []
    /// A call's keywords.
    private var keywordCounts: [Int32] = []
    private var starts: [Int32] = []
    private var ends: [Int32] = []
    private var focusStarts: [Int32] = []
    private var focusEnds: [Int32] = []
    private var numbers: [Double] = []
    private var strings: [String] = []

    init() {}

    /// Records kept, for the memory a workspace counts.
    var count: Int { tags.count }
    /// Bytes one record takes.
    static let recordBytes = 30

    private static let operators: [BinaryOperator] = [.add, .subtract, .multiply, .divide, .matmul, .power, .middleDot]

    private mutating func record(_ tag: Tag, flag: UInt8 = 0, payload: Int32 = 0, count: Int = 0, keywords: Int = 0,
                                 range: SourceRange, focus: SourceRange) {
        tags.append(tag)
        flags.append(flag)
        payloads.append(payload)
        counts.append(Int32(truncatingIfNeeded: count))
        keywordCounts.append(Int32(truncatingIfNeeded: keywords))
        starts.append(Int32(clamping: range.start))
        ends.append(Int32(clamping: range.end))
        focusStarts.append(Int32(clamping: focus.start))
        focusEnds.append(Int32(clamping: focus.end))
    }

    private static func code(_ op: BinaryOperator) -> UInt8 {
        UInt8(truncatingIfNeeded: operators.firstIndex(of: op) ?? 0)
    }

    /// Work for ``append(_:names:)``: visit an expression, or write a record once its operands are written.
    private enum Work {
        case visit(Expr)
        case write(Tag, flag: UInt8, payload: Int32, count: Int, keywords: Int, range: SourceRange, focus: SourceRange)
    }

    /// Keeps `expr`, returning where its records are. `intern` gives the id of a name, with the
    /// offset it is written at for a name that refers to a node or constant (nil for the name
    /// of a function or keyword).
    mutating func append(_ expr: Expr, intern: (String, Int?) -> Int32) -> Range<Int32> {
        let first = Int32(truncatingIfNeeded: tags.count)
        var work: [Work] = [.visit(expr)]
        while let next = work.popLast() {
            switch next {
            case .write(let tag, let flag, let payload, let count, let keywords, let range, let focus):
                record(tag, flag: flag, payload: payload, count: count, keywords: keywords, range: range, focus: focus)
            case .visit(let e):
                // Pushed in reverse (done last first): the operands, then the record that takes them.
                func write(_ tag: Tag, flag: UInt8 = 0, payload: Int32 = 0, count: Int = 0, keywords: Int = 0,
                           range: SourceRange? = nil, focus: SourceRange? = nil) {
                    work.append(.write(tag, flag: flag, payload: payload, count: count, keywords: keywords,
                                       range: range ?? e.range, focus: focus ?? e.focus))
                }
                switch e.kind {
                case .number(let value):
                    numbers.append(value)
                    record(.number, payload: Int32(truncatingIfNeeded: numbers.count - 1), range: e.range, focus: e.focus)
                case .string(let text):
                    strings.append(text)
                    record(.string, payload: Int32(truncatingIfNeeded: strings.count - 1), range: e.range, focus: e.focus)
                case .name(let name):
                    record(.name, payload: intern(name, e.range.start), range: e.range, focus: e.focus)
                case .list(let items):
                    write(.list, count: items.count)
                    for item in items.reversed() { work.append(.visit(item)) }
                case .negate(let operand):
                    write(.negate)
                    work.append(.visit(operand))
                case .transpose(let operand):
                    write(.transpose)
                    work.append(.visit(operand))
                case .binary(let op, let a, let b):
                    write(.binary, flag: FormulaStore.code(op))
                    work.append(.visit(b))
                    work.append(.visit(a))
                case .chain(let head, let links):
                    write(.chain, count: links.count)
                    for link in links.reversed() {
                        write(.link, flag: FormulaStore.code(link.op), range: link.focus, focus: link.focus)
                        work.append(.visit(link.operand))
                    }
                    work.append(.visit(head))
                case .call(let name, let arguments, let keywords):
                    write(.call, payload: intern(name, nil), count: arguments.count, keywords: keywords.count)
                    for keyword in keywords.reversed() {
                        write(.keyword, payload: intern(keyword.name, nil), range: keyword.nameRange, focus: keyword.nameRange)
                        work.append(.visit(keyword.value))
                    }
                    for argument in arguments.reversed() { work.append(.visit(argument)) }
                case .index(let base, let indices):
                    write(.index, count: indices.count)
                    for index in indices.reversed() {
                        switch index {
                        case .at(let i):
                            write(.at)
                            work.append(.visit(i))
                        case .slice(let a, let b, let c):
                            let bounds = [a, b, c]
                            var mask: UInt8 = 0
                            for (bit, bound) in bounds.enumerated() where bound != nil { mask |= 1 << UInt8(bit) }
                            write(.slice, flag: mask)
                            for bound in bounds.reversed() { if let bound { work.append(.visit(bound)) } }
                        }
                    }
                    work.append(.visit(base))
                }
            }
        }
        return first..<Int32(truncatingIfNeeded: tags.count)
    }

    /// What a record makes while a formula is read back.
    private enum Item {
        case expr(Expr)
        case link(ChainLink)
        case keyword(KeywordArgument)
        case index(IndexArgument)
    }

    /// The formula kept at `records`, as a tree; nil if the records are not one formula (never
    /// expected for a range ``append(_:intern:)`` returned).
    func expression(_ records: Range<Int32>, names: (Int32) -> String) -> Expr? {
        guard records.lowerBound >= 0, Int(records.upperBound) <= tags.count else { return nil }
        var stack: [Item] = []
        func exprs(_ n: Int) -> [Expr]? {
            guard n >= 0, n <= stack.count else { return nil }
            var result: [Expr] = []
            result.reserveCapacity(n)
            for item in stack.suffix(n) {
                guard case .expr(let e) = item else { return nil }
                result.append(e)
            }
            stack.removeLast(n)
            return result
        }
        func pop() -> Expr? { exprs(1)?.first }
        for r in Int(records.lowerBound)..<Int(records.upperBound) {
            let range = SourceRange(Int(starts[r]), Int(ends[r]))
            let focus = SourceRange(Int(focusStarts[r]), Int(focusEnds[r]))
            let count = Int(counts[r]), payload = Int(payloads[r])
            func make(_ kind: Expr.Kind) { stack.append(.expr(Expr(kind, range: range, focus: focus))) }
            switch tags[r] {
            case .number:
                guard payload < numbers.count else { return nil }
                make(.number(numbers[payload]))
            case .string:
                guard payload < strings.count else { return nil }
                make(.string(strings[payload]))
            case .name:
                make(.name(names(payloads[r])))
            case .list:
                guard let items = exprs(count) else { return nil }
                make(.list(items))
            case .negate:
                guard let e = pop() else { return nil }
                make(.negate(e))
            case .transpose:
                guard let e = pop() else { return nil }
                make(.transpose(e))
            case .binary:
                guard let pair = exprs(2) else { return nil }
                make(.binary(FormulaStore.operators[Int(flags[r])], pair[0], pair[1]))
            case .link:
                guard let operand = pop() else { return nil }
                stack.append(.link(ChainLink(op: FormulaStore.operators[Int(flags[r])], focus: focus, operand: operand)))
            case .chain:
                guard count <= stack.count else { return nil }
                var links: [ChainLink] = []
                for item in stack.suffix(count) {
                    guard case .link(let link) = item else { return nil }
                    links.append(link)
                }
                stack.removeLast(count)
                guard let head = pop() else { return nil }
                make(.chain(head, links))
            case .keyword:
                guard let value = pop() else { return nil }
                stack.append(.keyword(KeywordArgument(name: names(payloads[r]), nameRange: range, value: value)))
            case .call:
                let keywordCount = Int(keywordCounts[r])
                guard keywordCount <= stack.count else { return nil }
                var keywords: [KeywordArgument] = []
                for item in stack.suffix(keywordCount) {
                    guard case .keyword(let keyword) = item else { return nil }
                    keywords.append(keyword)
                }
                stack.removeLast(keywordCount)
                guard let arguments = exprs(count) else { return nil }
                make(.call(names(payloads[r]), arguments, keywords))
            case .at:
                guard let e = pop() else { return nil }
                stack.append(.index(.at(e)))
            case .slice:
                let mask = flags[r]
                let present = mask.nonzeroBitCount
                guard let bounds = exprs(present) else { return nil }
                var next = bounds.makeIterator()
                func bound(_ bit: UInt8) -> Expr? { mask & (1 << bit) != 0 ? next.next() : nil }
                let a = bound(0), b = bound(1), c = bound(2)
                stack.append(.index(.slice(a, b, c)))
            case .index:
                guard count <= stack.count else { return nil }
                var indices: [IndexArgument] = []
                for item in stack.suffix(count) {
                    guard case .index(let index) = item else { return nil }
                    indices.append(index)
                }
                stack.removeLast(count)
                guard let base = pop() else { return nil }
                make(.index(base, indices))
            }
        }
        guard stack.count == 1, case .expr(let root) = stack[0] else { return nil }
        return root
    }
}
