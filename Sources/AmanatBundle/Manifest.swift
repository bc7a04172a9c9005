import AmanatCrypto
import AmanatRecords
import Foundation

/// The signed list of a bundle's contents. Serialized as the payload of a compact JWS (RFC 7515, alg `EdDSA`,
/// RFC 8037) stored as the last tar entry, `MANIFEST.jws`. See `Specs/bundle.md`.
public struct BundleManifest: Codable, Sendable, Equatable {
    public static let typeName = "amanat-bundle-manifest/v2"
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

    /// The compact JWS `header.payload.signature`, signed with `key`; `kid` is the signer's fingerprint.
    public func signed(with key: Ed25519.SigningKey) throws -> String {
        try CompactJWS.sign(self, type: Self.jwsType, with: key)
    }

    /// The manifest's entries without the signed header (the files, record batches and blobs the bundle carries).
    public var contentEntries: [Entry] { entries.filter { $0.path != BundleHeader.entryPath } }

    /// The parts of a compact JWS before its signature is checked.
    public struct Unverified: Sendable {
        public var keyID: String
        public var manifest: BundleManifest
        let jws: CompactJWS

        /// Checks the signature with `key` (alg `EdDSA` or its RFC 9864 name `Ed25519`).
        public func verify(with key: Ed25519.VerifyingKey) -> Bool { jws.verify(with: key) }
    }

    /// Parses a compact JWS manifest without verifying it.
    /// - Throws: ``BundleError/badManifest(_:)``.
    public static func parse(jws bytes: [UInt8]) throws -> Unverified {
        let jws = try CompactJWS.parse(bytes, type: jwsType, maximumSize: maximumSize, what: "manifest")
        guard let manifest = try? JSONDecoder().decode(BundleManifest.self, from: Data(jws.payload)),
            manifest.type == typeName
        else {
            if (try? JSONDecoder().decode(TypeOnly.self, from: Data(jws.payload)))?.type == "amanat-bundle-manifest/v1"
            {
                throw BundleError.badManifest(
                    "this is a version 1 bundle, which has no signed header and is no longer accepted; ask the "
                        + "sender to seal it again with a current Amanat")
            }
            throw BundleError.badManifest("the payload is not an \(typeName) manifest")
        }
        return Unverified(keyID: jws.keyID, manifest: manifest, jws: jws)
    }

    struct TypeOnly: Decodable { var type: String }
}

/// The signed first entry of a bundle (`HEADER.jws`): who sent it, for whom, and how many entries and bytes follow.
/// It is checked before anything else is read, written or kept, so a bundle from an untrusted or unexpected sender,
/// or one larger than it said, costs the recipient nothing. The manifest at the end lists the header with its
/// SHA-256, so the two are bound. See `Specs/bundle.md`.
public struct BundleHeader: Codable, Sendable, Equatable {
    public static let typeName = "amanat-bundle-header/v2"
    public static let jwsType = "amanat-header+jws"
    public static let entryPath = "HEADER.jws"
    /// The largest header accepted (it is read before the sender is known).
    public static let maximumSize = 64 << 10
    /// The most entries (files, record batches, blobs) one bundle may declare.
    public static let maximumEntries = 1 << 20

    public var type: String
    /// The manifest's `bundleId`.
    public var bundleId: String
    public var createdAt: String
    public var sender: BundleManifest.Party
    public var recipients: [BundleManifest.Party]
    /// The number of entries between the header and the manifest.
    public var entryCount: Int
    /// The sum of their sizes in bytes.
    public var totalSize: UInt64

    public init(
        bundleId: String, createdAt: String, sender: BundleManifest.Party, recipients: [BundleManifest.Party],
        entryCount: Int, totalSize: UInt64
    ) {
        type = Self.typeName
        self.bundleId = bundleId
        self.createdAt = createdAt
        self.sender = sender
        self.recipients = recipients
        self.entryCount = entryCount
        self.totalSize = totalSize
    }

    /// The compact JWS of this header, signed with `key`.
    public func signed(with key: Ed25519.SigningKey) throws -> String {
        try CompactJWS.sign(self, type: Self.jwsType, with: key)
    }

    /// A header parsed but not yet verified.
    public struct Unverified: Sendable {
        public var keyID: String
        public var header: BundleHeader
        let jws: CompactJWS
        /// The compact JWS as it came.
        var text: String { String(decoding: jws.signingInput, as: UTF8.self) + "." + Base64URL.encode(jws.signature) }

        public func verify(with key: Ed25519.VerifyingKey) -> Bool { jws.verify(with: key) }
    }

    /// Parses a compact JWS header without verifying it.
    /// - Throws: ``BundleError/badManifest(_:)``.
    public static func parse(jws bytes: [UInt8]) throws -> Unverified {
        let jws = try CompactJWS.parse(bytes, type: jwsType, maximumSize: maximumSize, what: "header")
        guard let header = try? JSONDecoder().decode(BundleHeader.self, from: Data(jws.payload)),
            header.type == typeName
        else { throw BundleError.badManifest("the bundle header is not an \(typeName) header") }
        guard header.entryCount >= 0, header.entryCount <= maximumEntries else {
            throw BundleError.badManifest(
                "the bundle header declares \(header.entryCount) entries; at most \(maximumEntries) are accepted")
        }
        return Unverified(keyID: jws.keyID, header: header, jws: jws)
    }
}

/// A JWS in compact serialization (RFC 7515) signed with Ed25519 (`EdDSA`, RFC 8037), as the bundle header and
/// manifest use it: the header is `{"alg","kid","typ"}` with keys sorted, the payload canonical JSON.
struct CompactJWS: Sendable {
    var keyID: String
    var payload: [UInt8]
    let signingInput: [UInt8]
    let signature: [UInt8]

    struct Header: Codable, Equatable {
        var alg: String
        var kid: String
        var typ: String
    }

    static func canonicalJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func sign<T: Encodable>(_ payload: T, type: String, with key: Ed25519.SigningKey) throws -> String {
        let header = Header(alg: "EdDSA", kid: Fingerprint.of(key.publicKey), typ: type)
        let signingInput =
            Base64URL.encode(try canonicalJSON(header)) + "." + Base64URL.encode(try canonicalJSON(payload))
        let signature = try key.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    func verify(with key: Ed25519.VerifyingKey) -> Bool { key.isValidSignature(signature, for: signingInput) }

    /// Splits and checks a compact JWS of JWS type `type`; the payload is returned as strict JSON bytes.
    static func parse(_ bytes: [UInt8], type: String, maximumSize: Int, what: String) throws -> CompactJWS {
        guard bytes.count <= maximumSize else {
            throw BundleError.badManifest("the \(what) is larger than \(maximumSize) bytes")
        }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw BundleError.badManifest("the \(what) is not a compact JWS (three dot-separated parts)")
        }
        guard let headerBytes = Base64URL.decode(String(decoding: parts[0], as: UTF8.self)),
            let payloadBytes = Base64URL.decode(String(decoding: parts[1], as: UTF8.self)),
            let signature = Base64URL.decode(String(decoding: parts[2], as: UTF8.self))
        else { throw BundleError.badManifest("a JWS part of the \(what) is not base64url") }
        // Strict JSON first: no byte order mark and no duplicate member (a stock tool reading the other copy would
        // see another manifest than this one), and no `crit` header (RFC 7515 §4.1.11: we understand none).
        guard let headerJSON = try? JSONValue.parse(headerBytes), (try? JSONValue.parse(payloadBytes)) != nil else {
            throw BundleError.badManifest(
                "the \(what)'s JWS header or payload is not strict JSON (a BOM or a duplicate member)")
        }
        guard headerJSON["crit"] == nil else {
            throw BundleError.badManifest("the JWS header has 'crit' extensions, which Amanat does not understand")
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            throw BundleError.badManifest("the \(what)'s JWS header is not the expected JSON")
        }
        guard header.alg == "EdDSA" || header.alg == "Ed25519" else {
            throw BundleError.badManifest("unsupported JWS alg '\(Tar.sanitizedForMessage(header.alg))'")
        }
        guard header.typ == type else { throw BundleError.badManifest("the JWS typ of the \(what) is not \(type)") }
        guard signature.count == 64 else { throw BundleError.badManifest("the \(what)'s signature is not 64 bytes") }
        let signingInput = Array(bytes[..<(parts[0].count + 1 + parts[1].count)])
        return CompactJWS(keyID: header.kid, payload: payloadBytes, signingInput: signingInput, signature: signature)
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
