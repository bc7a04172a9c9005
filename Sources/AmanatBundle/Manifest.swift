import AmanatCrypto
import AmanatRecords
import Foundation

/// The signed list of a bundle's contents. Serialized as the payload of a compact JWS (RFC 7515, alg `EdDSA`,
/// RFC 8037) stored as the last tar entry, `MANIFEST.jws`. See `Specs/bundle.md`.
public struct BundleManifest: Codable, Sendable, Equatable {
    public static let typeName = "amanat-bundle-manifest/v1"
    public static let jwsType = "amanat-manifest+jws"
    public static let entryPath = "MANIFEST.jws"
    /// The largest manifest accepted when opening (it is held in memory).
    public static let maximumSize = 16 << 20

    /// One file in the bundle.
    public struct Entry: Codable, Sendable, Equatable {
        /// The tar path (`files/<name>`).
        public var path: String
        /// Lowercase hex SHA-256 of the contents.
        public var sha256: String
        /// Size in bytes.
        public var size: UInt64

        public init(path: String, sha256: String, size: UInt64) {
            self.path = path
            self.sha256 = sha256
            self.size = size
        }
    }

    /// The sender's organization, as it signed the manifest.
    public struct Party: Codable, Sendable, Equatable {
        public var organization: String?
        public var fingerprint: String?
        public var ageRecipient: String?
        public var signingKey: JWK?

        public init(
            organization: String? = nil, fingerprint: String? = nil, ageRecipient: String? = nil, signingKey: JWK? = nil
        ) {
            self.organization = organization
            self.fingerprint = fingerprint
            self.ageRecipient = ageRecipient
            self.signingKey = signingKey
        }
    }

    public var type: String
    /// 128 random bits, base32.
    public var bundleId: String
    /// RFC 3339 UTC creation time.
    public var createdAt: String
    public var sender: Party
    public var recipients: [Party]
    public var entries: [Entry]
    /// The sender's summary of what its store holds (delta exchange), if it sent records.
    public var summary: Summary?
    /// Bundle ids of the recipient's bundles the sender has imported (acknowledgements).
    public var acknowledges: [String]?

    /// What a sender's store holds.
    public struct Summary: Codable, Sendable, Equatable {
        public var records: Int
        public var versions: Int
        public var stateHash: String

        public init(records: Int, versions: Int, stateHash: String) {
            self.records = records
            self.versions = versions
            self.stateHash = stateHash
        }
    }

    public init(bundleId: String, createdAt: String, sender: Party, recipients: [Party], entries: [Entry]) {
        type = Self.typeName
        self.bundleId = bundleId
        self.createdAt = createdAt
        self.sender = sender
        self.recipients = recipients
        self.entries = entries
    }

    static func canonicalJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    struct Header: Codable, Equatable {
        var alg: String
        var kid: String
        var typ: String
    }

    /// The compact JWS `header.payload.signature`, signed with `key`; `kid` is the signer's fingerprint.
    public func signed(with key: Ed25519.SigningKey) throws -> String {
        let header = Header(alg: "EdDSA", kid: Fingerprint.of(key.publicKey), typ: Self.jwsType)
        let signingInput =
            Base64URL.encode(try Self.canonicalJSON(header)) + "." + Base64URL.encode(try Self.canonicalJSON(self))
        let signature = try key.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// The parts of a compact JWS before its signature is checked.
    public struct Unverified: Sendable {
        public var keyID: String
        public var manifest: BundleManifest
        let signingInput: [UInt8]
        let signature: [UInt8]

        /// Checks the signature with `key` (alg `EdDSA` or its RFC 9864 name `Ed25519`).
        public func verify(with key: Ed25519.VerifyingKey) -> Bool {
            key.isValidSignature(signature, for: signingInput)
        }
    }

    /// Parses a compact JWS manifest without verifying it.
    /// - Throws: ``BundleError/badManifest(_:)``.
    public static func parse(jws bytes: [UInt8]) throws -> Unverified {
        guard bytes.count <= maximumSize else { throw BundleError.badManifest("larger than \(maximumSize) bytes") }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw BundleError.badManifest("not a compact JWS (three dot-separated parts)") }
        guard let headerBytes = Base64URL.decode(String(decoding: parts[0], as: UTF8.self)),
            let payloadBytes = Base64URL.decode(String(decoding: parts[1], as: UTF8.self)),
            let signature = Base64URL.decode(String(decoding: parts[2], as: UTF8.self))
        else { throw BundleError.badManifest("a JWS part is not base64url") }
        // Strict JSON first: no byte order mark and no duplicate member (a stock tool reading the other copy would
        // see another manifest than this one), and no `crit` header (RFC 7515 §4.1.11: we understand none).
        guard let headerJSON = try? JSONValue.parse(headerBytes), (try? JSONValue.parse(payloadBytes)) != nil else {
            throw BundleError.badManifest("the JWS header or payload is not strict JSON (a BOM or a duplicate member)")
        }
        guard headerJSON["crit"] == nil else {
            throw BundleError.badManifest("the JWS header has 'crit' extensions, which Amanat does not understand")
        }
        let decoder = JSONDecoder()
        guard let header = try? decoder.decode(Header.self, from: Data(headerBytes)) else {
            throw BundleError.badManifest("the JWS header is not the expected JSON")
        }
        guard header.alg == "EdDSA" || header.alg == "Ed25519" else {
            throw BundleError.badManifest("unsupported JWS alg '\(Tar.sanitizedForMessage(header.alg))'")
        }
        guard header.typ == jwsType else { throw BundleError.badManifest("the JWS typ is not \(jwsType)") }
        guard let manifest = try? decoder.decode(BundleManifest.self, from: Data(payloadBytes)),
            manifest.type == typeName
        else { throw BundleError.badManifest("the payload is not an \(typeName) manifest") }
        guard signature.count == 64 else { throw BundleError.badManifest("the signature is not 64 bytes") }
        let signingInput = Array(bytes[..<(parts[0].count + 1 + parts[1].count)])
        return Unverified(keyID: header.kid, manifest: manifest, signingInput: signingInput, signature: signature)
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
