import Glibc
import ChainruleCore

/// Fixed, locale-independent number formatting.
public struct NumberFormat: Sendable {
    /// Significant digits shown.
    public var precision: Int
    /// Tensors with more elements are shown abbreviated.
    public var elementLimit: Int

    public init(precision: Int = 6, elementLimit: Int = 24) {
        self.precision = precision
        self.elementLimit = elementLimit
    }

    /// `%.{precision}g`: `6`, `0.6667`, `1e-05`; `nan`, `inf`, `-inf`; never `-0`.
    public func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == 0 { return "0" }
        var buffer = [CChar](repeating: 0, count: 64)
        let digits = Int32(max(1, min(precision, 17)))
        _ = withVaList([digits, x]) { vsnprintf(&buffer, buffer.count, "%.*g", $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A tensor on one line: `6`, `[1, 2]`, `[[1, 2], [3, 4]]`; abbreviated past `elementLimit`.
    public func inline(_ t: Tensor) -> String {
        if t.isScalar { return format(t.scalars[0]) }
        if t.count > elementLimit { return abbreviated(t) }
        return t.nestedText(format)
    }

    /// A tensor as NumPy prints it: one innermost row per line, columns aligned,
    /// continuation lines indented by `indent` more spaces.
    public func block(_ t: Tensor, indent: Int = 0) -> String {
        if t.rank < 2 || t.count > elementLimit * 4 { return t.count > elementLimit * 4 ? abbreviated(t) : inline(t) }
        let width = t.scalars.map { format($0).count }.max() ?? 1
        return t.nestedText({ x in
            let text = format(x)
            return String(repeating: " ", count: width - text.count) + text
        }, gap: { axis in
            ",\n" + String(repeating: "\n", count: t.rank - axis - 2) + String(repeating: " ", count: indent + axis + 1)
        })
    }

    /// The first and last few elements, then the shape and what the elements left out would
    /// show: `[0, 0, 0, …, 0, 0] (shape (8, 8); min 0, max 3; nonzero row 5)`.
    func abbreviated(_ t: Tensor) -> String {
        let head = t.scalars.prefix(3).map(format), tail = t.scalars.suffix(2).map(format)
        var notes = ["shape \(describe(shape: t.shape))"]
        let finite = t.scalars.filter(\.isFinite)
        if let low = finite.min(), let high = finite.max() { notes.append("min \(format(low)), max \(format(high))") }
        notes += NumberFormat.nonzeroPlaces(t)
        return "[" + head.joined(separator: ", ") + ", …, " + tail.joined(separator: ", ") + "] (" + notes.joined(separator: "; ") + ")"
    }

    /// Where a tensor's nonzero elements are, when not everywhere: `all entries 0`, `nonzero
    /// row 5`, `nonzero columns 0, 2`, `nonzero entries 3, 7` (a few listed, then the count).
    static func nonzeroPlaces(_ t: Tensor) -> [String] {
        func places(_ indices: [Int], _ what: String, count: Int? = nil) -> String {
            let count = count ?? indices.count
            let shown = indices.prefix(4).map(String.init).joined(separator: ", ")
            return "nonzero \(count == 1 ? what : what == "entry" ? "entries" : what + "s") " + shown + (count > 4 ? ", … (\(count))" : "")
        }
        // One pass, marking rows and columns (no set of millions of indices is made).
        var result: [String] = []
        if t.rank == 2 {
            let rowCount = t.shape[0], columns = t.shape[1]
            var rowHas = [Bool](repeating: false, count: rowCount), columnHas = [Bool](repeating: false, count: columns)
            t.scalars.withUnsafeBufferPointer { s in
                for r in 0..<rowCount {
                    for c in 0..<columns where s[r * columns + c] != 0 {
                        rowHas[r] = true
                        columnHas[c] = true
                    }
                }
            }
            let rows = rowHas.indices.filter { rowHas[$0] }, cols = columnHas.indices.filter { columnHas[$0] }
            if rows.isEmpty { return ["all entries 0"] }
            if rows.count < rowCount { result.append(places(rows, "row")) }
            if cols.count < columns { result.append(places(cols, "column")) }
        } else {
            var first: [Int] = [], count = 0
            for (i, x) in t.scalars.enumerated() where x != 0 {
                if first.count < 4 { first.append(i) }
                count += 1
            }
            if count == 0 { return ["all entries 0"] }
            if count < t.count { result.append(places(first, "entry", count: count)) }
        }
        return result
    }
}

extension String {
    /// Pads with spaces on the right to `width` characters.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
