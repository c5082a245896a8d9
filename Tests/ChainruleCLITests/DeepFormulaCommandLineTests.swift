import Foundation
import ChainruleTestSupport
import XCTest

/// Issue: a formula nested more than 16 levels was printed and lowered on a thread of its own
/// with a 1 GiB stack. Under an address-space limit that thread could not be made, and the
/// session waited for it forever (`:show` of an 18-deep formula at `ulimit -v 1200000`; 200
/// `:show`s of a 20-deep one at `ulimit -v 2000000`). Deep formulas now need no thread.
final class DeepFormulaCommandLineTests: XCTestCase {
    /// `sin(sin(…(x)…))`, `depth` calls deep.
    func sines(_ depth: Int) -> String {
        String(repeating: "sin(", count: depth) + "x" + String(repeating: ")", count: depth)
    }

    /// sin applied `depth` times to 0.5, as `:show` writes a value (six significant digits).
    func value(_ depth: Int) -> String {
        var v = 0.5
        for _ in 0..<depth { v = Foundation.sin(v) }
        return String(format: "%g", v)
    }

    /// What `:show` writes for the definition `name = sines(depth)`, whose last call's operand is node `operand`.
    func shown(_ name: String, _ depth: Int, operand: Int) -> String {
        """
        \(name) = \(sines(depth))
          kind   op (sin(%\(operand)))
          shape  ()
          value  \(value(depth))
          grad   not computed (run :backward or :grad)
        """ + "\n"
    }

    func testDeepFormulasShowUnderAnAddressSpaceLimit() throws {
        // Nodes: x is %0, y18's calls %1 to %18, y20's %19 to %38.
        var arguments = ["-e", "x = 0.5", "-e", "y18 = " + sines(18), "-e", ":show y18", "-e", "y20 = " + sines(20)]
        for _ in 0..<200 { arguments += ["-e", ":show y20"] }
        let expected = shown("y18", 18, operand: 17) + String(repeating: shown("y20", 20, operand: 18 + 19), count: 200)
        for kilobytes in [1_200_000, 2_000_000] {
            let result = try runLimited(addressSpace: kilobytes, arguments)
            XCTAssertEqual(result.reason, .exit, "ulimit -v \(kilobytes)")
            XCTAssertEqual(result.status, 0, "ulimit -v \(kilobytes)")
            XCTAssertEqual(result.standardError, "", "ulimit -v \(kilobytes)")
            XCTAssertEqual(result.standardOutput, expected, "ulimit -v \(kilobytes)")
        }
    }

    struct LimitedResult {
        var reason: Process.TerminationReason
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs chainrule under `ulimit -v kilobytes`, killed if it is still running after five
    /// minutes (a hang then shows as a signal, not as a test that never ends).
    func runLimited(addressSpace kilobytes: Int, _ arguments: [String]) throws -> LimitedResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(kilobytes) && exec \"$0\" \"$@\"", Executable.url.path] + arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "LANG": "C.UTF-8"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        let (outputData, errorData) = readToEnd(process, stdout, stderr)
        watchdog.cancel()
        return LimitedResult(reason: process.terminationReason, status: process.terminationStatus,
                             standardOutput: String(decoding: outputData, as: UTF8.self),
                             standardError: String(decoding: errorData, as: UTF8.self))
    }
}
