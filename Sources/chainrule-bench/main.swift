// Prints timings, as JSON, for scripts/bench to set beside its peers'.
//
//   chainrule-bench graph FILE NODE [REPEATS]   check FILE ("parse": every statement parsed, no tree kept; the best of
//       REPEATS checks), define its
//       graph reading each statement again as a session does, nodes appended as formulas are read ("build":
//       that second reading; "build" less "parse" is what defining adds to reading),
//       then time forward and reverse passes from NODE:
//       "backward" is Workspace.gradients(of:) with its reverse graph built (what :grad and :train reuse),
//       "reverse_build" the first such call (building the reverse graph, then evaluating it)
//   chainrule-bench matmul N [REPEATS]          time an N×N by N×N matmul (OpenBLAS, CHAINRULE_THREADS threads)
//   chainrule-bench frontend MB|FILE [REPEATS]  time reading, lexing and parsing a scalar-MLP script of MB
//                                               megabytes (generated) or of FILE, in MB/s ("check": parsing
//                                               every statement without keeping its tree, what a script run does first)
import ChainruleCore
import Glibc

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The fastest of `repeats` runs of `body`, in seconds.
func fastest(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<max(repeats, 1) {
        let start = now()
        try body()
        best = min(best, now() - start)
    }
    return best
}

/// The process's resident memory now, in bytes (from /proc/self/statm).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { s in withUnsafeMutablePointer(to: &resident) { r in
        withVaList([s, r]) { vfscanf(file, "%ld %ld", $0) } } }) == 2 else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func fail(_ message: String) -> Never {
    let bytes = Array("chainrule-bench: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func readFile(_ path: String) -> String {
    guard let file = fopen(path, "rb") else { fail("cannot read \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[0..<n]
        if n < chunk.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

let arguments = Array(CommandLine.arguments.dropFirst())
// As the chainrule binary does.
Allocator.keepLargeBlocks()

switch arguments.first {
case "graph" where arguments.count >= 3:
    let repeats = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
    let text = readFile(arguments[1])
    let rssStart = residentBytes()
    let source = Source(name: arguments[1], text: text)
    var workspace = Workspace()
    // As a session runs a script: every statement checked, then each read again and run.
    let build = now()
    let (diagnostics, statements) = Parser.check(source)
    // The check again, for the front end's rate: the best of `repeats` (the first is cold).
    let parseTime = min(now() - build, fastest(repeats - 1) { _ = Parser.check(source) })
    let rssParsed = residentBytes()
    if let first = diagnostics.first { fail(first.message) }
    // The second reading, which defines: each new name's nodes appended as its formula is read.
    var reader = Workspace.ScriptReader(statements)
    let defineStart = now()
    workspace.reserve(definitions: reader.definitions)
    while let read = workspace.read(&reader) {
        switch read {
        case .defined: continue
        case .statement(.definition(let definition)):
            do { try workspace.define(definition, in: source) } catch { fail(error.message) }
        case .statement: continue
        case .refused(let problem, _): fail(problem.message)
        }
    }
    let readTime = now() - defineStart
    // "build" less "parse" is what defining adds to reading the text (the check reads it once alone).
    let buildTime = readTime
    let rssBuilt = residentBytes()
    guard let output = workspace.graph.node(named: arguments[2]) else { fail("no node \(arguments[2])") }
    var values = Evaluation()
    let forward = try fastest(repeats) {
        values = Evaluation()
        try values.computeAll(in: workspace.graph)
    }
    // The reverse graph: built on the first call, reused by every later one while the graph is unchanged.
    _ = try workspace.value(of: output)
    var gradients: Gradients?
    let reverseBuild = try fastest(1) { gradients = try workspace.gradients(of: output) }
    let rssReverse = residentBytes()
    let reverseNodes = try workspace.reverseGraph(of: output, seeded: false).graph.count - workspace.graph.count
    let backward = try fastest(repeats) { gradients = try workspace.gradients(of: output) }
    // A few gradients, so the caller can check them against its peer.
    let probes = workspace.order.prefix(3).map { name -> String in
        let id = workspace.graph.node(named: name) ?? 0
        return "\"\(name)\": \(gradients?[id]?.scalars.first ?? .nan)"
    }
    print("{\"nodes\": \(workspace.graph.count), \"bytes\": \(text.utf8.count), \"parse\": \(parseTime), \"build\": \(buildTime), \"forward\": \(forward), \"backward\": \(backward), \"reverse_build\": \(reverseBuild), \"rss_start\": \(rssStart), \"rss_parsed\": \(rssParsed), \"rss_built\": \(rssBuilt), \"rss_reverse\": \(rssReverse), \"reverse_nodes\": \(reverseNodes), \"value\": \(values[output]?.scalars.first ?? .nan), \"grads\": {\(probes.joined(separator: ", "))}}")
case "matmul" where arguments.count >= 2:
    guard let n = Int(arguments[1]) else { fail("matmul N") }
    let repeats = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
    var random = SeededRandom(seed: 1)
    let a = Tensor(shape: [n, n], scalars: (0..<(n * n)).map { _ in random.normal() })
    let b = Tensor(shape: [n, n], scalars: (0..<(n * n)).map { _ in random.normal() })
    var c = Tensor(0)
    let time = fastest(repeats) { c = Matmul.apply(a, b) }
    print("{\"n\": \(n), \"seconds\": \(time), \"gflops\": \(2 * Double(n * n * n) / time / 1e9), \"check\": \(c.scalars[0]), "
          + "\"threads\": \(BLAS.threads), \"kernel\": \"\(BLAS.kernel)\"}")
case "frontend" where arguments.count >= 2:
    let repeats = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
    let text = Double(arguments[1]).map { scalarMLPScript(megabytes: $0) } ?? readFile(arguments[1])
    let bytes = Double(text.utf8.count)
    var source = Source(name: "bench.graph", text: text)
    let read = fastest(repeats) { source = Source(name: "bench.graph", text: text) }
    var tokens = 0
    let lex = fastest(repeats) { tokens = Lexer.tokenize(source).tokens.count }
    // The trees are freed outside the timed region: lowering keeps them no longer than that.
    var statements = 0
    var parse = Double.infinity
    for _ in 0..<max(repeats, 1) {
        let start = now()
        let (parsed, diagnostics) = Parser.parse(source)
        parse = min(parse, now() - start)
        if let first = diagnostics.first { fail(first.message) }
        statements = parsed.count
    }
    // What a session does first: every statement checked, no tree kept.
    let check = fastest(repeats) {
        let (diagnostics, _) = Parser.check(source)
        if let first = diagnostics.first { fail(first.message) }
    }
    func rate(_ seconds: Double) -> Double { bytes / seconds / 1e6 }
    print("{\"bytes\": \(Int(bytes)), \"tokens\": \(tokens), \"statements\": \(statements), "
        + "\"read_mbps\": \(rate(read)), \"lex_mbps\": \(rate(lex)), \"lex_parse_mbps\": \(rate(parse)), "
        + "\"front_end_mbps\": \(rate(read + parse)), \"check_mbps\": \(rate(check))}")
default:
    fail("usage: chainrule-bench graph FILE NODE [REPEATS] | matmul N [REPEATS] | frontend MB|FILE [REPEATS]")
}

/// A script of at least `megabytes` MB defining scalar MLPs (24 inputs, layers of 48 tanh
/// neurons, one definition per neuron), with its weights as `param` lines of full-precision numbers.
func scalarMLPScript(megabytes: Double) -> String {
    var random = SeededRandom(seed: 7)
    var lines: [String] = []
    var size = 0
    func add(_ line: String) {
        lines.append(line)
        size += line.utf8.count + 1
    }
    let inputs = 24, width = 48
    for i in 0..<inputs { add("input x\(i) = \(random.uniform())") }
    var previous = (0..<inputs).map { "x\($0)" }
    var layer = 0
    while Double(size) < megabytes * 1e6 {
        layer += 1
        var current: [String] = []
        for j in 0..<width {
            for i in previous.indices { add("param w\(layer)_\(j)_\(i) = \(random.normal() * 0.2)") }
            add("param b\(layer)_\(j) = \(random.normal() * 0.01)")
            let terms = previous.indices.map { "w\(layer)_\(j)_\($0) * \(previous[$0])" }.joined(separator: " + ")
            add("h\(layer)_\(j) = tanh(\(terms) + b\(layer)_\(j))")
            current.append("h\(layer)_\(j)")
        }
        previous = current
    }
    return lines.joined(separator: "\n") + "\n"
}
