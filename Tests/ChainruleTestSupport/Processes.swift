import Foundation

/// Everything a started process writes to `stdout` and `stderr`, read concurrently so that
/// neither pipe fills up and blocks the child; returns once the process has exited.
public func readToEnd(_ process: Process, _ stdout: Pipe, _ stderr: Pipe) -> (output: Data, errors: Data) {
    final class Box: @unchecked Sendable { var data = Data() }
    let errorData = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errorData.data = stderr.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (outputData, errorData.data)
}
