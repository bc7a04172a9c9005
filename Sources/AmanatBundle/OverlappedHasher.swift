import AmanatCrypto
import Dispatch

/// SHA-256 on its own thread, so hashing a buffer overlaps with encrypting or writing the same buffer on the
/// caller's thread (both only read it). Buffers are double-buffered by the caller: before refilling a buffer it
/// calls ``waitUntilDone(_:)`` for that buffer's group.
final class OverlappedHasher: @unchecked Sendable {
    private var hash: SHA256?
    private let queue = DispatchQueue(label: "amanat.bundle.sha256")
    private var failure: (any Error)?

    init() throws { hash = try SHA256() }

    /// Hashes `buffer` asynchronously; `group` is left when done. Updates run in submission order.
    func update(_ buffer: UnsafeRawBufferPointer, group: DispatchGroup) {
        // The caller keeps the memory alive and unchanged until `group` is left.
        let address = UInt(bitPattern: buffer.baseAddress)
        let count = buffer.count
        group.enter()
        queue.async {
            defer { group.leave() }
            guard self.failure == nil else { return }
            let view = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: count)
            do { try self.hash!.update(view) } catch { self.failure = error }
        }
    }

    /// Waits for every pending update and returns the digest.
    func finalize() throws -> [UInt8] {
        queue.sync {}
        if let failure { throw failure }
        return try hash.take()!.finalize()
    }
}
