/// Prints syntax trees and constants back as `.graph` source that parses to the same thing.
public enum Printer {
    /// A number as the shortest text that reads back to the same `Double`; `inf`, `-inf`, `nan`
    /// are names the language knows (a NaN keeps its sign; payloads other than the default are not kept).
    public static func number(_ x: Double) -> String {
        if x.isNaN { return x.sign == .minus ? "-nan" : "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == x.rounded() && abs(x) < 1e15 {
            let integer = String(Int(x))
            return x.sign == .minus && x == 0 ? "-0" : integer
        }
        return "\(x)"
    }

    /// A number as source text that reads back to the same `Double` whatever names are defined:
    /// finite numbers as ``number(_:)`` writes them, infinities as the overflowing literals `1e999`
    /// and `-1e999`, NaN as `abs(0/0)` or `-abs(0/0)` (the sign kept, as `abs` clears it and `-` sets it).
    /// Never `inf` or `nan`, which a node of that name would shadow.
    public static func sourceNumber(_ x: Double) -> String {
        if x.isNaN { return x.sign == .minus ? "-abs(0/0)" : "abs(0/0)" }
        if x.isInfinite { return x < 0 ? "-1e999" : "1e999" }
        return number(x)
    }

    /// A constant tensor as a literal: `3`, `[1, 2]`, `[[1, 2], [3, 4]]`, exact to the bit.
    public static func literal(_ t: Tensor) -> String {
        if t.count == 0 && t.rank > 1 {
            // An empty literal cannot carry a shape like (2, 0); build it instead.
            return "zeros(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        }
        return t.nestedText(sourceNumber)
    }

    /// An expression with the fewest parentheses that keep its meaning.
    public static func expression(_ e: Expr) -> String {
        e.depth > DeepStack.threshold ? DeepStack.run { text(e) } : text(e)
    }

    static func text(_ e: Expr) -> String {
        switch e.kind {
        case .number(let x): return sourceNumber(x)
        case .string(let s): return "\"\(s)\""
        case .name(let n): return n
        case .list(let items): return "[" + items.map(text).joined(separator: ", ") + "]"
        case .negate(let operand):
            return "-" + wrap(operand, if: precedence(operand) < 3)
        case .binary(let op, let a, let b):
            let p = op.precedence
            if op == .power {
                // Right-associative: the base needs parentheses at its own level, the exponent does not.
                return wrap(a, if: precedence(a) <= p) + "^" + wrap(b, if: precedence(b) < 3)
            }
            return wrap(a, if: precedence(a) < p) + " \(op.rawValue) " + wrap(b, if: precedence(b) <= p)
        case .chain(let first, let links):
            var parts = [wrap(first, if: precedence(first) < precedence(e))]
            for link in links {
                parts.append(link.op.rawValue)
                parts.append(wrap(link.operand, if: precedence(link.operand) <= link.op.precedence))
            }
            return parts.joined(separator: " ")
        case .call(let name, let arguments, let keywords):
            let parts = arguments.map(text) + keywords.map { "\($0.name)=\(text($0.value))" }
            return name + "(" + parts.joined(separator: ", ") + ")"
        case .index(let base, let indices):
            let parts = indices.map { index -> String in
                switch index {
                case .at(let i): return text(i)
                case .slice(let a, let b, let c):
                    var part = (a.map(text) ?? "") + ":" + (b.map(text) ?? "")
                    if let c { part += ":" + text(c) }
                    return part
                }
            }
            return wrap(base, if: precedence(base) < 5) + "[" + parts.joined(separator: ", ") + "]"
        case .transpose(let operand):
            return wrap(operand, if: precedence(operand) < 5) + ".T"
        }
    }

    static func precedence(_ e: Expr) -> Int {
        switch e.kind {
        case .binary(let op, _, _): op.precedence
        case .chain(_, let links): links.first?.op.precedence ?? 5
        case .negate: 3
        case .number(let x) where x.sign == .minus: 3
        default: 5
        }
    }

    static func wrap(_ e: Expr, if condition: Bool) -> String {
        condition ? "(" + text(e) + ")" : text(e)
    }
}
