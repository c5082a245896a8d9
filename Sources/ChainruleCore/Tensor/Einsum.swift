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

extension EinsumSpec {
    init(operands: [[Int]], output: [Int], letters: [Character]) {
        self.operands = operands
        self.output = output
        self.letters = letters
    }
}

/// An einsum spec bound to its operands' shapes when the node is built: every label's size
/// is known, so evaluating and pulling back cannot fail. A two-operand plan that is a batch of
/// matrix products (``Contraction``) runs through BLAS, and so does its adjoint.
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
        EinsumPlan.evaluate(spec, sizes: sizes, tensors, shouldStop: { false }).result
    }

    /// ``apply(_:)``, or nil when `shouldStop` returned true between two blocks of a matrix product.
    public func apply(_ tensors: [Tensor], shouldStop: () -> Bool) -> Tensor? {
        let (result, completed) = EinsumPlan.evaluate(spec, sizes: sizes, tensors, shouldStop: shouldStop)
        return completed ? result : nil
    }

    /// The einsum's adjoint in operand `k` applied to `g` (the forward rule of
    /// ``Op/einsumTranspose(_:operand:)``, the op einsum's reverse rule emits): each term adds
    /// `g[out] · Π_{j≠k} t_j` into operand `k`. Operand `k`'s own elements are not read (only its
    /// shape, from the plan).
    public func adjoint(_ g: Tensor, _ tensors: [Tensor], operand k: Int) -> Tensor {
        adjoint(g, tensors, operand: k, shouldStop: { false }) ?? Tensor.zeros(shapes[k])
    }

    /// ``adjoint(_:_:operand:)``, or nil when `shouldStop` stopped it. For a matrix product it is
    /// itself one: `"ij,jk->ik"` is adjoint in operand 0 to `"ik,jk->ij"` of `g` and operand 1,
    /// over the same labels, so the plan's sizes serve it unchanged.
    public func adjoint(_ g: Tensor, _ tensors: [Tensor], operand k: Int,
                         shouldStop: () -> Bool) -> Tensor? {
        if spec.operands.count == 2, Contraction(spec) != nil {
            let reverse = EinsumSpec(operands: [spec.output, spec.operands[1 - k]], output: spec.operands[k],
                                     letters: spec.letters)
            let (result, completed) = EinsumPlan.evaluate(reverse, sizes: sizes, [g, tensors[1 - k]],
                                                          shouldStop: shouldStop)
            return completed ? result : nil
        }
        var result = Tensor.zeros(shapes[k])
        spec.forEachTerm(sizes: sizes, shapes: shapes) { offsets, out in
            var product = g.scalars[out]
            for j in offsets.indices where j != k { product *= tensors[j].scalars[offsets[j]] }
            result.scalars[offsets[k]] += product
        }
        return result
    }

    /// `spec` of `tensors`, whose labels have `sizes`, and whether it ran to the end:
    /// a matrix product through BLAS, anything else term by term.
    static func evaluate(_ spec: EinsumSpec, sizes: [Int], _ tensors: [Tensor],
                         shouldStop: () -> Bool) -> (result: Tensor, completed: Bool) {
        if tensors.count == 2, let contraction = Contraction(spec) {
            return contraction.apply(tensors[0], tensors[1], sizes: sizes, shouldStop: shouldStop)
        }
        var result = Tensor.zeros(spec.output.map { sizes[$0] })
        spec.forEachTerm(sizes: sizes, shapes: spec.operands.map { $0.map { sizes[$0] } }) { offsets, out in
            var product = 1.0
            for k in offsets.indices { product *= tensors[k].scalars[offsets[k]] }
            result.scalars[out] += product
        }
        return (result, true)
    }
}

/// A two-operand einsum that is a batch of matrix products, `out[b, i, j] = Σ_k A[b, i, k] · B[b, k, j]`,
/// where each of `b`, `i`, `j`, `k` stands for a group of letters (possibly empty): `ij,jk->ik`,
/// `ij,j->i`, `i,i->`, `bij,bjk->bik`, `ij,kj->ik`, `i,j->ij`, … It runs as BLAS products after
/// laying the operands out in that order (no copy when they already are, or are transposed).
///
/// Not a contraction: a letter repeated within an operand (a diagonal), a letter summed within one
/// operand alone, or elementwise products (every letter in both operands and the output).
struct Contraction {
    var spec: EinsumSpec
    var batch: [Int], left: [Int], right: [Int], inner: [Int]

    init?(_ spec: EinsumSpec) {
        guard spec.operands.count == 2 else { return nil }
        let a = spec.operands[0], b = spec.operands[1], out = spec.output
        for labels in [a, b] where Set(labels).count != labels.count { return nil }
        guard a.allSatisfy({ b.contains($0) || out.contains($0) }),
              b.allSatisfy({ a.contains($0) || out.contains($0) }) else { return nil }
        self.spec = spec
        batch = out.filter { a.contains($0) && b.contains($0) }
        left = out.filter { a.contains($0) && !b.contains($0) }
        right = out.filter { b.contains($0) && !a.contains($0) }
        inner = a.filter { b.contains($0) && !out.contains($0) }
        // Elementwise products gain nothing from BLAS.
        if left.isEmpty && right.isEmpty && inner.isEmpty { return nil }
    }

    func apply(_ a: Tensor, _ b: Tensor, sizes: [Int], shouldStop: () -> Bool) -> (result: Tensor, completed: Bool) {
        func size(_ labels: [Int]) -> Int { labels.reduce(1) { $0 * sizes[$1] } }
        let count = size(batch), n = size(left), m = size(right), k = size(inner)
        // Each operand as stored, in order, or transposed (inner letters before the free ones).
        let (pa, transA) = Contraction.arrange(a, labels: spec.operands[0], batch: batch, first: left, second: inner, sizes: sizes)
        let (pb, transB) = Contraction.arrange(b, labels: spec.operands[1], batch: batch, first: inner, second: right, sizes: sizes)
        var out = [Double](repeating: 0, count: count * n * m)
        var completed = true
        pa.withUnsafeBufferPointer { pa in
            pb.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    guard let a = pa.baseAddress, let b = pb.baseAddress, let o = po.baseAddress else { return }
                    for t in 0..<count where completed {
                        completed = Matmul.multiply(
                            n: n, m: m, k: k,
                            MatrixOperand(base: a + t * n * k, ld: transA ? n : k, transposed: transA),
                            MatrixOperand(base: b + t * k * m, ld: transB ? k : m, transposed: transB),
                            into: o + t * n * m, ldc: m, shouldStop: shouldStop)
                    }
                }
            }
        }
        let computed = batch + left + right
        let scalars = computed == spec.output
            ? out : Contraction.permute(out, shape: computed.map { sizes[$0] }, order: spec.output.map { computed.firstIndex(of: $0) ?? 0 })
        return (Tensor(shape: spec.output.map { sizes[$0] }, scalars: scalars), completed)
    }

    /// The operand's elements with its axes in the order `batch + first + second`, or (then `true`)
    /// `batch + second + first`, copying only when neither is its stored order.
    static func arrange(_ t: Tensor, labels: [Int], batch: [Int], first: [Int], second: [Int],
                        sizes: [Int]) -> (scalars: [Double], transposed: Bool) {
        if labels == batch + first + second { return (t.scalars, false) }
        if labels == batch + second + first { return (t.scalars, true) }
        let order = (batch + first + second).map { labels.firstIndex(of: $0) ?? 0 }
        return (permute(t.scalars, shape: t.shape, order: order), false)
    }

    /// The elements of a row-major tensor of `shape` with its axes reordered: axis `a` of the
    /// result is axis `order[a]` of the source.
    static func permute(_ scalars: [Double], shape: [Int], order: [Int]) -> [Double] {
        let source = strides(of: shape)
        let sizes = order.map { shape[$0] }, steps = order.map { source[$0] }
        var result = [Double]()
        result.reserveCapacity(scalars.count)
        guard !scalars.isEmpty else { return result }
        guard !sizes.isEmpty else { return scalars }
        var index = Array(repeating: 0, count: sizes.count)
        var offset = 0
        let last = sizes.count - 1
        scalars.withUnsafeBufferPointer { s in
            while true {
                // The innermost axis in one run.
                for q in 0..<sizes[last] { result.append(s[offset + q * steps[last]]) }
                var axis = last - 1
                while axis >= 0 {
                    index[axis] += 1
                    offset += steps[axis]
                    if index[axis] < sizes[axis] { break }
                    offset -= steps[axis] * index[axis]
                    index[axis] = 0
                    axis -= 1
                }
                if axis < 0 { return }
            }
        }
        return result
    }
}
