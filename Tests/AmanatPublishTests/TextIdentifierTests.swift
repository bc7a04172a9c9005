import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Foundation
import Testing

@testable import AmanatPublish

/// Identifiers in free text (Specs/policies.md, "The rules in one paragraph"): a segment that is one identifier
/// follows the `identifiers:` rule of its kind; an identifier sharing a segment with other words withholds the
/// whole segment.
@Suite("Redactor: identifiers in free text")
struct TextIdentifierTests {
    enum Expected: Sendable, Equatable {
        /// A publisher value, exactly (a marker, a masked or generalized form).
        case made(op: String, value: String)
        /// A pseudonym with this prefix.
        case pseudonym(prefix: String)
        /// Neither presented nor replaced.
        case withheld
    }

    struct SegmentRow: Sendable, CustomTestStringConvertible {
        var name: String
        /// The transcript: the identifier follows a context word and is followed by more text.
        var text: String
        /// The identifier as written (the segment the signing cut out).
        var written: String
        /// The `identifiers:` line (nil: none, so the kind is stripped).
        var rule: String?
        var kind: IdentifierKind
        var expected: Expected
        /// The operator the report counts for the kind.
        var counted: String
        var testDescription: String { name }
    }

    static func marker(_ kind: IdentifierKind) -> Expected { .made(op: "strip", value: RedactionMarker.removed(kind)) }

    static let segmentRows: [SegmentRow] = [
        SegmentRow(
            name: "Chinese ID, strip", text: "My ID is \(Synthetic.cnID). We left.", written: Synthetic.cnID,
            rule: "cn_resident_id: strip", kind: .cnResidentID, expected: marker(.cnResidentID), counted: "strip"),
        SegmentRow(
            name: "IIN, strip", text: "JSN \(Synthetic.kzIIN). We left.", written: Synthetic.kzIIN,
            rule: "kz_iin: strip", kind: .kzIIN, expected: marker(.kzIIN), counted: "strip"),
        SegmentRow(
            name: "Kazakh phone, strip", text: "Call \(Synthetic.kzPhone). We left.", written: Synthetic.kzPhone,
            rule: "phone: strip", kind: .phone, expected: marker(.phone), counted: "strip"),
        SegmentRow(
            name: "Chinese mobile, strip", text: "Call \(Synthetic.cnMobile). We left.", written: Synthetic.cnMobile,
            rule: "phone: strip", kind: .phone, expected: marker(.phone), counted: "strip"),
        SegmentRow(
            name: "Kazakh passport, strip", text: "My passport \(Synthetic.kzPassport). We left.",
            written: Synthetic.kzPassport, rule: "kz_passport: strip", kind: .kzPassport,
            expected: marker(.kzPassport), counted: "strip"),
        SegmentRow(
            name: "Chinese passport, strip", text: "passport no. \(Synthetic.cnPassport). We left.",
            written: Synthetic.cnPassport, rule: "cn_passport: strip", kind: .cnPassport,
            expected: marker(.cnPassport), counted: "strip"),
        SegmentRow(
            name: "e-mail, strip", text: "Mail \(Synthetic.email) now.", written: Synthetic.email,
            rule: "email: strip", kind: .email, expected: marker(.email), counted: "strip"),
        SegmentRow(
            name: "WeChat ID, strip", text: "WeChat ID: \(Synthetic.wechat) now.", written: Synthetic.wechat,
            rule: "wechat_id: strip", kind: .wechatID, expected: marker(.wechatID), counted: "strip"),
        SegmentRow(
            name: "date of birth, strip", text: "He was born 17 March 1991 in Ghulja.", written: "17 March 1991",
            rule: "date_of_birth: strip", kind: .dateOfBirth, expected: marker(.dateOfBirth), counted: "strip"),
        SegmentRow(
            name: "a kind the policy does not list is stripped", text: "My ID is \(Synthetic.cnID). We left.",
            written: Synthetic.cnID, rule: nil, kind: .cnResidentID, expected: marker(.cnResidentID),
            counted: "strip"),
        SegmentRow(
            name: "Chinese ID, pseudonymize", text: "My ID is \(Synthetic.cnID). We left.", written: Synthetic.cnID,
            rule: "cn_resident_id: pseudonymize", kind: .cnResidentID, expected: .pseudonym(prefix: "CNID-"),
            counted: "pseudonymize"),
        SegmentRow(
            name: "IIN, pseudonymize", text: "JSN \(Synthetic.kzIIN). We left.", written: Synthetic.kzIIN,
            rule: "kz_iin: pseudonymize", kind: .kzIIN, expected: .pseudonym(prefix: "IIN-"),
            counted: "pseudonymize"),
        SegmentRow(
            name: "phone, pseudonymize", text: "Call \(Synthetic.kzPhone). We left.", written: Synthetic.kzPhone,
            rule: "phone: pseudonymize", kind: .phone, expected: .pseudonym(prefix: "TEL-"), counted: "pseudonymize"),
        SegmentRow(
            name: "passport, pseudonymize", text: "My passport \(Synthetic.kzPassport). We left.",
            written: Synthetic.kzPassport, rule: "kz_passport: pseudonymize", kind: .kzPassport,
            expected: .pseudonym(prefix: "KZPP-"), counted: "pseudonymize"),
        SegmentRow(
            name: "e-mail, pseudonymize", text: "Mail \(Synthetic.email) now.", written: Synthetic.email,
            rule: "email: pseudonymize", kind: .email, expected: .pseudonym(prefix: "MAIL-"), counted: "pseudonymize"),
        SegmentRow(
            name: "date of birth, pseudonymize", text: "He was born 17 March 1991 in Ghulja.",
            written: "17 March 1991", rule: "date_of_birth: pseudonymize", kind: .dateOfBirth,
            expected: .pseudonym(prefix: "DOB-"), counted: "pseudonymize"),
        SegmentRow(
            name: "Chinese ID, mask", text: "My ID is \(Synthetic.cnID). We left.", written: Synthetic.cnID,
            rule: "cn_resident_id: mask", kind: .cnResidentID,
            expected: .made(op: "mask", value: "65" + String(repeating: "*", count: 16)), counted: "mask"),
        SegmentRow(
            name: "phone, generalize", text: "Call \(Synthetic.kzPhone). We left.", written: Synthetic.kzPhone,
            rule: "phone: generalize", kind: .phone, expected: .made(op: "generalize", value: "+7 701"),
            counted: "generalize"),
        SegmentRow(
            name: "IIN, generalize", text: "JSN \(Synthetic.kzIIN). We left.", written: Synthetic.kzIIN,
            rule: "kz_iin: generalize", kind: .kzIIN, expected: .made(op: "generalize", value: "1985"),
            counted: "generalize"),
        SegmentRow(
            name: "date of birth, generalize", text: "He was born 17 March 1991 in Ghulja.",
            written: "17 March 1991", rule: "date_of_birth: generalize", kind: .dateOfBirth,
            expected: .made(op: "generalize", value: "1991"), counted: "generalize"),
        SegmentRow(
            name: "keep never presents an identifier (its disclosure holds one)",
            text: "Call \(Synthetic.kzPhone). We left.", written: Synthetic.kzPhone, rule: "phone: keep", kind: .phone,
            expected: .withheld, counted: "keep"),
    ]

    @Test(arguments: segmentRows)
    func identifierSegmentFollowsTheIdentifiersRule(_ row: SegmentRow) throws {
        #expect(Self.segmentRows.count == 21)
        // Given a transcript signed with the identifier cut into a segment of its own
        let p = try Harness.publish(
            Harness.record(testimony: "\"transcript\": \(Harness.quoted(row.text))"),
            policy: Harness.yaml(fields: ["testimony.transcript: keep"], identifiers: row.rule.map { [$0] } ?? []))
        let segments = try p.segments("/testimony/transcript")
        let index = try #require(segments.firstIndex(of: row.written))
        #expect(segments.filter { $0 == row.written }.count == 1)
        // When the policy is applied, Then that segment is what the identifiers rule makes of it
        let outcome = try p.outcome("/testimony/transcript", segment: index)
        let rendered = try #require(p.result.rendered["testimony"]?["transcript"]?.stringValue)
        switch row.expected {
        case .made(let op, let value):
            #expect(outcome == .publisher(op: op, kind: row.kind.rawValue, value: value))
            #expect(rendered == row.text.replacingOccurrences(of: row.written, with: value))
        case .pseudonym(let prefix):
            guard case .publisher(let op, let kind, let value) = outcome else {
                Issue.record("expected a pseudonym, got \(outcome)")
                return
            }
            #expect(op == "pseudonymize" && kind == row.kind.rawValue)
            #expect(value.hasPrefix(prefix) && value.count == prefix.count + 24)
            #expect(rendered == row.text.replacingOccurrences(of: row.written, with: value))
        case .withheld:
            #expect(outcome == .withheld)
            #expect(rendered == row.text.replacingOccurrences(of: row.written, with: ""))
        }
        // And every other segment is the collector's, presented
        for (i, segment) in segments.enumerated() where i != index {
            #expect(try p.outcome("/testimony/transcript", segment: i) == .original(.string(segment)))
        }
        #expect(p.report.identifiers == [row.kind.rawValue: [row.counted: 1]])
        #expect(p.report.textWithheldWhole.isEmpty)
        try Harness.checkInvariants(p)
    }

    struct WholeRow: Sendable, CustomTestStringConvertible {
        var name: String
        /// The middle line of the transcript, identifier(s) and other words together.
        var line: String
        var identifiers: [String] = []
        /// report.textWithheldWhole.
        var counts: [String: Int]
        var testDescription: String { name }
    }

    static let wholeRows: [WholeRow] = [
        WholeRow(name: "Chinese ID", line: "My ID is \(Synthetic.cnID).\n", counts: ["cn_resident_id": 1]),
        WholeRow(name: "IIN", line: "JSN \(Synthetic.kzIIN), written on the card.\n", counts: ["kz_iin": 1]),
        WholeRow(name: "phone", line: "Call \(Synthetic.kzPhone) after six.\n", counts: ["phone": 1]),
        WholeRow(
            name: "Kazakh passport", line: "My passport \(Synthetic.kzPassport) was taken.\n",
            counts: ["kz_passport": 1]),
        WholeRow(
            name: "Chinese passport", line: "passport no. \(Synthetic.cnPassport) expired.\n",
            counts: ["cn_passport": 1]),
        WholeRow(name: "e-mail", line: "Write to \(Synthetic.email) please.\n", counts: ["email": 1]),
        WholeRow(name: "WeChat ID", line: "WeChat ID: \(Synthetic.wechat) was deleted.\n", counts: ["wechat_id": 1]),
        WholeRow(name: "date of birth", line: "He was born 17 March 1991 in Ghulja.\n", counts: ["date_of_birth": 1]),
        WholeRow(
            name: "two identifiers, each counted", line: "ID \(Synthetic.cnID), phone \(Synthetic.cnMobile).\n",
            counts: ["cn_resident_id": 1, "phone": 1]),
        WholeRow(
            name: "an identifiers rule that would pseudonymize does not apply inside a segment",
            line: "My ID is \(Synthetic.cnID).\n", identifiers: ["cn_resident_id: pseudonymize"],
            counts: ["cn_resident_id": 1]),
    ]

    @Test(arguments: wholeRows)
    func identifierInsideASegmentWithholdsTheWholeSegment(_ row: WholeRow) throws {
        #expect(Self.wholeRows.count == 10)
        // Given a transcript whose signing split it only at line ends (a split that missed the identifier)
        let text = "We spoke in the spring.\n" + row.line + "That was all."
        let p = try Harness.publish(
            Harness.record(testimony: "\"transcript\": \(Harness.quoted(text))"),
            policy: Harness.yaml(fields: ["testimony.transcript: keep"], identifiers: row.identifiers),
            signing: .lineSegmented)
        #expect(try p.segments("/testimony/transcript") == ["We spoke in the spring.\n", row.line, "That was all."])
        // When the policy is applied, Then the line with the identifier is withheld whole and marked as such
        #expect(
            try p.outcome("/testimony/transcript", segment: 1)
                == .publisher(op: "withhold", kind: nil, value: RedactionMarker.textWithheld))
        #expect(try p.outcome("/testimony/transcript", segment: 0) == .original(.string("We spoke in the spring.\n")))
        #expect(try p.outcome("/testimony/transcript", segment: 2) == .original(.string("That was all.")))
        #expect(p.report.textWithheldWhole == row.counts)
        #expect(p.report.identifiers.isEmpty)
        #expect(
            p.result.rendered["testimony"]?["transcript"]
                == .string("We spoke in the spring.\n" + RedactionMarker.textWithheld + "That was all."))
        try Harness.checkInvariants(p)
    }

    struct FieldTextRow: Sendable, CustomTestStringConvertible {
        var name: String
        var notes: String
        var identifiers: [String] = []
        var expected: Expected?
        var identifierCounts: [String: [String: Int]] = [:]
        var whole: [String: Int] = [:]
        var testDescription: String { name }
    }

    static let fieldTextRows: [FieldTextRow] = [
        FieldTextRow(
            name: "text without identifiers is presented", notes: "Nothing more to add.", expected: nil),
        FieldTextRow(
            name: "an identifier alone, stripped: withheld, no marker", notes: Synthetic.cnID,
            identifiers: ["cn_resident_id: strip"], expected: .withheld,
            identifierCounts: ["cn_resident_id": ["strip": 1]]),
        FieldTextRow(
            name: "an identifier alone, pseudonymized", notes: Synthetic.cnID,
            identifiers: ["cn_resident_id: pseudonymize"], expected: .pseudonym(prefix: "CNID-"),
            identifierCounts: ["cn_resident_id": ["pseudonymize": 1]]),
        FieldTextRow(
            name: "an identifier with spaces around it counts as alone", notes: " \(Synthetic.cnID)\n",
            identifiers: ["cn_resident_id: pseudonymize"], expected: .pseudonym(prefix: "CNID-"),
            identifierCounts: ["cn_resident_id": ["pseudonymize": 1]]),
        FieldTextRow(
            name: "an identifier among words withholds the field", notes: "Call \(Synthetic.kzPhone) after six.",
            identifiers: ["phone: pseudonymize"], expected: .made(op: "withhold", value: RedactionMarker.textWithheld),
            whole: ["phone": 1]),
    ]

    @Test(arguments: fieldTextRows)
    func freeTextFieldWithoutSegments(_ row: FieldTextRow) throws {
        #expect(Self.fieldTextRows.count == 5)
        // Given a kept free-text field (not segmented at signing)
        let p = try Harness.publish(
            Harness.record(testifier: "\"notes\": \(Harness.quoted(row.notes))"),
            policy: Harness.yaml(fields: ["testifier.notes: keep"], identifiers: row.identifiers))
        // When the policy is applied, Then the field follows the row
        let outcome = try p.outcome("/testifier/notes")
        switch row.expected {
        case nil:
            #expect(outcome == .original(.string(row.notes)))
        case .withheld?:
            #expect(outcome == .withheld)
        case .made(let op, let value)?:
            #expect(outcome == .publisher(op: op, kind: nil, value: value))
        case .pseudonym(let prefix)?:
            guard case .publisher(let op, let kind, let value) = outcome else {
                Issue.record("expected a pseudonym, got \(outcome)")
                return
            }
            #expect(op == "pseudonymize" && kind == "cn_resident_id" && value.hasPrefix(prefix))
        }
        #expect(p.report.identifiers == row.identifierCounts)
        #expect(p.report.textWithheldWhole == row.whole)
        try Harness.checkInvariants(p)
    }

    @Test func aContextWordInAnotherSegmentStillMakesAnIdentifier() throws {
        // Given a transcript split at line ends, with the context word "passport" on the line before the number
        let text = "Her passport number:\n\(Synthetic.kzPassport)\nThat was all."
        let collector = try Collector()
        let signed = try collector.sign(
            Harness.record(testimony: "\"transcript\": \(Harness.quoted(text))"), policy: .lineSegmented)
        #expect(Detector().scan("\(Synthetic.kzPassport)\n").isEmpty)
        // When step 1 scans the segmented texts
        let policy = try Harness.policy(Harness.yaml(fields: ["testimony.transcript: keep"]))
        let found = Harness.redactor(policy).findIdentifiersInTexts(try DisclosureMap(signed.sdjwt))
        // Then the text is scanned whole: the number on its own line is found as a passport, inside segment 1
        let findings = try #require(found.findings["/testimony/transcript"])
        #expect(findings.map(\.1.kind) == [.kzPassport])
        let ranges = try #require(found.segmentRanges["/testimony/transcript"])
        #expect(ranges.count == 3)
        #expect(ranges[1].map { findings[0].0.overlaps($0) } == true)
        // And the published segment is the passport marker (the newline beside it may stay in the segment)
        let p = try Harness.publish(
            Harness.record(testimony: "\"transcript\": \(Harness.quoted(text))"),
            policy: Harness.yaml(fields: ["testimony.transcript: keep"]), signing: .lineSegmented)
        #expect(
            try p.outcome("/testimony/transcript", segment: 1)
                == .publisher(op: "strip", kind: "kz_passport", value: "[passport removed]"))
        try Harness.checkInvariants(p)
    }

    @Test func anIdentifierInTextAndInAFieldGetOnePseudonym() throws {
        // Given the same Chinese ID in the testifier's field and in the transcript
        let p = try Harness.publish(
            Harness.record(
                testifier: "\"cnResidentId\": \"\(Synthetic.cnID)\"",
                testimony: "\"transcript\": \(Harness.quoted("My ID is \(Synthetic.cnID). We left."))"),
            policy: Harness.yaml(
                fields: ["testifier.cnResidentId: pseudonymize", "testimony.transcript: keep"],
                identifiers: ["cn_resident_id: pseudonymize"]))
        // When both are pseudonymized, Then they are one pseudonym (mentions of one person stay linked)
        let field = p.values["/testifier/cnResidentId"]?.value
        let text = p.values["/testimony/transcript#1"]?.value
        #expect(field != nil && field == text)
        #expect(field?.hasPrefix("CNID-") == true)
        try Harness.checkInvariants(p)
    }
}
