import AmanatCrypto
import AmanatRecords
import AmanatSync
import Foundation
import GRDB
import Testing

@testable import AmanatStore

/// The exchange ledger of the store (Specs/sync.md, "Exchange"), the attachments erasures leave behind, and the
/// schema migrations.
@Suite("Store: exchange ledger and migrations")
struct LedgerAndMigrationTests {
    static let partner = "PARTNERAFINGERPRINTAAAAAAAAAAAAA"
    static let otherPartner = "PARTNERBFINGERPRINTBBBBBBBBBBBBB"

    static func blob(_ c: Character) -> String { String(repeating: c, count: 64) }

    /// A store with record A (two versions), B and C, and their version ids.
    func seeded() throws -> (Store, a1: String, a2: String, b1: String, c1: String) {
        let org = try TestOrganization()
        let a1 = try org.create("a")
        let a2 = try org.edit(a1, "a2")
        let b1 = try org.create("b")
        let c1 = try org.create("c")
        let store = try Store()
        try store.insert([a1, a2, b1, c1])
        return (store, a1.id, a2.id, b1.id, c1.id)
    }

    // MARK: Ledger

    @Test func acknowledgingABundleMarksExactlyTheVersionsSentInItAsHeld() throws {
        // Given four versions, two bundles sent to the partner and one to another partner
        let (store, a1, a2, b1, c1) = try seeded()
        let all = [a1, a2, b1, c1].sorted()
        try store.recordSent(partner: Self.partner, bundleId: "ours-1", versions: [a1, b1])
        try store.recordSent(partner: Self.partner, bundleId: "ours-2", versions: [a2])
        try store.recordSent(partner: Self.otherPartner, bundleId: "ours-3", versions: [c1])
        // Sending is not holding: nothing is acknowledged yet
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == all)
        // When the partner's bundle acknowledges our first bundle (and, wrongly, the bundle sent to someone else)
        try store.recordReceived(
            partner: Self.partner, bundleId: "theirs-1", versions: [], acknowledges: ["ours-1", "ours-3"])
        // Then exactly the versions of that bundle count as held by the partner; the other partner is unaffected
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == [a2, c1].sorted())
        #expect(try store.unacknowledgedVersions(partner: Self.otherPartner) == all)
        // And acknowledging it again, or a bundle id never sent, changes nothing
        try store.recordReceived(
            partner: Self.partner, bundleId: "theirs-2", versions: [], acknowledges: ["ours-1", "never-sent"])
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == [a2, c1].sorted())
    }

    @Test func versionsReceivedFromAPartnerCountAsHeldByIt() throws {
        // Given a store and versions that arrive in the partner's bundle
        let (store, a1, a2, b1, c1) = try seeded()
        // When the bundle is recorded as received with those versions
        try store.recordReceived(partner: Self.partner, bundleId: "theirs-1", versions: [a1, a2], acknowledges: [])
        // Then the partner holds them (and their record), the other partner holds nothing
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == [b1, c1].sorted())
        #expect(try store.unacknowledgedVersions(partner: Self.otherPartner) == [a1, a2, b1, c1].sorted())
        let recordA = try store.version(a1).recordId
        #expect(try store.partnerHolds(partner: Self.partner, record: recordA))
        #expect(try !store.partnerHolds(partner: Self.otherPartner, record: recordA))
    }

    @Test func aVersionAddedAfterAnAcknowledgementIsUnacknowledged() throws {
        // Given a partner that holds every version of the store
        let org = try TestOrganization()
        let v1 = try org.create("a")
        let store = try Store()
        try store.insert([v1])
        try store.recordReceived(partner: Self.partner, bundleId: "theirs-1", versions: [v1.id], acknowledges: [])
        #expect(try store.unacknowledgedVersions(partner: Self.partner).isEmpty)
        // When an edit is added
        let v2 = try org.edit(v1, "b")
        try store.insert([v2])
        // Then it is the one version the partner is not known to hold
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == [v2.id])
    }

    @Test func partnerHoldsARecordOnceSomeVersionWasSentOrAcknowledged() throws {
        // Given records A and B, and nothing exchanged yet
        let (store, a1, a2, b1, _) = try seeded()
        let recordA = try store.version(a1).recordId
        let recordB = try store.version(b1).recordId
        #expect(try !store.partnerHolds(partner: Self.partner, record: recordA))
        // When one version of A is sent (not yet acknowledged)
        try store.recordSent(partner: Self.partner, bundleId: "ours-1", versions: [a2])
        // Then the partner holds A for that purpose, but not B; the other partner holds neither
        #expect(try store.partnerHolds(partner: Self.partner, record: recordA))
        #expect(try !store.partnerHolds(partner: Self.partner, record: recordB))
        #expect(try !store.partnerHolds(partner: Self.otherPartner, record: recordA))
        // And an acknowledgement of the bundle keeps it held
        try store.recordReceived(partner: Self.partner, bundleId: "theirs-1", versions: [], acknowledges: ["ours-1"])
        #expect(try store.partnerHolds(partner: Self.partner, record: recordA))
        #expect(try store.unacknowledgedVersions(partner: Self.partner).contains(a2) == false)
    }

    static let receivedLimitRows: [(Int, [String])] = [
        (256, ["theirs-c", "theirs-a", "theirs-b"]),
        (3, ["theirs-c", "theirs-a", "theirs-b"]),
        (2, ["theirs-a", "theirs-b"]),
        (1, ["theirs-b"]),
        (0, []),
    ]

    @Test(arguments: receivedLimitRows)
    func receivedBundlesAreInArrivalOrderAndLimitedToTheMostRecent(_ limit: Int, _ expected: [String]) throws {
        #expect(Self.receivedLimitRows.count == 5)
        // Given three bundles received from the partner (ids not in arrival order), one of them twice, and one
        // from another partner
        let store = try Store()
        for id in ["theirs-c", "theirs-a", "theirs-b", "theirs-a"] {
            try store.recordReceived(partner: Self.partner, bundleId: id, versions: [], acknowledges: [])
        }
        try store.recordReceived(partner: Self.otherPartner, bundleId: "other-1", versions: [], acknowledges: [])
        // When at most `limit` are asked for, Then the most recent ones come, oldest first, each once
        #expect(try store.receivedBundles(partner: Self.partner, limit: limit) == expected)
        #expect(try store.receivedBundles(partner: Self.otherPartner, limit: limit) == (limit > 0 ? ["other-1"] : []))
    }

    // MARK: Attachments of erased records

    @Test func onlyAttachmentsOfErasedRecordsAlonePassToForgetBlobs() throws {
        // Given an erasable record and a kept one sharing an attachment, each with one of its own
        let (a, b) = (try TestOrganization(), try TestOrganization())
        let (shared, onlyErased, onlyKept) = (Self.blob("a"), Self.blob("b"), Self.blob("c"))
        let erased = try a.create("erased", attachments: [shared, onlyErased])
        let kept = try a.create("kept", attachments: [shared, onlyKept])
        let store = try Store()
        try store.insert([erased, kept])
        for digest in [shared, onlyErased, onlyKept] { try store.registerBlob(sha256: digest, size: 10) }
        #expect(try store.blobsOnlyInErasedRecords().isEmpty)
        // When someone without authority asks for the erasure, Then nothing is left to delete
        try store.insert([try b.erasure(of: erased)])
        #expect(try store.blobsOnlyInErasedRecords().isEmpty)
        // When the collector's erasure is in force
        let erasure = try a.erasure(of: erased, prev: try store.heads(record: erased.recordId))
        #expect(try store.insert([erasure]).erased == [erased.recordId])
        // Then only the attachment no other record references is listed; the shared one is kept
        let digests = try store.blobsOnlyInErasedRecords()
        #expect(digests == [onlyErased])
        // And forgetting it removes exactly its blob row
        try store.forgetBlobs(digests)
        let remaining = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM blob ORDER BY sha256")
        }
        #expect(remaining == [shared, onlyKept])
        #expect(try store.version(kept.id).content != nil)
    }

    // MARK: Migrations

    static func temporaryStorePath() throws -> (folder: URL, path: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (folder, folder.appendingPathComponent("store.sqlite").path)
    }

    static func appliedMigrations(_ store: Store) throws -> [String] {
        try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
    }

    static func tables(_ store: Store) throws -> Set<String> {
        Set(
            try store.writer.read { db in
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            })
    }

    /// Puts the `version` table back in its v1 layout (v1's column order, UNIQUE on `jwt`), rows and rowids kept,
    /// and forgets the v7 migration, with foreign keys off as a schema change needs them.
    static func restoreV1VersionTable(_ store: Store) throws {
        try store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                try db.execute(
                    sql: """
                        CREATE TABLE version_v1 (
                            "id" TEXT PRIMARY KEY NOT NULL, "recordId" TEXT NOT NULL,
                            "kind" TEXT NOT NULL CHECK ("kind" IN ('create', 'edit', 'merge', 'retract')),
                            "issuedAt" INTEGER NOT NULL, "signer" TEXT NOT NULL, "jwt" TEXT NOT NULL UNIQUE,
                            "disclosures" TEXT NOT NULL, "content" TEXT, "erasure" BOOLEAN NOT NULL DEFAULT 0);
                        INSERT INTO version_v1 (rowid, id, recordId, kind, issuedAt, signer, jwt, disclosures, content, erasure)
                            SELECT rowid, id, recordId, kind, issuedAt, signer, jwt, disclosures, content, erasure FROM version;
                        DROP TABLE version;
                        ALTER TABLE version_v1 RENAME TO version;
                        CREATE INDEX version_on_recordId ON version(recordId);
                        CREATE INDEX version_on_erasure ON version(erasure);
                        DELETE FROM grdb_migrations WHERE identifier = 'v7-table-layout';
                        """)
                return .commit
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
    }

    /// Puts `recordState` back in its v6 form (a rowid table with an index on `status`), rows kept, and forgets
    /// the v8 migration.
    static func restoreV6RecordStateTable(_ store: Store) throws {
        try store.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE recordState_v6 (
                        "recordId" TEXT PRIMARY KEY NOT NULL, "status" TEXT NOT NULL, "erased" BOOLEAN NOT NULL,
                        "autoMerged" BOOLEAN NOT NULL, "fieldConflicts" INTEGER NOT NULL,
                        "missingParents" INTEGER NOT NULL, "pendingRequests" INTEGER NOT NULL,
                        "consentProposals" INTEGER NOT NULL, "versions" INTEGER NOT NULL, "summary" BLOB NOT NULL);
                    INSERT INTO recordState_v6 SELECT recordId, status, erased, autoMerged, fieldConflicts,
                        missingParents, pendingRequests, consentProposals, versions, summary FROM recordState;
                    DROP TABLE recordState;
                    ALTER TABLE recordState_v6 RENAME TO recordState;
                    CREATE INDEX recordState_on_status ON recordState(status);
                    DELETE FROM grdb_migrations WHERE identifier = 'v8-record-state';
                    """)
        }
    }

    static func tableSQL(_ store: Store, _ table: String) throws -> String {
        try store.writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table])
                ?? ""
        }
    }

    static func versionColumns(_ store: Store) throws -> [String] {
        try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('version') ORDER BY cid")
        }
    }

    @Test func aStoreInTheV6LayoutIsCopiedIntoTheV7LayoutAndVacuumed() throws {
        let (folder, path) = try Self.temporaryStorePath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let org = try TestOrganization()
        let records = try (0..<40).map { try org.create("r\($0)", attachments: [Self.blob("a")]) }
        let edit = try org.edit(records[0], "r0 edited")
        let key = try StoreKey.generate()
        var before: (ids: [String], hash: String, version: StoredVersion)
        var view: (counts: SyncView.Counts, state: StoredRecordState?)
        // Given an encrypted store file whose version table has the layout before v7 (JWT unique, content after the
        // signed text) and whose stored view is the rowid table of v6
        do {
            let store = try Store(path: path, key: key)
            try store.insert(records + [edit])
            view = (try store.viewCounts(), try store.recordState(records[0].recordId))
            try Self.restoreV1VersionTable(store)
            try Self.restoreV6RecordStateTable(store)
            #expect(try Self.versionColumns(store).suffix(4) == ["jwt", "disclosures", "content", "erasure"])
            #expect(!(try Self.tableSQL(store, "recordState").contains("WITHOUT ROWID")))
            before = (try store.allVersionIds(), try store.stateHash(), try store.version(edit.id))
        }
        // When the current code opens it
        let store = try Store(path: path, key: key)
        // Then v7 ran: the small columns and the content come before the signed text, and no index holds the JWTs
        #expect(try Self.appliedMigrations(store).contains("v7-table-layout"))
        #expect(
            try Self.versionColumns(store) == [
                "id", "recordId", "kind", "issuedAt", "signer", "erasure", "content", "jwt", "disclosures",
            ])
        let indexes = try store.writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT i.name FROM pragma_index_list('version') l, pragma_index_info(l.name) i
                    WHERE l.origin != 'pk'
                    """)
        }
        #expect(!indexes.contains("jwt") && indexes.contains("recordId") && !indexes.contains("erasure"))
        #expect(try Self.tableSQL(store, "parent").contains("WITHOUT ROWID"))
        #expect(try Self.tableSQL(store, "recordKey").contains("WITHOUT ROWID"))
        let erasurePlan = try store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT DISTINCT recordId FROM version WHERE erasure = 1")
                .map { $0["detail"] as String }
        }
        #expect(erasurePlan.joined().contains("version_erasures"))
        // And v8 ran: the stored view's rows were copied into a WITHOUT ROWID table with its counts index
        #expect(try Self.appliedMigrations(store).contains("v8-record-state"))
        #expect(try Self.tableSQL(store, "recordState").contains("WITHOUT ROWID"))
        let viewIndexes = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_index_list('recordState') WHERE origin = 'c'")
        }
        #expect(viewIndexes == ["recordState_counts"])
        #expect(try store.viewCounts() == view.counts)
        #expect(try store.recordState(records[0].recordId) == view.state)
        // And every version, parent link and attachment row is there, in a file without free pages
        #expect(try store.allVersionIds() == before.ids)
        #expect(try store.version(edit.id) == before.version)
        #expect(try store.heads(record: records[0].recordId) == [edit.id])
        #expect(try store.stateHash() == before.hash)
        let (free, orphans, attachments) = try store.writer.read { db in
            (
                try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? -1,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pragma_foreign_key_check") ?? -1,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM versionAttachment") ?? 0
            )
        }
        #expect(free == 0 && orphans == 0 && attachments == 40)
        #expect(try store.integrityCheck())
        // And the same version inserted again is still refused as present (the primary key keeps JWTs unique)
        #expect(try store.insert([edit]).alreadyPresent == 1)
    }

    /// Puts the ledger of what was sent back in its v1 layout (a row per version per bundle, and v6's index), with
    /// `rows` as (partner's ledger name, bundle, version), and forgets the v9 migration.
    static func restoreV1SentTable(_ store: Store, rows: [(String, String, String)]) throws {
        try store.writer.write { db in
            try db.execute(
                sql: """
                    DROP TABLE sentBundle;
                    DROP TABLE sentVersion;
                    CREATE TABLE sent ("partner" TEXT NOT NULL, "bundleId" TEXT NOT NULL, "versionId" TEXT NOT NULL,
                        PRIMARY KEY ("partner", "bundleId", "versionId"));
                    CREATE INDEX sent_partner_version ON sent(partner, versionId);
                    DELETE FROM grdb_migrations WHERE identifier = 'v9-sent-ledger';
                    """)
            for row in rows {
                try db.execute(
                    sql: "INSERT INTO sent (partner, bundleId, versionId) VALUES (?, ?, ?)",
                    arguments: [row.0, row.1, row.2])
            }
        }
    }

    @Test func aV8LedgerOfSentVersionsBecomesOneListPerBundle() throws {
        let (folder, path) = try Self.temporaryStorePath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let org = try TestOrganization()
        let a1 = try org.create("a")
        let a2 = try org.edit(a1, "a2")
        let b1 = try org.create("b")
        let c1 = try org.create("c")
        let key = try StoreKey.generate()
        let (p, q): (String, String)
        // Given an encrypted store whose ledger has v1's table: two bundles to the partner (a1 went in both), one to
        // another partner, and an earlier one whose only version the partner is known to hold
        do {
            let store = try Store(path: path, key: key)
            try store.insert([a1, a2, b1, c1])
            (p, q) = (try store.ledgerName(Self.partner), try store.ledgerName(Self.otherPartner))
            try Self.restoreV1SentTable(
                store,
                rows: [
                    (p, "ours-0", b1.id), (p, "ours-1", a1.id), (p, "ours-1", b1.id), (p, "ours-2", a1.id),
                    (p, "ours-2", a2.id), (q, "ours-3", c1.id),
                ])
            try store.writer.write { db in
                try db.execute(sql: "INSERT INTO ack (partner, versionId) VALUES (?, ?)", arguments: [p, b1.id])
            }
            #expect(try Self.tables(store).contains("sent"))
        }
        // When the current code opens it
        let store = try Store(path: path, key: key)
        // Then v9 ran: each bundle's versions are one sorted list (none for the bundle already held), each version
        // sent to a partner is listed once, and the old table and its index are gone
        #expect(try Self.appliedMigrations(store).last == "v9-sent-ledger")
        let tables = try Self.tables(store)
        #expect(!tables.contains("sent") && tables.isSuperset(of: ["sentBundle", "sentVersion"]))
        let (lists, sent) = try store.writer.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT partner, bundleId, versions FROM sentBundle ORDER BY 1, 2").map {
                    row -> [String] in
                    [row[0], row[1]] + (try Store.decodeVersionList(Array(row[2] as Data)))
                },
                try Row.fetchAll(db, sql: "SELECT partner, versionId FROM sentVersion ORDER BY 1, 2").map {
                    [$0[0], $0[1]] as [String]
                }
            )
        }
        let expectedLists = [
            [p, "ours-1"] + [a1.id, b1.id].sorted(), [p, "ours-2"] + [a1.id, a2.id].sorted(), [q, "ours-3", c1.id],
        ].sorted { $0.lexicographicallyPrecedes($1) }
        #expect(lists == expectedLists)
        #expect(
            sent == ([[p, a1.id], [p, a2.id], [p, b1.id], [q, c1.id]]).sorted { $0.lexicographicallyPrecedes($1) })
        #expect(try store.partnerHolds(partner: Self.partner, record: b1.recordId))
        #expect(try !store.partnerHolds(partner: Self.partner, record: c1.recordId))
        // And an acknowledgement of a bundle sent before the migration marks its versions held, then drops its list
        try store.recordReceived(partner: Self.partner, bundleId: "theirs-1", versions: [], acknowledges: ["ours-2"])
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == [c1.id])
        let left = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT bundleId FROM sentBundle ORDER BY 1")
        }
        #expect(left == ["ours-1", "ours-3"])
        #expect(try store.integrityCheck())
    }

    @Test func sendingTheSameVersionsAgainAddsOneSmallRowPerBundle() throws {
        // Given a store whose versions were all sent to the partner once
        let (store, a1, a2, b1, c1) = try seeded()
        let all = [a1, a2, b1, c1]
        try store.recordSent(partners: [Self.partner], bundleId: "ours-1", versions: all, checkpointSize: 4)
        func ledger() throws -> (bundles: Int, versions: Int) {
            try store.writer.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sentBundle") ?? -1,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sentVersion") ?? -1
                )
            }
        }
        #expect(try ledger() == (1, 4))
        // When they are sent again in five more bundles (none acknowledged)
        for n in 2...6 {
            try store.recordSent(partners: [Self.partner], bundleId: "ours-\(n)", versions: all, checkpointSize: 4)
        }
        // Then each bundle is one row and each version is still listed once
        #expect(try ledger() == (6, 4))
        // And the same bundle recorded again keeps the union of its versions
        try store.recordSent(partner: Self.partner, bundleId: "ours-7", versions: [a1])
        try store.recordSent(partner: Self.partner, bundleId: "ours-7", versions: [b1])
        try store.recordReceived(partner: Self.partner, bundleId: "theirs-1", versions: [], acknowledges: ["ours-7"])
        #expect(try store.unacknowledgedVersions(partner: Self.partner) == [a2, c1].sorted())
        // And acknowledging every bundle leaves no list behind
        try store.recordReceived(
            partner: Self.partner, bundleId: "theirs-2", versions: [], acknowledges: (1...6).map { "ours-\($0)" })
        #expect(try ledger() == (0, 4))
        #expect(try store.unacknowledgedVersions(partner: Self.partner).isEmpty)
    }

    @Test(arguments: [[UInt8](), [0], [0, 5, 65], [0, 2, 65, 66, 0]])
    func aCutListOfSentVersionsIsRefused(_ bytes: [UInt8]) throws {
        if bytes.isEmpty {
            #expect(try Store.decodeVersionList(bytes) == [])
        } else {
            #expect(throws: StoreError.self) { try Store.decodeVersionList(bytes) }
        }
        #expect(try Store.decodeVersionList(try Store.encodeVersionList(["b", "a", "ü"])) == ["a", "b", "ü"])
        #expect(
            throws: StoreError.database(
                "the exchange ledger's list of the versions sent in bundle ours-9 is cut (the store file was altered)")
        ) {
            try Store.decodeVersionList([0, 3, 65], bundle: "ours-9")
        }
    }

    @Test func theCountsOfStatusReadOnlyTheirIndex() throws {
        let (store, _, _, _, _) = try seeded()
        let plan = try store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(Store.countsSQL)").map { $0["detail"] as String }
        }
        #expect(plan.joined(separator: "\n").contains("COVERING INDEX recordState_counts"))
        let counts = try store.viewCounts()
        #expect(counts.records == 3 && counts.clean == 3 && counts.versions == 4)
    }

    @Test func theMigrationsRunInTheirOrder() {
        #expect(
            Store.migrator.migrations == [
                "v1", "v2-erasure-authority", "v3-erased-attachments", "v4-encryption", "v5-log", "v6-view",
                "v7-table-layout", "v8-record-state", "v9-sent-ledger",
            ])
    }

    @Test func aV1StoreFileIsUpgradedAndItsErasuresAreListed() throws {
        let (folder, path) = try Self.temporaryStorePath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (a, b) = (try TestOrganization(), try TestOrganization())
        let (onlyE, onlyR, onlyK) = (Self.blob("d"), Self.blob("e"), Self.blob("f"))
        let erasedByCollector = try a.create("e", attachments: [onlyE])
        let requestedByPartner = try a.create("r", attachments: [onlyR])
        let kept = try a.create("k", attachments: [onlyK])
        let versions: [String]
        // Given a store file with the v1 schema: made by the current code, then taken back to v1 (the erasedRecord
        // and erasedBlob tables dropped, and v4's, the v2 to v4 migrations forgotten, the erased record's attachment row
        // back) and erased as v1 did, where every erasure request took effect and attachment rows stayed
        do {
            let store = try Store(path: path)
            try store.insert([erasedByCollector, requestedByPartner, kept])
            try store.insert([try a.erasure(of: erasedByCollector), try b.erasure(of: requestedByPartner)])
            try store.recordSent(partner: Self.partner, bundleId: "ours-1", versions: [kept.id])
            try store.recordReceived(
                partner: Self.partner, bundleId: "theirs-1", versions: [], acknowledges: ["ours-1"])
            try Self.restoreV1VersionTable(store)
            try store.writer.write { db in
                try db.execute(
                    sql: """
                        DROP TABLE erasedRecord;
                        DROP TABLE erasedBlob;
                        DROP TABLE recordKey;
                        DROP TABLE storeMeta;
                        ALTER TABLE blob DROP COLUMN wrappedKey;
                        DROP TABLE logEntry;
                        DROP TABLE logNode;
                        DROP TABLE logCheckpoint;
                        DROP TABLE logCosignature;
                        DROP TABLE seenCheckpoint;
                        DROP TABLE logAlarm;
                        DROP TABLE versionProof;
                        DROP TABLE sentCheckpoint;
                        DROP TABLE seenTimestamp;
                        DROP TABLE recordState;
                        DROP TABLE stateBucket;
                        DROP TABLE sentBundle;
                        DROP TABLE sentVersion;
                        CREATE TABLE sent ("partner" TEXT NOT NULL, "bundleId" TEXT NOT NULL,
                            "versionId" TEXT NOT NULL, PRIMARY KEY ("partner", "bundleId", "versionId"));
                        INSERT INTO sent (partner, bundleId, versionId) VALUES (?, 'ours-1', ?);
                        DELETE FROM grdb_migrations WHERE identifier IN (
                            'v2-erasure-authority', 'v3-erased-attachments', 'v4-encryption', 'v5-log', 'v6-view',
                            'v7-table-layout', 'v8-record-state', 'v9-sent-ledger');
                        UPDATE version SET disclosures = '', content = NULL WHERE recordId = ?;
                        INSERT INTO versionAttachment (versionId, sha256) VALUES (?, ?);
                        """,
                    arguments: [Self.partner, kept.id, requestedByPartner.recordId, erasedByCollector.id, onlyE])
            }
            #expect(try Self.appliedMigrations(store) == ["v1"])
            #expect(
                try Self.tables(store) == [
                    "grdb_migrations", "version", "parent", "versionAttachment", "blob", "ack", "sent", "received",
                ])
            versions = try store.allVersionIds()
        }
        // When the file is opened by the current code
        let store = try Store(path: path)
        // Then the v2 and v3 migrations ran once; v2 lists every record with an erasure request as erased (as v1
        // did), v3 lists their attachments for deletion and leaves no attachment row to an erased record
        #expect(
            try Self.appliedMigrations(store) == [
                "v1", "v2-erasure-authority", "v3-erased-attachments", "v4-encryption", "v5-log", "v6-view",
                "v7-table-layout", "v8-record-state", "v9-sent-ledger",
            ])
        #expect(try Self.tables(store).contains("erasedRecord"))
        let erased = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT recordId FROM erasedRecord ORDER BY recordId")
        }
        #expect(erased == [erasedByCollector.recordId, requestedByPartner.recordId].sorted())
        #expect(try store.blobsOnlyInErasedRecords() == [onlyE, onlyR].sorted())
        let rows = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM versionAttachment ORDER BY sha256")
        }
        #expect(rows == [onlyK])
        // And everything stored before the upgrade is still there
        #expect(try store.allVersionIds() == versions)
        #expect(try store.version(kept.id).content != nil)
        #expect(try store.unacknowledgedVersions(partner: Self.partner).contains(kept.id) == false)
        #expect(try store.receivedBundles(partner: Self.partner) == ["theirs-1"])
        #expect(try store.partnerHolds(partner: Self.partner, record: kept.recordId))
        // And the ledger of what was sent became v9's: the acknowledged bundle keeps no list, its version is listed
        let (lists, sent) = try store.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sentBundle") ?? -1,
                try Row.fetchAll(db, sql: "SELECT partner, versionId FROM sentVersion").map {
                    [$0[0], $0[1]] as [String]
                }
            )
        }
        #expect(lists == 0 && sent == [[Self.partner, kept.id]])
        #expect(try store.integrityCheck())
    }

    @Test func reopeningAStoreFileRunsNoMigrationAgainAndKeepsTheLedger() throws {
        let (folder, path) = try Self.temporaryStorePath()
        defer { try? FileManager.default.removeItem(at: folder) }
        let org = try TestOrganization()
        let v1 = try org.create("a")
        let v2 = try org.edit(v1, "b")
        // Given a file store with versions and ledger entries
        do {
            let store = try Store(path: path)
            try store.insert([v1, v2])
            try store.recordSent(partner: Self.partner, bundleId: "ours-1", versions: [v1.id])
            try store.recordReceived(
                partner: Self.partner, bundleId: "theirs-1", versions: [], acknowledges: ["ours-1"])
        }
        // When it is opened twice more
        for _ in 0..<2 {
            let store = try Store(path: path)
            // Then the migrations are recorded once each, and the data and the ledger are as written
            #expect(
                try Self.appliedMigrations(store) == [
                    "v1", "v2-erasure-authority", "v3-erased-attachments", "v4-encryption", "v5-log", "v6-view",
                    "v7-table-layout", "v8-record-state", "v9-sent-ledger",
                ])
            #expect(try store.allVersionIds() == [v1.id, v2.id].sorted())
            #expect(try store.heads(record: v1.recordId) == [v2.id])
            #expect(try store.unacknowledgedVersions(partner: Self.partner) == [v2.id])
            #expect(try store.receivedBundles(partner: Self.partner) == ["theirs-1"])
            #expect(try store.integrityCheck())
        }
    }
}
