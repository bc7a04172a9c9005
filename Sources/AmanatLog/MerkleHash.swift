import AmanatCrypto
import Foundation

/// A SHA-256 hash in the log: a leaf hash, an interior node hash or a root hash. Always 32 bytes; every function
/// that takes one checks the length.
public typealias LogHash = [UInt8]

/// RFC 6962 / RFC 9162 §2.1.1 Merkle tree hashing with SHA-256, the domain-separated leaf and node hashes.
public enum MerkleHash {
    /// The size of every hash in bytes.
    public static let byteCount = 32

    /// The root hash of the empty tree: SHA-256 of the empty string.
    public static let emptyTree: LogHash = [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ]

    /// The leaf hash of `entry`: SHA-256(0x00 || entry).
    /// - Throws: a `CryptoError` if OpenSSL fails.
    public static func leaf(_ entry: some ContiguousBytes) throws -> LogHash {
        try entry.withUnsafeBytes { (raw) throws -> LogHash in
            try HasherPool.shared.withHasher { (hasher) throws in try hasher.leaf(raw) }
        }
    }

    /// The interior node hash of two children: SHA-256(0x01 || left || right).
    /// - Throws: ``LogError/malformedHash(length:)`` unless both are 32 bytes; a `CryptoError` if OpenSSL fails.
    public static func node(_ left: LogHash, _ right: LogHash) throws -> LogHash {
        try checkLength(left)
        try checkLength(right)
        return try HasherPool.shared.withHasher { (hasher) throws in try hasher.node(left, right) }
    }

    static func checkLength(_ hash: LogHash) throws(LogError) {
        guard hash.count == byteCount else { throw LogError.malformedHash(length: hash.count) }
    }
}

/// One reusable SHA-256 context that hashes leaves and nodes without allocating anything but the result.
/// Not thread-safe: one per thread at a time, handed out by ``HasherPool``.
final class MerkleHasher {
    private let sha = try? ReusableSHA256()

    /// SHA-256(0x00 || entry).
    func leaf(_ entry: UnsafeRawBufferPointer) throws -> LogHash {
        try withUnsafeTemporaryAllocation(byteCount: entry.count + 1, alignment: 8) { (buffer) throws -> LogHash in
            buffer[0] = 0
            if entry.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: buffer[1...]).copyMemory(from: entry)
            }
            return try digest(UnsafeRawBufferPointer(buffer))
        }
    }

    /// SHA-256(0x01 || left || right); both must be 32 bytes (checked by the callers).
    func node(_ left: LogHash, _ right: LogHash) throws -> LogHash {
        try withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { (buffer) throws -> LogHash in
            buffer[0] = 1
            left.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: $0) }
            right.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[33..<65]).copyMemory(from: $0) }
            return try digest(UnsafeRawBufferPointer(buffer))
        }
    }

    private func digest(_ bytes: UnsafeRawBufferPointer) throws -> LogHash {
        // ReusableSHA256's initializer only fails when OpenSSL cannot allocate a context; fall back to the one-shot
        // hash, which reports the failure properly.
        guard let sha else { return try SHA256.hash(bytes) }
        return try sha.digest(bytes).bytes
    }
}

/// A few ``MerkleHasher``s, each used by one caller at a time, so hashing a million nodes sets up a context once.
final class HasherPool: @unchecked Sendable {
    static let shared = HasherPool()
    private let lock = NSLock()
    private var idle: [MerkleHasher] = []

    func withHasher<R>(_ body: (MerkleHasher) throws -> R) throws -> R {
        lock.lock()
        let hasher = idle.popLast() ?? MerkleHasher()
        lock.unlock()
        defer {
            lock.lock()
            if idle.count < 16 { idle.append(hasher) }
            lock.unlock()
        }
        return try body(hasher)
    }
}
