import Foundation
import ChainruleTestSupport
import XCTest

/// The built `chainrule` executable, next to the test bundle.
enum Executable {
    static var url: URL {
        let bundle = Bundle(for: Marker.self).bundleURL.deletingLastPathComponent()
        let candidate = bundle.appendingPathComponent("chainrule")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/chainrule")
    }
    final class Marker {}
}

struct ProcessResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

/// Runs chainrule with arguments and standard input (not a terminal), with a clean environment.
func runChainrule(_ arguments: [String], input: String = "", environment: [String: String] = [:],
                  directory: URL? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = Executable.url
    process.arguments = arguments
    var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "LANG": "C.UTF-8"]
    env.merge(environment) { $1 }
    process.environment = env
    if let directory { process.currentDirectoryURL = directory }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let (outputData, errorData) = readToEnd(process, stdout, stderr)
    return ProcessResult(status: process.terminationStatus,
                         standardOutput: String(decoding: outputData, as: UTF8.self),
                         standardError: String(decoding: errorData, as: UTF8.self))
}
