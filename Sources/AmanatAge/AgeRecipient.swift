import AmanatCrypto

/// Something a file can be encrypted to: wraps the file key into one or more recipient stanzas.
public protocol AgeRecipient: Sendable {
    /// Wraps the 16-byte `fileKey` into stanzas for this recipient.
    /// - Throws: ``AgeError`` or ``AmanatCrypto/CryptoError``.
    func wrap(fileKey: SecretBytes) throws -> [AgeStanza]

    /// Whether this recipient's stanza must be the only one in the header (true for passphrases).
    var requiresSoleStanza: Bool { get }
}

extension AgeRecipient {
    public var requiresSoleStanza: Bool { false }
}

/// Something that can open files: unwraps the file key from the stanza addressed to it.
public protocol AgeIdentity: Sendable {
    /// Looks through all of the header's stanzas and returns the 16-byte file key if one of them is for this
    /// identity, nil if none is. Stanzas of other types are ignored.
    /// - Throws: ``AgeError/header(_:)`` (or ``AgeError/scryptWorkFactorTooHigh(workFactor:maximum:)``) when a stanza
    ///   of this identity's type is malformed; such a file is refused outright.
    func unwrap(stanzas: [AgeStanza]) throws -> SecretBytes?
}

enum AgeWrap {
    static let fileKeySize = 16

    /// ChaCha20-Poly1305 of the file key under `key` with the all-zero nonce.
    static func seal(fileKey: SecretBytes, key: SecretBytes) throws -> [UInt8] {
        try fileKey.withUnsafeBytes { try ChaChaPoly.seal(key: key, nonce: .zero, plaintext: $0) }
    }

    /// The file key from a 32-byte body, or nil if it does not authenticate under `key`.
    static func open(body: [UInt8], key: SecretBytes) throws -> SecretBytes? {
        let cipher = try ChaChaPoly.Cipher(key: key)
        var fileKey = SecretBytes(zeroes: fileKeySize)
        do {
            try body.withUnsafeBytes { input in
                try fileKey.withUnsafeMutableBytes { output in
                    try cipher.open(nonce: .zero, input: input, output: output)
                }
            }
        } catch CryptoError.authenticationFailed {
            return nil
        }
        return fileKey
    }
}

// MARK: - X25519

/// An X25519 recipient (`age1…`).
public struct X25519AgeRecipient: AgeRecipient {
    /// The recipient's public key.
    public let publicKey: X25519.PublicKey

    public init(publicKey: X25519.PublicKey) { self.publicKey = publicKey }

    /// Parses an `age1…` recipient string.
    /// - Throws: ``AgeError/invalidKey(_:)``.
    public init(_ recipient: String) throws {
        do {
            publicKey = try AgeKeyEncoding.publicKey(recipient: recipient.trimmingWhitespace())
        } catch {
            throw AgeError.invalidKey("not a valid age1… X25519 recipient")
        }
    }

    /// The `age1…` encoding.
    public var stringValue: String { AgeKeyEncoding.recipient(publicKey) }

    static let info = Array("age-encryption.org/v1/X25519".utf8)

    public func wrap(fileKey: SecretBytes) throws -> [AgeStanza] {
        let ephemeral = try X25519.PrivateKey.generate()
        let share = ephemeral.publicKey.rawRepresentation
        let shared = try ephemeral.sharedSecret(with: publicKey)
        let wrapKey = try HKDF.deriveKey(
            inputKeyMaterial: shared, salt: share + publicKey.rawRepresentation, info: Self.info, outputByteCount: 32)
        let body = try AgeWrap.seal(fileKey: fileKey, key: wrapKey)
        return [AgeStanza(type: "X25519", arguments: [AgeBase64.encodeUnpadded(share)], body: body)]
    }
}

/// An X25519 identity (`AGE-SECRET-KEY-1…`).
public struct X25519AgeIdentity: AgeIdentity {
    /// The private key.
    public let privateKey: X25519.PrivateKey
    private let publicKeyBytes: [UInt8]

    public init(privateKey: X25519.PrivateKey) {
        self.privateKey = privateKey
        publicKeyBytes = privateKey.publicKey.rawRepresentation
    }

    /// Parses an `AGE-SECRET-KEY-1…` identity string.
    /// - Throws: ``AgeError/invalidKey(_:)``.
    public init(secretKey: String) throws {
        do {
            self.init(privateKey: try AgeKeyEncoding.privateKey(secretKey: secretKey.trimmingWhitespace()))
        } catch {
            throw AgeError.invalidKey("not a valid AGE-SECRET-KEY-1… identity")
        }
    }

    /// The matching recipient.
    public var recipient: X25519AgeRecipient { X25519AgeRecipient(publicKey: privateKey.publicKey) }

    public func unwrap(stanzas: [AgeStanza]) throws -> SecretBytes? {
        for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 1 else {
                throw AgeError.header("an X25519 stanza must have exactly one argument")
            }
            guard let share = AgeBase64.decodeUnpadded(Array(stanza.arguments[0].utf8)), share.count == 32 else {
                throw AgeError.header("an X25519 stanza's share is not canonical base64 of 32 bytes")
            }
            guard stanza.body.count == 32 else { throw AgeError.header("an X25519 stanza's body is not 32 bytes") }
            let shared: SecretBytes
            do {
                shared = try privateKey.sharedSecret(with: try X25519.PublicKey(rawRepresentation: share))
            } catch CryptoError.zeroSharedSecret {
                throw AgeError.header("an X25519 stanza's share is a low-order point")
            }
            let wrapKey = try HKDF.deriveKey(
                inputKeyMaterial: shared, salt: share + publicKeyBytes, info: X25519AgeRecipient.info,
                outputByteCount: 32)
            if let fileKey = try AgeWrap.open(body: stanza.body, key: wrapKey) { return fileKey }
        }
        return nil
    }
}

// MARK: - scrypt

/// A passphrase recipient: the file key wrapped with scrypt(passphrase). Its stanza must be the only one.
public struct ScryptAgeRecipient: AgeRecipient {
    private let passphrase: SecretBytes
    /// log2 of the scrypt work factor N.
    public let workFactor: Int

    /// - Parameters:
    ///   - passphrase: the passphrase bytes (UTF-8).
    ///   - workFactor: log2 of N, 1…``Scrypt/maximumLogN`` (age's default is 18, about a second).
    /// - Throws: ``AgeError/invalidUse(_:)`` for an empty passphrase or a work factor out of range.
    public init(passphrase: SecretBytes, workFactor: Int = 18) throws {
        guard passphrase.count > 0 else { throw AgeError.invalidUse("empty passphrase") }
        guard (1...Scrypt.maximumLogN).contains(workFactor) else {
            throw AgeError.invalidUse("scrypt work factor must be 1…\(Scrypt.maximumLogN), got \(workFactor)")
        }
        self.passphrase = passphrase
        self.workFactor = workFactor
    }

    public var requiresSoleStanza: Bool { true }

    static let saltLabel = Array("age-encryption.org/v1/scrypt".utf8)

    static func wrapKey(passphrase: SecretBytes, salt: [UInt8], workFactor: Int) throws -> SecretBytes {
        try Scrypt.deriveKey(
            password: passphrase, salt: saltLabel + salt, n: 1 << UInt64(workFactor), r: 8, p: 1, length: 32)
    }

    public func wrap(fileKey: SecretBytes) throws -> [AgeStanza] {
        let salt = try SecureRandom.bytes(16)
        let key = try Self.wrapKey(passphrase: passphrase, salt: salt, workFactor: workFactor)
        let body = try AgeWrap.seal(fileKey: fileKey, key: key)
        return [AgeStanza(type: "scrypt", arguments: [AgeBase64.encodeUnpadded(salt), String(workFactor)], body: body)]
    }
}

/// A passphrase identity.
public struct ScryptAgeIdentity: AgeIdentity {
    private let passphrase: SecretBytes
    /// The largest log2 work factor this identity will compute; a file asking for more is refused.
    public let maxWorkFactor: Int

    /// - Parameters:
    ///   - passphrase: the passphrase bytes (UTF-8).
    ///   - maxWorkFactor: the largest accepted log2 work factor, at most ``Scrypt/maximumLogN`` (2^22, 4 GiB).
    public init(passphrase: SecretBytes, maxWorkFactor: Int = Scrypt.maximumLogN) {
        self.passphrase = passphrase
        self.maxWorkFactor = min(maxWorkFactor, Scrypt.maximumLogN)
    }

    public func unwrap(stanzas: [AgeStanza]) throws -> SecretBytes? {
        for stanza in stanzas where stanza.type == "scrypt" {
            guard stanzas.count == 1 else {
                throw AgeError.header("an scrypt stanza must be the only stanza in the header")
            }
            guard stanza.arguments.count == 2 else { throw AgeError.header("an scrypt stanza must have two arguments") }
            guard let salt = AgeBase64.decodeUnpadded(Array(stanza.arguments[0].utf8)), salt.count == 16 else {
                throw AgeError.header("an scrypt stanza's salt is not canonical base64 of 16 bytes")
            }
            let digits = Array(stanza.arguments[1].utf8)
            guard let first = digits.first, (0x31...0x39).contains(first),
                digits.allSatisfy({ (0x30...0x39).contains($0) })
            else { throw AgeError.header("an scrypt stanza's work factor is not a decimal number") }
            guard digits.count <= 2, let workFactor = Int(stanza.arguments[1]), workFactor <= 30 else {
                throw AgeError.header("an scrypt stanza's work factor is out of range")
            }
            guard workFactor <= maxWorkFactor else {
                throw AgeError.scryptWorkFactorTooHigh(workFactor: workFactor, maximum: maxWorkFactor)
            }
            guard stanza.body.count == 32 else { throw AgeError.header("an scrypt stanza's body is not 32 bytes") }
            let key = try ScryptAgeRecipient.wrapKey(passphrase: passphrase, salt: salt, workFactor: workFactor)
            if let fileKey = try AgeWrap.open(body: stanza.body, key: key) { return fileKey }
        }
        return nil
    }
}

// MARK: - Key files

/// Reading the text files age uses for keys.
public enum AgeKeyFile {
    /// Parses an identity file as `age-keygen` writes it: `AGE-SECRET-KEY-1…` lines, `#` comments and blank lines.
    /// - Throws: ``AgeError/invalidKey(_:)`` naming the line number of a bad line, or when there is no identity.
    public static func identities(_ text: String) throws -> [X25519AgeIdentity] {
        var result: [X25519AgeIdentity] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = String(line).trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                result.append(try X25519AgeIdentity(secretKey: trimmed))
            } catch {
                throw AgeError.invalidKey("line \(number + 1) is not an AGE-SECRET-KEY-1… identity")
            }
        }
        guard !result.isEmpty else { throw AgeError.invalidKey("no identity in the file") }
        return result
    }

    /// Parses a recipients file: `age1…` lines, `#` comments and blank lines.
    /// - Throws: ``AgeError/invalidKey(_:)`` naming the line number of a bad line, or when there is no recipient.
    public static func recipients(_ text: String) throws -> [X25519AgeRecipient] {
        var result: [X25519AgeRecipient] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = String(line).trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                result.append(try X25519AgeRecipient(trimmed))
            } catch {
                throw AgeError.invalidKey("line \(number + 1) is not an age1… recipient")
            }
        }
        guard !result.isEmpty else { throw AgeError.invalidKey("no recipient in the file") }
        return result
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
