/// NumPy's `einsum` over explicit subscripts, e.g. `"ij,j->i"`.
///
/// Every letter names an axis; letters shared between operands must have one size;
/// letters absent from the output are summed over. Without `->` the output is the
/// letters that occur once, in alphabetical order (NumPy's implicit mode).
public struct EinsumSpec: Hashable, Sendable {
    /// Per operand, its axis letters mapped to label numbers.
    public var operands: [[Int]]
    public var output: [Int]
    /// The letter of each label, for messages and printing.
    public var letters: [Character]

    public init(_ text: String, operandCount: Int) throws(ShapeMessage) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        var lhs = Substring(text), rhs: Substring? = nil
        if parts.count == 2 {
            guard parts[1].hasPrefix(">") else { throw ShapeMessage("einsum spec '\(text)' has '-' without '>'") }
            lhs = parts[0]
            rhs = parts[1].dropFirst()
        }
        var letters: [Character] = []
        func label(_ c: Character) throws(ShapeMessage) -> Int {
            guard c.isLetter else { throw ShapeMessage("einsum spec '\(text)' has '\(c)'; subscripts are letters") }
            if let i = letters.firstIndex(of: c) { return i }
            letters.append(c)
            return letters.count - 1
        }
        var operands: [[Int]] = []
        for part in lhs.split(separator: ",", omittingEmptySubsequences: false) {
            var labels: [Int] = []
            for c in part where c != " " { labels.append(try label(c)) }
            operands.append(labels)
        }
        guard operands.count == operandCount else {
            throw ShapeMessage("einsum spec '\(text)' names \(operands.count) operand\(operands.count == 1 ? "" : "s") but \(operandCount) \(operandCount == 1 ? "was" : "were") given")
        }
        var output: [Int] = []
        if let rhs {
            for c in rhs where c != " " {
                guard let i = letters.firstIndex(of: c) else {
                    throw ShapeMessage("einsum output subscript '\(c)' does not appear in any operand")
                }
                guard !output.contains(i) else { throw ShapeMessage("einsum output subscript '\(c)' appears twice") }
                output.append(i)
            }
        } else {
            let all = operands.flatMap { $0 }
            output = letters.indices.filter { l in all.filter { $0 == l }.count == 1 }
                .sorted { letters[$0] < letters[$1] }
        }
        self.operands = operands
        self.output = output
        self.letters = letters
    }

    /// The size of every label, checked against the operand shapes; then the output shape.
    public func sizes(for shapes: [[Int]]) throws(ShapeMessage) -> (labels: [Int], output: [Int]) {
        var sizes = Array(repeating: -1, count: letters.count)
        for (k, labels) in operands.enumerated() {
            guard labels.count == shapes[k].count else {
                throw ShapeMessage("einsum operand \(k + 1) has shape \(describe(shape: shapes[k])) but its subscripts '\(String(labels.map { letters[$0] }))' name \(labels.count) axes")
            }
            for (axis, l) in labels.enumerated() {
                let n = shapes[k][axis]
                if sizes[l] == -1 {
                    sizes[l] = n
                } else if sizes[l] != n {
                    throw ShapeMessage("einsum subscript '\(letters[l])' has size \(sizes[l]) in one place and \(n) in another")
                }
            }
        }
        return (sizes, output.map { sizes[$0] })
    }

    /// Visits every assignment of values to labels, with the offset of each operand and of the output.
    func forEachTerm(sizes: [Int], shapes: [[Int]], _ body: (_ operandOffsets: [Int], _ outputOffset: Int) -> Void) {
        let total = sizes.reduce(1, *)
        guard total > 0 else { return }
        // Per label, the stride it contributes to each operand and to the output.
        let operandStrides: [[Int]] = operands.enumerated().map { k, labels in
            var perLabel = Array(repeating: 0, count: sizes.count)
            let s = strides(of: shapes[k])
            for (axis, l) in labels.enumerated() { perLabel[l] += s[axis] }
            return perLabel
        }
        var outputStrides = Array(repeating: 0, count: sizes.count)
        let os = strides(of: output.map { sizes[$0] })
        for (axis, l) in output.enumerated() { outputStrides[l] = os[axis] }

        var index = Array(repeating: 0, count: sizes.count)
        var offsets = Array(repeating: 0, count: operands.count)
        var outputOffset = 0
        for _ in 0..<total {
            body(offsets, outputOffset)
            var l = sizes.count - 1
            while l >= 0 {
                index[l] += 1
                for k in offsets.indices { offsets[k] += operandStrides[k][l] }
                outputOffset += outputStrides[l]
                if index[l] < sizes[l] { break }
                for k in offsets.indices { offsets[k] -= operandStrides[k][l] * index[l] }
                outputOffset -= outputStrides[l] * index[l]
                index[l] = 0
                l -= 1
            }
        }
    }
}

/// An einsum spec bound to its operands' shapes when the node is built: every label's size
/// is known, so evaluating and pulling back cannot fail.
public struct EinsumPlan: Hashable, Sendable {
    public let spec: EinsumSpec
    /// The operands' shapes the plan was made for.
    public let shapes: [[Int]]
    /// The size of every label.
    public let sizes: [Int]
    public let outputShape: [Int]

    /// Checks `shapes` against `spec` (see ``EinsumSpec/sizes(for:)``).
    public init(_ spec: EinsumSpec, shapes: [[Int]]) throws(ShapeMessage) {
        (sizes, outputShape) = try spec.sizes(for: shapes)
        self.spec = spec
        self.shapes = shapes
    }

    /// Sums, for every output element, the products of the operand elements its labels select.
    public func apply(_ tensors: [Tensor]) -> Tensor {
        var result = Tensor.zeros(outputShape)
        spec.forEachTerm(sizes: sizes, shapes: shapes) { offsets, out in
            var product = 1.0
            for k in offsets.indices { product *= tensors[k].scalars[offsets[k]] }
            result.scalars[out] += product
        }
        return result
    }

    /// The vector–Jacobian product for operand `k`: each term adds `g[out] · Π_{j≠k} t_j` into operand `k`.
    public func pullback(_ g: Tensor, _ tensors: [Tensor], operand k: Int) -> Tensor {
        var result = Tensor.zeros(shapes[k])
        spec.forEachTerm(sizes: sizes, shapes: shapes) { offsets, out in
            var product = g.scalars[out]
            for j in offsets.indices where j != k { product *= tensors[j].scalars[offsets[j]] }
            result.scalars[offsets[k]] += product
        }
        return result
    }
}
