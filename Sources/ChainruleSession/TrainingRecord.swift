import ChainruleCore

/// The `:train` runs since the graph or a leaf was last changed otherwise, for `:export` to take
/// them again (``Exporter/Replay``): the params' values before the first run, and each run.
struct TrainingRecord {
    struct Run {
        var command: String
        var loss: String
        var params: [String]
        var optimizer: Optimizer
        var steps: Int
        var continued: Bool
        var batch: Minibatch?
    }

    /// A `:train … batch=B`: the minibatch copy it trained, its data leaves and each step's rows.
    struct Minibatch {
        var space: Workspace
        var leaves: [String]
        var rows: [[Int]]
    }

    /// The workspace's version and leaf edits after the last run: the record holds while both are.
    var version: Int
    var edits: Int
    /// Every param's value before the first run.
    var start: [String: Tensor]
    var runs: [Run] = []
    /// The runs that are not taken again (`restarts=`): the record starts after them.
    var notes: [String] = []

    static func command(_ arguments: CommandArguments) -> String {
        ([":train"] + arguments.words.map(\.text)).joined(separator: " ")
    }

    /// The record with `run` added, holding until `workspace` changes.
    func adding(_ run: Run, after workspace: Workspace) -> TrainingRecord {
        var record = self
        record.runs.append(run)
        record.version = workspace.version
        record.edits = workspace.valueEdits
        return record
    }

    /// A record starting after a run that is not taken again (its params are written as it left them).
    func notTakenAgain(_ arguments: CommandArguments, why: String, after workspace: Workspace) -> TrainingRecord {
        let note = "\(Self.command(arguments)) is not taken again (\(why)): the params start from the values it reached."
        return TrainingRecord(version: workspace.version, edits: workspace.valueEdits, start: [:], runs: [], notes: notes + [note])
    }
}

extension Session {
    /// The record a `:train` goes on: the last one while the workspace is as the last run left
    /// it, else a new one from the params' values now.
    func startRecord(params: [String]) -> TrainingRecord {
        var record = TrainingRecord(version: workspace.version, edits: workspace.valueEdits, start: [:])
        if let kept = trainingRecord, kept.version == workspace.version, kept.edits == workspace.valueEdits { record = kept }
        // A param no run of the record has trained starts from its value now.
        for p in params where record.start[p] == nil { record.start[p] = workspace.entries[p]?.value }
        return record
    }

    /// The record as ``Exporter`` takes it, when it still holds.
    var replay: Exporter.Replay? {
        guard let record = trainingRecord, record.version == workspace.version, record.edits == workspace.valueEdits else { return nil }
        let graph = workspace.graph
        var trainings: [Exporter.Training] = []
        var start: [NodeID: Tensor] = [:]
        for run in record.runs {
            guard let loss = graph.node(named: run.loss) else { return nil }
            let params = run.params.compactMap { graph.node(named: $0) }
            guard params.count == run.params.count else { return nil }
            for (id, name) in zip(params, run.params) { start[id] = record.start[name] }
            var batch: Exporter.Batch?
            if let minibatch = run.batch {
                let small = minibatch.space.graph
                guard let smallLoss = small.node(named: run.loss) else { return nil }
                let smallParams = run.params.compactMap { small.node(named: $0) }
                let leaves = minibatch.leaves.compactMap { name in graph.node(named: name).flatMap { id in small.node(named: name).map { (id, $0) } } }
                guard smallParams.count == params.count, leaves.count == minibatch.leaves.count else { return nil }
                batch = Exporter.Batch(graph: small, values: minibatch.space.evaluation, leaves: leaves, loss: smallLoss,
                                       params: smallParams, rows: minibatch.rows)
            }
            trainings.append(Exporter.Training(command: run.command, loss: loss, params: params, optimizer: run.optimizer,
                                               steps: run.steps, continued: run.continued, batch: batch))
        }
        return Exporter.Replay(start: start, trainings: trainings, notes: record.notes)
    }
}
