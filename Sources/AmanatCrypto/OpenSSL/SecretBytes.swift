internal import COpenSSL
import Foundation

/// Secret key material with value semantics, kept in memory that is wiped with `OPENSSL_cleanse` when released.
///
/// `SecretBytes` never prints its contents (`description` says how many bytes, nothing else) and compares in
/// constant time.
///
/// Copies are cheap and share one buffer until one of them is changed: every mutation (``withUnsafeMutableBytes(_:)``,
/// ``wipe()``) is `mutating` and first makes the buffer unique, copying the bytes into a new buffer of its own that is
/// wiped on release too. A buffer that more than one value can see is therefore never written, so values may be read
/// from any number of threads at once, and a shared buffer cannot be changed under a reader.
///
/// - Important: Wiping protects against later reads of freed heap memory; it cannot remove copies the caller made
///   (e.g. by converting to `[UInt8]`), copies in swap, or registers. Keep secrets inside `SecretBytes` and use
///   ``withUnsafeBytes(_:)`` to hand them to the primitives.
public struct SecretBytes: Sendable, Equatable, CustomStringConvertible {
    /// The buffer. Invariant: its bytes are written only while it is being initialised, or through a `mutating`
    /// method of the one value that holds it (`isKnownUniquelyReferenced`), so concurrent access is read-only.
    private var storage: Storage

    /// The number of bytes.
    public var count: Int { storage.bytes.count }

    /// Creates `count` zero bytes.
    public init(zeroes count: Int) {
        storage = Storage(count: count)
    }

    /// Copies `bytes` into wiped-on-release storage. Wipe the source yourself if it was secret.
    public init(_ bytes: some Collection<UInt8>) {
        storage = Storage(count: bytes.count)
        let buffer = storage.bytes
        let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
            if source.count > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(source)) }
        }
        if copied == nil {
            for (index, byte) in zip(buffer.indices, bytes) { buffer[index] = byte }
        }
    }

    /// Creates `count` bytes filled by `body` (which gets the only reference to the new buffer).
    public init(
        count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        storage = Storage(count: count)
        try body(storage.bytes)
    }

    /// Gives read access to the bytes for the duration of `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeRawBufferPointer(storage.bytes)) }
    }

    /// Gives write access to the bytes for the duration of `body`. If the buffer is shared with a copy of this
    /// value, the bytes are first copied into a new wiped-on-release buffer that only this value holds, so the
    /// change is not seen by any copy. Do not let the pointer escape `body`.
    public mutating func withUnsafeMutableBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) { try body(storage.bytes) }
    }

    /// Overwrites this value's bytes with zeroes now, without waiting for release. Copies made earlier keep their
    /// bytes (a shared buffer is not written; this value gets a fresh zeroed buffer, and the shared one is wiped
    /// when its last holder releases it).
    public mutating func wipe() {
        if isKnownUniquelyReferenced(&storage) {
            storage.cleanse()
        } else {
            storage = Storage(count: storage.bytes.count)
        }
    }

    /// A copy of the bytes as an array. - Important: the array is not wiped; use only for non-secret output
    /// paths such as writing an encrypted file.
    public var unprotectedArray: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Constant-time equality.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in constantTimeEqual(a, b) } }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }

    /// Gives this value a buffer no other value holds, copying the bytes if the current one is shared.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    // MARK: Test hooks

    /// Whether this value and `other` share one buffer (the copy-on-write state; for tests).
    func sharesStorage(with other: SecretBytes) -> Bool { storage === other.storage }

    /// Calls `observer` with the buffer's bytes when the buffer is released, after it has been cleansed and before
    /// it is deallocated (for tests). Makes the buffer unique first, like any mutation.
    mutating func observeRelease(_ observer: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        makeUnique()
        storage.releaseObserver = observer
    }

    /// One wiped-on-release allocation.
    private final class Storage: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
        /// The allocation (at least one byte, so it exists even for an empty value).
        private let allocation: UnsafeMutableRawPointer
        /// Set only through ``SecretBytes/observeRelease(_:)`` on a unique buffer; read only in `deinit`.
        var releaseObserver: (@Sendable (UnsafeRawBufferPointer) -> Void)?

        /// `count` zero bytes.
        init(count: Int) {
            allocation = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
            allocation.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
            bytes = UnsafeMutableRawBufferPointer(start: allocation, count: count)
        }

        /// A new buffer with the same bytes.
        func copy() -> Storage {
            let new = Storage(count: bytes.count)
            if bytes.count > 0 { new.bytes.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            return new
        }

        func cleanse() {
            if let base = bytes.baseAddress, bytes.count > 0 { OPENSSL_cleanse(base, bytes.count) }
        }

        deinit {
            cleanse()
            releaseObserver?(UnsafeRawBufferPointer(bytes))
            allocation.deallocate()
        }
    }
}

/// Constant-time comparison of two byte sequences (length is not secret).
public func constantTimeEquals(_ a: some ContiguousBytes, _ b: some ContiguousBytes) -> Bool {
    a.withUnsafeBytes { x in b.withUnsafeBytes { y in constantTimeEqual(x, y) } }
}

/// Wipes an array in place (use for short-lived plaintext copies).
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress, buffer.count > 0 { OPENSSL_cleanse(base, buffer.count) }
    }
}

/// Wipes a `Data` in place (e.g. the contents of a file that held a passphrase). Only this value's buffer is wiped:
/// if the `Data` shares its buffer with a copy, the copy keeps the bytes.
public func wipe(_ data: inout Data) {
    data.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress, buffer.count > 0 { OPENSSL_cleanse(base, buffer.count) }
    }
}
