import AmanatCrypto
import AmanatRecords
import AmanatSync
import Foundation
import GRDB

/// What a streamed import changed (``Store/insert(batches:authority:from:)``): counts and the lists a report shows,
/// never the versions themselves, so it stays small however large the bundle.
public struct StreamedImportSummary: Sendable, Equatable {
    /// How many versions were new to the store.
    public var added = 0
    /// Versions the store already had.
    public var alreadyPresent = 0
    /// Records that now have more than one head (concurrent versions), sorted.
    public var recordsWithConcurrentHeads: [String] = []
    /// Versions whose parents are not (yet) in the store, sorted.
    public var incomplete: [String] = []
    /// Records whose personal data was erased by this import (signed erasure requests).
    public var erased: [String] = []
}

/// An attachment of a bundle whose file the caller puts in place before the import commits, with the key it is
/// encrypted under; registered in the import's transaction (replacing the key of any earlier file).
public struct IncomingBlob: Sendable {
    public var sha256: String
    public var size: UInt64
    public var key: SecretBytes

    public init(sha256: String, size: UInt64, key: SecretBytes) {
        self.sha256 = sha256
        self.size = size
        self.key = key
    }
}

/// The partner's bundle a streamed import comes from: the ledger entries of ``Store/recordReceived(partner:bundleId:versions:acknowledges:)``
/// (it holds every version it sent; it acknowledges our bundles it lists) and its attachments are written in the
/// import's transaction.
public struct IncomingBundle: Sendable {
    /// The partner's fingerprint.
    public var partner: String
    public var bundleId: String
    /// Our bundles the partner says it imported.
    public var acknowledges: [String]
    public var blobs: [IncomingBlob]

    public init(partner: String, bundleId: String, acknowledges: [String], blobs: [IncomingBlob] = []) {
        self.partner = partner
        self.bundleId = bundleId
        self.acknowledges = acknowledges
        self.blobs = blobs
    }
}

extension Store {
    /// Fields sealed on all cores before they are inserted (``preseal(_:db:)``): one per version, the keys used, and
    /// the wrapped form of the keys made for records new to the store.
    typealias Presealed = (fields: [StoreCipher.SealedFields], keys: [String: SecretBytes], wrapped: [String: Data])

    /// Imports versions batch by batch in ONE write transaction: all or nothing, however many batches. `next` is
    /// called inside the transaction for each batch (it may verify them on all cores meanwhile) and returns nil
    /// when there are no more; if it throws, nothing is imported. Each batch is sealed and inserted as
    /// ``insert(_:authority:)`` does; memory holds one batch at a time, never the whole import.
    ///
    /// The transaction holds the store's write lock until `next` returns nil: other writers wait meanwhile.
    /// - Parameters:
    ///   - authority: which erasure requests take effect (``applyErasures(authority:)``).
    ///   - bundle: the partner's bundle the versions come from: the ledger and its attachments are recorded in the
    ///     same transaction.
    @discardableResult
    public func insert(
        batches next: () throws -> [StoredVersion]?, authority: Authority = .collectorOnly,
        from bundle: IncomingBundle? = nil
    ) throws -> StreamedImportSummary {
        do {
            let partner = try bundle.map { try ledgerName($0.partner) }
            let blobs = try (bundle?.blobs ?? []).map { ($0, try wrapBlobKey($0.key, sha256: $0.sha256)) }
            let summary = try write { db in
                // A larger page cache for this transaction (SQLite's default is 2 MB): an `add` or `open` of many
                // versions is one transaction, and the index pages it touches at random across a large store must
                // stay in memory, or each is read back through the WAL's index, which grows with the transaction.
                // Given back afterwards, so that other commands keep their memory.
                try db.execute(sql: "PRAGMA cache_size = -\(Self.importCacheKiB)")
                defer { try? db.execute(sql: "PRAGMA cache_size = -2000; PRAGMA shrink_memory") }
                var state = try ImportState(db, cipher: cipher, keepsAddedIds: false)
                let ack = try db.cachedStatement(sql: "INSERT OR IGNORE INTO ack (partner, versionId) VALUES (?, ?)")
                while let versions = try next() {
                    // Sealed here, in the transaction: the record keys read are the current ones.
                    let presealed = try preseal(versions, db: db)
                    try insertBatch(db, versions, presealed: presealed, into: &state)
                    if let partner {
                        for v in versions { try ack.execute(arguments: [partner, v.id]) }
                    }
                    // The key cache would grow with every record imported: keys are read again as needed.
                    cipher?.forgetAll()
                }
                for (blob, wrapped) in blobs {
                    try Self.registerBlob(db, sha256: blob.sha256, size: blob.size, wrapped: wrapped, replacing: true)
                }
                if let bundle, let partner {
                    try Self.recordReceived(
                        db, partner: partner, bundleId: bundle.bundleId, versions: [],
                        acknowledges: bundle.acknowledges)
                }
                let summary = try finishImport(db, authority: authority, state: &state)
                return StreamedImportSummary(
                    added: state.addedCount, alreadyPresent: summary.alreadyPresent,
                    recordsWithConcurrentHeads: summary.recordsWithConcurrentHeads, incomplete: summary.incomplete,
                    erased: summary.erased)
            }
            if !summary.erased.isEmpty { truncateLog() }
            return summary
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "write failed")
        }
    }

    /// What one import transaction has done so far, across its batches.
    struct ImportState {
        /// Whether ``ImportSummary/added`` lists the ids (``insert(_:authority:)``) or only ``addedCount`` counts them.
        let keepsAddedIds: Bool
        let now = Int(Date().timeIntervalSince1970)
        /// The largest rowid of `version` before the transaction: rows above it are the ones it added.
        let lastRowBefore: Int64
        /// Records that had an erasure request before the transaction (few).
        let erasureRecordsBefore: Set<String>
        /// Records already erased (few), read once, not per version (encrypted stores only).
        let erasedRecords: Set<String>
        var summary = ImportSummary()
        var addedCount = 0
        /// Every record the transaction inserted a version for.
        var affected = Set<String>()
        /// Records that gained a version with parents (they may now have concurrent heads).
        var touched = Set<String>()
        /// Records of the imported versions that have (or bring) an erasure request.
        var erasureCandidates = Set<String>()

        init(_ db: Database, cipher: StoreCipher?, keepsAddedIds: Bool) throws {
            self.keepsAddedIds = keepsAddedIds
            lastRowBefore = try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM version") ?? 0
            erasureRecordsBefore = Set(
                try String.fetchAll(db, sql: "SELECT DISTINCT recordId FROM version WHERE erasure = 1"))
            erasedRecords =
                cipher == nil ? [] : Set(try String.fetchAll(db, sql: "SELECT recordId FROM erasedRecord"))
        }
    }

    /// Inserts one batch inside the caller's import transaction: record keys, version, parent and attachment rows,
    /// and log appends of this organization's own versions. `presealed` holds the batch's fields sealed before (nil:
    /// a plaintext store, or sealed here).
    func insertBatch(
        _ db: Database, _ versions: [StoredVersion], presealed: Presealed?, into state: inout ImportState
    ) throws {
        let insertVersion = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO version (id, recordId, kind, issuedAt, signer, jwt, disclosures, content, erasure)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertParent = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO parent (versionId, parentId) VALUES (?, ?)")
        let insertAttachment = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO versionAttachment (versionId, sha256) VALUES (?, ?)")
        let forgetErased = try db.cachedStatement(sql: "DELETE FROM erasedBlob WHERE sha256 = ?")
        let exists = try db.cachedStatement(sql: "SELECT 1 FROM version WHERE id = ?")
        // The keys the batch was sealed under are checked against the store, read afresh inside this
        // transaction: a record new to the store gets its key stored now; a record whose key another process
        // stored or replaced (an erasure) meanwhile has its versions sealed again here, under the stored key.
        var resealRecords = Set<String>()
        if let cipher, let presealed {
            for (record, used) in presealed.keys.sorted(by: { $0.key < $1.key }) {
                // New when the batch was sealed: one insert stores its key, unless one appeared meanwhile.
                if let wrapped = presealed.wrapped[record],
                    try cipher.storeWrappedRecordKeyIfAbsent(db, used, wrapped: wrapped, for: record)
                {
                    continue
                }
                if let current = try cipher.storedRecordKey(db, record) {
                    if current != used {
                        resealRecords.insert(record)
                        cipher.remember(current, for: record)
                    }
                } else {
                    try cipher.storeRecordKey(db, used, for: record)
                }
            }
        }
        for (i, v) in versions.enumerated() {
            if v.isErasure || state.erasureRecordsBefore.contains(v.recordId) {
                state.erasureCandidates.insert(v.recordId)
            }
            var fields: Fields
            if let cipher {
                if let presealed, !resealRecords.contains(v.recordId) {
                    // Sealed before; a version already stored is ignored by the insert.
                    let sealed = presealed.fields[i]
                    fields = Fields(
                        jwt: sealed.jwt.databaseValue,
                        disclosures: sealed.disclosures?.databaseValue ?? "".databaseValue,
                        content: sealed.content?.databaseValue ?? .null)
                } else {
                    guard try Bool.fetchOne(exists, arguments: [v.id]) != true else {
                        state.summary.alreadyPresent += 1
                        continue
                    }
                    fields = try Self.seal(
                        Fields(
                            jwt: v.jwt.databaseValue,
                            disclosures: v.disclosures.joined(separator: "~").databaseValue,
                            content: v.content.databaseValue), db: db, cipher: cipher, record: v.recordId,
                        version: v.id)
                }
                // A late version of an erased record keeps no disclosure or content, not even sealed under a
                // key that survives.
                if state.erasedRecords.contains(v.recordId) {
                    fields.disclosures = "".databaseValue
                    fields.content = .null
                }
            } else {
                fields = Fields(
                    jwt: v.jwt.databaseValue, disclosures: v.disclosures.joined(separator: "~").databaseValue,
                    content: v.content.databaseValue)
            }
            try insertVersion.execute(arguments: [
                v.id, v.recordId, v.kind.rawValue, v.issuedAt, v.signer, fields.jwt, fields.disclosures,
                fields.content, v.isErasure,
            ])
            guard db.changesCount > 0 else {
                state.summary.alreadyPresent += 1
                continue
            }
            for p in v.prev { try insertParent.execute(arguments: [v.id, p]) }
            for a in v.attachments {
                try insertAttachment.execute(arguments: [v.id, a])
                // Used again: its file is no longer to be deleted (an erased record's use is re-listed
                // by applyErasures below).
                try forgetErased.execute(arguments: [a])
            }
            state.addedCount += 1
            if state.keepsAddedIds { state.summary.added.append(v.id) }
            state.affected.insert(v.recordId)
            // What this organization signed goes into its log in the same transaction (Specs/log.md).
            if let logOwner, v.signer == logOwner, let entry = Self.logEntry(for: v) {
                try Self.appendToLog(db, entry, at: state.now)
            }
            if !v.prev.isEmpty { state.touched.insert(v.recordId) }
        }
    }

    /// Ends an import transaction after its last batch: erasures, concurrent heads, incomplete histories.
    func finishImport(_ db: Database, authority: Authority, state: inout ImportState) throws -> ImportSummary {
        // Erasure requests are honored on import, whatever order versions arrive in: every version of an
        // erased record loses its disclosures and content; the signed JWTs stay, so history still verifies. Only
        // records of this import that have a request can need erasing now.
        state.summary.erased = try Self.applyErasures(
            db, records: state.erasureCandidates, authority: authority, cipher: cipher)
        for recordId in state.touched.sorted() where try Self.heads(db, recordId).count > 1 {
            state.summary.recordsWithConcurrentHeads.append(recordId)
        }
        // Added versions (rows above the transaction's first) whose parents the store still lacks, looked up by
        // primary key: a parent may have come in a later batch than its child.
        state.summary.incomplete = try String.fetchAll(
            db,
            sql: """
                SELECT v.id FROM version v WHERE v.rowid > ? AND EXISTS (
                    SELECT 1 FROM parent p WHERE p.versionId = v.id
                    AND NOT EXISTS (SELECT 1 FROM version w WHERE w.id = p.parentId))
                """, arguments: [state.lastRowBefore]
        ).sorted()
        // The stored view of every record that gained a version or lost its content, in this transaction.
        try updateView(db, records: state.affected.union(state.summary.erased), authority: authority)
        return state.summary
    }

    /// Registers an attachment inside the caller's transaction (``registerBlob(sha256:size:key:replacing:)``).
    static func registerBlob(_ db: Database, sha256: String, size: UInt64, wrapped: Data?, replacing: Bool) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO blob (sha256, size, wrappedKey) VALUES (?, ?, ?)",
            arguments: [sha256, Int64(size), wrapped])
        if let wrapped {
            try db.execute(
                sql: "UPDATE blob SET wrappedKey = ? WHERE sha256 = ?" + (replacing ? "" : " AND wrappedKey IS NULL"),
                arguments: [wrapped, sha256])
        }
    }

    /// Records an imported bundle inside the caller's transaction (``recordReceived(partner:bundleId:versions:acknowledges:)``);
    /// `partner` is already the ledger's name for it.
    static func recordReceived(
        _ db: Database, partner: String, bundleId: String, versions: [String], acknowledges: [String]
    ) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO received (partner, bundleId) VALUES (?, ?)", arguments: [partner, bundleId])
        let ack = try db.cachedStatement(sql: "INSERT OR IGNORE INTO ack (partner, versionId) VALUES (?, ?)")
        for v in versions { try ack.execute(arguments: [partner, v]) }
        for bundle in acknowledges { try recordAcknowledged(db, partner: partner, bundleId: bundle) }
    }
}
