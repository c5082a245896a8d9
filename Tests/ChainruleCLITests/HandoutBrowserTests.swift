import ChainruleTestSupport
import Foundation
import XCTest

/// The `--html` page in a real browser: Debian's `chromium`, headless and offline, loads it,
/// steps through the walk (a `#frame=N` fragment sends the arrow-key presses a student would),
/// and takes screenshots that must show something, and something different per frame.
/// scripts/test installs chromium (scripts/ensure-deps --tests) when it is missing; the test
/// skips only when it could not.
final class HandoutBrowserTests: FolderTestCase {
    var chromium: String!
    var pagePath: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let found = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else {
            throw XCTSkip("chromium is not installed and could not be: scripts/test installs it with apt-get (scripts/ensure-deps --tests); the browser test of --html is skipped")
        }
        chromium = found
        let example = HandoutCommandLineTests.examples.appendingPathComponent("relu-layer.graph").path
        pagePath = folder.appendingPathComponent("relu-layer.html").path
        let result = try runChainrule(["--html", pagePath, example])
        XCTAssertEqual(result.status, 0, result.standardError)
    }

    /// Runs chromium headless on the page with `fragment`, with a profile of its own, no
    /// network needed (the page is a file and fetches nothing), and returns standard output.
    func browse(_ fragment: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        let profile = try TemporaryFolder.make("chainrule-chromium")
        defer { TemporaryFolder.remove(profile) }
        process.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=\(profile.path)",
                             "--no-first-run", "--disable-extensions", "--disable-background-networking",
                             "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1"]
            + arguments + [URL(fileURLWithPath: pagePath).absoluteString + fragment]
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": profile.path, "LANG": "C.UTF-8"]
        process.currentDirectoryURL = folder
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let (output, errors) = readToEnd(process, stdout, stderr)
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: errors, as: UTF8.self))
        return String(decoding: output, as: UTF8.self)
    }

    /// The DOM after the page's script ran on `#frame=N` shows frame N and only it.
    func testAFragmentStepsTheWalkAsTheArrowKeysDo() throws {
        for (fragment, shown, counter) in [("", 0, "step 0 of 10 · start"), ("#frame=3", 3, "step 3 of 10 · forward 3/5"),
                                           ("#frame=8", 8, "step 8 of 10 · backward 3/5"), ("#frame=99", 10, "step 10 of 10 · backward 5/5")] {
            let dom = try browse(fragment, ["--dump-dom"])
            XCTAssertTrue(dom.contains("data-ready=\"true\""), "the script ran to its end for '\(fragment)'")
            XCTAssertTrue(dom.contains("<div class=\"walk\" data-frame=\"\(shown)\""), "\(fragment)")
            XCTAssertTrue(dom.contains("aria-live=\"polite\">\(counter)</span>"), "\(fragment)")
            let frames = dom.components(separatedBy: "<div class=\"frame").dropFirst()
            XCTAssertEqual(frames.count, 11)
            for (i, frame) in frames.enumerated() {
                let tag = frame.prefix { $0 != ">" }
                XCTAssertEqual(tag.contains("hidden"), i != shown, "\(fragment): frame \(i) is \(i == shown ? "shown" : "hidden")")
            }
            // The buttons are disabled at the ends.
            XCTAssertEqual(dom.contains("data-move=\"-1\" title=\"previous step (←)\" disabled=\"\""), shown == 0, "\(fragment)")
            XCTAssertEqual(dom.contains("data-move=\"1\" title=\"next step (→)\" disabled=\"\""), shown == 10, "\(fragment)")
        }
    }

    /// Screenshots of two frames are images of the window's size, not one colour, and differ.
    func testScreenshotsOfTwoFramesShowTheWalk() throws {
        // A window taller than the page, so that going to the walk needs no scrolling.
        let size = (width: 1280, height: 5200)
        var images: [PNGImage] = []
        for fragment in ["#frame=0", "#frame=7"] {
            let shot = folder.appendingPathComponent("frame\(images.count).png")
            _ = try browse(fragment, ["--window-size=\(size.width),\(size.height)", "--screenshot=\(shot.path)"])
            let image = try PNGImage(contentsOf: shot)
            XCTAssertEqual(image.width, size.width)
            XCTAssertEqual(image.height, size.height)
            XCTAssertGreaterThan(image.distinctColours(), 50, "\(fragment): a page of text and drawings has many colours")
            XCTAssertGreaterThan(image.shareOffBackground, 0.02, "\(fragment): not blank")
            images.append(image)
        }
        XCTAssertNotEqual(images[0].pixels, images[1].pixels, "frame 7 looks different from frame 0")
    }

    /// A page with a plot, screenshot: not blank, and the plot's line is drawn in its colour.
    func testAPlotIsDrawnOnThePage() throws {
        let script = folder.appendingPathComponent("plot.graph")
        try ":plot tanh -3 3\n".write(to: script, atomically: true, encoding: .utf8)
        pagePath = folder.appendingPathComponent("plot.html").path
        let result = try runChainrule(["--html", pagePath, script.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let shot = folder.appendingPathComponent("plot.png")
        _ = try browse("", ["--window-size=1000,900", "--screenshot=\(shot.path)"])
        let image = try PNGImage(contentsOf: shot)
        XCTAssertEqual(image.width, 1000)
        XCTAssertGreaterThan(image.distinctColours(), 50)
        XCTAssertGreaterThan(image.shareOffBackground, 0.02, "not blank")
        // tanh is drawn in the first series colour, #0072B2, its derivative in #D55E00.
        for (name, colour) in [("tanh", (0x00, 0x72, 0xB2)), ("tanh′", (0xD5, 0x5E, 0x00))] {
            XCTAssertGreaterThan(image.count(near: colour), 300, "pixels of \(name)'s line")
        }
    }
}
