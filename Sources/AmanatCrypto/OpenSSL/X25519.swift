internal import COpenSSL
import Foundation

/// X25519 key agreement (RFC 7748), computed by OpenSSL.
public enum X25519 {
    /// An X25519 private key.
    public struct PrivateKey: Sendable {
        let key: EVPKey

        init(key: EVPKey) { self.key = key }

        /// Generates a fresh key from OpenSSL's CSPRNG.
        public static func generate() throws -> PrivateKey {
            PrivateKey(key: try EVPKey.generate(.x25519))
        }

        /// Creates a key from its 32-byte scalar (clamped by OpenSSL when used).
        public init(rawRepresentation: SecretBytes) throws {
            key = try rawRepresentation.withUnsafeBytes { (raw) throws in
                try EVPKey.privateKey(.x25519, raw: raw)
            }
        }

        /// The 32-byte scalar. Handle with care: it is the whole secret.
        public func rawRepresentation() throws -> SecretBytes { try key.rawPrivateKey() }

        /// The matching public key.
        public var publicKey: PublicKey {
            let raw = (try? key.rawPublicKey()) ?? []
            return try! PublicKey(rawRepresentation: raw)
        }

        /// The shared secret with `peer`.
        /// - Throws: ``CryptoError/zeroSharedSecret`` when the result is all zeroes (a low-order peer key); the
        ///   caller must treat this as a failed agreement.
        public func sharedSecret(with peer: PublicKey) throws -> SecretBytes {
            clearOpenSSLErrors()
            let ctx = try checkPointer(EVP_PKEY_CTX_new(key.pointer, nil), "EVP_PKEY_CTX_new")
            defer { EVP_PKEY_CTX_free(ctx) }
            try check(EVP_PKEY_derive_init(ctx), "EVP_PKEY_derive_init")
            try check(EVP_PKEY_derive_set_peer(ctx, peer.key.pointer), "EVP_PKEY_derive_set_peer")
            var length = 32
            let secret = SecretBytes(zeroes: 32)
            let rc = secret.withUnsafeMutableBytes {
                EVP_PKEY_derive(ctx, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
            }
            guard rc == 1 else {
                // OpenSSL 3 itself refuses the all-zero result of a low-order point.
                _ = opensslError("EVP_PKEY_derive")
                throw CryptoError.zeroSharedSecret
            }
            guard length == 32 else {
                throw CryptoError.invalidLength(what: "shared secret", expected: 32, actual: length)
            }
            let zero = SecretBytes(zeroes: 32)
            if secret == zero { throw CryptoError.zeroSharedSecret }
            return secret
        }
    }

    /// An X25519 public key.
    public struct PublicKey: Sendable, Hashable {
        let key: EVPKey
        /// The 32-byte u-coordinate.
        public let rawRepresentation: [UInt8]

        /// Creates a key from its 32-byte encoding.
        public init(rawRepresentation: [UInt8]) throws {
            key = try rawRepresentation.withUnsafeBytes { (raw) throws in
                try EVPKey.publicKey(.x25519, raw: raw)
            }
            self.rawRepresentation = rawRepresentation
        }

        init(key: EVPKey) throws {
            self.key = key
            rawRepresentation = try key.rawPublicKey()
        }

        public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
            lhs.rawRepresentation == rhs.rawRepresentation
        }
        public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
    }
}
