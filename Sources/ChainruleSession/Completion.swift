import Glibc
import ChainruleCore

/// Tab completion: commands, node names, functions, keyword arguments and file paths.
extension Session {
    public func complete(_ lineBeforeCursor: String) -> Completion {
        let line = Substring(lineBeforeCursor)
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.hasPrefix(":") {
            guard let space = trimmed.firstIndex(where: { $0 == " " }) else {
                let word = String(trimmed)
                return Completion(word: word, candidates: Session.commands.map { ":" + $0.name + " " }.filter { $0.hasPrefix(word) }.sorted())
            }
            let command = trimmed[trimmed.index(after: trimmed.startIndex)..<space]
            let word = String(trimmed[trimmed.index(after: space)...].split(separator: " ", omittingEmptySubsequences: false).last ?? "")
            switch command {
            case "load", "save": return Completion(word: word, candidates: Session.paths(completing: word))
            case "help": return Completion(word: word, candidates: (Session.commands.map(\.name) + ["functions", "language"]).filter { $0.hasPrefix(word) }.sorted())
            case "set": return Completion(word: word, candidates: ["precision", "color", "echo", "on", "off"].filter { $0.hasPrefix(word) })
            default: return Completion(word: word, candidates: names(completing: word, functions: false))
            }
        }
        let word = String(line.reversed().prefix { isIdentifierCharacter($0) }.reversed())
        return Completion(word: word, candidates: names(completing: word, functions: true))
    }

    func isIdentifierCharacter(_ c: Character) -> Bool {
        c == "_" || c.isLetter || c.isNumber
    }

    func names(completing word: String, functions: Bool) -> [String] {
        var candidates = workspace.order + Builtins.constants.map(\.name)
        if functions {
            candidates += Builtins.functions.map { $0.name + "(" }
            candidates += workspace.moduleNames.map { $0 + "(" }
            candidates += Builtins.keywords
            candidates += ["input ", "param "]
        }
        return Array(Set(candidates.filter { $0.hasPrefix(word) })).sorted()
    }

    /// Files and folders whose path starts with `prefix`; folders end in `/`.
    static func paths(completing prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let folder = slash.map { String(prefix[...$0]) } ?? ""
        let stem = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        guard let directory = opendir(folder.isEmpty ? "." : folder) else { return [] }
        defer { closedir(directory) }
        var result: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name != ".", name != "..", name.hasPrefix(stem), !(name.hasPrefix(".") && !stem.hasPrefix(".")) else { continue }
            let path = folder + name
            result.append(Files.isDirectory(path) ? path + "/" : path)
        }
        return result.sorted()
    }
}
