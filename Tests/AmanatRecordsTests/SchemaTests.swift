import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatRecords

/// Files under Specs/ of the package.
enum RecordSpecFiles {
    static let specs = PackagePaths.url("Specs")
    static let examples = specs.appendingPathComponent("examples")

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    static func exampleRecords() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: examples, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" && $0.lastPathComponent != "expected.json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    /// A small valid record to break in one place.
    static let base =
        #"{"schema":"amanat-record/v1","testimony":{"consent":"public"},"provenance":{"organization":"Demo Org (synthetic)","reference":"T-1"}}"#

    static func record(_ extra: [(String, JSONValue)]) throws -> JSONValue {
        var r = try json(base)
        for (k, v) in extra { r = r.setting(k, v) }
        return r
    }
}

@Suite("Record schema")
struct SchemaTests {
    let schema: RecordSchema

    init() throws {
        schema = try RecordSchema.bundled()
    }

    @Test func bundledResourceIsByteIdenticalToSpecs() throws {
        let spec = try RecordSpecFiles.bytes(RecordSpecFiles.specs.appendingPathComponent("record.schema.json"))
        let resource = try RecordSpecFiles.bytes(
            PackagePaths.url("Sources/AmanatRecords/Resources/record.schema.json"))
        #expect(
            spec == resource, "Sources/AmanatRecords/Resources/record.schema.json drifted from Specs/record.schema.json"
        )
        #expect(try RecordSchema.bundledBytes() == spec)
        #expect(schema.id == "https://amanat.invalid/schema/record/v1")
    }

    @Test func everyExampleValidates() throws {
        let files = try RecordSpecFiles.exampleRecords()
        #expect(files.count == 7)
        for file in files {
            let record = try JSONValue.parse(try RecordSpecFiles.bytes(file))
            let violations = schema.validate(record)
            #expect(violations.isEmpty, "\(file.lastPathComponent): \(violations)")
        }
    }

    @Test func everyInvalidExampleFailsForItsReason() throws {
        let expected: [String: (String, String)] = [
            "missing-consent.json": ("/testimony/consent", "required"),
            "non-iso-date.json": ("/detainees/0/dateOfBirth", "pattern"),
            "nothing-identifying.json": ("", "anyOf"),
            "short-cn-id.json": ("/detainees/0/cnResidentId", "pattern"),
            "unknown-consent.json": ("/testimony/consent", "enum"),
            "unknown-field.json": ("/testifier/nickname", "additionalProperties"),
            "uppercase-sha256.json": ("/attachments/0/sha256", "pattern"),
            "wrong-schema-version.json": ("/schema", "const"),
        ]
        let folder = RecordSpecFiles.examples.appendingPathComponent("invalid")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
            .sorted()
        #expect(files == expected.keys.sorted())
        for name in files {
            let record = try JSONValue.parse(try RecordSpecFiles.bytes(folder.appendingPathComponent(name)))
            let violations = schema.validate(record)
            #expect(violations.count == 1, "\(name): \(violations)")
            #expect(violations.first?.pointer == expected[name]?.0, "\(name)")
            #expect(violations.first?.keyword == expected[name]?.1, "\(name)")
        }
    }

    @Test func messagesNameTheRuleNotTheValue() throws {
        // Synthetic: 659001 + 1977-04-12 + 523 with its check character; an IIN from invented parts.
        let cnID = "65900119770412523X"
        let iin = "770412350184"
        let record = try RecordSpecFiles.record([
            (
                "testifier",
                .object([
                    ("kzIin", .string(cnID)),  // an 18-character ID in the 12-digit field
                    ("cnResidentId", .string(iin)),  // a 12-digit IIN in the Chinese ID field
                    ("phones", .array([.string("call " + iin)])),
                    ("documents", .array([.object([("kind", .string(iin)), ("number", .string(cnID.lowercased()))])])),
                ])
            ),
            ("detainees", .array([.object([("dateOfBirth", .string(cnID)), ("gender", .string(iin))])])),
        ])
        let violations = schema.validate(record)
        #expect(violations.count == 7)
        let text = violations.map(\.description).joined(separator: "\n")
        #expect(!text.contains(cnID) && !text.contains(iin) && !text.contains("659001") && !text.contains("770412"))
        #expect(text.contains("/testifier/kzIin: does not match the pattern for a Kazakh IIN"))
        #expect(text.contains("/testifier/cnResidentId: does not match the pattern for a Chinese resident ID"))
        #expect(violations.contains { $0.pointer == "/detainees/0/gender" && $0.keyword == "enum" })
    }

    @Test func violationsAreCapped() throws {
        let phones = JSONValue.array(Array(repeating: .string("not a phone"), count: 500))
        let record = try RecordSpecFiles.record([("testifier", .object([("phones", phones)]))])
        #expect(schema.validate(record).count == RecordSchema.defaultViolationLimit)
        #expect(
            schema.validate(record, limit: 3).map(\.pointer) == [
                "/testifier/phones/0", "/testifier/phones/1", "/testifier/phones/2",
            ])
        #expect(!schema.isValid(record))
    }

    @Test func partialDatesMustBeRealCalendarDates() throws {
        func check(_ date: String) throws -> [String] {
            let record = try RecordSpecFiles.record([("testifier", .object([("dateOfBirth", .string(date))]))])
            return schema.validate(record).map { "\($0.pointer) \($0.keyword)" }
        }
        #expect(try check("2019-02-29") == ["/testifier/dateOfBirth calendar"])
        #expect(try check("1985-04-31") == ["/testifier/dateOfBirth calendar"])
        #expect(try check("2020-02-29").isEmpty)
        #expect(try check("1985").isEmpty)
        #expect(try check("1985-13") == ["/testifier/dateOfBirth pattern"])
    }

    @Test func formatsAreAsserted() throws {
        func provenance(_ extra: [(String, JSONValue)]) throws -> [String] {
            var p: [(String, JSONValue)] = [
                ("organization", .string("Demo Org (synthetic)")), ("reference", .string("T-2")),
            ]
            p += extra
            return schema.validate(try RecordSpecFiles.record([("provenance", .object(p))])).map(\.keyword)
        }
        #expect(try provenance([("collectedAt", .string("2020-02-17T12:00:00+06:00"))]).isEmpty)
        #expect(try provenance([("collectedAt", .string("2020-02-17T12:00:00.250Z"))]).isEmpty)
        #expect(try provenance([("collectedAt", .string("2020-02-17 12:00"))]) == ["format"])
        #expect(try provenance([("collectedAt", .string("2020-02-30T12:00:00Z"))]) == ["format"])
        #expect(try provenance([("collectedAt", .string("2020-02-17T12:00:00"))]) == ["format"])
        #expect(try provenance([("source", .object([("url", .string("https://example.org/a?b=c#d"))]))]).isEmpty)
        #expect(try provenance([("source", .object([("url", .string("example.org/no scheme"))]))]) == ["format"])
        #expect(try provenance([("source", .object([("url", .string("https://"))]))]) == ["format"])
        #expect(try provenance([("source", .object([("url", .string("https://example.org/%zz"))]))]) == ["format"])
        func email(_ s: String) throws -> [String] {
            schema.validate(try RecordSpecFiles.record([("testifier", .object([("emails", .array([.string(s)]))]))]))
                .map(\.keyword)
        }
        #expect(try email("a.b+c@example.org").isEmpty)
        #expect(try email("no-at.example.org") == ["format"])
        #expect(try email("a..b@example.org") == ["format"])
        #expect(try email("a@localhost") == ["format"])
    }

    @Test func linksNeedExactlyOneTarget() throws {
        func link(_ members: [(String, JSONValue)]) throws -> [SchemaViolation] {
            schema.validate(
                try RecordSpecFiles.record([("links", .array([.object([("kind", .string("article"))] + members)]))]))
        }
        #expect(try link([("url", .string("https://example.org/x"))]).isEmpty)
        let both = try link([
            ("url", .string("https://example.org/x")), ("recordId", .string(String(repeating: "A", count: 43))),
        ])
        #expect(both.map(\.keyword) == ["oneOf"])
        #expect(both.first?.message == "must have exactly one of: url, recordId")
        #expect(try link([]).map(\.pointer) == ["/links/0"])
    }

    @Test func numbersAreComparedExactly() throws {
        func coordinates(_ lat: String, _ age: String) throws -> [String] {
            let detainee = JSONValue.object([
                (
                    "detention",
                    .array([.object([("coordinates", .object([("lat", .number(lat)), ("lon", .number("82.98"))]))])])
                )
            ])
            let testimony = JSONValue.object([
                ("consent", .string("public")),
                ("campSurvivor", .object([("oldestDetainee", .object([("age", .number(age))]))])),
            ])
            return schema.validate(
                try RecordSpecFiles.record([("detainees", .array([detainee])), ("testimony", testimony)])
            )
            .map { "\($0.keyword)" }
        }
        #expect(try coordinates("90", "45").isEmpty)
        #expect(try coordinates("90.0000000000000000000001", "45") == ["maximum"])
        #expect(try coordinates("-9e1", "4.5e1").isEmpty)  // 45 written with an exponent is an integer
        #expect(try coordinates("1", "45.5") == ["type"])
        #expect(try coordinates("1", "131") == ["maximum"])
        #expect(try coordinates("1", "-0").isEmpty)
    }

    // MARK: Keyword semantics on a small schema

    func small(_ text: String) throws -> RecordSchema { try RecordSchema(bytes: Array(text.utf8)) }

    @Test func keywordSemantics() throws {
        let s = try small(
            #"""
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":{"type":"string"},
             "properties":{
               "n":{"type":"integer","minimum":1},
               "s":{"type":"string","minLength":2,"maxLength":3,"pattern":"^[a-z]+$"},
               "u":{"type":"array","uniqueItems":true,"minItems":1},
               "c":{"type":"array","contains":{"const":7}},
               "o":{"type":"object","minProperties":2},
               "t":true, "f":false,
               "a":{"anyOf":[{"type":"string"},{"type":"number"}]}
             }}
            """#)
        func kw(_ json: String) throws -> [String] {
            s.validate(try JSONValue.parse(json)).map { "\($0.pointer) \($0.keyword)" }
        }
        #expect(try kw(#"{"n":1.0,"s":"ab","u":[1],"c":[1,7],"o":{"a":1,"b":2},"t":null,"a":3,"x":"y"}"#).isEmpty)
        #expect(try kw(#"{"n":0}"#) == ["/n minimum"])
        #expect(try kw(#"{"n":1.5}"#) == ["/n type"])
        // $ is end of input, not before a final newline
        #expect(try kw(#"{"s":"abc\n"}"#) == ["/s maxLength", "/s pattern"])
        #expect(try kw(#"{"s":"ab\n"}"#) == ["/s pattern"])
        // one code point, though two UTF-16 units
        #expect(try kw(#"{"s":"\ud834\udd1e"}"#) == ["/s minLength", "/s pattern"])
        #expect(try kw(#"{"s":"e\u0301"}"#) == ["/s pattern"])  // two code points: long enough
        #expect(try kw(#"{"u":[1,1.0]}"#) == ["/u/1 uniqueItems"])
        #expect(try kw(#"{"u":[{"a":1,"b":2},{"b":2,"a":1}]}"#) == ["/u/1 uniqueItems"])
        #expect(try kw(#"{"u":["\u00e9","e\u0301"]}"#).isEmpty)  // different code points are different strings
        #expect(try kw(#"{"u":[]}"#) == ["/u minItems"])
        #expect(try kw(#"{"c":[1,2]}"#) == ["/c contains"])
        #expect(try kw(#"{"o":{"a":1}}"#) == ["/o minProperties"])
        #expect(try kw(#"{"f":1}"#) == ["/f false"])
        #expect(try kw(#"{"a":true}"#) == ["/a anyOf"])
        #expect(try kw(#"{"x":1}"#) == ["/x type"])
        #expect(try kw(#"[]"#) == [" type"])
    }

    @Test func loaderRefusesWhatItDoesNotImplement() throws {
        func location(_ text: String) -> String? {
            do {
                _ = try small(text)
                return nil
            } catch let error as RecordSchemaError {
                return error.location
            } catch {
                return "?"
            }
        }
        #expect(location(##"{"type":"array","maxItems":3}"##) == "#/maxItems")
        #expect(location(##"{"properties":{"a":{"dependentRequired":{}}}}"##) == "#/properties/a/dependentRequired")
        #expect(location(##"{"prefixItems":[true]}"##) == "#/prefixItems")
        #expect(location(##"{"items":[true]}"##) == "#/items")
        #expect(location(##"{"$ref":"#/definitions/a"}"##) == "#/$ref")
        #expect(location(##"{"$ref":"other.json#/$defs/a"}"##) == "#/$ref")
        #expect(location(##"{"$ref":"#/$defs/missing"}"##) == "#/$ref")
        #expect(location(##"{"format":"ipv4"}"##) == "#/format")
        #expect(location(##"{"x-sensitivty":"public"}"##) == "#/x-sensitivty")
        #expect(location(##"{"x-sensitivity":"secret"}"##) == "#/x-sensitivity")
        #expect(location(##"{"$schema":"http://json-schema.org/draft-07/schema#"}"##) == "#/$schema")
        #expect(location(##"{"properties":{"a":{"$defs":{}}}}"##) == "#/properties/a/$defs")
        #expect(location(##"{"pattern":"(unclosed"}"##) == "#/pattern")
        #expect(location(##"{"pattern":"\\p{L}"}"##) == "#/pattern")
        #expect(location(##"{"type":"text"}"##) == "#/type")
        #expect(location(##"{"minLength":-1}"##) == "#/minLength")
        #expect(location(##"{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"anyOf":[{"$ref":"#/$defs/a"}]}}}"##) != nil)
        #expect(location("[1]") == "#")
        #expect(location("{") == "#")
        // Annotations are fine.
        #expect(
            location(
                #"{"title":"t","description":"d","$comment":"c","examples":[1],"default":1,"x-sensitivity":"public"}"#)
                == nil)
    }

    @Test func patternTranslation() throws {
        #expect(try SchemaPattern.translate("^[0-9]{4}$") == "^[0-9]{4}\\z")
        #expect(try SchemaPattern.translate("^\\d+[\\d.]$") == "^[0-9]+[0-9.]\\z")
        #expect(try SchemaPattern.translate("a.b") == "a[^\\n\\r\\u2028\\u2029]b")
        #expect(try SchemaPattern.translate("[$.[]") == "[$.\\[]")
        #expect(try SchemaPattern("^P(?=[0-9])([0-9]+Y)?([0-9]+M)?$").matches("P6Y6M"))
        #expect(try !SchemaPattern("^P(?=[0-9])([0-9]+Y)?([0-9]+M)?$").matches("P"))
        #expect(try SchemaPattern("[0-9]{3}").matches("ab123cd"))  // not anchored unless the pattern says so
        #expect(try !SchemaPattern("^\\d$").matches("٣"))  // \d is ASCII as in ECMA-262
    }

    // MARK: Sensitivity

    @Test func sensitivityOfRepresentativePaths() throws {
        let table: [(String, Sensitivity)] = [
            ("", .identifying),
            ("/schema", .public),
            ("/language", .public),
            ("/testifier", .identifying),
            ("/testifier/cnResidentId", .identifying),
            ("/testifier/name/kkCyrl", .identifying),
            ("/testifier/name/other/0/lang", .public),
            ("/testifier/gender", .sensitive),
            ("/testifier/relation/kind", .sensitive),
            ("/testifier/documents/0/kind", .public),
            ("/testifier/documents/0/number", .identifying),
            ("/testifier/documents/0/issuedBy", .sensitive),
            ("/testifier/phones/0", .identifying),
            ("/testifier/messengerIds/0/app", .public),
            ("/testifier/residence/country", .public),
            ("/testifier/residence/street", .identifying),
            ("/testifier/hometown/county", .sensitive),
            ("/testifier/citizenship/0", .sensitive),
            ("/detainees/0/statusHistory/0/status", .sensitive),
            ("/detainees/0/statusHistory/0/note", .identifying),
            ("/detainees/1/detention/0/facilityName", .public),
            ("/detainees/0/detention/0/from", .sensitive),
            ("/detainees/0/detention/0/coordinates/lat", .public),
            ("/detainees/0/detention/0/location/province", .public),
            ("/detainees/0/detention/0/location/village", .identifying),
            ("/detainees/0/hometown/areaCode", .sensitive),
            ("/detainees/0/sentence/court", .public),
            ("/detainees/0/sentence/caseNumber", .identifying),
            ("/detainees/0/sentence/charges/2", .sensitive),
            ("/detainees/0/relativesInXinjiang/0/relation", .sensitive),
            ("/detainees/0/relativesInXinjiang/0/riskNotes", .identifying),
            ("/testimony", .sensitive),
            ("/testimony/consent", .public),
            ("/testimony/date", .public),
            ("/testimony/riskFlags/0", .sensitive),
            ("/testimony/transcript", .identifying),
            ("/testimony/translations/0/language", .public),
            ("/testimony/translations/0/machine", .public),
            ("/testimony/translations/0/text", .identifying),
            ("/testimony/campSurvivor/cellOccupancy/min", .public),
            ("/testimony/campSurvivor/cellOccupancy/text", .sensitive),
            ("/testimony/campSurvivor/oldestDetainee/age", .public),
            ("/testimony/campSurvivor/oldestDetainee/description", .identifying),
            ("/attachments/0/sha256", .sensitive),
            ("/attachments/0/kind", .public),
            ("/attachments/0/filename", .identifying),
            ("/provenance/organization", .public),
            ("/provenance/reference", .sensitive),
            ("/provenance/source/kind", .public),
            ("/provenance/source/url", .sensitive),
            ("/tags/0", .sensitive),
            ("/links/0/recordId", .sensitive),
            ("/links/0/kind", .public),
            // Not described by the schema: fail closed.
            ("/testimony/nickname", .identifying),
            ("/provenance/organization/0", .identifying),
            ("/testimony/consent/x", .identifying),
            ("/attachments/x", .identifying),  // arrays have no members
        ]
        for (pointer, level) in table {
            #expect(schema.sensitivity(atPointer: pointer) == level, "\(pointer)")
        }
        #expect(schema.sensitivity(at: [.key("testifier"), .key("phones"), .index(0)]) == .identifying)
        #expect(schema.sensitivity(atPointer: "no-slash") == .identifying)
        // The cursor agrees with the path form.
        let cursor = schema.sensitivityRoot.child(.key("detainees")).child(.index(3)).child(.key("detention"))
        #expect(cursor.level == .sensitive)
        #expect(cursor.child(.index(0)).child(.key("facilityName")).level == .public)
        #expect(!cursor.child(.key("zzz")).isDescribed)
    }

    /// The resolved levels of every leaf in the examples add up to what check.py prints
    /// ("leaf values by sensitivity"), so the two resolvers agree.
    @Test func exampleLeafLevelsMatchCheckPy() throws {
        var counts: [Sensitivity: Int] = [:]
        func walk(_ v: JSONValue, _ cursor: SensitivityCursor) {
            switch v {
            case .object(let members): for (k, x) in members { walk(x, cursor.child(.key(k))) }
            case .array(let items): for (i, x) in items.enumerated() { walk(x, cursor.child(.index(i))) }
            default:
                #expect(cursor.isDescribed)
                counts[cursor.level, default: 0] += 1
            }
        }
        for file in try RecordSpecFiles.exampleRecords() {
            walk(try JSONValue.parse(try RecordSpecFiles.bytes(file)), schema.sensitivityRoot)
        }
        #expect(counts == [.identifying: 165, .sensitive: 258, .public: 188])
    }

    /// records.md: every property carries x-sensitivity (directly or at the top of its $ref target).
    @Test func everyPropertyIsAnnotated() throws {
        var missing: [String] = []
        var count = 0
        var seen = Set<ObjectIdentifier>()
        func visit(_ node: SchemaNode) {
            guard seen.insert(ObjectIdentifier(node)).inserted else { return }
            for (name, prop) in node.properties {
                if !node.location.hasPrefix("#/anyOf") {
                    count += 1
                    if prop.ownLevel == nil { missing.append(node.location + "/properties/" + name) }
                }
                visit(prop)
            }
            [node.items, node.ref, node.additionalProperties, node.contains].compactMap { $0 }.forEach(visit)
            (node.anyOf ?? []).forEach(visit)
            (node.oneOf ?? []).forEach(visit)
        }
        visit(schema.root)
        schema.definitions.values.forEach(visit)
        #expect(missing.isEmpty, "\(missing)")
        #expect(count >= 150)
    }
}
