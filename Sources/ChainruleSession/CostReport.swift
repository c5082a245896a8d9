import ChainruleCore
import Glibc

/// `:stats` and `:compare`: what differentiating costs, from the reverse graph's ledger.
extension Session {
    func scalarTarget(_ arguments: CommandArguments, usage: String) throws(Diagnostic) -> (NodeID, SourceSpan) {
        try arguments.expect(count: 0...1, usage: usage)
        let span = arguments.words.first?.span ?? arguments.nameSpan
        let target = try self.target(arguments.words.first, arguments)
        let y = try value(target, at: span)
        guard y.isScalar else {
            throw Diagnostic("\(label(target)) has shape \(describe(shape: y.shape)); \(usage.split(separator: " ")[0]) needs a scalar output", at: span)
        }
        return (target, span)
    }

    func ledger(of target: NodeID, at span: SourceSpan) throws(Diagnostic) -> CostLedger {
        do { return CostLedger(try workspace.reverseGraph(of: target, seeded: false)) } catch { throw evaluationError(error, at: span) }
    }

    static func bytes(_ n: Int) -> String {
        if n < 10_000 { return "\(n) B" }
        if n < 10_000_000 { return "\(n / 1000) kB" }
        return "\(n / 1_000_000) MB"
    }

    func stats(_ arguments: CommandArguments) throws(Diagnostic) {
        let (target, span) = try scalarTarget(arguments, usage: ":stats [NODE]")
        let ledger = try ledger(of: target, at: span)
        var rows = [["node", "op", "shape", "stored", "forward FLOPs", "backward FLOPs"]]
        for row in ledger.rows where !isLiteral(row.node) {
            let node = workspace.graph[row.node]
            let stored = row.recomputed ? "recomputed" : (row.stored > 0 ? Session.bytes(row.stored) : "—")
            rows.append([label(row.node), node.isLeaf ? node.kind.rawValue : node.op.name, describe(shape: node.shape),
                         stored, String(row.forwardFlops), String(row.backwardFlops)])
        }
        let ratio = ledger.forwardFlops == 0 ? "—" : format.format(Double(ledger.backwardFlops) / Double(ledger.forwardFlops))
        rows.append(["total", "", "", Session.bytes(ledger.storedBytes), String(ledger.forwardFlops), String(ledger.backwardFlops)])
        var text = "costs of the reverse pass from \(label(target)): values kept for the backward pass and FLOPs per node\n" + table(rows)
        text += "\nbackward/forward FLOPs = \(ratio)"
        let marked = ledger.rows.filter(\.recomputed).count
        if marked > 0 { text += style.dim("   (\(marked) node\(marked == 1 ? "" : "s") recomputed instead of stored)") }
        print(text)
    }

    func compare(_ arguments: CommandArguments) throws(Diagnostic) {
        let (target, span) = try scalarTarget(arguments, usage: ":compare [NODE]")
        let ledger = try ledger(of: target, at: span)
        // The leaves a gradient reaches (not class indices or leaves the output ignores).
        let live: [Bool]
        do { live = try workspace.reverseGraph(of: target, seeded: false).live } catch { throw evaluationError(error, at: span) }
        // Leaves that feed a class index are left out: central differences cannot shift them.
        let feedsIndex = workspace.graph.feedsClassIndex(of: target)
        let leaves = workspace.order.compactMap { workspace.graph.node(named: $0) }
            .filter { live.indices.contains($0) && live[$0] && workspace.graph[$0].isLeaf && !feedsIndex[$0] }
        let inputs = leaves.map { workspace.graph[$0].shape.reduce(1, *) }.reduce(0, +)
        try checkPerElementPasses(inputs, at: span)
        let forwardFlops = ledger.forwardFlops
        func timed<T>(_ body: () throws(Diagnostic) -> T) throws(Diagnostic) -> (T, Double) {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            let result = try body()
            clock_gettime(CLOCK_MONOTONIC, &end)
            return (result, Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9)
        }
        func run(_ method: DerivativeMethod) throws(Diagnostic) -> ([Tensor], Double) {
            try timed { () throws(Diagnostic) -> [Tensor] in
                var result: [Tensor] = []
                for leaf in leaves {
                    do throws(EvaluationError) {
                        result.append(try workspace.gradient(of: target, wrt: leaf, method: method))
                    } catch { throw evaluationError(error, at: span) }
                }
                return result
            }
        }
        workspace.forgetValues()
        let (reverse, reverseTime) = try run(.reverse)
        // Forward mode: per input element, the tangent nodes of every leaf's tangent graph.
        var tangentFlops = 0
        for leaf in leaves {
            do throws(EvaluationError) {
                let tangent = try ForwardMode.build(workspace.graph, input: leaf, output: target, shouldStop: workspace.shouldStop)
                var perPass = 0
                for id in tangent.base..<tangent.graph.count { perPass += tangent.graph.flops(of: id) }
                tangentFlops += perPass * workspace.graph[leaf].shape.reduce(1, *)
            } catch { throw evaluationError(error, at: span) }
        }
        let (forward, forwardTime) = try run(.forward)
        let (numeric, numericTime) = try run(.fd)
        func difference(_ other: [Tensor]) -> Double {
            var worst = 0.0
            for (a, b) in zip(reverse, other) {
                for (x, y) in zip(a.scalars, b.scalars) { worst = max(worst, abs(x - y).isNaN ? .infinity : abs(x - y)) }
            }
            return worst
        }
        let rows = [
            ["method", "passes", "FLOPs", "stored", "time", "max |difference| from reverse"],
            ["reverse", "1 forward + 1 backward", String(forwardFlops + ledger.backwardFlops), Session.bytes(ledger.storedBytes),
             Session.duration(reverseTime), "0"],
            ["forward", "1 forward + \(inputs) tangent", String(forwardFlops + tangentFlops), "0 B",
             Session.duration(forwardTime), format.format(difference(forward))],
            ["fd", "\(1 + 2 * inputs) forward", String((1 + 2 * inputs) * forwardFlops), "0 B",
             Session.duration(numericTime), format.format(difference(numeric))],
        ]
        var text = "∂\(label(target))/∂(every leaf): \(leaves.count) lea\(leaves.count == 1 ? "f" : "ves"), \(inputs) input element\(inputs == 1 ? "" : "s")\n" + table(rows)
        text += style.dim("\nreverse mode costs about \(format.format(Double(forwardFlops + ledger.backwardFlops) / Double(max(forwardFlops, 1)))) forward passes whatever the number of inputs; forward mode and finite differences grow with it")
        print(text)
    }

    /// Forward mode and finite differences take a pass or two per input element: refuse what would take hours.
    func checkPerElementPasses(_ elements: Int, at span: SourceSpan) throws(Diagnostic) {
        let limit = Workspace.perElementPassLimit
        guard elements <= limit else {
            throw Diagnostic("forward mode and finite differences take one or two passes per input element: \(elements) here, more than \(limit) (reverse mode takes one pass)", at: span)
        }
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 1e-3 { return "\(Int((seconds * 1e6).rounded())) µs" }
        if seconds < 1 { return "\(Int((seconds * 1e3).rounded())) ms" }
        return "\(Int((seconds * 10).rounded()) / 10) s"
    }
}
