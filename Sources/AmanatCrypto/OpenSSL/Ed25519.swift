internal import COpenSSL
import Foundation

/// Ed25519 signatures (RFC 8032), computed by OpenSSL.
public enum Ed25519 {
    /// An Ed25519 private signing key.
    public struct SigningKey: Sendable {
        let key: EVPKey

        init(key: EVPKey) { self.key = key }

        /// Generates a fresh key from OpenSSL's CSPRNG.
        /// - Throws: ``CryptoError/openssl(operation:reasons:)`` if OpenSSL fails.
        public static func generate() throws -> SigningKey {
            SigningKey(key: try EVPKey.generate(.ed25519))
        }

        /// Creates a key from its 32-byte seed (RFC 8032 "private key").
        /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless the seed is 32 bytes.
        public init(seed: SecretBytes) throws {
            key = try seed.withUnsafeBytes { (raw) throws in try EVPKey.privateKey(.ed25519, raw: raw) }
        }

        /// The 32-byte seed. Handle with care: it is the whole secret.
        public func seed() throws -> SecretBytes { try key.rawPrivateKey() }

        /// The matching public key.
        public var publicKey: VerifyingKey {
            // A key OpenSSL created always has a public half; failure here would be an OpenSSL bug.
            let raw = (try? key.rawPublicKey()) ?? []
            return try! VerifyingKey(rawRepresentation: raw)
        }

        /// Signs `message` (pure Ed25519, no pre-hash).
        /// - Returns: the 64-byte signature.
        public func signature(for message: some ContiguousBytes) throws -> [UInt8] {
            try message.withUnsafeBytes { (buffer) throws -> [UInt8] in try sign(buffer) }
        }

        func sign(_ message: UnsafeRawBufferPointer) throws -> [UInt8] {
            clearOpenSSLErrors()
            let ctx = try checkPointer(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
            defer { EVP_MD_CTX_free(ctx) }
            return try key.withPointer { (pkey) throws -> [UInt8] in
                try check(EVP_DigestSignInit(ctx, nil, nil, nil, pkey), "EVP_DigestSignInit")
                var signature = [UInt8](repeating: 0, count: 64)
                var length = 64
                let rc = signature.withUnsafeMutableBufferPointer { out in
                    EVP_DigestSign(
                        ctx, out.baseAddress, &length, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        message.count)
                }
                try check(rc, "EVP_DigestSign")
                guard length == 64 else {
                    throw CryptoError.invalidLength(what: "signature", expected: 64, actual: length)
                }
                return signature
            }
        }
    }

    /// An Ed25519 public verification key.
    public struct VerifyingKey: Sendable, Hashable {
        /// The key, its encoding and its verification contexts in one object, so a copy of this value costs one
        /// reference count (copies made on several threads touch one shared counter, not three).
        private let contexts: VerifyContextPool

        var key: EVPKey { contexts.key }
        /// The 32-byte encoded point.
        public var rawRepresentation: [UInt8] { contexts.raw }

        init(key: EVPKey) throws {
            contexts = VerifyContextPool(key: key, raw: try key.rawPublicKey())
        }

        /// Creates a key from its 32-byte encoding.
        /// - Throws: ``CryptoError`` if the length is wrong or OpenSSL refuses the encoding.
        public init(rawRepresentation: [UInt8]) throws {
            try self.init(rawRepresentation: rawRepresentation, reuseContexts: VerifyContextPool.reuseIsSound)
        }

        /// A key whose verifications reuse contexts or not, whatever the process-wide check found (for tests: `false`
        /// is the path taken when `VerifyContextPool.reuseIsSound` is false).
        init(rawRepresentation: [UInt8], reuseContexts: Bool) throws {
            let key = try rawRepresentation.withUnsafeBytes { (raw) throws in
                try EVPKey.publicKey(.ed25519, raw: raw)
            }
            contexts = VerifyContextPool(key: key, raw: rawRepresentation, reuseContexts: reuseContexts)
        }

        /// Whether `signature` is a valid Ed25519 signature of `message` under this key (OpenSSL's verdict, which
        /// rejects non-canonical S values).
        public func isValidSignature(_ signature: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
            signature.withUnsafeBytes { sig in message.withUnsafeBytes { msg in verify(sig, msg) } }
        }

        func verify(_ signature: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) -> Bool {
            guard signature.count == 64 else { return false }
            let sig = signature.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let msg = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
            // A context is set up once and used again for later signatures (per-call setup costs about 5 % of a
            // verification), if this OpenSSL is known to give right verdicts on a reused context.
            guard contexts.reuseContexts else {
                guard let ctx = VerifyContextPool.makeContext(key) else { return false }
                defer { EVP_MD_CTX_free(ctx) }
                let rc = EVP_DigestVerify(ctx, sig, 64, msg, message.count)
                if rc != 1 { clearOpenSSLErrors() }
                return rc == 1
            }
            guard let ctx = contexts.take() ?? VerifyContextPool.makeContext(key) else { return false }
            let rc = EVP_DigestVerify(ctx, sig, 64, msg, message.count)
            if rc >= 0 {
                contexts.give(ctx)
            } else {
                EVP_MD_CTX_free(ctx)
            }
            if rc != 1 { clearOpenSSLErrors() }
            return rc == 1
        }

        /// The number of set-up contexts this key keeps for reuse (for tests).
        var idleContexts: Int { contexts.idleCount }

        /// Whether verifications with this key reuse contexts (for tests).
        var reusesContexts: Bool { contexts.reuseContexts }

        public static func == (lhs: VerifyingKey, rhs: VerifyingKey) -> Bool {
            lhs.rawRepresentation == rhs.rawRepresentation
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
    }
}

/// Up to a few `EVP_MD_CTX`s initialised for verification with one Ed25519 key, handed to one thread at a time.
final class VerifyContextPool: @unchecked Sendable {
    let key: EVPKey
    let raw: [UInt8]
    private let lock = NSLock()
    private var idle: [OpaquePointer] = []
    private static let capacity = 16

    /// Whether verifications with this key reuse contexts (`reuseIsSound` unless a test says otherwise).
    let reuseContexts: Bool

    init(key: EVPKey, raw: [UInt8], reuseContexts: Bool = VerifyContextPool.reuseIsSound) {
        self.key = key
        self.raw = raw
        self.reuseContexts = reuseContexts
    }

    /// Whether this OpenSSL gives right verdicts on a reused context: checked once per process with a throwaway key
    /// (see `reuseCheck(signature:message:verify:)`), so a future OpenSSL that changes behaviour under reuse only
    /// costs speed: every key then sets up a fresh context per verification.
    static let reuseIsSound: Bool = {
        guard let signer = try? EVPKey.generate(.ed25519), let raw = try? signer.rawPublicKey(),
            let key = try? raw.withUnsafeBytes({ (r) throws in try EVPKey.publicKey(.ed25519, raw: r) })
        else { return false }
        let message: [UInt8] = Array("amanat context reuse check".utf8)
        guard
            let signature = try? message.withUnsafeBytes({ (m) throws in try Ed25519.SigningKey(key: signer).sign(m) })
        else { return false }
        guard let ctx = makeContext(key) else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        let sound = reuseCheck(signature: signature, message: message) { sig, msg in
            EVP_DigestVerify(ctx, sig, sig.count, msg, msg.count)
        }
        clearOpenSSLErrors()
        return sound
    }()

    /// The check behind `reuseIsSound`: `verify`, called again and again on one context, must accept the good
    /// signature, refuse it with one bit changed, accept it again, refuse it for a longer message, and accept it once
    /// more. `verify` returns OpenSSL's result (1 good, 0 bad, negative for an error).
    static func reuseCheck(
        signature: [UInt8], message: [UInt8], verify: ([UInt8], [UInt8]) -> Int32
    ) -> Bool {
        var tampered = signature
        tampered[0] ^= 1
        let verdicts = [
            verify(signature, message), verify(tampered, message), verify(signature, message),
            verify(signature, message + [0]), verify(signature, message),
        ]
        return verdicts == [1, 0, 1, 0, 1]
    }

    deinit { for ctx in idle { EVP_MD_CTX_free(ctx) } }

    /// A context set up by `EVP_DigestVerifyInit` for `key`, or nil (with the error queue cleared) on failure.
    static func makeContext(_ key: EVPKey) -> OpaquePointer? {
        guard let ctx = EVP_MD_CTX_new() else {
            clearOpenSSLErrors()
            return nil
        }
        guard key.withPointer({ EVP_DigestVerifyInit(ctx, nil, nil, nil, $0) }) == 1 else {
            EVP_MD_CTX_free(ctx)
            clearOpenSSLErrors()
            return nil
        }
        return ctx
    }

    var idleCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return idle.count
    }

    func take() -> OpaquePointer? {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast()
    }

    func give(_ ctx: OpaquePointer) {
        lock.lock()
        if idle.count < Self.capacity {
            idle.append(ctx)
            lock.unlock()
        } else {
            lock.unlock()
            EVP_MD_CTX_free(ctx)
        }
    }
}
