import AmanatCrypto
import AmanatRecords

/// `index.json` of a published folder (Specs/policies.md, "Published files"): the publisher, the policy, and per
/// record its presentation and annotation, its collector, the signer of the presented version and the editors.
public enum PublicationIndex {
    public static let fileName = "index.json"
    public static let format = "amanat-publication/v1"

    /// `<record-id>.sd-jwt`
    public static func presentationName(_ record: PublishedRecord) -> String { record.recordId + ".sd-jwt" }

    /// `<record-id>.annotation.jws`
    public static func annotationName(_ record: PublishedRecord) -> String {
        record.recordId + Annotation.fileSuffix
    }

    /// The suffix of the public identity files beside the records: `<fingerprint>.identity.json`.
    public static let identitySuffix = ".identity.json"

    /// A public identity published beside the records, and why: `publisher`, `collector` (signed a record's first
    /// version) and/or `signer` (signed a presented version).
    public struct IdentityEntry: Sendable, Equatable {
        public var identity: PublicIdentity
        public var roles: [String]

        public init(identity: PublicIdentity, roles: [String]) {
            self.identity = identity
            self.roles = roles
        }
    }

    /// `<fingerprint>.identity.json`, or nil when `fingerprint` is not a canonical fingerprint (it becomes a file
    /// name, so nothing else is accepted). The files sit beside the records, so `amanat scan DIR/*` still names
    /// only files.
    public static func identityPath(_ fingerprint: String) -> String? {
        guard Fingerprint.normalize(fingerprint) == fingerprint else { return nil }
        return fingerprint + identitySuffix
    }

    /// The publisher, every collector and every signer of a presented version, each once (sorted by fingerprint),
    /// with their roles. `identity` finds an organization's public identity by fingerprint.
    /// - Throws: ``PublicationError`` `unreadable` naming the first organization whose identity is unknown.
    public static func identities(
        _ records: [PublishedRecord], publisher: PublicIdentity, identity: (String) -> PublicIdentity?
    ) throws -> [IdentityEntry] {
        try identities(
            collectors: Set(records.map(\.collector)), signers: Set(records.map(\.signer)), publisher: publisher,
            identity: identity)
    }

    /// ``identities(_:publisher:identity:)`` from the collectors and signers of the published records (gathered
    /// while the records are written, so that the records need not all be held).
    public static func identities(
        collectors: Set<String>, signers: Set<String>, publisher: PublicIdentity,
        identity: (String) -> PublicIdentity?
    ) throws -> [IdentityEntry] {
        var roles: [String: Set<String>] = [publisher.fingerprint: ["publisher"]]
        for collector in collectors { roles[collector, default: []].insert("collector") }
        for signer in signers { roles[signer, default: []].insert("signer") }
        return try roles.keys.sorted().map { fingerprint in
            let found = fingerprint == publisher.fingerprint ? publisher : identity(fingerprint)
            guard let found, found.fingerprint == fingerprint, identityPath(fingerprint) != nil else {
                throw PublicationError(
                    .unreadable,
                    "the public identity of \(UntrustedText.printable(fingerprint)), which signed records being "
                        + "published, is neither this workspace's nor on the trust list, so readers could not verify "
                        + "them. Add it with `amanat trust add FILE`. Nothing was written.")
            }
            return IdentityEntry(
                identity: found,
                roles: ["publisher", "collector", "signer"].filter {
                    roles[fingerprint, default: []].contains($0)
                })
        }
    }

    /// A published derivative of an attachment (`media/<sha256>.<ext>`) and its media annotation.
    public struct MediaEntry: Sendable, Equatable {
        public var record: String
        /// The attachment kind (`testimony_video`, …).
        public var kind: String
        /// `publish` or `redact`.
        public var action: String
        /// Paths inside the publication: `media/<sha256>.<ext>`, `media/<sha256>.media.jws`.
        public var derivative: String
        public var annotation: String
        public var originalSHA256: String
        public var derivativeSHA256: String

        public init(
            record: String, kind: String, action: String, derivative: String, annotation: String,
            originalSHA256: String, derivativeSHA256: String
        ) {
            self.record = record
            self.kind = kind
            self.action = action
            self.derivative = derivative
            self.annotation = annotation
            self.originalSHA256 = originalSHA256
            self.derivativeSHA256 = derivativeSHA256
        }

        var json: JSONValue {
            .object([
                ("record", .string(record)),
                ("kind", .string(kind)),
                ("action", .string(action)),
                ("derivative", .string(derivative)),
                ("annotation", .string(annotation)),
                ("originalSha256", .string(originalSHA256)),
                ("derivativeSha256", .string(derivativeSHA256)),
            ])
        }
    }

    /// The index document. `identities` are the public identity files written beside it (see ``identities(_:publisher:identity:)``);
    /// `media` the derivatives in `media/` (the member is left out when there are none).
    public static func json(
        _ records: [PublishedRecord], publisher: PublicIdentity, policy: PolicyFile, publishedAt: Int,
        identities: [IdentityEntry] = [], media: [MediaEntry] = []
    ) -> JSONValue {
        document(
            records.map(entry), publisher: publisher, policy: policy, publishedAt: publishedAt, identities: identities,
            media: media)
    }

    /// One record's entry in `index.json`'s `records`.
    public static func entry(_ record: PublishedRecord) -> JSONValue {
        .object([
            ("id", .string(record.recordId)),
            ("version", .string(record.versionId)),
            ("collector", .string(record.collector)),
            ("signer", .string(record.signer)),
            ("editors", .array(record.editors.map { .string($0) })),
            ("presentation", .string(presentationName(record))),
            ("annotation", .string(annotationName(record))),
            ("disclosuresPresented", .number(String(record.report.disclosuresPresented))),
            ("publisherValues", .number(String(record.values.count))),
        ])
    }

    /// An entry as it stands in the pretty `index.json` (``entry(_:)``, indented as a member of `records`);
    /// ``prettyParts(publisher:policy:publishedAt:identities:media:)`` gives the text around the entries.
    public static func prettyEntry(_ record: PublishedRecord) -> String {
        entryIndent + entry(record).pretty(indent: entryIndent)
    }

    /// The pretty `index.json` without its record entries: `head + entries.joined(separator: ",\n") + tail`
    /// (each entry from ``prettyEntry(_:)``, at least one) is exactly `json(…).pretty()`, so the index can be
    /// written while the records are made instead of after holding them all.
    public static func prettyParts(
        publisher: PublicIdentity, policy: PolicyFile, publishedAt: Int, identities: [IdentityEntry] = [],
        media: [MediaEntry] = []
    ) -> (head: String, tail: String) {
        // A placeholder entry that no real entry can spell (a NUL in a string is escaped as \u0000).
        let marker = "\u{0}amanat-index-records\u{0}"
        let text = document(
            [.string(marker)], publisher: publisher, policy: policy, publishedAt: publishedAt, identities: identities,
            media: media
        ).pretty()
        let placeholder = entryIndent + JSONValue.string(marker).serialized()
        guard let range = text.range(of: placeholder) else { return (text, "") }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    static let entryIndent = "    "

    static func document(
        _ entries: [JSONValue], publisher: PublicIdentity, policy: PolicyFile, publishedAt: Int,
        identities: [IdentityEntry], media: [MediaEntry]
    ) -> JSONValue {
        .object(
            [
                ("format", .string(format)),
                (
                    "publisher",
                    .object(
                        [
                            ("organization", .string(publisher.organization)),
                            ("fingerprint", .string(publisher.fingerprint)),
                        ]
                            + (identities.isEmpty
                                ? [] : identityPath(publisher.fingerprint).map { [("identity", .string($0))] } ?? []))
                ),
                ("policy", .object([("name", .string(policy.policy.name)), ("sha256", .string(policy.sha256))])),
                ("publishedAt", .number(String(publishedAt))),
                ("records", .array(entries)),
            ] + (identities.isEmpty ? [] : [("identities", .array(identities.map(identityJSON)))])
                + (media.isEmpty ? [] : [("media", .array(media.map(\.json)))]))
    }

    static func identityJSON(_ entry: IdentityEntry) -> JSONValue {
        .object([
            ("fingerprint", .string(entry.identity.fingerprint)),
            ("organization", .string(entry.identity.organization)),
            ("file", .string(identityPath(entry.identity.fingerprint) ?? "")),
            ("roles", .array(entry.roles.map { .string($0) })),
        ])
    }
}
