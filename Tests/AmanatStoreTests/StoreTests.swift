import AmanatCrypto
import AmanatRecords
import Foundation
import Testing

@testable import AmanatStore

@Suite("Store")
struct StoreTests {
    let key: Ed25519.SigningKey
    let fingerprint: String
    static let policy = DisclosurePolicy(isConcealable: { $0.hasPrefix("/testifier") })

    init() throws {
        key = try .generate()
        fingerprint = Fingerprint.of(key.publicKey)
    }

    func record(_ tag: String) -> JSONValue {
        .object([
            ("schema", .string("amanat-record/v1")), ("tags", .array([.string(tag)])),
            ("testifier", .object([("cnResidentId", .string("11010519491231002X"))])),
            ("testimony", .object([("consent", .string("public"))])),
        ])
    }

    func stored(_ signed: SignedVersion) throws -> StoredVersion {
        let verified = try RecordVerifier.verify(signed.sdjwt, trustedKey: { $0 == fingerprint ? key.publicKey : nil })
        return StoredVersion(verified: verified, sdjwt: signed.sdjwt)
    }

    func create(_ tag: String) throws -> StoredVersion {
        try stored(
            try RecordSigner.sign(
                content: record(tag), kind: .create, recordId: nil, prev: [], key: key, policy: Self.policy))
    }

    func edit(_ parent: StoredVersion, _ tag: String) throws -> StoredVersion {
        try stored(
            try RecordSigner.sign(
                content: record(tag), kind: .edit, recordId: parent.recordId, prev: [parent.id], key: key,
                policy: Self.policy))
    }

    @Test func onlyVersionsAreThoseOfRecordsWithOneVersion() throws {
        for store in [try Store(), try Store(key: try StoreKey.generate())] {
            // Given two records with one version each and one with an edit
            let single = try create("single")
            let other = try create("other")
            let edited = try create("edited")
            let edit = try edit(edited, "edited-again")
            try store.insert([single, other, edited, edit])
            // When the only versions of them and of an unknown record are read in one transaction
            let only = try store.onlyVersions(ofRecords: [single.recordId, edited.recordId, "unknown", other.recordId])
            // Then the single-version records come back whole, the edited and the unknown one do not
            #expect(only.count == 2)
            #expect(only[single.recordId] == single)
            #expect(only[other.recordId] == other)
            #expect(only[edited.recordId] == nil)
            #expect(try store.onlyVersions(ofRecords: [String]()).isEmpty)
        }
    }

    @Test func insertIsIdempotentAndKeepsEverything() throws {
        // Given a fresh in-memory store and one record with an edit
        let store = try Store()
        let v1 = try create("a")
        let v2 = try edit(v1, "b")
        // When both are inserted twice
        let first = try store.insert([v1, v2])
        let second = try store.insert([v2, v1])
        // Then the second import changes nothing and the version round-trips exactly
        #expect(first.added == [v1.id, v2.id])
        #expect(second.added.isEmpty)
        #expect(second.alreadyPresent == 2)
        #expect(try store.version(v2.id) == v2)
        #expect(try store.heads(record: v1.recordId) == [v2.id])
        #expect(try store.counts() == (records: 1, versions: 2))
        #expect(try store.integrityCheck())
    }

    @Test func concurrentVersionsAreKeptAsTwoHeads() throws {
        let store = try Store()
        let base = try create("base")
        let left = try edit(base, "left")
        let right = try edit(base, "right")
        try store.insert([base, left])
        let summary = try store.insert([right])
        #expect(summary.recordsWithConcurrentHeads == [base.recordId])
        #expect(Set(try store.heads(record: base.recordId)) == [left.id, right.id])
        #expect(try store.records().first?.heads.count == 2)
    }

    @Test func missingParentsAreKeptAsIncompleteHistory() throws {
        let store = try Store()
        let base = try create("base")
        let child = try edit(base, "child")
        let summary = try store.insert([child])
        #expect(summary.incomplete == [child.id])
        #expect(try store.heads(record: base.recordId) == [child.id])
        let after = try store.insert([base])
        #expect(after.incomplete.isEmpty)
    }

    @Test func failedTransactionChangesNothing() throws {
        // Given a store whose parent table refuses one particular parent id (a stand-in for a disk or constraint
        // failure in the middle of a batch)
        let store = try Store()
        try store.writer.write { db in
            try db.execute(
                sql:
                    "CREATE TRIGGER boom BEFORE INSERT ON parent WHEN NEW.parentId = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END"
            )
        }
        let good = try create("a")
        var bad = try create("b")
        bad.prev = ["boom"]
        // When a batch with a good and a failing version is inserted, Then nothing of it stays
        #expect(throws: StoreError.self) { try store.insert([good, bad]) }
        #expect(try store.counts().versions == 0)
        #expect(try store.integrityCheck())
    }

    @Test func recordPrefixesResolve() throws {
        let store = try Store()
        let v1 = try create("a")
        try store.insert([v1])
        #expect(try store.resolveRecord(String(v1.recordId.prefix(8))) == v1.recordId)
        #expect(throws: StoreError.unknownRecord("zzzzzzzz")) { try store.resolveRecord("zzzzzzzz") }
        #expect(throws: StoreError.unknownRecord("ab")) { try store.resolveRecord("ab") }
        // LIKE wildcards in user input are escaped.
        #expect(throws: StoreError.self) { try store.resolveRecord("%%%%%%") }
    }

    @Test func fileStoreSurvivesReopen() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        let v1 = try create("a")
        do {
            let store = try Store(path: path)
            try store.insert([v1])
        }
        let reopened = try Store(path: path)
        #expect(try reopened.allVersionIds() == [v1.id])
        #expect(try reopened.integrityCheck())
    }
}
