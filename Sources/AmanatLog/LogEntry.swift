import Foundation

/// One entry of an organization's log: what kind of thing it signed, and that thing's SHA-256 digest. Only
/// digests go into the log, so erasing a record never requires rewriting it.
///
/// Encoding (version 1, 34 bytes; see `Specs/log.md`): `0x01 || kind || digest[32]`. The leaf hash is
/// RFC 6962's SHA-256(0x00 || encoding).
public struct LogEntry: Sendable, Hashable {
    /// What an entry records. The raw value is the kind byte of the encoding.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// A record version the organization signed (digest of its SD-JWT, as the workspace defines).
        case recordVersion = 1
        /// A bundle manifest the organization signed.
        case manifest = 2
        /// A publication (a redacted public version) the organization released.
        case publication = 3
        /// A retraction the organization signed.
        case retraction = 4
        /// An erasure request the organization signed or honoured.
        case erasure = 5

        /// The lower-case, hyphenated name used in listings and `Specs/log.md` (e.g. `record-version`).
        public var name: String {
            switch self {
            case .recordVersion: return "record-version"
            case .manifest: return "manifest"
            case .publication: return "publication"
            case .retraction: return "retraction"
            case .erasure: return "erasure"
            }
        }
    }

    /// The encoding version this code writes and reads.
    public static let version: UInt8 = 1
    /// The length of an encoded entry.
    public static let encodedCount = 34

    /// What was logged.
    public let kind: Kind
    /// Its 32-byte SHA-256 digest.
    public let digest: [UInt8]

    /// An entry for `digest`.
    /// - Throws: ``LogError/malformedHash(length:)`` unless the digest is 32 bytes.
    public init(kind: Kind, digest: [UInt8]) throws {
        try MerkleHash.checkLength(digest)
        self.kind = kind
        self.digest = digest
    }

    /// The 34-byte encoding that is hashed into the log.
    public var encoded: [UInt8] { [Self.version, kind.rawValue] + digest }

    /// Reads an encoded entry.
    /// - Throws: ``LogError/malformedEntry(reason:)`` for a wrong length, version or kind.
    public init(decoding bytes: some ContiguousBytes) throws {
        let raw = bytes.withUnsafeBytes { Array($0) }
        guard raw.count == Self.encodedCount else {
            throw LogError.malformedEntry(reason: "\(raw.count) bytes instead of \(Self.encodedCount)")
        }
        guard raw[0] == Self.version else { throw LogError.malformedEntry(reason: "unknown version \(raw[0])") }
        guard let kind = Kind(rawValue: raw[1]) else { throw LogError.malformedEntry(reason: "unknown kind \(raw[1])") }
        self.kind = kind
        digest = Array(raw[2...])
    }

    /// The entry's RFC 6962 leaf hash.
    /// - Throws: a `CryptoError` if OpenSSL fails.
    public func leafHash() throws -> LogHash { try MerkleHash.leaf(encoded) }
}
