internal import COpenSSL
import Foundation

/// ChaCha20-Poly1305 AEAD (RFC 8439), computed by OpenSSL.
///
/// Use the one-shot ``seal(key:nonce:plaintext:authenticating:)`` / ``open(key:nonce:ciphertext:authenticating:)``
/// for small messages, and a ``ChaChaPoly/Cipher`` (one key, many nonces, no allocation per chunk) for streams.
public enum ChaChaPoly {
    /// Key size in bytes.
    public static let keySize = 32
    /// Nonce size in bytes.
    public static let nonceSize = 12
    /// Tag size in bytes.
    public static let tagSize = 16

    /// A 96-bit ChaCha20-Poly1305 nonce: exactly ``ChaChaPoly/nonceSize`` bytes, checked when it is made, stored
    /// inline (making one allocates nothing). A nonce must never be used twice with one key.
    public struct Nonce: Sendable, Hashable, CustomStringConvertible {
        private var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        /// The all-zero nonce, for a key that encrypts one message only (as age's key wrapping does).
        public static let zero = Nonce()

        private init() {}

        /// A nonce from its 12 bytes.
        /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless `bytes` holds exactly 12 bytes.
        public init(_ bytes: some Collection<UInt8>) throws {
            guard bytes.count == ChaChaPoly.nonceSize else {
                throw CryptoError.invalidLength(what: "nonce", expected: ChaChaPoly.nonceSize, actual: bytes.count)
            }
            Swift.withUnsafeMutableBytes(of: &self.bytes) { out in
                for (index, byte) in zip(out.indices, bytes) { out[index] = byte }
            }
        }

        /// A nonce from 12 bytes in memory (the fast path: one copy, no generic iteration).
        /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless `raw` holds exactly 12 bytes.
        public init(raw: UnsafeRawBufferPointer) throws {
            guard raw.count == ChaChaPoly.nonceSize else {
                throw CryptoError.invalidLength(what: "nonce", expected: ChaChaPoly.nonceSize, actual: raw.count)
            }
            Swift.withUnsafeMutableBytes(of: &self.bytes) { out in out.copyMemory(from: raw) }
        }

        /// A nonce from an array of 12 bytes.
        public init(_ bytes: [UInt8]) throws { self = try bytes.withUnsafeBytes { try Nonce(raw: $0) } }

        /// A nonce from a slice of 12 bytes.
        public init(_ bytes: ArraySlice<UInt8>) throws { self = try bytes.withUnsafeBytes { try Nonce(raw: $0) } }

        /// The nonce of chunk `counter` in the STREAM construction age uses for its payload: the counter as an
        /// 11-byte big-endian number, then `1` for the last chunk and `0` for every other one.
        public static func stream(counter: UInt64, isFinal: Bool) -> Nonce {
            var nonce = Nonce()
            Swift.withUnsafeMutableBytes(of: &nonce.bytes) { out in
                // Bytes 0…2 are the counter's top 24 bits, always zero for a 64-bit counter.
                for index in 3...10 { out[index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(10 - index))) }
                out[11] = isFinal ? 1 : 0
            }
            return nonce
        }

        /// The 12 bytes, in order.
        public var byteArray: [UInt8] { withUnsafeBytes { Array($0) } }

        /// Gives read access to the 12 bytes for the duration of `body`.
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try Swift.withUnsafeBytes(of: bytes) { try body($0) }
        }

        public static func == (lhs: Nonce, rhs: Nonce) -> Bool { lhs.byteArray == rhs.byteArray }
        public func hash(into hasher: inout Hasher) { withUnsafeBytes { hasher.combine(bytes: $0) } }
        public var description: String {
            "ChaChaPoly.Nonce(" + byteArray.map { String(format: "%02x", $0) }.joined() + ")"
        }
    }

    /// Encrypts and authenticates `plaintext`; returns ciphertext ‖ 16-byte tag.
    public static func seal(
        key: SecretBytes, nonce: Nonce, plaintext: some ContiguousBytes, authenticating aad: [UInt8] = []
    ) throws -> [UInt8] {
        let cipher = try Cipher(key: key)
        return try typed {
            try plaintext.withUnsafeBytes { (input) throws -> [UInt8] in
                var output = [UInt8](repeating: 0, count: input.count + tagSize)
                try typed {
                    try output.withUnsafeMutableBytes { (out) throws in
                        try cipher.seal(nonce: nonce, input: input, output: out, aad: aad)
                    }
                }
                return output
            }
        }
    }

    /// Verifies and decrypts ciphertext ‖ tag.
    /// - Throws: ``CryptoError/authenticationFailed`` if anything was altered or the key is wrong.
    public static func open(
        key: SecretBytes, nonce: Nonce, ciphertext: some ContiguousBytes, authenticating aad: [UInt8] = []
    ) throws -> [UInt8] {
        let cipher = try Cipher(key: key)
        return try typed {
            try ciphertext.withUnsafeBytes { (input) throws -> [UInt8] in
                guard input.count >= tagSize else { throw CryptoError.authenticationFailed }
                var output = [UInt8](repeating: 0, count: input.count - tagSize)
                try typed {
                    try output.withUnsafeMutableBytes { (out) throws in
                        try cipher.open(nonce: nonce, input: input, output: out, aad: aad)
                    }
                }
                return output
            }
        }
    }

    /// One ChaCha20-Poly1305 key bound to an OpenSSL context, for sealing or opening many chunks with different
    /// nonces. Not thread-safe: use one `Cipher` per thread.
    public final class Cipher {
        private let sealContext: OpaquePointer
        private let openContext: OpaquePointer

        /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless `key` is 32 bytes.
        public init(key: SecretBytes) throws {
            guard key.count == ChaChaPoly.keySize else {
                throw CryptoError.invalidLength(
                    what: "ChaCha20-Poly1305 key", expected: ChaChaPoly.keySize, actual: key.count)
            }
            clearOpenSSLErrors()
            let seal = try checkPointer(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")
            guard let open = EVP_CIPHER_CTX_new() else {
                EVP_CIPHER_CTX_free(seal)
                throw opensslError("EVP_CIPHER_CTX_new")
            }
            sealContext = seal
            openContext = open
            try key.withUnsafeBytes { (raw) throws in
                let k = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                try check(EVP_EncryptInit_ex(seal, EVP_chacha20_poly1305(), nil, k, nil), "EVP_EncryptInit_ex")
                try check(EVP_DecryptInit_ex(open, EVP_chacha20_poly1305(), nil, k, nil), "EVP_DecryptInit_ex")
            }
        }

        /// Replaces the key of both contexts (no allocation): for callers that use many keys one after another.
        /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless `key` is 32 bytes.
        public func setKey(_ key: SecretBytes) throws {
            guard key.count == ChaChaPoly.keySize else {
                throw CryptoError.invalidLength(
                    what: "ChaCha20-Poly1305 key", expected: ChaChaPoly.keySize, actual: key.count)
            }
            try key.withUnsafeBytes { (raw) throws in
                let k = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                try check(EVP_EncryptInit_ex(sealContext, nil, nil, k, nil), "EVP_EncryptInit_ex(key)")
                try check(EVP_DecryptInit_ex(openContext, nil, nil, k, nil), "EVP_DecryptInit_ex(key)")
            }
        }

        /// OpenSSL's update calls take `int` lengths: refuse a single call above 2 GiB rather than trap.
        static func checkSizes(input: Int, aad: Int) throws {
            guard input <= Int(Int32.max) - ChaChaPoly.tagSize, aad <= Int(Int32.max) else {
                throw CryptoError.parameterOutOfRange(
                    "ChaCha20-Poly1305 input or associated data above 2 GiB in one call")
            }
        }

        deinit {
            EVP_CIPHER_CTX_free(sealContext)  // frees and cleanses the key schedule
            EVP_CIPHER_CTX_free(openContext)
        }

        /// Encrypts `input` into `output` (which must hold `input.count + 16` bytes: ciphertext then tag).
        public func seal(
            nonce: Nonce, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer, aad: [UInt8] = []
        ) throws {
            try aad.withUnsafeBytes { try seal(nonce: nonce, input: input, output: output, aad: $0) }
        }

        /// Encrypts `input` into `output` (which must hold `input.count + 16` bytes: ciphertext then tag), with
        /// associated data from memory the caller owns (no allocation: for many small messages).
        public func seal(
            nonce: Nonce, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
            aad: UnsafeRawBufferPointer
        ) throws {
            guard output.count >= input.count + ChaChaPoly.tagSize else {
                throw CryptoError.invalidLength(what: "output buffer", expected: input.count + 16, actual: output.count)
            }
            try Self.checkSizes(input: input.count, aad: aad.count)
            let ctx = sealContext
            let rc = nonce.withUnsafeBytes { iv in
                EVP_EncryptInit_ex(ctx, nil, nil, nil, iv.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            try check(rc, "EVP_EncryptInit_ex(nonce)")
            var outLength: Int32 = 0
            if aad.count > 0 {
                try check(
                    EVP_EncryptUpdate(
                        ctx, nil, &outLength, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)),
                    "EVP_EncryptUpdate(aad)")
            }
            let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var written = 0
            if input.count > 0 {
                try check(
                    EVP_EncryptUpdate(
                        ctx, out, &outLength, input.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        Int32(input.count)), "EVP_EncryptUpdate")
                written = Int(outLength)
            }
            try check(EVP_EncryptFinal_ex(ctx, out + written, &outLength), "EVP_EncryptFinal_ex")
            written += Int(outLength)
            guard written == input.count else { throw opensslError("EVP_EncryptFinal_ex(length)") }
            try check(
                EVP_CIPHER_CTX_ctrl(ctx, amanat_aead_get_tag(), Int32(ChaChaPoly.tagSize), out + written),
                "EVP_CTRL_AEAD_GET_TAG")
        }

        /// Verifies and decrypts `input` (ciphertext then 16-byte tag) into `output` (`input.count - 16` bytes).
        /// On failure `output` is zeroed.
        public func open(
            nonce: Nonce, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer, aad: [UInt8] = []
        ) throws {
            try aad.withUnsafeBytes { try open(nonce: nonce, input: input, output: output, aad: $0) }
        }

        /// Verifies and decrypts `input` (ciphertext then 16-byte tag) into `output` (`input.count - 16` bytes), with
        /// associated data from memory the caller owns (no allocation). On failure `output` is zeroed.
        public func open(
            nonce: Nonce, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
            aad: UnsafeRawBufferPointer
        ) throws {
            guard input.count >= ChaChaPoly.tagSize else { throw CryptoError.authenticationFailed }
            let bodyCount = input.count - ChaChaPoly.tagSize
            guard output.count >= bodyCount else {
                throw CryptoError.invalidLength(what: "output buffer", expected: bodyCount, actual: output.count)
            }
            try Self.checkSizes(input: input.count, aad: aad.count)
            let ctx = openContext
            let rc = nonce.withUnsafeBytes { iv in
                EVP_DecryptInit_ex(ctx, nil, nil, nil, iv.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            try check(rc, "EVP_DecryptInit_ex(nonce)")
            var outLength: Int32 = 0
            if aad.count > 0 {
                try check(
                    EVP_DecryptUpdate(
                        ctx, nil, &outLength, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)),
                    "EVP_DecryptUpdate(aad)")
            }
            let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let inPointer = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var written = 0
            if bodyCount > 0 {
                try check(EVP_DecryptUpdate(ctx, out, &outLength, inPointer, Int32(bodyCount)), "EVP_DecryptUpdate")
                written = Int(outLength)
            }
            let tag = UnsafeMutableRawPointer(mutating: inPointer + bodyCount)
            try check(
                EVP_CIPHER_CTX_ctrl(ctx, amanat_aead_set_tag(), Int32(ChaChaPoly.tagSize), tag),
                "EVP_CTRL_AEAD_SET_TAG")
            guard EVP_DecryptFinal_ex(ctx, out + written, &outLength) == 1 else {
                clearOpenSSLErrors()
                if bodyCount > 0 { secureZero(output.baseAddress!, bodyCount) }
                throw CryptoError.authenticationFailed
            }
        }
    }
}
