import Glibc

/// Reading and writing whole text files with the C library (no Foundation, for start-up speed).
enum Files {
    struct Failure: Error {
        var message: String
    }

    static func read(_ path: String) throws(Failure) -> String {
        guard let file = fopen(path, "rb") else { throw Failure(message: "cannot read '\(path)': \(reason())") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        if ferror(file) != 0 { throw Failure(message: "cannot read '\(path)': \(reason())") }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ text: String, to path: String) throws(Failure) {
        guard let file = fopen(path, "wb") else { throw Failure(message: "cannot write '\(path)': \(reason())") }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        if fclose(file) != 0 || written != bytes.count {
            throw Failure(message: "cannot write '\(path)': \(reason())")
        }
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
}
