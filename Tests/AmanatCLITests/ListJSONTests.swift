import AmanatRecords
import AmanatWorkspace
import Testing

@testable import AmanatCLI

/// `list --json` writes each entry's JSON directly (a million lines without building JSON values): the bytes must
/// be those of the entry's JSON value serialized canonically, for every kind of field, present or not.
@Suite("list --json entries")
struct ListJSONTests {
    /// The `--json` object of one entry as a JSON value (how `list` built it before it wrote the bytes directly).
    static func item(_ e: RecordListing.Entry) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(e.id)), ("shortId", .string(e.shortId)), ("consent", .string(e.consent.rawValue)),
            ("attachments", .number(String(e.attachments))), ("state", .string(e.state.rawValue)),
            ("versions", .number(String(e.versions))), ("heads", .array(e.heads.map { .string($0) })),
            ("createdBy", .string(e.createdBy)), ("lastIssuedAt", .number(String(e.lastIssuedAt))),
            ("concurrent", .bool(e.heads.count > 1)),
            ("retracted", .bool(e.state == .retracted || e.state == .erased)),
        ]
        if let reference = e.caseReference { members.append(("caseReference", .string(reference))) }
        if let language = e.language { members.append(("language", .string(language))) }
        if let date = e.date { members.append(("date", .string(date))) }
        if !e.tags.isEmpty { members.append(("tags", .array(e.tags.map { .string($0) }))) }
        return .object(members)
    }

    @Test func directJSONIsTheCanonicalSerializationOfTheItem() {
        let entries = [
            RecordListing.Entry(id: "abcdefgh", shortId: "abcdef"),
            RecordListing.Entry(
                id: "id-2", shortId: "id-2", caseReference: "REF \"quoted\" \\ back\tslash\n", language: "ug-Arab",
                consent: .public, date: "2019-04", attachments: 12, state: .erased, versions: 3,
                heads: ["h1", "h2"], createdBy: "fp", lastIssuedAt: -7, tags: ["ئۇيغۇر", "", "\u{202E}rtl\u{1}"]),
            RecordListing.Entry(
                id: "id-3", shortId: "id-3", consent: .partners, state: .retracted, heads: ["only"],
                lastIssuedAt: 1_700_000_000),
            RecordListing.Entry(id: "id-4", shortId: "id-4", language: "kk", state: .conflict, tags: ["t"]),
        ]
        for entry in entries {
            #expect(ListCommand.itemJSON(entry) == Self.item(entry).canonicalUTF8(), "\(entry.id)")
        }
    }
}
