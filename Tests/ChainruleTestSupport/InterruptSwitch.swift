import Foundation

/// A `shouldStop` for tests of Ctrl-C: answers true from its `after`-th call on (the key
/// pressed then), counting its calls. Thread-safe, as a pass may poll it from another thread.
public final class InterruptSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    public let after: Int

    public init(after: Int) { self.after = after }

    /// How many times it has been asked.
    public var calls: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    public func ask() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count >= after
    }
}
