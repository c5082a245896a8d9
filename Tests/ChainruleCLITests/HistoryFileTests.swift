import Foundation
import ChainruleTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What `CHAINRULE_HISTORY` may name, end to end at a prompt: only a regular file (or a
/// missing one) is ever written or replaced; the null device turns history off; anything else
/// is left exactly as it was, with a one-line warning. (The tests make device nodes with
/// `mknod`, which needs root, as the tests run here.)
final class HistoryFileTests: FolderTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("home"), withIntermediateDirectories: true)
    }

    func testFIFOIsNeitherOpenedNorReplaced() throws {
        let fifo = folder.appendingPathComponent("history").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let transcript = try typeEntries(historyPath: fifo)
        XCTAssertTrue(transcript.contains("warning: history file '\(fifo)' is not a regular file (a FIFO); history will not be saved"), transcript)
        XCTAssertEqual(try fileType(fifo), S_IFIFO)
        XCTAssertEqual(try names(), ["history", "home"])
    }

    func testCharacterDeviceIsLeftAlone() throws {
        let device = folder.appendingPathComponent("history").path
        let zero = try status("/dev/zero")
        XCTAssertEqual(mknod(device, S_IFCHR | 0o644, zero.st_rdev), 0, "mknod needs root")
        let transcript = try typeEntries(historyPath: device)
        XCTAssertTrue(transcript.contains("history file '\(device)' is not a regular file (a character device)"), transcript)
        XCTAssertEqual(try fileType(device), S_IFCHR)
        XCTAssertEqual(try status(device).st_rdev, zero.st_rdev)
        XCTAssertEqual(try names(), ["history", "home"])
    }

    /// A node of the null device made anywhere turns history off as `/dev/null` does: silently.
    func testNodeOfTheNullDeviceTurnsHistoryOff() throws {
        try checkNullDeviceNodeTurnsHistoryOff()
    }

    /// `CHAINRULE_HISTORY=/dev/null` turns history off: /dev/null stays the device, and nothing
    /// is written beside it or in the default place.
    func testDevNullTurnsHistoryOff() throws {
        // The same run against a node of the null device first: a build that would replace a
        // device must not get near the real one.
        try checkNullDeviceNodeTurnsHistoryOff()
        let before = try status("/dev/null")
        XCTAssertEqual(before.st_mode & S_IFMT, S_IFCHR)
        let devices = try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.hasPrefix(".null") || $0.hasPrefix("null.") }
        let transcript = try typeEntries(historyPath: "/dev/null")
        XCTAssertFalse(transcript.contains("warning"), transcript)
        let after = try status("/dev/null")
        XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR)
        XCTAssertEqual(after.st_rdev, before.st_rdev)
        XCTAssertEqual(after.st_ino, before.st_ino)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.hasPrefix(".null") || $0.hasPrefix("null.") }, devices)
        XCTAssertEqual(try names(), ["home"], "nothing in the default place")
    }

    /// A read-only file is loaded (Up brings its entry back) but never written or replaced, even
    /// by root, whom `access` lets write anything; an empty one is not replaced either.
    func testReadOnlyFileIsLoadedButNeverWritten() throws {
        let file = folder.appendingPathComponent("history").path
        let contents = "_HiStOrY_V2_\nold\\040entry\n"
        try contents.write(toFile: file, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(file, 0o444), 0)
        let inode = try status(file).st_ino
        let transcript = try typeEntries(historyPath: file, recalling: "old entry")
        XCTAssertTrue(transcript.contains("history file '\(file)' is read-only; history will not be saved"), transcript)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), contents)
        XCTAssertEqual(try status(file).st_ino, inode)
        XCTAssertEqual(try status(file).st_mode & 0o7777, 0o444)

        let empty = folder.appendingPathComponent("empty").path
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: nil, attributes: [.posixPermissions: 0o444]))
        let emptyInode = try status(empty).st_ino
        XCTAssertTrue(try typeEntries(historyPath: empty).contains("history file '\(empty)' is read-only"))
        XCTAssertEqual(try status(empty).st_ino, emptyInode)
        XCTAssertEqual(try status(empty).st_size, 0)
        XCTAssertEqual(try names(), ["empty", "history", "home"])
    }

    /// The temporary file a new history is written to has a name of its own: a user's
    /// `history.new` survives, and no temporary file is left.
    func testOwnFileNamedLikeATemporaryIsLeftUntouched() throws {
        let file = folder.appendingPathComponent("history").path
        try "mine\n".write(toFile: file + ".new", atomically: false, encoding: .utf8)
        _ = try typeEntries(historyPath: file)
        XCTAssertEqual(try String(contentsOfFile: file + ".new", encoding: .utf8), "mine\n")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "_HiStOrY_V2_\nx\\040=\\0403\ny\\040=\\0404\n")
        XCTAssertEqual(try status(file).st_mode & 0o7777, 0o600)
        XCTAssertEqual(try names(), ["history", "history.new", "home"])
    }

    /// A regular file still grows by appending, in place, session after session.
    func testRegularFileGrows() throws {
        let file = folder.appendingPathComponent("history").path
        try "_HiStOrY_V2_\nold\n".write(toFile: file, atomically: false, encoding: .utf8)
        let inode = try status(file).st_ino
        let transcript = try typeEntries(historyPath: file, recalling: "old")
        XCTAssertFalse(transcript.contains("warning"), transcript)
        _ = try typeEntries(historyPath: file, entries: ["z = 5"], recalling: "y = 4")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8),
                       "_HiStOrY_V2_\nold\nx\\040=\\0403\ny\\040=\\0404\nz\\040=\\0405\n")
        XCTAssertEqual(try status(file).st_ino, inode)
        XCTAssertEqual(try names(), ["history", "home"])
    }

    /// A link to the history file stays a link: its target is what is written (here replaced,
    /// as an empty file is written whole).
    func testLinkToTheHistoryFileStaysALink() throws {
        let target = folder.appendingPathComponent("real").path
        let link = folder.appendingPathComponent("history").path
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: nil))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        _ = try typeEntries(historyPath: link)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), target)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "_HiStOrY_V2_\nx\\040=\\0403\ny\\040=\\0404\n")
        XCTAssertEqual(try names(), ["history", "home", "real"])
    }

    // MARK: Driving a session

    private func checkNullDeviceNodeTurnsHistoryOff(file: StaticString = #filePath, line: UInt = #line) throws {
        let node = folder.appendingPathComponent("null").path
        let null = try status("/dev/null")
        XCTAssertEqual(mknod(node, S_IFCHR | 0o666, null.st_rdev), 0, "mknod needs root", file: file, line: line)
        defer { unlink(node) }
        let transcript = try typeEntries(historyPath: node)
        XCTAssertFalse(transcript.contains("warning"), transcript, file: file, line: line)
        guard try fileType(node) == S_IFCHR, try status(node).st_rdev == null.st_rdev, try names() == ["home", "null"] else {
            throw PseudoTerminal.Failure(description: "a node of the null device was replaced or written beside")
        }
    }

    /// Runs the prompt with history in `historyPath` (and a home of its own in the folder, for
    /// the default place), optionally recalls the previous entry with Up and checks it is
    /// `recalling`, types `entries`, and ends with Ctrl-D. Returns what the terminal showed.
    private func typeEntries(historyPath: String, entries: [String] = ["x = 3", "y = 4"],
                             recalling: String? = nil) throws -> String {
        let home = folder.appendingPathComponent("home")
        let session = try PseudoTerminal(
            executable: Executable.url.path,
            environment: ["HOME": home.path, "XDG_STATE_HOME": home.path, "CHAINRULE_HISTORY": historyPath,
                          "TERM": "xterm", "PATH": "/usr/bin:/bin"])
        try waitForPrompt(in: session)
        if let recalling {
            try session.send("\u{1B}[A")
            try session.waitFor(recalling)
            try session.send("\u{15}")  // Ctrl-U: clear the line
        }
        for entry in entries {
            try session.send(entry + "\r")
            try waitForPrompt(in: session)
        }
        try session.send("\u{4}")
        XCTAssertEqual(try session.waitForExit(), .exited(0))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home.path), [], "nothing in the home folder")
        return session.transcript
    }

    private func waitForPrompt(in session: PseudoTerminal) throws {
        try session.waitFor("chainrule> ")
        try session.waitUntilEditing()
    }

    /// The names in the test's folder, sorted.
    private func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    /// `lstat` of `path`.
    private func status(_ path: String) throws -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw PseudoTerminal.Failure.system("lstat \(path)") }
        return info
    }

    private func fileType(_ path: String) throws -> mode_t { try status(path).st_mode & S_IFMT }
}
