internal import COpenSSL
import Foundation

/// HKDF with SHA-256 (RFC 5869), computed by OpenSSL's `EVP_KDF`.
public enum HKDF {
    /// Extract-and-expand: `outputByteCount` bytes derived from `inputKeyMaterial`.
    /// - Throws: ``CryptoError/parameterOutOfRange(_:)`` when more than 255 × 32 bytes are asked for.
    public static func deriveKey(
        inputKeyMaterial: SecretBytes, salt: [UInt8] = [], info: [UInt8] = [], outputByteCount: Int
    ) throws -> SecretBytes {
        guard outputByteCount > 0, outputByteCount <= 255 * 32 else {
            throw CryptoError.parameterOutOfRange("HKDF output length \(outputByteCount) (1…8160)")
        }
        let params = ParameterList()
        params.addUTF8("digest", "SHA256")
        inputKeyMaterial.withUnsafeBytes { params.addOctets("key", $0) }
        if !salt.isEmpty { salt.withUnsafeBytes { params.addOctets("salt", $0) } }
        info.withUnsafeBytes { params.addOctets("info", $0) }
        return try derive(algorithm: "HKDF", params: params, length: outputByteCount)
    }

    static func derive(algorithm: String, params: ParameterList, length: Int) throws -> SecretBytes {
        clearOpenSSLErrors()
        let kdf = try checkPointer(EVP_KDF_fetch(nil, algorithm, nil), "EVP_KDF_fetch(\(algorithm))")
        defer { EVP_KDF_free(kdf) }
        let ctx = try checkPointer(EVP_KDF_CTX_new(kdf), "EVP_KDF_CTX_new")
        defer { EVP_KDF_CTX_free(ctx) }
        var out = SecretBytes(zeroes: length)
        try params.withParameters { (p) throws in
            let rc = out.withUnsafeMutableBytes {
                EVP_KDF_derive(ctx, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), length, p)
            }
            try check(rc, "EVP_KDF_derive(\(algorithm))")
        }
        return out
    }
}

/// scrypt (RFC 7914), computed by OpenSSL's `EVP_KDF`.
public enum Scrypt {
    /// The largest `N` accepted (2^22, 4 GiB at r = 8), so a hostile file cannot ask for unbounded work.
    public static let maximumLogN = 22

    /// The largest memory 128·r·N accepted (4 GiB, e.g. N = 2^22 with r = 8), whatever N and r are.
    public static let maximumMemoryBytes: UInt64 = 1 << 32

    /// The memory scrypt needs for these parameters, in bytes (what OpenSSL's `maxmem_bytes` must allow).
    public static func memoryNeeded(n: UInt64, r: UInt32, p: UInt32) -> UInt64 {
        128 * UInt64(r) * (n + 2) + 128 * UInt64(r) * UInt64(p) + 4096
    }

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// The memory cap passed to OpenSSL is sized to the parameters, so N = 2^17 and above work (OpenSSL's own
    /// default cap is 32 MiB).
    /// - Throws: ``CryptoError/parameterOutOfRange(_:)`` if `n` is not a power of two above 1, exceeds 2^22, or
    ///   `r`·`p` is beyond RFC 7914's limit, `r` > 32, `p` > 16, or 128·`r`·`n` exceeds ``maximumMemoryBytes``.
    public static func deriveKey(
        password: SecretBytes, salt: [UInt8], n: UInt64, r: UInt32, p: UInt32, length: Int
    ) throws -> SecretBytes {
        guard n > 1, n & (n - 1) == 0, n <= (1 << UInt64(maximumLogN)) else {
            throw CryptoError.parameterOutOfRange("scrypt N = \(n) (a power of two, 2 … 2^\(maximumLogN))")
        }
        guard r >= 1, p >= 1, UInt64(r) * UInt64(p) < (1 << 30), r <= 32, p <= 16 else {
            throw CryptoError.parameterOutOfRange("scrypt r = \(r), p = \(p)")
        }
        guard 128 * UInt64(r) * n <= maximumMemoryBytes else {
            throw CryptoError.parameterOutOfRange("scrypt memory 128·r·N above \(maximumMemoryBytes >> 30) GiB")
        }
        guard length > 0, length <= 1024 else {
            throw CryptoError.parameterOutOfRange("scrypt output length \(length)")
        }
        let params = ParameterList()
        password.withUnsafeBytes { params.addOctets("pass", $0) }
        salt.withUnsafeBytes { params.addOctets("salt", $0) }
        params.addUInt64("n", n)
        params.addUInt32("r", r)
        params.addUInt32("p", p)
        params.addUInt64("maxmem_bytes", memoryNeeded(n: n, r: r, p: p) + (1 << 20))
        return try HKDF.derive(algorithm: "SCRYPT", params: params, length: length)
    }
}
