import Foundation
import XCTest

/// Folders of their own under the temporary directory, for tests that write files.
public enum TemporaryFolder {
    /// A new, empty folder named `PREFIX-UUID`.
    public static func make(_ prefix: String = "chainrule") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Removes `folder` and everything in it.
    public static func remove(_ folder: URL?) {
        guard let folder else { return }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A test case whose every test gets a fresh temporary ``folder``, removed after it.
open class FolderTestCase: XCTestCase {
    /// This test's folder.
    public var folder: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        folder = try TemporaryFolder.make("chainrule-\(String(describing: type(of: self)))")
    }

    open override func tearDownWithError() throws {
        TemporaryFolder.remove(folder)
        try super.tearDownWithError()
    }
}
