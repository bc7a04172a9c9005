import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatPublish

/// Refusals (plain claims the policy would withhold) and the presentation the redactor chooses.
@Suite("Redactor: refusals and presentations")
struct RefusalAndPresentationTests {
    struct RefusalRow: Sendable, CustomTestStringConvertible {
        var name: String
        /// Pointers signed as plain claims instead of disclosures.
        var plain: Set<String>
        var testifier: String? = nil
        var others: String = ""
        var rules: [String]
        var identifiers: [String] = []
        /// A part of the refusal's reason.
        var reason: String
        var testDescription: String { name }
    }

    static let refusalRows: [RefusalRow] = [
        RefusalRow(
            name: "a plain claim the policy does not name", plain: ["/testifier", "/testifier/gender"],
            testifier: #""gender": "female""#, rules: [], reason: "/testifier/gender is a plain claim"),
        RefusalRow(
            name: "a plain claim the policy strips", plain: ["/testifier", "/testifier/gender"],
            testifier: #""gender": "female""#,
            rules: ["testifier.gender: strip"], reason: "/testifier/gender is a plain claim"),
        RefusalRow(
            name: "a plain claim the policy pseudonymizes", plain: ["/testifier", "/testifier/cnResidentId"],
            testifier: #""cnResidentId": "\#(Synthetic.cnID)""#, rules: ["testifier.cnResidentId: pseudonymize"],
            reason: "/testifier/cnResidentId is a plain claim"),
        RefusalRow(
            name: "a public field (plain under the Amanat signing policy) the policy omits", plain: [],
            others: #""language": "kk-Latn""#, rules: [], reason: "/language is a plain claim"),
        RefusalRow(
            name: "a plain identifier the identifiers rule strips", plain: ["/tags", "/tags/0"],
            others: #""tags": ["\#(Synthetic.kzPhone)"]"#, rules: ["tags: keep"], identifiers: ["phone: strip"],
            reason: "/tags/0 is a plain claim"),
        RefusalRow(
            name: "a plain identifier the policy keeps", plain: ["/tags", "/tags/0"],
            others: #""tags": ["\#(Synthetic.kzPhone)"]"#,
            rules: ["tags: keep"], identifiers: ["phone: keep"],
            reason: "the collector's signed payload itself contains an identifier"),
    ]

    @Test(arguments: refusalRows)
    func aPlainClaimThePolicyDoesNotKeepIsRefused(_ row: RefusalRow) throws {
        #expect(Self.refusalRows.count == 6)
        // Given a record signed with the row's fields as plain claims of the issuer-signed payload
        let collector = try Collector()
        let signed = try collector.sign(
            Harness.record(testifier: row.testifier, others: row.others), policy: .amanatRecord(plain: row.plain))
        let verified = try RecordVerifier.verify(signed.sdjwt, trustedKey: collector.trusted)
        let policy = try Harness.policy(Harness.yaml(fields: row.rules, identifiers: row.identifiers))
        // When the policy is applied, Then the redactor refuses the record, saying why
        let refusal = #expect(throws: Redactor.Refusal.self) {
            try Harness.redactor(policy).apply(signed.sdjwt, verified: verified)
        }
        #expect(refusal?.reason.contains(row.reason) == true, "\(refusal?.reason ?? "no refusal")")
    }

    @Test func anAttachmentDigestWithADigitRunDoesNotBlockPublication() throws {
        // Given a record with an attachment whose SHA-256 (hex, in the plain 'att' claim) holds eleven digits in a
        // row that read as a Chinese mobile number; about 0.4 % of random digests hold such a run
        let digest = "abcdef13912345678abcdef" + String(repeating: "a", count: 41)
        #expect(Detector().scan(digest).map(\.kind) == [.phone])
        let collector = try Collector()
        let content = try JSONValue.parse(
            Harness.record(others: #""attachments": [{"sha256": "\#(digest)", "kind": "photo"}]"#))
        let signed = try RecordSigner.sign(
            content: content, kind: .create, recordId: nil, prev: [],
            attachments: RecordContent.attachmentDigests(content), key: collector.key, policy: .amanatRecord)
        let verified = try RecordVerifier.verify(signed.sdjwt, trustedKey: collector.trusted)
        let policy = try Harness.policy(Harness.yaml(fields: ["attachments[].kind: keep"]))
        // When the policy is applied, Then the record is published (a digest is not a phone number)
        _ = try Harness.redactor(policy).apply(signed.sdjwt, verified: verified)
    }

    @Test func aKeptPlainClaimIsPublishedWithoutADisclosure() throws {
        // Given a record whose testifier's gender is a plain claim, and a policy that keeps it
        let p = try Harness.publish(
            Harness.record(testifier: #""gender": "female""#),
            policy: Harness.yaml(fields: ["testifier.gender: keep"]),
            signing: .amanatRecord(plain: ["/testifier", "/testifier/gender"]))
        // Then it is published: visible in the signed payload, with no disclosure of its own
        #expect(try p.outcome("/testifier/gender") == .original(.string("female")))
        #expect(try p.originalDisclosure("/testifier/gender") == nil)
        #expect(try p.presentedDisclosures() == ["/testimony"])
        try Harness.checkInvariants(p)
    }

    @Test func thePresentationHoldsExactlyTheDisclosuresOfKeptValues() throws {
        // Given a record with kept, stripped, pseudonymized, generalized and unnamed values and an ID in its text
        let text = "We spoke in the spring. My ID is \(Synthetic.cnID). We left."
        let record = Harness.record(
            testifier:
                #""gender": "female", "ethnicity": "kazakh", "cnResidentId": "\#(Synthetic.cnID)", "dateOfBirth": "1985-03-14""#,
            testimony: #""medium": "video", "transcript": \#(Harness.quoted(text))"#)
        let yaml = Harness.yaml(
            fields: [
                "testifier.gender: keep", "testifier.ethnicity: strip", "testifier.cnResidentId: pseudonymize",
                "testifier.dateOfBirth: generalize", "testimony.medium: keep", "testimony.transcript: keep",
            ], identifiers: ["cn_resident_id: strip"])
        // When it is published
        let p = try Harness.publish(record, policy: yaml)
        #expect(
            try p.segments("/testimony/transcript") == [
                "We spoke in the spring. ", "My ID is ", Synthetic.cnID, ". ", "We left.",
            ])
        // Then the presentation holds the disclosures of the kept values and of their parents, nothing else
        #expect(
            try p.presentedDisclosures() == [
                "/testifier", "/testifier/gender", "/testimony", "/testimony/transcript", "/testimony/transcript#0",
                "/testimony/transcript#1", "/testimony/transcript#3", "/testimony/transcript#4",
            ])
        // And it verifies against the collector's key, showing exactly the kept values
        let shown = try RecordVerifier.verify(p.result.presentation, trustedKey: p.collector.trusted)
        let expected = try JSONValue.parse(
            """
            {"schema": "amanat-record/v1", "testifier": {"gender": "female"},
             "testimony": {"consent": "public", "medium": "video",
                           "transcript": "We spoke in the spring. My ID is . We left."}}
            """)
        #expect(shown.content.canonical() == expected.canonical())
        #expect(shown.partialTexts == ["/testimony/transcript"])
        #expect(shown.withheldCount == p.signed.sdjwt.disclosures.count - p.result.presentation.disclosures.count)
        // And a verifier that does not trust the collector refuses it
        #expect(throws: SDJWTError.self) {
            try RecordVerifier.verify(p.result.presentation, trustedKey: { _ in nil })
        }
        // And the publisher values sit only where the presentation withholds
        #expect(
            Annotation.overlays(p.result.values, presentation: p.result.presentation) == [])
        #expect(
            p.result.values.map { Harness.key($0.path, $0.segment) }.sorted() == [
                "/testifier/cnResidentId", "/testifier/dateOfBirth", "/testimony/transcript#2",
            ])
        #expect(p.report.original == 8)
        #expect(p.report.withheld == 4)
        #expect(p.report.notInPolicy == 0)
        try Harness.checkInvariants(p)
    }

    struct ParentRow: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: [String]
        var presented: Set<String>
        var testDescription: String { name }
    }

    static let parentRows: [ParentRow] = [
        ParentRow(
            name: "a value the parent holds directly is not kept: nothing below is presented",
            rules: ["testifier.gender: keep"], presented: ["/testimony"]),
        ParentRow(
            name: "everything the parent holds directly is kept: it and the kept child are presented",
            rules: ["testifier.gender: keep", "testifier.ethnicity: keep"],
            presented: ["/testimony", "/testifier", "/testifier/gender"]),
        ParentRow(
            name: "the parent holds only kept values, the child is stripped: the parent alone",
            rules: ["testifier.gender: strip", "testifier.ethnicity: keep"], presented: ["/testimony", "/testifier"]),
    ]

    @Test(arguments: parentRows)
    func aDisclosureIsPresentedOnlyWithItsParentAndAllItHoldsKept(_ row: ParentRow) throws {
        #expect(Self.parentRows.count == 3)
        // Given a testifier disclosure that holds its ethnicity directly and its gender as a disclosure of its own
        let p = try Harness.publish(
            Harness.record(testifier: #""gender": "female", "ethnicity": "kazakh""#),
            policy: Harness.yaml(fields: row.rules), signing: .amanatRecord(plain: ["/testifier/ethnicity"]))
        // When it is published, Then exactly the row's disclosures are presented
        #expect(try p.presentedDisclosures() == row.presented)
        try Harness.checkInvariants(p)
    }

    @Test func chooseDisclosuresRefusesOneWithAnIdentifierEvenWhenKept() throws {
        // Given a signed record whose testifier gender disclosure is decided "original" but whose text holds an ID
        let collector = try Collector()
        let signed = try collector.sign(
            Harness.record(testifier: #""gender": "female", "notes": "\#(Synthetic.cnID)""#))
        let map = try DisclosureMap(signed.sdjwt)
        let decisions = map.leaves.map { _ in Redactor.Decision.original }
        // When step 5 chooses the disclosures with every value decided "original"
        let policy = try Harness.policy(Harness.yaml(fields: []))
        let chosen = Harness.redactor(policy).chooseDisclosures(map, decisions: decisions)
        // Then the notes disclosure (an ID) is left out, and the others are chosen
        let pointers = Set(chosen.map { DisclosureMap.pointer(map.sites[$0].path) })
        #expect(pointers == ["/testifier", "/testifier/gender", "/testimony"])
    }

    @Test func theShippedPublicPolicyOnARichRecord() throws {
        // Given a rich synthetic record and the shipped public policy
        let policyFile = try PolicyFile.load(PackagePaths.url("Specs/policies/public.yaml").path)
        let p = try Harness.publish(
            RichRecord.json,
            policy: String(
                decoding: try Data(contentsOf: PackagePaths.url("Specs/policies/public.yaml")), as: UTF8.self))
        #expect(policyFile.policy.name == "public")
        // Then the presentation verifies and no original identifier or withheld name is visible in it or in what
        // the reader sees
        try Harness.checkInvariants(p)
        let shown = try RecordVerifier.verify(p.result.presentation, trustedKey: p.collector.trusted).content
        for secret in RichRecord.secrets {
            #expect(!shown.canonical().contains(secret), "\(secret) is presented")
            #expect(!p.result.rendered.canonical().contains(secret), "\(secret) is rendered")
        }
        #expect(p.report.identifiers["cn_resident_id"] == ["pseudonymize": 1])
        #expect(p.report.identifiers["phone"] == ["strip": 1])
        #expect(p.report.textWithheldWhole == ["person_name": 1])
        #expect(p.report.fields["pseudonymize"] == 2)
        #expect(p.report.notInPolicy > 0)
        #expect(shown["testimony"]?["consent"] == .string("public"))
        #expect(shown["detainees"]?.arrayValue?.first?["hometown"]?["province"] == .string("新疆"))
    }
}

/// A rich synthetic record (invented people and numbers), and the values the public policy must never show.
enum RichRecord {
    static let secrets = [
        Synthetic.cnID, Synthetic.otherCnID, Synthetic.kzIIN, "701 555 01 23", "Testova", "Sampleuly", "Dauren",
        "Aigerim", "Invented village",
    ]

    static let json = """
        {"schema": "amanat-record/v1", "language": "en",
         "testifier": {"name": {"latn": "Aigerim Testova"}, "gender": "female", "dateOfBirth": "1985-03-14",
                       "kzIin": "\(Synthetic.kzIIN)", "phones": ["\(Synthetic.kzPhone)"], "citizenship": ["KZ"],
                       "relation": {"kind": "sibling", "text": "his sister"}},
         "detainees": [{"name": {"latn": "Dauren Sampleuly"}, "gender": "male", "dateOfBirth": "1962-08-11",
                        "cnResidentId": "\(Synthetic.otherCnID)",
                        "hometown": {"province": "新疆", "prefecture": "伊犁哈萨克自治州", "county": "伊宁县",
                                     "village": "Invented village 7", "areaCode": "654021"},
                        "statusHistory": [{"status": "detained", "date": "2018-05", "note": "taken from work"}]}],
         "testimony": {"date": "2019-12-10", "languages": ["en"], "medium": "video", "consent": "public",
                       "transcript": "We spoke in the spring. His ID is \(Synthetic.cnID). Call \(Synthetic.kzPhone). Dauren was taken in May."},
         "attachments": [{"sha256": "\(String(repeating: "ab", count: 32))", "size": 1024,
                          "mediaType": "video/mp4", "kind": "testimony_video"}],
         "provenance": {"organization": "Demo Steppe Archive (synthetic)", "collectedAt": "2019-12-10T18:00:00+06:00",
                        "source": {"kind": "interview"}}}
        """
}
