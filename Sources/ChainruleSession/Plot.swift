import ChainruleCore
import Glibc

/// What `:plot` draws, as data: sampled series, the ranges they span, marked points, a sampled
/// field for a heat map, and the labels. Renderers (``PlotCanvas``'s braille and ASCII
/// canvases; an SVG renderer later) draw a report without sampling anything again.
struct PlotReport: Equatable {
    struct Point: Equatable {
        var x: Double
        var y: Double
    }

    /// An axis: what it measures and the range it shows.
    struct Axis: Equatable {
        var label: String
        var low: Double
        var high: Double
        /// Where tick labels go; nil: the renderer picks nice ones for the room it has.
        var ticks: [Double]?
    }

    /// How a series is drawn.
    enum Style: Equatable {
        /// Consecutive samples joined (a function's graph); a non-finite sample breaks the line.
        case line
        /// Joined, every other dot left out (a derivative beside its function).
        case dashed
        /// Each point on its own, as a marker character (a scatter, a training path).
        case markers
    }

    struct Series: Equatable {
        var label: String
        var points: [Point]
        var style: Style
    }

    /// A point marked on its own (the current value of a leaf), named in the legend.
    struct Mark: Equatable {
        var label: String
        var at: Point
    }

    /// A scalar sampled on a grid over both axes, for a heat map: `values[row * columns + column]`,
    /// column 0 at `x.low`, the last at `x.high`, row 0 at `y.high` (the top), the last at `y.low`.
    struct Field: Equatable {
        /// What the values are, for the legend of levels.
        var label: String
        var columns: Int
        var rows: Int
        var values: [Double]
    }

    var title: String
    var x: Axis
    var y: Axis
    var series: [Series] = []
    /// Drawn as `·` points over the rest; named once in the legend (`path`).
    var path: Series?
    var marks: [Mark] = []
    var field: Field?
}

/// A function `:plot` can draw with its derivative: anything that maps a vector of sample
/// points to the values and derivatives there. Built-ins are sampled through a small graph
/// of the language; a one-argument module is one more way to make one.
struct PlotFunction {
    /// How it was named, for the legend.
    var name: String
    var sample: ([Double]) throws(Diagnostic) -> (values: [Double], derivatives: [Double])
}

extension PlotFunction {
    /// The built-ins of one argument that act on each element alone (the slope activations
    /// with their default slope), as `:help functions` spells them.
    static let elementwiseBuiltins: [String] =
        Pointwise.allCases.compactMap(\.function?.name)
        + BinaryArithmetic.allCases.filter { $0.defaultSlope != nil }.compactMap(\.function?.name)

    /// The built-in a spelling names (`Tanh` is `tanh`), if it is elementwise of one argument.
    static func builtin(named spelling: String) -> String? {
        let name = Builtins.aliases.first { $0.spelling == spelling }?.name ?? spelling
        return elementwiseBuiltins.contains(name) ? name : nil
    }

    /// Built-in `name` sampled by the graph's own rules: a probe workspace holds `x` (the
    /// samples), `y = name(x)` and `s = sum(y)`; `y` gives the values and the reverse pass
    /// ∂s/∂x the derivatives (each `y[i]` depends on `x[i]` alone, so `∂s/∂x[i] = name′(x[i])`).
    static func builtin(_ name: String, spelled spelling: String, memoryLimit: Int,
                        shouldStop: @escaping @Sendable () -> Bool, at span: SourceSpan) -> PlotFunction {
        PlotFunction(name: spelling) { (samples) throws(Diagnostic) in
            var probe = Workspace()
            probe.memoryLimit = memoryLimit
            probe.shouldStop = shouldStop
            let source = Source(name: "<plot>", text: "x = zeros(\(samples.count))\ny = \(name)(x)\ns = sum(y)\n")
            let (statements, problems) = Parser.parse(source)
            if let problem = problems.first { throw Diagnostic("cannot sample '\(spelling)': \(problem.message)", at: span) }
            for case .definition(let definition) in statements {
                do throws(Diagnostic) { _ = try probe.define(definition, in: source) } catch {
                    throw Diagnostic("cannot sample '\(spelling)': \(error.message)", at: span)
                }
            }
            probe.setValue(Tensor(samples), of: "x")
            guard let x = probe.graph.node(named: "x"), let y = probe.graph.node(named: "y"), let s = probe.graph.node(named: "s") else {
                throw Diagnostic("cannot sample '\(spelling)'", at: span)
            }
            do throws(EvaluationError) {
                let values = try probe.value(of: y).scalars
                let derivatives = try probe.gradients(of: s)[x]?.scalars ?? Array(repeating: 0, count: samples.count)
                return (values, derivatives)
            } catch {
                throw Workspace.diagnostic(error, at: span)
            }
        }
    }
}

extension PlotFunction {
    /// The one-argument module `name` of `workspace`, sampled by the graph's own rules: in a
    /// copy of the workspace (the module may read its nodes), a scalar leaf `x`, `y = name(x)`;
    /// for each sample `x` is given it, `y` is its value and ∂y/∂x its derivative.
    static func module(_ name: String, of workspace: Workspace, at span: SourceSpan) -> PlotFunction {
        PlotFunction(name: name) { (samples) throws(Diagnostic) in
            var probe = workspace
            var suffix = 0
            func unused(_ stem: String) -> String {
                while probe.entries.contains("\(stem)\(suffix)") { suffix += 1 }
                return "\(stem)\(suffix)"
            }
            let x = unused("plot_x"), y = unused("plot_y")
            let source = Source(name: "<plot>", text: "\(x) = 0\n\(y) = \(name)(\(x))\n")
            let (statements, problems) = Parser.parse(source)
            if let problem = problems.first { throw Diagnostic("cannot sample '\(name)': \(problem.message)", at: span) }
            for case .definition(let definition) in statements {
                do throws(Diagnostic) { _ = try probe.define(definition, in: source) } catch {
                    throw Diagnostic("cannot sample '\(name)' at a scalar: \(error.message)", at: span)
                }
            }
            guard let xID = probe.graph.node(named: x), let yID = probe.graph.node(named: y) else {
                throw Diagnostic("cannot sample '\(name)'", at: span)
            }
            guard probe.graph[yID].shape.isEmpty else {
                throw Diagnostic("\(name) of a scalar has shape \(describe(shape: probe.graph[yID].shape)); :plot draws a module whose value at a scalar is a scalar", at: span)
            }
            var values: [Double] = [], derivatives: [Double] = []
            values.reserveCapacity(samples.count)
            derivatives.reserveCapacity(samples.count)
            do throws(EvaluationError) {
                for sample in samples {
                    probe.setValue(Tensor(sample), of: x)
                    values.append(try probe.value(of: yID).scalars[0])
                    derivatives.append(try probe.gradients(of: yID)[xID]?.scalars[0] ?? 0)
                }
            } catch {
                throw Workspace.diagnostic(error, at: span)
            }
            return (values, derivatives)
        }
    }
}

/// "Nice" tick values: multiples of 1, 2 or 5 times a power of ten, about `count` of them
/// within `low…high`, each computed as a whole multiple of the step (so 0 is exactly 0).
func plotTicks(low: Double, high: Double, count: Int = 5) -> [Double] {
    guard low.isFinite, high.isFinite, high > low, count >= 2 else { return low.isFinite ? [low] : [] }
    let rough = (high - low) / Double(count - 1)
    let magnitude = pow(10, floor(log10(rough)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
    let first = (low / step).rounded(.up), last = (high / step).rounded(.down)
    guard first.isFinite, last.isFinite, last - first < 1000 else { return [low, high] }
    var ticks: [Double] = []
    var k = first
    while k <= last {
        ticks.append(k == 0 ? 0 : k * step)
        k += 1
    }
    return ticks
}
