import ChainruleCore
import Glibc

/// The loss curve `:train` draws: braille dots on the ``PlotCanvas``, as wide as the terminal.
extension Session {
    /// Rows of the curve's canvas (four dots each).
    static let lossCurveRows = 10

    /// The losses over the steps (`losses[k]` at step k), on a log scale when the finite ones
    /// span more than two decades, with the final (◆) and the best (★) loss marked and told
    /// in a key below; sized to the terminal's width (or `COLUMNS`).
    func lossCurve(_ losses: [Double], best: (step: Int, loss: Double)?) -> [String] {
        let finite = losses.filter(\.isFinite)
        guard let top = finite.max(), let bottom = finite.min() else { return ["(no finite loss to draw)"] }
        let logarithmic = bottom > 0 && top / bottom > 100
        func height(_ v: Double) -> Double { logarithmic ? log10(v) : v }
        let (high, low) = (height(top), height(bottom))
        let labels = [format.format(top), format.format(bottom)]
        let labelWidth = labels.map(\.count).max() ?? 0
        let columns = max(10, min(400, (terminalWidth() ?? 80) - labelWidth - 2))
        var canvas = PlotCanvas(kind: .braille, columns: columns, rows: Session.lossCurveRows)
        let dotColumns = canvas.dotColumns, dotRows = canvas.dotRows
        func y(_ v: Double) -> Int {
            guard high > low else { return dotRows / 2 }
            // Halved, so that the range of two finite losses (up to ±1.8e308) cannot overflow.
            let fraction = (height(v) / 2 - low / 2) / (high / 2 - low / 2)
            return Int(((1 - min(1, max(0, fraction))) * Double(dotRows - 1)).rounded())
        }
        func x(_ step: Int) -> Int { losses.count < 2 ? 0 : step * (dotColumns - 1) / (losses.count - 1) }
        // Per dot column, a line from where the column before ended, then down its range of values.
        var previous: (x: Int, y: Int)?
        var phase = 0
        var step = 0
        for column in 0..<dotColumns {
            var low = Int.max, high = Int.min, last: Int?
            var first: Int?
            while step < losses.count, x(step) == column {
                if losses[step].isFinite {
                    let d = y(losses[step])
                    low = min(low, d); high = max(high, d)
                    if first == nil { first = d }
                    last = d
                }
                step += 1
            }
            guard let first, let last else { continue }
            if let previous { canvas.line(from: previous, to: (column, first), series: 0, phase: &phase) }
            canvas.line(from: (column, low), to: (column, high), series: 0, phase: &phase)
            previous = (column, last)
        }
        let lastStep = losses.count - 1
        var key: [String] = []
        if let best, best.step != lastStep, losses[lastStep].isFinite {
            let cell = canvas.cell(ofDot: x(best.step), y(best.loss))
            canvas.stamp("★", column: cell.column, row: cell.row, series: 1)
        }
        if losses[lastStep].isFinite {
            let cell = canvas.cell(ofDot: x(lastStep), y(losses[lastStep]))
            canvas.stamp("◆", column: cell.column, row: cell.row, series: 2)
            key.append("◆ final \(format.format(losses[lastStep])) at step \(lastStep)")
        }
        if let best {
            key.append(best.step == lastStep ? "(the best)" : "★ best \(format.format(best.loss)) at step \(best.step)")
        }
        var lines: [String] = []
        for row in 0..<canvas.rows {
            var text = canvas.text(row: row, key: { _ in "•" }, colour: { [style] series, run in series == 0 ? style.value(run) : run })
            while text.last == " " { text.removeLast() }
            let label = row == 0 ? labels[0] : row == canvas.rows - 1 ? labels[1] : ""
            lines.append(String(repeating: " ", count: labelWidth - label.count) + label + " ┤" + text)
        }
        lines.append(String(repeating: " ", count: labelWidth) + " └" + String(repeating: "─", count: columns))
        lines.append(String(repeating: " ", count: labelWidth + 2) + "step 0 … \(lastStep)" + (logarithmic ? ", log scale" : "")
                     + (key.isEmpty ? "" : "   " + key.joined(separator: "  ")))
        return lines
    }
}
