import AmanatCrypto
import AmanatRecords
import AmanatStore

/// An organization that signs versions for the store tests (its own key; identifying fields and erasure reasons
/// become disclosures).
struct TestOrganization {
    let key: Ed25519.SigningKey
    var fingerprint: String { Fingerprint.of(key.publicKey) }

    init() throws { key = try .generate() }

    func sign(
        _ content: JSONValue, kind: VersionKind = .create, record: String? = nil, prev: [String] = [],
        erase: Bool = false
    ) throws -> StoredVersion {
        let signed = try RecordSigner.sign(
            content: content, kind: kind, recordId: record, prev: prev,
            attachments: RecordContent.attachmentDigests(content), key: key,
            policy: DisclosurePolicy(isConcealable: { $0.hasPrefix("/testifier") || $0.hasPrefix("/erasure") }),
            extraClaims: erase ? RecordContent.tombstoneClaims(.erasure) : [])
        let me = fingerprint
        let verified = try RecordVerifier.verify(signed.sdjwt, trustedKey: { $0 == me ? key.publicKey : nil })
        return StoredVersion(verified: verified, sdjwt: signed.sdjwt)
    }

    /// A record with a tag (so records differ) and the given attachments.
    func create(_ tag: String, attachments: [String] = []) throws -> StoredVersion {
        try sign(
            .object([
                ("attachments", .array(attachments.map { .object([("sha256", .string($0))]) })),
                ("schema", .string("amanat-record/v1")), ("tags", .array([.string(tag)])),
                ("testifier", .object([("gender", .string("female"))])),
            ]))
    }

    func edit(_ parent: StoredVersion, _ tag: String) throws -> StoredVersion {
        try sign(
            .object([("schema", .string("amanat-record/v1")), ("tags", .array([.string(tag)]))]), kind: .edit,
            record: parent.recordId, prev: [parent.id])
    }

    func erasure(of create: StoredVersion, prev: [String]? = nil) throws -> StoredVersion {
        try sign(
            RecordContent.tombstone(.erasure, reason: "withdrawn"), kind: .retract, record: create.recordId,
            prev: prev ?? [create.id], erase: true)
    }
}
