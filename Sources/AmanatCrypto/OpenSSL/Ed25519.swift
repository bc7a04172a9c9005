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
            try check(EVP_DigestSignInit(ctx, nil, nil, nil, key.pointer), "EVP_DigestSignInit")
            var signature = [UInt8](repeating: 0, count: 64)
            var length = 64
            let rc = signature.withUnsafeMutableBufferPointer { out in
                EVP_DigestSign(
                    ctx, out.baseAddress, &length, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    message.count)
            }
            try check(rc, "EVP_DigestSign")
            guard length == 64 else { throw CryptoError.invalidLength(what: "signature", expected: 64, actual: length) }
            return signature
        }
    }

    /// An Ed25519 public verification key.
    public struct VerifyingKey: Sendable, Hashable {
        let key: EVPKey
        /// The 32-byte encoded point.
        public let rawRepresentation: [UInt8]

        init(key: EVPKey) throws {
            self.key = key
            self.rawRepresentation = try key.rawPublicKey()
        }

        /// Creates a key from its 32-byte encoding.
        /// - Throws: ``CryptoError`` if the length is wrong or OpenSSL refuses the encoding.
        public init(rawRepresentation: [UInt8]) throws {
            key = try rawRepresentation.withUnsafeBytes { (raw) throws in
                try EVPKey.publicKey(.ed25519, raw: raw)
            }
            self.rawRepresentation = rawRepresentation
        }

        /// Whether `signature` is a valid Ed25519 signature of `message` under this key (OpenSSL's verdict, which
        /// rejects non-canonical S values).
        public func isValidSignature(_ signature: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
            signature.withUnsafeBytes { sig in message.withUnsafeBytes { msg in verify(sig, msg) } }
        }

        func verify(_ signature: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) -> Bool {
            guard signature.count == 64 else { return false }
            guard let ctx = EVP_MD_CTX_new() else {
                clearOpenSSLErrors()
                return false
            }
            defer { EVP_MD_CTX_free(ctx) }
            guard EVP_DigestVerifyInit(ctx, nil, nil, nil, key.pointer) == 1 else {
                clearOpenSSLErrors()
                return false
            }
            let rc = EVP_DigestVerify(
                ctx, signature.baseAddress!.assumingMemoryBound(to: UInt8.self), 64,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
            clearOpenSSLErrors()
            return rc == 1
        }

        public static func == (lhs: VerifyingKey, rhs: VerifyingKey) -> Bool {
            lhs.rawRepresentation == rhs.rawRepresentation
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
    }
}
