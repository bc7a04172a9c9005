import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Testing

@testable import AmanatPublish

/// Names the policy withholds must not leak through free text, and `when:` conditions change the rules for the
/// records they match.
@Suite("Redactor: names in text and conditions")
struct NameAndConditionTests {
    static let people = """
        "testifier": {"name": {"latn": "Aigerim Testova", "kkCyrl": "Айгерим Тестова"}},
        "detainees": [{"name": {"latn": "Dauren Sampleuly"},
                       "relativesInXinjiang": [{"name": {"latn": "Saltanat Inventova"}}]}]
        """
    static let opening = "We spoke in the spring. "
    static let namedPerson = "[text withheld: it named a person]"

    struct NameRow: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: [String]
        /// The second sentence of the transcript.
        var sentence: String
        var withheld: Bool
        var testDescription: String { name }
    }

    static let allNamesKept = [
        "testifier.name: keep", "detainees[].name: keep", "detainees[].relativesInXinjiang[].name: keep",
    ]

    static let nameRows: [NameRow] = [
        NameRow(
            name: "the testifier's full name, not in the policy", rules: [],
            sentence: "Aigerim Testova spoke first.", withheld: true),
        NameRow(
            name: "a distinctive part of a withheld name", rules: [], sentence: "Then Testova left.", withheld: true),
        NameRow(name: "a withheld name in other case", rules: [], sentence: "AIGERIM came later.", withheld: true),
        NameRow(
            name: "another spelling the record lists", rules: [], sentence: "Айгерим пришла.", withheld: true),
        NameRow(
            name: "a name the policy strips", rules: ["testifier.name: strip"],
            sentence: "Aigerim Testova spoke first.", withheld: true),
        NameRow(
            name: "a detainee's name", rules: ["testifier.name: keep"], sentence: "Dauren was taken away.",
            withheld: true),
        NameRow(
            name: "a relative's name", rules: ["testifier.name: keep"], sentence: "Saltanat stayed behind.",
            withheld: true),
        NameRow(
            name: "a kept name does not withhold the text", rules: ["testifier.name: keep"],
            sentence: "Aigerim Testova spoke first.", withheld: false),
        NameRow(
            name: "every name kept", rules: allNamesKept, sentence: "Dauren and Saltanat were taken away.",
            withheld: false),
        NameRow(name: "no name mentioned", rules: [], sentence: "Nobody else was there.", withheld: false),
    ]

    @Test(arguments: nameRows)
    func aWithheldNameWithholdsTheSegmentThatMentionsIt(_ row: NameRow) throws {
        #expect(Self.nameRows.count == 10)
        // Given a record listing names and a transcript whose second sentence is the row's
        let text = Self.opening + row.sentence
        let record = Harness.record(
            testimony: "\"transcript\": \(Harness.quoted(text))", others: Self.people)
        // When it is published under a policy that keeps the transcript and the row's name rules
        let p = try Harness.publish(
            record, policy: Harness.yaml(fields: ["testimony.transcript: keep"] + row.rules))
        #expect(try p.segments("/testimony/transcript") == [Self.opening, row.sentence])
        // Then the sentence is withheld with the name marker exactly when it names a person the policy withholds
        let outcome = try p.outcome("/testimony/transcript", segment: 1)
        if row.withheld {
            #expect(outcome == .publisher(op: "withhold", kind: nil, value: Self.namedPerson))
            #expect(p.report.textWithheldWhole == ["person_name": 1])
        } else {
            #expect(outcome == .original(.string(row.sentence)))
            #expect(p.report.textWithheldWhole.isEmpty)
        }
        #expect(try p.outcome("/testimony/transcript", segment: 0) == .original(.string(Self.opening)))
        // And a kept name is itself presented
        if row.rules.contains("testifier.name: keep") {
            #expect(try p.outcome("/testifier/name/latn") == .original(.string("Aigerim Testova")))
        } else {
            #expect(try p.outcome("/testifier/name/latn") == .withheld)
        }
        try Harness.checkInvariants(p)
    }

    @Test func aWithheldNameDoesNotWithholdAValueThatIsNotFreeText() throws {
        // Given a testifier whose only (withheld) name is "Li", and a kept consent "public" that contains "li"
        let p = try Harness.publish(
            Harness.record(
                testifier: #""name": {"latn": "Li"}"#, testimony: #""transcript": "We spoke in the spring.""#),
            policy: Harness.yaml(fields: ["testimony.transcript: keep"]))
        // When it is published, Then the consent and the testimony holding it are presented (names are looked for
        // in free text, Specs/policies.md)
        // Known issue: every kept string is searched for name tokens by substring, so "public" counts as naming
        // "Li": the consent is replaced by the name marker and the whole testimony disclosure is withheld.
        let consent = try p.outcome("/testimony/consent")
        let presented = try p.presentedDisclosures()
        withKnownIssue("Redactor.decideLeaves searches enum values such as the consent for withheld names") {
            #expect(consent == .original(.string("public")))
            #expect(presented.contains("/testimony"))
        }
        try Harness.checkInvariants(p)
    }

    @Test func protectedNamesAreTheTokensOfEveryNameThePolicyDoesNotKeep() throws {
        // Given the record's names and a policy that keeps only the testifier's
        let collector = try Collector()
        let signed = try collector.sign(Harness.record(others: Self.people))
        let policy = try Harness.policy(Harness.yaml(fields: ["testifier.name: keep"]))
        let map = try DisclosureMap(signed.sdjwt)
        // When step 2 collects the protected names
        let names = Harness.redactor(policy).protectedNames(
            map, rules: policy.resolved(consent: "public", riskFlags: []))
        // Then they are the detainee's and the relative's, whole and by their distinctive parts, in lower case
        #expect(
            names == [
                "dauren sampleuly", "dauren", "sampleuly", "saltanat inventova", "saltanat", "inventova",
            ])
    }

    static let nameTokenRows: [(String, [String])] = [
        ("Aigerim Testova", ["aigerim testova", "aigerim", "testova"]),
        ("  Li Na ", ["li na"]),
        ("王伟", ["王伟"]),
        ("A", []),
        ("Dauren", ["dauren"]),
    ]

    @Test(arguments: nameTokenRows)
    func nameTokens(_ name: String, _ tokens: [String]) {
        #expect(Self.nameTokenRows.count == 5)
        // A name gives itself (lower case, trimmed) and its words of three or more letters; one letter gives nothing.
        #expect(Redactor.nameTokens(name) == tokens)
    }

    // MARK: Conditions

    static let conditionPolicy = """
        policy: test
        version: 1
        consent: [public, partners]
        fields:
          schema: keep
          testimony.consent: keep
          testimony.transcript: keep
          testifier.dateOfBirth: {op: generalize, level: year}
        identifiers:
          cn_resident_id: pseudonymize
        when:
          - riskFlags: [relatives_in_xinjiang, relatives_threatened]
            fields:
              testifier.dateOfBirth: strip
            identifiers:
              cn_resident_id: strip
          - riskFlags: [testifier_threatened]
            fields:
              testifier.dateOfBirth: {op: generalize, level: decade}
          - consent: [partners]
            fields:
              testimony.transcript: strip

        """

    enum IDExpected: Sendable, Equatable { case pseudonym, marker, withheld }

    struct ConditionRow: Sendable, CustomTestStringConvertible {
        var name: String
        var consent = "public"
        var flags: [String]
        /// The published birth date (nil: withheld).
        var birth: String?
        var id: IDExpected
        /// report.conditions: the lines of the conditions in force.
        var lines: [Int]
        var testDescription: String { name }
    }

    static let conditionRows: [ConditionRow] = [
        ConditionRow(name: "no flags: the base rules", flags: [], birth: "1985", id: .pseudonym, lines: []),
        ConditionRow(
            name: "relatives in Xinjiang: strip birth date and IDs", flags: ["relatives_in_xinjiang"], birth: nil,
            id: .marker, lines: [12]),
        ConditionRow(
            name: "any flag of the list triggers the condition", flags: ["relatives_threatened"], birth: nil,
            id: .marker, lines: [12]),
        ConditionRow(
            name: "another condition: decade", flags: ["testifier_threatened"], birth: "1980s", id: .pseudonym,
            lines: [17]),
        ConditionRow(
            name: "two conditions: the later wins for a field, identifiers from both",
            flags: ["relatives_in_xinjiang", "testifier_threatened"], birth: "1980s", id: .marker, lines: [12, 17]),
        ConditionRow(
            name: "a flag no condition names changes nothing", flags: ["health_information"], birth: "1985",
            id: .pseudonym, lines: []),
        ConditionRow(
            name: "a consent condition", consent: "partners", flags: [], birth: "1985", id: .withheld, lines: [20]),
    ]

    @Test(arguments: conditionRows)
    func conditionsInForceOverrideTheBaseRules(_ row: ConditionRow) throws {
        #expect(Self.conditionRows.count == 7)
        // Given a record with the row's consent and risk flags, a birth date and an ID in its transcript
        let flags = row.flags.map(Harness.quoted).joined(separator: ", ")
        let text = "My ID is \(Synthetic.cnID). We left."
        let record = """
            {"schema": "amanat-record/v1", "testifier": {"dateOfBirth": "1985-03-14"},
             "testimony": {"consent": "\(row.consent)", "riskFlags": [\(flags)], "transcript": \(Harness.quoted(text))}}
            """
        // When it is published
        let p = try Harness.publish(record, policy: Self.conditionPolicy)
        // Then the report names the conditions in force, and the birth date and the ID follow them
        #expect(p.report.conditions == row.lines)
        #expect(p.report.consent == row.consent)
        if let birth = row.birth {
            #expect(
                try p.outcome("/testifier/dateOfBirth")
                    == .publisher(op: "generalize", kind: "date_of_birth", value: birth))
        } else {
            #expect(try p.outcome("/testifier/dateOfBirth") == .withheld)
        }
        let segment = try #require(try p.segments("/testimony/transcript").firstIndex(of: Synthetic.cnID))
        let id = try p.outcome("/testimony/transcript", segment: segment)
        switch row.id {
        case .pseudonym:
            guard case .publisher("pseudonymize", "cn_resident_id", let value) = id else {
                Issue.record("expected a pseudonym, got \(id)")
                return
            }
            #expect(value.hasPrefix("CNID-"))
        case .marker:
            #expect(id == .publisher(op: "strip", kind: "cn_resident_id", value: "[ID removed]"))
        case .withheld:
            #expect(id == .withheld)
            #expect(try p.outcome("/testimony/transcript", segment: 0) == .withheld)
        }
        try Harness.checkInvariants(p)
    }
}
