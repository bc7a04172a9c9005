import Dispatch
import Foundation

/// Work on a list of items spread over every core, with the outcome of a one-core loop: results in item order,
/// or the error of the first failing item in item order.
public enum OrderedParallel {
    /// Applies `body` to every item. Each core makes one worker state of its own with `makeWorker` (e.g. a verifier,
    /// which is not thread-safe) and takes runs of consecutive items from a shared counter, so a core that gets less
    /// time (a busy machine, another stage of a pipeline) does fewer of them. The first failure stops the handing
    /// out of runs; items no core reached are then done here, in order, up to the first failure.
    /// - Parameters:
    ///   - minimumPerCore: below this many items per core, fewer cores are used.
    ///   - run: items a core takes at a time (nil: about an eighth of an even share, at most 64).
    /// Inlinable, so that each caller gets a copy specialized to its types: unspecialized, every item and result
    /// would be copied through the runtime's generic witnesses (a few percent of a listing of a million records).
    @inlinable
    public static func map<Item: Sendable, Worker, Output>(
        _ items: [Item], minimumPerCore: Int = 32, run: Int? = nil, makeWorker: @Sendable () throws -> Worker,
        _ body: @Sendable (Worker, Item) throws -> Output
    ) throws -> [Output] {
        let slots = ResultSlots<Output>(items.count)
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, max(1, items.count / max(1, minimumPerCore)))
        if cores > 1 {
            let run = max(1, run ?? min(64, items.count / (cores * 8)))
            DispatchQueue.concurrentPerform(iterations: cores) { _ in
                // A core that cannot make its worker leaves the items to the others (or to the loop below).
                guard let worker = try? makeWorker() else { return }
                while let range = slots.take(run) {
                    for i in range {
                        let result = Result { try body(worker, items[i]) }
                        slots[i] = result
                        if case .failure = result { return }
                    }
                }
            }
        }
        var worker: Worker?
        var outputs: [Output] = []
        outputs.reserveCapacity(items.count)
        for i in items.indices {
            // Moved out, not copied: a copy would retain every reference in the result and the slots' end would
            // release it again.
            if let result = slots.move(i) {
                outputs.append(try result.get())
                continue
            }
            if worker == nil { worker = try makeWorker() }
            outputs.append(try body(worker!, items[i]))
        }
        return outputs
    }
}

/// One result slot per item, each written by one thread, the counter the cores take runs of items from, and whether
/// a failure was seen (no run is handed out after it).
@usableFromInline
final class ResultSlots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Result<T, any Error>?>
    private let lock = NSLock()
    private var next = 0
    private var sawFailure = false

    @usableFromInline
    init(_ count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    /// The next run of at most `count` items, or nil when all are handed out or a failure was seen.
    @usableFromInline
    func take(_ count: Int) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard !sawFailure, next < storage.count else { return nil }
        let start = next
        next = min(storage.count, next + count)
        return start..<next
    }

    /// The result of item `index`, moved out of its slot (left empty): read after every core is done.
    @usableFromInline
    func move(_ index: Int) -> Result<T, any Error>? {
        precondition(index >= 0 && index < storage.count)
        let slot = storage.baseAddress! + index
        let result = slot.move()
        slot.initialize(to: nil)
        return result
    }

    /// Read after every core is done; written by the thread that took the item.
    @usableFromInline
    subscript(index: Int) -> Result<T, any Error>? {
        get { storage[index] }
        set {
            if case .failure = newValue {
                lock.lock()
                sawFailure = true
                lock.unlock()
            }
            storage[index] = newValue
        }
    }
}
