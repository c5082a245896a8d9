/// Checking an edited workspace against a fresh build of its definitions.
extension Workspace {
    /// Where this workspace differs from ``rebuiltFromFormulas()``, nil when it agrees node for
    /// node: ops, inputs, shapes, kinds, roles, names, the calls of modules that made them and leaf values, which definitions are
    /// broken and with what message, and every value computed (NaN equal to NaN). What the
    /// tests and the fuzz target ask of every edit.
    public func differenceFromFreshBuild() -> String? {
        var fresh = rebuiltFromFormulas()
        var edited = self
        // Both passes run to the end: one stopped and the other not would be no difference.
        (fresh.shouldStop, edited.shouldStop) = ({ false }, { false })
        if fresh.graph.count != graph.count { return "\(graph.count) nodes, a fresh build has \(fresh.graph.count)" }
        for id in 0..<graph.count {
            let a = graph[id], b = fresh.graph[id]
            guard a.op == b.op, a.inputs == b.inputs, a.shape == b.shape, a.kind == b.kind, a.role == b.role,
                  a.name == b.name, Workspace.same(a.value, b.value) else {
                return "node %\(id) is \(a.op.name)\(Array(a.inputs)) \(a.name ?? ""), a fresh build has \(b.op.name)\(Array(b.inputs)) \(b.name ?? "")"
            }
            let calls = graph.calls(of: id), freshCalls = fresh.graph.calls(of: id)
            guard calls.map(\.moduleID) == freshCalls.map(\.moduleID),
                  calls.map(\.site.range) == freshCalls.map(\.site.range), calls.map(\.arguments) == freshCalls.map(\.arguments) else {
                return "node %\(id) was made in the calls \(calls.map { graph.moduleName(of: $0) }), in a fresh build in \(freshCalls.map { fresh.graph.moduleName(of: $0) })"
            }
        }
        for name in order where broken[name]?.message != fresh.broken[name]?.message {
            return "'\(name)' is \(broken[name].map { "broken: \($0.message)" } ?? "defined"), in a fresh build \(fresh.broken[name].map { "broken: \($0.message)" } ?? "defined")"
        }
        let mine = Result { () throws(EvaluationError) in try edited.evaluateAll() }
        let theirs = Result { () throws(EvaluationError) in try fresh.evaluateAll() }
        switch (mine, theirs) {
        case (.success, .success):
            for id in 0..<graph.count where !Workspace.same(edited.evaluation[id], fresh.evaluation[id]) {
                return "node %\(id) has the value \(String(describing: edited.evaluation[id])), in a fresh build \(String(describing: fresh.evaluation[id]))"
            }
        case (.failure, .failure):
            break
        default:
            return "the forward pass \(mine.isSuccess ? "succeeds" : "fails"), in a fresh build it \(theirs.isSuccess ? "succeeds" : "fails")"
        }
        return nil
    }

    private static func same(_ a: Tensor?, _ b: Tensor?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.shape == b.shape && a.scalars.elementsEqual(b.scalars) { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }
}

private extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
