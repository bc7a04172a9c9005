import Foundation

/// The fingerprint of an organization: SHA-256 of its raw Ed25519 public key, the first 160 bits in base32,
/// in eight groups of four (e.g. `4KQ7-M2XA-…`) so two people can compare it over the phone.
public enum Fingerprint {
    /// The number of base32 characters (160 bits).
    public static let characterCount = 32

    public static func of(_ key: Ed25519.VerifyingKey) -> String {
        let digest = (try? SHA256.hash(key.rawRepresentation)) ?? []
        let text = Array(Base32.encode(Array(digest.prefix(20))))
        return stride(from: 0, to: characterCount, by: 4).map { String(text[$0..<($0 + 4)]) }.joined(separator: "-")
    }

    /// Normalizes what a person typed (lowercase, spaces, missing hyphens) to the canonical grouped form, if it is
    /// a complete fingerprint.
    public static func normalize(_ text: String) -> String? {
        // Work on ASCII bytes: any non-ASCII scalar (including combining marks) makes the input invalid.
        var array: [UInt8] = []
        for scalar in text.unicodeScalars where scalar != "-" && scalar != " " {
            guard scalar.isASCII else { return nil }
            var byte = UInt8(scalar.value)
            if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { byte -= 32 }
            guard Base32.alphabet.contains(byte) else { return nil }
            array.append(byte)
        }
        guard array.count == characterCount else { return nil }
        let text = String(decoding: array, as: UTF8.self)
        return stride(from: 0, to: characterCount, by: 4).map {
            String(text[text.index(text.startIndex, offsetBy: $0)..<text.index(text.startIndex, offsetBy: $0 + 4)])
        }.joined(separator: "-")
    }
}

/// age recipients and identities for X25519 keys, exactly as age encodes them.
public enum AgeKeyEncoding {
    /// `age1…` (lowercase Bech32, HRP `age`).
    public static func recipient(_ key: X25519.PublicKey) -> String {
        Bech32.encode(hrp: "age", data: key.rawRepresentation)
    }

    /// Parses an `age1…` recipient.
    public static func publicKey(recipient: String) throws -> X25519.PublicKey {
        guard recipient.hasPrefix("age1"), let (hrp, data) = Bech32.decode(recipient), hrp == "age", data.count == 32
        else { throw CryptoError.malformed(what: "age recipient", reason: "not a valid age1… X25519 recipient") }
        return try X25519.PublicKey(rawRepresentation: data)
    }

    /// `AGE-SECRET-KEY-1…` (uppercase Bech32, HRP `age-secret-key-`). - Important: this is the private key in the
    /// clear; write it only where the user asked for it, with mode 0600.
    public static func secretKey(_ key: X25519.PrivateKey) throws -> SecretBytes {
        let raw = try key.rawRepresentation()
        var bytes = raw.unprotectedArray
        defer { wipe(&bytes) }
        var text = Array(Bech32.encode(hrp: "age-secret-key-", data: bytes).uppercased().utf8)
        defer { wipe(&text) }
        return SecretBytes(text)
    }

    /// Parses an `AGE-SECRET-KEY-1…` identity.
    public static func privateKey(secretKey text: String) throws -> X25519.PrivateKey {
        guard text.hasPrefix("AGE-SECRET-KEY-1"), let (hrp, data) = Bech32.decode(text), hrp == "age-secret-key-",
            data.count == 32
        else { throw CryptoError.malformed(what: "age identity", reason: "not a valid AGE-SECRET-KEY-1… identity") }
        return try X25519.PrivateKey(rawRepresentation: SecretBytes(data))
    }
}

/// An organization's public identity: what partners put on their trust list.
///
/// JSON (members sorted): `{"ageRecipient", "binding", "fingerprint", "organization", "signingKey", "type"}`.
/// `binding` is an Ed25519 signature, by `signingKey`, over ``bindingMessage(organization:signingKey:ageRecipient:)``: it ties the sealing key and the name
/// to the signing key, so a file that pairs one organization's JWK with another's age recipient is refused.
public struct PublicIdentity: Codable, Sendable, Equatable {
    public static let typeName = "amanat-public-identity/v1"

    public var type: String
    public var organization: String
    public var signingKey: JWK
    public var ageRecipient: String
    public var fingerprint: String
    public var binding: String

    /// The exact bytes the binding signature covers.
    public static func bindingMessage(organization: String, signingKey: JWK, ageRecipient: String) -> [UInt8] {
        Array("\(typeName)\n\(organization)\n\(signingKey.thumbprintInput)\n\(ageRecipient)".utf8)
    }

    /// Builds and self-signs the public identity of an organization.
    public init(organization: String, signingKey: Ed25519.SigningKey, sealingKey: X25519.PublicKey) throws {
        type = Self.typeName
        self.organization = organization
        self.signingKey = signingKey.publicKey.jwk
        ageRecipient = AgeKeyEncoding.recipient(sealingKey)
        fingerprint = Fingerprint.of(signingKey.publicKey)
        let message = Self.bindingMessage(
            organization: organization, signingKey: self.signingKey, ageRecipient: ageRecipient)
        binding = Base64URL.encode(try signingKey.signature(for: message))
    }

    /// Problems a received public identity can have.
    public enum ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongType(String)
        case emptyOrganization
        case badSigningKey(String)
        case badAgeRecipient
        case fingerprintMismatch(stated: String, actual: String)
        case bindingInvalid
        /// A key under which signatures or key agreement prove nothing (a small-order Ed25519 point, under which
        /// a "universal" signature verifies for many messages, or a low-order X25519 point).
        case weakKey(String)

        public var description: String {
            switch self {
            case .weakKey(let which):
                return "the \(which) is a small-order point: signatures or key agreement under it prove nothing"
            case .wrongType(let t): return "it is not an Amanat public identity (type '\(t)')"
            case .emptyOrganization: return "the organization name is empty"
            case .badSigningKey(let why): return "the signing key is not a valid Ed25519 JWK (\(why))"
            case .badAgeRecipient: return "the ageRecipient is not a valid age1… X25519 recipient"
            case .fingerprintMismatch(let stated, let actual):
                return "the stated fingerprint \(stated) does not match the signing key (\(actual))"
            case .bindingInvalid:
                return "the signing key did not sign this name and age recipient: they belong to different keys"
            }
        }
    }

    /// Checks every part and returns the decoded keys.
    /// - Throws: ``ValidationError`` naming what is wrong.
    public func validated() throws -> (signing: Ed25519.VerifyingKey, sealing: X25519.PublicKey) {
        guard type == Self.typeName else { throw ValidationError.wrongType(type) }
        guard !organization.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError.emptyOrganization
        }
        let signing: Ed25519.VerifyingKey
        do { signing = try Ed25519.VerifyingKey(jwk: signingKey) } catch {
            throw ValidationError.badSigningKey(String(describing: error))
        }
        let sealing: X25519.PublicKey
        do { sealing = try AgeKeyEncoding.publicKey(recipient: ageRecipient) } catch {
            throw ValidationError.badAgeRecipient
        }
        guard !Ed25519.isSmallOrder(signing.rawRepresentation) else { throw ValidationError.weakKey("signing key") }
        guard !X25519.isLowOrder(sealing.rawRepresentation) else { throw ValidationError.weakKey("age recipient") }
        let actual = Fingerprint.of(signing)
        guard actual == fingerprint else {
            throw ValidationError.fingerprintMismatch(stated: fingerprint, actual: actual)
        }
        let message = Self.bindingMessage(
            organization: organization, signingKey: signingKey, ageRecipient: ageRecipient)
        guard let signature = Base64URL.decode(binding), signing.isValidSignature(signature, for: message) else {
            throw ValidationError.bindingInvalid
        }
        return (signing, sealing)
    }

    /// Canonical JSON (sorted keys, pretty-printed, trailing newline).
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }
}
