import Glibc

/// How a derivative was computed.
public enum DerivativeMethod: String, Sendable, CaseIterable {
    /// Reverse mode: one pass back from the output gives the gradient for every input.
    case reverse
    /// Forward mode: one tangent pass per input element.
    case forward
    /// Central finite differences: two forward passes per input element.
    case fd
}

/// Central differences of a scalar node with respect to every element of one leaf.
public struct FiniteDifferences: Sendable {
    /// `(f(x + h) − f(x − h)) / 2h`.
    public var central: Tensor
    /// `(f(x + h) − f(x)) / h` and `(f(x) − f(x − h)) / h`: where they disagree much, the two
    /// points straddle a kink.
    public var forward: Tensor
    public var backward: Tensor
    /// The step used per element: `h = ∛ε · max(1, |x|)`, balancing truncation and rounding.
    public var steps: Tensor
    /// `f(x + h)`, `f(x − h)` per element, and `f(x)`: what the differences were made of.
    public var up: Tensor
    public var down: Tensor
    public var centre: Double

    public static func step(at x: Double) -> Double { 6.0554544523933395e-06 * max(1, abs(x)) }
}

extension Workspace {
    /// The most input elements a derivative by forward mode or finite differences may take (one or
    /// two passes each); reverse mode needs one pass whatever their number.
    public static let perElementPassLimit = 10_000

    /// Central differences of scalar `output` with respect to every element of node `x`.
    /// The one finite-difference routine of the program; works on a copy, so nothing changes.
    /// A leaf is given each shifted value as a redefinition would give it; an intermediate
    /// node's stored value is shifted instead, and only the nodes after it that depend on it
    /// are computed again (what ∂output/∂x means for a node computed from others).
    public func finiteDifferences(of output: NodeID, wrt node: NodeID) throws(EvaluationError) -> FiniteDifferences {
        if node <= output, graph.feedsClassIndex(of: output)[node] {
            let what = graph[node].name.map { "'\($0)'" } ?? "%\(node)"
            throw .failed(Diagnostic("central differences cannot shift \(what): the output reads it as a class index, which a shift would make fractional; reverse or forward mode gives this gradient", at: nil))
        }
        var probe = self
        let centre = try probe.value(of: output).scalars[0]
        let original: Tensor
        var downstream: [NodeID] = []
        if graph[node].isLeaf {
            guard let name = graph[node].name, let value = entries[name]?.value else {
                throw .failed(Diagnostic("central differences cannot shift %\(node): it is a literal written in a formula", at: nil))
            }
            original = value
        } else {
            original = try probe.value(of: node)
            downstream = graph.descendants(of: node, through: output)
        }
        /// `output` with `node` holding `shifted`.
        func shiftedOutput(_ shifted: Tensor) throws(EvaluationError) -> Double {
            if let name = graph[node].name, graph[node].isLeaf {
                probe.setValue(shifted, of: name)
                return try probe.value(of: output).scalars[0]
            }
            var values = probe.evaluation
            values.forget(downstream)
            values.set(node, shifted)
            try values.compute(output, in: graph, shouldStop: shouldStop)
            return values[output]?.scalars[0] ?? centre
        }
        let zero = Tensor.zeros(original.shape)
        var result = FiniteDifferences(central: zero, forward: zero, backward: zero, steps: zero, up: zero, down: zero, centre: centre)
        var shifted = original
        for i in 0..<original.count {
            if shouldStop() { throw .interrupted }
            let x = original.scalars[i]
            let h = FiniteDifferences.step(at: x)
            shifted.scalars[i] = x + h
            let up = try shiftedOutput(shifted)
            shifted.scalars[i] = x - h
            let down = try shiftedOutput(shifted)
            shifted.scalars[i] = x
            // The steps actually taken, after rounding x ± h.
            let (right, left) = (x + h, x - h)
            result.central.scalars[i] = (up - down) / (right - left)
            result.forward.scalars[i] = (up - centre) / (right - x)
            result.backward.scalars[i] = (centre - down) / (x - left)
            result.steps.scalars[i] = h
            result.up.scalars[i] = up
            result.down.scalars[i] = down
        }
        return result
    }

    /// ∂output/∂x for scalar `output` by the chosen method.
    public mutating func gradient(of output: NodeID, wrt x: NodeID, method: DerivativeMethod) throws(EvaluationError) -> Tensor {
        switch method {
        case .reverse:
            return try gradients(of: output)[x] ?? Tensor.zeros(graph[x].shape)
        case .fd:
            return try finiteDifferences(of: output, wrt: x).central
        case .forward:
            let shape = graph[x].shape
            var result = Tensor.zeros(shape)
            guard x <= output else { return result }
            _ = try value(of: output)
            let tangent = try ForwardMode.build(graph, input: x, output: output, shouldStop: shouldStop)
            guard let t = tangent.tangent[output] else { return result }
            var passes = try tangent.seededPasses(forward: evaluation, shouldStop: shouldStop)
            try unitPasses(shape) { (direction) throws(EvaluationError) in
                try passes.evaluate(direction, shouldStop: shouldStop)[t]
            } place: { i, value in result.scalars[i] = value.scalars[0] }
            return result
        }
    }

    /// The full Jacobian ∂y/∂x, `(y.count × x.count)`, built by rows (one reverse pass per
    /// element of y) or by columns (one forward pass per element of x), whichever needs fewer.
    /// What no pass changes (the `transpose(A)` of `A @ x`'s reverse graph) is computed once
    /// for all of them (``SeededPasses``).
    public mutating func jacobian(of y: NodeID, wrt x: NodeID) throws(EvaluationError) -> (matrix: Tensor, method: DerivativeMethod, passes: Int) {
        let output = try value(of: y)
        let columns = graph[x].shape.reduce(1, *)
        var matrix = Tensor.zeros([output.count, columns])
        if output.count <= columns {
            let reverse = try ReverseMode.build(graph, output: y, wrt: [x], seeded: true, shouldStop: shouldStop)
            guard x < reverse.gradient.count, let g = reverse.gradient[x] else { return (matrix, .reverse, output.count) }
            var passes = try reverse.seededPasses(forward: evaluation, shouldStop: shouldStop)
            try unitPasses(output.shape) { (seed) throws(EvaluationError) in
                try passes.evaluate(seed, shouldStop: shouldStop)[g]
            } place: { r, row in
                for c in 0..<columns { matrix.scalars[r * columns + c] = row.scalars[c] }
            }
            return (matrix, .reverse, output.count)
        }
        guard x <= y else { return (matrix, .forward, columns) }
        let tangent = try ForwardMode.build(graph, input: x, output: y, shouldStop: shouldStop)
        guard let t = tangent.tangent[y] else { return (matrix, .forward, columns) }
        var passes = try tangent.seededPasses(forward: evaluation, shouldStop: shouldStop)
        try unitPasses(graph[x].shape) { (direction) throws(EvaluationError) in
            try passes.evaluate(direction, shouldStop: shouldStop)[t]
        } place: { c, column in
            for r in 0..<output.count { matrix.scalars[r * columns + c] = column.scalars[r] }
        }
        return (matrix, .forward, columns)
    }

    /// The Hessian of scalar `output` with respect to `x`, `(x.count × x.count)`: forward mode
    /// over the reverse graph, one tangent pass of the gradient per element of x.
    public mutating func hessian(of output: NodeID, wrt x: NodeID) throws(EvaluationError) -> Tensor {
        _ = try value(of: output)
        let n = graph[x].shape.reduce(1, *)
        var matrix = Tensor.zeros([n, n])
        let reverse = try ReverseMode.build(graph, output: output, wrt: [x], shouldStop: shouldStop)
        guard x < reverse.gradient.count, let g = reverse.gradient[x] else { return matrix }
        let forwardValues = try reverse.evaluate(forward: evaluation, shouldStop: shouldStop)
        let tangent = try ForwardMode.build(reverse.graph, input: x, output: g, shouldStop: shouldStop)
        guard let t = tangent.tangent[g] else { return matrix }
        var passes = try tangent.seededPasses(forward: forwardValues, shouldStop: shouldStop)
        try unitPasses(graph[x].shape) { (direction) throws(EvaluationError) in
            try passes.evaluate(direction, shouldStop: shouldStop)[t]
        } place: { j, column in
            for i in 0..<n { matrix.scalars[i * n + j] = column.scalars[i] }
        }
        return matrix
    }

    /// One pass per unit vector of `shape` (1 at element k, 0 elsewhere), in order, asking
    /// `shouldStop` between passes (each may be too small to poll on its own); `place` gets
    /// each pass's result with its k. A pass that yields nothing leaves its place zero.
    func unitPasses(_ shape: [Int], _ pass: (Tensor) throws(EvaluationError) -> Tensor?,
                    place: (Int, Tensor) -> Void) throws(EvaluationError) {
        var unit = Tensor.zeros(shape)
        for k in 0..<unit.count {
            if shouldStop() { throw .interrupted }
            unit.scalars[k] = 1
            let result = try pass(unit)
            unit.scalars[k] = 0
            if let result { place(k, result) }
        }
    }
}
