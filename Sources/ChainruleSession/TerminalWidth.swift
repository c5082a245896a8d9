import Glibc

extension Session {
    /// The width drawings fit when `:set width` gives none: the terminal's when standard output
    /// is one, else `COLUMNS` when it is a whole number, else nil (drawings then take 80).
    /// Asked each time a drawing is made, so a resized terminal is followed.
    public static func environmentWidth() -> Int? {
        if isatty(1) == 1 {
            var size = winsize()
            if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        }
        guard let text = getenv("COLUMNS").map({ String(cString: $0) }), let columns = Int(text), columns > 0 else { return nil }
        return min(columns, 100_000)
    }
}
