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
    public static func expression(_ e: Expr) -> String { text(e) }

    /// What is still to be written: text as it is, or an expression to spell out.
    private enum Piece {
        case text(String)
        case expr(Expr)
    }

    /// Writes `e` left to right from one explicit stack of pieces still to write (no recursion,
    /// so a tree as deep as the parser allows prints on any thread).
    static func text(_ e: Expr) -> String {
        var out = ""
        var pending = [Piece.expr(e)]
        while let piece = pending.popLast() {
            switch piece {
            case .text(let s): out += s
            case .expr(let e):
                switch e.kind {
                case .number(let x): out += sourceNumber(x)
                case .string(let s): out += "\"\(s)\""
                case .name(let n): out += n
                default: pending.append(contentsOf: pieces(of: e).reversed())
                }
            }
        }
        return out
    }

    /// The pieces one expression that is not a leaf is written as, in order: its operands as
    /// expressions (in brackets where they need them), everything between them as text.
    private static func pieces(of e: Expr) -> [Piece] {
        var parts: [Piece] = []
        func wrap(_ operand: Expr, if condition: Bool) {
            if condition {
                parts += [.text("("), .expr(operand), .text(")")]
            } else {
                parts.append(.expr(operand))
            }
        }
        func separated<Items: Collection>(_ items: Items, _ write: (Items.Element) -> Void) {
            for (i, item) in items.enumerated() {
                if i > 0 { parts.append(.text(", ")) }
                write(item)
            }
        }
        switch e.kind {
        case .number, .string, .name:
            parts.append(.text(text(e)))
        case .list(let items):
            parts.append(.text("["))
            separated(items) { parts.append(.expr($0)) }
            parts.append(.text("]"))
        case .negate(let operand):
            parts.append(.text("-"))
            wrap(operand, if: precedence(operand) < 3)
        case .binary(let op, let a, let b):
            let p = op.precedence
            if op == .power {
                // Right-associative: the base needs parentheses at its own level, the exponent does not.
                wrap(a, if: precedence(a) <= p)
                parts.append(.text("^"))
                wrap(b, if: precedence(b) < 3)
            } else {
                wrap(a, if: precedence(a) < p)
                parts.append(.text(" \(op.rawValue) "))
                wrap(b, if: precedence(b) <= p)
            }
        case .chain(let first, let links):
            wrap(first, if: precedence(first) < precedence(e))
            for link in links {
                parts.append(.text(" \(link.op.rawValue) "))
                wrap(link.operand, if: precedence(link.operand) <= link.op.precedence)
            }
        case .call(let name, let arguments, let keywords):
            parts.append(.text(name + "("))
            separated(arguments) { parts.append(.expr($0)) }
            if !arguments.isEmpty && !keywords.isEmpty { parts.append(.text(", ")) }
            separated(keywords) { parts += [.text("\($0.name)="), .expr($0.value)] }
            parts.append(.text(")"))
        case .index(let base, let indices):
            wrap(base, if: precedence(base) < 5)
            parts.append(.text("["))
            separated(indices) { index in
                switch index {
                case .at(let i):
                    parts.append(.expr(i))
                case .slice(let a, let b, let c):
                    if let a { parts.append(.expr(a)) }
                    parts.append(.text(":"))
                    if let b { parts.append(.expr(b)) }
                    if let c { parts += [.text(":"), .expr(c)] }
                }
            }
            parts.append(.text("]"))
        case .transpose(let operand):
            wrap(operand, if: precedence(operand) < 5)
            parts.append(.text(".T"))
        }
        return parts
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
}
