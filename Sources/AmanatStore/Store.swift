import AmanatCrypto
import AmanatRecords
import AmanatSync
import Foundation
import GRDB

/// A record version as the store keeps it: the issuer-signed JWT, its disclosures, and the facts the signature
/// covers, denormalized for queries.
public struct StoredVersion: Sendable, Equatable {
    public var id: String
    public var recordId: String
    public var kind: VersionKind
    public var prev: [String]
    public var issuedAt: Int
    public var signer: String
    public var jwt: String
    public var disclosures: [String]
    public var attachments: [String]
    /// The verified content as canonical JSON (keys sorted), or nil when erased or unknown.
    public var content: String?
    /// Whether this version is a signed erasure request.
    public var isErasure: Bool = false

    public init(
        id: String, recordId: String, kind: VersionKind, prev: [String], issuedAt: Int, signer: String, jwt: String,
        disclosures: [String], attachments: [String], content: String? = nil, isErasure: Bool = false
    ) {
        self.id = id
        self.recordId = recordId
        self.kind = kind
        self.prev = prev
        self.issuedAt = issuedAt
        self.signer = signer
        self.jwt = jwt
        self.disclosures = disclosures
        self.attachments = attachments
        self.content = content
        self.isErasure = isErasure
    }

    /// From a version that verified.
    public init(verified: VerifiedVersion, sdjwt: SDJWT) {
        self.init(
            id: verified.versionId, recordId: verified.recordId, kind: verified.kind, prev: verified.prev,
            issuedAt: verified.issuedAt, signer: verified.signerFingerprint, jwt: sdjwt.jwt,
            disclosures: sdjwt.disclosures, attachments: verified.attachments,
            content: verified.content.canonical())
        isErasure = verified.isErasureRequest
    }

    /// The compact SD-JWT with every stored disclosure.
    public var sdjwt: SDJWT { SDJWT(jwt: jwt, disclosures: disclosures) }
}

/// What an import changed.
public struct ImportSummary: Sendable, Equatable {
    /// Versions that were new to the store.
    public var added: [String] = []
    /// Versions the store already had.
    public var alreadyPresent = 0
    /// Records that now have more than one head (concurrent versions).
    public var recordsWithConcurrentHeads: [String] = []
    /// Versions whose parents are not (yet) in the store.
    public var incomplete: [String] = []
    /// Records whose personal data was erased by this import (signed erasure requests).
    public var erased: [String] = []
}

/// One record as listed.
public struct RecordSummary: Sendable, Equatable {
    public var id: String
    public var heads: [String]
    public var versionCount: Int
    public var createdBy: String
    public var lastIssuedAt: Int
    public var retracted: Bool
}

/// Errors from the store. Never carries record content.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownRecord(String)
    case unknownVersion(String)
    case ambiguousRecord(prefix: String, matches: Int)
    case database(String)
    /// The store is encrypted and was opened without its key, or the key is unusable.
    case locked(String)
    /// A stored ciphertext of this record does not open: altered, moved from another row, or damaged.
    case damaged(record: String, what: String)
    /// The store's key check does not open with this key: the store belongs to another workspace.
    case otherWorkspace

    public var description: String {
        switch self {
        case .unknownRecord(let id): return "no record \(id) in the store"
        case .unknownVersion(let id): return "no version \(id) in the store"
        case .ambiguousRecord(let prefix, let n): return "'\(prefix)' matches \(n) records; give more characters"
        case .database(let why): return "store error: \(why)"
        case .locked(let why): return "the store is locked: \(why)"
        case .damaged(let record, let what): return "record \(record) is damaged: \(what)"
        case .otherWorkspace:
            return "the store does not belong to this workspace (its key check does not open with this workspace's key)"
        }
    }
}

/// The embedded store: one SQLite file (GRDB). A grow-only set of verified versions; every write is one
/// transaction; everything else (heads, the current view) is derived.
public final class Store: Sendable {
    let writer: any DatabaseWriter
    /// Encrypts what holds testimony content (nil: a plaintext store, for tests and the benchmarks' baseline).
    let cipher: StoreCipher?
    /// The fingerprint whose versions go into the organization's log (``appendToLog(_:)``) as they are inserted; nil:
    /// no log (tests, the benchmarks' baseline).
    let logOwner: String?
    /// Makes the summary kept per record in the stored view (``RecordSummarizer``); nil: none.
    let summarizer: RecordSummarizer?

    /// Whether rows are encrypted (`Specs/storage.md`).
    public var isEncrypted: Bool { cipher != nil }

    /// Opens (creating if needed) the store at `path` and runs the migrations.
    ///
    /// With `key`, testimony content is encrypted (``StoreCipher``); a plaintext store made by an earlier release is
    /// converted in one transaction and then vacuumed, so that no plaintext page remains. Without `key`, an
    /// encrypted store is refused.
    /// - Throws: ``StoreError/otherWorkspace`` when `key` is not this store's, ``StoreError/locked(_:)`` when an
    ///   encrypted store is opened without a key.
    public init(
        path: String, key: StoreKey? = nil, logOwner: String? = nil, summarizer: RecordSummarizer? = nil
    ) throws {
        self.logOwner = logOwner
        self.summarizer = summarizer
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.publicStatementArguments = false
        // Another Store of the same file (a second command, or the same process between steps) may hold the write
        // lock or run a checkpoint for a moment: wait for it instead of failing with "database is locked".
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // secure_delete: what an erasure removes is overwritten with zeros in the file, not left in free space.
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;")
        }
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
            cipher = try key.map(StoreCipher.init)
            let migrator = Self.migrator
            // A store with versions in the layout before v7 is copied into the new one: vacuumed afterwards, so
            // that the file does not keep the old table's pages as free space twice its size.
            let relayout = try writer.read { db in
                try db.tableExists("version") && !migrator.appliedIdentifiers(db).contains(Self.versionLayoutMigration)
                    && Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM version LIMIT 1)") == 1
            }
            try migrator.migrate(writer)
            if relayout {
                try writer.vacuum()
                truncateLog()
            }
            try checkKey()
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "cannot open the database")
        }
    }

    /// The page cache of a streamed import's transaction, in KiB (``insert(batches:authority:from:)``).
    static let importCacheKiB = 65536

    /// A fresh in-memory store (tests), encrypted when `key` is given.
    public init(key: StoreKey? = nil, logOwner: String? = nil, summarizer: RecordSummarizer? = nil) throws {
        self.logOwner = logOwner
        self.summarizer = summarizer
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        writer = try DatabaseQueue(configuration: configuration)
        cipher = try key.map(StoreCipher.init)
        try Self.migrator.migrate(writer)
        try checkKey()
    }

    /// Checks the key against the store's key check, or (first use with a key) encrypts a plaintext store.
    func checkKey() throws {
        let check = try writer.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM storeMeta WHERE name = 'keyCheck'")
        }
        guard let cipher else {
            if check != nil {
                throw StoreError.locked("it is encrypted; unlock it with the organization's passphrase")
            }
            return
        }
        if let check {
            guard cipher.verify(keyCheck: Array(check)) else { throw StoreError.otherWorkspace }
            return
        }
        try encryptPlaintextStore(cipher)
    }

    /// Converts a plaintext store (an earlier release's, or a new one) in one transaction, then vacuums it and
    /// truncates the log so that the plaintext pages are gone from the files.
    func encryptPlaintextStore(_ cipher: StoreCipher) throws {
        let converted = try writer.write { db -> Int in
            let rows = try Row.fetchAll(db, sql: "SELECT id, recordId, jwt, disclosures, content FROM version")
            let update = try db.cachedStatement(
                sql: "UPDATE version SET jwt = ?, disclosures = ?, content = ? WHERE id = ?")
            for row in rows {
                let id: String = row["id"]
                let record: String = row["recordId"]
                let plain = Self.Fields(jwt: row["jwt"], disclosures: row["disclosures"], content: row["content"])
                let sealed = try Self.seal(plain, db: db, cipher: cipher, record: record, version: id)
                try update.execute(arguments: [sealed.jwt, sealed.disclosures, sealed.content, id])
            }
            // The ledger names partners by keyed tags from now on.
            for table in ["ack", "sentBundle", "sentVersion", "received", "sentCheckpoint"] {
                for partner in try String.fetchAll(db, sql: "SELECT DISTINCT partner FROM \(table)") {
                    try db.execute(
                        sql: "UPDATE \(table) SET partner = ? WHERE partner = ?",
                        arguments: [try cipher.partnerTag(partner), partner])
                }
            }
            // The stored view of a plaintext store holds plaintext summaries: derived again, sealed, on next use.
            try db.execute(
                sql: "DELETE FROM recordState; DELETE FROM stateBucket; DELETE FROM storeMeta WHERE name IN (?, ?)",
                arguments: [Self.viewAuthorityName, Self.viewSummaryName])
            try db.execute(
                sql: "INSERT INTO storeMeta (name, value) VALUES ('keyCheck', ?)",
                arguments: [Data(try cipher.keyCheck())]
            )
            return rows.count
        }
        if converted > 0 {
            try writer.vacuum()
        }
        truncateLog()
    }

    /// The three fields of a version that hold content, as stored: plaintext text, or sealed bytes.
    struct Fields {
        var jwt: DatabaseValue
        var disclosures: DatabaseValue
        var content: DatabaseValue

        init(jwt: DatabaseValue, disclosures: DatabaseValue, content: DatabaseValue) {
            self.jwt = jwt
            self.disclosures = disclosures
            self.content = content
        }
    }

    /// Seals the fields of a version under its record's key (plaintext texts in; an empty `disclosures` and a null
    /// `content`, as erased versions have, stay as they are).
    static func seal(
        _ plain: Fields, db: Database, cipher: StoreCipher, record: String, version: String
    ) throws -> Fields {
        guard let key = try cipher.recordKey(db, record, create: true) else { throw StoreError.locked("no record key") }
        func sealed(_ value: DatabaseValue, _ field: String) throws -> DatabaseValue {
            guard let text = String.fromDatabaseValue(value), !(field != "jwt" && text.isEmpty) else { return value }
            return Data(try cipher.seal(text, field: field, record: record, version: version, key: key)).databaseValue
        }
        return Fields(
            jwt: try sealed(plain.jwt, "jwt"), disclosures: try sealed(plain.disclosures, "disclosures"),
            content: try sealed(plain.content, "content"))
    }

    /// Reads a stored field back as text (opening it when sealed); nil for SQL NULL.
    static func text(
        _ value: DatabaseValue, field: String, db: Database, cipher: StoreCipher?, record: String, version: String
    ) throws -> String? {
        if value.isNull { return nil }
        if let data = Data.fromDatabaseValue(value), case .blob = value.storage {
            guard let cipher, let key = try cipher.recordKey(db, record, create: false) else {
                throw StoreError.locked("record \(record) is encrypted and no key is available")
            }
            return try cipher.open(Array(data), field: field, record: record, version: version, key: key)
        }
        guard cipher == nil || (field != "jwt" && String.fromDatabaseValue(value) == "") else {
            throw StoreError.damaged(record: record, what: "the \(field) of version \(version) is not encrypted")
        }
        return String.fromDatabaseValue(value)
    }

    static let versionLayoutMigration = "v7-table-layout"

    /// Migrations never change once landed; add new ones at the end.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "version") { t in
                t.primaryKey("id", .text)
                t.column("recordId", .text).notNull().indexed()
                t.column("kind", .text).notNull().check { ["create", "edit", "merge", "retract"].contains($0) }
                t.column("issuedAt", .integer).notNull()
                t.column("signer", .text).notNull()
                t.column("jwt", .text).notNull().unique()
                // The disclosures, '~'-joined as in the compact form; emptied by an erasure.
                t.column("disclosures", .text).notNull()
                // The verified record content (canonical JSON), derived at import; NULL once erased.
                t.column("content", .text)
                // 1 for a signed erasure request (a retract version whose content carries "erasure").
                t.column("erasure", .boolean).notNull().defaults(to: false).indexed()
            }
            try db.create(table: "parent") { t in
                t.column("versionId", .text).notNull().references("version", onDelete: .cascade)
                t.column("parentId", .text).notNull().indexed()
                t.primaryKey(["versionId", "parentId"])
            }
            try db.create(table: "versionAttachment") { t in
                t.column("versionId", .text).notNull().references("version", onDelete: .cascade)
                t.column("sha256", .text).notNull().indexed()
                t.primaryKey(["versionId", "sha256"])
            }
            try db.create(table: "blob") { t in
                t.primaryKey("sha256", .text)
                t.column("size", .integer).notNull()
            }
            // Delta exchange: what each partner holds (acknowledged), what we sent in which bundle, and which of
            // their bundles we imported (so our next bundle to them can acknowledge it).
            try db.create(table: "ack") { t in
                t.column("partner", .text).notNull()
                t.column("versionId", .text).notNull()
                t.primaryKey(["partner", "versionId"])
            }
            try db.create(table: "sent") { t in
                t.column("partner", .text).notNull()
                t.column("bundleId", .text).notNull()
                t.column("versionId", .text).notNull()
                t.primaryKey(["partner", "bundleId", "versionId"])
            }
            try db.create(table: "received") { t in
                t.column("partner", .text).notNull()
                t.column("bundleId", .text).notNull()
                t.primaryKey(["partner", "bundleId"])
            }
        }
        migrator.registerMigration("v2-erasure-authority") { db in
            // Records whose erasure took effect (an erasure request signed by the collector or a delegate, whose
            // parents are present). Before v2 every erasure request took effect, so those records are listed.
            try db.create(table: "erasedRecord") { t in
                t.primaryKey("recordId", .text)
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO erasedRecord SELECT DISTINCT recordId FROM version WHERE erasure = 1")
        }
        migrator.registerMigration("v3-erased-attachments") { db in
            // An erased record keeps no trace of its attachments: the digests only erased records used wait here
            // until their files are deleted (then ``forgetBlobs(_:)`` removes them), and the erased versions'
            // attachment rows go. Stores erased before v3 are brought to that state.
            try db.create(table: "erasedBlob") { t in
                t.primaryKey("sha256", .text)
            }
            try forgetAttachmentsOfErasedRecords(db)
        }
        migrator.registerMigration("v4-encryption") { db in
            // Encryption at rest (Specs/storage.md): each record's data key, wrapped by the store key; the key check.
            // The content columns of `version` hold sealed bytes from now on (converted on first unlock).
            try db.create(table: "recordKey") { t in
                t.primaryKey("recordId", .text)
                t.column("wrapped", .blob).notNull()
            }
            try db.create(table: "storeMeta") { t in
                t.primaryKey("name", .text)
                t.column("value", .blob).notNull()
            }
            // Each attachment file's own key, wrapped by the store key (null: a file from before encryption).
            try db.alter(table: "blob") { t in t.add(column: "wrappedKey", .blob) }
        }
        registerLogMigration(&migrator)
        registerViewMigration(&migrator)
        migrator.registerMigration(versionLayoutMigration) { db in
            // The same columns in another order and without v1's UNIQUE on `jwt`. A version's id is the SHA-256 of
            // its JWT, so the primary key already makes JWTs unique (in an encrypted store the column holds sealed
            // bytes, which never repeat); the index held a copy of every JWT and made each insert search it. The
            // small columns and the content now come first and the signed text last: the stored view reads the
            // content without walking the overflow pages of the disclosures (a row's large tail). Rowids are kept.
            try db.create(table: "version_v7") { t in
                t.primaryKey("id", .text)
                t.column("recordId", .text).notNull()
                t.column("kind", .text).notNull().check { ["create", "edit", "merge", "retract"].contains($0) }
                t.column("issuedAt", .integer).notNull()
                t.column("signer", .text).notNull()
                t.column("erasure", .boolean).notNull().defaults(to: false)
                t.column("content", .text)
                t.column("jwt", .text).notNull()
                t.column("disclosures", .text).notNull()
            }
            try db.execute(
                sql: """
                    INSERT INTO version_v7 (rowid, id, recordId, kind, issuedAt, signer, erasure, content, jwt, disclosures)
                    SELECT rowid, id, recordId, kind, issuedAt, signer, erasure, content, jwt, disclosures FROM version
                    ORDER BY rowid
                    """)
            try db.drop(table: "version")
            try db.rename(table: "version_v7", to: "version")
            try db.create(index: "version_on_recordId", on: "version", columns: ["recordId"])
            // Erasure requests are few: only they are indexed (the v1 index had an entry for every version).
            try db.create(
                index: "version_erasures", on: "version", columns: ["recordId"], condition: Column("erasure") == true)
            // Parent links and record keys are small rows looked up by their primary key: WITHOUT ROWID, each row is
            // written once, into the primary key's B-tree (a rowid table also kept that key's index).
            try db.create(table: "parent_v7", options: .withoutRowID) { t in
                t.column("versionId", .text).notNull().references("version", onDelete: .cascade)
                t.column("parentId", .text).notNull()
                t.primaryKey(["versionId", "parentId"])
            }
            try db.execute(
                sql: "INSERT INTO parent_v7 (versionId, parentId) SELECT versionId, parentId FROM parent ORDER BY 1, 2")
            try db.drop(table: "parent")
            try db.rename(table: "parent_v7", to: "parent")
            try db.create(index: "parent_on_parentId", on: "parent", columns: ["parentId"])
            try db.create(table: "recordKey_v7", options: .withoutRowID) { t in
                t.primaryKey("recordId", .text)
                t.column("wrapped", .blob).notNull()
            }
            try db.execute(
                sql: "INSERT INTO recordKey_v7 (recordId, wrapped) SELECT recordId, wrapped FROM recordKey ORDER BY 1")
            try db.drop(table: "recordKey")
            try db.rename(table: "recordKey_v7", to: "recordKey")
        }
        migrator.registerMigration("v8-record-state") { db in
            // `recordState` WITHOUT ROWID: a row lives in the B-tree of its record id (as a rowid table it also had
            // the primary key's index, and every write of the view updated both). The counts of `status`
            // (``viewCounts(authority:)``) read the index `recordState_counts` alone, never the rows with their
            // sealed summaries; its first column serves the lookups by status that v6's index served.
            try db.create(table: "recordState_v8", options: .withoutRowID) { t in
                t.primaryKey("recordId", .text)
                t.column("status", .text).notNull()
                t.column("erased", .boolean).notNull()
                t.column("autoMerged", .boolean).notNull()
                t.column("fieldConflicts", .integer).notNull()
                t.column("missingParents", .integer).notNull()
                t.column("pendingRequests", .integer).notNull()
                t.column("consentProposals", .integer).notNull()
                t.column("versions", .integer).notNull()
                t.column("summary", .blob).notNull()
            }
            try db.execute(
                sql: """
                    INSERT INTO recordState_v8 (recordId, status, erased, autoMerged, fieldConflicts, missingParents,
                        pendingRequests, consentProposals, versions, summary)
                    SELECT recordId, status, erased, autoMerged, fieldConflicts, missingParents, pendingRequests,
                        consentProposals, versions, summary FROM recordState ORDER BY recordId
                    """)
            try db.drop(table: "recordState")
            try db.rename(table: "recordState_v8", to: "recordState")
            try db.create(
                index: "recordState_counts", on: "recordState",
                columns: [
                    "status", "erased", "autoMerged", "fieldConflicts", "missingParents", "pendingRequests",
                    "consentProposals",
                ])
        }
        registerSentLedgerMigration(&migrator)
        return migrator
    }

    // MARK: Writing

    /// Adds verified versions in one transaction: all or nothing; versions already present are skipped.
    ///
    /// Erasure requests that `authority` allows take effect here (``applyErasures(authority:)``).
    @discardableResult
    public func insert(_ versions: [StoredVersion], authority: Authority = .collectorOnly) throws -> ImportSummary {
        do {
            let presealed = try preseal(versions)
            let summary = try write { db in
                var state = try ImportState(db, cipher: cipher, keepsAddedIds: true)
                try insertBatch(db, versions, presealed: presealed, into: &state)
                return try finishImport(db, authority: authority, state: &state)
            }
            if !summary.erased.isEmpty { truncateLog() }
            return summary
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "write failed")
        }
    }

    /// Records a blob (attachment) the caller has stored content-addressed on disk, with the key its file is
    /// encrypted under (wrapped by the store key; an encrypted store needs one). A blob already known keeps its key.
    /// - Parameter replacing: the caller has just put a new file (under `key`) in place of any earlier one, so the
    ///   key replaces whatever the row held.
    public func registerBlob(sha256: String, size: UInt64, key: SecretBytes? = nil, replacing: Bool = false) throws {
        let wrapped = try wrapBlobKey(key, sha256: sha256)
        try writer.write { db in
            try Self.registerBlob(db, sha256: sha256, size: size, wrapped: wrapped, replacing: replacing)
        }
    }

    func wrapBlobKey(_ key: SecretBytes?, sha256: String) throws -> Data? {
        guard let key else { return nil }
        guard let cipher else { throw StoreError.locked("a plaintext store cannot keep attachment keys") }
        return Data(
            try key.withUnsafeBytes { raw in
                try StoreCipher.seal(
                    Array(raw), key: cipher.storeKey, aad: Array("amanat-store/v1 blob-key \(sha256)".utf8))
            })
    }

    /// The key an attachment's file is encrypted under; nil when the store has no key for it (unknown, or a file
    /// from before encryption).
    /// - Throws: ``StoreError/damaged(record:what:)`` when the wrapped key does not open.
    public func blobKey(sha256: String) throws -> SecretBytes? {
        guard let cipher else { return nil }
        let wrapped = try writer.read { db in
            try Data.fetchOne(db, sql: "SELECT wrappedKey FROM blob WHERE sha256 = ?", arguments: [sha256])
        }
        guard let wrapped else { return nil }
        do {
            return SecretBytes(
                try StoreCipher.open(
                    Array(wrapped), key: cipher.storeKey, aad: Array("amanat-store/v1 blob-key \(sha256)".utf8)))
        } catch {
            throw StoreError.damaged(record: "?", what: "the key of attachment \(sha256.prefix(12)) does not unwrap")
        }
    }

    /// Attachments whose files are not encrypted yet (stored before encryption at rest), with their sizes.
    public func blobsWithoutKeys() throws -> [(sha256: String, size: UInt64)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, size FROM blob WHERE wrappedKey IS NULL ORDER BY sha256").map {
                ($0["sha256"], UInt64(exactly: $0["size"] as Int64) ?? 0)
            }
        }
    }

    /// Applies every erasure request `authority` allows to every record (after the trust list gained a delegate).
    /// - Returns: the records where something was erased now.
    @discardableResult
    public func applyErasures(authority: Authority) throws -> [String] {
        do {
            let erased = try write { db in
                let erased = try Self.applyErasures(db, records: nil, authority: authority, cipher: cipher)
                try updateView(db, records: Set(erased), authority: authority)
                return erased
            }
            if !erased.isEmpty { truncateLog() }
            return erased
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "write failed")
        }
    }

    /// Empties disclosures and content of every version of the given records (nil: all) that have an erasure
    /// request in force: signed by the collector or a delegate (``Authority/mayRetract(signer:collector:)``), with
    /// every parent present in the record (a request naming versions this store lacks waits for them). Requests
    /// from anyone else change nothing. Returns the records where something was erased now.
    static func applyErasures(
        _ db: Database, records: Set<String>?, authority: Authority, cipher: StoreCipher?
    ) throws -> [String] {
        // Erasure requests are few and indexed; only records this batch touched can need erasing now.
        let requests = try Row.fetchAll(
            db,
            sql: """
                SELECT e.recordId, e.signer, (SELECT c.signer FROM version c WHERE c.id = e.recordId) AS collector,
                       (SELECT COUNT(*) FROM parent p WHERE p.versionId = e.id AND NOT EXISTS (
                            SELECT 1 FROM version v WHERE v.id = p.parentId AND v.recordId = e.recordId)) AS missing
                FROM version e WHERE e.erasure = 1 ORDER BY e.recordId
                """)
        var inForce = Set<String>()
        for row in requests {
            let record: String = row["recordId"]
            guard records?.contains(record) ?? true, (row["missing"] as Int) == 0,
                authority.mayRetract(signer: row["signer"], collector: row["collector"])
            else { continue }
            inForce.insert(record)
        }
        var erasedNow: [String] = []
        for record in inForce.sorted() {
            if let cipher { try rekey(db, record: record, cipher: cipher) }
            try db.execute(sql: "INSERT OR IGNORE INTO erasedRecord (recordId) VALUES (?)", arguments: [record])
            try db.execute(
                sql:
                    "UPDATE version SET disclosures = '', content = NULL WHERE recordId = ? AND (disclosures != '' OR content IS NOT NULL)",
                arguments: [record])
            if db.changesCount > 0 { erasedNow.append(record) }
        }
        if !inForce.isEmpty { try forgetAttachmentsOfErasedRecords(db) }
        return erasedNow
    }

    /// Seals the fields of `versions` on all cores before the write transaction (nil for a plaintext store): keys of
    /// records the store knows are read first, records it does not know get fresh keys (stored by the
    /// transaction).
    /// - Parameter db: the caller's transaction (a streamed import), or nil to read the keys in a read transaction.
    func preseal(_ versions: [StoredVersion], db: Database? = nil) throws -> Presealed? {
        guard let cipher, !versions.isEmpty else { return nil }
        let records = Set(versions.map(\.recordId))
        // One query per 500 records for the keys the store has (not one per record), unwrapped on all cores.
        var keys =
            try db.map { try cipher.existingRecordKeys($0, Array(records)) }
            ?? writer.read { db in try cipher.existingRecordKeys(db, Array(records)) }
        // Records new to the store: fresh keys, wrapped here on all cores (the transaction only stores them).
        let fresh = records.filter { keys[$0] == nil }.sorted()
        let made = try cipher.makeRecordKeys(fresh)
        var wrapped: [String: Data] = [:]
        for (record, key, sealed) in made {
            keys[record] = key
            wrapped[record] = sealed
        }
        let plain = versions.map { v in
            StoreCipher.PlainFields(
                record: v.recordId, version: v.id, jwt: v.jwt, disclosures: v.disclosures.joined(separator: "~"),
                content: v.content)
        }
        return (try cipher.sealFields(plain, keys: keys), keys, wrapped)
    }

    /// Crypto-shredding: the record's JWTs (which hold no disclosed value, and must travel so its history still
    /// verifies) are sealed again under a fresh data key, and the old key, under which its disclosures and content
    /// were sealed, is replaced; with `secure_delete` its bytes are overwritten in the file. The caller then empties
    /// the disclosures and content.
    static func rekey(_ db: Database, record: String, cipher: StoreCipher) throws {
        guard (try Bool.fetchOne(db, sql: "SELECT 1 FROM erasedRecord WHERE recordId = ?", arguments: [record])) != true
        else { return }
        let rows = try Row.fetchAll(db, sql: "SELECT id, jwt FROM version WHERE recordId = ?", arguments: [record])
        var jwts: [(String, String)] = []
        for row in rows {
            let id: String = row["id"]
            if let jwt = try text(row["jwt"], field: "jwt", db: db, cipher: cipher, record: record, version: id) {
                jwts.append((id, jwt))
            }
        }
        cipher.forget(record: record)
        let fresh = SecretBytes(try SecureRandom.bytes(32))
        try cipher.storeRecordKey(db, fresh, for: record)
        for (id, jwt) in jwts {
            let sealed = try cipher.seal(jwt, field: "jwt", record: record, version: id, key: fresh)
            try db.execute(
                sql: "UPDATE version SET jwt = ? WHERE id = ?",
                arguments: [Data(sealed), id])
        }
    }

    /// Runs a write transaction; when it fails, record keys cached during it are forgotten (they may be rolled back).
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.write(body)
        } catch {
            cipher?.forgetAll()
            throw error
        }
    }

    /// Lists in `erasedBlob` the attachments only erased records use (their files are to be deleted), then
    /// deletes the erased versions' attachment rows: no row of an erased record names an attachment any more.
    static func forgetAttachmentsOfErasedRecords(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO erasedBlob (sha256)
                SELECT DISTINCT a.sha256 FROM versionAttachment a JOIN version v ON v.id = a.versionId
                WHERE v.recordId IN (SELECT recordId FROM erasedRecord)
                AND a.sha256 NOT IN (
                    SELECT a2.sha256 FROM versionAttachment a2 JOIN version v2 ON v2.id = a2.versionId
                    WHERE v2.recordId NOT IN (SELECT recordId FROM erasedRecord));
                DELETE FROM versionAttachment WHERE versionId IN (
                    SELECT id FROM version WHERE recordId IN (SELECT recordId FROM erasedRecord));
                """)
    }

    /// Copies the write-ahead log into the database file and truncates it, so that the pages erased data sat on
    /// do not linger in the log (``init(path:)`` turns on `secure_delete`, which zeroes them in the file itself).
    /// Best effort: while another process reads the store the log cannot be truncated, and the erasure itself
    /// is already committed; the next erasure, or SQLite's own checkpoints, copy the pages later.
    func truncateLog() {
        guard writer is DatabasePool else { return }
        writer.writeWithoutTransaction { db in _ = try? db.checkpoint(.truncate) }
    }

    /// Records that have an erasure request, in force or not (their versions may travel without disclosures).
    public func recordsWithErasureRequests() throws -> Set<String> {
        try writer.read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT recordId FROM version WHERE erasure = 1"))
        }
    }

    /// Attachments only erased records used (their files should be deleted), until ``forgetBlobs(_:)``.
    public func blobsOnlyInErasedRecords() throws -> [String] {
        try writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT sha256 FROM erasedBlob WHERE sha256 NOT IN (SELECT sha256 FROM versionAttachment)
                    ORDER BY sha256
                    """)
        }
    }

    /// Forgets blobs (after their files were deleted): their rows, and their digests on the list of attachments
    /// of erased records; the log is then truncated so that no copy of the digests stays in the store's files.
    public func forgetBlobs(_ digests: [String]) throws {
        guard !digests.isEmpty else { return }
        do {
            try writer.write { db in
                for d in digests {
                    try db.execute(sql: "DELETE FROM blob WHERE sha256 = ?", arguments: [d])
                    try db.execute(sql: "DELETE FROM erasedBlob WHERE sha256 = ?", arguments: [d])
                }
            }
            truncateLog()
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "write failed")
        }
    }

    // MARK: Reading

    static func heads(_ db: Database, _ recordId: String) throws -> [String] {
        // Cached: an import asks this of every record it added a version with parents to.
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT v.id FROM version v WHERE v.recordId = ?
                    AND NOT EXISTS (SELECT 1 FROM parent p JOIN version c ON c.id = p.versionId
                                    WHERE p.parentId = v.id AND c.recordId = v.recordId)
                    ORDER BY v.id
                    """), arguments: [recordId])
    }

    /// The heads (versions no other version of the record names as a parent), sorted.
    public func heads(record: String) throws -> [String] { try writer.read { try Self.heads($0, record) } }

    /// Every record, sorted by id.
    public func records() throws -> [RecordSummary] {
        try writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT recordId, COUNT(*) AS n, MAX(issuedAt) AS last,
                           (SELECT signer FROM version c WHERE c.id = v.recordId) AS creator,
                           SUM(kind = 'retract') AS retracts
                    FROM version v GROUP BY recordId ORDER BY recordId
                    """)
            return try rows.map { row in
                let id: String = row["recordId"]
                return RecordSummary(
                    id: id, heads: try Self.heads(db, id), versionCount: row["n"], createdBy: row["creator"] ?? "?",
                    lastIssuedAt: row["last"], retracted: (row["retracts"] as Int? ?? 0) > 0)
            }
        }
    }

    /// Resolves a full record id or a unique prefix of at least 6 characters.
    public func resolveRecord(_ text: String) throws -> String {
        try writer.read { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM version WHERE recordId = ? LIMIT 1", arguments: [text]) == true
            {
                return text
            }
            guard text.count >= 6 else { throw StoreError.unknownRecord(text) }
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            let matches = try String.fetchAll(
                db, sql: "SELECT DISTINCT recordId FROM version WHERE recordId LIKE ? ESCAPE '\\' LIMIT 2",
                arguments: [escaped + "%"])
            guard matches.count == 1 else {
                if matches.isEmpty { throw StoreError.unknownRecord(text) }
                throw StoreError.ambiguousRecord(prefix: text, matches: matches.count)
            }
            return matches[0]
        }
    }

    /// One version with its disclosures.
    public func version(_ id: String) throws -> StoredVersion {
        try writer.read { db in
            guard let v = try Self.version(db, id, cipher: cipher) else { throw StoreError.unknownVersion(id) }
            return v
        }
    }

    /// The version of each of `recordIds` of which the store holds exactly one, by record id (records with none or
    /// several are left out): `publish` derives such a record's view from that version alone instead of reading its
    /// history. One read transaction for all (one per record was a third of the cost of reading the versions).
    public func onlyVersions(ofRecords recordIds: some Collection<String>) throws -> [String: StoredVersion] {
        guard !recordIds.isEmpty else { return [:] }
        return try writer.read { db in
            var found: [String: StoredVersion] = [:]
            found.reserveCapacity(recordIds.count)
            let statement = try db.cachedStatement(sql: "SELECT id FROM version WHERE recordId = ? LIMIT 2")
            for recordId in recordIds {
                let ids = try String.fetchAll(statement, arguments: [recordId])
                guard ids.count == 1, let version = try Self.version(db, ids[0], cipher: cipher) else { continue }
                found[recordId] = version
            }
            return found
        }
    }

    /// The disclosures of a stored `a~b~c` column, empty pieces dropped. Split on the byte over the contiguous
    /// UTF-8 ('~' is ASCII): the generic `utf8.split` took 2 % of `publish`, which reads every version.
    static func splitDisclosures(_ joined: String) -> [String] {
        var joined = joined
        return joined.withUTF8 { bytes in
            var parts: [String] = []
            var start = 0
            func take(_ end: Int) {
                if end > start {
                    parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                }
            }
            for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "~") {
                take(i)
                start = i + 1
            }
            take(bytes.count)
            return parts
        }
    }

    static func version(_ db: Database, _ id: String, cipher: StoreCipher?) throws -> StoredVersion? {
        // Cached statements: `publish` and `show` read one version at a time, and preparing cost more than reading.
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM version WHERE id = ?"), arguments: [id])
        else {
            return nil
        }
        let prev = try String.fetchAll(
            db.cachedStatement(sql: "SELECT parentId FROM parent WHERE versionId = ? ORDER BY parentId"),
            arguments: [id])
        let record: String = row["recordId"]
        let joined =
            try text(row["disclosures"], field: "disclosures", db: db, cipher: cipher, record: record, version: id)
            ?? ""
        let disclosures = splitDisclosures(joined)
        let jwt = try text(row["jwt"], field: "jwt", db: db, cipher: cipher, record: record, version: id) ?? ""
        let content = try text(row["content"], field: "content", db: db, cipher: cipher, record: record, version: id)
        let attachments = try String.fetchAll(
            db.cachedStatement(sql: "SELECT sha256 FROM versionAttachment WHERE versionId = ? ORDER BY sha256"),
            arguments: [id])
        return StoredVersion(
            id: row["id"], recordId: row["recordId"], kind: VersionKind(rawValue: row["kind"]) ?? .edit, prev: prev,
            issuedAt: row["issuedAt"], signer: row["signer"], jwt: jwt, disclosures: disclosures,
            attachments: attachments, content: content, isErasure: row["erasure"])
    }

    /// The ids of a record's versions, oldest first (by time, then id), without opening them.
    public func versionIds(record: String) throws -> [String] {
        try writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM version WHERE recordId = ? ORDER BY issuedAt, id", arguments: [record])
        }
    }

    /// Every version of a record, oldest first (by time, then id).
    public func versions(record: String) throws -> [StoredVersion] {
        try writer.read { db in
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM version WHERE recordId = ? ORDER BY issuedAt, id", arguments: [record])
            return try ids.compactMap { try Self.version(db, $0, cipher: cipher) }
        }
    }

    /// One row per version for deriving the view: ids, graph, signer, time and the stored canonical content.
    public struct GraphRow: Sendable {
        public var id: String
        public var recordId: String
        public var kind: VersionKind
        public var prev: [String]
        public var signer: String
        public var issuedAt: Int
        /// The content as stored in a plaintext store (parsed by the caller).
        public var content: String?
        /// The content of an encrypted store, decrypted and parsed on all cores while the rows were read.
        public var parsed: JSONValue?
    }

    /// Every version's graph row (or one record's), ordered by record then id.
    public func graphRows(record: String? = nil) throws -> [GraphRow] {
        try writer.read { db in
            try Self.graphRows(
                db, filter: record.map { RowFilter(sql: "v.recordId = ?", arguments: [$0], cached: true) },
                cipher: cipher)
        }
    }

    /// A condition on the version table (aliased `v`) selecting the records to read.
    struct RowFilter {
        var sql: String
        var arguments: StatementArguments
        /// Whether the statements are kept prepared (a filter of fixed text, used once per record: preparing costs
        /// more than reading a record's rows); not for `IN` lists of every length.
        var cached = false

        /// The statement `sql` (this filter's condition in it), prepared or taken from the connection's cache.
        func statement(_ db: Database, _ sql: String) throws -> Statement {
            cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        }

        /// The records whose ids are listed (at most a few hundred: one SQL variable each).
        static func records(_ ids: some Collection<String>) -> RowFilter {
            RowFilter(
                sql: "v.recordId IN (\(Array(repeating: "?", count: ids.count).joined(separator: ",")))",
                arguments: StatementArguments(Array(ids)))
        }
    }

    /// The graph rows of the versions `filter` selects (nil: all), ordered by record then id.
    static func graphRows(_ db: Database, filter: RowFilter?, cipher: StoreCipher?) throws -> [GraphRow] {
        try fetchGraph(db, filter: filter, cipher: cipher).opened(cipher)
    }

    /// Graph rows as read from SQLite, an encrypted store's contents still sealed (copied out of SQLite's buffers):
    /// ``opened(_:)`` opens and parses them on all cores, on any thread, after the read transaction.
    struct FetchedGraph: Sendable {
        var rows: [GraphRow] = []
        var sealed = StoreCipher.SealedContents()

        func opened(_ cipher: StoreCipher?) throws -> [GraphRow] {
            guard let cipher, !sealed.isEmpty else { return rows }
            var rows = rows
            for (index, value) in try cipher.openContents(sealed) { rows[index].parsed = value }
            return rows
        }
    }

    /// ``graphRows(_:filter:cipher:)`` without opening the contents.
    static func fetchGraph(_ db: Database, filter: RowFilter?, cipher: StoreCipher?) throws -> FetchedGraph {
        var parents: [String: [String]] = [:]
        let parentRows =
            try filter.map {
                try Row.fetchCursor(
                    $0.statement(
                        db,
                        // CROSS JOIN keeps `version` (searched by record id) as the outer loop: without statistics
                        // SQLite may otherwise scan every parent row.
                        "SELECT p.versionId, p.parentId FROM version v CROSS JOIN parent p ON p.versionId = v.id WHERE \($0.sql)"
                    ), arguments: $0.arguments)
            } ?? Row.fetchCursor(db, sql: "SELECT versionId, parentId FROM parent")
        while let row = try parentRows.next() {
            parents[row[0], default: []].append(row[1])
        }
        if let cipher { return try Self.sealedGraphRows(db, filter: filter, parents: parents, cipher: cipher) }
        var result = FetchedGraph()
        let columns = "SELECT v.id, v.recordId, v.kind, v.signer, v.issuedAt, v.content FROM version v"
        let rows =
            try filter.map {
                try Row.fetchCursor(
                    $0.statement(db, "\(columns) WHERE \($0.sql) ORDER BY v.recordId, v.id"), arguments: $0.arguments)
            } ?? Row.fetchCursor(db, sql: "\(columns) ORDER BY v.recordId, v.id")
        while let row = try rows.next() {
            let id: String = row[0]
            let record: String = row[1]
            let value: DatabaseValue = row[5]
            let content = try Self.text(value, field: "content", db: db, cipher: nil, record: record, version: id)
            result.rows.append(
                GraphRow(
                    id: id, recordId: record, kind: VersionKind(rawValue: row[2]) ?? .edit,
                    prev: (parents[id] ?? []).sorted(), signer: row[3], issuedAt: row[4], content: content))
        }
        return result
    }

    /// ``fetchGraph(_:filter:cipher:)`` of an encrypted store. Each row comes with its record's wrapped key (a join,
    /// in the same read transaction); the sealed contents and the wrapped keys (once per record) are copied from
    /// SQLite's row buffers into one buffer, to be opened and parsed on all cores (``StoreCipher/openContents(_:)``).
    static func sealedGraphRows(
        _ db: Database, filter: RowFilter?, parents: [String: [String]], cipher: StoreCipher
    ) throws -> FetchedGraph {
        let columns = "v.id, v.recordId, v.kind, v.signer, v.issuedAt, v.content, typeof(v.content) = 'blob', k.wrapped"
        let join = "FROM version v LEFT JOIN recordKey k ON k.recordId = v.recordId"
        let rows =
            try filter.map {
                try Row.fetchCursor(
                    $0.statement(db, "SELECT \(columns) \(join) WHERE \($0.sql) ORDER BY v.recordId, v.id"),
                    arguments: $0.arguments)
            } ?? Row.fetchCursor(db, sql: "SELECT \(columns) \(join) ORDER BY v.recordId, v.id")
        var result: [GraphRow] = []
        var sealed = StoreCipher.SealedContents()
        // The wrapped key of the record of the previous sealed row (rows come ordered by record).
        var keyOf: (record: String, wrapped: Range<Int>?)?
        while let row = try rows.next() {
            let id: String = row[0]
            let record: String = row[1]
            var content: String? = nil
            if row[6] as Bool {
                if keyOf?.record != record {
                    keyOf = (record, try row.withUnsafeData(atIndex: 7) { $0.map { sealed.append($0) } })
                }
                guard let wrapped = keyOf?.wrapped else {
                    throw StoreError.locked("record \(record) is encrypted and no key is available")
                }
                let bytes = try row.withUnsafeData(atIndex: 5) { $0.map { sealed.append($0) } } ?? 0..<0
                sealed.items.append(
                    .init(index: result.count, record: record, version: id, content: bytes, wrapped: wrapped))
            } else {
                content = try Self.text(row[5], field: "content", db: db, cipher: cipher, record: record, version: id)
            }
            result.append(
                GraphRow(
                    id: id, recordId: record, kind: VersionKind(rawValue: row[2]) ?? .edit,
                    prev: (parents[id] ?? []).sorted(), signer: row[3], issuedAt: row[4], content: content))
        }
        return FetchedGraph(rows: result, sealed: sealed)
    }

    /// All version ids, sorted.
    public func allVersionIds() throws -> [String] {
        try writer.read { try String.fetchAll($0, sql: "SELECT id FROM version ORDER BY id") }
    }

    /// Counts for `status`.
    public func counts() throws -> (records: Int, versions: Int) {
        try writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT recordId) FROM version") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM version") ?? 0
            )
        }
    }

    // MARK: Delta exchange

    /// How the ledger names a partner: its fingerprint, or in an encrypted store a keyed tag of it.
    func ledgerName(_ partner: String) throws -> String { try cipher?.partnerTag(partner) ?? partner }

    /// Versions the partner is not known to hold, sorted.
    public func unacknowledgedVersions(partner: String) throws -> [String] {
        let partner = try ledgerName(partner)
        return try writer.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT id FROM version WHERE id NOT IN (SELECT versionId FROM ack WHERE partner = ?) ORDER BY id",
                arguments: [partner])
        }
    }

    /// Whether the partner holds, or was sent, some version of the record.
    public func partnerHolds(partner: String, record: String) throws -> Bool {
        let partner = try ledgerName(partner)
        return try writer.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM version v CROSS JOIN ack a ON a.partner = ? AND a.versionId = v.id
                                   WHERE v.recordId = ?)
                        OR EXISTS (SELECT 1 FROM version v CROSS JOIN sentVersion s ON s.partner = ? AND s.versionId = v.id
                                   WHERE v.recordId = ?)
                    """, arguments: [partner, record, partner, record]) ?? false
        }
    }

    /// Records that a bundle with these versions was sent to the partner.
    public func recordSent(partner: String, bundleId: String, versions: [String]) throws {
        let partner = try ledgerName(partner)
        try writer.write { db in try Self.recordSent(db, partner: partner, bundleId: bundleId, versions: versions) }
    }

    /// Records an imported bundle from `partner`: it holds `versions` (they were in its bundle), and it acknowledges
    /// the bundles we sent it that it lists.
    public func recordReceived(partner: String, bundleId: String, versions: [String], acknowledges: [String]) throws {
        let partner = try ledgerName(partner)
        try writer.write { db in
            try Self.recordReceived(
                db, partner: partner, bundleId: bundleId, versions: versions, acknowledges: acknowledges)
        }
    }

    /// Bundles received from the partner (most recent last, at most `limit`), to acknowledge in our next bundle.
    public func receivedBundles(partner: String, limit: Int = 256) throws -> [String] {
        let partner = try ledgerName(partner)
        return try writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT bundleId FROM received WHERE partner = ? ORDER BY rowid DESC LIMIT ?",
                arguments: [partner, limit]
            ).reversed()
        }
    }

    /// SQLite's own consistency check.
    public func integrityCheck() throws -> Bool {
        try writer.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") == "ok" }
    }
}
