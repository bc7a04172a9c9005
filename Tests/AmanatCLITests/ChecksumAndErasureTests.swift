import AmanatTestSupport
import Foundation
import Testing

/// Two small gaps of issue #12 item 6, through the command line: the checksum warning Specs/records.md promises
/// for `add`, and no trace of an erased attachment's SHA-256 in the store.
@Suite("add warns about failing checksums; erase leaves no attachment digest in the store")
struct ChecksumAndErasureTests {
    /// The English example with its identifiers changed by one digit each (their check characters now fail).
    static func mistypedExample(_ cli: CLIHarness, _ name: String) throws -> String {
        let text = try String(
            contentsOfFile: RecordCommandTests.example("en-survivor-public.json"), encoding: .utf8)
        #expect(text.contains("654221199003120461") && text.contains("900312400106"))
        let mistyped = text.replacingOccurrences(of: "654221199003120461", with: "654221199003120462")
            .replacingOccurrences(of: "900312400106", with: "900312400107")
        let path = cli.path(name)
        try Data(mistyped.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func addStoresAFailingNumberAsEnteredAndWarns() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // Given a record whose Chinese resident ID and IIN fail their checks
        let file = try Self.mistypedExample(cli, "mistyped.json")
        // When it is added
        let added = try cli.run(["add", file], in: a)
        // Then it is stored, and each number is reported by field, never by value
        #expect(added.status == 0, "\(added.stderr)")
        let warnings = added.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(warnings.count == 2, "\(added.stderr)")
        #expect(warnings.contains { $0.contains("field /testifier/cnResidentId") && $0.contains("GB 11643") })
        #expect(warnings.contains { $0.contains("field /testifier/kzIin") && $0.contains("IIN") })
        #expect(!added.stderr.contains("654221199003120462") && !added.stderr.contains("900312400107"))
        let id = added.addedId
        let shown = try cli.run(["show", "id:" + id, "--format", "json"], in: a)
        #expect(shown.stdout.contains("\"654221199003120462\""))
        // And in an array, each warning names the record; with --json stdout stays the ids alone
        let array = cli.path("array.json")
        let one = try String(contentsOfFile: file, encoding: .utf8)
        try Data("[\(one), \(one)]".utf8).write(to: URL(fileURLWithPath: array))
        let both = try cli.run(["add", "--json", array], in: a)
        #expect(both.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as? [[String: Any]])?.count == 2)
        #expect(both.stderr.contains("record [0], field /testifier/cnResidentId"))
        #expect(both.stderr.contains("record [1], field /testifier/kzIin"))
        // And `update` warns too; the examples as published give no warning
        let updated = try cli.run(["update", "id:" + id, file], in: a)
        #expect(updated.status == 0 && updated.stderr.contains("warning: "), "\(updated.stderr)")
        for example in RecordCommandTests.exampleFiles + ["records.csv"] {
            let clean = try cli.run(["add", RecordCommandTests.example(example)], in: a)
            #expect(clean.status == 0 && !clean.stderr.contains("warning"), "\(example): \(clean.stderr)")
        }
    }

    @Test func aCSVRowWithAFailingNumberIsNamedByItsPosition() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let csv =
            "testimony.consent,provenance.organization,provenance.reference,testifier.kz_iin\n"
            + "internal,Test Archive One,REF-1,900312400106\n\ninternal,Test Archive One,REF-2,900312400107\n"
        try Data(csv.utf8).write(to: URL(fileURLWithPath: cli.path("rows.csv")))
        let added = try cli.run(["add", cli.path("rows.csv")], in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let warnings = added.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("record 2 (data rows counted from 1), field /testifier/kzIin") == true)
    }

    /// The store file, its write-ahead log and its shared-memory index, as bytes.
    static func storeBytes(_ workspace: String) -> [Data] {
        ["store.sqlite", "store.sqlite-wal", "store.sqlite-shm"].compactMap {
            FileManager.default.contents(atPath: workspace + "/.amanat/" + $0)
        }
    }

    static func storeHolds(_ digest: String, _ workspace: String) -> Bool {
        storeBytes(workspace).contains { $0.range(of: Data(digest.utf8)) != nil }
    }

    @Test func anErasedAttachmentsDigestIsNowhereInTheStoreFiles() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        // Given A's record with an attachment, held by B too
        let id = try t.add("en-survivor-public.json", in: t.a)
        let card = t.cli.path("card.jpg")
        try Data("synthetic id card for the erasure test".utf8).write(to: URL(fileURLWithPath: card))
        let attached = try t.cli.run(["attach", "id:" + id, card], in: t.a)
        #expect(attached.status == 0, "\(attached.stderr)")
        let digest = try #require(
            attached.stderr.split(whereSeparator: { " .\n".contains($0) }).last.map(String.init))
        #expect(digest.count == 64)
        try t.send(from: t.a, to: "berlin", at: t.b)
        #expect(Self.storeHolds(digest, t.a) && Self.storeHolds(digest, t.b))
        // When A, the collector, erases it
        let erased = try t.json(["erase", "id:" + id, "--reason", "the family asked", "--yes"], in: t.a)
        #expect(erased["attachmentsDeleted"] as? Int == 1)
        // Then A's store files (database, log, index) hold no copy of the digest, and the blob is gone
        #expect(!Self.storeHolds(digest, t.a))
        #expect(!FileManager.default.fileExists(atPath: t.a + "/.amanat/blobs/\(digest.prefix(2))/\(digest)"))
        // And once the erasure arrives at B (Store.applyErasures on import), neither do B's
        let report = try t.send(from: t.a, to: "berlin", at: t.b)
        #expect((report["erasedRecords"] as? [String]) == [id])
        #expect(!Self.storeHolds(digest, t.b))
        #expect(!FileManager.default.fileExists(atPath: t.b + "/.amanat/blobs/\(digest.prefix(2))/\(digest)"))
        // And both still agree and verify the history
        #expect(
            try t.json(["status"], in: t.b)["stateHash"] as? String
                == (try t.json(["status"], in: t.a)["stateHash"] as? String))
        #expect(try t.cli.run(["show", "id:" + id, "--history"], in: t.b).status == 0)
    }

    @Test func aDelegatesPendingErasureTakingEffectLeavesNoDigestEither() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        // Given A's record with an attachment, held by B, which asks for its erasure
        let id = try t.add("en-survivor-public.json", in: t.a)
        let card = t.cli.path("card.jpg")
        try Data("another synthetic card".utf8).write(to: URL(fileURLWithPath: card))
        let attached = try t.cli.run(["attach", "id:" + id, card], in: t.a)
        let digest = try #require(attached.stderr.split(whereSeparator: { " .\n".contains($0) }).last.map(String.init))
        try t.send(from: t.a, to: "berlin", at: t.b)
        #expect(try t.cli.run(["erase", "id:" + id, "--reason", "withdrawn", "--yes"], in: t.b).status == 0)
        try t.send(from: t.b, to: "steppe", at: t.a)
        #expect(Self.storeHolds(digest, t.a))
        // When A makes B a delegate, B's erasure takes effect at A
        let delegated = try t.cli.run(["trust", "add", t.cli.path("b.json"), "--may-retract"], in: t.a)
        #expect(delegated.status == 0 && delegated.stderr.contains("took effect on 1 record"))
        // Then A's store files hold no copy of the digest
        #expect(!Self.storeHolds(digest, t.a))
    }
}
