import Foundation

/// Work started on another thread whose result is collected later: `add` signs the next batch while the store
/// writes this one; the stored view derives a chunk while the next one is read.
public final class Ahead<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<Value, any Error>?
    private var finished = false

    public init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async {
            let result = Result { try work() }
            self.lock.lock()
            self.result = result
            self.lock.unlock()
            self.done.signal()
        }
    }

    /// Waits for the work to end (once; later calls return at once).
    public func wait() {
        lock.lock()
        let waited = finished
        lock.unlock()
        guard !waited else { return }
        done.wait()
        lock.lock()
        finished = true
        lock.unlock()
    }

    /// The work's result, after waiting for it.
    public func get() throws -> Value {
        wait()
        lock.lock()
        defer { lock.unlock() }
        guard let result else { preconditionFailure("the work signalled its end without a result") }
        return try result.get()
    }
}
