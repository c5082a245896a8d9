@testable import chainrule
import XCTest

/// The hand-read common command lines (`Options.read`) against ArgumentParser's reading of
/// the same words (`Chainrule.parseOptions`), which the executable falls back on for the rest.
final class OptionsTests: XCTestCase {

    /// Every command line the fast reader accepts means the same to ArgumentParser.
    func testTheCommonFormsReadAsArgumentParserReadsThem() throws {
        let lines: [[String]] = [
            [], ["-e", "1 + 1"], ["a.graph"], ["a.graph", "b.graph", "-e", "x"], ["-e", "x", "a.graph"],
            ["-e", "---1", "-e", "--2", "-e", "-x"], ["-e", "--"], ["-e", "--", "-e", "3"], ["-e", "-i"],
            ["--", "-e", "--json"], ["-e", "1", "--", "a.graph", "--"], ["-i", "a.graph"], ["a.graph", "-i"],
            ["--echo", "a.graph", "-e", "y + 1"], ["--echo", "--echo", "-e", "1"], ["-i", "-i"],
            ["--json", "a.graph"], ["a.graph", "--json"], ["--json", "--json", "-e", "x = 1"],
            ["--json", "--of", "x", "a.graph"], ["--of", "x", "--json", "-e", "x = 1"],
            ["--json", "--of", "#0", "-e", "x = 1"], ["-e", "#1", "-e", "2"], ["#0"], [""], ["-e", ""],
            ["--html", "out.html", "a.graph"], ["a.graph", "--html", "out.html", "-e", "x"], ["--echo", "--html", "o.html", "-e", "1"],
        ]
        for words in lines {
            let fast = try XCTUnwrap(Options.read(words), "\(words)")
            XCTAssertEqual(fast, try Chainrule.parseOptions(words), "\(words)")
        }
    }

    /// The arguments of `-e` in order, the files in order, each flag and `--of` where it belongs.
    func testTheFastReaderSortsWordsIntoOptions() throws {
        let options = try XCTUnwrap(Options.read(["b.graph", "-e", "-1", "--json", "--of", "y", "a.graph", "-e", "y", "--", "-i"]))
        XCTAssertEqual(options, Options(interactive: false, echo: false, json: true, statements: ["-1", "y"], of: "y",
                                        files: ["b.graph", "a.graph", "-i"]))
    }

    /// Help, version, mistakes and rarer spellings are left to ArgumentParser, which prints
    /// them (or reads them: `-ie`, `--of=x`) as it always has.
    func testEverythingElseIsLeftToArgumentParser() throws {
        let lines: [[String]] = [
            ["--help"], ["-h"], ["--version"], ["--bogus"], ["-x"], ["-"], ["-e"], ["--of", "L"], ["-ie", "1"],
            ["--json", "--of=x", "a.graph"], ["--json", "--of"], ["--json", "--of", "-e", "x = 1"], ["--json", "-i"],
            ["--json", "--echo", "-e", "x = 1"], ["--json", "--of", "x", "--of", "y", "-e", "x = 1"],
            ["--generate-completion-script", "bash"], ["--ech"],
            ["--html"], ["--html", "o.html"], ["--html", "o.html", "--json", "a.graph"], ["--html", "o.html", "-i", "a.graph"],
            ["--html", "a.html", "--html", "b.html", "a.graph"], ["--html", "-e", "1"],
        ]
        for words in lines {
            XCTAssertNil(Options.read(words), "\(words)")
        }
        XCTAssertEqual(try Chainrule.parseOptions(["-ie", "1"]), Options(interactive: true, statements: ["1"]))
        XCTAssertEqual(try Chainrule.parseOptions(["--json", "--of=x", "a.graph"]), Options(json: true, of: "x", files: ["a.graph"]))
    }
}
