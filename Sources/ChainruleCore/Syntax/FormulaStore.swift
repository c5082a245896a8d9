/// The formulas of a workspace, each parsed once and kept in a compact form: one record per
/// syntax node, in postfix order, in one byte stream shared by every formula. Names are ids of the
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

    /// The records, as bytes: a head byte (the tag in its low four bits; then whether a flag,
    /// a payload and a count follow, and whether the caret is elsewhere than the whole
    /// range), then those fields and the range as variable-length numbers, the start as a
    /// difference from the record before (a formula's records are close together in its
    /// text): about seven bytes a record.
    private var bytes: [UInt8] = []
    private var numbers: [Double] = []
    private var strings: [String] = []
    /// The start of the last record written, which the next one's is written relative to.
    private var previousStart = 0

    init() {}

    /// Bytes kept, for the memory a workspace counts.
    var byteCount: Int { bytes.count + 8 * numbers.count }

    private static let operators: [BinaryOperator] = [.add, .subtract, .multiply, .divide, .matmul, .power, .middleDot]

    private static let hasFlag: UInt8 = 1 << 4, hasPayload: UInt8 = 1 << 5, hasCount: UInt8 = 1 << 6, hasFocus: UInt8 = 1 << 7

    private mutating func write(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    private mutating func write(signed value: Int) {
        write(UInt64(bitPattern: Int64((value << 1) ^ (value >> 63))))
    }

    /// Where the store stands: what a formula begins at, and what dropping one goes back to.
    struct Mark {
        var bytes: Int32
        var numbers: Int
        var strings: Int
    }

    /// The last record written, to write it again with a wider range (a formula in brackets).
    private var last: (offset: Int, previousStart: Int, tag: Tag, flag: UInt8, payload: Int32, count: Int,
                       keywords: Int, focus: SourceRange)?

    /// Begins a formula: its records start here, the first one's start written relative to 0.
    mutating func beginFormula() -> Mark {
        previousStart = 0
        last = nil
        return Mark(bytes: Int32(truncatingIfNeeded: bytes.count), numbers: numbers.count, strings: strings.count)
    }

    /// The records of the formula begun at `mark`.
    func records(since mark: Mark) -> Range<Int32> { mark.bytes..<Int32(truncatingIfNeeded: bytes.count) }

    /// Drops everything written since `mark`.
    mutating func drop(since mark: Mark) {
        bytes.removeSubrange(Int(mark.bytes)...)
        numbers.removeSubrange(mark.numbers...)
        strings.removeSubrange(mark.strings...)
        last = nil
    }

    /// Writes the last record again with the range `range` (its caret stays where it was).
    mutating func widenLast(to range: SourceRange) {
        guard let l = last else { return }
        bytes.removeSubrange(l.offset...)
        previousStart = l.previousStart
        record(l.tag, flag: l.flag, payload: l.payload, count: l.count, keywords: l.keywords, range: range, focus: l.focus)
    }

    /// A number written in a formula.
    mutating func number(_ value: Double, range: SourceRange, focus: SourceRange? = nil) {
        numbers.append(value)
        record(.number, payload: Int32(truncatingIfNeeded: numbers.count - 1), range: range, focus: focus ?? range)
    }

    /// A string written in a formula (an einsum spec).
    mutating func string(_ text: String, range: SourceRange, focus: SourceRange? = nil) {
        strings.append(text)
        record(.string, payload: Int32(truncatingIfNeeded: strings.count - 1), range: range, focus: focus ?? range)
    }

    /// The operator of code `code` (``code(_:)``).
    private static func `operator`(_ code: UInt8) -> BinaryOperator {
        Int(code) < operators.count ? operators[Int(code)] : .add
    }

    static func code(_ op: BinaryOperator) -> UInt8 {
        UInt8(truncatingIfNeeded: operators.firstIndex(of: op) ?? 0)
    }

    /// Writes one record; its operands' records are the ones before it (postfix order).
    mutating func record(_ tag: Tag, flag: UInt8 = 0, payload: Int32 = 0, count: Int = 0, keywords: Int = 0,
                         range: SourceRange, focus: SourceRange) {
        last = (bytes.count, previousStart, tag, flag, payload, count, keywords, focus)
        var head = tag.rawValue
        if flag != 0 { head |= FormulaStore.hasFlag }
        if payload != 0 { head |= FormulaStore.hasPayload }
        if count != 0 || keywords != 0 { head |= FormulaStore.hasCount }
        if focus != range { head |= FormulaStore.hasFocus }
        bytes.append(head)
        if flag != 0 { bytes.append(flag) }
        if payload != 0 { write(UInt64(UInt32(bitPattern: payload))) }
        if count != 0 || keywords != 0 {
            write(UInt64(max(count, 0)))
            write(UInt64(max(keywords, 0)))
        }
        write(signed: range.start - previousStart)
        previousStart = range.start
        write(signed: range.end - range.start)
        if focus != range {
            write(signed: focus.start - range.start)
            write(signed: focus.end - focus.start)
        }
    }

    /// One record read back.
    private struct Record {
        var tag: Tag
        var flag: UInt8 = 0
        var payload: Int32 = 0
        var count = 0
        var keywords = 0
        var range: SourceRange
        var focus: SourceRange
    }

    /// Reads the record at `offset` (moving past it) of a formula whose record before started at `previous`.
    private func read(_ offset: inout Int, _ previous: inout Int, end: Int) -> Record? {
        func number() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while offset < end, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        func signed() -> Int? {
            guard let u = number() else { return nil }
            return Int(truncatingIfNeeded: Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1))))
        }
        guard offset < end, let tag = Tag(rawValue: bytes[offset] & 0x0F) else { return nil }
        let head = bytes[offset]
        offset += 1
        var flag: UInt8 = 0, payload: Int32 = 0, count = 0, keywords = 0
        if head & FormulaStore.hasFlag != 0 {
            guard offset < end else { return nil }
            flag = bytes[offset]
            offset += 1
        }
        if head & FormulaStore.hasPayload != 0 {
            guard let p = number() else { return nil }
            payload = Int32(bitPattern: UInt32(truncatingIfNeeded: p))
        }
        if head & FormulaStore.hasCount != 0 {
            guard let c = number(), let k = number(), c < 1 << 40, k < 1 << 40 else { return nil }
            (count, keywords) = (Int(c), Int(k))
        }
        guard let delta = signed(), let length = signed() else { return nil }
        let start = previous + delta
        previous = start
        let range = SourceRange(start, start + length)
        var focus = range
        if head & FormulaStore.hasFocus != 0 {
            guard let focusDelta = signed(), let focusLength = signed() else { return nil }
            focus = SourceRange(start + focusDelta, start + focusDelta + focusLength)
        }
        return Record(tag: tag, flag: flag, payload: payload, count: count, keywords: keywords, range: range, focus: focus)
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
        let first = beginFormula().bytes
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
                    number(value, range: e.range, focus: e.focus)
                case .string(let text):
                    string(text, range: e.range, focus: e.focus)
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
        return first..<Int32(truncatingIfNeeded: bytes.count)
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
        guard records.lowerBound >= 0, records.lowerBound <= records.upperBound, Int(records.upperBound) <= bytes.count else {
            return nil
        }
        var stack: [Item] = []
        /// The top `n` items, all of one kind (`take` gives an item's payload, nil for another kind), taken off.
        func items<T>(_ n: Int, _ take: (Item) -> T?) -> [T]? {
            guard n >= 0, n <= stack.count else { return nil }
            var result: [T] = []
            result.reserveCapacity(n)
            for item in stack.suffix(n) {
                guard let value = take(item) else { return nil }
                result.append(value)
            }
            stack.removeLast(n)
            return result
        }
        func exprs(_ n: Int) -> [Expr]? { items(n) { if case .expr(let e) = $0 { e } else { nil } } }
        func pop() -> Expr? { exprs(1)?.first }
        var offset = Int(records.lowerBound), previous = 0
        let end = Int(records.upperBound)
        while offset < end {
            guard let r = read(&offset, &previous, end: end) else { return nil }
            let range = r.range, focus = r.focus
            let count = r.count, payload = Int(r.payload)
            func make(_ kind: Expr.Kind) { stack.append(.expr(Expr(kind, range: range, focus: focus))) }
            switch r.tag {
            case .number:
                guard payload < numbers.count else { return nil }
                make(.number(numbers[payload]))
            case .string:
                guard payload < strings.count else { return nil }
                make(.string(strings[payload]))
            case .name:
                make(.name(names(r.payload)))
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
                make(.binary(FormulaStore.operator(r.flag), pair[0], pair[1]))
            case .link:
                guard let operand = pop() else { return nil }
                stack.append(.link(ChainLink(op: FormulaStore.operator(r.flag), focus: focus, operand: operand)))
            case .chain:
                guard let links = items(count, { if case .link(let l) = $0 { l } else { nil } }), let head = pop() else {
                    return nil
                }
                make(.chain(head, links))
            case .keyword:
                guard let value = pop() else { return nil }
                stack.append(.keyword(KeywordArgument(name: names(r.payload), nameRange: range, value: value)))
            case .call:
                guard let keywords = items(r.keywords, { if case .keyword(let k) = $0 { k } else { nil } }),
                      let arguments = exprs(count) else { return nil }
                make(.call(names(r.payload), arguments, keywords))
            case .at:
                guard let e = pop() else { return nil }
                stack.append(.index(.at(e)))
            case .slice:
                let mask = r.flag
                let present = mask.nonzeroBitCount
                guard let bounds = exprs(present) else { return nil }
                var next = bounds.makeIterator()
                func bound(_ bit: UInt8) -> Expr? { mask & (1 << bit) != 0 ? next.next() : nil }
                let a = bound(0), b = bound(1), c = bound(2)
                stack.append(.index(.slice(a, b, c)))
            case .index:
                guard let indices = items(count, { if case .index(let i) = $0 { i } else { nil } }), let base = pop() else {
                    return nil
                }
                make(.index(base, indices))
            }
        }
        guard stack.count == 1, case .expr(let root) = stack[0] else { return nil }
        return root
    }
}

/// Writes the formulas a grammar reads as records as it reads them (``SyntaxTree/recorder``):
/// a definition read from a script is kept with no second walk over its tree. Names are
/// interned in the graph's name table (the workspace's, lent while a statement is read).
struct FormulaRecorder {
    var store = FormulaStore()
    var graph = Graph()
    /// The ids of the names written in the statement being read, by where each is written.
    var names: [(start: Int, nameID: Int32)] = []

    mutating func name(_ text: String, range: SourceRange) {
        let id = graph.intern(name: text)
        names.append((range.start, id))
        store.record(.name, payload: id, range: range, focus: range)
    }

    mutating func intern(_ text: String) -> Int32 { graph.intern(name: text) }
}
