/// A DAG drawn in the terminal as boxes in layers joined by box-drawing edges.
///
/// A layered (Sugiyama) layout kept small and deterministic: layers by longest path from the
/// inputs (a leaf sits just above its first consumer), long edges through one-column lanes,
/// a few barycentre sweeps to order each layer (a box's inputs left to right in argument order,
/// as its ports are), then edges routed through a channel between layers, one track per source.
/// Box contents are cut with `…` until the widest layer fits the width; when even the narrowest
/// boxes do not fit, ``draw(_:width:)`` returns nil and the caller draws a list instead.
struct LayeredLayout {
    enum Border { case light, heavy, double }

    struct Item {
        var lines: [String]
        /// Items drawn above this one (smaller indices), in argument order.
        var inputs: [Int]
        var border: Border = .light
        /// Shorter lines (tensors summarised) drawn instead of `lines` when those do not fit.
        var compact: [String]? = nil
        /// Where the item goes among items that nothing else orders (its inputs and consumers alike).
        var rank: Int? = nil

        /// The lines drawn when the box's content may take `cap` columns.
        func lines(within cap: Int) -> [String] {
            guard let compact, (lines.map(\.count).max() ?? 0) > cap else { return lines }
            return compact
        }
    }

    static let gap = 2
    static let narrowest = 6

    private struct Vertex {
        var item: Int?          // nil: a lane carrying a long edge
        var layer: Int
        var width = 1
        var x = 0
        var ports = 0
        var rank = 0
        var lines: [String] = []
    }

    private struct Edge {
        var from: Int, to: Int, port: Int
    }

    /// The drawing's lines, none wider than `width`, or nil when it cannot fit.
    static func draw(_ items: [Item], width: Int) -> [String]? {
        guard !items.isEmpty else { return [] }
        let n = items.count
        var layer = [Int](repeating: 0, count: n)
        var consumers = [[Int]](repeating: [], count: n)
        for (v, item) in items.enumerated() {
            for u in item.inputs where u < v && !consumers[u].contains(v) { consumers[u].append(v) }
            if !item.inputs.isEmpty { layer[v] = 1 + item.inputs.reduce(0) { max($0, $1 < v ? layer[$1] : 0) } }
        }
        for v in 0..<n where items[v].inputs.isEmpty {
            if let first = consumers[v].map({ layer[$0] }).min() { layer[v] = first - 1 }
        }
        // Vertices: the items, then lanes; one lane per source and layer, shared by its long edges.
        var vertices = (0..<n).map { Vertex(item: $0, layer: layer[$0], ports: items[$0].inputs.count, rank: items[$0].rank ?? $0) }
        var edges: [Edge] = []
        var lanes: [Int: Int] = [:]    // source * (layers + 1) + layer → lane vertex
        let layers = (layer.max() ?? 0) + 1
        for (v, item) in items.enumerated() {
            for (port, u) in item.inputs.enumerated() where u < v {
                var from = u
                for l in stride(from: layer[u] + 1, to: layer[v], by: 1) {
                    let key = u * layers + l
                    if let lane = lanes[key] { from = lane; continue }
                    vertices.append(Vertex(item: nil, layer: l, rank: vertices[u].rank))
                    lanes[key] = vertices.count - 1
                    edges.append(Edge(from: from, to: vertices.count - 1, port: 0))
                    from = vertices.count - 1
                }
                edges.append(Edge(from: from, to: v, port: port))
            }
        }
        let order = orderLayers(vertices, edges, layers: layers)
        let widest = items.map { ($0.compact ?? $0.lines).map(\.count).max() ?? 0 }.max() ?? 0
        var cap = max(items.map { $0.lines.map(\.count).max() ?? 0 }.max() ?? 0, widest, narrowest)
        while true {
            for v in 0..<n {
                vertices[v].lines = items[v].lines(within: cap)
                let content = min(cap, vertices[v].lines.map(\.count).max() ?? 0)
                vertices[v].width = max(content, 2 * vertices[v].ports - 1, 1) + 4
            }
            let needed = order.map { row in row.reduce(0) { $0 + vertices[$1].width } + gap * max(row.count - 1, 0) }.max() ?? 0
            if needed <= width { break }
            guard cap > narrowest else { return nil }
            cap = max(narrowest, cap - max(1, cap / 8))
        }
        place(&vertices, order, edges, width: width)
        return render(items, vertices, order, edges, width: width)
    }

    /// Orders each layer by barycentres: down sweeps by the inputs' places, up sweeps by the
    /// consumers' ports, so that a box's inputs end up left to right in argument order.
    private static func orderLayers(_ vertices: [Vertex], _ edges: [Edge], layers: Int) -> [[Int]] {
        var order = [[Int]](repeating: [], count: layers)
        for (v, vertex) in vertices.enumerated() { order[vertex.layer].append(v) }
        for l in 0..<layers {
            order[l] = order[l].enumerated().sorted { a, b in
                let ra = vertices[a.element].rank, rb = vertices[b.element].rank
                return ra != rb ? ra < rb : a.offset < b.offset
            }.map(\.element)
        }
        var position = [Double](repeating: 0, count: vertices.count)
        func index() { for row in order { for (i, v) in row.enumerated() { position[v] = Double(i) } } }
        index()
        var incoming = [[Edge]](repeating: [], count: vertices.count)
        var outgoing = [[Edge]](repeating: [], count: vertices.count)
        for edge in edges { incoming[edge.to].append(edge); outgoing[edge.from].append(edge) }
        for sweep in 0..<4 {
            let down = sweep % 2 == 0
            let rows = down ? Array(1..<max(layers, 1)) : Array(stride(from: layers - 2, through: 0, by: -1))
            for l in rows {
                var key: [Int: Double] = [:]
                for v in order[l] {
                    // Up, a box is placed by the boxes it feeds directly (lanes only when there are none).
                    let direct = outgoing[v].filter { vertices[$0.to].item != nil }
                    let near = down ? incoming[v] : direct.isEmpty ? outgoing[v] : direct
                    guard !near.isEmpty else { key[v] = position[v]; continue }
                    let total = near.reduce(0.0) { sum, edge in
                        if down { return sum + position[edge.from] }
                        let ports = Double(max(vertices[edge.to].ports, 1))
                        return sum + position[edge.to] + (Double(edge.port) + 1) / (ports + 1) - 0.5
                    }
                    key[v] = total / Double(near.count)
                }
                order[l] = order[l].enumerated().sorted { a, b in
                    let ka = key[a.element] ?? 0, kb = key[b.element] ?? 0
                    return ka != kb ? ka < kb : a.offset < b.offset
                }.map(\.element)
                for (i, v) in order[l].enumerated() { position[v] = Double(i) }
            }
        }
        return order
    }

    private static func outPort(_ v: Vertex) -> Int { v.item == nil ? v.x : v.x + v.width / 2 }

    private static func inPort(_ v: Vertex, _ port: Int) -> Int {
        guard v.item != nil, v.ports > 0 else { return v.x }
        return v.x + 1 + ((2 * port + 1) * (v.width - 2)) / (2 * v.ports)
    }

    /// Places each layer under the middle of its inputs where there is room, else packed, within `width`.
    private static func place(_ vertices: inout [Vertex], _ order: [[Int]], _ edges: [Edge], width: Int) {
        var incoming = [[Int]](repeating: [], count: vertices.count)
        for edge in edges { incoming[edge.to].append(edge.from) }
        // Left to right, each under the middle of its inputs, then pushed back within 0 ..< width
        // before the next layer is placed under it.
        for row in order {
            var cursor = Int.min / 4
            for v in row {
                var left = max(cursor, 0)
                if !incoming[v].isEmpty {
                    let middle = incoming[v].reduce(0) { $0 + outPort(vertices[$1]) } / incoming[v].count
                    left = middle - (vertices[v].item == nil ? 0 : vertices[v].width / 2)
                }
                vertices[v].x = max(left, cursor)
                cursor = vertices[v].x + vertices[v].width + gap
            }
            var limit = width
            for v in row.reversed() {
                vertices[v].x = max(0, min(vertices[v].x, limit - vertices[v].width))
                limit = vertices[v].x - gap
            }
            // Clamping at the left edge may have moved a box onto its right neighbour (a lane
            // would then run through it): the row fits the width (``draw(_:width:)`` made sure),
            // so packing it left to right again keeps every vertex clear of the next.
            cursor = 0
            for v in row {
                vertices[v].x = max(vertices[v].x, cursor)
                cursor = vertices[v].x + vertices[v].width + gap
            }
        }
    }

    // Line directions of a cell.
    private static let up: UInt8 = 1, down: UInt8 = 2, left: UInt8 = 4, right: UInt8 = 8

    private static func character(_ bits: UInt8) -> Character {
        switch bits {
        case up | down, up, down: "│"
        case left | right, left, right: "─"
        case down | right: "╭"
        case down | left: "╮"
        case up | right: "╰"
        case up | left: "╯"
        case up | down | right: "├"
        case up | down | left: "┤"
        case down | left | right: "┬"
        case up | left | right: "┴"
        default: "┼"
        }
    }

    private static func render(_ items: [Item], _ vertices: [Vertex], _ order: [[Int]], _ edges: [Edge],
                               width: Int) -> [String] {
        // Rows: each layer's band, then the channel of the edges leaving it.
        var bandTop = [Int](repeating: 0, count: order.count)
        var channelTop = [Int](repeating: 0, count: order.count)
        var tracks = [[Int: Int]](repeating: [:], count: order.count)  // source vertex → track row offset
        var bandHeight = [Int](repeating: 1, count: order.count)
        var bySource = [Int: [Edge]]()
        for edge in edges { bySource[edge.from, default: []].append(edge) }
        var row = 0
        for (l, vertexRow) in order.enumerated() {
            bandTop[l] = row
            bandHeight[l] = vertexRow.map { v in vertices[v].item == nil ? 1 : vertices[v].lines.count + 2 }.max() ?? 1
            row += bandHeight[l]
            channelTop[l] = row
            // One track per source whose edges are not all straight down, packed left-edge first.
            var intervals: [(source: Int, lo: Int, hi: Int)] = []
            for v in vertexRow {
                guard let out = bySource[v] else { continue }
                let s = outPort(vertices[v])
                let targets = out.map { inPort(vertices[$0.to], $0.port) }
                if targets.allSatisfy({ $0 == s }) && targets.count == 1 { continue }
                intervals.append((v, min(s, targets.min() ?? s), max(s, targets.max() ?? s)))
            }
            intervals.sort { $0.lo != $1.lo ? $0.lo < $1.lo : $0.source < $1.source }
            var ends: [Int] = []
            for interval in intervals {
                if let t = ends.firstIndex(where: { $0 + 1 < interval.lo }) {
                    ends[t] = interval.hi
                    tracks[l][interval.source] = t
                } else {
                    tracks[l][interval.source] = ends.count
                    ends.append(interval.hi)
                }
            }
            if l < order.count - 1 { row += max(1, ends.count) }
        }
        let height = row
        var text = [[Character]](repeating: [Character](repeating: " ", count: width), count: height)
        var bits = [[UInt8]](repeating: [UInt8](repeating: 0, count: width), count: height)
        func vertical(_ x: Int, _ a: Int, _ b: Int, open top: Bool, _ bottom: Bool) {
            guard x >= 0, x < width, a <= b else { return }
            for y in a...b where y >= 0 && y < height {
                bits[y][x] |= (y > a || top ? up : 0) | (y < b || bottom ? down : 0)
            }
        }
        func horizontal(_ y: Int, _ a: Int, _ b: Int) {
            guard y >= 0, y < height, a < b else { return }
            for x in max(a, 0)...min(b, width - 1) { bits[y][x] |= (x > a ? left : 0) | (x < b ? right : 0) }
        }
        func inRow(_ v: Int) -> Int { let l = vertices[v].layer; return vertices[v].item == nil ? bandTop[l] : bandTop[l] - 1 }
        func outRow(_ v: Int) -> Int {
            let l = vertices[v].layer
            guard let item = vertices[v].item else { return bandTop[l] + bandHeight[l] - 1 }
            _ = item
            return bandTop[l] + vertices[v].lines.count + 2
        }
        for (v, vertex) in vertices.enumerated() {
            let l = vertex.layer
            guard let item = vertex.item else {
                vertical(vertex.x, bandTop[l], bandTop[l] + bandHeight[l] - 1, open: true, true)
                continue
            }
            stamp(vertex.lines, border: items[item].border, vertex, top: bandTop[l],
                  ports: (0..<vertex.ports).map { inPort(vertex, $0) }, out: bySource[v] == nil ? nil : outPort(vertex), into: &text)
        }
        for (source, out) in bySource.sorted(by: { $0.key < $1.key }) {
            let l = vertices[source].layer
            let s = outPort(vertices[source])
            guard let track = tracks[l][source] else {
                for edge in out { vertical(s, outRow(source), inRow(edge.to), open: true, true) }
                continue
            }
            let r = channelTop[l] + track
            vertical(s, outRow(source), r, open: true, false)
            let targets = out.map { inPort(vertices[$0.to], $0.port) }
            horizontal(r, min(s, targets.min() ?? s), max(s, targets.max() ?? s))
            for (edge, t) in zip(out, targets) { vertical(t, r, inRow(edge.to), open: false, true) }
        }
        return (0..<height).map { y in
            var line = String((0..<width).map { x in text[y][x] != " " ? text[y][x] : bits[y][x] == 0 ? " " : character(bits[y][x]) })
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// Writes one box: its border (ports on top where edges enter, one below where its edges
    /// leave) and its lines, cut to the box.
    private static func stamp(_ lines: [String], border: Border, _ vertex: Vertex, top: Int, ports: [Int], out: Int?,
                              into text: inout [[Character]]) {
        let (h, v, corners, portIn, portOut): (Character, Character, [Character], Character, Character) = switch border {
        case .light: ("─", "│", ["┌", "┐", "└", "┘"], "┴", "┬")
        case .heavy: ("━", "┃", ["┏", "┓", "┗", "┛"], "┸", "┰")
        case .double: ("═", "║", ["╔", "╗", "╚", "╝"], "╧", "╤")
        }
        let x0 = vertex.x, w = vertex.width
        let width = text.first?.count ?? 0
        func put(_ y: Int, _ x: Int, _ c: Character) { if y >= 0, y < text.count, x >= 0, x < width { text[y][x] = c } }
        let bottom = top + lines.count + 1
        for x in x0..<(x0 + w) {
            put(top, x, x == x0 ? corners[0] : x == x0 + w - 1 ? corners[1] : ports.contains(x) ? portIn : h)
            put(bottom, x, x == x0 ? corners[2] : x == x0 + w - 1 ? corners[3] : x == out ? portOut : h)
        }
        let inner = w - 4
        for (i, line) in lines.enumerated() {
            let y = top + 1 + i
            put(y, x0, v)
            put(y, x0 + w - 1, v)
            let cut = line.count > inner ? String(line.prefix(max(inner - 1, 0))) + "…" : line
            for (k, c) in cut.enumerated() { put(y, x0 + 2 + k, c) }
        }
    }
}
