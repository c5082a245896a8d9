import ChainruleCore

/// Text copied from a terminal or from the README: statements that begin with the prompt.
///
/// As Julia's REPL does, a leading `chainrule> ` (or the continuation prompt `      ...> `)
/// is taken off a statement, so a session can be pasted back whole. A prompt is replaced by
/// as many blanks, so every column of a diagnostic still points where the text was pasted.
/// When a script's first non-blank line begins with the prompt, the script is a transcript:
/// its lines without a prompt are what the session printed, and are read as blank lines.
enum PastedPrompt {
    /// The prompts, longest first (the continuation prompt also without its leading blanks).
    static let prompts: [[UInt8]] = [Array(REPL.continuationPrompt.utf8), Array(REPL.prompt.utf8),
                                     Array("...> ".utf8)]

    /// The length in bytes of the prompt `line` begins with (a bare `chainrule>` at the end
    /// of a line counts too), or nil.
    static func promptLength<C: Collection>(_ line: C) -> Int? where C.Element == UInt8 {
        // Most lines begin with none of the prompts' first bytes ('c', ' ', '.').
        guard let first = line.first, first == UInt8(ascii: "c") || first == 32 || first == UInt8(ascii: ".") else { return nil }
        for prompt in prompts {
            if line.starts(with: prompt) { return prompt.count }
            let bare = prompt.dropLast()  // the prompt without its trailing blank, alone on the line
            if line.count == bare.count && line.elementsEqual(bare) { return bare.count }
        }
        return nil
    }

    /// One line typed or pasted at the prompt with its prompt blanked, or nil when it has none.
    static func blanked(_ line: String) -> String? {
        let bytes = Array(line.utf8)
        guard let length = promptLength(bytes) else { return nil }
        return String(repeating: " ", count: length) + String(decoding: bytes[length...], as: UTF8.self)
    }

    /// A script's text with its prompts blanked (and, in a transcript, its output lines
    /// emptied), or nil when no line begins with a prompt (the text is read as it is, with
    /// nothing allocated).
    static func script(_ source: Source) -> Source? {
        source.bytes.withUnsafeBufferPointer { bytes -> Source? in
            /// Calls `body` with each line's range and the length of its prompt.
            func lines(_ body: (Range<Int>, Int?) -> Void) {
                var start = 0
                while start <= bytes.count {
                    var end = start
                    while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                    body(start..<end, promptLength(bytes[start..<end]))
                    start = end + 1
                }
            }
            var anyPrompt = false
            var transcript: Bool?
            lines { range, prompt in
                if prompt != nil { anyPrompt = true }
                if transcript == nil, bytes[range].contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) {
                    transcript = prompt != nil
                }
            }
            guard anyPrompt else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            lines { range, prompt in
                if range.lowerBound > 0 { out.append(UInt8(ascii: "\n")) }
                if let prompt {
                    out.append(contentsOf: repeatElement(32, count: prompt))
                    out.append(contentsOf: bytes[(range.lowerBound + prompt)..<range.upperBound])
                } else if transcript != true {
                    out.append(contentsOf: bytes[range])
                }
            }
            return Source(name: source.name, text: String(decoding: out, as: UTF8.self), firstLine: source.firstLine)
        }
    }
}
