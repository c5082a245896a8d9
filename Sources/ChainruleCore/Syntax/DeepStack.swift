import Foundation

/// Runs recursive work over a deep syntax tree on a thread with a large stack.
///
/// The parser bounds how deep a tree can be (see ``Parser/maximumDepth``), but code that
/// walks a tree recursively (lowering, printing) may need more stack per level than the
/// caller's thread has to spare. Trees shallower than ``threshold`` run in place.
enum DeepStack {
    /// Nesting depth from which work moves to a thread of its own.
    static let threshold = 16
    /// Address space reserved for that thread's stack; pages are committed only as used.
    static let stackSize = 1 << 30

    /// Runs `body` to completion on a thread with a ``stackSize`` stack, and returns its result.
    static func run<T>(_ body: () -> T) -> T {
        withoutActuallyEscaping(body) { body in
            let task = Task(body)
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                task.run()
                done.signal()
            }
            thread.stackSize = stackSize
            thread.start()
            done.wait()
            return task.take()
        }
    }

    /// The work and its result, handed to the other thread. The caller waits for the
    /// thread to finish before reading the result, so nothing is shared concurrently.
    private final class Task<T>: @unchecked Sendable {
        var body: (() -> T)?
        var result: T?
        init(_ body: @escaping () -> T) { self.body = body }
        /// Runs the work and lets go of it before the caller resumes (it must not escape).
        func run() {
            result = body?()
            body = nil
        }
        func take() -> T {
            guard let result else { preconditionFailure("the deep-stack thread did not run") }
            return result
        }
    }
}
