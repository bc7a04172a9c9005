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

    /// The index document.
    public static func json(
        _ records: [PublishedRecord], publisher: PublicIdentity, policy: PolicyFile, publishedAt: Int
    ) -> JSONValue {
        let entries: [JSONValue] = records.map { record in
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
        return .object([
            ("format", .string(format)),
            (
                "publisher",
                .object([
                    ("organization", .string(publisher.organization)), ("fingerprint", .string(publisher.fingerprint)),
                ])
            ),
            ("policy", .object([("name", .string(policy.policy.name)), ("sha256", .string(policy.sha256))])),
            ("publishedAt", .number(String(publishedAt))),
            ("records", .array(entries)),
        ])
    }
}
