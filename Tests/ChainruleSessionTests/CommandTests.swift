import ChainruleCore
@testable import ChainruleSession
import XCTest

final class CommandTests: XCTestCase {
    func printed(_ session: Session, _ output: MergedOutput, _ text: String) -> String {
        let before = output.text.count
        XCTAssertTrue(execute(session, text), output.errors)
        return String(output.text.dropFirst(before))
    }

    /// Before any reverse pass a gradient reads "not computed", never 0.
    func testGradientIsNotComputedBeforeBackward() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 2; y = x * x"))
        XCTAssertTrue(printed(session, output, ":show x").contains("grad   not computed"))
        _ = printed(session, output, ":backward y")
        XCTAssertTrue(printed(session, output, ":show x").contains("grad   ∂y/∂x = 4"))
        XCTAssertTrue(execute(session, "x = 3"))
        XCTAssertTrue(printed(session, output, ":show x").contains("grad   not computed"), "a change makes old gradients stale")
    }

    /// A vector output needs a seed; with one, the reverse pass is a vector–Jacobian product.
    func testBackwardWithASeed() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "A = [[1, 2], [3, 4]]; x = [1, 1]; y = A @ x"))
        XCTAssertFalse(execute(session, ":backward y"))
        XCTAssertTrue(output.errors.contains("not a scalar"))
        let text = printed(session, output, ":backward y seed=[1, 0]")
        XCTAssertTrue(text.contains("∂y/∂x = [1, 2]"), text)
        XCTAssertFalse(execute(session, ":backward y seed=[1, 0, 0]"))
        XCTAssertTrue(output.errors.contains("the seed has shape (3) but y has shape (2)"), output.errors)
    }

    /// The Jacobian of an invertible linear map is the matrix itself, and its determinant is shown.
    func testJacobianAndDeterminant() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "A = [[2, 1], [1, 3]]; x = [1, 1]; y = A @ x"))
        let text = printed(session, output, ":jacobian y x")
        XCTAssertTrue(text.contains("[[2, 1],\n [1, 3]]"), text)
        XCTAssertTrue(text.contains("det = 5"), text)
        // Polar coordinates: det ∂(x, y)/∂(r, φ) = r.
        XCTAssertTrue(execute(session, "p = [2, 0.5]; q = [p[0] * cos(p[1]), p[0] * sin(p[1])]"))
        XCTAssertTrue(printed(session, output, ":jacobian q p").contains("det = 2\n"))
    }

    /// `:check` agrees with finite differences on smooth graphs and flags a wrong gradient at a kink.
    func testCheckReportsAgreementAndKinks() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param W = [[0.5, -1], [2, 0.25]]; input x = [1, -2]; L = sum(tanh(W @ x) ^ 2)"))
        let smooth = printed(session, output, ":check L")
        XCTAssertTrue(smooth.contains("gradients agree"), smooth)
        XCTAssertTrue(execute(session, "z = [0, 1]; K = sum(relu(z))"))
        let kink = printed(session, output, ":check K")
        XCTAssertTrue(kink.contains("MISMATCH") && kink.contains("gradients disagree"), kink)
    }

    func testGradWrtAnIntermediateAndAnUnrelatedLeaf() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 3; u = 5; h = x * x; y = 2 * h"))
        XCTAssertEqual(printed(session, output, ":grad y wrt h"), "∂y/∂h = 2\n")
        XCTAssertEqual(printed(session, output, ":grad y wrt u"), "∂y/∂u = 0  (y does not depend on u)\n")
    }

    /// Unnamed nodes can be named in commands by the `%ID` that listings show.
    func testPercentIDsNameUnnamedNodes() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "A = [[1, 2], [3, 4]]; x = [1, -1]; L = sum(relu(A @ x))"))
        XCTAssertTrue(printed(session, output, ":forward L").contains("%2    matmul(A, x)"))
        XCTAssertTrue(printed(session, output, ":show %2").hasPrefix("%2 = matmul(A, x)\n"))
        XCTAssertEqual(printed(session, output, ":grad L wrt %2"), "∂L/∂%2 = [0, 0]\n")
        XCTAssertTrue(execute(session, "y = x * 2; z = [[1, 2], [3, 4], [5, 6]] @ x"))
        let small = printed(session, output, ":forward y")
        XCTAssertTrue(small.contains("mul(x, 2)"), "small literals read as their value: \(small)")
        let large = printed(session, output, ":forward z")
        XCTAssertTrue(large.contains("matmul(%"), "larger constants keep their id: \(large)")
        XCTAssertFalse(execute(session, ":show %99"))
        XCTAssertTrue(output.errors.contains("there is no node %99"), output.errors)
    }

    /// Every command has help text with an example, and the README documents it.
    func testEveryCommandIsDocumented() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let (session, output) = makeSession()
        for command in Session.commands {
            XCTAssertTrue(readme.contains("| `:\(command.name)"), "README lacks :\(command.name)")
            let text = printed(session, output, ":help \(command.name)")
            XCTAssertTrue(text.hasPrefix(command.usage) && text.contains("example:\n  :"), text)
        }
    }

    func testSettings() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, ":set precision 3; 1/3"))
        XCTAssertTrue(output.text.hasSuffix("0.333\n"))
        XCTAssertFalse(execute(session, ":set precision 0"))
        XCTAssertFalse(execute(session, ":set colr on"))
        XCTAssertTrue(output.errors.contains("did you mean 'color'?"))
    }

    func testCompletion() {
        let (session, _) = makeSession()
        XCTAssertTrue(execute(session, "learning_rate = 0.1; learned = 2"))
        XCTAssertEqual(session.complete(":bac"), Completion(word: ":bac", candidates: [":backward "]))
        XCTAssertEqual(session.complete("y = lea").candidates, ["leaky_relu(", "learned", "learning_rate"])
        XCTAssertEqual(session.complete("y = sig").candidates, ["sigmoid(", "sign("])
        XCTAssertEqual(session.complete(":show learni").candidates, ["learning_rate"])
        XCTAssertEqual(session.complete(":help ba").candidates, ["backward"])
    }

    func testPathCompletionAfterLoadAndSave() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("lectures"), withIntermediateDirectories: true)
        try "".write(to: folder.appendingPathComponent("lecture1.graph"), atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (session, _) = makeSession()
        let completion = session.complete(":load \(folder.path)/lec")
        XCTAssertEqual(completion.word, "\(folder.path)/lec")
        XCTAssertEqual(completion.candidates, ["\(folder.path)/lecture1.graph", "\(folder.path)/lectures/"])
        XCTAssertEqual(session.complete(":save \(folder.path)/lectures/").candidates, [])
    }

    /// The JSON document lists every node in topological order with values and gradients.
    func testJSONDocument() throws {
        let (session, _) = makeSession()
        session.quiet = true
        XCTAssertTrue(execute(session, "x = [1, 2]; u = 7; v = u * 3; L = sum(x * x) + log(u - 7) * 0"))
        let text = try session.json(output: "L")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["output"] as? String, "L")
        let nodes = try XCTUnwrap(object["nodes"] as? [[String: Any]])
        XCTAssertEqual(nodes.map { $0["id"] as? Int }, Array(0..<nodes.count))
        for node in nodes {
            for input in node["inputs"] as? [Int] ?? [] { XCTAssertLessThan(input, node["id"] as? Int ?? 0) }
        }
        let x = try XCTUnwrap(nodes.first { $0["name"] as? String == "x" })
        XCTAssertEqual(x["kind"] as? String, "input")
        XCTAssertEqual(x["op"] as? String, "const")
        XCTAssertEqual(x["value"] as? [Double], [1, 2])
        XCTAssertEqual(x["shape"] as? [Int], [2])
        let u = try XCTUnwrap(nodes.first { $0["name"] as? String == "u" })
        XCTAssertEqual(u["grad"] as? String, "nan", "0 · ∂log(u − 7)/∂u at u = 7 is NaN")
        let v = try XCTUnwrap(nodes.first { $0["name"] as? String == "v" })
        XCTAssertTrue(v["grad"] is NSNull, "the output does not depend on v")
        XCTAssertEqual(v["value"] as? Double, 21)
        XCTAssertTrue(text.contains("\"value\": \"-inf\""), "log(0) is written as a string")
        XCTAssertTrue(text.contains("\"value\": \"nan\""), "-inf * 0 is NaN")
    }
}
