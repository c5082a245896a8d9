import ChainruleCore
import ChainruleSession
import XCTest

/// A catalogue of bad input: each kind gets its exact error and location, and leaves the session's
/// graph exactly as it was.
final class CatalogueTests: XCTestCase {
    /// The session every entry runs against.
    static let prelude = """
        x = [1, 2]
        A = [[1, 2], [3, 4]]
        param W = [[0.5, -1], [1, 2]]
        input t = [0, 1]
        h = relu(W @ x)
        L = sum(h * h)
        s = 3
        """

    /// One line of input typed after the prelude, and the first line of the error it must give.
    static let table: [(input: String, error: String)] = [
        // Syntax
        ("(", "<stdin>:1:2: error: expected an expression"),
        (")", "<stdin>:1:1: error: unexpected ')' with no matching opening bracket"),
        ("[1, 2", "<stdin>:1:6: error: expected ',' or ']' to close the '[' at 1:1"),
        ("x +", "<stdin>:1:3: error: expected an expression after '+'"),
        ("* x", "<stdin>:1:1: error: expected an expression, found '*'"),
        ("x @ @ x", "<stdin>:1:5: error: expected an expression, found '@'"),
        ("1 +* 2", "<stdin>:1:4: error: expected an expression, found '*'"),
        ("2 ^", "<stdin>:1:3: error: expected an expression after '^'"),
        ("relu(", "<stdin>:1:6: error: expected an expression"),
        ("a, b = 1, 2", "<stdin>:1:2: error: expected the end of the statement, found ','"),
        ("x = [1, 2]]", "<stdin>:1:11: error: expected the end of the statement, found ']'"),
        ("1 2", "<stdin>:1:3: error: expected the end of the statement, found '2'"),
        ("x y", "<stdin>:1:3: error: expected the end of the statement, found 'y'"),
        ("$", "<stdin>:1:1: error: unexpected character '$'"),
        ("3..4", "<stdin>:1:3: error: expected the end of the statement, found '.4'"),
        ("x.", "<stdin>:1:2: error: expected 'T' after '.' (the only attribute is '.T', the transpose)"),
        (".T", "<stdin>:1:1: error: expected an expression, found '.'"),
        ("x.y", "<stdin>:1:3: error: expected 'T' after '.' (the only attribute is '.T', the transpose)"),
        ("= 3", "<stdin>:1:1: error: expected an expression, found '='"),
        ("x = ", "<stdin>:1:3: error: expected an expression after '='"),
        ("param x", "<stdin>:1:8: error: expected '=' after 'param x'"),
        ("input 3 = 4", "<stdin>:1:7: error: expected the end of the statement, found '3'"),
        ("\"unterminated", "<stdin>:1:1: error: unterminated string; add a closing '\"'"),
        ("x[", "<stdin>:1:3: error: expected an expression"),
        ("x[]", "<stdin>:1:3: error: expected an index inside '[]'"),
        (":", "<stdin>:1:1: error: unknown command ':'; ':help' lists the commands"),
        ("y = 1 +* 2; z = 3", "<stdin>:1:8: error: expected an expression, found '*'"),
        ("f(x", "<stdin>:1:4: error: expected ',' or ')' to close the arguments of 'f' opened at 1:2"),
        ("[1, 2,, 3]", "<stdin>:1:7: error: expected an expression, found ','"),
        ("x = = 1", "<stdin>:1:5: error: expected an expression, found '='"),
        ("1 = x", "<stdin>:1:3: error: expected the end of the statement, found '='"),
        ("x ^ ^ 2", "<stdin>:1:5: error: expected an expression, found '^'"),
        // Names
        ("undefined_name", "<stdin>:1:1: error: undefined name 'undefined_name'"),
        ("xx + 1", "<stdin>:1:1: error: undefined name 'xx'; did you mean 'x'?"),
        ("nosuchfunction(x)", "<stdin>:1:1: error: unknown function 'nosuchfunction'"),
        ("sigmod(x)", "<stdin>:1:1: error: unknown function 'sigmod'; did you mean 'sigmoid'?"),
        ("x(1)", "<stdin>:1:1: error: 'x' is a node, not a function"),
        ("h₁ + 1", "<stdin>:1:1: error: undefined name 'h₁'; did you mean 'h'?"),
        // Columns count characters, not bytes, after letters outside ASCII
        ("θ = 1 +* 2", "<stdin>:1:8: error: expected an expression, found '*'"),
        (":grad L wrt ζζ", "<stdin>:1:13: error: undefined name 'ζζ'"),
        (":train L lr=½ steps=1", "<stdin>:1:13: error: unexpected character '½'"),
        ("₁x", "<stdin>:1:1: error: unexpected character '₁'"),
        ("q = undefined_name * 2", "<stdin>:1:5: error: undefined name 'undefined_name'"),
        ("L = sum(hh * h)", "<stdin>:1:9: error: undefined name 'hh'; did you mean 'h'?"),
        // Cycles
        ("x = x + 1", "<stdin>:1:1: error: definition makes 'x' depend on itself: x → x"),
        ("x = L", "<stdin>:1:1: error: definition makes 'x' depend on itself: x → L → h → x"),
        ("W = h", "<stdin>:1:1: error: definition makes 'W' depend on itself: W → h → W"),
        ("x = L * 2 + x", "<stdin>:1:1: error: definition makes 'x' depend on itself: x → x"),
        // Shapes
        ("A @ [1, 2, 3]", "<stdin>:1:3: error: shapes (2, 2) and (3) do not fit for '@': inner sizes 2 and 3 differ"),
        ("[1, 2] @ 3", "<stdin>:1:8: error: '@' needs operands of rank 1 or more, got shapes (2) and (); use '*' to scale"),
        ("x + [1, 2, 3]", "<stdin>:1:3: error: shapes (2) and (3) do not broadcast for '+'"),
        ("dot(x, [1, 2, 3])", "<stdin>:1:1: error: dot needs two vectors of one length, got shapes (2) and (3)"),
        ("mse(x, [1, 2, 3])", "<stdin>:1:1: error: shapes (2) and (3) do not broadcast for mse"),
        ("[[1], [2, 3]]", "<stdin>:1:7: error: ragged list: element 2 has shape (2) but element 1 has shape (1)"),
        ("[1, [2, 3]]", "<stdin>:1:5: error: ragged list: element 2 has shape (2) but element 1 has shape ()"),
        ("h = relu(W @ [1, 2, 3])", "<stdin>:1:12: error: shapes (2, 2) and (3) do not fit for '@': inner sizes 2 and 3 differ"),
        ("L = h @ A @ [1, 2, 3]", "<stdin>:1:11: error: shapes (2) and (3) do not fit for '@': inner sizes 2 and 3 differ"),
        ("x @ A @ A @ [1, 2, 3]", "<stdin>:1:11: error: shapes (2) and (3) do not fit for '@': inner sizes 2 and 3 differ"),
        ("cross_entropy(A, [0, 1, 2])", "<stdin>:1:1: error: cross_entropy target must be class indices of shape (2) or probabilities of shape (2, 2), got (3)"),
        ("bce(x, [0, 1, 1])", "<stdin>:1:1: error: shapes (2) and (3) do not broadcast for bce"),
        ("[1, 2].T @ [1, 2, 3]", "<stdin>:1:10: error: shapes (2) and (3) do not fit for '@': inner sizes 2 and 3 differ"),
        // Arity
        ("relu()", "<stdin>:1:1: error: relu needs 1 argument (x); 'x' is missing"),
        ("relu(x, x, x)", "<stdin>:1:9: error: relu takes at most 1 argument, got 3"),
        ("sum()", "<stdin>:1:1: error: sum needs 1 argument (x); 'x' is missing"),
        ("transpose()", "<stdin>:1:1: error: transpose needs 1 argument (x); 'x' is missing"),
        ("dot(x)", "<stdin>:1:1: error: dot needs 2 arguments (a, b); 'b' is missing"),
        ("einsum(x)", "<stdin>:1:8: error: einsum's first argument is its spec, a string such as \"ij,j->i\""),
        ("softmax(x, 2)", "<stdin>:1:12: error: softmax takes at most 1 argument, got 2"),
        ("elu(x, 1, a=2)", "<stdin>:1:11: error: elu got 'a' both by position and by keyword"),
        ("mse(x)", "<stdin>:1:1: error: mse needs 2 arguments (y, t); 't' is missing"),
        ("eye(2, 3)", "<stdin>:1:1: error: eye takes one size, as in eye(3)"),
        ("cross_entropy(x)", "<stdin>:1:1: error: cross_entropy needs 2 arguments (y, t); 't' is missing"),
        // Einsum specifications
        ("einsum(\"ij->\", x)", "<stdin>:1:1: error: einsum operand 1 has shape (2) but its subscripts 'ij' name 2 axes"),
        ("einsum(\"i,i\", x)", "<stdin>:1:8: error: einsum spec 'i,i' names 2 operands but 1 was given"),
        ("einsum(\"i->j\", x)", "<stdin>:1:8: error: einsum output subscript 'j' does not appear in any operand"),
        ("einsum(\"ij,j->i\", A)", "<stdin>:1:8: error: einsum spec 'ij,j->i' names 2 operands but 1 was given"),
        ("einsum(\"ij,j->i\", A, [1, 2, 3])", "<stdin>:1:1: error: einsum subscript 'j' has size 2 in one place and 3 in another"),
        ("einsum(\"i->ii\", x)", "<stdin>:1:8: error: einsum output subscript 'i' appears twice"),
        ("einsum(\"->\", x)", "<stdin>:1:1: error: einsum operand 1 has shape (2) but its subscripts '' name 0 axes"),
        ("einsum(3, x)", "<stdin>:1:8: error: einsum's first argument is its spec, a string such as \"ij,j->i\""),
        ("einsum(\"ij,jk->ik\", A, x)", "<stdin>:1:1: error: einsum operand 2 has shape (2) but its subscripts 'jk' name 2 axes"),
        ("einsum(\"ij->ji\", x)", "<stdin>:1:1: error: einsum operand 1 has shape (2) but its subscripts 'ij' name 2 axes"),
        // Indices
        ("x[5]", "<stdin>:1:2: error: index 5 is out of range for axis 0 of size 2"),
        ("x[-3]", "<stdin>:1:2: error: index -3 is out of range for axis 0 of size 2"),
        ("x[1.5]", "<stdin>:1:3: error: an index must be a whole number, got 1.5"),
        ("x[::0]", "<stdin>:1:2: error: slice step cannot be zero"),
        ("A[2]", "<stdin>:1:2: error: index 2 is out of range for axis 0 of size 2"),
        ("A[0, 2]", "<stdin>:1:2: error: index 2 is out of range for axis 1 of size 2"),
        ("x[0, 0]", "<stdin>:1:2: error: too many indices: 2 for a tensor of shape (2)"),
        ("A[:, :, :]", "<stdin>:1:2: error: too many indices: 3 for a tensor of shape (2, 2)"),
        ("A[1][5]", "<stdin>:1:5: error: index 5 is out of range for axis 0 of size 2"),
        ("x[x]", "<stdin>:1:3: error: an index must be a constant, not an expression of nodes"),
        // Non-finite numbers where a whole number belongs
        ("zeros(1e999)", "<stdin>:1:7: error: a size must be a whole number, got inf"),
        ("sum(x, axis=1e999)", "<stdin>:1:13: error: the axis must be a whole number, got inf"),
        ("x[1e999]", "<stdin>:1:3: error: an index must be a whole number, got inf"),
        // Sizes
        ("randn(-1)", "<stdin>:1:7: error: a size must not be negative, got -1"),
        ("zeros(100000, 100000)", "<stdin>:1:1: error: zeros of shape (100000, 100000) is too large (more than 50000000 elements)"),
        ("zeros(2.5)", "<stdin>:1:7: error: a size must be a whole number, got 2.5"),
        ("randn(50000001)", "<stdin>:1:7: error: a size must be at most 50000000, got 50000001"),
        ("ones(7072, 7072)", "<stdin>:1:1: error: ones of shape (7072, 7072) is too large (more than 50000000 elements)"),
        ("x @ ones(2, 50000000)", "<stdin>:1:5: error: ones of shape (2, 50000000) is too large (more than 50000000 elements)"),
        ("sum(x, axis=5)", "<stdin>:1:1: error: axis 5 is out of range for a tensor of rank 1"),
        // Keyword arguments
        ("sum(x, bogus=1)", "<stdin>:1:8: error: sum has no keyword argument 'bogus'; it takes 'axis'"),
        ("relu(x, axis=0)", "<stdin>:1:9: error: relu has no keyword argument 'axis'"),
        ("randn(2, seed=1.5)", "<stdin>:1:15: error: the seed must be a whole number, got 1.5"),
        ("randn(2, seed=-1)", "<stdin>:1:15: error: the seed must not be negative"),
        ("leaky_relu(x, a=x)", "<stdin>:1:17: error: the slope 'a' must be a scalar, got shape (2)"),
        ("leaky_relu(x, b=1)", "<stdin>:1:15: error: leaky_relu has no keyword argument 'b'; it takes 'a'"),
        ("sum(x, axis=1, axis=2)", "<stdin>:1:16: error: keyword argument 'axis' is given twice"),
        ("zeros(2, axis=0)", "<stdin>:1:10: error: zeros has no keyword argument 'axis'"),
        ("sum(axis=0)", "<stdin>:1:1: error: sum needs 1 argument (x); 'x' is missing"),
        ("sum(x, axis=x)", "<stdin>:1:13: error: the axis must be a constant, not an expression of nodes"),
        // Bytes that are not text: invalid UTF-8 (decoded as U+FFFD), NUL, control characters
        ("x = \u{FFFD}", "<stdin>:1:5: error: unexpected character '�'"),
        ("# \u{0}\n1 +* 2", "<stdin>:2:4: error: expected an expression, found '*'"),
        ("\"\u{0}\" + 1", "<stdin>:1:1: error: a string can only be an einsum spec, as in einsum(\"ij,j->i\", A, x)"),
        ("y = \u{FFFD}\u{FFFD}\u{FFFD}", "<stdin>:1:5: error: unexpected character '�'"),
        // Several lines: the location counts lines and tabs
        ("a2 = 1\nb2 = 2\nc2 = 3 $ 4", "<stdin>:3:8: error: unexpected character '$'"),
        ("\tx +", "<stdin>:1:4: error: expected an expression after '+'"),
        ("a2 = 1\n\nb2 = x @ @ x", "<stdin>:3:10: error: expected an expression, found '@'"),
        ("y2 = 1\n# comment\nz2 = [1, 2\n\n# trailing\n", "<stdin>:3:11: error: expected ',' or ']' to close the '[' at 3:6"),
        ("z2 = f(1, 2", "<stdin>:1:12: error: expected ',' or ')' to close the arguments of 'f' opened at 1:7"),
        ("x2 = 1\ny2 = (x2 + 2\nz2 = 3", "<stdin>:3:1: error: expected ')' to close the '(' at 2:6"),
        (":remat all none", "<stdin>:1:12: error: unexpected argument 'none': ':remat all' takes nothing after it; usage: :remat NODE on|off | :remat all|none"),
        (":back 99999999999999999999", "<stdin>:1:7: error: the number of steps '99999999999999999999' is far too large"),
        (":step L 99999999999999999999", "<stdin>:1:9: error: the number of steps '99999999999999999999' is far too large"),
        (":step L 0", "<stdin>:1:9: error: the number of steps must be at least 1"),
        (":dot /nonexistent/folder/x.png", "<stdin>:1:6: error: cannot write '/nonexistent/folder/x.png': No such file or directory"),
        (":check L wrt", "<stdin>:1:10: error: expected 'wrt X' after the node; usage: :check [NODE] [wrt X]"),
        (":check L wrt h", "<stdin>:1:14: error: 'h' is not a leaf; :check perturbs leaves (input or param)"),
        ("x[0/0]", "<stdin>:1:3: error: an index must be a whole number, got nan"),
        (":show 3", "<stdin>:1:7: error: expected the name of a node, got '3' (commands take names, or %ID as listings show them)"),
        (":jacobian L grad(L, x)", "<stdin>:1:13: error: expected the name of a node, got 'grad(L, x)' (commands take names, or %ID as listings show them)"),
        ("x2 = 1 \u{1B}[31m", "<stdin>:1:8: error: unexpected character U+001B"),
        ("z2 = \u{200B}1", "<stdin>:1:6: error: unexpected character U+200B"),
        ("z2 = \u{7}", "<stdin>:1:6: error: unexpected character U+0007"),
        ("ones(1e16)", "<stdin>:1:6: error: a size is far too large: 1e+16"),
        ("eye(100000)", "<stdin>:1:1: error: eye of shape (100000, 100000) is too large (more than 50000000 elements)"),
        // Keyword arguments
        ("input", "<stdin>:1:1: error: undefined name 'input'"),
        ("param", "<stdin>:1:1: error: undefined name 'param'"),
        ("input x", "<stdin>:1:8: error: expected '=' after 'input x'"),
        ("param V = V", "<stdin>:1:11: error: undefined name 'V'"),
        ("input x = [1, 2] + nothing", "<stdin>:1:20: error: undefined name 'nothing'"),
        // Commands with bad arguments
        (":nosuch", "<stdin>:1:1: error: unknown command ':nosuch'; ':help' lists the commands"),
        (":bakward", "<stdin>:1:1: error: unknown command ':bakward'; did you mean ':backward'?"),
        (":show", "<stdin>:1:6: error: missing argument; usage: :show NAME"),
        (":show nothing", "<stdin>:1:7: error: undefined name 'nothing'"),
        (":show %999", "<stdin>:1:7: error: there is no node %999; :forward lists the nodes with their ids"),
        (":show %x", "<stdin>:1:7: error: there is no node %x; :forward lists the nodes with their ids"),
        (":backward y z", "<stdin>:1:13: error: unexpected argument 'z'; usage: :backward [NODE] [seed=VALUE] [modules]"),
        (":backward y modulse", "<stdin>:1:13: error: unexpected argument 'modulse'; did you mean 'modules'? usage: :backward [NODE] [seed=VALUE] [modules]"),
        (":backward x", "<stdin>:1:11: error: x has shape (2), not a scalar; reduce it (sum, mean, a loss) or give seed=… of its shape"),
        (":backward L seed=[1, 2]", "<stdin>:1:18: error: the seed has shape (2) but L has shape ()"),
        (":backward h seed=[1, 2, 3]", "<stdin>:1:18: error: the seed has shape (3) but h has shape (2)"),
        (":backward h seed=[1, $]", "<stdin>:1:22: error: unexpected character '$'"),
        (":backward L foo=1", "<stdin>:1:13: error: unknown option 'foo'; usage: :backward [NODE] [seed=VALUE] [modules]"),
        (":grad", "<stdin>:1:6: error: missing argument; usage: :grad NODE [wrt X] [method=reverse|forward|fd]"),
        (":grad L of x", "<stdin>:1:9: error: expected 'wrt X' after the node; usage: :grad NODE [wrt X] [method=reverse|forward|fd]"),
        (":grad L wrt nothing", "<stdin>:1:13: error: undefined name 'nothing'"),
        (":grad h", "<stdin>:1:7: error: h has shape (2), not a scalar; use :jacobian h X for a vector output"),
        (":jacobian x", "<stdin>:1:12: error: missing argument; usage: :jacobian Y X"),
        (":jacobian h nothing", "<stdin>:1:13: error: undefined name 'nothing'"),
        (":check x x", "<stdin>:1:10: error: expected 'wrt X' after the node; usage: :check [NODE] [wrt X]"),
        (":plot tanh 1 -1", "<stdin>:1:14: error: the range is empty: LO (1) must be below HI (-1)"),
        (":plot sum -1 1", "<stdin>:1:7: error: 'sum' is not an elementwise function of one argument; :plot draws relu, tanh, sigmoid, gelu, softplus, … or a module of one argument (':help plot' lists them)"),
        (":plot tahn -1 1", "<stdin>:1:7: error: unknown function or node 'tahn'; did you mean 'tanh'?"),
        (":plot tanh -1 x", "<stdin>:1:15: error: HI must be a finite number, as in -3 or 2.5"),
        (":plot L W", "<stdin>:1:9: error: W has shape (2, 2); :plot varies a scalar leaf"),
        (":plot L h", "<stdin>:1:9: error: h is computed from other nodes; :plot varies a leaf (a node defined by a value, as in 'w = 0.5')"),
        (":plot h s", "<stdin>:1:7: error: h has shape (2); :plot draws a scalar node against its leaves"),
        (":plot L s", "<stdin>:1:9: error: L does not depend on s; its plot against s would be flat"),
        (":plot points A t x", "<stdin>:1:18: error: unexpected argument 'x'; usage: :plot points X T"),
        (":plot points W s", "<stdin>:1:16: error: s has shape (); :plot points needs one label per row of W (shape (2), or (2, C) one-hot)"),
        (":plot tanh -1 1 height=1", "<stdin>:1:24: error: height must be a whole number of rows from 4 to 100"),
        (":set precision 99", "<stdin>:1:16: error: precision must be a whole number from 1 to 17"),
        (":set precision x", "<stdin>:1:16: error: precision must be a whole number from 1 to 17"),
        (":set colour purple", "<stdin>:1:13: error: color is 'on' or 'off'"),
        (":set", "<stdin>:1:5: error: missing argument; usage: :set precision N | :set color on|off | :set echo on|off | :set output N | :set memory SIZE | :set max-file-size SIZE | :set max-errors N | :set show PARTS | :set full on|off | :set width N|auto | :set dot lr|tb | :set plot braille|ascii"),
        (":set plot round", "<stdin>:1:11: error: plot is 'braille' or 'ascii' (for fonts without braille)"),
        (":set foo 1", "<stdin>:1:6: error: unknown setting 'foo'; settings are 'precision', 'color', 'echo', 'output', 'memory', 'max-file-size', 'max-errors', 'show', 'full', 'width', 'dot' and 'plot'"),
        (":help nosuch", "<stdin>:1:7: error: no help for 'nosuch'"),
        (":vars extra", "<stdin>:1:7: error: unexpected argument 'extra'; usage: :vars [all]"),
        (":train", "<stdin>:1:7: error: missing the loss; usage: :train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"),
        (":train L steps=0", "<stdin>:1:16: error: steps must be a whole number from 1 to 10000000"),
        (":train L steps=abc", "<stdin>:1:16: error: steps must be a whole number from 1 to 10000000"),
        (":train L lr=-1", "<stdin>:1:13: error: lr must be a positive number"),
        (":train L lr=0/0", "<stdin>:1:13: error: lr must be a positive number"),
        (":train L lr=1e999", "<stdin>:1:13: error: lr must be a positive number"),
        (":train h", "<stdin>:1:8: error: h has shape (2); training needs a scalar loss"),
        (":train L foo=1", "<stdin>:1:10: error: unknown option 'foo'; usage: :train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"),
        (":train L stpes=5", "<stdin>:1:10: error: unknown option 'stpes'; did you mean 'steps'? usage: :train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"),
        (":save \"unclosed.graph", "<stdin>:1:7: error: unterminated string; add a closing '\"'"),
        (":train L steps = 5", "<stdin>:1:16: error: an option is written key=value with no blanks around '=' (as in steps=…); usage: :train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"),
        (":train L steps=5 steps=500", "<stdin>:1:18: error: option 'steps' is given twice; usage: :train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"),
        (":train L L", "<stdin>:1:10: error: unexpected argument 'L'; usage: :train LOSS [steps=N] [lr=η] [optimizer=sgd|momentum|adam] [beta=β] [beta2=β₂] [eps=ε] [decay=λ] [batch=B] [seed=k] [every=k] [restarts=K]"),
        (":train s", "<stdin>:1:8: error: s depends on none of the params (W)"),
        (":explain L", "<stdin>:1:11: error: missing argument; usage: :explain L X"),
        (":explain L nothing", "<stdin>:1:12: error: undefined name 'nothing'"),
        (":step nothing", "<stdin>:1:7: error: undefined name 'nothing'"),
        (":graph nothing", "<stdin>:1:8: error: undefined name 'nothing'"),
        (":forward nothing", "<stdin>:1:10: error: undefined name 'nothing'"),
        (":clear now", "<stdin>:1:8: error: unexpected argument 'now'; usage: :clear"),
        (":quit now", "<stdin>:1:7: error: unexpected argument 'now'; usage: :quit"),
        (":load", "<stdin>:1:6: error: missing argument; usage: :load FILE"),
        (":save", "<stdin>:1:6: error: missing argument; usage: :save FILE"),
        (":dot a b", "<stdin>:1:8: error: unexpected argument 'b'; usage: :dot [FILE] [reverse] [expand]"),
    ]

    /// Everything a bad input must not change: the definitions with their exact values
    /// (as `:save` writes them), the `:vars` listing and every node's value.
    func snapshot(_ session: Session, _ output: MergedOutput) -> String {
        let before = output.text.count
        XCTAssertTrue(execute(session, ":vars\n:forward L"))
        let saved: String
        do { saved = try session.script() } catch {
            XCTFail("the session cannot be saved: \(error)")
            saved = ""
        }
        return saved + String(output.text.dropFirst(before))
    }

    func prepared() -> (Session, MergedOutput, String) {
        let (session, output) = makeSession()
        XCTAssertTrue(execute(session, CatalogueTests.prelude, name: "prelude.graph"), output.errors)
        return (session, output, snapshot(session, output))
    }

    /// Runs `input` against a fresh prelude; returns the first line of what it wrote to standard error.
    func firstError(of input: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let (session, output, before) = prepared()
        let errorsBefore = output.errors.count
        XCTAssertFalse(execute(session, input), "\(input.debugDescription) succeeded", file: file, line: line)
        let errors = String(output.errors.dropFirst(errorsBefore))
        XCTAssertEqual(snapshot(session, output), before, "\(input.debugDescription) changed the session", file: file, line: line)
        return errors.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
    }

    func testEveryBadInputGetsItsErrorAndLeavesTheGraphAlone() {
        XCTAssertGreaterThanOrEqual(CatalogueTests.table.count, 100)
        var seen = Set<String>()
        for (input, error) in CatalogueTests.table {
            XCTAssertTrue(seen.insert(input).inserted, "\(input.debugDescription) is listed twice")
            XCTAssertEqual(firstError(of: input), error, "for \(input.debugDescription)")
        }
    }

    /// Bytes that are not UTF-8 read as U+FFFD, one per bad sequence, and are reported where they stand.
    func testInvalidUTF8IsReportedWhereItStands() {
        let text = String(decoding: [0x79, 0x20, 0x3D, 0x20, 0x31, 0x20, 0x2B, 0x20, 0xC3, 0x28, 0xFF] as [UInt8], as: UTF8.self)
        XCTAssertEqual(text, "y = 1 + \u{FFFD}(\u{FFFD}")
        XCTAssertEqual(firstError(of: text), "<stdin>:1:9: error: unexpected character '\u{FFFD}'")
    }

    /// Empty input, blank lines, lone semicolons and comments are not errors and change nothing.
    func testNothingToRunChangesNothing() {
        for input in ["", "\n\n", "   \t ", ";", ";;\n;", "# a comment", "\n# one\n\t# two\n"] {
            let (session, output, before) = prepared()
            XCTAssertTrue(execute(session, input), "\(input.debugDescription): \(output.errors)")
            XCTAssertEqual(output.errors, "", "for \(input.debugDescription)")
            XCTAssertEqual(snapshot(session, output), before, "\(input.debugDescription) changed the session")
        }
    }

    /// A 10 MB line with its error at the far end, and one whose string never closes: located
    /// exactly, and the session is kept.
    func testATenMegabyteLine() {
        let blank = String(repeating: " ", count: 10_000_000) + "$"
        XCTAssertEqual(firstError(of: blank), "<stdin>:1:10000001: error: unexpected character '$'")
        let string = "x = \"" + String(repeating: "ij,", count: 3_400_000)
        XCTAssertGreaterThan(string.utf8.count, 10_000_000)
        XCTAssertEqual(firstError(of: string), "<stdin>:1:5: error: unterminated string; add a closing '\"'")
    }
}
