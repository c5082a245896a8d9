/// Pieces of Python that the ops' export spellings (``OpFamily/python(_:_:)``) share: literals
/// of shapes, strings and numbers, einsum specs in ASCII letters, and index plans.
public enum Export {
    /// A Python tuple of integers: `()`, `(3,)`, `(2, 3)`.
    static func tuple(_ values: [Int]) -> String {
        values.count == 1 ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
    }

    /// A Python string literal (escaped for quotes, backslashes and control characters).
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value > 0x7e {
                    out += scalar.value <= 0xffff ? "\\u" + hex(scalar.value, 4) : "\\U" + hex(scalar.value, 8)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(digits - text.count, 0)) + text
    }

    /// A float literal that reads back as the same `Double` (Swift's shortest round-trip form),
    /// with `inf`, `-inf` and `nan` spelled through `math`.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "math.nan" }
        if x.isInfinite { return x < 0 ? "-math.inf" : "math.inf" }
        let text = "\(x)"
        return text
    }

    /// The spec of an einsum with its labels renamed to ASCII letters (NumPy's einsum, and so
    /// JAX's and PyTorch's, takes only `a`–`z` and `A`–`Z`).
    static func einsumSpec(_ spec: EinsumSpec) -> String {
        let ascii = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        func letters(_ labels: [Int]) -> String { String(labels.map { $0 < ascii.count ? ascii[$0] : "?" }) }
        return string(spec.operands.map(letters).joined(separator: ",") + "->" + letters(spec.output))
    }

    /// `x` indexed by `plan`: NumPy's subscript when every component is an integer or a
    /// slice with a positive step, else a gather of the flat offsets the plan resolved.
    static func index(_ x: String, _ plan: IndexPlan) -> String {
        var parts: [String] = []
        for component in plan.components {
            switch component {
            case .at(let i): parts.append(String(i))
            case .slice(let start, let stop, let step):
                guard (step ?? 1) > 0 else { return take(x, plan) }
                var text = (start.map(String.init) ?? "") + ":" + (stop.map(String.init) ?? "")
                if let step, step != 1 { text += ":\(step)" }
                parts.append(text)
            }
        }
        if parts.isEmpty { return x }
        return "\(x)[\(parts.joined(separator: ", "))]"
    }

    static func take(_ x: String, _ plan: IndexPlan) -> String {
        "take(\(x), \(list(plan.offsets)), \(tuple(plan.resultShape)))"
    }

    /// `v` placed at the indexed positions of zeros of the plan's source shape.
    static func scatter(_ v: String, _ plan: IndexPlan) -> String {
        "scatter(\(v), \(list(plan.offsets)), \(tuple(plan.sourceShape)))"
    }

    static func list(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ", ") + "]" }
}
