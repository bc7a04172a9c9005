import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Testing

@testable import AmanatPublish

/// The publisher's annotation (Specs/policies.md, "Published files"): signed, bound to one presentation of one
/// record, verified against a trusted publisher key, and refused when it overlays a presented value.
@Suite("Annotation: sign and verify")
struct AnnotationTests {
    static let policyHash = String(repeating: "0f", count: 32)

    /// A record published under a small policy (its ethnicity withheld, its ID pseudonymized, the ID in its text
    /// stripped), and the publisher that signs its annotation.
    struct Setup {
        let publisher: Ed25519.SigningKey
        let p: Publication

        init() throws {
            publisher = try .generate()
            let text = "We spoke in the spring. My ID is \(Synthetic.cnID). We left."
            p = try Harness.publish(
                Harness.record(
                    testifier: #""gender": "female", "ethnicity": "kazakh", "cnResidentId": "\#(Synthetic.cnID)""#,
                    testimony: "\"transcript\": \(Harness.quoted(text))"),
                policy: Harness.yaml(
                    fields: [
                        "testifier.gender: keep", "testifier.cnResidentId: pseudonymize", "testimony.transcript: keep",
                    ],
                    identifiers: ["cn_resident_id: strip"]))
        }

        var publisherFingerprint: String { Fingerprint.of(publisher.publicKey) }

        func trusted(_ fingerprint: String) -> Ed25519.VerifyingKey? {
            fingerprint == publisherFingerprint ? publisher.publicKey : p.collector.trusted(fingerprint)
        }

        func sign(_ record: PublishedRecord, key: Ed25519.SigningKey? = nil) throws -> String {
            try Annotation.sign(
                record, policyName: "test", policyHash: AnnotationTests.policyHash, key: key ?? publisher,
                issuedAt: 1_767_225_600)
        }
    }

    enum Case: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case unchanged
        case presentationLostADisclosure
        case presentationGainedADisclosure
        case anotherRecord
        case untrustedPublisher
        case wrongPublisherKey
        case overlaidValue
        case identifierAsValue

        var testDescription: String { rawValue }

        /// A part of the error message (nil: verification succeeds).
        var failure: String? {
            switch self {
            case .unchanged: return nil
            case .presentationLostADisclosure, .presentationGainedADisclosure: return "sd_hash differs"
            case .anotherRecord: return "belongs to another record"
            case .untrustedPublisher: return "neither this workspace nor in the trust list"
            case .wrongPublisherKey: return "the publisher's signature does not verify"
            case .overlaidValue: return "puts publisher-made values at /testifier/gender"
            case .identifierAsValue: return "carries an identifier"
            }
        }
    }

    @Test(arguments: Case.allCases)
    func annotationRoundTrip(_ c: Case) throws {
        #expect(Case.allCases.count == 8)
        // Given a published record and its annotation as the publisher would sign it
        let s = try Setup()
        var record = s.p.result
        var presentation = record.presentation
        var trusted: (String) -> Ed25519.VerifyingKey? = s.trusted
        var signer: Ed25519.SigningKey? = nil
        // When the case changes one thing
        switch c {
        case .unchanged:
            break
        case .presentationLostADisclosure:
            let last = try #require(try s.p.originalDisclosure("/testimony/transcript", segment: 4))
            presentation.disclosures.removeAll { $0 == last }
        case .presentationGainedADisclosure:
            // The ethnicity the policy does not name (withheld, no publisher value on it).
            presentation.disclosures.append(try #require(try s.p.originalDisclosure("/testifier/ethnicity")))
        case .anotherRecord:
            let other = try Setup()
            presentation = other.p.result.presentation
            trusted = { s.trusted($0) ?? other.p.collector.trusted($0) }
        case .untrustedPublisher:
            trusted = { $0 == s.publisherFingerprint ? nil : s.p.collector.trusted($0) }
        case .wrongPublisherKey:
            let impostor = try Ed25519.SigningKey.generate()
            trusted = { $0 == Fingerprint.of(impostor.publicKey) ? s.publisher.publicKey : s.trusted($0) }
            signer = impostor
        case .overlaidValue:
            record.values.append(
                PublisherValue(path: "/testifier/gender", segment: nil, op: "generalize", kind: nil, value: "person"))
        case .identifierAsValue:
            record.values.append(
                PublisherValue(
                    path: "/testifier/cnResidentId", segment: nil, op: "pseudonymize", kind: "cn_resident_id",
                    value: Synthetic.cnID))
        }
        let verified = try RecordVerifier.verify(presentation, trustedKey: trusted)
        let text = try s.sign(record, key: signer)
        // Then verification succeeds only for the unchanged annotation, and otherwise says what is wrong
        do {
            let result = try Annotation.verify(
                text, file: "x.annotation.jws", presentation: presentation, verified: verified, trustedKey: trusted)
            #expect(c.failure == nil, "verified although \(c.rawValue)")
            #expect(result.publisherFingerprint == s.publisherFingerprint)
            #expect(result.collector == s.p.collector.fingerprint)
            #expect(result.policyName == "test" && result.policyHash == Self.policyHash)
            #expect(result.values == s.p.result.values)
            #expect(result.values.count == 2)
        } catch let error as PublicationError {
            let failure = try #require(c.failure, "refused: \(error.message)")
            #expect(error.kind == .verificationFailed)
            #expect(error.message.contains(failure), "\(error.message)")
            #expect(error.message.hasPrefix("x.annotation.jws"))
        }
    }

    @Test func theAnnotationCarriesOnlyPublisherValues() throws {
        // Given an annotation of a record with a pseudonym and a marker
        let s = try Setup()
        let text = try s.sign(s.p.result)
        // When its payload is read
        let jwt = try SignedJWT.parse(text)
        // Then it names the record, version, collector and presentation, and no original value
        #expect(jwt.header["typ"] == .string(Annotation.type))
        #expect(jwt.header["kid"] == .string(s.publisherFingerprint))
        #expect(jwt.payload["rid"] == .string(s.p.signed.recordId))
        #expect(jwt.payload["vid"] == .string(s.p.signed.versionId))
        #expect(jwt.payload["collector"] == .string(s.p.collector.fingerprint))
        #expect(jwt.payload["sd_hash"] == .string(try Annotation.presentationHash(s.p.result.presentation)))
        #expect(jwt.payload["values"]?.arrayValue == Harness.annotationValues(s.p.result.values))
        #expect(!jwt.payload.canonical().contains(Synthetic.cnID))
    }

    @Test func aStrippedWeChatIDInTextGivesAnAnnotationThatVerifies() throws {
        // Given a transcript with a WeChat ID the policy strips, published and annotated
        let publisher = try Ed25519.SigningKey.generate()
        let p = try Harness.publish(
            Harness.record(testimony: "\"transcript\": \(Harness.quoted("WeChat ID: \(Synthetic.wechat) now."))"),
            policy: Harness.yaml(fields: ["testimony.transcript: keep"], identifiers: ["wechat_id: strip"]))
        #expect(p.result.values.map(\.value) == ["[removed: WeChat ID]"])
        let text = try Annotation.sign(
            p.result, policyName: "test", policyHash: Self.policyHash, key: publisher, issuedAt: 1_767_225_600)
        let publisherFingerprint = Fingerprint.of(publisher.publicKey)
        // A publication's signer (the key's fingerprint computed once) makes the same annotation, byte for byte
        // (Ed25519 is deterministic), and names the key in the header.
        let signer = Annotation.Signer(key: publisher)
        #expect(
            try signer.sign(p.result, policyName: "test", policyHash: Self.policyHash, issuedAt: 1_767_225_600) == text)
        #expect(try SignedJWT.parse(text).header["kid"] == .string(publisherFingerprint))
        // When the annotation is verified, Then it verifies: the marker is the publisher's own text
        _ = try Annotation.verify(
            text, file: "x.annotation.jws", presentation: p.result.presentation, verified: p.verified,
            trustedKey: { $0 == publisherFingerprint ? publisher.publicKey : p.collector.trusted($0) })
    }

    static let markers: [(String, String)] =
        IdentifierKind.allCases.map { ($0.rawValue, RedactionMarker.removed($0)) } + [
            ("text withheld", RedactionMarker.textWithheld), ("person named", "[text withheld: it named a person]"),
        ]

    @Test(arguments: markers)
    func aMarkerIsNoIdentifier(_ name: String, _ marker: String) {
        #expect(Self.markers.count == 10)
        // A marker shown in text must never look like an identifier itself (verification rejects those).
        #expect(Detector().scan(marker).isEmpty, "\(name): \(marker)")
    }
}
