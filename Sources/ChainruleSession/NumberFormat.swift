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

    /// The first and last few elements, then the shape: `[0.1, 0.2, 0.3, …, 0.9] (shape (3, 100))`.
    func abbreviated(_ t: Tensor) -> String {
        let head = t.scalars.prefix(3).map(format), tail = t.scalars.suffix(2).map(format)
        return "[" + head.joined(separator: ", ") + ", …, " + tail.joined(separator: ", ") + "] (shape \(describe(shape: t.shape)))"
    }
}

extension String {
    /// Pads with spaces on the right to `width` characters.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
