import Foundation

/// scrypt cost parameters for protecting a private key file.
public struct ScryptParameters: Sendable, Equatable, CustomStringConvertible {
    /// log2 of the CPU/memory cost N.
    public var logN: Int
    /// The block size r.
    public var r: UInt32
    /// The parallelization p.
    public var p: UInt32

    public init(logN: Int, r: UInt32, p: UInt32) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    /// The default: N = 2^17, r = 8, p = 1 (OWASP's minimum for passwords; 128 MiB of memory per unlock).
    public static let `default` = ScryptParameters(logN: 17, r: 8, p: 1)

    /// The strongest setting whose files OpenSSL 3.0's own `openssl pkey -passin` can decrypt: its PKCS#8 code caps
    /// scrypt memory at 32 MiB, so N = 2^14, r = 8 (16 MiB). Weaker than ``default``; use only for files that must
    /// open in stock OpenSSL tools directly.
    public static let opensslCompatible = ScryptParameters(logN: 14, r: 8, p: 1)

    /// Fast parameters for tests only. - Important: never use for real keys.
    public static let insecureTestOnly = ScryptParameters(logN: 10, r: 8, p: 1)

    public var n: UInt64 { 1 << UInt64(logN) }

    public var description: String { "scrypt N=2^\(logN), r=\(r), p=\(p)" }
}

/// A private key read from a file: Ed25519 (signing) or X25519 (sealing).
public enum PrivateKey: Sendable {
    case ed25519(Ed25519.SigningKey)
    case x25519(X25519.PrivateKey)

    var evpKey: EVPKey {
        switch self {
        case .ed25519(let key): return key.key
        case .x25519(let key): return key.key
        }
    }

    /// The Ed25519 signing key.
    /// - Throws: ``CryptoError/unsupportedKey(_:)`` if this is an X25519 key.
    public func signingKey() throws -> Ed25519.SigningKey {
        guard case .ed25519(let key) = self else {
            throw CryptoError.unsupportedKey("expected an Ed25519 key, found X25519")
        }
        return key
    }

    /// The X25519 sealing key.
    /// - Throws: ``CryptoError/unsupportedKey(_:)`` if this is an Ed25519 key.
    public func sealingKey() throws -> X25519.PrivateKey {
        guard case .x25519(let key) = self else {
            throw CryptoError.unsupportedKey("expected an X25519 key, found Ed25519")
        }
        return key
    }

    init(_ key: EVPKey) throws {
        switch key.kind {
        case .ed25519: self = .ed25519(Ed25519.SigningKey(key: key))
        case .x25519: self = .x25519(X25519.PrivateKey(key: key))
        case nil: throw CryptoError.unsupportedKey("only Ed25519 and X25519 keys are used by Amanat")
        }
    }
}

/// Private key files: PEM `ENCRYPTED PRIVATE KEY` (PKCS#8 `EncryptedPrivateKeyInfo`, RFC 5958) with PBES2
/// (RFC 8018) using **scrypt** (RFC 7914) as the key-derivation function and AES-256-CBC as the cipher.
///
/// Also reads unencrypted `PRIVATE KEY` files (as `openssl genpkey` writes them) and encrypted files that use
/// PBKDF2 (OpenSSL's default), through OpenSSL's own PKCS#8 code.
public enum PrivateKeyFile {
    static let pbes2OID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D]
    static let scryptOID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B]
    static let aes256CBCOID: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A]
    static let aes128CBCOID: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02]
    static let pbkdf2OID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C]

    /// The most scrypt work a key file may ask for when read: N·r·p ≤ 2^23, i.e. at most 1 GiB of memory
    /// (N = 2^20, r = 8) and eight times the work of ``ScryptParameters/default``. A file asking for more is
    /// refused with ``CryptoError/parameterOutOfRange(_:)`` before anything is allocated.
    public static let maximumScryptWork: UInt64 = 1 << 23

    /// The most PBKDF2 (or legacy PBE) iterations a key file may ask for when read. OpenSSL writes 2048 by default.
    public static let maximumIterations: UInt64 = 10_000_000

    /// Encrypts `key` under `passphrase` and returns the PEM text.
    /// - Throws: ``CryptoError`` if OpenSSL fails or the parameters are out of range.
    public static func encode(
        _ key: PrivateKey, passphrase: SecretBytes, parameters: ScryptParameters = .default
    ) throws -> String {
        let info = try PKCS8Codec.privateKeyInfo(of: key.evpKey)
        let salt = try SecureRandom.bytes(16)
        let iv = try SecureRandom.bytes(16)
        let derived = try Scrypt.deriveKey(
            password: passphrase, salt: salt, n: parameters.n, r: parameters.r, p: parameters.p, length: 32)
        let encrypted = try info.withUnsafeBytes { (raw) throws in
            try PKCS8Codec.aesCBC(encrypt: true, key: derived, iv: iv, input: raw)
        }
        let scryptParams = DER.sequence([
            DER.octetString(salt), DER.integer(parameters.n), DER.integer(UInt64(parameters.r)),
            DER.integer(UInt64(parameters.p)),
        ])
        let algorithm = DER.sequence([
            DER.oid(pbes2OID),
            DER.sequence([
                DER.sequence([DER.oid(scryptOID), scryptParams]),
                DER.sequence([DER.oid(aes256CBCOID), DER.octetString(iv)]),
            ]),
        ])
        let der = DER.sequence([algorithm, DER.octetString(encrypted.unprotectedArray)])
        return PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: der)
    }

    /// Reads a private key file.
    /// - Parameters:
    ///   - pem: the file's text.
    ///   - passphrase: needed for `ENCRYPTED PRIVATE KEY` files.
    /// - Throws: ``CryptoError/wrongPassphrase`` when the passphrase does not decrypt the key;
    ///   ``CryptoError/malformed(what:reason:)`` for a corrupt or truncated file;
    ///   ``CryptoError/parameterOutOfRange(_:)`` when the file asks for more than 2^22 scrypt work.
    public static func decode(pem: String, passphrase: SecretBytes?) throws -> PrivateKey {
        var (label, der) = try PEM.decode(pem)
        defer { wipe(&der) }
        switch label {
        case "PRIVATE KEY":
            let secret = SecretBytes(der)
            return try PrivateKey(
                secret.withUnsafeBytes { (raw) throws in try PKCS8Codec.key(fromPrivateKeyInfo: raw) })
        case "ENCRYPTED PRIVATE KEY":
            guard let passphrase else { throw CryptoError.wrongPassphrase }
            return try decrypt(der: der, passphrase: passphrase)
        default:
            throw CryptoError.malformed(what: "private key file", reason: "PEM label '\(label)' is not a private key")
        }
    }

    static func decrypt(der: [UInt8], passphrase: SecretBytes) throws -> PrivateKey {
        let what = "encrypted private key"
        var outer = DER.Reader(der[...])
        var top = try outer.readSequence(what: what)
        try outer.expectEnd(what: what)
        var algorithm = try top.readSequence(what: what)
        let encrypted = try top.read(DER.Tag.octetString.rawValue, what: what)
        try top.expectEnd(what: what)
        let algorithmOID = try algorithm.read(DER.Tag.objectIdentifier.rawValue, what: what)
        guard Array(algorithmOID) == pbes2OID else {
            // PBES1 and PKCS#12 schemes: parameters are SEQUENCE { salt OCTET STRING, iterations INTEGER }. Bound the
            // iteration count, then let OpenSSL's PKCS#8 code decide.
            var legacy = try algorithm.readSequence(what: what)
            try algorithm.expectEnd(what: what)
            _ = try legacy.read(DER.Tag.octetString.rawValue, what: what)
            try checkIterations(try legacy.readInteger(what: what))
            try legacy.expectEnd(what: what)
            return try PrivateKey(
                typed {
                    try der.withUnsafeBytes { (raw) throws in
                        try PKCS8Codec.decryptWithOpenSSL(encryptedDER: raw, passphrase: passphrase)
                    }
                })
        }
        var pbes2 = try algorithm.readSequence(what: what)
        try algorithm.expectEnd(what: what)
        var kdf = try pbes2.readSequence(what: what)
        var scheme = try pbes2.readSequence(what: what)
        try pbes2.expectEnd(what: what)
        let kdfOID = try kdf.read(DER.Tag.objectIdentifier.rawValue, what: what)
        guard Array(kdfOID) == scryptOID else {
            guard Array(kdfOID) == pbkdf2OID else {
                throw CryptoError.malformed(
                    what: what, reason: "unsupported key-derivation function (scrypt or PBKDF2 expected)")
            }
            // PBES2 with PBKDF2 (OpenSSL's default): bound the iteration count, then OpenSSL's own code handles it.
            var pbkdf2 = try kdf.readSequence(what: what)
            try kdf.expectEnd(what: what)
            _ = try pbkdf2.read(DER.Tag.octetString.rawValue, what: what)
            try checkIterations(try pbkdf2.readInteger(what: what))
            return try PrivateKey(
                typed {
                    try der.withUnsafeBytes { (raw) throws in
                        try PKCS8Codec.decryptWithOpenSSL(encryptedDER: raw, passphrase: passphrase)
                    }
                })
        }
        var params = try kdf.readSequence(what: what)
        try kdf.expectEnd(what: what)
        let salt = Array(try params.read(DER.Tag.octetString.rawValue, what: what))
        let n = try params.readInteger(what: what)
        let r = try params.readInteger(what: what)
        let p = try params.readInteger(what: what)
        var keyLength: UInt64? = nil
        if !params.isAtEnd { keyLength = try params.readInteger(what: what) }
        try params.expectEnd(what: what)
        guard salt.count >= 8, salt.count <= 64 else {
            throw CryptoError.malformed(what: what, reason: "scrypt salt length")
        }
        guard r <= UInt64(UInt32.max), p <= UInt64(UInt32.max) else {
            throw CryptoError.parameterOutOfRange("scrypt r = \(r), p = \(p)")
        }
        let (nr, overflow1) = n.multipliedReportingOverflow(by: r)
        let (work, overflow2) = nr.multipliedReportingOverflow(by: p)
        guard !overflow1, !overflow2, work <= maximumScryptWork else {
            throw CryptoError.parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")
        }
        let schemeOID = Array(try scheme.read(DER.Tag.objectIdentifier.rawValue, what: what))
        let iv = Array(try scheme.read(DER.Tag.octetString.rawValue, what: what))
        try scheme.expectEnd(what: what)
        let cipherKeyLength: Int
        switch schemeOID {
        case aes256CBCOID: cipherKeyLength = 32
        case aes128CBCOID: cipherKeyLength = 16
        default:
            throw CryptoError.malformed(what: what, reason: "unsupported cipher (AES-128-CBC or AES-256-CBC expected)")
        }
        if let keyLength, keyLength != UInt64(cipherKeyLength) {
            throw CryptoError.malformed(what: what, reason: "keyLength does not match the cipher")
        }
        guard iv.count == 16 else { throw CryptoError.malformed(what: what, reason: "IV must be 16 bytes") }
        let derived = try Scrypt.deriveKey(
            password: passphrase, salt: salt, n: n, r: UInt32(r), p: UInt32(p), length: cipherKeyLength)
        let plaintext = try typed {
            try Array(encrypted).withUnsafeBytes { (raw) throws in
                try PKCS8Codec.aesCBC(encrypt: false, key: derived, iv: iv, input: raw)
            }
        }
        let key: PrivateKey
        do {
            key = try PrivateKey(
                plaintext.withUnsafeBytes { (raw) throws in try PKCS8Codec.key(fromPrivateKeyInfo: raw) })
        } catch CryptoError.malformed {
            // Padding happened to be valid under a wrong key (probability about 1/256): still the wrong passphrase.
            throw CryptoError.wrongPassphrase
        }
        // CBC is malleable: a flipped IV bit changes the first plaintext block without breaking the padding, and
        // OpenSSL's parser tolerates some such changes (e.g. the version number). Accept only the exact canonical
        // encoding of the key we parsed.
        guard try PKCS8Codec.privateKeyInfo(of: key.evpKey) == plaintext else {
            throw CryptoError.malformed(what: what, reason: "the decrypted key is not in canonical form (tampered?)")
        }
        return key
    }

    static func checkIterations(_ iterations: UInt64) throws {
        guard iterations >= 1, iterations <= maximumIterations else {
            throw CryptoError.parameterOutOfRange("key file iteration count \(iterations) (1 … \(maximumIterations))")
        }
    }
}
