import ChainruleSession
import Glibc

/// Standard output and standard error, buffered, written with `write(2)`.
final class Terminal: OutputSink, @unchecked Sendable {
    // One process-wide buffer, used from the main thread only.
    static let standardOutput = Terminal()
    static var standardError: ErrorStream { ErrorStream() }

    private var buffer: [UInt8] = []
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
        Terminal.writeAll(buffer, to: 1)
        buffer.removeAll(keepingCapacity: true)
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    struct ErrorStream {
        func write(_ text: String) {
            Terminal.standardOutput.flush()
            Terminal.writeAll(Array(text.utf8), to: 2)
        }
    }

    /// All of standard input as text.
    static func readStandardInput() -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
