internal import COpenSSL
import Foundation

/// The OpenSSL side of key files: DER PrivateKeyInfo and SubjectPublicKeyInfo conversion, AES-CBC for PBES2, and
/// OpenSSL's own PKCS#8 decryption for key files that use PBKDF2 rather than scrypt.
enum PKCS8Codec {
    /// The DER `PrivateKeyInfo` (PKCS#8, unencrypted) of `key`, in wiped-on-release memory.
    static func privateKeyInfo(of key: EVPKey) throws -> SecretBytes {
        clearOpenSSLErrors()
        let info = try checkPointer(key.withPointer { EVP_PKEY2PKCS8($0) }, "EVP_PKEY2PKCS8")
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, &out)
        guard length > 0, let out else { throw opensslError("i2d_PKCS8_PRIV_KEY_INFO") }
        defer {
            OPENSSL_cleanse(out, Int(length))
            amanat_openssl_free(out)
        }
        return SecretBytes(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Parses a DER `PrivateKeyInfo` holding an Ed25519 or X25519 key.
    static func key(fromPrivateKeyInfo der: UnsafeRawBufferPointer) throws -> EVPKey {
        clearOpenSSLErrors()
        var cursor: UnsafePointer<UInt8>? = der.baseAddress?.assumingMemoryBound(to: UInt8.self)
        guard let info = d2i_PKCS8_PRIV_KEY_INFO(nil, &cursor, der.count) else {
            _ = opensslError("d2i_PKCS8_PRIV_KEY_INFO")
            throw CryptoError.malformed(what: "private key", reason: "not a PKCS#8 PrivateKeyInfo")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return try amanatKey(from: info)
    }

    /// The Ed25519 or X25519 key inside a parsed `PKCS8_PRIV_KEY_INFO` (which the caller still owns).
    private static func amanatKey(from info: OpaquePointer) throws -> EVPKey {
        guard let key = EVP_PKCS82PKEY(info) else {
            _ = opensslError("EVP_PKCS82PKEY")
            throw CryptoError.malformed(what: "private key", reason: "unsupported or corrupt key inside PKCS#8")
        }
        let owned = EVPKey(takingOwnership: key)
        guard owned.kind != nil else {
            throw CryptoError.unsupportedKey("only Ed25519 and X25519 keys are used by Amanat")
        }
        return owned
    }

    /// Decrypts an `EncryptedPrivateKeyInfo` with OpenSSL's own PKCS#8 code (PBES2 with PBKDF2, as written by
    /// `openssl genpkey -aes256` or `openssl pkcs8 -topk8` without `-scrypt`).
    static func decryptWithOpenSSL(
        encryptedDER der: UnsafeRawBufferPointer, passphrase: SecretBytes
    ) throws -> EVPKey {
        clearOpenSSLErrors()
        var cursor: UnsafePointer<UInt8>? = der.baseAddress?.assumingMemoryBound(to: UInt8.self)
        guard let sig = d2i_X509_SIG(nil, &cursor, der.count) else {
            _ = opensslError("d2i_X509_SIG")
            throw CryptoError.malformed(what: "encrypted private key", reason: "not an EncryptedPrivateKeyInfo")
        }
        defer { X509_SIG_free(sig) }
        let info = passphrase.withUnsafeBytes { pass in
            PKCS8_decrypt(sig, pass.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(pass.count))
        }
        guard let info else {
            _ = opensslError("PKCS8_decrypt")
            throw CryptoError.wrongPassphrase
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return try amanatKey(from: info)
    }

    /// AES-CBC with PKCS#7 padding (the PBES2 encryption scheme). `key` is 16 or 32 bytes, `iv` 16 bytes.
    /// Decryption failures (bad padding) throw ``CryptoError/wrongPassphrase``.
    static func aesCBC(
        encrypt: Bool, key: SecretBytes, iv: [UInt8], input: UnsafeRawBufferPointer
    ) throws -> SecretBytes {
        guard iv.count == 16 else {
            throw CryptoError.invalidLength(what: "AES-CBC IV", expected: 16, actual: iv.count)
        }
        let cipher: OpaquePointer?
        switch key.count {
        case 16: cipher = EVP_aes_128_cbc()
        case 32: cipher = EVP_aes_256_cbc()
        default: throw CryptoError.invalidLength(what: "AES key", expected: 32, actual: key.count)
        }
        if !encrypt && (input.count == 0 || input.count % 16 != 0) { throw CryptoError.wrongPassphrase }
        clearOpenSSLErrors()
        let ctx = try checkPointer(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")
        defer { EVP_CIPHER_CTX_free(ctx) }
        try key.withUnsafeBytes { (k) throws in
            try check(
                EVP_CipherInit_ex(
                    ctx, cipher, nil, k.baseAddress!.assumingMemoryBound(to: UInt8.self), iv, encrypt ? 1 : 0),
                "EVP_CipherInit_ex(AES-CBC)")
        }
        var work = SecretBytes(zeroes: input.count + 32)
        var total = 0
        let ok: Bool = work.withUnsafeMutableBytes { out in
            let o = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var length: Int32 = 0
            if input.count > 0 {
                guard
                    EVP_CipherUpdate(
                        ctx, o, &length, input.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(input.count))
                        == 1
                else { return false }
                total = Int(length)
            }
            guard EVP_CipherFinal_ex(ctx, o + total, &length) == 1 else { return false }
            total += Int(length)
            return true
        }
        guard ok else {
            if encrypt { throw opensslError("EVP_Cipher(AES-CBC)") }
            clearOpenSSLErrors()
            throw CryptoError.wrongPassphrase
        }
        return work.withUnsafeBytes { SecretBytes($0[0..<total]) }
    }

    /// The DER `SubjectPublicKeyInfo` of a public key.
    static func subjectPublicKeyInfo(of key: EVPKey) throws -> [UInt8] {
        clearOpenSSLErrors()
        var out: UnsafeMutablePointer<UInt8>?
        let length = key.withPointer { i2d_PUBKEY($0, &out) }
        guard length > 0, let out else { throw opensslError("i2d_PUBKEY") }
        defer { amanat_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Parses a DER `SubjectPublicKeyInfo`.
    static func key(fromSubjectPublicKeyInfo der: [UInt8]) throws -> EVPKey {
        clearOpenSSLErrors()
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let parsed else {
            _ = opensslError("d2i_PUBKEY")
            throw CryptoError.malformed(what: "public key", reason: "not a SubjectPublicKeyInfo")
        }
        let owned = EVPKey(takingOwnership: parsed)
        guard owned.kind != nil else {
            throw CryptoError.unsupportedKey("only Ed25519 and X25519 keys are used by Amanat")
        }
        return owned
    }
}
