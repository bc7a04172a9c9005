import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Testing

@testable import AmanatPublish

/// Field operators (Specs/policies.md, "Operators"): what each does to a structured field of a signed record.
@Suite("Redactor: field operators")
struct FieldOperatorTests {
    /// What a row expects at its pointer.
    enum Expected: Sendable, Equatable {
        /// The collector's value is presented.
        case original
        /// Withheld: not presented and no publisher value.
        case withheld
        /// A publisher value, exactly.
        case made(op: String, kind: String?, value: String)
        /// A pseudonym: `op` pseudonymize, this kind, a value starting with `prefix`.
        case pseudonym(kind: String, prefix: String)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// Members of `testifier` in the record.
        var testifier: String
        /// The field rule (nil: the policy does not name the field).
        var rule: String?
        var identifiers: [String] = []
        var pointer: String
        var expected: Expected
        /// Values the policy names no rule for (report.notInPolicy).
        var notInPolicy = 0
        /// Structured fields replaced by publisher values, per operator (report.fields).
        var fields: [String: Int] = [:]
        /// Identifiers found, per kind and operator (report.identifiers).
        var identifierCounts: [String: [String: Int]] = [:]

        var testDescription: String { name }
    }

    static let id = Synthetic.cnID
    static let iin = Synthetic.kzIIN
    static let phone = Synthetic.kzPhone

    static let rows: [Row] = [
        Row(
            name: "keep presents the original", testifier: #""gender": "female""#, rule: "testifier.gender: keep",
            pointer: "/testifier/gender", expected: .original),
        Row(
            name: "strip withholds without a publisher value", testifier: #""gender": "female""#,
            rule: "testifier.gender: strip", pointer: "/testifier/gender", expected: .withheld),
        Row(
            name: "a field the policy does not name is withheld and counted", testifier: #""gender": "female""#,
            rule: nil, pointer: "/testifier/gender", expected: .withheld, notInPolicy: 1),
        Row(
            name: "pseudonymize a Chinese ID", testifier: #""cnResidentId": "\#(id)""#,
            rule: "testifier.cnResidentId: pseudonymize", pointer: "/testifier/cnResidentId",
            expected: .pseudonym(kind: "cn_resident_id", prefix: "CNID-"), fields: ["pseudonymize": 1]),
        Row(
            name: "pseudonymize an IIN", testifier: #""kzIin": "\#(iin)""#, rule: "testifier.kzIin: pseudonymize",
            pointer: "/testifier/kzIin", expected: .pseudonym(kind: "kz_iin", prefix: "IIN-"),
            fields: ["pseudonymize": 1]),
        Row(
            name: "pseudonymize a phone", testifier: #""phones": ["\#(phone)"]"#,
            rule: "testifier.phones: pseudonymize",
            pointer: "/testifier/phones/0", expected: .pseudonym(kind: "phone", prefix: "TEL-"),
            fields: ["pseudonymize": 1]),
        Row(
            name: "pseudonymize with an explicit kind",
            testifier: #""documents": [{"kind": "kz_passport", "number": "\#(Synthetic.kzPassport)"}]"#,
            rule: "testifier.documents[].number: {op: pseudonymize, kind: kz_passport}",
            pointer: "/testifier/documents/0/number", expected: .pseudonym(kind: "kz_passport", prefix: "KZPP-"),
            notInPolicy: 1, fields: ["pseudonymize": 1]),
        Row(
            name: "mask a Chinese ID keeps the province digits", testifier: #""cnResidentId": "\#(id)""#,
            rule: "testifier.cnResidentId: mask", pointer: "/testifier/cnResidentId",
            expected: .made(op: "mask", kind: "cn_resident_id", value: "65" + String(repeating: "*", count: 16)),
            fields: ["mask": 1]),
        Row(
            name: "mask with keep: 4", testifier: #""cnResidentId": "\#(id)""#,
            rule: "testifier.cnResidentId: {op: mask, keep: 4}", pointer: "/testifier/cnResidentId",
            expected: .made(op: "mask", kind: "cn_resident_id", value: "6501" + String(repeating: "*", count: 14)),
            fields: ["mask": 1]),
        Row(
            name: "mask a phone keeps its country code", testifier: #""phones": ["\#(phone)"]"#,
            rule: "testifier.phones: mask", pointer: "/testifier/phones/0",
            expected: .made(op: "mask", kind: "phone", value: "+7" + String(repeating: "*", count: 14)),
            fields: ["mask": 1]),
        Row(
            name: "generalize a birth date to its year", testifier: #""dateOfBirth": "1985-03-14""#,
            rule: "testifier.dateOfBirth: {op: generalize, level: year}", pointer: "/testifier/dateOfBirth",
            expected: .made(op: "generalize", kind: "date_of_birth", value: "1985"), fields: ["generalize": 1]),
        Row(
            name: "generalize a birth date to its decade", testifier: #""dateOfBirth": "1985-03-14""#,
            rule: "testifier.dateOfBirth: {op: generalize, level: decade}", pointer: "/testifier/dateOfBirth",
            expected: .made(op: "generalize", kind: "date_of_birth", value: "1980s"), fields: ["generalize": 1]),
        Row(
            name: "generalize a Chinese ID to its province", testifier: #""cnResidentId": "\#(id)""#,
            rule: "testifier.cnResidentId: generalize", pointer: "/testifier/cnResidentId",
            expected: .made(op: "generalize", kind: "cn_resident_id", value: "Xinjiang"), fields: ["generalize": 1]),
        Row(
            name: "generalize an IIN to the birth year", testifier: #""kzIin": "\#(iin)""#,
            rule: "testifier.kzIin: generalize", pointer: "/testifier/kzIin",
            expected: .made(op: "generalize", kind: "kz_iin", value: "1985"), fields: ["generalize": 1]),
        Row(
            name: "generalize a phone to country and area", testifier: #""phones": ["\#(phone)"]"#,
            rule: "testifier.phones: generalize", pointer: "/testifier/phones/0",
            expected: .made(op: "generalize", kind: "phone", value: "+7 701"), fields: ["generalize": 1]),
        Row(
            name: "generalize a phone to its country", testifier: #""phones": ["\#(phone)"]"#,
            rule: "testifier.phones: {op: generalize, level: country}", pointer: "/testifier/phones/0",
            expected: .made(op: "generalize", kind: "phone", value: "+7"), fields: ["generalize": 1]),
        Row(
            name: "generalize an area code to its province", testifier: #""hometown": {"areaCode": "654021"}"#,
            rule: "testifier.hometown.areaCode: generalize", pointer: "/testifier/hometown/areaCode",
            expected: .made(op: "generalize", kind: nil, value: "Xinjiang"), fields: ["generalize": 1]),
        Row(
            name: "keep on an ID field follows the identifiers rule (unlisted: strip)",
            testifier: #""cnResidentId": "\#(id)""#, rule: "testifier.cnResidentId: keep",
            pointer: "/testifier/cnResidentId", expected: .withheld,
            identifierCounts: ["cn_resident_id": ["strip": 1]]),
        Row(
            name: "keep on an ID field follows the identifiers rule (pseudonymize)",
            testifier: #""cnResidentId": "\#(id)""#, rule: "testifier.cnResidentId: keep",
            identifiers: ["cn_resident_id: pseudonymize"], pointer: "/testifier/cnResidentId",
            expected: .pseudonym(kind: "cn_resident_id", prefix: "CNID-"),
            identifierCounts: ["cn_resident_id": ["pseudonymize": 1]]),
    ]

    @Test(arguments: rows)
    func fieldOperator(_ row: Row) throws {
        #expect(Self.rows.count == 19)
        // Given a record whose testifier holds just the field of the row, and a policy with the row's rule
        let yaml = Harness.yaml(fields: row.rule.map { [$0] } ?? [], identifiers: row.identifiers)
        // When it is published
        let p = try Harness.publish(Harness.record(testifier: row.testifier), policy: yaml)
        // Then the value has the expected fate, and the report counts it where the row says
        let outcome = try p.outcome(row.pointer)
        let original = try #require(try p.originals()[row.pointer])
        switch row.expected {
        case .original:
            #expect(outcome == .original(original))
            // Its disclosure and its parent's are presented, besides /testimony (which holds the kept consent).
            #expect(try p.presentedDisclosures() == ["/testimony", "/testifier", row.pointer])
        case .withheld:
            #expect(outcome == .withheld)
            #expect(try p.presentedDisclosures() == ["/testimony"])
        case .made(let op, let kind, let value):
            #expect(outcome == .publisher(op: op, kind: kind, value: value))
            #expect(try p.presentedDisclosures() == ["/testimony"])
        case .pseudonym(let kind, let prefix):
            guard case .publisher(let op, let madeKind, let value) = outcome else {
                Issue.record("expected a pseudonym, got \(outcome)")
                return
            }
            #expect(op == "pseudonymize" && madeKind == kind)
            #expect(value.hasPrefix(prefix) && value.count == prefix.count + 24)
            #expect(.string(value) != original)
            #expect(try p.presentedDisclosures() == ["/testimony"])
        }
        #expect(p.report.notInPolicy == row.notInPolicy)
        #expect(p.report.fields == row.fields)
        #expect(p.report.identifiers == row.identifierCounts)
        try Harness.checkInvariants(p)
    }

    struct AddressRow: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: [String]
        var pointer: String
        /// Members presented as the collector wrote them.
        var presented: [String]
        /// Members replaced by publisher values (member: value).
        var made: [String: String] = [:]
        var testDescription: String { name }
    }

    static let hometown =
        #"{"province": "新疆", "prefecture": "伊犁哈萨克自治州", "county": "伊宁县", "township": "Invented township", "#
        + #""village": "Invented village 7", "areaCode": "654021"}"#
    static let residence =
        #"{"country": "KZ", "region": "Invented oblysy", "district": "Invented district", "#
        + #""locality": "Invented aul", "street": "Invented street 12"}"#

    static let addressRows: [AddressRow] = [
        AddressRow(
            name: "level prefecture keeps province and prefecture",
            rules: ["testifier.hometown: {op: generalize, level: prefecture}"], pointer: "/testifier/hometown",
            presented: ["province", "prefecture"]),
        AddressRow(
            name: "the default level is prefecture", rules: ["testifier.hometown: generalize"],
            pointer: "/testifier/hometown", presented: ["province", "prefecture"]),
        AddressRow(
            name: "level province drops the prefecture",
            rules: ["testifier.hometown: {op: generalize, level: province}"], pointer: "/testifier/hometown",
            presented: ["province"]),
        AddressRow(
            name: "a more specific rule turns the area code into its province",
            rules: ["testifier.hometown: generalize", "testifier.hometown.areaCode: generalize"],
            pointer: "/testifier/hometown", presented: ["province", "prefecture"], made: ["areaCode": "Xinjiang"]),
        AddressRow(
            name: "a residence keeps country and region",
            rules: ["testifier.residence: {op: generalize, level: province}"], pointer: "/testifier/residence",
            presented: ["country", "region"]),
    ]

    @Test(arguments: addressRows)
    func generalizeAnAddress(_ row: AddressRow) throws {
        #expect(Self.addressRows.count == 5)
        // Given a testifier with a hometown and a residence, and the row's generalize rule
        let record = Harness.record(
            testifier: #""hometown": \#(Self.hometown), "residence": \#(Self.residence)"#)
        // When it is published
        let p = try Harness.publish(record, policy: Harness.yaml(fields: row.rules))
        // Then the coarse members are the collector's originals, the finer ones are withheld
        let originals = try p.originals()
        let members = originals.keys.filter { $0.hasPrefix(row.pointer + "/") }
        #expect(members.count >= 5)
        for pointer in members {
            let member = String(pointer.dropFirst(row.pointer.count + 1))
            let outcome = try p.outcome(pointer)
            if row.presented.contains(member) {
                #expect(outcome == .original(originals[pointer]!), "\(member)")
            } else if let value = row.made[member] {
                #expect(outcome == .publisher(op: "generalize", kind: nil, value: value), "\(member)")
            } else {
                #expect(outcome == .withheld, "\(member)")
            }
        }
        // No other value of the record is presented.
        let presentedMembers = try p.presented().keys.filter { $0.hasPrefix("/testifier/") }
        #expect(Set(presentedMembers) == Set(row.presented.map { row.pointer + "/" + $0 }))
        try Harness.checkInvariants(p)
    }

    struct PseudonymRow: Sendable, CustomTestStringConvertible {
        var name: String
        var field: String
        var rule: String
        var pointer: String
        var value: String
        /// Another spelling of the same identifier.
        var sameIdentifier: String
        /// A different identifier of the same kind.
        var other: String
        var testDescription: String { name }
    }

    static let pseudonymRows: [PseudonymRow] = [
        PseudonymRow(
            name: "Chinese ID, 18 and 15 digits", field: "cnResidentId", rule: "testifier.cnResidentId: pseudonymize",
            pointer: "/testifier/cnResidentId", value: Synthetic.cnID, sameIdentifier: Synthetic.cnID15,
            other: Synthetic.otherCnID),
        PseudonymRow(
            name: "phone, two spellings", field: "phones", rule: "testifier.phones: pseudonymize",
            pointer: "/testifier/phones/0", value: Synthetic.kzPhone, sameIdentifier: "87015550123",
            other: "+7 701 555 01 24"),
        PseudonymRow(
            name: "IIN", field: "kzIin", rule: "testifier.kzIin: pseudonymize", pointer: "/testifier/kzIin",
            value: Synthetic.kzIIN, sameIdentifier: Synthetic.kzIIN, other: Synthetic.iin("62081140567")!),
    ]

    @Test(arguments: pseudonymRows)
    func pseudonymsAreStableKeyedAndNeverIdentifiers(_ row: PseudonymRow) throws {
        #expect(Self.pseudonymRows.count == 3)
        func pseudonym(_ value: String, master: SecretBytes = Harness.master) throws -> String {
            let json = row.field == "phones" ? "[\(Harness.quoted(value))]" : Harness.quoted(value)
            // Each record is signed by a different collector: the pseudonym depends only on the value and the key.
            let p = try Harness.publish(
                Harness.record(testifier: "\"\(row.field)\": \(json)"), policy: Harness.yaml(fields: [row.rule]),
                master: master)
            try Harness.checkInvariants(p)
            guard case .publisher(_, _, let made) = try p.outcome(row.pointer) else {
                Issue.record("no publisher value at \(row.pointer)")
                return ""
            }
            return made
        }
        // Given the pseudonym of the row's identifier
        let first = try pseudonym(row.value)
        // Then it is no identifier: no digit, not the original, no checksum passes, no detector finds it
        #expect(!first.contains { $0.isNumber })
        #expect(!first.contains(row.value))
        #expect(!ChineseResidentID.isValid(first) && !KazakhIIN.isValid(first))
        #expect(Detector().scan(first).isEmpty)
        #expect(first.split(separator: "-").last!.allSatisfy { "BCDFGHJKLMNPQRST".contains($0) })
        // And the same identifier (in another record, even spelled otherwise) gives the same pseudonym,
        // another identifier or another key a different one
        #expect(try pseudonym(row.value) == first)
        #expect(try pseudonym(row.sameIdentifier) == first)
        #expect(try pseudonym(row.other) != first)
        #expect(try pseudonym(row.value, master: Harness.otherMaster) != first)
    }
}
