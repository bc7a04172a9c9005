import AmanatCrypto
import Foundation

/// One signature line of a signed note: `— <name> base64(keyID || signature)`.
public struct NoteSignature: Sendable, Hashable {
    /// The key name.
    public let name: String
    /// The 32-bit key ID (first four bytes of the decoded signature, big-endian).
    public let keyID: UInt32
    /// The signature bytes after the key ID (64 for Ed25519, 72 for an Ed25519 cosignature).
    public let signature: [UInt8]

    /// A signature line.
    /// - Throws: ``LogError/invalidKeyName``; ``LogError/malformedNote(reason:)`` for an empty signature.
    public init(name: String, keyID: UInt32, signature: [UInt8]) throws {
        guard NoteText.isValidKeyName(name) else { throw LogError.invalidKeyName }
        guard !signature.isEmpty else { throw LogError.malformedNote(reason: "empty signature") }
        guard signature.count <= SignedNote.maxSignatureBytes else {
            throw LogError.tooLarge(what: "signature", limit: SignedNote.maxSignatureBytes)
        }
        self.name = name
        self.keyID = keyID
        self.signature = signature
    }

    /// The line as it appears in the note, with its final newline.
    public var line: String {
        let id: [UInt8] = [
            UInt8(keyID >> 24), UInt8(keyID >> 16 & 0xFF), UInt8(keyID >> 8 & 0xFF), UInt8(keyID & 0xFF),
        ]
        return "\u{2014} " + name + " " + NoteText.base64(id + signature) + "\n"
    }
}

/// A C2SP signed note: a text ending in a newline, a blank line, and one or more signature lines.
///
/// Parsing checks the format only; ``NoteVerifier`` checks signatures. Unknown signatures are kept (and written
/// back), as the spec requires clients to ignore, not drop, them.
public struct SignedNote: Sendable, Hashable {
    /// The largest note accepted, in bytes (room for many post-quantum signatures).
    public static let maxBytes = 128 * 1024
    /// The most signature lines accepted (the spec requires at least 16).
    public static let maxSignatures = 64
    /// The largest decoded signature accepted (an ML-DSA-44 cosignature is 2428 bytes).
    public static let maxSignatureBytes = 8192

    /// The note text, ending in a newline (for a checkpoint, its ``Checkpoint/body``).
    public let text: String
    /// The signatures, in order.
    public let signatures: [NoteSignature]

    /// A note with these signatures.
    /// - Throws: ``LogError/malformedNote(reason:)`` if the text does not end in a newline, contains a control
    ///   character, or there is no signature; ``LogError/tooLarge(what:limit:)``.
    public init(text: String, signatures: [NoteSignature]) throws {
        try Self.checkText(text)
        guard !signatures.isEmpty else { throw LogError.malformedNote(reason: "no signature") }
        guard signatures.count <= Self.maxSignatures else {
            throw LogError.tooLarge(what: "number of note signatures", limit: Self.maxSignatures)
        }
        self.text = text
        self.signatures = signatures
        guard serializedCount <= Self.maxBytes else {
            throw LogError.tooLarge(what: "signed note", limit: Self.maxBytes)
        }
    }

    static func checkText(_ text: String) throws(LogError) {
        guard text.utf8.count < maxBytes else { throw LogError.tooLarge(what: "note text", limit: maxBytes) }
        guard text.utf8.last == 0x0A else { throw LogError.malformedNote(reason: "text does not end in a newline") }
        guard NoteText.isNoteText(text.utf8) else {
            throw LogError.malformedNote(reason: "control character in the text")
        }
    }

    /// Parses a signed note.
    /// - Throws: ``LogError/malformedNote(reason:)`` unless the bytes are UTF-8 without control characters other
    ///   than newline, with a text ending in a newline, a blank line, and signature lines each of the form
    ///   `— name base64` with a valid key name and canonical padded base64 of at least 5 bytes;
    ///   ``LogError/tooLarge(what:limit:)`` over ``maxBytes`` or ``maxSignatures``.
    public init(parsing bytes: some ContiguousBytes) throws {
        let raw = bytes.withUnsafeBytes { Array($0) }
        guard raw.count <= Self.maxBytes else { throw LogError.tooLarge(what: "signed note", limit: Self.maxBytes) }
        guard NoteText.isNoteText(raw) else {
            throw LogError.malformedNote(reason: "not UTF-8, or a control character other than newline")
        }
        // The text ends at the last blank line: the last "\n\n" separates it from the signatures.
        var split: Int? = nil
        var i = raw.count - 2
        while i >= 0 {
            if raw[i] == 0x0A && raw[i + 1] == 0x0A {
                split = i
                break
            }
            i -= 1
        }
        guard let split else { throw LogError.malformedNote(reason: "no blank line before the signatures") }
        let block = raw[(split + 2)...]
        guard !block.isEmpty, block.last == 0x0A else {
            throw LogError.malformedNote(reason: "no signature, or the last line does not end in a newline")
        }
        var signatures: [NoteSignature] = []
        for line in block.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard signatures.count < Self.maxSignatures else {
                throw LogError.tooLarge(what: "number of note signatures", limit: Self.maxSignatures)
            }
            signatures.append(try Self.parseSignature(line))
        }
        // Already validated as UTF-8 above.
        text = String(decoding: raw[...split], as: UTF8.self)
        self.signatures = signatures
    }

    private static let dashSpace: [UInt8] = [0xE2, 0x80, 0x94, 0x20]

    private static func parseSignature(_ line: ArraySlice<UInt8>) throws -> NoteSignature {
        guard line.starts(with: dashSpace) else {
            throw LogError.malformedNote(reason: "a signature line does not start with an em dash and a space")
        }
        let rest = line.dropFirst(dashSpace.count)
        guard let space = rest.firstIndex(of: 0x20) else {
            throw LogError.malformedNote(reason: "a signature line has no space after the key name")
        }
        let name = String(decoding: rest[..<space], as: UTF8.self)
        guard NoteText.isValidKeyName(name) else { throw LogError.invalidKeyName }
        let encoded = Substring(String(decoding: rest[(space + 1)...], as: UTF8.self))
        guard let decoded = NoteText.decodeBase64(encoded.utf8), decoded.count >= 5 else {
            throw LogError.malformedNote(reason: "a signature is not canonical base64 of at least 5 bytes")
        }
        let keyID = decoded.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return try NoteSignature(name: name, keyID: keyID, signature: Array(decoded[4...]))
    }

    /// The note as bytes: the text, a blank line, the signature lines.
    public var serialized: [UInt8] {
        var out = Array(text.utf8)
        out.append(0x0A)
        for signature in signatures { out += Array(signature.line.utf8) }
        return out
    }

    private var serializedCount: Int {
        text.utf8.count + 1 + signatures.reduce(0) { $0 + $1.line.utf8.count }
    }

    /// The signatures with this exact name and key ID.
    public func signatures(name: String, keyID: UInt32) -> [NoteSignature] {
        signatures.filter { $0.keyID == keyID && NoteText.same($0.name, name) }
    }

    /// This note with `signature` added at the end; a signature with the same name and key ID is replaced.
    /// - Throws: ``LogError/tooLarge(what:limit:)`` over the limits.
    public func adding(_ signature: NoteSignature) throws -> SignedNote {
        let kept = signatures.filter { !($0.keyID == signature.keyID && NoteText.same($0.name, signature.name)) }
        return try SignedNote(text: text, signatures: kept + [signature])
    }
}

/// The 4-byte key ID of the signed-note spec: SHA-256(name || 0x0A || type || public key)[:4], big-endian.
func noteKeyID(name: String, type: UInt8, publicKey: [UInt8]) throws -> UInt32 {
    let digest = try SHA256.hash(Array(name.utf8) + [0x0A, type] + publicKey)
    return digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

/// Signs note texts with an Ed25519 key under a key name (C2SP signed-note signature type 0x01).
public struct NoteSigner: Sendable {
    /// The key name written in signature lines (for a log, its origin).
    public let name: String
    /// The key ID.
    public let keyID: UInt32
    private let key: Ed25519.SigningKey

    /// A signer for `key` under `name`.
    /// - Throws: ``LogError/invalidKeyName``; a `CryptoError` if OpenSSL fails.
    public init(name: String, key: Ed25519.SigningKey) throws {
        guard NoteText.isValidKeyName(name) else { throw LogError.invalidKeyName }
        self.name = name
        self.key = key
        keyID = try noteKeyID(
            name: name, type: NoteVerifier.Algorithm.ed25519.rawValue, publicKey: key.publicKey.rawRepresentation)
    }

    /// The verifier for this signer's signatures.
    public var verifier: NoteVerifier {
        // The name was checked by init, and the key is an Ed25519 key: this cannot fail short of OpenSSL failing.
        NoteVerifier(name: name, keyID: keyID, publicKey: key.publicKey, algorithm: .ed25519)
    }

    /// The signature line for `text`.
    /// - Throws: ``LogError/malformedNote(reason:)`` if `text` is not a valid note text; a `CryptoError`.
    public func signature(for text: String) throws -> NoteSignature {
        try SignedNote.checkText(text)
        return try NoteSignature(name: name, keyID: keyID, signature: key.signature(for: Array(text.utf8)))
    }

    /// A note of `text` signed by this key alone.
    /// - Throws: as ``signature(for:)``.
    public func sign(text: String) throws -> SignedNote {
        try SignedNote(text: text, signatures: [signature(for: text)])
    }

    /// `note` with this key's signature added (or replacing an earlier one by the same key).
    /// - Throws: as ``signature(for:)``.
    public func sign(_ note: SignedNote) throws -> SignedNote {
        try note.adding(signature(for: note.text))
    }
}

/// Verifies note signatures by one key: a name, a key ID and an Ed25519 public key, with the signature type of
/// ordinary note signatures (0x01) or of C2SP Ed25519 cosignatures (0x04).
public struct NoteVerifier: Sendable, Hashable {
    /// The signature types this verifier knows.
    public enum Algorithm: UInt8, Sendable {
        /// Ed25519 over the note text (signed-note 0x01).
        case ed25519 = 1
        /// Timestamped Ed25519 checkpoint cosignature, `cosignature/v1` (tlog-cosignature 0x04).
        case cosignatureV1 = 4
    }

    /// The key name.
    public let name: String
    /// The key ID.
    public let keyID: UInt32
    /// The Ed25519 public key.
    public let publicKey: Ed25519.VerifyingKey
    /// The signature type.
    public let algorithm: Algorithm

    init(name: String, keyID: UInt32, publicKey: Ed25519.VerifyingKey, algorithm: Algorithm) {
        self.name = name
        self.keyID = keyID
        self.publicKey = publicKey
        self.algorithm = algorithm
    }

    /// A verifier for `publicKey` under `name`.
    /// - Throws: ``LogError/invalidKeyName``; a `CryptoError` if OpenSSL fails.
    public init(name: String, publicKey: Ed25519.VerifyingKey, algorithm: Algorithm = .ed25519) throws {
        guard NoteText.isValidKeyName(name) else { throw LogError.invalidKeyName }
        self.init(
            name: name,
            keyID: try noteKeyID(name: name, type: algorithm.rawValue, publicKey: publicKey.rawRepresentation),
            publicKey: publicKey, algorithm: algorithm)
    }

    /// Parses a verifier key, `<name>+<hex8 key ID>+<base64(type || public key)>` (Go's `vkey` format), of type
    /// 0x01 or 0x04.
    /// - Throws: ``LogError/malformedVerifierKey(reason:)`` for any other shape, an unknown type, or a key ID that
    ///   does not match the name and key.
    public init(verifierKey: String) throws {
        guard verifierKey.utf8.count <= 2048 else { throw LogError.tooLarge(what: "verifier key", limit: 2048) }
        let parts = verifierKey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw LogError.malformedVerifierKey(reason: "not name+id+key") }
        let name = String(parts[0])
        guard NoteText.isValidKeyName(name) else { throw LogError.malformedVerifierKey(reason: "invalid key name") }
        let hex = parts[1].utf8
        guard hex.count == 8, hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
            let id = UInt32(parts[1], radix: 16)
        else { throw LogError.malformedVerifierKey(reason: "the key ID is not 8 lower-case hex digits") }
        guard let key = NoteText.decodeBase64(parts[2].utf8), key.count == 33 else {
            throw LogError.malformedVerifierKey(reason: "the key is not base64 of a type byte and 32 bytes")
        }
        guard let algorithm = Algorithm(rawValue: key[0]) else {
            throw LogError.malformedVerifierKey(reason: "unknown signature type \(key[0])")
        }
        let publicKey: Ed25519.VerifyingKey
        do {
            publicKey = try Ed25519.VerifyingKey(rawRepresentation: Array(key[1...]))
        } catch {
            throw LogError.malformedVerifierKey(reason: "not an Ed25519 public key")
        }
        guard try noteKeyID(name: name, type: key[0], publicKey: publicKey.rawRepresentation) == id else {
            throw LogError.malformedVerifierKey(reason: "the key ID does not match the name and key")
        }
        self.init(name: name, keyID: id, publicKey: publicKey, algorithm: algorithm)
    }

    /// The verifier key text, `<name>+<hex8>+<base64(type || key)>`.
    public var verifierKey: String {
        let hex = String(keyID, radix: 16)
        return name + "+" + String(repeating: "0", count: 8 - hex.count) + hex + "+"
            + NoteText.base64([algorithm.rawValue] + publicKey.rawRepresentation)
    }

    /// Checks `note` as the signed-note spec says: every signature with this name and key ID must verify, and
    /// there must be at least one. Other signatures are ignored.
    /// - Throws: ``LogError/notSignedByKey(name:)``, ``LogError/badSignature(name:)``.
    public func check(_ note: SignedNote) throws {
        let matching = note.signatures(name: name, keyID: keyID)
        guard !matching.isEmpty else { throw LogError.notSignedByKey(name: name) }
        for signature in matching where !isValid(signature, text: note.text) {
            throw LogError.badSignature(name: name)
        }
    }

    /// Whether ``check(_:)`` accepts `note`.
    public func verify(_ note: SignedNote) -> Bool { (try? check(note)) != nil }

    func isValid(_ signature: NoteSignature, text: String) -> Bool {
        switch algorithm {
        case .ed25519:
            return signature.signature.count == 64
                && publicKey.isValidSignature(signature.signature, for: Array(text.utf8))
        case .cosignatureV1:
            return Cosignature.timestamp(of: signature, text: text, publicKey: publicKey) != nil
        }
    }
}
