import Foundation
import ChainruleTestSupport
import XCTest

/// The built binary against hostile files: devices, full disks, a kill during `:save`.
final class FilesCommandLineTests: FolderTestCase {

    /// Runs `executable` with standard input and output taken from files, failing (and killing it)
    /// past `timeout` seconds. Returns the exit status and standard error.
    func run(_ arguments: [String], executable: URL = Executable.url, input: String = "/dev/null",
             output: String = "/dev/null", timeout: TimeInterval = 20) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": folder.path, "LANG": "C.UTF-8"]
        process.standardInput = try XCTUnwrap(FileHandle(forReadingAtPath: input))
        process.standardOutput = try XCTUnwrap(FileHandle(forWritingAtPath: output))
        let errors = folder.appendingPathComponent("stderr-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: errors.path, contents: nil))
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("chainrule \(arguments) still ran after \(timeout) s")
        }
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: errors) }
        return (process.terminationStatus, try String(contentsOf: errors, encoding: .utf8))
    }

    // MARK: Reading

    func testEndlessDevicesAreRefusedAtOnce() throws {
        let piped = try run([], input: "/dev/zero")
        XCTAssertEqual(piped.status, 1)
        XCTAssertEqual(piped.errors, "chainrule: error: cannot read standard input: it holds a NUL byte (at byte 1), so it is not a text script\n")

        let named = try run(["/dev/zero"])
        XCTAssertEqual(named.status, 1)
        XCTAssertEqual(named.errors, "chainrule: error: cannot read '/dev/zero': not a regular file\n")

        let loaded = try run(["-e", ":load /dev/urandom"])
        XCTAssertEqual(loaded.status, 1)
        XCTAssertEqual(loaded.errors, """
            <-e>:1:7: error: cannot read '/dev/urandom': not a regular file
                :load /dev/urandom
                      ^

            """)
    }

    /// Random bytes on standard input hold a NUL byte within the first chunk or so.
    func testRandomBytesOnStandardInputStopAtTheFirstNUL() throws {
        let result = try run([], input: "/dev/urandom")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.hasPrefix("chainrule: error: cannot read standard input: it holds a NUL byte (at byte "), result.errors)
    }

    // MARK: Writing

    /// A failed write on standard output is an error with status 1, not lost output.
    func testWriteErrorOnStandardOutputIsAnError() throws {
        let json = try run(["--json", "-e", "x = [1,2]"], output: "/dev/full")
        XCTAssertEqual(json.status, 1)
        XCTAssertEqual(json.errors, "chainrule: error: cannot write standard output: No space left on device\n")
        let plain = try run(["-e", "x = [1,2]", "-e", "x"], output: "/dev/full")
        XCTAssertEqual(plain.status, 1)
    }

    /// With the file size limited (`ulimit -f`, as on a full disk), `:save` fails, says why, and the
    /// old file stays as it was, with no temporary file left beside it.
    func testSaveOnAFullDiskKeepsTheOldFile() throws {
        let saved = folder.appendingPathComponent("s.graph")
        try "x = 1\n".write(to: saved, atomically: false, encoding: .utf8)
        let script = "ulimit -f 64; exec \"$0\" -e 'w = randn(300, 300, seed=1)' -e ':save s.graph'"
        let result = try run(["-c", script, Executable.url.path], executable: URL(fileURLWithPath: "/bin/sh"))
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.errors, """
            <-e 2>:1:7: error: cannot write 's.graph': File too large
                :save s.graph
                      ^

            """)
        XCTAssertEqual(try String(contentsOf: saved, encoding: .utf8), "x = 1\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["s.graph"])
    }

    /// `kill -9` while `:save` writes its temporary file leaves the old file whole.
    func testKillDuringSaveKeepsTheOldFile() throws {
        let saved = folder.appendingPathComponent("s.graph")
        try "x = 1\n".write(to: saved, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = Executable.url
        process.arguments = ["-e", "w = randn(2000, 2000, seed=1)", "-e", ":save s.graph"]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var killedWhileWriting = false
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            if names.contains(where: { $0.hasPrefix(".s.graph.tmp-") }) {
                kill(process.processIdentifier, SIGKILL)
                killedWhileWriting = true
                break
            }
            usleep(200)
        }
        process.waitUntilExit()
        XCTAssertTrue(killedWhileWriting, "the temporary file was never seen")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(try String(contentsOf: saved, encoding: .utf8), "x = 1\n")
    }
}
