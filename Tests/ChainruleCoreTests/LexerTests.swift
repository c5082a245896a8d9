import ChainruleCore
import XCTest

/// The lexical forms of SPEC §1: numbers read exactly as the nearest double, names in any
/// script, blanks, and tokens as small values pointing into the source.
final class LexerTests: XCTestCase {
    /// The value of `text` read as a one-number statement.
    func literal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Double? {
        let (statements, diagnostics) = Parser.parse(Source(name: "n", text: text))
        XCTAssertEqual(diagnostics.map(\.message), [], text, file: file, line: line)
        guard case .expression(let e) = statements.first, case .number(let x) = e.kind else {
            XCTFail("\(text) is not a number literal", file: file, line: line)
            return nil
        }
        return x
    }

    /// Literals on which a reader that is not correctly rounded goes wrong. The expected
    /// bit patterns are IEEE 754 binary64 roundings computed independently (CPython's `float`).
    func testHardLiteralsRoundToTheNearestDouble() {
        let cases: [(String, UInt64)] = [
            ("0.1", 0x3FB9_9999_9999_999A),
            ("0.30000000000000004", 0x3FD3_3333_3333_3334),
            ("1e-320", 0x0000_0000_0000_07E8),  // subnormal
            ("5e-324", 0x0000_0000_0000_0001),  // the smallest subnormal
            ("2.4703282292062328e-324", 0x0000_0000_0000_0001),  // just above half of it: up
            ("2.4703282292062327e-324", 0),  // just below: down to zero
            ("1e-400", 0),
            ("9007199254740992", 0x4340_0000_0000_0000),  // 2^53
            ("9007199254740993", 0x4340_0000_0000_0000),  // 2^53 + 1: a tie, to even
            ("72057594037927933", 0x4370_0000_0000_0000),
            ("2.2250738585072011e-308", 0x000F_FFFF_FFFF_FFFF),  // the largest subnormal
            ("1e23", 0x44B5_2D02_C7E1_4AF6),  // not exact: 10^23 is past the exact powers
            ("123456789012345678901234567890", 0x45F8_EE90_FF6C_373E),
            ("1.7976931348623157e308", 0x7FEF_FFFF_FFFF_FFFF),
            ("179769313486231580793728971405301e276", 0x7FEF_FFFF_FFFF_FFFF),
            ("1.7976931348623159e308", 0x7FF0_0000_0000_0000),  // rounds past the largest: inf
            ("1e999", 0x7FF0_0000_0000_0000),
            ("0.000000000000000000000000000000000000000000001e45", 0x3FF0_0000_0000_0000),
            ("0e999", 0),
            ("000.000", 0),
            (".5e1", 0x4014_0000_0000_0000),
            ("1.", 0x3FF0_0000_0000_0000),
            ("3e22", 0x4499_6936_8974_C05B),  // exact: 3·5^22 < 2^53
        ]
        for (text, bits) in cases {
            guard let x = literal(text) else { continue }
            XCTAssertEqual(String(x.bitPattern, radix: 16), String(bits, radix: 16), text)
        }
    }

    /// Every finite double prints (shortest form, `\(x)`) as text that reads back to it.
    func testPrintedDoublesReadBackExactly() {
        var random = SeededRandom(seed: 11)
        for i in 0..<4000 {
            // Bit patterns spread over every exponent, and short decimals that take the fast path.
            let x: Double
            if i % 2 == 0 {
                let bits = UInt64(random.uniform() * 0x7FEF_FFFF_FFFF_FFFF as Double)
                x = Double(bitPattern: bits)
            } else {
                x = (random.uniform() * 2_000_000).rounded() / 1000
            }
            guard let back = literal("\(x)") else { continue }
            XCTAssertEqual(back.bitPattern, x.bitPattern, "\(x)")
        }
    }

    /// Short literals with small exponents are read by multiplying or dividing by an exact
    /// power of ten; compare with the standard library's correctly rounded reader.
    func testShortLiteralsAgreeWithTheStandardReader() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<4000 {
            let digits = Int(random.uniform() * 17) + 1
            var mantissa = ""
            for _ in 0..<digits { mantissa += String(Int(random.uniform() * 10)) }
            let point = Int(random.uniform() * Double(digits + 1))
            // `12.E5` is `12 . E5` in the language: a point before an exponent has a digit after it.
            let body = String(mantissa.prefix(point)) + "." + String(mantissa.dropFirst(point)) + (point == digits ? "0" : "")
            let exponent = Int(random.uniform() * 60) - 30
            for text in [mantissa, body, "\(mantissa)e\(exponent)", "\(body)E\(exponent)"] {
                let spelled = text.hasPrefix(".") ? "0" + text : text
                guard let expected = Double(spelled), let x = literal(text) else { continue }
                XCTAssertEqual(x.bitPattern, expected.bitPattern, text)
            }
        }
    }

    /// Tokens are a kind and a place: no text, no value, no reference.
    func testTokensAreSmallValuesIntoTheSource() {
        XCTAssertEqual(MemoryLayout<Token>.stride, 16)
        let (tokens, diagnostics, depth) = Lexer.tokenize(Source(name: "t", text: "h₁ = θ·x × 2.5e3 − y\u{00A0}\u{FEFF}# note\n"))
        XCTAssertEqual(diagnostics, [])
        XCTAssertEqual(depth, 0)
        XCTAssertEqual(tokens.map(\.kind), [.identifier, .equals, .identifier, .middleDot, .identifier, .star, .number,
                                            .minus, .identifier, .newline, .end])
        // Offsets are UTF-8 bytes: ₁ and − take three, θ · × and the no-break space two.
        XCTAssertEqual(tokens.map(\.start), [0, 5, 7, 9, 11, 13, 16, 22, 26, 38, 39])
        XCTAssertEqual(tokens.map(\.end), [4, 6, 9, 11, 12, 15, 21, 25, 27, 39, 39])
        // Columns count scalars: `y` is the 20th character of its line.
        XCTAssertEqual(Source(name: "t", text: "h₁ = θ·x × 2.5e3 − y").location(of: 26).description, "t:1:20")
    }

    /// Names in any script, with digits, subscript digits and `_`; `₁` cannot start one.
    func testNamesInAnyScript() throws {
        let source = Source(name: "u", text: "Δx_1 = 1\nпривет₂ = 2\n変数 = 3\nσ₁₀ = 4\nx = ₁")
        let (statements, diagnostics) = Parser.parse(source)
        let names = statements.compactMap { statement -> String? in
            if case .definition(let d) = statement { return d.name }
            return nil
        }
        XCTAssertEqual(names, ["Δx_1", "привет₂", "変数", "σ₁₀"])
        // An accent typed as a combining character belongs to the name, which is the same name
        // as the precomposed spelling.
        var script = try Script("cafe\u{301} = 2\nz = caf\u{E9} * 3")
        XCTAssertEqual(try script.value("z").scalars, [6])
        XCTAssertEqual(diagnostics.map(\.message), ["unexpected character '₁'"])
        XCTAssertEqual(diagnostics.first?.span?.location.description, "u:5:5")
    }

    /// Columns count scalars, whatever their UTF-8 length, and blanks pasted from elsewhere
    /// (no-break spaces, byte-order marks) are skipped.
    func testErrorsAfterNonASCIITextKeepTheirColumn() {
        let source = Source(name: "u", text: "θ₁ = φ\u{00A0}+\u{202F}$ + 変数")
        let (_, diagnostics) = Parser.parse(source)
        XCTAssertEqual(diagnostics.map(\.message), ["unexpected character '$'"])
        XCTAssertEqual(diagnostics.first?.span?.location.description, "u:1:10")
        XCTAssertEqual(diagnostics.first?.span?.text, "$")
        let (_, found) = Parser.parse(Source(name: "s", text: "ж = 1 \"text\""))
        XCTAssertEqual(found.map(\.message), ["expected the end of the statement, found string \"text\""])
        XCTAssertEqual(found.first?.span?.location.description, "s:1:7")
    }

    /// A command is the rest of its line, up to `;` outside quotes or a comment.
    func testCommandParts() {
        let text = ":save  \"a;b.graph\"  # keep\n:grad\tf ; x = 1"
        let (statements, diagnostics) = Parser.parse(Source(name: "c", text: text))
        XCTAssertEqual(diagnostics, [])
        guard statements.count == 3, case .command(let save) = statements[0], case .command(let grad) = statements[1] else {
            return XCTFail("\(statements)")
        }
        XCTAssertEqual([save.name, save.arguments], ["save", "\"a;b.graph\""])
        XCTAssertEqual(save.argumentsStart, 7)
        XCTAssertEqual([grad.name, grad.arguments], ["grad", "f"])
        XCTAssertEqual(grad.argumentsStart, 33)
    }
}
