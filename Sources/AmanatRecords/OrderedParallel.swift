import Dispatch
import Foundation

/// Work on a list of items spread over every core, with the outcome of a one-core loop: results in item order,
/// or the error of the first failing item in item order.
public enum OrderedParallel {
    /// Applies `body` to every item. Each core takes one contiguous block with a worker state of its own from
    /// `makeWorker` (e.g. a verifier, which is not thread-safe). The first failure stops the other cores; items
    /// they did not reach are then done here, in order, up to the first failure.
    /// - Parameter minimumPerCore: below this many items per core, fewer cores are used.
    public static func map<Item: Sendable, Worker, Output>(
        _ items: [Item], minimumPerCore: Int = 32, makeWorker: @Sendable () throws -> Worker,
        _ body: @Sendable (Worker, Item) throws -> Output
    ) throws -> [Output] {
        let slots = ResultSlots<Output>(items.count)
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, max(1, items.count / minimumPerCore))
        if cores > 1 {
            DispatchQueue.concurrentPerform(iterations: cores) { core in
                guard let worker = try? makeWorker() else { return }
                for i in (items.count * core / cores)..<(items.count * (core + 1) / cores) {
                    if slots.failed { return }
                    slots[i] = Result { try body(worker, items[i]) }
                }
            }
        }
        var worker: Worker?
        var outputs: [Output] = []
        outputs.reserveCapacity(items.count)
        for i in items.indices {
            if let result = slots[i] {
                outputs.append(try result.get())
                continue
            }
            if worker == nil { worker = try makeWorker() }
            outputs.append(try body(worker!, items[i]))
        }
        return outputs
    }
}

/// One result slot per item, each written by one thread, plus a flag that a failure was seen.
final class ResultSlots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Result<T, any Error>?>
    private let lock = NSLock()
    private var sawFailure = false

    init(_ count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    /// Whether some worker stored a failure.
    var failed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return sawFailure
    }

    subscript(index: Int) -> Result<T, any Error>? {
        get { storage[index] }
        set {
            storage[index] = newValue
            if case .failure = newValue {
                lock.lock()
                sawFailure = true
                lock.unlock()
            }
        }
    }
}
