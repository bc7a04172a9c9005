import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatRecords

/// Versions from partners pass the rules of a local `add` before they are stored (Specs/authority.md).
@Suite("Incoming versions are validated")
struct IncomingVersionTests {
    let key: Ed25519.SigningKey
    let fingerprint: String
    let example: JSONValue

    init() throws {
        key = try .generate()
        fingerprint = Fingerprint.of(key.publicKey)
        let url = PackagePaths.url("Specs/examples/en-survivor-public.json")
        example = try RecordImport.parseJSON(Array(try Data(contentsOf: url)), file: "example")[0].sortedKeys()
    }

    /// Record and parent ids of non-create versions: the shape of a version id (43 base64url characters).
    static let recordId = String(repeating: "r", count: 43)
    static let parentId = String(repeating: "p", count: 43)

    func signed(
        _ content: JSONValue, kind: VersionKind = .create, policy: DisclosurePolicy = .amanatRecord,
        attachments: [String]? = nil, issuedAt: Int = 1_764_000_000, claims: [(String, JSONValue)] = [],
        recordId: String = Self.recordId
    ) throws -> (VerifiedVersion, SDJWT) {
        let version = try RecordSigner.sign(
            content: content, kind: kind, recordId: kind == .create ? nil : recordId,
            prev: kind == .create ? [] : [Self.parentId],
            attachments: attachments ?? RecordContent.attachmentDigests(content), key: key, policy: policy,
            issuedAt: issuedAt, extraClaims: claims)
        return (try verify(version.sdjwt), version.sdjwt)
    }

    func verify(_ sdjwt: SDJWT) throws -> VerifiedVersion {
        try RecordVerifier.verify(sdjwt, trustedKey: { [key, fingerprint] in $0 == fingerprint ? key.publicKey : nil })
    }

    func rule(_ v: (VerifiedVersion, SDJWT), mayLackDisclosures: Bool = false) -> String? {
        let result = Result<Void, IncomingVersionError> { () throws(IncomingVersionError) in
            try IncomingVersion.validate(v.0, sdjwt: v.1, mayLackDisclosures: mayLackDisclosures)
        }
        if case .failure(let error) = result { return error.rule }
        return nil
    }

    @Test func aVersionSignedLikeALocalAddPasses() throws {
        #expect(rule(try signed(example)) == nil)
        let retraction = try signed(RecordContent.tombstone(.retraction, reason: "duplicate"), kind: .retract)
        #expect(rule(retraction) == nil)
        let erasure = try signed(
            RecordContent.tombstone(.erasure, reason: "withdrawn"), kind: .retract,
            claims: RecordContent.tombstoneClaims(.erasure))
        #expect(erasure.0.isErasureRequest)
        #expect(rule(erasure) == nil)
    }

    @Test func eachRuleRefusesWithItsReason() throws {
        // (content, how it was signed) → a fragment of the rule it breaks
        let cases: [(String, (VerifiedVersion, SDJWT), String)] = [
            ("unknown member", try signed(example.setting("extra", .number("1"))), "record schema"),
            (
                "NUL in a string",
                try signed(example.setting("tags", .array([.string("a\u{0}b")]))), "control character"
            ),
            ("iat of -2^63", try signed(example, issuedAt: Int.min), "signing time"),
            ("iat in 2200", try signed(example, issuedAt: 7_258_118_400), "signing time"),
            (
                "identifiers in plain claims",
                try signed(example, policy: DisclosurePolicy(isConcealable: { _ in false })), "in the clear"
            ),
            ("att differs", try signed(example, attachments: [String(repeating: "0", count: 64)]), "att"),
            ("att not hex", try signed(example, attachments: ["XYZ"]), "64 lowercase"),
            (
                "retraction with a record in it",
                try signed(example.setting("retraction", .object([("reason", .string("x"))])), kind: .retract),
                "unknown member"
            ),
            (
                "retraction with an attachment",
                try signed(
                    RecordContent.tombstone(.retraction, reason: "x"), kind: .retract,
                    attachments: [String(repeating: "a", count: 64)]), "attachments"
            ),
            (
                "a record id that is not a version id (it would reach the terminal)",
                try signed(
                    RecordContent.tombstone(.retraction, reason: "x"), kind: .retract,
                    recordId: "r\u{1B}[32m\nFingerprint: AAAA"), "not a version id"
            ),
            (
                "retraction and erasure at once",
                try signed(
                    RecordContent.tombstone(.retraction, reason: "x").setting(
                        "erasure", .object([("reason", .string("y"))])), kind: .retract), "also an erasure"
            ),
        ]
        for (name, version, fragment) in cases {
            let found = rule(version)
            #expect(found?.contains(fragment) == true, "\(name): \(found ?? "accepted")")
        }
        #expect(cases.count == 11)
    }

    @Test func missingDisclosuresOnlyForErasedRecords() throws {
        let (_, sdjwt) = try signed(example)
        let partial = SDJWT(jwt: sdjwt.jwt, disclosures: Array(sdjwt.disclosures.dropFirst(3)))
        let verified = try verify(partial)
        #expect(rule((verified, partial))?.contains("disclosures are missing") == true)
        #expect(rule((verified, partial), mayLackDisclosures: true) == nil)
        // With none at all (an erased record), the same
        let bare = SDJWT(jwt: sdjwt.jwt, disclosures: [])
        #expect(rule((try verify(bare), bare), mayLackDisclosures: true) == nil)
    }

    @Test func errorsNameTheRecordAndVersionButNoValue() throws {
        let secret = "11010519491231002X"
        let bad = try signed(
            example.setting("testifier", .object([("cnResidentId", .string(secret))])),
            policy: DisclosurePolicy(isConcealable: { _ in false }))
        let result = Result<Void, IncomingVersionError> { () throws(IncomingVersionError) in
            try IncomingVersion.validate(bad.0, sdjwt: bad.1, mayLackDisclosures: false)
        }
        guard case .failure(let error) = result else {
            Issue.record("accepted")
            return
        }
        do {
            #expect(error.recordId == bad.0.recordId && error.versionId == bad.0.versionId)
            #expect(!error.description.contains(secret))
            #expect(error.description.contains("/testifier/cnResidentId") || error.description.contains("in the clear"))
        }
    }
}
