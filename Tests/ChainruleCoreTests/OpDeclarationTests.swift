@testable import ChainruleCore
import XCTest

/// Every op is declared once, by its family (``OpFamily``), and ``Op/declared()`` is the one
/// list of them: these tests walk that list and hold each op to every part of its declaration,
/// so an op added to a family is checked without a line written here.
final class OpDeclarationTests: XCTestCase {
    /// The names a spelling calls as functions (not methods, not attributes of a module).
    func calledNames(_ spelling: String) -> [String] {
        var names: [String] = []
        var word = ""
        var previous: Character = " "
        var wordStartsAfter: Character = " "
        for c in spelling + " " {
            if c.isLetter || c.isNumber || c == "_" {
                if word.isEmpty { wordStartsAfter = previous }
                word.append(c)
            } else {
                if c == "(", !word.isEmpty, wordStartsAfter != ".", !(word.first?.isNumber ?? false) { names.append(word) }
                word = ""
            }
            previous = c
        }
        return names
    }

    /// Names, JAX and PyTorch spellings: present, distinct, and every helper a spelling calls is
    /// defined by the exported script's prelude.
    func testEveryOpHasANameAndBothExportSpellings() throws {
        let ops = try Op.declared()
        let names = ops.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "each op's name is its own: \(names.sorted())")
        let arguments = ["a0", "a1", "a2"]
        for framework in Framework.allCases {
            let prelude = Prelude.text(framework)
            var spellings: [String: String] = [:]
            for op in ops {
                XCTAssertFalse(op.name.isEmpty)
                XCTAssertTrue(op.name.allSatisfy { $0.isLowercase || $0 == "_" }, "\(op.name) is a JSON op name")
                let spelling = op.python(arguments, framework)
                if op == .constant { continue }  // a leaf is written as its value
                XCTAssertTrue(spelling.contains("a0"), "\(op.name) in \(framework) reads its argument: \(spelling)")
                XCTAssertFalse(spelling.contains("unknown"), "\(op.name) in \(framework): \(spelling)")
                for called in calledNames(spelling) where !["jnp", "torch", "jax"].contains(called) {
                    XCTAssertTrue(prelude.contains("def \(called)(") || prelude.contains("\n\(called) = "),
                                  "\(op.name) in \(framework) calls \(called), which the prelude defines")
                }
                if let other = spellings[spelling] {
                    // Two ops may be written alike only when they are the same function.
                    XCTAssertEqual(Set([other, op.name]), ["identity", "linear"], "\(other) and \(op.name) are spelled alike in \(framework)")
                }
                spellings[spelling] = op.name
            }
        }
    }

    /// Every function of the language is declared with a help line and lowers to a declared op
    /// (or is `grad` or a constructor); help lines are distinct.
    func testEveryFunctionHasAHelpLineAndADeclaredOp() throws {
        let declared = Set(try Op.declared().map(\.name))
        var summaries = Set<String>()
        for f in Builtins.functions {
            XCTAssertTrue(f.signature.hasPrefix(f.name + "("), "\(f.name)'s signature \(f.signature)")
            XCTAssertFalse(f.summary.isEmpty, "\(f.name) has a help line")
            XCTAssertTrue(summaries.insert(f.summary).inserted, "\(f.name)'s help line is its own")
            switch f.call {
            case .apply(let op, let parameters, let required):
                XCTAssertTrue(declared.contains(op.name), "\(f.name) makes the declared op \(op.name)")
                XCTAssertTrue((1...parameters.count).contains(required))
            case .slope(let b):
                XCTAssertNotNil(b.defaultSlope, "\(f.name) has a default slope")
                XCTAssertTrue(declared.contains(Op.binary(b).name))
            case .axis(let op):
                XCTAssertTrue(declared.contains(op(nil).name) && op(0).name == op(nil).name, "\(f.name) makes a declared op")
            case .count(let parameters, let what, let op):
                XCTAssertEqual(parameters.count, 2, "\(f.name) takes an operand and a count")
                XCTAssertFalse(what.isEmpty)
                XCTAssertTrue(declared.contains(op(3).name) && op(4).name == op(3).name, "\(f.name) makes a declared op")
            case .einsum, .grad, .creation:
                break
            }
        }
        // A call finds its function by name: `max` of one argument is the reduction, of two the elementwise one.
        XCTAssertEqual(Builtins.function(named: "max", arguments: 1)?.signature, "max(x)")
        XCTAssertEqual(Builtins.function(named: "max", arguments: 2)?.signature, "max(a, b)")
    }

    /// Each op's scalar kernel computes what its tensor rule does on scalars, bit for bit, and every
    /// elementwise op is a kernel of its own.
    func testEveryScalarKernelIsTheOpsOwnRule() throws {
        let samples: [Double] = [-1.5, -0.0, 0, 0.5, 2, .infinity, .nan]
        var codes = Set<UInt8>()
        for op in try Op.declared() {
            let kernel = op.scalarKernel
            switch op {
            case .pointwise(let p): XCTAssertEqual(kernel, .pointwise(p))
            case .binary(let b): XCTAssertEqual(kernel, .binary(b))
            default: XCTAssertFalse(kernel.namesOneOp, "\(op.name)'s kernel is not an elementwise op's")
            }
            if kernel.namesOneOp { XCTAssertTrue(codes.insert(kernel.rawValue).inserted, "\(op.name)'s kernel is its own") }
            guard kernel != .none else { continue }
            // How many arguments the op reads, as its export spelling says.
            let arity = ["a0", "a1", "a2"].filter { op.python(["a0", "a1", "a2"], .jax).contains($0) }.count
            do {
                XCTAssertEqual(try op.resultShape(Array(repeating: [], count: arity)), [], "\(op.name) of scalars is a scalar")
                for a in samples {
                    for b in samples {
                        let x = [a, b, -a]
                        guard let expected = try? op.forward(x.prefix(arity).map { Tensor($0) }) else { continue }
                        let value = kernel.value(of: op, x[0], x[1], x[2])
                        XCTAssertEqual(value?.bitPattern, expected.scalars.first?.bitPattern, "\(op.name)\(x.prefix(arity))")
                        XCTAssertEqual(op.scalarForward(x[0], x[1], x[2])?.bitPattern, expected.scalars.first?.bitPattern, "\(op.name)\(x.prefix(arity))")
                    }
                }
            }
        }
        XCTAssertLessThanOrEqual(BinaryArithmetic.allCases.count, Int(ScalarKernel.pointwiseBase - ScalarKernel.binaryBase))
        XCTAssertLessThanOrEqual(Pointwise.allCases.count, 256 - Int(ScalarKernel.pointwiseBase))
    }

    /// Every op has its family, its derivative and its shapes: each runs forward and is
    /// differentiated (or stated to have no derivative) at the shapes it was declared for.
    func testEveryOpBelongsToTheFamilyThatDeclaresIt() throws {
        for op in try Op.declared() {
            XCTAssertEqual(op.family.name, op.name)
            switch op {
            case .pointwise, .binary:
                XCTAssertEqual(op.workUnits(elements: 7) { [] }, 7)
                XCTAssertEqual(op.reading(input: 0), .elementwise)
            default:
                break
            }
        }
    }
}
