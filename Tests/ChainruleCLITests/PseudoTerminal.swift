import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program running on a fresh pseudo-terminal, driven like a person at a
/// keyboard: keystrokes go in, the screen's text comes out.
///
/// The program is the leader of a new session with the terminal as its
/// controlling terminal, so Ctrl-C (byte 0x03) reaches it as SIGINT. Every
/// wait has a deadline, and the program is killed when this object goes away.
final class PseudoTerminal {
    enum Termination: Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let processID: pid_t
    private let master: Int32
    private var filter = TerminalTextFilter()
    /// UTF-8 offset into `filter.text` up to which `waitFor` has matched.
    private var mark = 0
    private var termination: Termination?
    private var masterIsOpen = true

    /// Everything the program has written so far, escape sequences removed.
    var transcript: String { filter.text }
    /// Everything the program has written so far, byte for byte.
    private(set) var rawOutput: [UInt8] = []

    /// Starts `executable` with exactly `environment`, on a terminal of the
    /// given size.
    init(
        executable: String, arguments: [String] = [], environment: [String: String],
        columns: UInt16 = 80, rows: UInt16 = 24
    ) throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 4096)
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, &name, nil, &size) == 0 else { throw Failure.system("openpty") }
        // Only the child's own descriptors may keep the terminal open, so that
        // reading fails with EIO once the program is gone.
        defer { Glibc.close(slave) }
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)

        // In the child, after setsid(), opening the slave by name makes it the
        // controlling terminal; it then becomes standard input, output and error.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGTSTP, SIGWINCH, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        // glibc's POSIX_SPAWN_SETSID (0x80) is hidden behind _GNU_SOURCE.
        let setSessionID: Int32 = 0x80
        posix_spawnattr_setflags(
            &attributes, Int16(setSessionID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var pid = pid_t()
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            Glibc.close(master)
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.processID = pid
        self.master = master
    }

    deinit {
        if termination == nil {
            kill(processID, SIGKILL)
            var status: Int32 = 0
            while waitpid(processID, &status, 0) < 0 && errno == EINTR {}
        }
        if masterIsOpen { Glibc.close(master) }
    }

    /// Types `keys` (use "\r" for Enter, "\u{3}" for Ctrl-C, "\u{1B}[A" for Up).
    func send(_ keys: String) throws {
        var bytes = Array(keys.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure.system("writing to the terminal")
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Waits until `text` appears in the output after the previous match and
    /// returns the output up to and including it.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 30) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let unread = filter.text.utf8.dropFirst(mark)
            let tail = String(Substring(unread))
            if let range = tail.range(of: text) {
                let consumed = tail[..<range.upperBound]
                mark += consumed.utf8.count
                let waited = timeout - deadline.timeIntervalSinceNow
                // Normally a few milliseconds: a long wait is worth seeing in the log even when it ends well.
                if waited > 5 { print("note: waited \(Int(waited)) s for \(text.debugDescription)") }
                return String(consumed)
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, masterIsOpen else {
                let reason = masterIsOpen ? "within \(timeout) s" : "before the program closed the terminal"
                throw Failure(description: """
                    did not see \(text.debugDescription) \(reason); output after the last match:
                    \(tail)
                    """)
            }
            readSome(waitingAtMost: remaining)
        }
    }

    /// Waits until the program reads keys one by one (canonical mode off), as
    /// a line editor does while it edits a line.
    ///
    /// libedit prints its prompt just *before* it switches the terminal to that
    /// mode, and keys that arrive in between are echoed and line-buffered by
    /// the kernel (Ctrl-D is even taken as end-of-file). So after seeing a
    /// prompt, wait for this before typing.
    func waitUntilEditing(timeout: Double = 30) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var settings = termios()
        while true {
            // On Linux the master side reports the slave side's settings.
            guard tcgetattr(master, &settings) == 0 else { throw Failure.system("tcgetattr") }
            if settings.c_lflag & tcflag_t(ICANON) == 0 { return }
            guard deadline.timeIntervalSinceNow > 0 else {
                throw Failure(description: "the program did not start editing within \(timeout) s")
            }
            usleep(1_000)
        }
    }

    /// Waits for the program to end, reading its output meanwhile so that it
    /// never blocks on a full terminal.
    func waitForExit(timeout: Double = 30) throws -> Termination {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while termination == nil {
            var status: Int32 = 0
            let result = waitpid(processID, &status, WNOHANG)
            if result == processID {
                let signal = status & 0x7F
                termination = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
                break
            }
            if result < 0 && errno != EINTR { throw Failure.system("waitpid") }
            guard deadline.timeIntervalSinceNow > 0 else {
                throw Failure(description: "the program did not exit within \(timeout) s; output:\n\(transcript)")
            }
            if !readSome(waitingAtMost: 0.02) { usleep(10_000) }
        }
        while readSome(waitingAtMost: 0) {}  // what was written just before exiting
        return termination!
    }

    /// Reads what is available within `seconds`; false when nothing came
    /// (timeout, a signal, or the program closed the terminal).
    @discardableResult
    private func readSome(waitingAtMost seconds: Double) -> Bool {
        guard masterIsOpen else { return false }
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(max(0, seconds * 1000).rounded(.up)))
        guard ready > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(master, &buffer, buffer.count)
        guard count > 0 else {
            // EIO: every copy of the slave side is closed, the program is gone.
            if count == 0 || errno != EINTR {
                Glibc.close(master)
                masterIsOpen = false
            }
            return false
        }
        filter.feed(buffer[..<count])
        rawOutput += buffer[..<count]
        return true
    }
}

extension PseudoTerminal.Failure {
    static func system(_ what: String) -> Self {
        Self(description: "\(what) failed: \(String(cString: strerror(errno)))")
    }
}

/// Turns a terminal byte stream into plain text: decodes UTF-8 and drops
/// escape sequences, carriage returns, bells, backspaces and libedit's
/// invisible-text markers. Works incrementally, so earlier text never changes.
struct TerminalTextFilter {
    private enum State { case text, escape, controlSequence, operatingSystemCommand }
    private var state = State.text
    private var pendingUTF8: [UInt8] = []
    private(set) var text = ""

    mutating func feed(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            switch state {
            case .escape:
                state = byte == UInt8(ascii: "[") ? .controlSequence
                    : byte == UInt8(ascii: "]") ? .operatingSystemCommand : .text
            case .controlSequence:
                if (0x40...0x7E).contains(byte) { state = .text }
            case .operatingSystemCommand:
                if byte == 0x07 { state = .text } else if byte == 0x1B { state = .escape }
            case .text:
                switch byte {
                case 0x1B: state = .escape
                case 0x01, 0x07, 0x08, UInt8(ascii: "\r"): break
                default: appendUTF8(byte)
                }
            }
        }
    }

    private mutating func appendUTF8(_ byte: UInt8) {
        pendingUTF8.append(byte)
        let lead = pendingUTF8[0]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        if pendingUTF8.count >= length {
            text += String(decoding: pendingUTF8, as: UTF8.self)
            pendingUTF8.removeAll()
        }
    }
}
