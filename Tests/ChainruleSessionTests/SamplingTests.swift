@testable import ChainruleSession
import ChainruleCore
import XCTest

/// `:sample`: text drawn from a causal model, the context fed back one character at a time.
final class SamplingTests: XCTestCase {
    /// A model whose next character is the other one (scores 0 and 40: the other is drawn
    /// unless a uniform number lands within e^-40 of the end): "abab" from 'a', "baba" from 'b'.
    let alternating = """
    input X = [[1, 0], [0, 0], [0, 0], [0, 0]]
    logits = X @ [[0, 40], [40, 0]]
    """

    func testTheContextIsFedBackAndTheInputPutBackExactly() throws {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, alternating + "\n:sample logits X chars=\"ab\" count=2\n:sample logits X chars=\"ab\" start=1\n"), output.errors)
        XCTAssertEqual(output.text, """
            sampling 2 sequences of 4 from softmax(logits / 1), seed 0; each starts with a
              ababa
              ababa
            sampling 1 sequence of 4 from softmax(logits / 1), seed 0; each starts with b
              babab

            """)
        let x = try session.workspace.value(of: XCTUnwrap(session.workspace.graph.node(named: "X")))
        XCTAssertEqual(x.scalars, [1, 0, 0, 0, 0, 0, 0, 0], "X is as it was defined")
    }

    func testTheSeedChoosesAndTheSameSeedDrawsTheSame() throws {
        // Equal scores: every draw is a coin toss, so sequences show the generator.
        let fair = "input X = [[1, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]\nlogits = X @ zeros(2, 2) + 0\n"
        func draws(_ seed: Int) throws -> String {
            let (session, output) = makeSession()
            XCTAssertTrue(execute(session, fair + ":sample logits X chars=\"ab\" count=3 seed=\(seed)\n"), output.errors)
            return output.text
        }
        XCTAssertEqual(try draws(7), try draws(7))
        XCTAssertNotEqual(try draws(7), try draws(8))
    }

    func testBadArgumentsAreErrorsAtTheirWords() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, alternating + "\ny = sum(logits)\nparam P = [[1, 0], [0, 1]]\n"))
        for (command, message) in [
            (":sample logits", "missing X; usage: \(Session.sampleUsage)"),
            (":sample logits X chars=\"abc\"", "chars has 3 characters but X has 2 columns: one character a column"),
            (":sample y X", "y has shape () but X has shape (4, 2): row t of the logits scores what follows position t"),
            (":sample logits P", "P must be an input leaf of one-hot rows (T, V)"),
            (":sample logits X temperature=0", "temperature must be a positive number"),
            (":sample logits X start=2", "start must be a whole number from 0 to 1"),
        ] {
            output.errors = ""
            XCTAssertFalse(execute(session, command), command)
            XCTAssertTrue(output.errors.contains("error: " + message), "\(command): \(output.errors)")
        }
    }
}
