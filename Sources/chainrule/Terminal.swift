import ChainruleSession
import Glibc

/// Standard output and standard error, buffered, written with `write(2)`.
final class Terminal: OutputSink, @unchecked Sendable {
    // One process-wide buffer, used from the main thread only.
    static let standardOutput = Terminal()
    static var standardError: ErrorStream { ErrorStream() }

    private var buffer: [UInt8] = []
    /// Why writing to standard output failed (a full disk, `/dev/full`), once it has.
    private(set) var failure: String?
    /// On a terminal every write shows at once (progress bars, long commands); into a pipe, output is batched.
    private let immediate = isatty(1) == 1

    func write(_ text: String, toError: Bool) {
        if toError {
            flush()
            Terminal.writeAll(Array(text.utf8), to: 2)
        } else {
            buffer.append(contentsOf: text.utf8)
            if immediate || buffer.count > 1 << 16 { flush() }
        }
    }

    func flush() {
        if !Terminal.writeAll(buffer, to: 1) && failure == nil {
            failure = String(cString: strerror(errno))
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes every byte; false (with `errno` set) when a write fails.
    @discardableResult
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    struct ErrorStream {
        func write(_ text: String) {
            Terminal.standardOutput.flush()
            Terminal.writeAll(Array(text.utf8), to: 2)
        }
    }
}

extension Terminal {
    /// Whether bytes have arrived on standard input that nobody has read yet (the rest of a
    /// paste: libedit and ``PlainLineReader`` read one byte at a time, so they wait in the kernel).
    static var inputIsPending: Bool {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0 && descriptor.revents & Int16(POLLIN) != 0
    }
}

extension LineEditor {
    public var hasPendingInput: Bool { Terminal.inputIsPending }
}

extension PlainLineReader {
    var hasPendingInput: Bool { Terminal.inputIsPending }
}
