import Glibc

/// The file a line editor keeps its history in, and what may be done to it.
///
/// Only a regular file, or a missing one, is ever written: entries are appended to it one at a
/// time, and when it is new or has grown past twice ``capacity`` it is written whole to a
/// temporary file with a unique name beside it, which then replaces it. Anything else is left
/// as it is:
///
/// - `/dev/null`, or any path that names the null device, turns history off without a word;
/// - a FIFO, a device, a socket or a directory is never opened (opening a FIFO would wait for
///   a writer) and never replaced: history is kept in memory only, with a one-line warning;
/// - a file that cannot be read, a read-only file, and a file that is not in the line editor's
///   format are not written either (the readable ones are still loaded), with a warning.
///
/// The entries themselves are read and written by the caller's closures, given a path; this
/// type decides whether and where. A symbolic link is followed, so the link stays and its
/// target is what grows or is replaced.
public final class HistoryFile {
    /// The path as given, for messages.
    public let path: String
    /// How many entries the history keeps; the file is compacted past twice as many.
    public let capacity: Int
    /// False once writing the file would destroy something, or a write failed.
    public private(set) var savesHistory: Bool
    /// True when the file should be loaded: an existing, readable, non-empty regular file.
    public private(set) var hasEntriesToLoad = false
    /// The one line to show the user about what the path names, or nil.
    public private(set) var warning: String?

    /// The file written: `path` with symbolic links resolved, when it exists.
    private let target: String
    /// Mode bits of the file to keep when it is replaced (a new file is private to its owner).
    private var mode: mode_t = 0o600
    /// Entries in the file, which grows by appending until it holds `2 * capacity`.
    private var entriesInFile = 0

    /// Looks at what `path` names (see ``warning``); opens nothing.
    public init(path: String, capacity: Int) {
        self.path = path
        self.capacity = capacity
        var resolved = path
        if let real = realpath(path, nil) {
            resolved = String(cString: real)
            free(real)
        }
        target = resolved
        savesHistory = false
        warning = nil
        warning = examineAtStart()
    }

    private func examineAtStart() -> String? {
        if path == "/dev/null" { return nil }
        var info = stat()
        guard stat(target, &info) == 0 else {
            if errno != ENOENT { return cannotBeRead(reason: String(cString: strerror(errno))) }
            var link = stat()
            if lstat(path, &link) == 0 { return notSaved("is a symbolic link to a missing file") }
            savesHistory = true  // created with the first entry
            return nil
        }
        if HistoryFile.isNullDevice(info) { return nil }
        guard let kind = HistoryFile.kindIfNotRegular(info) else {
            guard access(target, R_OK) == 0 else { return cannotBeRead(reason: nil) }
            hasEntriesToLoad = info.st_size > 0
            mode = info.st_mode & 0o7777
            if HistoryFile.isReadOnly(target, info) { return notSaved("is read-only") }
            savesHistory = true
            return nil
        }
        return notSaved("is not a regular file (\(kind))")
    }

    /// Loads the entries with `load`, given the file's path, which returns false when the file is
    /// not in its format (the file is then never written). Returns a warning, or nil.
    public func load(_ load: (String) -> Bool) -> String? {
        guard hasEntriesToLoad else { return nil }
        hasEntriesToLoad = false
        guard case .regular = examine() else {
            savesHistory = false
            return notSaved("is no longer a regular file")
        }
        guard load(target) else {
            savesHistory = false
            return notSaved("is not in libedit's format")
        }
        entriesInFile = max(0, HistoryFile.countLines(target) - 1)  // after the format's first line
        return nil
    }

    /// Records the newest entry: `append`, given the file's path, adds it to the end of the file;
    /// `writeAll`, given the path of a new empty file, writes the whole history there, in the
    /// format's first line and then the entries. Each returns false when it fails.
    ///
    /// Returns a warning when the entry could not be saved (and no later one will be), or nil.
    public func record(append: (String) -> Bool, writeAll: (String) -> Bool) -> String? {
        guard savesHistory else { return nil }
        switch examine() {
        case .regular(let info):
            if HistoryFile.isReadOnly(target, info) {
                savesHistory = false
                return notSaved("is read-only")
            }
            if entriesInFile > 0 && entriesInFile < 2 * capacity {
                if append(target) {
                    entriesInFile += 1
                    return nil
                }
                break
            }
            if replace(writeAll) { return nil }
        case .missing:
            if replace(writeAll) { return nil }
        case .other:
            savesHistory = false
            return notSaved("is no longer a regular file")
        }
        savesHistory = false
        return "cannot write history file '\(path)'; history will not be saved"
    }

    // MARK: Looking at the file

    private enum Found {
        case regular(stat)
        case missing
        case other
    }

    /// What the file is now (a link is not followed: the target was resolved at the start).
    private func examine() -> Found {
        var info = stat()
        guard lstat(target, &info) == 0 else { return errno == ENOENT ? .missing : .other }
        return (info.st_mode & S_IFMT) == S_IFREG ? .regular(info) : .other
    }

    /// Whether `info` is the null device's: `/dev/null` itself, a link to it, or a node of the
    /// same device made elsewhere.
    static func isNullDevice(_ info: stat) -> Bool {
        guard (info.st_mode & S_IFMT) == S_IFCHR else { return false }
        var null = stat()
        return stat("/dev/null", &null) == 0 && (null.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == null.st_rdev
    }

    /// What kind of file `info` describes when it is not a regular file, for a message.
    static func kindIfNotRegular(_ info: stat) -> String? {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFDIR: return "a directory"
        default: return "not a file"
        }
    }

    /// Read-only for this process, or for everyone by its mode bits (which `access` ignores
    /// when running as root).
    static func isReadOnly(_ path: String, _ info: stat) -> Bool {
        access(path, W_OK) != 0 || info.st_mode & 0o222 == 0
    }

    private func notSaved(_ problem: String) -> String {
        "history file '\(path)' \(problem); history will not be saved"
    }

    private func cannotBeRead(reason: String?) -> String {
        notSaved("cannot be read" + (reason.map { " (\($0))" } ?? ""))
    }

    // MARK: Writing

    /// Writes the whole history to a new file beside the target and renames it over the target;
    /// the temporary file is removed when anything fails.
    private func replace(_ writeAll: (String) -> Bool) -> Bool {
        let slash = target.lastIndex(of: "/")
        let folder = slash.map { String(target[...$0]) } ?? "./"
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        var template = Array((folder + "." + base + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard descriptor >= 0 else { return false }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The descriptor stays open on the temporary file whatever `writeAll` does by its path.
        let written = writeAll(temporary) && fchmod(descriptor, mode) == 0 && fsync(descriptor) == 0
        let lines = written ? HistoryFile.countLines(descriptor: descriptor) : 0
        let closed = close(descriptor) == 0
        // Replace only a regular file, or nothing: what the path names may have changed meanwhile.
        let replaceable: Bool
        switch examine() {
        case .regular, .missing: replaceable = true
        case .other: replaceable = false
        }
        guard written && closed && replaceable && rename(temporary, target) == 0 else {
            unlink(temporary)
            return false
        }
        entriesInFile = max(0, lines - 1)
        return true
    }

    /// The number of newline characters in the regular file at `path` (0 when it cannot be read).
    /// Opened without waiting, so a FIFO put in its place cannot block.
    static func countLines(_ path: String) -> Int {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return 0 }
        return countLines(descriptor: descriptor)
    }

    /// The number of newline characters in the file open as `descriptor`, from its start.
    static func countLines(descriptor: Int32) -> Int {
        var count = 0
        var offset: off_t = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return count }
            offset += off_t(n)
            count += chunk[0..<n].reduce(0) { $1 == 10 ? $0 + 1 : $0 }
        }
    }
}
