import ChainruleSession
import Glibc

/// An input's lines recorded as history entries through ``HistoryFile`` into each kind of path
/// `CHAINRULE_HISTORY` may name, in a folder of its own made for the input: a FIFO, a
/// character device, a node of the null device, a read-only file, a regular file, and a missing
/// one beside a file of the user's called like the old temporary (`history.new`).
///
/// Checked: only the regular and the missing file are written, and only ever hold a run of the
/// newest entries; every other file is exactly as it was; nothing is opened that is not a
/// regular file (opening the FIFO would block until a timeout); no temporary file is left.
/// The entries are written by the closures here, one line each, as the line editor's would.
enum HistoryCheck {
    /// Entries kept: small, so that a few lines already make the file be compacted.
    static let capacity = 3
    /// Lines of an input recorded: enough to compact a few times.
    static let maxEntries = 16
    static let header: [UInt8] = Array("_HiStOrY_V2_\n".utf8)
    static let old: [UInt8] = Array("old".utf8)

    static func run(_ text: String) {
        let entries = Array(text.utf8).split(separator: 10, omittingEmptySubsequences: false)
            .prefix(maxEntries).map(Array.init)
        var template = Array("\(temporaryFolder())/chainrule-history-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
            preconditionFailure("cannot make a folder for the history files: \(String(cString: strerror(errno)))")
        }
        let folder = String(cString: made)
        defer { removeAll(in: folder) }

        let fifo = folder + "/fifo", device = folder + "/device", null = folder + "/null"
        let readOnly = folder + "/read-only", regular = folder + "/regular", missing = folder + "/missing"
        let contents = header + old + [10]
        precondition(mkfifo(fifo, 0o644) == 0)
        // Device nodes need root; without it those two cases are left out.
        for (path, model) in [(device, "/dev/zero"), (null, "/dev/null")] {
            if let info = status(model) { _ = mknod(path, S_IFCHR | 0o644, info.st_rdev) }
        }
        write(contents, to: readOnly, mode: 0o444)
        write(contents, to: regular, mode: 0o600)
        write(Array("mine\n".utf8), to: missing + ".new", mode: 0o600)
        let before = [fifo, device, null, readOnly].compactMap { path in status(path).map { (path, $0) } }

        for (path, warns) in [(fifo, true), (device, true), (null, false), (readOnly, true)] where status(path) != nil {
            let file = HistoryFile(path: path, capacity: capacity)
            precondition((file.warning != nil) == warns, "warning for '\(path)': \(file.warning ?? "none")")
            precondition(!file.savesHistory, "'\(path)' would be written")
            record(entries, in: file, loaded: path == readOnly ? [old] : [])
        }
        for (path, loaded) in [(regular, [old]), (missing, [])] {
            let file = HistoryFile(path: path, capacity: capacity)
            precondition(file.warning == nil && file.savesHistory, "'\(path)': \(file.warning ?? "not saved")")
            let memory = record(entries, in: file, loaded: loaded)
            let held = lines(of: path)
            precondition(held.count <= 2 * capacity && held == Array(memory.suffix(held.count)),
                         "'\(path)' holds entries that are not the newest")
            precondition(status(path).map { $0.st_mode & 0o7777 } == 0o600)
        }

        for (path, was) in before {
            guard let now = status(path) else { preconditionFailure("'\(path)' is gone") }
            let same = [now.st_mode == was.st_mode, now.st_ino == was.st_ino, now.st_rdev == was.st_rdev,
                        now.st_size == was.st_size, now.st_mtim.tv_sec == was.st_mtim.tv_sec,
                        now.st_mtim.tv_nsec == was.st_mtim.tv_nsec]
            precondition(!same.contains(false), "'\(path)' was changed")
        }
        precondition(bytes(of: readOnly) == contents && bytes(of: missing + ".new") == Array("mine\n".utf8))
        let expected = (["missing", "missing.new", "regular"] + before.map { String($0.0.dropFirst(folder.count + 1)) }).sorted()
        precondition(names(in: folder) == expected, "left in the folder: \(names(in: folder))")
    }

    /// Records each entry as the line editor does, entering it in `memory` (the history held in
    /// memory, starting with what was loaded) and then asking the file to save it. Returns `memory`.
    @discardableResult
    static func record(_ entries: [[UInt8]], in file: HistoryFile, loaded: [[UInt8]]) -> [[UInt8]] {
        var memory: [[UInt8]] = []
        _ = file.load { path in
            precondition(isRegular(path), "loading '\(path)', which is not a regular file")
            let held = bytes(of: path)
            guard held.starts(with: header) else { return false }
            memory = lines(of: path)
            return true
        }
        precondition(memory == loaded, "loaded \(memory.count) entries, not \(loaded.count)")
        for entry in entries {
            memory.append(entry)
            _ = file.record(
                append: { path in
                    precondition(isRegular(path), "appending to '\(path)', which is not a regular file")
                    return append(entry + [10], to: path)
                },
                writeAll: { path in
                    let name = path.split(separator: "/").last.map(String.init) ?? ""
                    precondition(isRegular(path) && bytes(of: path).isEmpty && name.hasPrefix(".") && name.contains(".tmp-"),
                                 "writing the whole history to '\(path)', which is not a new temporary file")
                    return append(header + Array(memory.suffix(capacity).joined(separator: [10])) + [10], to: path)
                })
        }
        return memory
    }

    // MARK: Files

    static func temporaryFolder() -> String {
        guard let folder = getenv("TMPDIR").map({ String(cString: $0) }), folder.hasPrefix("/") else { return "/tmp" }
        return folder
    }

    static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    static func isRegular(_ path: String) -> Bool {
        status(path).map { ($0.st_mode & S_IFMT) == S_IFREG } ?? false
    }

    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) {
        precondition(append(bytes, to: path) && chmod(path, mode) == 0, "cannot write '\(path)'")
    }

    /// Appends `bytes` to the regular file at `path`, creating it; false when that fails.
    static func append(_ bytes: [UInt8], to path: String) -> Bool {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        return close(descriptor) == 0 && written == bytes.count
    }

    /// The bytes of the regular file at `path` (empty when there is none).
    static func bytes(of path: String) -> [UInt8] {
        guard isRegular(path) else { return [] }
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n <= 0 { return result }
            result += chunk[0..<n]
        }
    }

    /// The entries of a history file: its lines after the first.
    static func lines(of path: String) -> [[UInt8]] {
        let held = bytes(of: path)
        guard held.starts(with: header), held.last == 10 else { return [] }
        return held.dropFirst(header.count).dropLast().split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    }

    static func names(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func removeAll(in folder: String) {
        for name in names(in: folder) { unlink(folder + "/" + name) }
        rmdir(folder)
    }
}
