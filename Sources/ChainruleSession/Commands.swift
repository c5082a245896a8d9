import ChainruleCore

/// A `:command`: its help text and what it does.
struct Command: Sendable {
    var name: String
    var usage: String
    var summary: String
    /// Further explanation for `:help NAME`.
    var detail: String
    var example: String
    var run: @Sendable (Session, CommandArguments) throws(Diagnostic) -> Void
    /// Whether the arguments are free text (`:say`), not words: a lone '"' is then no error.
    var takesText = false
}

extension Session {
    /// Every command, in the order `:help` lists them.
    static let commands: [Command] = [
        Command(name: "help", usage: ":help [command]", summary: "list commands, or explain one with an example",
                detail: "Without an argument, lists every command. ':help functions' lists the built-in functions; ':help language' summarises the syntax.",
                example: ":help backward", run: { s, a throws(Diagnostic) in try s.help(a) }),
        Command(name: "quit", usage: ":quit", summary: "leave (Ctrl-D does the same)",
                detail: "Ends the session. In a script, stops the script without an error.",
                example: ":quit", run: { s, a throws(Diagnostic) in try a.expect(count: 0...0, usage: ":quit"); s.quitRequested = true }),
        Command(name: "load", usage: ":load FILE", summary: "run a .graph script into the current session",
                detail: "Runs the script's statements and commands as if typed. A relative path inside a script is taken relative to that script's folder. All or nothing: every syntax error is reported before anything runs, and the first error stops the script and puts the session back as it was before :load. Only regular files (and pipes) up to max-file-size (:set) are read.",
                example: ":load examples/xor.graph", run: { s, a throws(Diagnostic) in try s.load(a) }),
        Command(name: "save", usage: ":save FILE", summary: "write the graph as a .graph script that :load restores exactly",
                detail: "Leaves are written with their current values, exact to the bit (so trained params are kept); formulas as formulas, in dependency order. Infinities are written 1e999 and NaN abs(0/0), so nodes named inf or nan change nothing. A definition that no longer evaluates is written as a comment with the reason. The file is replaced atomically: a crash or a full disk leaves the old file whole. Inside a script, FILE is relative to the script's folder.",
                example: ":save session.graph", run: { s, a throws(Diagnostic) in try s.save(a) }),
        Command(name: "clear", usage: ":clear", summary: "forget every definition",
                detail: "Removes every node; settings such as precision stay.",
                example: ":clear", run: { s, a throws(Diagnostic) in try a.expect(count: 0...0, usage: ":clear"); s.clear() }),
        Command(name: "vars", usage: ":vars [all]", summary: "every node: name, kind (input/param/op), shape",
                detail: "Lists the named nodes in the order they were defined; ':vars all' lists every node of the graph, unnamed intermediates (%ID) and literals included, in creation order (a topological order).",
                example: ":vars all", run: { s, a throws(Diagnostic) in try s.vars(a) }),
        Command(name: "show", usage: ":show NAME", summary: "one node: formula, shape, value, gradient if computed",
                detail: "The gradient shown is from the last :backward or :grad; before any reverse pass it reads 'not computed'.",
                example: ":show h", run: { s, a throws(Diagnostic) in try s.show(a) }),
        Command(name: "forward", usage: ":forward [NODE]", summary: "evaluate in topological order, printing each node's op, inputs, shape and value",
                detail: "Shows only the nodes NODE depends on (default: the last defined node), in creation order, which is a topological order. Unnamed intermediates are shown as %ID.",
                example: ":forward f", run: { s, a throws(Diagnostic) in try s.forward(a) }),
        Command(name: "backward", usage: ":backward [NODE] [seed=VALUE] [modules]", summary: "backprop from NODE, printing every gradient, local Jacobian and chain-rule product",
                detail: "Walks the graph in reverse topological order. For each node: the upstream gradient ∂NODE/∂node (summed over its consumers when it feeds several), and for each input edge the local Jacobian ∂node/∂input and the chain-rule product (zero along an edge whose derivative is zero, as out of step or sign). NODE defaults to the last defined node and must be a scalar unless seed=p gives ∂NODE/∂NODE; with a seed every row is the vector–Jacobian product p·∂NODE/∂node, and is labelled so. Numbers written in a formula and class indices (the t of cross_entropy(z, t)) are constants: they get no gradient. A node made by a call of a module says which call in its heading; with 'modules' each call is one block instead, its edges the module's own Jacobians ∂call/∂argument (the local Jacobians of the call's nodes multiplied out) and the chain-rule products they send to the arguments.",
                example: ":backward L\n:backward y seed=[1, 0]\n:backward L modules", run: { s, a throws(Diagnostic) in try s.backward(a) }),
        Command(name: "grad", usage: ":grad NODE [wrt X] [method=M]", summary: "the gradient ∂NODE/∂X (default: every leaf)",
                detail: "NODE must be a scalar. Without 'wrt', prints the gradient with respect to every named leaf, leaving out leaves NODE uses only as class indices (they have no gradient; 'wrt' says so). method= chooses how: reverse mode (default, one backward pass), forward mode (one tangent pass per input element) or fd (central finite differences, h = ∛ε·max(1, |x|) per element: a leaf is shifted as if redefined; an intermediate node's stored value is shifted and only what depends on it is computed again); forward and fd take at most 10000 input elements.",
                example: ":grad L wrt W\n:grad L method=forward", run: { s, a throws(Diagnostic) in try s.grad(a) }),
        Command(name: "explain", usage: ":explain L X", summary: "∂L/∂X as the chain rule's sum over paths, path by path",
                detail: "Lists every path from X to L (up to 24), the product of the local derivatives along it (written out when they are numbers) and its value; the paths add up to the gradient the reverse pass computes, which is shown last. A node used twice by one operation (x * x) gives two paths.",
                example: ":explain f x", run: { s, a throws(Diagnostic) in try s.explain(a) }),
        Command(name: "jacobian", usage: ":jacobian Y X", summary: "the full Jacobian ∂Y/∂X as a matrix, with its determinant when square",
                detail: "Rows are Y's elements and columns X's, both flattened row-major. Built by rows (one reverse pass per element of Y) or by columns (one forward-mode pass per element of X), whichever needs fewer passes; the heading says which.",
                example: ":jacobian h x", run: { s, a throws(Diagnostic) in try s.jacobian(a) }),
        Command(name: "check", usage: ":check [NODE] [wrt X]", summary: "compare backprop gradients with central finite differences",
                detail: "For every named leaf NODE depends on, compares ∂NODE/∂leaf from the reverse pass with (f(x+h) − f(x−h))/2h, element by element, and reports the largest absolute and relative errors as they are. An element agrees within 1e-4 relative, or within the rounding noise of the differences. Where the one-sided differences disagree too, the row says the two points straddle a kink (relu at 0). Class indices are not perturbed. 'wrt X' checks the one leaf X. Each element takes two forward passes, so at most 10000 elements are checked in one command.",
                example: ":check L\n:check L wrt W", run: { s, a throws(Diagnostic) in try s.check(a) }),
        Command(name: "step", usage: ":step [NODE] [N]", summary: "walk one step (or N): forward through the graph, then backward through its reverse graph",
                detail: "The walk computes one node per step and nothing it has not reached: a value or gradient not reached yet is not computed, and drawings (:graph, :show, :vars, :dot) show it so. Forward, each step shows a node's formula, its inputs' stored values and its value, in topological order. Then each step takes one node in reverse topological order: its gradient (the sum of what its consumers sent), each input edge's local Jacobian and chain-rule product, and, where an input feeds several nodes, the contributions that have reached it so far. NODE (default: the last defined node) chooses the walk's target; redefining a name (or a leaf's value) starts the walk again on the same target, with a notice; a new definition leaves it as it is. A target that is not a scalar is walked forward only.",
                example: ":step L\n:step 3", run: { s, a throws(Diagnostic) in try s.step(a) }),
        Command(name: "back", usage: ":back [N]", summary: "undo the last step of the walk (or N): what it computed is not computed any more",
                detail: "Goes back through the walk, forgetting the values or gradients the undone steps computed.",
                example: ":back\n:back 2", run: { s, a throws(Diagnostic) in try s.back(a) }),
        Command(name: "break", usage: ":break [NODE | ∂NODE | clear]", summary: "stop :continue before a node's forward step (NODE) or backward step (∂NODE)",
                detail: "Without an argument, lists the breakpoints; 'clear' removes them. ∂NODE can also be written d:NODE. Breakpoints stay when the walk starts again after an edit.",
                example: ":break h\n:break ∂h\n:continue", run: { s, a throws(Diagnostic) in try s.breakpoint(a) }),
        Command(name: "continue", usage: ":continue", summary: "walk on to the next breakpoint, or to the end, printing each step",
                detail: "Takes steps as :step does until the next one is a breakpoint (:break) or the walk is done.",
                example: ":continue", run: { s, a throws(Diagnostic) in try s.continueWalk(a) }),
        Command(name: "run", usage: ":run [NODE]", summary: "walk to the end without printing each step",
                detail: "Computes every remaining step of the walk, then says where it stands.",
                example: ":run", run: { s, a throws(Diagnostic) in try s.runWalk(a) }),
        Command(name: "reset", usage: ":reset", summary: "put the walk back at its start: nothing computed",
                detail: "Breakpoints are kept.",
                example: ":reset", run: { s, a throws(Diagnostic) in try s.resetWalk(a) }),
        Command(name: "where", usage: ":where", summary: "where the walk stands: the last step taken and the next",
                detail: "Says how many steps have been taken, the last one and the next one.",
                example: ":where", run: { s, a throws(Diagnostic) in try s.whereWalk(a) }),
        Command(name: "graph", usage: ":graph [reverse] [expand] [NODE]", summary: "draw the DAG in the terminal as boxes in layers, inputs at the top; 'reverse' draws the backward pass",
                detail: "Draws NODE (default: the last defined node) and everything it depends on as boxes in layers from the inputs down to NODE, each node once however many consumers it has, joined by box-drawing edges that enter a box left to right in argument order. A box is one definition, its formula in infix as written (0.1 · sum(h²), W1 @ x + b1) with numbers folded in; 'expand' draws every node of the graph instead (unnamed ones as %ID). Each box shows its value (a small matrix as a grid, a larger tensor as its shape, min and max, and where its nonzero rows, columns or entries are) and, after :backward or :grad, its gradient; a value not computed yet reads 'not computed'. The drawing fits the width (:set width, else the terminal's, or COLUMNS when output is not a terminal) by cutting labels with '…', never by wrapping; graphs too wide (or of more than 150 boxes) are listed one box per line. 'reverse' draws the reverse graph as lectures do: one box ∂L/∂node per box, fed by its consumers' gradients, its formula the sum of ∂L/∂consumer · (local Jacobian), with the Jacobians named by their structure (I, diag(tanh′(z)), Wᵀ, I ⊗ xᵀ, 1₄ ⊗ I for a broadcast, E₅ for indexing, products where unnamed nodes are folded). ':reverse' lists the simplified nodes that actually run. :set show chooses what a box shows, :set full on shows whole tensors; a heavy border marks the node a walk stands at, a double border what its last step changed.",
                example: ":graph L\n:graph reverse L\n:graph expand h", run: { s, a throws(Diagnostic) in try s.graph(a) }),
        Command(name: "dot", usage: ":dot [FILE] [reverse] [expand]", summary: "the graph (or with 'reverse' the backward pass) as Graphviz DOT; FILE.png and FILE.svg are rendered",
                detail: "Without FILE, prints the DOT text; FILE.dot (any other name) gets the text; FILE.png or FILE.svg is rendered through Graphviz's dot, which must be installed (apt-get install graphviz). Boxes are as :graph draws them, with HTML-like labels: matrices as small tables, values in blue and gradients in red, inputs blue, params orange; edges enter a box at grey slots in argument order. 16-point sans-serif text at 72 dpi: a PNG's text is 16 pixels high. 'reverse' draws the gradient boxes mirroring the forward graph, edges labelled with local Jacobians and a '+' where contributions add; it runs a reverse pass from the default node when none has run. :set dot lr|tb lays it out left to right (default) or top to bottom. Inside a script, FILE is relative to the script's folder.",
                example: ":dot lecture.png\n:dot backward.svg reverse", run: { s, a throws(Diagnostic) in try s.dot(a) }),
        Command(name: "export", usage: Session.exportUsage, summary: "write the graph as a standalone Python script for JAX (default) or PyTorch that prints --json's document",
                detail: "Writes FILE.py, a script that rebuilds the graph in float64 (leaves with their values exactly, every named node a variable of its name, unnamed ones n<id>), computes NODE (default: as --json, the last :backward target or the last definition) and the gradient of every node with the framework's own automatic differentiation, and prints the document chainrule --json prints, so the two compare by program. Both are verified: scripts/verify-export --torch exports every example and corpus graph, runs each under JAX and PyTorch and compares every value and gradient with --json (its last run: JAX 365 passed, 0 failed, 2 skipped for subnormals, which XLA flushes; PyTorch 367 passed, 0 failed). grad(e, x) becomes jax.grad, or torch.autograd.grad with create_graph=True, of a function computing e from x; the nodes chainrule's rules emitted for it are not in the script. Where chainrule's definition and the framework's default differ, the script's helpers follow chainrule: exact GELU, the first largest element for max, relu′(0) = abs′(0) = 0, max(a, b) and min(a, b) give a tie to a, kl(p, q) in that order, bce's logarithms clamped at −100 and flat there, softmax over the last axis, class indices as integers. Each module is a Python function written once, def layer(t, k, x, W, b), a node its formula reads by name passed by keyword, and each call of it a call (a call given a number, which chainrule folds into its nodes, or one node for two parameters, is written node by node). :train is exported as the same optimizer loop: the params start from their values before the first :train (PARAMS), and replay() takes every run again with the same optimizer, options, steps taken and kept state, so the document is of the trained params; a batch= run steps on its minibatch graph with the rows each step drew; a :train with restarts= is not taken again (a comment says the params start from where it left them). Which nodes have a null gradient is chainrule's rule (the frameworks have none): the script prints null there while the framework's gradient is zero. Inside a script, FILE is relative to the script's folder. Run the result with python3 FILE.py (pip install jax, or torch).",
                example: ":export lecture.py\n:export lecture_torch.py torch of=L", run: { s, a throws(Diagnostic) in try s.export(a) }),
        Command(name: "sample", usage: Session.sampleUsage, summary: "text drawn from a causal model: one-hot rows in X, row t of LOGITS scores what follows position t",
                detail: "For a language model such as examples/tiny-gpt.graph: X is an input leaf of one-hot rows (T, V) and LOGITS a node of the same shape whose row t holds the scores of the character after position t (a causal mask keeps later rows out of it). The context starts as the one-hot row of start= (default 0); for t = 0 … T−1 the model is evaluated, an index is drawn from softmax(row t / τ) with the project's seeded generator (seed=, default 0; temperature=, default 1), and written into row t + 1 of the context. Each sequence prints the start and the T characters drawn, spelled by chars=\"…\" (one character a column) or as indices. count= draws several sequences, one after another from the same generator. X is put back exactly as it was.",
                example: ":sample logits x chars=\".abcdefghijklmnopqrstuvwxyz\" count=5 seed=1", run: { s, a throws(Diagnostic) in try s.sample(a) }),
        Command(name: "train", usage: ":train LOSS [steps=N] [lr=η] [key=…]", summary: "gradient descent (sgd, momentum, adam) on the param leaves, with progress and the loss curve",
                detail: "Options: \(TrainingOptions.usage.dropFirst(12)). Repeats: forward, backward from LOSS (gradients for the params only, none for inputs), then an update of every param LOSS depends on. optimizer=sgd (default): W ← W − η·g; optimizer=momentum: v ← β·v + g, W ← W − η·v; optimizer=adam: Kingma & Ba with bias correction, m ← β·m + (1−β)·g, v ← β₂·v + (1−β₂)·g², W ← W − η·m̂/(√v̂ + ε). g is ∂LOSS/∂W + decay·W. Defaults: steps=100, lr=0.1 (adam 0.001), beta=0.9, beta2=0.999, eps=1e-8, decay=0. The optimizer's state (velocity, moments, step count) is kept in the compiled step from one :train to the next until a param is redefined; the output says whether it is new or continued. batch=B samples B rows along axis 0 (the batch axis) of every input the loss reads whose first axis has the most rows, anew at each step, reproducibly from seed=k (default 0); the curve then shows the minibatch losses and the summary the loss on all rows. On a terminal a progress bar shows the step, the loss and steps per second; otherwise every=k prints a line every k steps. Afterwards the loss curve is drawn in braille, on a log scale when it spans more than two decades, with the final (◆) and best (★) loss marked, as wide as the terminal. Ctrl-C stops between steps and keeps the last finished step. A step whose loss or gradient is not finite makes no update: training stops there and names the first node, in topological order of the forward and then the reverse pass, whose value is not finite, with its formula and its inputs' values ('diverged: L = log(%2) is nan at step 0, from %2 = -1'). A loss that grows past 10× its value at step 0 gets a warning. restarts=K trains K times, each from the seeds of the params defined by a seeded initialiser (randn, rand, xavier, he with seed=k) moved on by 0 … K−1, the other params as defined, prints a table of the outcomes and keeps the restart with the lowest final loss.",
                example: ":train L steps=500 lr=0.5", run: { s, a throws(Diagnostic) in try s.train(a) }),
        Command(name: "plot", usage: ":plot F… LO HI | NODE LEAF…",
                summary: "plot functions with their derivatives, a scalar node against one or two leaves, or labelled points",
                detail: "Forms: :plot F… LO HI | :plot NODE LEAF [LO HI] | :plot NODE LEAF1 LEAF2 [LO HI [LO2 HI2]] | :plot points X T, each with [height=N]. ':plot F… LO HI' draws each elementwise built-in F (\(PlotFunction.elementwiseBuiltins.joined(separator: ", ")); the slides' spellings too) and its derivative over [LO, HI], both from the op's own forward and derivative rules, the derivative dashed. ':plot NODE LEAF [LO HI]' draws a scalar node as a function of one scalar leaf, the other leaves as they are: the leaf is set to each sample as a redefinition would set it, on a copy, so the session is left exactly as it was; the leaf's value now is marked, and after :train the path the params took (recorded for the scalar params, forgotten when the graph is edited). Without LO HI the range is the value ± max(1, |value|), widened to the path. ':plot NODE LEAF1 LEAF2 [LO HI [LO2 HI2]]' draws a heat map of the node over two scalar leaves in shades, with a legend of levels (LO HI alone serves both). ':plot points X T' scatters the rows of X, of shape (N, 2), each marked by its label in T (shape (N), or (N, C) one-hot): a character per label, and a colour on a terminal. Plots are braille (2 × 4 dots a cell) with axes, tick labels and a legend; ':set plot ascii' draws them in ASCII for fonts without braille. Each series has a key character, so nothing rests on colour. They fit the width (:set width, the terminal's, or COLUMNS); height=N sets the rows (default 16). Samples that are not finite are left out, with a warning saying how many.",
                example: ":plot sigmoid tanh -6 6\n:plot L w -3 3\n:plot L w₁ w₂\n:plot points X T", run: { s, a throws(Diagnostic) in try s.plot(a) }),
        Command(name: "set", usage: ":set KEY VALUE", summary: "settings: precision N, color on|off, echo on|off, output N, memory SIZE, max-file-size SIZE, max-errors N, show PARTS, full on|off, width N, dot lr|tb, plot braille|ascii",
                detail: "precision: significant digits shown (1 to 17, default 6). color: colour on a terminal (never with NO_COLOR set). echo: print each statement of a script (a file, -e, piped input, :load) before its output, 'relu(-3)  →  0' for a one-line value and '» STATEMENT' on its own line otherwise (definitions and commands too; comments are not echoed); statements typed at the prompt are not echoed; 'chainrule --echo' starts with it on (default off). output: the most characters one command or value prints (default 1000000); longer output is cut with a note. memory: the most the graph (its values, 8 bytes an element, and its nodes) and a derivative pass may take, as 2GB, 500MB or bytes (default 800MB); a definition or derivative past it is refused. max-file-size: the largest script :load reads (default 64MB; units KB, MB, GB). max-errors: syntax errors shown per script (default 20; the rest are counted). show: what drawings (:graph, :dot) show of each box, any of names, values, grads, shapes joined by ',' (default names,values,grads; 'all' for every part). full: on shows whole tensors in drawings, at full precision (default off: at most 4 digits, larger tensors summarised). width: the columns :graph fits (20 to 10000, or auto: the terminal's, else COLUMNS, else 80). dot: lr or tb, how :dot lays the graph out. plot: braille (default) or ascii, the canvas :plot draws on (ascii for fonts without braille).",
                example: ":set precision 4\n:set echo on", run: { s, a throws(Diagnostic) in try s.set(a) }),
    ] + derivativeCommands + presentationCommands

    func runCommand(_ statement: CommandStatement, in source: Source) throws(Diagnostic) {
        let arguments = CommandArguments(statement, in: source)
        guard let command = Session.commands.first(where: { $0.name == statement.name }) else {
            var message = "unknown command ':\(statement.name)'"
            message += Suggestions.didYouMean(statement.name, among: Session.commands.map(\.name), prefix: ":")
                ?? "; ':help' lists the commands"
            throw Diagnostic(message, at: arguments.nameSpan)
        }
        if let quote = arguments.unterminated, !command.takesText {
            throw Diagnostic("unterminated string; add a closing '\"'", at: quote)
        }
        try command.run(self, arguments)
    }

    func help(_ arguments: CommandArguments) throws(Diagnostic) {
        try arguments.expect(count: 0...1, usage: ":help [command]")
        guard let topic = arguments.words.first else {
            let width = Session.commands.map(\.usage.count).max() ?? 0
            var lines = ["commands:"]
            for command in Session.commands { lines.append("  " + command.usage.padded(to: width) + "  " + command.summary) }
            lines.append("")
            lines.append("Type an expression to see its value, or 'name = expr' to define a node.")
            lines.append("':help functions' lists the built-in functions; ':help language' the syntax.")
            print(lines.joined(separator: "\n"))
            return
        }
        let name = topic.text.hasPrefix(":") ? String(topic.text.dropFirst()) : topic.text
        switch name {
        case "functions":
            let width = Builtins.functions.map(\.signature.count).max() ?? 0
            let aliases = Builtins.aliases.map(\.spelling).joined(separator: ", ")
            print((["functions:"] + Builtins.functions.map { "  " + $0.signature.padded(to: width) + "  " + $0.summary }
                   + ["the spellings slides use, \(aliases), name the same functions"])
                .joined(separator: "\n"))
        case "language":
            print(Session.languageHelp)
        default:
            guard let command = Session.commands.first(where: { $0.name == name }) else {
                var message = "no help for '\(topic.text)'"
                message += Suggestions.didYouMean(name, among: Session.commands.map(\.name), prefix: ":") ?? ""
                throw Diagnostic(message, at: topic.span)
            }
            print("""
                \(command.usage)
                  \(command.summary)

                \(command.detail)

                example:
                \(command.example.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                """)
        }
    }

    static let languageHelp = """
        statements (end at a newline or ';'):
          name = expr          define a node (a formula: it follows its inputs when they change)
          input name = expr    a data leaf, evaluated once
          param name = expr    a trainable leaf
          f(x, W) = expr       a module: a function of its parameters; each call f(a, B)
                               becomes nodes of its own, drawn as one block (:graph expand
                               opens it); redefining f changes every call
          expr                 print the value
          :command args        a command
        operators, loosest first:  + -   * / @ ·   -x   ^   f(x) a[i] a.T
        from slides: A·x is A @ x (both sides rank ≥ 1), 2·x is 2 * x (a scalar side); × is *, − is -
        literals: 3  2.5  1e-3  [1, 2]  [[1, 2], [3, 4]]  "ij,j->i" (einsum specs)
        indexing: x[0]  x[-1]  A[1, 2]  A[1]  A[:, 0]
        comments start with '#'; a line ending inside brackets or after an operator continues
        """

    func set(_ arguments: CommandArguments) throws(Diagnostic) {
        let usage = ":set precision N | :set color on|off | :set echo on|off | :set output N | :set memory SIZE | :set max-file-size SIZE | :set max-errors N | :set show PARTS | :set full on|off | :set width N|auto | :set dot lr|tb | :set plot braille|ascii"
        try arguments.expect(count: 2...2, usage: usage)
        let key = arguments.words[0], value = arguments.words[1]
        switch key.text {
        case "precision":
            guard let n = Int(value.text), (1...17).contains(n) else {
                throw Diagnostic("precision must be a whole number from 1 to 17", at: value.span)
            }
            format.precision = n
        case "color", "colour":
            let switchText = value.text.lowercased()
            guard switchText == "on" || switchText == "off" else {
                throw Diagnostic("color is 'on' or 'off'", at: value.span)
            }
            colorSetting = switchText == "on"
            if colorSetting && !colorAllowed.output {
                print("note: colour stays off: output is not a terminal or NO_COLOR is set")
            }
        case "echo":
            let switchText = value.text.lowercased()
            guard switchText == "on" || switchText == "off" else {
                throw Diagnostic("echo is 'on' or 'off'", at: value.span)
            }
            echo = switchText == "on"
        case "output":
            guard let n = Int(value.text), (1000...1_000_000_000).contains(n) else {
                throw Diagnostic("output must be a whole number of characters from 1000 to 1000000000", at: value.span)
            }
            outputLimit = n
        case "memory":
            guard let bytes = Session.parse(bytes: value.text) else {
                throw Diagnostic("memory must be a size such as 2GB, 500MB or 1000000 (bytes), in KB, MB or GB, below 10¹⁸ bytes", at: value.span)
            }
            guard bytes >= 1_000_000 else {
                throw Diagnostic("memory must be at least 1MB, got \(bytes) bytes", at: value.span)
            }
            workspace.memoryLimit = bytes
        case "max-file-size":
            guard let size = Files.parseSize(value.text) else {
                throw Diagnostic("max-file-size is a size such as 64MB, 512KB or 1GB", at: value.span)
            }
            maximumFileSize = size
        case "show":
            var parts = Set<DrawingSettings.Part>()
            for part in value.text.split(whereSeparator: { $0 == "," || $0 == "+" }) {
                if part == "all" { parts.formUnion(DrawingSettings.Part.allCases); continue }
                guard let known = DrawingSettings.Part(rawValue: String(part)) else {
                    throw Diagnostic("show takes names, values, grads and shapes (or all), joined by ',' as in 'values,grads'; got '\(part)'", at: value.span)
                }
                parts.insert(known)
            }
            drawing.show = parts
        case "full":
            guard value.text == "on" || value.text == "off" else { throw Diagnostic("full is 'on' or 'off'", at: value.span) }
            drawing.full = value.text == "on"
        case "width":
            if value.text == "auto" { drawing.width = nil; break }
            guard let n = Int(value.text), (20...10_000).contains(n) else {
                throw Diagnostic("width must be a whole number of columns from 20 to 10000, or 'auto' (the terminal's, or COLUMNS)", at: value.span)
            }
            drawing.width = n
        case "dot":
            guard value.text == "lr" || value.text == "tb" else { throw Diagnostic("dot is 'lr' (left to right) or 'tb' (top to bottom)", at: value.span) }
            drawing.leftToRight = value.text == "lr"
        case "plot":
            guard value.text == "braille" || value.text == "ascii" else { throw Diagnostic("plot is 'braille' or 'ascii' (for fonts without braille)", at: value.span) }
            drawing.plot = value.text == "ascii" ? .ascii : .braille
        case "max-errors":
            guard let n = Int(value.text), n >= 1 else {
                throw Diagnostic("max-errors must be a whole number of at least 1", at: value.span)
            }
            maximumErrors = n
        default:
            let hint = Suggestions.didYouMean(key.text, among: ["precision", "color", "echo", "output", "memory", "max-file-size", "max-errors", "show", "full", "width", "dot", "plot"])
                ?? "; settings are 'precision', 'color', 'echo', 'output', 'memory', 'max-file-size', 'max-errors', 'show', 'full', 'width', 'dot' and 'plot'"
            throw Diagnostic("unknown setting '\(key.text)'" + hint, at: key.span)
        }
    }
}
