import AmanatRecords
import AmanatRedaction
import AmanatTestSupport
import Testing

@testable import AmanatPublish

/// Policy files are checked against the record schema (Specs/policies.md, "File format"): a path that is not a
/// field of the schema is an error naming its line.
@Suite("PolicyFile: paths checked against the record schema")
struct PolicyFileTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// Lines added to the base policy's `fields:` (from line 7 on).
        var fields: [String]
        var tail = ""
        var line: Int
        var path: String
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "a misspelt member", fields: ["testifier.nmae: keep"], line: 7, path: "testifier.nmae"),
        Row(
            name: "an unknown top-level member", fields: ["testifier.gender: keep", "witness.name: strip"], line: 8,
            path: "witness.name"),
        Row(
            name: "a member below a leaf", fields: ["testifier.gender.code: keep"], line: 7,
            path: "testifier.gender.code"),
        Row(
            name: "a misspelt member inside an array element", fields: ["detainees[].hometwon: keep"], line: 7,
            path: "detainees[].hometwon"),
        Row(
            name: "a path in a condition",
            fields: [],
            tail: "when:\n  - riskFlags: [relatives_in_xinjiang]\n    fields:\n      testifier.dateOfBrith: strip\n",
            line: 11, path: "testifier.dateOfBrith"),
    ]

    @Test(arguments: rows)
    func aPathOutsideTheSchemaIsRefusedNamingTheLine(_ row: Row) throws {
        #expect(Self.rows.count == 5)
        // Given a policy with one path the record schema does not have
        let yaml = Harness.yaml(fields: row.fields, tail: row.tail)
        #expect(throws: Never.self) { try RedactionPolicy.parse(Array(yaml.utf8)) }
        // When it is parsed as a policy file, Then it is refused, naming the file, the line and the path
        let error = #expect(throws: PublicationError.self) { try PolicyFile.parse(Array(yaml.utf8), path: "p.yaml") }
        #expect(error?.kind == .malformed)
        #expect(
            error?.message.hasPrefix("p.yaml, line \(row.line): '\(row.path)' is not a field of the record schema")
                == true, "\(error?.message ?? "")")
    }

    static let schemaPaths = [
        "detainees[].hometown.village: keep", "testimony.translations[].text: keep",
        "detainees[].statusHistory[].date: keep", "testifier.name: keep", "testifier: strip",
    ]

    @Test(arguments: schemaPaths)
    func aSchemaPathIsAccepted(_ line: String) throws {
        #expect(Self.schemaPaths.count == 5)
        // A path of the schema, at any depth, is accepted.
        let file = try PolicyFile.parse(Array(Harness.yaml(fields: [line]).utf8), path: "p.yaml")
        #expect(file.policy.fields.map(\.path.description).last == String(line.prefix { $0 != ":" }))
        #expect(file.sha256.count == 64)
    }

    static let shippedPolicies = ["public.yaml", "partner.yaml"]

    @Test(arguments: shippedPolicies)
    func theShippedPoliciesLoad(_ name: String) throws {
        #expect(Self.shippedPolicies.count == 2)
        let file = try PolicyFile.load(PackagePaths.url("Specs/policies/" + name).path)
        #expect(file.policy.name == String(name.dropLast(5)))
    }
}
