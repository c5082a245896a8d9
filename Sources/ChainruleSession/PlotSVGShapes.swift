import Glibc

/// The marker shapes, the heat map and its colour scale of ``PlotSVG``.
extension PlotSVG {
    /// Marker `k` centred at (`x`, `y`): one shape per series (circle, square, triangle,
    /// diamond, triangle down, plus, cross, star), so that a label never rests on colour alone.
    static func marker(_ k: Int, at x: Double, _ y: Double) -> String {
        let r = 5.5
        func polygon(_ corners: [(Double, Double)]) -> String {
            "<path d=\"M" + corners.map { "\(px(x + $0.0)) \(px(y + $0.1))" }.joined(separator: "L") + "Z\"/>"
        }
        switch k % 8 {
        case 0: return "<circle cx=\"\(px(x))\" cy=\"\(px(y))\" r=\"\(px(r))\"/>"
        case 1: return "<rect x=\"\(px(x - r + 0.7))\" y=\"\(px(y - r + 0.7))\" width=\"\(px(2 * r - 1.4))\" height=\"\(px(2 * r - 1.4))\"/>"
        case 2: return polygon([(0, -r - 1), (r + 0.5, r - 0.5), (-r - 0.5, r - 0.5)])
        case 3: return polygon([(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)])
        case 4: return polygon([(0, r + 1), (r + 0.5, -r + 0.5), (-r - 0.5, -r + 0.5)])
        case 5:
            let a = 2.0, b = r + 1
            return polygon([(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)])
        case 6:
            // A cross: the plus turned by 45°.
            let a = 1.5, b = r
            return polygon([(-b, -b + a), (-b + a, -b), (0, -a), (b - a, -b), (b, -b + a), (a, 0), (b, b - a), (b - a, b), (0, a), (-b + a, b), (-b, b - a), (-a, 0)])
        default:
            let outer = r + 1.5, inner = r * 0.45
            let corners = (0..<10).map { i -> (Double, Double) in
                let angle = Double.pi / 5 * Double(i) - Double.pi / 2, radius = i % 2 == 0 ? outer : inner
                return (radius * cos(angle), radius * sin(angle))
            }
            return polygon(corners)
        }
    }

    /// The current point: a white ring with a dark dot, unlike any series' marker.
    static func markSymbol(at x: Double, _ y: Double) -> String {
        "<g class=\"mark\"><circle cx=\"\(px(x))\" cy=\"\(px(y))\" r=\"7\" fill=\"#ffffff\" stroke=\"\(ink)\" stroke-width=\"2.5\"/><circle cx=\"\(px(x))\" cy=\"\(px(y))\" r=\"2.5\" fill=\"\(ink)\"/></g>"
    }

    /// The field as a grid of cells, each centred on its sample (the cells at the edges are
    /// halves), coloured by the scale; a sample that is not finite is grey.
    func heatMap(_ field: PlotReport.Field, scale: ColourScale, in frame: Frame, into body: inout SVGText) {
        guard field.columns >= 1, field.rows >= 1, field.values.count == field.columns * field.rows else { return }
        // Edges between cells, in px to the tenth (as written), shared by neighbours so that no seam shows.
        func edges(_ count: Int, from start: Double, length: Double) -> [Double] {
            (0...count).map { i in
                let f = count == 1 ? Double(i) : min(max((Double(i) - 0.5) / Double(count - 1), 0), 1)
                return ((start + f * length) * 10).rounded() / 10
            }
        }
        let xs = edges(field.columns, from: frame.left, length: frame.width)
        let ys = edges(field.rows, from: frame.top, length: frame.height)
        var cells = ""
        for row in 0..<field.rows {
            for column in 0..<field.columns {
                let v = field.values[row * field.columns + column]
                cells += "<rect x=\"\(px(xs[column]))\" y=\"\(px(ys[row]))\" width=\"\(px(xs[column + 1] - xs[column]))\" height=\"\(px(ys[row + 1] - ys[row]))\" fill=\"\(scale.colour(v))\"/>"
            }
            cells += "\n"
        }
        body.element("<g class=\"heat-map\" shape-rendering=\"crispEdges\">\n\(cells)</g>")
    }
}

/// The colours of a heat map: viridis (perceptually even, readable in grey and by colour-blind
/// readers) from the field's lowest finite value to its highest, drawn as a bar with ticks.
struct ColourScale {
    var label: String
    var low: Double
    var high: Double
    var format: NumberFormat

    static let nonFinite = "#c8ccd0"
    /// Viridis at nine even stops.
    static let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140),
        (40, 174, 128), (94, 201, 98), (173, 220, 48), (253, 231, 37),
    ]

    init(field: PlotReport.Field, format: NumberFormat) {
        let finite = field.values.filter(\.isFinite)
        label = field.label
        low = finite.min() ?? 0
        high = finite.max() ?? 0
        self.format = format
    }

    var ticks: [Double] { high > low ? plotTicks(low: low, high: high, count: 5) : [low] }

    /// The room the bar and its labels take to the right of the frame.
    var width: Double {
        let labels = ticks.map { PlotSVG.textWidth(format.format($0), size: PlotSVG.tickSize) }.max() ?? 0
        return max(24 + 18 + 8 + labels, PlotSVG.textWidth(label, size: PlotSVG.tickSize) / 2 + 30) + 6
    }

    /// The colour of a value: its place between low and high along the stops.
    func colour(_ v: Double) -> String {
        guard v.isFinite else { return ColourScale.nonFinite }
        return colour(at: high > low ? (v - low) / (high - low) : 0.5)
    }

    func colour(at fraction: Double) -> String {
        let f = min(max(fraction.isFinite ? fraction : 0, 0), 1) * Double(ColourScale.stops.count - 1)
        let i = min(Int(f), ColourScale.stops.count - 2), t = f - Double(i)
        let a = ColourScale.stops[i], b = ColourScale.stops[i + 1]
        let hex = "0123456789abcdef".map { $0 }
        func byte(_ x: Double, _ y: Double) -> String {
            let v = min(max(Int((x + (y - x) * t).rounded()), 0), 255)
            return String([hex[v / 16], hex[v % 16]])
        }
        return "#" + byte(a.0, b.0) + byte(a.1, b.1) + byte(a.2, b.2)
    }

    /// The bar, highest value at the top, with tick labels and the field's name above it.
    func draw(left: Double, top: Double, height: Double, into body: inout SVGText) {
        let steps = 48, w = 18.0
        var bar = ""
        for i in 0..<steps {
            let y0 = top + height * Double(i) / Double(steps), y1 = top + height * Double(i + 1) / Double(steps)
            bar += "<rect x=\"\(px(left))\" y=\"\(px(y0))\" width=\"\(px(w))\" height=\"\(px(y1 - y0))\" fill=\"\(colour(at: 1 - (Double(i) + 0.5) / Double(steps)))\"/>"
        }
        body.element("<g class=\"colour-scale\"><g shape-rendering=\"crispEdges\">\(bar)</g><rect x=\"\(px(left))\" y=\"\(px(top))\" width=\"\(px(w))\" height=\"\(px(height))\" fill=\"none\" stroke=\"#444c55\"/>")
        for t in ticks {
            let f = high > low ? (t - low) / (high - low) : 0.5
            let y = top + (1 - f) * height
            body.element("<path d=\"M\(px(left + w)) \(px(y))h5\" stroke=\"#444c55\"/><text class=\"tick\" x=\"\(px(left + w + 8))\" y=\"\(px(y + 5))\">\(PlotSVG.escape(format.format(t)))</text>")
        }
        body.element("<text class=\"label\" x=\"\(px(left + w / 2))\" y=\"\(px(top - 10))\" text-anchor=\"middle\" font-style=\"italic\">\(PlotSVG.escape(label))</text></g>")
    }
}
