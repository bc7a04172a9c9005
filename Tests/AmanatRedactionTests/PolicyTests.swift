import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatRedaction

@Suite("Redaction policies: YAML subset, model, rule resolution, operators")
struct PolicyTests {
    static let specs = PackagePaths.url("Specs/policies")

    static func load(_ name: String) throws -> RedactionPolicy {
        try RedactionPolicy.parse(Array(try Data(contentsOf: specs.appendingPathComponent(name))))
    }

    func parse(_ text: String) throws -> RedactionPolicy { try RedactionPolicy.parse(Array(text.utf8)) }

    /// The line of the error a policy text raises (nil if it parses).
    func errorLine(_ text: String) -> (Int, String)? {
        do {
            _ = try parse(text)
            return nil
        } catch let error as PolicyError {
            return (error.line, error.reason)
        } catch {
            return (-1, "\(error)")
        }
    }

    static let minimal = """
        policy: test
        version: 1
        consent: [public]
        fields:
          schema: keep
        identifiers:
          phone: strip

        """

    @Test func shippedPoliciesParse() throws {
        let pub = try Self.load("public.yaml")
        #expect(pub.name == "public")
        #expect(pub.consent == ["public"])
        #expect(pub.purpose == "publication" && pub.recipient == "public")
        #expect(pub.fields.count > 50)
        #expect(pub.identifiers.count == IdentifierKind.allCases.count)
        #expect(pub.conditions.count == 2)
        #expect(pub.conditions[0].riskFlags?.contains("relatives_in_xinjiang") == true)
        let partner = try Self.load("partner.yaml")
        #expect(partner.consent == ["public", "partners"])
        #expect(partner.recipient == "partner" && partner.purpose == "exchange")
    }

    @Test func aPolicyWithCRLFLineEndsReadsLikeTheLFOne() throws {
        // Given the shipped public policy as a Windows editor saves it (CR LF line ends)
        let lf = try Data(contentsOf: Self.specs.appendingPathComponent("public.yaml"))
        let crlf = Array(String(decoding: lf, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(crlf.filter { $0 == 0x0D }.count > 50)
        // Then it parses (it was reported as "empty") to the same rules, with the same line numbers
        let fromCRLF = try RedactionPolicy.parse(crlf)
        let fromLF = try RedactionPolicy.parse(Array(lf))
        #expect(fromCRLF.fields.count == fromLF.fields.count)
        #expect(fromCRLF.fields.map(\.path.description) == fromLF.fields.map(\.path.description))
        #expect(fromCRLF.conditions.map(\.line) == fromLF.conditions.map(\.line))
        // And an error in a CR LF file names the right line
        #expect(throws: PolicyError.self) { try parse("policy: x\r\nversion: 1\r\nbogus: 2\r\n") }
        do {
            _ = try parse("policy: x\r\nversion: 1\r\nbogus: 2\r\n")
        } catch let error as PolicyError {
            #expect(error.line == 3)
        }
    }

    @Test func yamlSubsetFeatures() throws {
        let node = try PolicyYAML.parse(
            Array(
                """
                ---
                # a comment
                a: plain value   # trailing comment
                'b c': "x # not a comment \\u0041"
                d: 'it''s'
                e: [one, 'two, three', "four"]
                f: {op: mask, keep: 2}
                g:
                - x: 1
                  y: 2
                - plain
                h:
                  - nested
                """.utf8))
        guard case .mapping(let entries, _) = node else {
            Issue.record("not a mapping")
            return
        }
        #expect(entries.map(\.key) == ["a", "b c", "d", "e", "f", "g", "h"])
        #expect(entries[0].value == .scalar("plain value", line: 3))
        #expect(entries[1].value == .scalar("x # not a comment A", line: 4))
        #expect(entries[2].value == .scalar("it's", line: 5))
        guard case .sequence(let e, _) = entries[3].value, case .mapping(let f, _) = entries[4].value,
            case .sequence(let g, _) = entries[5].value, case .sequence(let h, _) = entries[6].value
        else {
            Issue.record("wrong shapes")
            return
        }
        #expect(e.count == 3 && e[1] == .scalar("two, three", line: 6))
        #expect(f.map(\.key) == ["op", "keep"])
        #expect(g.count == 2 && h.count == 1)
        guard case .mapping(let item, _) = g[0] else {
            Issue.record("list item is not a mapping")
            return
        }
        #expect(item.map(\.key) == ["x", "y"] && item[1].line == 10)
    }

    @Test(arguments: [
        // (policy text, expected line, a word the message must contain)
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: shred\nidentifiers:\n  phone: strip\n", 5,
            "unknown operator"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: keep\n   language: keep\nidentifiers: {}\n",
            6, "indentation"
        ),
        ("policy: t\nversion: 1\nconsent: [public]\nfields:\n\tschema: keep\nidentifiers: {}\n", 5, "tab"),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: keep\n  schema: strip\nidentifiers: {}\n", 6,
            "duplicate key"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: keep\nidentifiers:\n  iban: strip\n", 7,
            "unknown detector kind"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: keep\nidentifiers:\n  phone: \"str", 7,
            "unterminated"
        ),
        ("policy: t\nversion: 1\nconsent: [public\n", 3, "unterminated"),
        ("policy: t\nversion: 1\nconsent: [public, internal]\nfields: {}\nidentifiers: {}\n", 3, "internal"),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  testifier.emails: generalize\nidentifiers: {}\n", 5,
            "generalize"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  testifier.notes: pseudonymize\nidentifiers: {}\n", 5,
            "kind"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  detainees..name: keep\nidentifiers: {}\n", 5,
            "field path"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields: {}\nidentifiers: {}\nwhen:\n  - riskFlags: [relatives_in_xinjang]\n",
            7, "risk flag"
        ),
        ("policy: t\nversion: 1\nconsent: [public]\nfields: {}\nidentifiers: {}\nexpires: 2030\n", 6, "unknown key"),
        ("policy: t\nversion: 2\nconsent: [public]\nfields: {}\nidentifiers: {}\n", 2, "version"),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: {op: keep, op: strip}\nidentifiers: {}\n", 5,
            "duplicate"
        ),
        ("policy: t\nversion: 1\nconsent: [public]\nfields:\n  schema: &a keep\nidentifiers: {}\n", 5, "anchors"),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  testifier.phones: {op: mask, level: year}\nidentifiers: {}\n",
            5, "level"
        ),
        (
            "policy: t\nversion: 1\nconsent: [public]\nfields:\n  testifier.dateOfBirth: {op: generalize, level: province}\nidentifiers: {}\n",
            5, "level"
        ),
    ])
    func hostilePoliciesNameTheLine(text: String, line: Int, word: String) {
        let error = errorLine(text)
        #expect(error?.0 == line, "expected line \(line), got \(String(describing: error))")
        #expect(error?.1.lowercased().contains(word.lowercased()) == true, "message: \(error?.1 ?? "none")")
    }

    @Test func truncationsOfThePublicPolicyFailOrParseNeverCrash() throws {
        let bytes = Array(try Data(contentsOf: Self.specs.appendingPathComponent("public.yaml")))
        var failures = 0
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            do {
                _ = try RedactionPolicy.parse(bytes[..<cut])
            } catch let error as PolicyError {
                failures += 1
                #expect(error.line >= 0 && error.line <= 200)
            }
        }
        #expect(failures > 0)
        // A cut right after the top-level keys: no fields → a clear error, not an empty policy.
        #expect(errorLine("policy: t\nversion: 1\nconsent: [public]\n")?.1.contains("fields") == true)
    }

    @Test func missingSectionsAreErrors() {
        #expect(errorLine("policy: t\nversion: 1\nfields: {}\nidentifiers: {}\n")?.1.contains("consent") == true)
        #expect(errorLine("version: 1\nconsent: [public]\nfields: {}\nidentifiers: {}\n")?.1.contains("name") == true)
        #expect(errorLine("")?.1.contains("empty") == true)
        #expect(errorLine("- a\n- b\n")?.1.contains("mapping") == true)
        #expect(errorLine(Self.minimal) == nil)
    }

    @Test func mostSpecificRuleWinsAndConditionsOverride() throws {
        let policy = try parse(
            """
            policy: t
            version: 1
            consent: [public]
            fields:
              detainees[]: keep
              detainees[].hometown.village: strip
              detainees[].dateOfBirth: generalize
            identifiers:
              cn_resident_id: pseudonymize
            when:
              - riskFlags: [relatives_in_xinjiang]
                fields:
                  detainees[].dateOfBirth: strip
                identifiers:
                  cn_resident_id: strip
            """)
        let dob: [RecordPathStep] = [.key("detainees"), .index(0), .key("dateOfBirth")]
        let village: [RecordPathStep] = [.key("detainees"), .index(2), .key("hometown"), .key("village")]
        let county: [RecordPathStep] = [.key("detainees"), .index(2), .key("hometown"), .key("county")]
        let plain = policy.resolved(consent: "public", riskFlags: [])
        #expect(plain.rule(for: dob)?.action.op == .generalize)
        #expect(plain.rule(for: village)?.action.op == .strip)
        #expect(plain.rule(for: county)?.action.op == .keep)
        #expect(plain.rule(for: [.key("testifier"), .key("name")]) == nil)  // fail closed
        #expect(plain.identifierAction(.cnResidentID).op == .pseudonymize)
        #expect(plain.identifierAction(.email).op == .strip)  // not listed → strip
        let atRisk = policy.resolved(consent: "public", riskFlags: ["relatives_in_xinjiang", "other"])
        #expect(atRisk.rule(for: dob)?.action.op == .strip)
        #expect(atRisk.identifierAction(.cnResidentID).op == .strip)
        #expect(atRisk.activeConditionLines == [11])
        #expect(PolicyFieldPath("detainees[].hometown")!.covers(village))
        #expect(!PolicyFieldPath("detainees[].hometown")!.covers([.key("detainees"), .key("hometown")]))
    }

    @Test func operatorsMakePublisherValues() throws {
        let key = SecretBytes(Array(repeating: 3, count: 32))
        func value(_ text: String, _ action: PolicyAction) throws -> String? {
            try action.publisherValue(for: text, key: { _ in key })
        }
        func action(
            _ op: RedactionOperator, _ kind: PolicyValueKind, level: GeneralizationLevel? = nil, keep: Int? = nil
        ) -> PolicyAction {
            PolicyAction(op: op, kind: kind, keepPrefix: keep, level: level, line: 1)
        }
        // 15- and 18-digit forms, and every phone spelling, give one pseudonym; it carries no digit.
        let p18 = try value("650102198001011234", action(.pseudonymize, .identifier(.cnResidentID)))
        let p15 = try value("650102800101123", action(.pseudonymize, .identifier(.cnResidentID)))
        #expect(p18 == p15 && p18?.hasPrefix("CNID-") == true && p18?.contains { $0.isNumber } == false)
        let phones = try Set(
            ["+7 (701) 234-56-78", "8 701 234 5678", "+77012345678"].map {
                try value($0, action(.pseudonymize, .identifier(.phone)))
            })
        #expect(phones.count == 1)
        #expect(try value("1990-03-12", action(.generalize, .identifier(.dateOfBirth))) == "1990")
        #expect(try value("1991-03", action(.generalize, .date, level: .decade)) == "1990s")
        #expect(try value("654027", action(.generalize, .areaCode)) == "Xinjiang")
        #expect(try value("654027198503170820", action(.generalize, .identifier(.cnResidentID))) == "Xinjiang")
        #expect(try value("+7 702 418 53 90", action(.generalize, .identifier(.phone))) == "+7 702")
        #expect(try value("+7 702 418 53 90", action(.generalize, .identifier(.phone), level: .country)) == "+7")
        #expect(try value("654027198503170820", action(.mask, .identifier(.cnResidentID))) == "65****************")
        #expect(try value("654027198503170820", action(.mask, .other, keep: 6)) == "654027************")
        #expect(try value("anything", action(.strip, .other)) == nil)
        #expect(try value("not a date", action(.generalize, .date)) == nil)
        #expect(action(.generalize, .address).keptAddressParts.contains("prefecture"))
        #expect(!action(.generalize, .address, level: .province).keptAddressParts.contains("prefecture"))
        // Purpose keys: publication and partner pseudonyms differ.
        let master = SecretBytes(Array(repeating: 9, count: 32))
        let pub = try RedactionOperators.pseudonymKey(
            master: master, purpose: "publication", recipient: "public", kind: .cnResidentID)
        let partner = try RedactionOperators.pseudonymKey(
            master: master, purpose: "exchange", recipient: "partner", kind: .cnResidentID)
        #expect(
            try pseudonymize(kind: .cnResidentID, normalizedValue: "650102198001011234", key: pub)
                != (try pseudonymize(kind: .cnResidentID, normalizedValue: "650102198001011234", key: partner)))
    }
}
