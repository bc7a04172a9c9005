import AmanatRecords
import AmanatSync
import Foundation
import GRDB
import Testing

@testable import AmanatStore

/// Once an erasure is in force, the store keeps no trace of the record's attachments (issue #12 item 6: "the
/// SHA-256 of an erased attachment stays in the store"): no row names the digest once its file is deleted, and
/// the database file and its write-ahead log no longer hold it.
@Suite("Store: erased attachments leave no digest behind")
struct ErasedAttachmentTests {
    static func blob(_ c: Character) -> String { String(repeating: c, count: 64) }

    /// Every text or blob value of every row of every table that contains `digest`, as "table.column".
    static func rowsNaming(_ digest: String, in store: Store) throws -> [String] {
        try store.writer.read { db in
            var found: [String] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            for table in tables {
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"")
                for row in rows {
                    for (column, value) in row {
                        let text: String? =
                            switch value.storage {
                            case .string(let s): s
                            case .blob(let d): String(decoding: d, as: UTF8.self)
                            default: nil
                            }
                        if text?.contains(digest) == true { found.append("\(table).\(column)") }
                    }
                }
            }
            return found
        }
    }

    /// Whether the store file or its log or shared-memory index holds `digest` as text.
    static func filesHold(_ digest: String, storePath: String) -> Bool {
        [storePath, storePath + "-wal", storePath + "-shm"].contains { path in
            guard let data = FileManager.default.contents(atPath: path) else { return false }
            return data.range(of: Data(digest.utf8)) != nil
        }
    }

    @Test func theCollectorsErasureLeavesNoRowNamingTheAttachment() throws {
        // Given A's record with an attachment, registered
        let a = try TestOrganization()
        let digest = Self.blob("1")
        let store = try Store()
        let create = try a.create("x", attachments: [digest])
        try store.insert([create])
        try store.registerBlob(sha256: digest, size: 10)
        #expect(
            Set(try Self.rowsNaming(digest, in: store)).isSuperset(of: ["versionAttachment.sha256", "blob.sha256"]))
        // When the collector erases it
        #expect(try store.insert([try a.erasure(of: create)]).erased == [create.recordId])
        // Then only the list of files to delete names it, and the versions list no attachment
        #expect(Set(try Self.rowsNaming(digest, in: store)) == ["erasedBlob.sha256", "blob.sha256"])
        #expect(try store.version(create.id).attachments.isEmpty)
        #expect(try store.blobsOnlyInErasedRecords() == [digest])
        // And once the file is deleted and forgotten, nothing names it
        try store.forgetBlobs([digest])
        #expect(try Self.rowsNaming(digest, in: store).isEmpty)
        #expect(try store.blobsOnlyInErasedRecords().isEmpty)
    }

    @Test func anErasureThatTakesEffectLaterLeavesNoRowEither() throws {
        // Given A's record erased by B, which may not erase it yet
        let (a, b) = (try TestOrganization(), try TestOrganization())
        let digest = Self.blob("2")
        let store = try Store()
        let create = try a.create("x", attachments: [digest])
        try store.insert([create])
        try store.registerBlob(sha256: digest, size: 10)
        try store.insert([try b.erasure(of: create)])
        #expect(try Self.rowsNaming(digest, in: store).contains("versionAttachment.sha256"))
        // When the trust list makes B a delegate (Store.applyErasures), the erasure takes effect
        #expect(try store.applyErasures(authority: Authority(delegates: [b.fingerprint])) == [create.recordId])
        // Then no version names the attachment, and forgetting it leaves nothing
        #expect(!(try Self.rowsNaming(digest, in: store).contains("versionAttachment.sha256")))
        #expect(try store.blobsOnlyInErasedRecords() == [digest])
        try store.forgetBlobs(try store.blobsOnlyInErasedRecords())
        #expect(try Self.rowsNaming(digest, in: store).isEmpty)
    }

    @Test func aSharedAttachmentStaysAndALateVersionOfTheErasedRecordIsStrippedToo() throws {
        // Given two records of A sharing an attachment, the first with one of its own
        let a = try TestOrganization()
        let (shared, own, late) = (Self.blob("3"), Self.blob("4"), Self.blob("5"))
        let store = try Store()
        let erased = try a.create("erased", attachments: [shared, own])
        let kept = try a.create("kept", attachments: [shared])
        try store.insert([erased, kept])
        // When the first is erased
        let erasure = try a.erasure(of: erased)
        try store.insert([erasure])
        // Then only its own attachment is to be deleted; the shared one is still named by the kept record alone
        #expect(try store.blobsOnlyInErasedRecords() == [own])
        #expect(try Self.rowsNaming(shared, in: store).sorted() == ["version.content", "versionAttachment.sha256"])
        #expect(try store.version(kept.id).attachments == [shared])
        // When an edit of the erased record made before the erasure arrives afterwards, with a new attachment
        let edit = try a.sign(
            .object([
                ("attachments", .array([.object([("sha256", .string(late))])])),
                ("schema", .string("amanat-record/v1")),
            ]), kind: .edit, record: erased.recordId, prev: [erased.id])
        #expect(try store.insert([edit]).erased == [erased.recordId])
        // Then its attachment row goes as well, and its file is to be deleted
        #expect(try store.version(edit.id).attachments.isEmpty)
        #expect(try store.blobsOnlyInErasedRecords() == [own, late].sorted())
        // And a new record using a digest listed for deletion takes it off the list
        let reuse = try a.create("reuse", attachments: [own])
        try store.insert([reuse])
        #expect(try store.blobsOnlyInErasedRecords() == [late])
    }

    @Test func theStoreFilesHoldNoCopyOfTheDigestAfterTheErasure() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("erased-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        // Given a file store holding a record with an attachment (its content names the digest too)
        let a = try TestOrganization()
        let digest = Self.blob("6")
        let store = try Store(path: path)
        let create = try a.create("x", attachments: [digest])
        try store.insert([create])
        try store.registerBlob(sha256: digest, size: 10)
        try store.insert([try a.edit(create, "y")])
        #expect(Self.filesHold(digest, storePath: path))
        // When the collector erases it and the file is forgotten
        try store.insert([try a.erasure(of: create, prev: try store.heads(record: create.recordId))])
        try store.forgetBlobs(try store.blobsOnlyInErasedRecords())
        // Then neither the database file nor its log holds the digest, and the store is sound
        #expect(!Self.filesHold(digest, storePath: path))
        #expect(try Self.rowsNaming(digest, in: store).isEmpty)
        #expect(try store.integrityCheck())
    }
}
