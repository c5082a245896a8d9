import ChainruleCore
@testable import ChainruleSession
import XCTest

/// Hostile input at the session level: no trap, no unbounded output or memory, and
/// Ctrl-C (a `shouldStop` that turns true) stops every long loop promptly.
final class SessionLimitTests: XCTestCase {
    /// The loss range overflows (1e308 − (−1e308) is infinite): the curve is still drawn.
    func testTrainingWithALossRangeThatOverflows() {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param p = 1\nL = p * 1e308\n:train L steps=1 lr=2e-308"), output.errors)
        XCTAssertEqual(output.text, """
            training L: 1 step of gradient descent, lr = 2e-308, on p
            done: 1 step; L 1e+308 → -1e+308
             1e+308 ┤█
                    ┤█
                    ┤█
                    ┤█
                    ┤█
                    ┤█
                    ┤█
            -1e+308 ┤█▁
                    └── step 0 … 1

            """)
    }
}
