@testable import ChainruleSession
import XCTest

/// `randn`, `rand`, `xavier` and `he` of one seed, pinned to numbers computed independently
/// (SplitMix64 and Box–Muller as the README specifies them, written in Python).
final class InitialiserTests: XCTestCase {
    func values(_ formula: String) throws -> [Double] {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, "param A = \(formula)"), output.errors)
        return try XCTUnwrap(session.workspace.entries["A"]?.value).scalars
    }

    func assertPinned(_ formula: String, _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        let got = try values(formula)
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-15, "\(formula): \(got)", file: file, line: line) }
    }

    func testSameSeedSameNumbers() throws {
        try assertPinned("randn(2, 3, seed=1)", [-0.034267321791851144, -2.5000674933698677, 0.08772246831488635, -2.0271348479598177, 0.22379858243299003, -0.8024102835865938])
        try assertPinned("rand(2, 3, seed=1)", [0.5665615751722809, 0.7457817572627011, 0.9710027535867962, 0.4443592170557721, 0.44426470082635805, 0.762894391911761])
        try assertPinned("xavier(2, 3, seed=1)", [-0.02167255723523439, -1.5811815166393381, 0.055480560369398725, -1.2820726487704313, 0.14154265152103918, -0.5074888228150519])
        try assertPinned("xavier(2, 3, seed=1, uniform=true)", [0.14582910473973623, 0.5384808507041624, 1.0319153311461422, -0.12190284774320936, -0.12210992242681096, 0.5759727547667007])
        try assertPinned("he(2, 3, seed=1)", [-0.027979151080596617, -2.0412965604250473, 0.07162509544964549, -1.6551486724386368, 0.18273077737300822, -0.6551652530497009])
        try assertPinned("he(2, 3, seed=1, uniform=true)", [0.18826456468311187, 0.6951757890096079, 1.3321969640750404, -0.15737589972156943, -0.15764323198857283, 0.7435776290268803])
    }

    func testBadInitialiserArguments() {
        let (session, output) = makeSession()
        XCTAssertFalse(execute(session, "A = he(2, 3, 4, seed=1)"))
        XCTAssertTrue(output.errors.contains("he takes one or two sizes"), output.errors)
        XCTAssertFalse(execute(session, "A = xavier(2, 3, bias=1)"))
        XCTAssertTrue(output.errors.contains("xavier has no keyword argument 'bias'; it takes 'seed' and 'uniform'"), output.errors)
    }
}
