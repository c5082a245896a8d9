import ChainruleTestSupport
import Foundation
import XCTest

/// `--export jax` and `--export torch` of a graph holding every built-in and every point where
/// chainrule's definition differs from a framework's default, run under JAX and under PyTorch and
/// compared with `--json` by the comparison `scripts/verify-export` makes (JAX installed into
/// `.build-export-venv/` when missing; PyTorch, a wheel of several GB, only used when it imports there).
final class ExportCommandLineTests: FolderTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every built-in, and each semantic difference the export must handle: exact GELU, first-maximum
    /// ties for `max` (and `argmax` in its derivative), `relu′(0) = abs′(0) = 0`, `max(a, b)` tying
    /// to `a`, `kl(p, q)` in this order, `bce` clamped at −100, softmax over the last axis of a
    /// matrix, integer class indices (of `cross_entropy` and `one_hot`), batched transposes and
    /// logits, `grad()` nested, modules (one calling another, one given a number), and a tensor output.
    static let graph = """
        param x = [-1.5, 0, 0.5, 2, 2]
        param s = 0.2
        param W = [[0.5, -1, 0.3, 0.2, 0.1], [1.2, 0.4, -0.8, 0.6, -0.3]]
        input k = [1, 0]
        input p0 = [0, 1, 0.5]
        param z = [0.3, -0.7, 1.1]
        act = relu(x) + leaky_relu(x, a=s) + elu(x - 1, a=s) + gelu(x) + sigmoid(x) + tanh(x) + softplus(x) + silu(x) + hardtanh(x) + linear(x) + abs(x) + step(x) + sign(x) + ReLU(x) + GELU(x)
        pos = exp(x) + log(x * x + 1) + sqrt(x * x + 1) + sin(x) + cos(x) + x ^ 2 + 2 ^ x + x / (x * x + 1)
        ties = max(x, 0) + 2 * min(x, 2) + 3 * max(0, x) + max(x, x[::-1])
        A = W @ x + [sum(x), mean(x)]
        M = softmax(W) + log_softmax(W) + transpose(transpose(W))
        e = einsum("ij,j->i", W, x) + dot(x, x) + sum(W, 0)[0:2] + mean(W, -1)
        layer(u, V) = tanh(V @ u)
        hidden = layer(x, W)
        wrap(u, V) = layer(u, V) * 2 + 1
        scaled(u, c) = u * c
        wrapped = wrap(x, W) + wrap(x, 2 * W)
        q = softmax(z)
        losses = mse(A, [1, -1]) + cross_entropy(W, k) + cross_entropy(W[0], 3) + cross_entropy(W, softmax(W)) + bce(sigmoid(z), [0, 1, 1]) + bce(p0, [1, 0, 1]) + kl(q, softmax(2 * z)) + kl(q, p0 / sum(p0) + 0.1) + bce_with_logits(z, [1, 0, 1])
        c = zeros(2) + ones(2) + eye(2)[1] + randn(2, seed=1) + rand(2, seed=2)
        g1 = grad(sum(act * pos), x)
        g2 = grad(grad(tanh(s) * s, s), s)
        g3 = grad(max(x) + sum(hidden), x)
        B3 = [W, 2 * W]
        batched = sum(matrix_transpose(B3) @ B3) + cross_entropy(B3, [k, [0, 1]]) + cross_entropy(B3, softmax(B3)) + sum(one_hot(k, 5) @ x)
        L = batched + sum(act) + sum(pos) + sum(ties) + sum(A) + sum(M) + sum(e) + losses + sum(c) + sum(g1 * x) + g2 + sum(g3) + max(x) + sum([hidden[0], s, x[-1]] * 2) + sum(M[1, :]) + sum(wrapped) + sum(scaled(x, 3))
        out = hidden * [1, 2]
        """

    static let venv = root.appendingPathComponent(".build-export-venv")

    /// The exit status of a program run with its output discarded, -1 when it does not start.
    func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The virtual environment's Python with JAX, installed when missing; nil when it cannot be.
    func jaxPython() -> String? {
        let venv = Self.venv
        let python = venv.appendingPathComponent("bin/python").path
        if !FileManager.default.fileExists(atPath: python) {
            guard run("/usr/bin/env", ["python3", "-m", "venv", venv.path]) == 0 else { return nil }
        }
        if run(python, ["-c", "import jax"]) != 0 {
            guard run(python, ["-m", "pip", "install", "-q", "jax"]) == 0, run(python, ["-c", "import jax"]) == 0 else { return nil }
        }
        return python
    }

    /// The virtual environment's Python when PyTorch imports there (never installed here).
    func torchPython() -> String? {
        let python = Self.venv.appendingPathComponent("bin/python").path
        return run(python, ["-c", "import torch"]) == 0 ? python : nil
    }

    /// Exports `graph` for `framework` (`jax` or `torch`), runs the script under it and compares
    /// its document with `--json`'s, skipping when the framework is not there.
    func compare(_ graph: String = graph, output: String?, under framework: String = "jax") throws {
        let python: String
        if framework == "torch" {
            guard let found = torchPython() else {
                throw XCTSkip("PyTorch does not import in .build-export-venv (scripts/verify-export --torch installs it): the export is not compared under PyTorch")
            }
            python = found
        } else {
            guard let found = jaxPython() else {
                throw XCTSkip("JAX cannot be installed into .build-export-venv (python3 -m venv and pip install jax failed): the export is not compared")
            }
            python = found
        }
        let script = folder.appendingPathComponent("all.graph")
        try graph.write(to: script, atomically: true, encoding: .utf8)
        let of = output.map { ["--of", $0] } ?? []
        let json = try runChainrule(["--json"] + of + [script.path])
        XCTAssertEqual(json.status, 0, json.standardError)
        let export = try runChainrule(["--export", framework] + of + [script.path])
        XCTAssertEqual(export.status, 0, export.standardError)
        let expected = folder.appendingPathComponent("expected.json"), exported = folder.appendingPathComponent("all.py")
        try json.standardOutput.write(to: expected, atomically: true, encoding: .utf8)
        try export.standardOutput.write(to: exported, atomically: true, encoding: .utf8)
        if framework == "torch" {
            XCTAssertTrue(export.standardOutput.contains("torch.autograd.grad(y, x, create_graph=True"), "grad() is the framework's grad, differentiable again")
            XCTAssertTrue(export.standardOutput.contains("return torch.nn.functional.gelu(x)  #"), "GELU is PyTorch's default, exact")
        } else if graph == Self.graph {
            XCTAssertTrue(export.standardOutput.contains("jax.grad"), "grad() is the framework's grad")
            XCTAssertTrue(export.standardOutput.contains("approximate=False"), "GELU is exact")
            XCTAssertTrue(export.standardOutput.contains("def wrap(t, k, u, V):"), "a module is a function")
        }
        let jobs = folder.appendingPathComponent("jobs")
        let job = "{\"label\": \"all\", \"script\": \"\(exported.path)\", \"expected\": \"\(expected.path)\"}\n"
        try job.write(to: jobs, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.root.appendingPathComponent("scripts/verify-export").path, "--worker", jobs.path, framework]
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let (out, errors) = readToEnd(process, stdout, stderr)
        let line = String(decoding: out, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: errors, as: UTF8.self))
        XCTAssertTrue(line.contains("\"ok\": true"), "\(framework) agrees with chainrule: \(line)")
    }

    func testEveryBuiltinAndEverySemanticDifferenceAgreesUnderJAX() throws {
        try compare(output: "L")
    }

    func testATensorOutputSeededWithOnesAgreesUnderJAX() throws {
        try compare(output: "out")
    }

    /// `:train` runs exported as the same optimizer loop: sgd, momentum going on with its state
    /// from one `:train` to the next, then Adam with weight decay from a new state, on params that
    /// start from a seeded initialiser and a module, then minibatches of one row from a new state
    /// and from the state kept. The document after training must agree.
    static let training = """
        layer(u, V, c) = tanh(V @ u + c)
        input X = [[1, 2, -1], [0.5, -0.5, 2]]
        input y = [1, -1]
        param W = xavier(3, 3, seed=4)
        param b = [[0.1], [0], [-0.1]]
        param v = [0.3, -0.2, 0.5]
        h = layer(transpose(X), W, b)
        L = mean((v @ h - y) ^ 2)
        :train L steps=20 lr=0.1
        :train L steps=15 lr=0.05 optimizer=momentum beta=0.8
        :train L steps=10 lr=0.05 optimizer=momentum beta=0.8
        :train L steps=25 lr=0.02 optimizer=adam decay=0.01
        :train L steps=12 lr=0.02 optimizer=adam batch=1 seed=5
        :train L steps=6 lr=0.02 optimizer=adam batch=1 seed=6
        """

    func testTrainingIsTakenAgainUnderJAX() throws {
        // Without minibatches first (the script then has no minibatch graph), then with them.
        try compare(Self.training.split(separator: "\n").filter { !$0.contains("batch=") }.joined(separator: "\n"), output: "L")
        try compare(Self.training, output: "L")
        let export = try runChainrule(["--export", "jax", folder.appendingPathComponent("all.graph").path])
        XCTAssertEqual(export.status, 0, export.standardError)
        let text = export.standardOutput
        for steps in [", 20, \"sgd\", 0.1, ", ", 15, \"momentum\", 0.05, 0.8, ", ", 10, \"momentum\", 0.05, 0.8, ", ", 25, \"adam\", 0.02, 0.9, 0.999, 1e-08, 0.01, state)"] {
            XCTAssertTrue(text.contains(steps), "a descend(…) call with \(steps): \(text)")
        }
        XCTAssertEqual(text.components(separatedBy: "    state = new_state()\n").count - 1, 4,
                       "a state to begin with, then momentum's anew after sgd, Adam's after momentum, and the minibatch's: \(text)")
        XCTAssertEqual(text.components(separatedBy: "    descend(minibatch0, ").count - 1, 2, text)
        XCTAssertTrue(text.contains("    # (its adam state goes on from the :train before)"), text)
        XCTAssertTrue(text.contains("    # (its momentum state goes on from the :train before)"), text)
        XCTAssertTrue(text.contains("optimizer=adam decay=0.01"), text)
        // :export says it takes the runs again.
        let session = folder.appendingPathComponent("session.graph")
        try (Self.training + "\n:export again.py\n").write(to: session, atomically: true, encoding: .utf8)
        let said = try runChainrule([session.path])
        XCTAssertEqual(said.status, 0, said.standardError)
        XCTAssertTrue(said.standardOutput.contains("again.py, taking the 6 :train runs again (run: python3 "), said.standardOutput)
    }

    func testEveryBuiltinAndEverySemanticDifferenceAgreesUnderPyTorch() throws {
        try compare(output: "L", under: "torch")
    }

    func testATensorOutputSeededWithOnesAgreesUnderPyTorch() throws {
        try compare(output: "out", under: "torch")
    }

    func testTrainingIsTakenAgainUnderPyTorch() throws {
        try compare(Self.training, output: "L", under: "torch")
    }

    /// A misspelt framework gets a suggestion, and a node that is not there is pointed at after `of=`.
    func testExportErrorsSayWhereAndWhat() throws {
        for (line, expected) in [(":export out.py tourch", "x.graph:2:16: error: unexpected argument 'tourch'; did you mean 'torch'? usage:"),
                                 (":export out.py of=yy", "x.graph:2:19: error: undefined name 'yy'; did you mean 'y'?")] {
            let script = folder.appendingPathComponent("x.graph")
            try "y = 1\n\(line)\n".write(to: script, atomically: true, encoding: .utf8)
            let result = try runChainrule([script.path])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.standardError.contains(expected), result.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.py").path), "nothing is written")
        }
    }

    func testExportNeedsAFrameworkItKnows() throws {
        let result = try runChainrule(["--export", "numpy", "-e", "x = 1"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.standardError.contains("--export takes jax or torch, got 'numpy'"), result.standardError)
    }
}
