import AmanatRecords
import Foundation

/// One record version as the sync core sees it: its place in the record's history and its content.
///
/// The store builds these from verified versions; nothing here checks signatures.
public struct VersionNode: Sendable, Hashable {
    /// The version id: base64url(SHA-256(issuer-signed JWT)).
    public var id: String
    /// The record id: the id of the record's `create` version.
    public var recordId: String
    /// What the version does (create, edit, merge, retract).
    public var kind: VersionKind
    /// Parent version ids, sorted.
    public var prev: [String]
    /// The fingerprint of the organization that signed the version.
    public var signer: String
    /// Issue time (seconds since 1970) as signed. Informational only: the derived view never depends on it.
    public var issuedAt: Int
    /// The record content (canonical JSON, keys sorted); nil when the record was erased.
    public var content: JSONValue?

    public init(
        id: String, recordId: String, kind: VersionKind, prev: [String], signer: String, issuedAt: Int,
        content: JSONValue?
    ) {
        self.id = id
        self.recordId = recordId
        self.kind = kind
        self.prev = prev
        self.signer = signer
        self.issuedAt = issuedAt
        self.content = content
    }
}

/// Errors of the sync core. They name paths, version ids and fingerprints, never field values.
public enum SyncError: Error, Equatable, Sendable {
    /// A conflicting field has no choice (and no fallback choice was given).
    case unresolvedConflict(path: String)
    /// A choice names a version that is not a candidate of the conflict at `path`.
    case noSuchVersion(path: String, versionId: String)
    /// A choice names an organization that wrote none of the candidates of the conflict at `path`.
    case noSuchSigner(path: String, signer: String)
    /// A choice names an organization whose candidates at `path` disagree (it has several heads).
    case ambiguousSigner(path: String, signer: String)
    /// A choice was given for a path that is not in conflict.
    case notInConflict(path: String)
    /// The record has fewer than two heads: there is nothing to merge.
    case nothingToMerge(recordId: String)
    /// A retraction is concurrent with an edit and the resolution does not say whether to retract.
    case retractionUndecided(recordId: String)
    /// A JSON Pointer that does not lead into the merged content.
    case invalidPointer(String)
}

/// JSON Pointer escaping (RFC 6901).
func pointerEscape(_ key: String) -> String {
    guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
    return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
}

/// JSON Pointer unescaping (RFC 6901).
func pointerUnescape(_ token: Substring) -> String {
    guard token.contains("~") else { return String(token) }
    return token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
}
