internal import COpenSSL
import Foundation

/// Secret key material in memory this object owns, wiped with `OPENSSL_cleanse` when the object goes away.
///
/// `SecretBytes` never prints its contents (`description` says how many bytes, nothing else) and compares in
/// constant time.
///
/// - Important: Wiping protects against later reads of freed heap memory; it cannot remove copies the caller made
///   (e.g. by converting to `[UInt8]`), copies in swap, or registers. Keep secrets inside `SecretBytes` and use
///   ``withUnsafeBytes(_:)`` to hand them to the primitives.
public final class SecretBytes: @unchecked Sendable, Equatable, CustomStringConvertible {
    private let storage: UnsafeMutableRawBufferPointer

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Creates `count` zero bytes.
    public init(zeroes count: Int) {
        let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        allocation.initializeMemory(as: UInt8.self, repeating: 0)
        storage = UnsafeMutableRawBufferPointer(start: allocation.baseAddress, count: count)
    }

    /// Copies `bytes` into wiped-on-release storage. Wipe the source yourself if it was secret.
    public convenience init(_ bytes: some Collection<UInt8>) {
        self.init(zeroes: bytes.count)
        for (index, byte) in bytes.enumerated() { storage[index] = byte }
    }

    /// Creates `count` bytes filled by `body`.
    public convenience init(
        count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        self.init(zeroes: count)
        try body(storage)
    }

    deinit {
        wipe()
        storage.deallocate()
    }

    /// Overwrites the bytes with zeroes now, without waiting for release.
    public func wipe() {
        if let base = storage.baseAddress, storage.count > 0 { OPENSSL_cleanse(base, storage.count) }
    }

    /// Gives read access to the bytes for the duration of `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Gives write access to the bytes for the duration of `body`.
    public func withUnsafeMutableBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws -> R
    ) rethrows -> R {
        try body(storage)
    }

    /// A copy of the bytes as an array. - Important: the array is not wiped; use only for non-secret output
    /// paths such as writing an encrypted file.
    public var unprotectedArray: [UInt8] { Array(storage) }

    /// Constant-time equality.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in constantTimeEqual(a, b) } }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
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
