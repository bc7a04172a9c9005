import AmanatRecords
import Testing

@Suite("JSON diff (show --history)")
struct JSONDiffTests {
    static func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func equalDocumentsHaveNoChangesWhateverTheMemberOrder() throws {
        let a = try Self.parse(#"{"a": 1, "b": {"c": [1, 2], "d": "x"}}"#)
        let b = try Self.parse(#"{"b": {"d": "x", "c": [1, 2]}, "a": 1}"#)
        #expect(b.changes(from: a).isEmpty)
    }

    @Test func changesAreLeafPointersInDocumentOrder() throws {
        let old = try Self.parse(
            #"{"testimony": {"date": "2019-04-01", "consent": "public"}, "tags": ["a"], "gone": true, "a/b~": 1}"#)
        let new = try Self.parse(
            #"{"testimony": {"date": "2019-04-02", "consent": "public", "medium": "video"}, "tags": ["a", "b"], "a/b~": 2}"#
        )
        let changes = new.changes(from: old)
        #expect(
            changes.map { "\($0.kind.rawValue) \($0.pointer)" } == [
                "changed /testimony/date", "added /testimony/medium", "added /tags/1", "removed /gone",
                "changed /a~1b~0",
            ])
        #expect(changes[0].old == .string("2019-04-01") && changes[0].new == .string("2019-04-02"))
        #expect(changes[3].new == nil && changes[3].old == .bool(true))
    }

    @Test func aTypeChangeOrANewSubtreeIsOneChange() throws {
        let old = try Self.parse(#"{"x": {"y": 1}, "list": [{"n": 1}]}"#)
        let new = try Self.parse(#"{"x": "flat", "list": [{"n": 1}, {"n": 2, "m": 3}]}"#)
        #expect(new.changes(from: old).map(\.pointer) == ["/x", "/list/1"])
        #expect(JSONValue.pointerToken("a/b~c") == "a~1b~0c")
    }

    @Test func csvRecordRowsCountLikeASpreadsheet() throws {
        let csv = "testimony.consent,testimony.transcript\npublic,one\n\n,\npublic,\"two\nlines\"\npublic,three\n"
        #expect(try RecordImport.csvRecordRows(Array(csv.utf8), file: "x.csv") == [2, 5, 6])
    }
}
