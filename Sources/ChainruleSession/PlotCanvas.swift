/// A grid of character cells that plots are drawn on, dot by dot: in braille each cell holds
/// 2 × 4 dots (U+2800 + the dots' bits), in ASCII one dot, shown as the character of the
/// series that set it. Cells can also be stamped with a character (markers, keys, shades).
struct PlotCanvas {
    enum Kind: Equatable {
        case braille
        case ascii
    }

    let kind: Kind
    let columns: Int
    let rows: Int
    private var bits: [UInt8]
    /// The series that last drew in each cell (-1: none): its character in ASCII, its colour.
    private var owners: [Int]
    private var stamps: [Character?]

    init(kind: Kind, columns: Int, rows: Int) {
        self.kind = kind
        self.columns = max(1, columns)
        self.rows = max(1, rows)
        bits = Array(repeating: 0, count: self.columns * self.rows)
        owners = Array(repeating: -1, count: self.columns * self.rows)
        stamps = Array(repeating: nil, count: self.columns * self.rows)
    }

    var dotColumns: Int { kind == .braille ? columns * 2 : columns }
    var dotRows: Int { kind == .braille ? rows * 4 : rows }

    /// The bit of dot (`dx`, `dy`) within a braille cell: dots 1–3 and 7 down the left, 4–6 and 8 down the right.
    static func brailleBit(dx: Int, dy: Int) -> UInt8 {
        let left: [UInt8] = [0x01, 0x02, 0x04, 0x40], right: [UInt8] = [0x08, 0x10, 0x20, 0x80]
        return dx == 0 ? left[dy] : right[dy]
    }

    /// Sets the dot at dot column `x`, dot row `y` (0 at the top); outside the canvas, nothing.
    mutating func dot(_ x: Int, _ y: Int, series: Int) {
        guard x >= 0, y >= 0, x < dotColumns, y < dotRows else { return }
        let cell = kind == .braille ? (y / 4) * columns + x / 2 : y * columns + x
        bits[cell] |= kind == .braille ? PlotCanvas.brailleBit(dx: x % 2, dy: y % 4) : 1
        owners[cell] = series
    }

    /// The dots of a straight line from one dot to another (Bresenham), ends included; with
    /// `dashed`, two dots of every four are left out, counting on from `phase`.
    mutating func line(from a: (x: Int, y: Int), to b: (x: Int, y: Int), series: Int, dashed: Bool = false, phase: inout Int) {
        let dx = abs(b.x - a.x), dy = -abs(b.y - a.y)
        let sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1
        var error = dx + dy
        var (x, y) = a
        while true {
            if !dashed || phase % 4 < 2 { dot(x, y, series: series) }
            phase += 1
            if x == b.x && y == b.y { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// Writes `character` over cell (`column`, `row`); returns whether another series had stamped it.
    @discardableResult
    mutating func stamp(_ character: Character, column: Int, row: Int, series: Int) -> Bool {
        guard column >= 0, row >= 0, column < columns, row < rows else { return false }
        let cell = row * columns + column
        let clash = stamps[cell] != nil && owners[cell] != series
        stamps[cell] = character
        owners[cell] = series
        return clash
    }

    /// The cell that dot column `x`, dot row `y` falls in.
    func cell(ofDot x: Int, _ y: Int) -> (column: Int, row: Int) {
        kind == .braille ? (x / 2, y / 4) : (x, y)
    }

    /// Whether anything was drawn in a cell.
    func isEmpty(column: Int, row: Int) -> Bool {
        let cell = row * columns + column
        return bits[cell] == 0 && stamps[cell] == nil
    }

    /// One row of cells as text: a stamp, else the dots (braille, or the owning series' `key`
    /// in ASCII), else `background(column)`; runs of one series are coloured by `colour`.
    func text(row: Int, key: (Int) -> Character, background: (Int) -> Character = { _ in " " },
              colour: (Int, String) -> String = { $1 }) -> String {
        var result = "", run = "", runOwner = -1
        for column in 0..<columns {
            let cell = row * columns + column
            let character: Character
            var owner = owners[cell]
            if let stamp = stamps[cell] {
                character = stamp
            } else if bits[cell] != 0 {
                character = kind == .braille ? Character(Unicode.Scalar(0x2800 + UInt32(bits[cell])) ?? " ") : key(owner)
            } else {
                character = background(column)
                owner = -1
            }
            if owner != runOwner {
                result += runOwner >= 0 ? colour(runOwner, run) : run
                run = ""
                runOwner = owner
            }
            run.append(character)
        }
        result += runOwner >= 0 ? colour(runOwner, run) : run
        return result
    }
}
