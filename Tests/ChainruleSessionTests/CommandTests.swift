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

    /// `:check` agrees with finite differences on smooth graphs and explains a difference at a kink.
    func testCheckReportsAgreementAndKinks() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param W = [[0.5, -1], [2, 0.25]]; input x = [1, -2]; L = sum(tanh(W @ x) ^ 2)"))
        let smooth = printed(session, output, ":check L")
        XCTAssertTrue(smooth.contains("gradients agree"), smooth)
        XCTAssertTrue(execute(session, "z = [0, 1]; K = sum(relu(z))"))
        // At relu's kink the central difference is (h − 0)/2h = 0.5; the reverse pass uses 0.
        XCTAssertEqual(printed(session, output, ":check K"), """
            gradient check of K: reverse pass vs central differences, h = ∛ε·max(1, |x|)
            leaf  shape  max abs error  max rel error
            z     (2)    0.5            1              at a kink: the two finite-difference points straddle it
            max relative error 1: gradients differ only at kinks, which central differences cannot resolve

            """)
    }

    /// With `seed=p` every gradient is the vector–Jacobian product p·∂f/∂node, and says so.
    func testASeededBackwardPassIsLabelledWithTheSeed() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "W = [[1, 2, 3], [0.5, -1, 0]]; x = [0.1, 0.2, 0.3]; f = tanh(W @ x)"))
        let text = printed(session, output, ":backward f seed=[0.5, 2]")
        XCTAssertTrue(text.hasPrefix("backward pass from f, seed p = [0.5, 2]: each gradient is p·∂f/∂node; nodes in reverse topological order\n"), text)
        // W @ x = [1.4, -0.15]; p·∂f/∂x = Wᵀ (p ⊙ (1 − tanh²)), computed here by hand.
        let t = [tanh(1.4), tanh(-0.15)]
        let u = [0.5 * (1 - t[0] * t[0]), 2 * (1 - t[1] * t[1])]
        let expected = [1 * u[0] + 0.5 * u[1], 2 * u[0] - 1 * u[1], 3 * u[0]]
        let format = NumberFormat()
        XCTAssertTrue(text.contains("  upstream  p·∂f/∂x = " + format.inline(Tensor(expected)) + "\n"), text)
        XCTAssertTrue(text.contains("  upstream  p·∂f/∂f          = [0.5, 2]   seed\n"), text)
        XCTAssertTrue(text.contains("  chain     p·∂f/∂f · ∂f/∂%2 = "), text)
        XCTAssertFalse(text.contains(" ∂f/∂x"), "no row may claim to be the Jacobian ∂f/∂x: \(text)")
        XCTAssertTrue(printed(session, output, ":show x").contains("  grad   p·∂f/∂x = "))
        // An unseeded pass is labelled plainly again.
        XCTAssertTrue(execute(session, "L = sum(f)"))
        XCTAssertTrue(printed(session, output, ":backward L").contains("  upstream  ∂L/∂x = "))
        XCTAssertTrue(printed(session, output, ":show x").contains("  grad   ∂L/∂x = "))
    }

    /// Literals and class indices are constants of the formula: :grad leaves them out by default
    /// and says why when asked; :backward shows the class index without a derivative.
    func testConstantsAndClassIndicesHaveNoGradient() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 0; L = (x - 1)^2"))
        XCTAssertEqual(printed(session, output, ":grad L"), "∂L/∂x = -2\n")
        XCTAssertEqual(printed(session, output, ":grad L wrt %3"), "∂L/∂%3: none, %3 is a number written in a formula, a constant\n")
        XCTAssertFalse(printed(session, output, ":backward L").contains("∂L/∂%3"))
        XCTAssertTrue(execute(session, "z = [1, 2, 3]; c = 0; u = 4; C = cross_entropy(z, c)"))
        XCTAssertEqual(printed(session, output, ":grad C"), """
            ∂C/∂x = 0  (C does not depend on x)
            ∂C/∂z = [-0.909969, 0.244728, 0.665241]
            ∂C/∂u = 0  (C does not depend on u)

            """)
        XCTAssertEqual(printed(session, output, ":grad C wrt c"), "∂C/∂c: none, C uses c only as a class index, which is not differentiated\n")
        XCTAssertTrue(printed(session, output, ":backward C").contains("  local     ∂C/∂c         = none   a class index: not differentiated\n"))
        XCTAssertEqual(printed(session, output, ":explain C c"), "∂C/∂c: none, C uses c only as a class index, which is not differentiated\n")
        XCTAssertEqual(printed(session, output, ":jacobian C c"), "∂C/∂c: none, C uses c only as a class index, which is not differentiated\n")
        // The backward walk passes only nodes that get a gradient: the class index is shown as an edge without one.
        let stepped = printed(session, output, ":step C 5")
        XCTAssertTrue(stepped.hasPrefix("walking C: 3 steps forward, then 2 backward"), stepped)
        XCTAssertTrue(stepped.contains("  local     ∂C/∂c         = none   a class index: not differentiated\n"), stepped)
        XCTAssertFalse(stepped.contains("backward 3/"), stepped)
    }

    /// `param w = -2; w = 2` keeps w a param, so :train still trains it (before: "there are no params to train").
    func testTrainingAfterAPlainRedefinitionOfAParam() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param w = -2; w = 2; L = (w - 1)^2"))
        XCTAssertTrue(printed(session, output, ":vars").contains("w     param  ()     2\n"))
        XCTAssertTrue(execute(session, ":train L steps=1 lr=0.25"))
        // One step: w ← 2 − 0.25 · 2(2 − 1) = 1.5.
        XCTAssertEqual(session.workspace.entries["w"]?.value?.scalars, [1.5])
    }

    /// A loss that stops being finite ends training there, and the message names the step.
    func testDivergingTrainingStopsAndSaysWhere() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "input x = [1, 2, 3]; param w = 0.5; L = mse(w * x, 2 * x)"))
        let text = printed(session, output, ":train L steps=50 lr=1e6")
        XCTAssertTrue(text.contains("stopped at step 23, which made no update: L 10.5 → inf"), text)
        XCTAssertTrue(text.contains("warning: L grew past 10× its value at step 0 (10.5): 9.14666e+14 at step 1; a smaller lr (now 1e+06) may converge"), text)
        XCTAssertTrue(text.hasSuffix("""
            diverged: L = mse(%2, %4) is inf at step 23, from %2 = [3.06857e+160, 6.13714e+160, 9.20571e+160], %4 = [2, 4, 6]
              a smaller lr (now 1e+06) may converge

            """), text)
        // A learning rate that converges runs every step.
        XCTAssertTrue(execute(session, "param w = 0.5"))
        XCTAssertTrue(printed(session, output, ":train L steps=20 lr=0.1").contains("done: 20 steps"))
    }

    /// Listings stop making rows at the output limit, but count them all.
    func testListingsStopAtTheOutputLimit() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "w = 0.9; h0 = 0.5\n" + (1...300).map { "h\($0) = tanh(w * h\($0 - 1))" }.joined(separator: "\n")))
        let full = printed(session, output, ":reverse h300")
        XCTAssertTrue(execute(session, ":set output 1000"))
        let cut = printed(session, output, ":reverse h300")
        XCTAssertEqual(cut.components(separatedBy: "\n").first, full.components(separatedBy: "\n").first)
        XCTAssertTrue(full.hasPrefix("reverse graph of h300: "), full)
        XCTAssertLessThan(cut.utf8.count, 1200)
        XCTAssertTrue(printed(session, output, ":vars").contains("… and "))
    }

    /// `:vars` lists the names; `:vars all` every node, intermediates and literals included.
    func testVarsAllListsEveryNode() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = [1, 2]; W = [[1, 2], [3, 4]]; h = relu(W @ x + 1); L = sum(h)"))
        XCTAssertEqual(printed(session, output, ":vars all"), """
            name  kind   shape   formula or value
            x     input  (2)     [1, 2]
            W     input  (2, 2)  [[1, 2], [3, 4]]
            %2    op     (2)     matmul(W, x)
            %3    input  ()      1
            %4    op     (2)     add(%2, 1)
            h     op     (2)     relu(W @ x + 1)
            L     op     ()      sum(h)

            """)
        XCTAssertEqual(printed(session, output, ":vars").components(separatedBy: "\n").count, 6)
        // A definition that no longer fits has no node; both listings show why.
        XCTAssertTrue(execute(session, "x = [1, 2, 3]"))
        let all = printed(session, output, ":vars all")
        XCTAssertTrue(all.contains("\nh     op     —       error: "), all)
        XCTAssertTrue(printed(session, output, ":vars").contains("\nh     op     —       error: "))
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
        XCTAssertEqual(session.complete(":bac"), Completion(word: ":bac", candidates: [":back ", ":backward "]))
        XCTAssertEqual(session.complete("y = lea").candidates, ["leaky_relu(", "learned", "learning_rate"])
        XCTAssertEqual(session.complete("y = sig").candidates, ["sigmoid(", "sign("])
        XCTAssertEqual(session.complete(":show learni").candidates, ["learning_rate"])
        XCTAssertEqual(session.complete(":help ba").candidates, ["back", "backward"])
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

    /// A class index is not differentiated: its grad is null in JSON.
    func testJSONClassIndexHasNullGradient() throws {
        let (session, _) = makeSession()
        session.quiet = true
        XCTAssertTrue(execute(session, "z = [1, 2, 3]; c = 2; L = cross_entropy(z, c)"))
        let text = try session.json(output: "L")
        XCTAssertTrue(text.contains("{\"id\": 1, \"name\": \"c\", \"kind\": \"input\", \"op\": \"const\", \"inputs\": [], \"shape\": [], \"value\": 2.0, \"grad\": null}"), text)
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
        // Literals (the 3 of u * 3, the 7 of u − 7, the 0) are constants: no gradient, not even NaN.
        let literals = nodes.filter { $0["op"] as? String == "const" && $0["name"] is NSNull }
        XCTAssertEqual(literals.compactMap { $0["value"] as? Double }, [3, 7, 0])
        for literal in literals { XCTAssertTrue(literal["grad"] is NSNull, "\(literal)") }
        let u = try XCTUnwrap(nodes.first { $0["name"] as? String == "u" })
        XCTAssertEqual(u["grad"] as? String, "nan", "0 · ∂log(u − 7)/∂u at u = 7 is NaN")
        let v = try XCTUnwrap(nodes.first { $0["name"] as? String == "v" })
        XCTAssertTrue(v["grad"] is NSNull, "the output does not depend on v")
        XCTAssertEqual(v["value"] as? Double, 21)
        XCTAssertTrue(text.contains("\"value\": \"-inf\""), "log(0) is written as a string")
        XCTAssertTrue(text.contains("\"value\": \"nan\""), "-inf * 0 is NaN")
    }

    /// SPEC §5: grad is null for a node the output does not depend on, in every shape of graph.
    /// `c` reached only through `grad()` with a structurally zero gradient is null whether the
    /// derivative leaves it out (`grad(w^2 + 3*c, w)`) or reads an element beside it
    /// (`grad(sum([w, c]^2), w)` is `(2·[w, c])[0]`; before, c got 0 there); a leaf the output
    /// reads through a zero derivative (`step`, a kink) still gets 0.
    func testJSONGradientIsNullExactlyWhereTheOutputDoesNotDependOnANode() throws {
        func grads(_ text: String) throws -> [String: Any] {
            let (session, output) = makeSession()
            session.quiet = true
            XCTAssertTrue(execute(session, text), output.errors)
            let json = try session.json(output: "g")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let nodes = try XCTUnwrap(object["nodes"] as? [[String: Any]])
            var byName: [String: Any] = [:]
            for node in nodes { if let name = node["name"] as? String { byName[name] = node["grad"] } }
            return byName
        }
        let independent = [
            "g = grad(w^2 + 3*c, w)",
            "g = grad(w^2 + c, w)",
            "g = grad(w^2 * 3 + sum([c, c]), w)",
            "g = grad(grad(w^3 + 3*c, w), w)",
            "g = grad(grad(w^3 + 3*c*w, w), w)",
            "g = grad(sum([w^2, 3*c]), w)",
            "g = grad(sum([w, c]^2), w)",
            "g = grad([w, c][0]^2, w)",
            "g = grad(sum(exp([w, 3*c])), w)",
            "g = grad(einsum(\"i,i->\", [w, c], [w, 0]), w)",
            "g = grad(sum(([[w, w], [c, c]] @ [[1, 2], [3, 4]])[0]^2), w)",
            "g = [w, c][0] * 2",
        ]
        for formula in independent {
            let byName = try grads("w = 1.5; c = 2; " + formula)
            XCTAssertTrue(byName["c"] is NSNull, "\(formula): ∂g/∂c is \(String(describing: byName["c"]))")
            XCTAssertFalse(byName["w"] is NSNull, formula)
        }
        let vectors = try grads("w = [1.5, 1]; c = [2, 3]; g = grad(sum([w, c][0]^2) + sum(3 * c), w)[0]")
        XCTAssertTrue(vectors["c"] is NSNull)
        XCTAssertEqual(vectors["w"] as? [Double], [2, 0])
        // Read through a zero derivative, or multiplied by zero: the output depends on c.
        for formula in ["g = step(c) * w", "g = grad(relu(w - c), w)", "g = grad(max(w, c), w)", "g = grad(w^2 + 3*c, w) + 0*c"] {
            let byName = try grads("w = 1.5; c = 2; " + formula)
            XCTAssertEqual(byName["c"] as? Double, 0, formula)
        }
        // The reports in text follow the same rule.
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "w = 1.5; c = 2; g = grad(sum([w, c]^2), w)\n:grad g"), output.errors)
        XCTAssertTrue(output.text.hasSuffix("∂g/∂w = 2\n∂g/∂c = 0  (g does not depend on c)\n"), output.text)
    }

    /// A summarised tensor says where its nonzero entries are (row 5 of 8×8 was hidden behind
    /// zeros), and the local Jacobian of indexing is named as the selection it is, not "dense".
    func testSummariesAndSelectionsShowWhatMatters() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "W = zeros(20, 20); L = sum(W[5] * 3)"), output.errors)
        XCTAssertEqual(printed(session, output, ":grad L"), "∂L/∂W = [0, 0, 0, …, 0, 0] (shape (20, 20); min 0, max 3; nonzero row 5)\n")
        let backward = printed(session, output, ":backward L")
        XCTAssertTrue(backward.contains("  local     ∂%1/∂W          = E₅   20×400\n"), backward)
        XCTAssertFalse(backward.contains("dense"), backward)
    }

    /// Definitions after a `:step` interrupt the walk once: one notice, and the walk is made
    /// again when next used (it was rebuilt, reverse graph and all, after every definition),
    /// with its breakpoints found again by name.
    func testEditsDuringAWalkRestartItOnceAndKeepBreakpoints() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 2; w = 3; a = w * x; L = a + x; :break ∂x; :step L"), output.errors)
        output.text = ""
        var text = ""
        for k in 0..<2000 { text += "unused\(k) = \(k)\n" }
        XCTAssertTrue(execute(session, "w = 5\n" + text), output.errors)
        XCTAssertEqual(output.text, "w was redefined: the walk on L starts again (nothing computed)\n")
        output.text = ""
        XCTAssertTrue(execute(session, ":where; :break"), output.errors)
        XCTAssertEqual(output.text, "walk on L: at the start, nothing computed\nnext: forward 1/4 at x\nbreakpoints: ∂x\n")
        output.text = ""
        XCTAssertTrue(execute(session, ":continue"), output.errors)
        XCTAssertTrue(output.text.hasSuffix("breakpoint at ∂x: :step takes it\n"), output.text)
        XCTAssertTrue(output.text.contains("∂L/∂x         = 1 (via L) + 5 (via a)"), output.text)
    }

    /// Found by trying to break the walk: a new definition the target does not depend on keeps
    /// the walk (it was restarted and called a redefinition); a walk on a vector says it has no
    /// backward pass; a bare :reverse means the walk's target.
    func testTheWalkAfterUnrelatedDefinitionsAndOnAVector() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "x = 2; w = 3; a = w * x; L = a + x; :step L 5"), output.errors)
        output.text = ""
        XCTAssertTrue(execute(session, "unrelated = 5\nv = [1, 2]\n:where"), output.errors)
        XCTAssertEqual(output.text, "walk on L: 5 of 8 steps taken; last backward 1/4 at ∂L\nnext: backward 2/4 at ∂a\n")
        output.text = ""
        XCTAssertTrue(execute(session, ":reverse"), output.errors)
        XCTAssertTrue(output.text.hasPrefix("reverse graph of L:"), output.text)
        let (vector, vectorOutput) = makeSession()
        XCTAssertTrue(execute(vector, "x = [1, 2]; w = 3; L = w * x; :run L; :show w"), vectorOutput.errors)
        XCTAssertTrue(vectorOutput.text.contains("done: the forward pass of L computed (it is not a scalar: no backward walk; ':backward L seed=…' gives gradients)\n"), vectorOutput.text)
        XCTAssertTrue(vectorOutput.text.contains("  grad   ∂L/∂w: not computed (L is not a scalar: the walk has no backward pass)\n"), vectorOutput.text)
        XCTAssertFalse(vectorOutput.text.contains("both passes"), vectorOutput.text)
    }

    /// A reverse drawing of a box with a thousand inputs names each edge's Jacobian once (it
    /// walked the box once per input: minutes, and deaf to Ctrl-C).
    func testAReverseDrawingOfAWideBoxIsComplete() {
        let (session, output) = makeSession()
        var text = ""
        for i in 0..<300 { text += "x\(i) = \(Double(i) * 0.001)\n" }
        text += "h = [" + (0..<300).map { "x\($0) * x\(($0 + 1) % 300)" }.joined(separator: ", ") + "]\nL = sum(softmax(h))\n"
        XCTAssertTrue(execute(session, text + ":grad L wrt x0\n:graph reverse"), output.errors)
        XCTAssertTrue(output.text.contains("\n∂L/∂x0   = ∂L/∂h · (E₀ᵀ · x1 + E₂₉₉ᵀ · x299)   = "), String(output.text.suffix(400)))
    }
}
