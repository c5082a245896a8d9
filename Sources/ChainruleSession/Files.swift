import ChainruleCore
import Glibc

/// Reading and writing whole text files with the C library (no Foundation, for start-up speed).
///
/// Reading is bounded: only regular files and pipes are read, in chunks, up to a size limit,
/// stopping at a NUL byte (a binary file) or when asked to stop (Ctrl-C). Writing is atomic:
/// the text goes to a temporary file in the same folder, is flushed to disk, and then renamed
/// over the old file, so a crash or a full disk leaves either the old file or the new one.
public enum Files {
    public struct Failure: Error, Equatable {
        public var message: String
    }

    /// The default for ``Session/maximumFileSize``.
    public static let defaultMaximumSize = 64_000_000
    static let chunkSize = 1 << 16

    /// The whole file at `path` as text.
    static func read(_ path: String, limit: Int, shouldStop: () -> Bool) throws(Failure) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure(message: "cannot read '\(path)': \(reason())") }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { throw Failure(message: "cannot read '\(path)': \(String(cString: strerror(EISDIR)))") }
        guard type == S_IFREG || type == S_IFIFO else {
            throw Failure(message: "cannot read '\(path)': not a regular file")
        }
        if type == S_IFREG && Int(info.st_size) > limit { throw tooLarge("'\(path)'", limit: limit) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(message: "cannot read '\(path)': \(reason())") }
        defer { close(descriptor) }
        return try readText(from: descriptor, name: "'\(path)'", limit: limit, shouldStop: shouldStop)
    }

    /// Everything readable from `descriptor` as text, read in chunks of 64 KB.
    ///
    /// Stops with a failure past `limit` bytes, at a NUL byte, or when `shouldStop` returns true.
    /// `name` is how messages name the input (`'file.graph'`, `standard input`).
    public static func readText(from descriptor: Int32, name: String, limit: Int,
                                shouldStop: () -> Bool = { false }) throws(Failure) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            if shouldStop() { throw Failure(message: "reading \(name) was interrupted") }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Failure(message: "cannot read \(name): \(reason())") }
            if n == 0 { break }
            if let zero = chunk[0..<n].firstIndex(of: 0) {
                throw Failure(message: "cannot read \(name): it holds a NUL byte (at byte \(bytes.count + zero + 1)), so it is not a text script")
            }
            if bytes.count + n > limit { throw tooLarge(name, limit: limit) }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func tooLarge(_ name: String, limit: Int) -> Failure {
        Failure(message: "cannot read \(name): it is larger than \(formatSize(limit)), the limit set by ':set max-file-size'")
    }

    /// Replaces the file at `path` with `text` atomically (see ``Files``).
    static func write(_ text: String, to path: String) throws(Failure) {
        try write(to: path) { $0.write(text) }
    }

    /// Replaces the file at `path` atomically with the text `body` writes, streamed to the
    /// temporary file a chunk at a time (see ``TextStream``), so no whole text is held.
    ///
    /// A symbolic link is followed, so the link stays and its target is replaced. A path that names
    /// something other than a regular file (`/dev/stdout`) is written in place. When a write fails,
    /// `body` runs to its end with nothing more written, the temporary file is removed, and the old
    /// file is left as it was.
    static func write(to path: String, _ body: (inout TextStream) -> Void) throws(Failure) {
        func failure(_ reason: String = reason()) -> Failure { Failure(message: "cannot write '\(path)': \(reason)") }
        var target = path
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK, let real = realpath(path, nil) {
            target = String(cString: real)
            free(real)
        }
        let exists = stat(target, &info) == 0
        if exists && (info.st_mode & S_IFMT) != S_IFREG {
            let descriptor = open(target, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard descriptor >= 0 else { throw failure() }
            var stream = TextStream(to: descriptor)
            body(&stream)
            stream.finish()
            let closed = close(descriptor) == 0
            if let problem = stream.failure { throw failure(problem) }
            guard closed else { throw failure() }
            return
        }
        let slash = target.lastIndex(of: "/")
        let folder = slash.map { String(target[...$0]) } ?? "./"
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        removeAbandonedTemporaries(in: folder, of: base)
        var template = Array((folder + "." + base + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard descriptor >= 0 else { throw failure() }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // New files get the usual mode (0666 less the umask); an existing file keeps its own.
        let mask = umask(0)
        umask(mask)
        let mode = exists ? info.st_mode & 0o7777 : 0o666 & ~mask
        _ = fchmod(descriptor, mode)
        var stream = TextStream(to: descriptor)
        body(&stream)
        stream.finish()
        if let problem = stream.failure {
            close(descriptor)
            unlink(temporary)
            throw failure(problem)
        }
        guard fsync(descriptor) == 0 else {
            let saved = errno
            close(descriptor)
            unlink(temporary)
            errno = saved
            throw failure()
        }
        guard close(descriptor) == 0, rename(temporary, target) == 0 else {
            let saved = errno
            unlink(temporary)
            errno = saved
            throw failure()
        }
        // Make the rename itself durable.
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// How long a temporary file must have gone unwritten before a save of the same file
    /// takes it for one abandoned by a save that was killed (`kill -9`, a power cut).
    static let abandonedAfter: time_t = 60

    /// Removes the temporaries `.BASE.tmp-XXXXXX` that earlier saves of `base` left in
    /// `folder` when they were killed: regular files not written for ``abandonedAfter``
    /// seconds (a save still under way keeps writing to its own).
    static func removeAbandonedTemporaries(in folder: String, of base: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = "." + base + ".tmp-"
        let now = time(nil)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), name.utf8.count == prefix.utf8.count + 6 else { continue }
            let path = folder + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  info.st_uid == getuid(), now - info.st_mtim.tv_sec > abandonedAfter else { continue }
            unlink(path)
        }
    }

    /// Writes every byte of `bytes`; false (with `errno` set) when a write fails.
    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func reason() -> String { String(cString: strerror(errno)) }

    /// `path` relative to the directory of `base` (a file path), unless `path` is absolute.
    static func resolve(_ path: String, relativeTo base: String?) -> String {
        guard !path.hasPrefix("/"), let base, let slash = base.lastIndex(of: "/") else { return path }
        return String(base[...slash]) + path
    }

    /// The file's absolute path with every `.`, `..` and symbolic link resolved, so that two
    /// spellings of one file compare equal; the path itself when the file does not exist.
    static func canonical(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    // MARK: Sizes

    /// A size as `:set max-file-size` takes it, read as `:set memory` reads one
    /// (``Session/parse(bytes:)``: `KB`, `MB`, `GB` are powers of 1000).
    static func parseSize(_ text: String) -> Int? { Session.parse(bytes: text) }

    /// `64 MB`, `1 GB`, `1500 bytes`: the largest unit that divides the size.
    public static func formatSize(_ size: Int) -> String {
        for (unit, factor) in [("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000)] where size % factor == 0 && size >= factor {
            return "\(size / factor) \(unit)"
        }
        return size == 1 ? "1 byte" : "\(size) bytes"
    }
}

/// Text handed on about ``Files/chunkSize`` bytes at a time as it is made (to a file, to standard
/// output), so that a saved script or a `--json` document of any size is never held whole.
///
/// Chunks are whole strings, so a character is never split between two of them. After a chunk
/// fails to go out, the rest is dropped and ``failure`` says why.
public struct TextStream {
    private var pending = ""
    private let send: (inout String) -> String?
    /// Why a chunk could not be handed on, once one could not.
    public private(set) var failure: String?

    /// A stream that hands each chunk to `send`, which returns nil or why it failed.
    public init(_ send: @escaping (inout String) -> String?) {
        self.send = send
        pending.reserveCapacity(Files.chunkSize + 4096)
    }

    /// A stream into an open file.
    init(to descriptor: Int32) {
        self.init { chunk in
            chunk.withUTF8 { Files.writeAll($0, to: descriptor) } ? nil : Files.reason()
        }
    }

    /// A stream into the session's standard output (which reports its own failures).
    init(to output: OutputSink) {
        self.init { chunk in
            output.write(chunk, toError: false)
            return nil
        }
    }

    /// The whole text `body` writes, collected in memory (for tests and small texts).
    public static func text(_ body: (inout TextStream) -> Void) -> String {
        final class Collected { var text = "" }
        let collected = Collected()
        var stream = TextStream { chunk in
            collected.text += chunk
            return nil
        }
        body(&stream)
        stream.finish()
        return collected.text
    }

    public mutating func write(_ text: String) {
        guard failure == nil else { return }
        pending += text
        if pending.utf8.count >= Files.chunkSize { finish() }
    }

    /// Hands on what is pending (at the end, or to make it visible).
    public mutating func finish() {
        guard failure == nil, !pending.isEmpty else { return }
        failure = send(&pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// The elements of `t` in nested brackets, row-major, as ``Tensor/nestedText(_:gap:)`` spells
    /// them (`[[1, 2], [3, 4]]`; a scalar is its element alone), written one element at a time.
    /// A loop with a stack of open brackets: no recursion, whatever the rank.
    mutating func writeNested(_ t: Tensor, _ element: (Double) -> String) {
        let scalars = t.scalars, shape = t.shape
        if t.isScalar { return write(element(scalars[0])) }
        write("[")
        var written = [0]
        var offset = 0
        while let axis = written.indices.last, failure == nil {
            let size = shape[axis]
            if axis == shape.count - 1 {
                for i in offset..<(offset + size) {
                    if i > offset { write(", ") }
                    write(element(scalars[i]))
                }
                offset += size
                write("]")
                written.removeLast()
            } else if written[axis] == size {
                write("]")
                written.removeLast()
            } else {
                if written[axis] > 0 { write(", ") }
                written[axis] += 1
                write("[")
                written.append(0)
            }
        }
    }
}
