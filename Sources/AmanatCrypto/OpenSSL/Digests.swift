internal import COpenSSL
import Foundation

/// SHA-256 fetched from the default provider once: OpenSSL 3's implicit fetch (`EVP_sha256()`) looks the
/// algorithm up again on every init, which costs more than hashing a short disclosure.
nonisolated(unsafe) private let fetchedSHA256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

/// Streaming SHA-256 (FIPS 180-4), computed by OpenSSL.
public struct SHA256: ~Copyable {
    private let context: OpaquePointer

    /// The digest size in bytes.
    public static let byteCount = 32

    /// Starts a new hash.
    public init() throws {
        clearOpenSSLErrors()
        let ctx = try checkPointer(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
        guard EVP_DigestInit_ex(ctx, fetchedSHA256 ?? EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            throw opensslError("EVP_DigestInit_ex")
        }
        context = ctx
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds `bytes` into the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        try check(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count), "EVP_DigestUpdate")
    }

    /// Feeds `bytes` into the hash.
    public mutating func update(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { (raw) throws in try update(raw) }
    }

    /// Finishes the hash and returns the 32-byte digest.
    public consuming func finalize() throws -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let rc = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        try check(rc, "EVP_DigestFinal_ex")
        return digest
    }

    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: some ContiguousBytes) throws -> [UInt8] {
        try bytes.withUnsafeBytes { (raw) throws -> [UInt8] in
            var digest = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            clearOpenSSLErrors()
            let rc = digest.withUnsafeMutableBufferPointer {
                EVP_Digest(
                    raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), raw.count, $0.baseAddress, &length,
                    fetchedSHA256 ?? EVP_sha256(), nil)
            }
            try check(rc, "EVP_Digest")
            return digest
        }
    }
}

/// A SHA-256 digest held inline (no heap allocation), for hashing many short strings and looking them up.
public struct SHA256Digest: Hashable, Sendable {
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The digest with these 32 bytes; nil for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        w0 = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// The digest with these 32 bytes; nil for any other length.
    public init?(_ bytes: [UInt8]) {
        guard let d = bytes.withUnsafeBytes({ SHA256Digest(bytes: $0) }) else { return nil }
        self = d
    }

    /// Every byte goes into the (per-process seeded) hash: digests in a payload that name no disclosure are
    /// chosen freely by the signer, so hashing only a prefix would let one force every digest into one bucket.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0)
        hasher.combine(w1)
        hasher.combine(w2)
        hasher.combine(w3)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: (w0, w1, w2, w3)) { Array($0) }
    }
}

/// One-shot SHA-256 over many short inputs with a single OpenSSL context, so each digest costs no allocation.
/// Not thread-safe: use one per thread or per task.
public final class ReusableSHA256 {
    private let context: OpaquePointer

    public init() throws {
        clearOpenSSLErrors()
        context = try checkPointer(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
    }

    deinit { EVP_MD_CTX_free(context) }

    /// The SHA-256 digest of `bytes`.
    public func digest(_ bytes: UnsafeRawBufferPointer) throws -> SHA256Digest {
        guard EVP_DigestInit_ex(context, fetchedSHA256 ?? EVP_sha256(), nil) == 1 else {
            throw opensslError("EVP_DigestInit_ex")
        }
        if bytes.count > 0 {
            guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
                throw opensslError("EVP_DigestUpdate")
            }
        }
        var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var length: UInt32 = 0
        let rc = withUnsafeMutableBytes(of: &out) {
            EVP_DigestFinal_ex(context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
        }
        guard rc == 1, length == 32 else { throw opensslError("EVP_DigestFinal_ex") }
        return withUnsafeBytes(of: out) { SHA256Digest(bytes: $0)! }
    }

    /// The SHA-256 digest of the UTF-8 bytes of `text`.
    public func digest(utf8 text: String) throws -> SHA256Digest {
        var text = text
        return try text.withUTF8 { (buffer) throws in try digest(UnsafeRawBufferPointer(buffer)) }
    }
}

/// HMAC-SHA-256 (RFC 2104), computed by OpenSSL's `EVP_MAC`.
public enum HMACSHA256 {
    /// The tag size in bytes.
    public static let byteCount = 32

    /// The 32-byte HMAC-SHA-256 of `message` under `key`.
    public static func authenticationCode(key: SecretBytes, message: some ContiguousBytes) throws -> [UInt8] {
        try key.withUnsafeBytes { (k) throws -> [UInt8] in
            try message.withUnsafeBytes { (m) throws -> [UInt8] in try mac(key: k, message: m) }
        }
    }

    /// Whether `tag` (possibly truncated, at least 10 bytes) equals the HMAC of `message`, compared in constant time.
    public static func isValid(
        _ tag: some ContiguousBytes, key: SecretBytes, message: some ContiguousBytes
    ) throws -> Bool {
        let full = try authenticationCode(key: key, message: message)
        return tag.withUnsafeBytes { t in
            guard t.count >= 10, t.count <= full.count else { return false }
            return full.withUnsafeBytes { f in constantTimeEqual(t, UnsafeRawBufferPointer(rebasing: f[0..<t.count])) }
        }
    }

    static func mac(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) throws -> [UInt8] {
        try ReusableHMACSHA256(rawKey: key).authenticationCode(message)
    }
}

/// HMAC-SHA-256 under one key over many short messages: the algorithm is fetched, the context made and the key's
/// pads derived once, and each tag re-initializes the context with the same key (OpenSSL's `EVP_MAC_init` with no
/// key). A one-shot tag fetched the algorithm from the provider, built a parameter list and hashed both pads every
/// time. Not thread-safe: use one per thread or per task.
public final class ReusableHMACSHA256 {
    private let mac: OpaquePointer
    private let context: OpaquePointer

    public init(key: SecretBytes) throws {
        (mac, context) = try key.withUnsafeBytes { try Self.keyed($0) }
    }

    init(rawKey key: UnsafeRawBufferPointer) throws {
        (mac, context) = try Self.keyed(key)
    }

    /// The fetched algorithm and a context keyed with `key`.
    private static func keyed(_ key: UnsafeRawBufferPointer) throws -> (OpaquePointer, OpaquePointer) {
        clearOpenSSLErrors()
        let mac = try checkPointer(EVP_MAC_fetch(nil, "HMAC", nil), "EVP_MAC_fetch(HMAC)")
        guard let context = EVP_MAC_CTX_new(mac) else {
            EVP_MAC_free(mac)
            throw opensslError("EVP_MAC_CTX_new")
        }
        let params = ParameterList()
        params.addUTF8("digest", "SHA256")
        // OpenSSL refuses a NULL key pointer; an empty key is legal HMAC, so point at a dummy byte.
        var dummy: UInt8 = 0
        do {
            try params.withParameters { (p) throws in
                let rc = withUnsafeMutablePointer(to: &dummy) { d in
                    EVP_MAC_init(
                        context,
                        key.count > 0 ? key.baseAddress!.assumingMemoryBound(to: UInt8.self) : UnsafePointer(d),
                        key.count, p)
                }
                try check(rc, "EVP_MAC_init")
            }
        } catch {
            EVP_MAC_CTX_free(context)
            EVP_MAC_free(mac)
            throw error
        }
        return (mac, context)
    }

    deinit {
        EVP_MAC_CTX_free(context)
        EVP_MAC_free(mac)
    }

    /// The 32-byte tag of `message`.
    public func authenticationCode(_ message: UnsafeRawBufferPointer) throws -> [UInt8] {
        // Started again with the key it holds (for the first tag too: a restart costs less than tracking whether
        // one is needed).
        try check(EVP_MAC_init(context, nil, 0, nil), "EVP_MAC_init")
        if message.count > 0 {
            try check(
                EVP_MAC_update(context, message.baseAddress!.assumingMemoryBound(to: UInt8.self), message.count),
                "EVP_MAC_update")
        }
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        let rc = out.withUnsafeMutableBufferPointer { EVP_MAC_final(context, $0.baseAddress, &length, 32) }
        try check(rc, "EVP_MAC_final")
        guard length == 32 else { throw opensslError("EVP_MAC_final") }
        return out
    }

    /// The tag of `message`'s bytes.
    public func authenticationCode(_ message: some ContiguousBytes) throws -> [UInt8] {
        try message.withUnsafeBytes { try authenticationCode($0) }
    }
}

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        clearOpenSSLErrors()
        let rc = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        try check(rc, "RAND_bytes")
        return out
    }

    /// `count` random bytes as a secret.
    public static func secret(_ count: Int) throws -> SecretBytes {
        try SecretBytes(count: count) { (buffer) throws in
            guard count > 0 else { return }
            clearOpenSSLErrors()
            try check(RAND_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(count)), "RAND_bytes")
        }
    }
}
