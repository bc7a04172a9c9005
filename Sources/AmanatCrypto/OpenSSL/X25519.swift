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
        /// - Throws: ``CryptoError/zeroSharedSecret`` when the peer key is a low-order point, whose shared secret is
        ///   all zeroes (OpenSSL 3 refuses to derive it; RFC 7748 §6.1 says to refuse it); the caller must treat this
        ///   as a failed agreement. ``CryptoError/keyAgreementFailed(reasons:)`` when OpenSSL refuses the derivation
        ///   for any other reason.
        public func sharedSecret(with peer: PublicKey) throws -> SecretBytes {
            try derive(with: peer, outputLength: 32)
        }

        /// The derivation behind ``sharedSecret(with:)``; a test passes a short `outputLength` to make OpenSSL refuse
        /// the derivation for a reason other than a low-order peer.
        func derive(with peer: PublicKey, outputLength: Int) throws -> SecretBytes {
            precondition(outputLength <= 32, "the output buffer holds 32 bytes")
            clearOpenSSLErrors()
            var secret = SecretBytes(zeroes: 32)
            var length = outputLength
            let rc = try key.withPointer { (own) throws -> Int32 in
                try peer.key.withPointer { (other) throws -> Int32 in
                    let ctx = try checkPointer(EVP_PKEY_CTX_new(own, nil), "EVP_PKEY_CTX_new")
                    defer { EVP_PKEY_CTX_free(ctx) }
                    try check(EVP_PKEY_derive_init(ctx), "EVP_PKEY_derive_init")
                    try check(EVP_PKEY_derive_set_peer(ctx, other), "EVP_PKEY_derive_set_peer")
                    return secret.withUnsafeMutableBytes {
                        EVP_PKEY_derive(ctx, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
                    }
                }
            }
            guard rc == 1 else {
                // OpenSSL 3 itself refuses the all-zero result of a low-order point, with the same generic reason
                // ("failed during derivation") it gives other failures: tell the cases apart by the peer key.
                let reasons = drainOpenSSLErrors()
                if X25519.isLowOrder(peer.rawRepresentation) { throw CryptoError.zeroSharedSecret }
                throw CryptoError.keyAgreementFailed(reasons: reasons)
            }
            guard length == 32 else {
                throw CryptoError.invalidLength(what: "shared secret", expected: 32, actual: length)
            }
            // An OpenSSL that computed the all-zero result rather than refusing it.
            if secret == SecretBytes(zeroes: 32) { throw CryptoError.zeroSharedSecret }
            return secret
        }
    }

    /// The u-coordinates whose X25519 result is all zeroes for every private key: the points of small order (dividing
    /// 8) on the curve and its twist, and the non-canonical encodings p and p + 1 of 0 and 1 (the list libsodium
    /// checks; exactly the peer keys of Wycheproof's all-zero cases), little-endian, with bit 255 clear.
    static let lowOrderPoints: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),  // 0
        [1] + [UInt8](repeating: 0, count: 31),  // 1
        [  // 325606250916557431795983626356110631294008115727848805560023387167927233504 (order 8)
            0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
            0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
        ],
        [  // 39382357235489614581723060781553021112529911719440698176882885853963445705823 (order 8)
            0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
            0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
        ],
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],  // p - 1, i.e. -1
        [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f],  // p, i.e. 0
        [0xee] + [UInt8](repeating: 0xff, count: 30) + [0x7f],  // p + 1, i.e. 1
    ]

    /// Whether `u` (32 bytes) encodes a low-order point, ignoring bit 255 as X25519 does (RFC 7748 §5).
    static func isLowOrder(_ u: [UInt8]) -> Bool {
        guard u.count == 32 else { return false }
        var masked = u
        masked[31] &= 0x7f
        return lowOrderPoints.contains(masked)
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
