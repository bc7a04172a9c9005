import AmanatCrypto
import AmanatRecords
import AmanatSync
import Foundation
import GRDB

/// What a front end keeps per record beside the view's counters, so that listing and matching a store of a million
/// records reads one small row per record instead of deriving the whole view: the columns of `amanat list`, the
/// identifiers duplicates are matched on. Stored sealed under the store key.
public struct RecordSummarizer: Sendable {
    /// Names what `summarize` makes; a store whose summaries were made under another tag rebuilds them.
    public var tag: String
    /// The summary of one record from its view (derived under the workspace's authority) and its last content
    /// (``Store/Listing/lastContent``).
    public var summarize: @Sendable (RecordView, JSONValue?) -> JSONValue

    public init(tag: String, summarize: @escaping @Sendable (RecordView, JSONValue?) -> JSONValue) {
        self.tag = tag
        self.summarize = summarize
    }
}

/// A record of the stored view with its summary opened (decrypted) but not yet read (``read(_:)``).
public struct OpenedRecordState: Sendable {
    /// The row's state; its heads, collector, last signed time, consent and summary are still in `summary`.
    public var state: StoredRecordState
    /// The summary document, opened.
    public var summary: [UInt8]

    /// The state with the store's members of the summary read into it, and what `readSummary` read of the
    /// summarizer's (a ``JSONReader`` before it; what it leaves is skipped, checked but not built; nil when there is
    /// none). A member of another type than the store writes reads as absent; members the store does not know are
    /// checked and skipped. Inlinable, so that each caller gets it specialized to its summary type: unspecialized, a
    /// listing of a million records spent a tenth of its time looking up generic metadata.
    /// - Throws: ``StoreError/damaged(record:what:)`` when the summary is not one JSON document.
    @inlinable
    public func read<Summary>(
        _ readSummary: (inout JSONReader) throws -> Summary?
    ) throws -> (state: StoredRecordState, summary: Summary?) {
        var state = self.state
        var summary: Summary?
        do {
            var reader = try JSONReader(self.summary)
            try reader.readMembers { reader, name in
                switch name {
                case "heads": state.graphHeads = try reader.readStrings() ?? []
                case "collector": state.collector = try reader.readString()
                case "lastIssuedAt": state.lastIssuedAt = try reader.readNumber().flatMap { Int($0) } ?? 0
                case "consent":
                    state.consent = try reader.readString().flatMap(Consent.init(rawValue:)) ?? .internal
                case "summary": summary = try readSummary(&reader)
                default: try reader.skipValue()
                }
            }
            try reader.finish()
        } catch {
            throw StoreError.damaged(record: state.recordId, what: "its summary in the stored view does not open")
        }
        return (state, summary)
    }
}

/// One record of the stored view (`recordState`): its status and counters, and its sealed summary.
public struct StoredRecordState: Sendable, Hashable {
    public var recordId: String
    public var status: RecordStatus
    public var isErased: Bool
    public var isAutoMerged: Bool
    /// Field conflicts, a retraction conflict counting as one.
    public var fieldConflicts: Int
    public var missingParents: Int
    public var pendingRequests: Int
    public var consentProposals: Int
    public var versionCount: Int
    /// Every head of the graph (versions no other version of the record names as a parent: pending requests and
    /// set-aside heads included), sorted.
    public var graphHeads: [String]
    /// The organization that signed the `create` version (nil while it is absent).
    public var collector: String?
    /// The newest signed time of its versions (seconds since 1970).
    public var lastIssuedAt: Int
    /// The consent in force (``RecordView/consent``).
    public var consent: Consent
    /// The ``RecordSummarizer``'s summary (nil without a summarizer).
    public var summary: JSONValue?
}

/// The stored view (Specs/storage.md "The derived view"): `recordState` holds each record's status and counters
/// and a sealed summary; `stateBucket` holds, per bucket of the state hash (``StateHash``), the sealed list of its
/// records' digests. Every write transaction that adds or changes versions updates the rows of the records it
/// touched, so the view, the counts and the state hash cost time in proportion to the change, not to the store.
/// ``rebuildView(authority:)`` derives everything again from the versions.
extension Store {
    static let viewAuthorityName = "viewAuthority"
    static let viewSummaryName = "viewSummary"
    /// How many records one derivation reads at a time (bounded memory when rebuilding a large store).
    static let viewChunk = 400

    static func registerViewMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-view") { db in
            try db.create(table: "recordState") { t in
                t.primaryKey("recordId", .text)
                t.column("status", .text).notNull().indexed()
                t.column("erased", .boolean).notNull()
                t.column("autoMerged", .boolean).notNull()
                t.column("fieldConflicts", .integer).notNull()
                t.column("missingParents", .integer).notNull()
                t.column("pendingRequests", .integer).notNull()
                t.column("consentProposals", .integer).notNull()
                t.column("versions", .integer).notNull()
                // Heads, collector, newest time, consent and the summarizer's JSON: sealed under the store key in an
                // encrypted store.
                t.column("summary", .blob).notNull()
            }
            // `partnerHolds` looks a record's versions up by partner and version (the primary key starts with the
            // bundle id).
            try db.create(index: "sent_partner_version", on: "sent", columns: ["partner", "versionId"])
            try db.create(table: "stateBucket") { t in
                t.primaryKey("bucket", .integer)
                // (u16 length, record id, 32-byte digest)… in record-id order; sealed under the store key.
                t.column("entries", .blob).notNull()
            }
        }
    }

    /// What the stored view was derived under: the authority's delegates and the summarizer's tag.
    func viewKey(_ authority: Authority) -> (authority: String, summary: String) {
        // Never empty: SQLite hands a zero-length blob back as NULL.
        ("delegates:" + authority.delegates.sorted().joined(separator: ","), "summary:" + (summarizer?.tag ?? ""))
    }

    /// Whether the stored view was made under this authority (nil: under any) and the current summarizer (else it
    /// must be rebuilt).
    func viewIsCurrent(_ db: Database, _ authority: Authority?) throws -> Bool {
        let key = viewKey(authority ?? .collectorOnly)
        let rows = try Row.fetchAll(
            db, sql: "SELECT name, value FROM storeMeta WHERE name IN (?, ?)",
            arguments: [Self.viewAuthorityName, Self.viewSummaryName])
        var stored: [String: String] = [:]
        for row in rows {
            if let value = row["value"] as Data? { stored[row["name"]] = String(decoding: value, as: UTF8.self) }
        }
        guard let made = stored[Self.viewAuthorityName], stored[Self.viewSummaryName] == key.summary else {
            return false
        }
        return authority == nil || made == key.authority
    }

    /// Brings the stored view of `records` up to date inside the caller's write transaction (the whole view when
    /// it was made under another authority or summarizer).
    func updateView(_ db: Database, records: Set<String>, authority: Authority) throws {
        guard try viewIsCurrent(db, authority) else {
            try rebuildView(db, authority: authority)
            return
        }
        guard !records.isEmpty else { return }
        // Chunks go in record-id order and each returns its records in that order, so every bucket receives its
        // updates sorted.
        var changes: [Int: [(String, SHA256Digest)]] = [:]
        let sorted = records.sorted(by: utf8Less)
        var start = 0
        try writeStates(
            db, authority: authority, replacing: true,
            next: {
                guard start < sorted.count else { return nil }
                let chunk = sorted[start..<min(start + Self.viewChunk, sorted.count)]
                start += chunk.count
                return try Self.fetchGraph(db, filter: .records(chunk), cipher: cipher)
            },
            written: { digests in
                for (record, digest) in digests {
                    changes[try StateHash.bucket(of: record), default: []].append((record, digest))
                }
            })
        try updateBuckets(db, changes)
    }

    /// Merges each bucket's updates (record-id order) into its stored entries. The stored buckets are read a group
    /// at a time; opening, merging and sealing run on all cores, the rows are written in the caller's transaction.
    func updateBuckets(_ db: Database, _ changes: [Int: [(String, SHA256Digest)]]) throws {
        let read = try db.cachedStatement(sql: "SELECT entries FROM stateBucket WHERE bucket = ?")
        let write = try db.cachedStatement(sql: "INSERT OR REPLACE INTO stateBucket (bucket, entries) VALUES (?, ?)")
        let buckets = changes.keys.sorted()
        let storeKey = cipher?.storeKey
        var start = 0
        while start < buckets.count {
            let group = buckets[start..<min(start + 512, buckets.count)]
            start += group.count
            let work = try group.map { bucket -> BucketUpdate in
                BucketUpdate(
                    bucket: bucket, stored: try Data.fetchOne(read, arguments: [bucket]).map { Array($0) },
                    updates: changes[bucket] ?? [])
            }
            let merged = try OrderedParallel.map(
                work, minimumPerCore: 16, makeWorker: { try storeKey.map { try ChaChaPoly.Cipher(key: $0) } }
            ) { worker, update in
                try self.mergedBucket(update, cipher: worker)
            }
            for (update, bytes) in zip(work, merged) {
                try write.execute(arguments: [update.bucket, Data(bytes)])
            }
        }
    }

    /// A stored bucket (sealed in an encrypted store) and the updates to merge into it.
    struct BucketUpdate: Sendable {
        var bucket: Int
        var stored: [UInt8]?
        var updates: [(String, SHA256Digest)]
    }

    /// The bucket's entries with `update.updates` merged in (an update replaces the digest of an entry with the same
    /// record id, else it is inserted in order), encoded and sealed as ``writeBucket(_:_:_:)`` stores them; the
    /// entries are compared and copied as bytes, never decoded.
    func mergedBucket(_ update: BucketUpdate, cipher: ChaChaPoly.Cipher?) throws -> [UInt8] {
        let bucket = update.bucket
        let old = try update.stored.map { try Self.openedBucket($0, bucket, cipher: cipher) } ?? []
        var out: [UInt8] = []
        out.reserveCapacity(old.count + update.updates.count * 80)
        var i = 0
        try old.withUnsafeBufferPointer { stored in
            /// The id of the stored entry at `i` (nil at the end).
            func entry(at i: Int) throws -> (id: UnsafeBufferPointer<UInt8>, end: Int)? {
                try Self.bucketEntry(stored, at: i, bucket: bucket).map {
                    (UnsafeBufferPointer(rebasing: stored[$0.id]), $0.end)
                }
            }
            for (record, digest) in update.updates {
                var id = record
                try id.withUTF8 { new in
                    // Copy the stored entries that sort before the update; drop one with the same id.
                    while let (old, end) = try entry(at: i) {
                        let n = min(old.count, new.count)
                        let c = n == 0 ? 0 : memcmp(old.baseAddress!, new.baseAddress!, n)
                        if c < 0 || (c == 0 && old.count < new.count) {
                            out.append(contentsOf: stored[i..<end])
                            i = end
                        } else {
                            if c == 0 && old.count == new.count { i = end }
                            break
                        }
                    }
                    try Self.appendBucketEntry(new, digest, to: &out)
                }
            }
            while let (_, end) = try entry(at: i) {
                out.append(contentsOf: stored[i..<end])
                i = end
            }
        }
        return try cipher.map { try StoreCipher.seal(out, cipher: $0, aad: Self.bucketAAD(bucket)) } ?? out
    }

    /// Derives the stored view again from every version (`amanat check --rebuild`; the first use of a store made
    /// before the stored view; a change of the trust list's delegates).
    public func rebuildView(authority: Authority = .collectorOnly) throws {
        do {
            try write { db in try rebuildViewAlone(db, authority: authority) }
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "write failed")
        }
    }

    /// ``rebuildView(_:authority:snapshot:)`` as the only work of the caller's write transaction, which has changed
    /// nothing yet.
    func rebuildViewAlone(_ db: Database, authority: Authority) throws {
        // The transaction only writes the view: the versions it derives it from can be read through the pool's
        // read connections, from the snapshot the transaction started from (no other writer can commit meanwhile).
        // Those reads never search the frames this transaction adds to the WAL, which grow with the store (SQLite
        // looks a page up in every 4096-frame block of the WAL up to the reader's end mark). A larger page cache
        // keeps the rows being written from spilling to the WAL page by page.
        try db.execute(sql: "PRAGMA cache_size = -\(Self.importCacheKiB)")
        defer { try? db.execute(sql: "PRAGMA cache_size = -2000; PRAGMA shrink_memory") }
        try rebuildView(db, authority: authority, snapshot: writer as? DatabasePool)
    }

    /// - Parameter snapshot: a pool whose readers see what `db` sees (nil: read through `db`; always so when the
    ///   caller's transaction has already changed versions).
    func rebuildView(_ db: Database, authority: Authority, snapshot: DatabasePool? = nil) throws {
        try db.execute(sql: "DELETE FROM recordState; DELETE FROM stateBucket")
        let key = viewKey(authority)
        for (name, value) in [(Self.viewAuthorityName, key.authority), (Self.viewSummaryName, key.summary)] {
            try db.execute(
                sql: "INSERT OR REPLACE INTO storeMeta (name, value) VALUES (?, ?)",
                arguments: [name, Data(value.utf8)])
        }
        // Record by record range: ids are read in order, a few hundred records derived at a time.
        let cipher = cipher
        guard let snapshot else {
            let ids = try String.fetchCursor(db, sql: "SELECT DISTINCT recordId FROM version ORDER BY recordId")
            var chunk: [String] = []
            try rebuildStates(db, authority: authority) {
                chunk.removeAll(keepingCapacity: true)
                while chunk.count < Self.viewChunk, let id = try ids.next() { chunk.append(id) }
                guard let first = chunk.first, let last = chunk.last else { return nil }
                return try Self.fetchGraph(db, from: first, through: last, cipher: cipher)
            }
            return
        }
        // Each range is read by a reader on another thread while the one before is derived and written.
        let chunkSize = Self.viewChunk
        func range(after cursor: String) -> Ahead<(graph: FetchedGraph, last: String)?> {
            Ahead {
                try snapshot.read { db in
                    let ids = try String.fetchAll(
                        db, sql: "SELECT DISTINCT recordId FROM version WHERE recordId > ? ORDER BY recordId LIMIT ?",
                        arguments: [cursor, chunkSize])
                    guard let first = ids.first, let last = ids.last else { return nil }
                    return (try Self.fetchGraph(db, from: first, through: last, cipher: cipher), last)
                }
            }
        }
        var ahead: Ahead? = range(after: "")
        // However this ends, no read is left running.
        defer { ahead?.wait() }
        try rebuildStates(db, authority: authority) {
            guard let current = ahead else { return nil }
            let read = try current.get()
            ahead = read.map { range(after: $0.last) }
            return read?.graph
        }
    }

    /// The rows of the rebuild, from the graphs `next` reads (record ranges in id order), and the state buckets.
    private func rebuildStates(_ db: Database, authority: Authority, next: () throws -> FetchedGraph?) throws {
        var buckets = [[(String, SHA256Digest)]](repeating: [], count: StateHash.bucketCount)
        try writeStates(
            db, authority: authority, replacing: false,
            next: next,
            written: { digests in
                // Records come in id order, so each bucket receives its records in order.
                for (record, digest) in digests { buckets[try StateHash.bucket(of: record)].append((record, digest)) }
            })
        for (bucket, entries) in buckets.enumerated() where !entries.isEmpty {
            try writeBucket(db, bucket, entries)
        }
    }

    /// The graph of the records whose ids are from `first` through `last` in SQLite's byte order (a range of a
    /// derivation, whose ids were read in that order).
    static func fetchGraph(
        _ db: Database, from first: String, through last: String, cipher: StoreCipher?
    ) throws -> FetchedGraph {
        try fetchGraph(
            db, filter: RowFilter(sql: "v.recordId BETWEEN ? AND ?", arguments: [first, last], cached: true),
            cipher: cipher)
    }

    /// The counts and the state hash of the view derived again from every version, record range by record range
    /// (nothing is written; memory stays bounded whatever the store's size): what `amanat check` compares the stored
    /// view with. The counts are those of ``SyncView`` under `authority`, the state hash is collector-only.
    /// - Parameter chunk: records derived at a time (the rebuild's chunk).
    public func derivedCountsAndStateHash(
        authority: Authority = .collectorOnly, chunk chunkSize: Int = 400
    ) throws -> (counts: SyncView.Counts, stateHash: String) {
        do {
            return try writer.read { db in
                var counts = SyncView.Counts()
                var buckets = [[UInt8]](repeating: [], count: StateHash.bucketCount)
                let ids = try String.fetchCursor(db, sql: "SELECT DISTINCT recordId FROM version ORDER BY recordId")
                var chunk: [String] = []
                // Pipelined as the rebuild is: a chunk is opened and derived on other threads while the next is read.
                var pending: Ahead<(SyncView.Counts, [(String, [UInt8])])>?
                defer { pending?.wait() }
                func add(_ derived: Ahead<(SyncView.Counts, [(String, [UInt8])])>) throws {
                    let (chunkCounts, digests) = try derived.get()
                    counts += chunkCounts
                    // Records come in id order, so each bucket receives its records' digests in order.
                    for (record, digest) in digests { buckets[try StateHash.bucket(of: record)] += digest }
                }
                while true {
                    chunk.removeAll(keepingCapacity: true)
                    while chunk.count < chunkSize, let id = try ids.next() { chunk.append(id) }
                    guard let first = chunk.first, let last = chunk.last else { break }
                    let fetched = try Self.fetchGraph(db, from: first, through: last, cipher: cipher)
                    let derivation = Ahead { [self] in
                        let nodes = try nodes(fetched)
                        let view = SyncView.derive(versions: nodes, authority: authority)
                        let neutral =
                            authority == .collectorOnly
                            ? view : SyncView.derive(versions: nodes, authority: .collectorOnly)
                        return (view.counts, try neutral.records.map { ($0.recordId, try $0.stateDigest()) })
                    }
                    let previous = pending
                    pending = derivation
                    if let previous { try add(previous) }
                }
                if let last = pending {
                    pending = nil
                    try add(last)
                }
                let hash = try StateHash.combine { bucket in
                    buckets[bucket].isEmpty
                        ? nil
                        : try StateHash.bucketDigest(
                            stride(from: 0, to: buckets[bucket].count, by: 32).map {
                                Array(buckets[bucket][$0..<$0 + 32])
                            })
                }
                return (counts, hash)
            }
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "read failed")
        }
    }

    /// Derives and writes the `recordState` rows of the records of each chunk `next` reads (nil: no more),
    /// pipelined: while one chunk's contents are opened, parsed and derived on other threads, this thread reads the
    /// next chunk and writes the rows of the one before, in chunk order, in the caller's transaction. `written` gets
    /// each chunk's state digests (under ``Authority/collectorOnly``) in record-id order.
    func writeStates(
        _ db: Database, authority: Authority, replacing: Bool, next: () throws -> FetchedGraph?,
        written: ([(String, SHA256Digest)]) throws -> Void
    ) throws {
        var pending: Ahead<[DerivedState]>?
        // However this ends, no derivation is left running.
        defer { pending?.wait() }
        while let fetched = try next() {
            let derivation = Ahead { [self] in try deriveStates(try nodes(fetched), authority: authority) }
            let previous = pending
            pending = derivation
            if let previous { try written(try insertStates(db, previous.get(), replacing: replacing)) }
        }
        if let last = pending {
            pending = nil
            try written(try insertStates(db, last.get(), replacing: replacing))
        }
    }

    /// Writes derived `recordState` rows; returns each record's state digest, in the order given.
    func insertStates(
        _ db: Database, _ states: [DerivedState], replacing: Bool
    ) throws -> [(String, SHA256Digest)] {
        let statement = try db.cachedStatement(
            sql: """
                \(replacing ? "INSERT OR REPLACE" : "INSERT") INTO recordState (recordId, status, erased, autoMerged,
                    fieldConflicts, missingParents, pendingRequests, consentProposals, versions, summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        var digests: [(String, SHA256Digest)] = []
        digests.reserveCapacity(states.count)
        for r in states {
            let row = r.row
            try statement.execute(arguments: [
                row.recordId, row.status, row.erased, row.autoMerged, row.fieldConflicts, row.missingParents,
                row.pendingRequests, row.consentProposals, row.versions, row.summary,
            ])
            digests.append((row.recordId, r.digest))
        }
        return digests
    }

    /// One record's `recordState` row and state digest, as derived.
    struct DerivedState: Sendable {
        var row: RawState
        var digest: SHA256Digest
    }

    /// The derived states of the records of `nodes`, in record-id order, made on all cores.
    func deriveStates(_ nodes: [VersionNode], authority: Authority) throws -> [DerivedState] {
        var byRecord: [String: [VersionNode]] = [:]
        for n in nodes { byRecord[n.recordId, default: []].append(n) }
        let records = byRecord.keys.sorted(by: utf8Less)
        // A few groups per core, each a run of whole records (a record's view depends on its own versions only).
        let groupCount = min(records.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        let groups = (0..<groupCount).map { g in
            records[(records.count * g / groupCount)..<(records.count * (g + 1) / groupCount)].flatMap {
                byRecord[$0] ?? []
            }
        }
        let storeKey = cipher?.storeKey
        return try OrderedParallel.map(
            groups, minimumPerCore: 1, makeWorker: { try storeKey.map { try ChaChaPoly.Cipher(key: $0) } }
        ) { worker, group in
            try self.deriveGroup(group, authority: authority, cipher: worker)
        }.flatMap { $0 }
    }

    /// ``deriveStates(_:authority:)`` for one group of whole records, summaries sealed with `cipher` (nil: a
    /// plaintext store).
    func deriveGroup(
        _ nodes: [VersionNode], authority: Authority, cipher: ChaChaPoly.Cipher?
    ) throws -> [DerivedState] {
        let view = SyncView.derive(versions: nodes, authority: authority)
        let neutral = authority == .collectorOnly ? view : SyncView.derive(versions: nodes, authority: .collectorOnly)
        let last = summarizer == nil ? [:] : Self.lastContents(nodes)
        var states: [DerivedState] = []
        states.reserveCapacity(view.records.count)
        // Per record: graph heads (nothing of the record names them), newest signed time.
        var named = Set<String>()
        var newest: [String: Int] = [:]
        for n in nodes {
            for p in n.prev { named.insert(p) }
            newest[n.recordId] = max(newest[n.recordId] ?? n.issuedAt, n.issuedAt)
        }
        var graphHeads: [String: [String]] = [:]
        for n in nodes where !named.contains(n.id) { graphHeads[n.recordId, default: []].append(n.id) }
        for r in view.records {
            var object: [(String, JSONValue)] = [
                ("consent", .string(r.consent.rawValue)),
                ("heads", .array((graphHeads[r.recordId] ?? []).sorted(by: utf8Less).map { .string($0) })),
                ("lastIssuedAt", .number(String(newest[r.recordId] ?? 0))),
            ]
            if let collector = r.collector { object.append(("collector", .string(collector))) }
            if let summarizer { object.append(("summary", summarizer.summarize(r, last[r.recordId]))) }
            let text = JSONValue.object(object).canonicalUTF8()
            let summary = Data(
                try cipher.map { try StoreCipher.seal(text, cipher: $0, aad: Self.summaryAAD(r.recordId)) } ?? text)
            guard let plain = neutral[r.recordId], let digest = SHA256Digest(try plain.stateDigest()) else {
                throw StoreError.database("the view of record \(r.recordId) could not be derived")
            }
            states.append(
                DerivedState(
                    row: RawState(
                        recordId: r.recordId, status: r.status.rawValue, erased: r.isErased,
                        autoMerged: r.isAutoMerged,
                        fieldConflicts: r.conflicts.count + (r.retractionConflict == nil ? 0 : 1),
                        missingParents: r.missingParents.count, pendingRequests: r.pendingRequests.count,
                        consentProposals: r.consentProposals.count, versions: r.versionCount, summary: summary),
                    digest: digest))
        }
        return states
    }

    static func summaryAAD(_ record: String) -> [UInt8] { Array("amanat-store/v1 view \(record)".utf8) }
    static func bucketAAD(_ bucket: Int) -> [UInt8] { Array("amanat-store/v1 state-bucket \(bucket)".utf8) }

    /// A stored bucket opened (sealed in an encrypted store; nil `cipher`: a plaintext store's bytes as they are).
    static func openedBucket(_ stored: [UInt8], _ bucket: Int, cipher: ChaChaPoly.Cipher?) throws -> [UInt8] {
        do {
            return try cipher.map { try StoreCipher.open(stored, cipher: $0, aad: bucketAAD(bucket)) } ?? stored
        } catch {
            throw StoreError.database("bucket \(bucket) of the stored view does not open; run `amanat check --rebuild`")
        }
    }

    /// The entry of an opened bucket at offset `i` (u16 length, record id, 32-byte digest): its record id's range
    /// and where it ends; nil at the end of the bucket.
    /// - Throws: ``StoreError`` when the bucket is cut inside an entry.
    static func bucketEntry(
        _ bytes: UnsafeBufferPointer<UInt8>, at i: Int, bucket: Int
    ) throws -> (id: Range<Int>, end: Int)? {
        guard i < bytes.count else { return nil }
        let damaged = StoreError.database(
            "bucket \(bucket) of the stored view is damaged; run `amanat check --rebuild`")
        guard i + 2 <= bytes.count else { throw damaged }
        let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
        let end = i + 2 + length + 32
        guard end <= bytes.count else { throw damaged }
        return ((i + 2)..<(i + 2 + length), end)
    }

    /// The digest of a stored bucket (``AmanatSync/StateHash/bucketDigest(_:)`` of its records' digests, in their
    /// stored order), read without making strings of the record ids.
    func storedBucketDigest(_ data: Data, _ bucket: Int, cipher: ChaChaPoly.Cipher?) throws -> [UInt8] {
        let bytes = try Self.openedBucket(Array(data), bucket, cipher: cipher)
        var digests: [UInt8] = []
        digests.reserveCapacity(bytes.count / 2)
        try bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while let entry = try Self.bucketEntry(buffer, at: i, bucket: bucket) {
                digests += buffer[entry.id.upperBound..<entry.end]
                i = entry.end
            }
        }
        return try SHA256.hash(digests)
    }

    /// Appends one entry of a bucket: u16 length, record id, 32-byte digest.
    static func appendBucketEntry(
        _ id: UnsafeBufferPointer<UInt8>, _ digest: SHA256Digest, to out: inout [UInt8]
    ) throws {
        guard id.count < 1 << 16 else { throw StoreError.database("record id too long for the stored view") }
        out.append(UInt8(id.count >> 8))
        out.append(UInt8(id.count & 0xFF))
        out.append(contentsOf: id)
        out += digest.bytes
    }

    /// Encodes, seals and stores a bucket; `entries` in record-id order.
    func writeBucket(_ db: Database, _ bucket: Int, _ entries: [(String, SHA256Digest)]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 80)
        for (record, digest) in entries {
            var id = record
            try id.withUTF8 { try Self.appendBucketEntry($0, digest, to: &bytes) }
        }
        let stored = try cipher.map { try $0.sealWithStoreKey(bytes, aad: Self.bucketAAD(bucket)) } ?? bytes
        try db.execute(
            sql: "INSERT OR REPLACE INTO stateBucket (bucket, entries) VALUES (?, ?)",
            arguments: [bucket, Data(stored)])
    }

    /// Makes sure the stored view is current for `authority` (nil: any authority; the state digests do not depend
    /// on it), rebuilding it in a write transaction if not.
    func ensureView(_ authority: Authority?) throws {
        guard try !writer.read({ try viewIsCurrent($0, authority) }) else { return }
        try write { db in
            if try !viewIsCurrent(db, authority) { try rebuildViewAlone(db, authority: authority ?? .collectorOnly) }
        }
    }

    // MARK: Reading the stored view

    /// The state hash (``StateHash``) from the stored buckets.
    /// - Throws: ``StoreError`` if a bucket is damaged.
    public func storedStateHash() throws -> String {
        do {
            try ensureView(nil)
            return try writer.read { db in
                var digests: [Int: [UInt8]] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT bucket, entries FROM stateBucket")
                var group: [(bucket: Int, stored: Data)] = []
                let storeKey = cipher?.storeKey
                // A group of buckets at a time, opened and hashed on every core; only the digests are read (the
                // record ids are skipped, not made into strings).
                func flush() throws {
                    let made = try OrderedParallel.map(
                        group, minimumPerCore: 16, makeWorker: { try storeKey.map { try ChaChaPoly.Cipher(key: $0) } }
                    ) { worker, item in
                        try self.storedBucketDigest(item.stored, item.bucket, cipher: worker)
                    }
                    for (item, digest) in zip(group, made) { digests[item.bucket] = digest }
                    group.removeAll(keepingCapacity: true)
                }
                while let row = try rows.next() {
                    group.append((row[0], row[1]))
                    if group.count == 512 { try flush() }
                }
                try flush()
                return try StateHash.combine { digests[$0] }
            }
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "read failed")
        }
    }

    /// The counts of the stored view, read from the `recordState_counts` index alone (v8).
    static let countsSQL = """
        SELECT COUNT(*), TOTAL(status = 'clean'), TOTAL(status = 'conflict'), TOTAL(status = 'retracted'),
               TOTAL(status = 'incomplete'), TOTAL(erased), TOTAL(autoMerged), TOTAL(fieldConflicts),
               TOTAL(missingParents), TOTAL(pendingRequests), TOTAL(consentProposals)
        FROM recordState
        """

    /// The view's counts (``SyncView/Counts``) from the stored view.
    public func viewCounts(authority: Authority = .collectorOnly) throws -> SyncView.Counts {
        do {
            try ensureView(authority)
            return try writer.read { db in
                var counts = SyncView.Counts()
                counts.versions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM version") ?? 0
                let row = try Row.fetchOne(db, sql: Self.countsSQL)
                guard let row else { return counts }
                func int(_ i: Int) -> Int { Int(row[i] as Double? ?? 0) }
                counts.records = int(0)
                counts.clean = int(1)
                counts.conflicts = int(2)
                counts.retracted = int(3)
                counts.incomplete = int(4)
                counts.erased = int(5)
                counts.autoMerged = int(6)
                counts.fieldConflicts = int(7)
                counts.missingParents = int(8)
                counts.pendingRequests = int(9)
                counts.consentProposals = int(10)
                return counts
            }
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "read failed")
        }
    }

    /// Calls `body` with every record of the stored view whose status is in `statuses` (nil: all), in record-id
    /// order, reading a page of `pageSize` records at a time (memory stays bounded whatever the store's size): the
    /// next page is read and its summaries opened on other threads while `body` takes the current one, so `body`
    /// sees each page as committed when it was read. `body` returns false to stop.
    /// - Throws: ``StoreError/damaged(record:what:)`` when a summary does not open.
    public func forEachRecordState(
        statuses: Set<RecordStatus>? = nil, after: String? = nil, authority: Authority = .collectorOnly,
        pageSize: Int = 2000, _ body: (StoredRecordState) throws -> Bool
    ) throws {
        try forEachRecordStatePage(
            statuses: statuses, after: after, authority: authority, pageSize: pageSize, preparePage: { $0 }
        ) { page in
            for state in page where try !body(state) { return false }
            return true
        }
    }

    /// ``forEachRecordState(statuses:after:authority:pageSize:_:)`` a page at a time, each page first passed through
    /// `preparePage` on the thread that read it, while `body` takes the page before (a front end builds and filters
    /// its entries there, off the thread that consumes them). `body` returns false to stop.
    public func forEachRecordStatePage<Page: Sendable>(
        statuses: Set<RecordStatus>? = nil, after: String? = nil, authority: Authority = .collectorOnly,
        pageSize: Int = 2000, preparePage: @escaping @Sendable ([StoredRecordState]) throws -> Page,
        _ body: (Page) throws -> Bool
    ) throws {
        try forEachStatePage(
            statuses: statuses, after: after, authority: authority, pageSize: pageSize,
            decodePage: { [self] raw in try preparePage(try decodeStates(raw)) }, body)
    }

    /// ``forEachRecordStatePage(statuses:after:authority:pageSize:preparePage:_:)`` with each summary opened but not
    /// read: `preparePage` reads what it needs of each (``OpenedRecordState/read(_:)``), building nothing else. `list`
    /// reads a million summaries this way without building a tree of each.
    /// - Throws: ``StoreError/damaged(record:what:)`` when a summary does not open.
    public func forEachOpenedStatePage<Page: Sendable>(
        statuses: Set<RecordStatus>? = nil, after: String? = nil, authority: Authority = .collectorOnly,
        pageSize: Int = 2000, preparePage: @escaping @Sendable ([OpenedRecordState]) throws -> Page,
        _ body: (Page) throws -> Bool
    ) throws {
        try forEachStatePage(
            statuses: statuses, after: after, authority: authority, pageSize: pageSize,
            decodePage: { [self] raw in try preparePage(try openStates(raw)) }, body)
    }

    /// The pipeline behind ``forEachRecordStatePage(statuses:after:authority:pageSize:preparePage:_:)`` and
    /// ``forEachOpenedStatePage(statuses:after:authority:pageSize:preparePage:_:)``: the rows of each page decoded by
    /// `decodePage`.
    private func forEachStatePage<Page: Sendable>(
        statuses: Set<RecordStatus>?, after: String?, authority: Authority, pageSize: Int,
        decodePage: @escaping @Sendable ([RawState]) throws -> Page, _ body: (Page) throws -> Bool
    ) throws {
        try ensureView(authority)
        let statusFilter =
            statuses.map { set in
                "AND status IN (\(set.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")))"
            } ?? ""
        // A pipeline of three pages: the rows of the next page are read while the page before it is opened and
        // prepared (on every core) and `body` takes the one before that. Reading the rows is one thread's work, so
        // with one stage fewer a core would wait for it on every page.
        let sql = "\(Self.stateColumns) WHERE recordId > ? \(statusFilter) ORDER BY recordId LIMIT ?"
        func rows(after cursor: String) -> Ahead<[RawState]> {
            Ahead { [self] in
                try writer.read { db -> [RawState] in
                    // Through a cursor: each row's columns are read straight from the statement (`fetchAll` copied
                    // every row into a `Row` of its own first).
                    let rows = try Row.fetchCursor(db, sql: sql, arguments: [cursor, pageSize])
                    var states: [RawState] = []
                    states.reserveCapacity(pageSize)
                    while let row = try rows.next() { states.append(RawState(row)) }
                    return states
                }
            }
        }
        var reading: Ahead? = rows(after: after ?? "")
        var opening: Ahead<Page>?
        // What was started is waited for before returning, so that no read outlives the call.
        defer {
            reading?.wait()
            opening?.wait()
        }
        while let read = reading {
            let raw = try read.get()
            reading = raw.count == pageSize ? raw.last.map { rows(after: $0.recordId) } : nil
            let opened = Ahead { try decodePage(raw) }
            let previous = opening
            opening = opened
            if let previous, try !body(previous.get()) { return }
        }
        if let last = opening {
            opening = nil
            _ = try body(last.get())
        }
    }

    /// The stored states of `recordIds` that the store has, by record id (read 500 records per query, opened on all
    /// cores).
    /// - Throws: ``StoreError/damaged(record:what:)`` when a summary does not open.
    public func recordStates(
        _ records: some Collection<String>, authority: Authority = .collectorOnly
    ) throws -> [String: StoredRecordState] {
        var result: [String: StoredRecordState] = [:]
        for state in try decodeStates(try rawStates(records, authority: authority)) { result[state.recordId] = state }
        return result
    }

    /// What sealing checks of a record (``recordStates(_:authority:)`` without the rest of the summary).
    public struct SealingState: Sendable, Equatable {
        public var isErased: Bool
        /// The consent in force (``StoredRecordState/consent``).
        public var consent: Consent
    }

    /// The erasure and consent of `records` that the store has, by record id: their summaries opened on all cores,
    /// of which only the consent is built.
    /// - Throws: ``StoreError/damaged(record:what:)`` when a summary does not open.
    public func sealingStates(
        _ records: some Collection<String>, authority: Authority = .collectorOnly
    ) throws -> [String: SealingState] {
        let raw = try rawStates(records, authority: authority)
        let storeKey = cipher?.storeKey
        let states = try OrderedParallel.map(
            raw, minimumPerCore: 128, makeWorker: { try storeKey.map { try ChaChaPoly.Cipher(key: $0) } }
        ) { worker, row in
            // The summarizer's summary is skipped (checked, not built).
            let read = try Self.open(row, cipher: worker).read { _ -> Never? in nil }
            return SealingState(isErased: row.erased, consent: read.state.consent)
        }
        var result: [String: SealingState] = [:]
        result.reserveCapacity(raw.count)
        for (row, state) in zip(raw, states) { result[row.recordId] = state }
        return result
    }

    /// The `recordState` rows of `records` that the store has (read 500 records per query).
    func rawStates(_ records: some Collection<String>, authority: Authority) throws -> [RawState] {
        try ensureView(authority)
        let recordIds = Array(records)
        var raw: [RawState] = []
        raw.reserveCapacity(recordIds.count)
        try writer.read { db in
            var start = 0
            while start < recordIds.count {
                let chunk = Array(recordIds[start..<min(start + 500, recordIds.count)])
                start += chunk.count
                let rows = try Row.fetchCursor(
                    db,
                    sql: "\(Self.stateColumns) WHERE recordId IN ("
                        + repeatElement("?", count: chunk.count).joined(separator: ",") + ")",
                    arguments: StatementArguments(chunk))
                while let row = try rows.next() { raw.append(RawState(row)) }
            }
        }
        return raw
    }

    /// The stored state of one record, or nil when the store holds none of its versions.
    public func recordState(_ recordId: String, authority: Authority = .collectorOnly) throws -> StoredRecordState? {
        try ensureView(authority)
        return try writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    \(Self.stateColumns) WHERE recordId = ?
                    """, arguments: [recordId]
            ).map { try recordState($0) }
        }
    }

    /// The columns ``recordState(_:)`` reads, in its order.
    static let stateColumns = """
        SELECT recordId, status, erased, autoMerged, fieldConflicts, missingParents, pendingRequests, consentProposals,
               versions, summary FROM recordState
        """

    /// A `recordState` row: as read, before its summary is opened, or as derived, before it is written.
    struct RawState: Sendable {
        var recordId: String
        var status: String
        var erased: Bool
        var autoMerged: Bool
        var fieldConflicts: Int
        var missingParents: Int
        var pendingRequests: Int
        var consentProposals: Int
        var versions: Int
        var summary: Data

        init(
            recordId: String, status: String, erased: Bool, autoMerged: Bool, fieldConflicts: Int, missingParents: Int,
            pendingRequests: Int, consentProposals: Int, versions: Int, summary: Data
        ) {
            (self.recordId, self.status, self.erased, self.autoMerged) = (recordId, status, erased, autoMerged)
            (self.fieldConflicts, self.missingParents) = (fieldConflicts, missingParents)
            (self.pendingRequests, self.consentProposals) = (pendingRequests, consentProposals)
            (self.versions, self.summary) = (versions, summary)
        }

        init(_ row: Row) {
            (recordId, status, erased, autoMerged) = (row[0], row[1], row[2], row[3])
            (fieldConflicts, missingParents, pendingRequests, consentProposals) = (row[4], row[5], row[6], row[7])
            (versions, summary) = (row[8], row[9])
        }
    }

    func recordState(_ row: Row) throws -> StoredRecordState {
        try decodeStates([RawState(row)])[0]
    }

    /// A row with its summary opened (with `cipher` in an encrypted store), not yet read.
    /// - Throws: ``StoreError/damaged(record:what:)`` when it does not open.
    static func open(_ row: RawState, cipher: ChaChaPoly.Cipher?) throws -> OpenedRecordState {
        let bytes: [UInt8]
        do {
            bytes =
                try cipher.map {
                    try StoreCipher.open(Array(row.summary), cipher: $0, aad: Self.summaryAAD(row.recordId))
                } ?? Array(row.summary)
        } catch {
            throw StoreError.damaged(record: row.recordId, what: "its summary in the stored view does not open")
        }
        let state = StoredRecordState(
            recordId: row.recordId, status: RecordStatus(rawValue: row.status) ?? .incomplete, isErased: row.erased,
            isAutoMerged: row.autoMerged, fieldConflicts: row.fieldConflicts, missingParents: row.missingParents,
            pendingRequests: row.pendingRequests, consentProposals: row.consentProposals, versionCount: row.versions,
            graphHeads: [], collector: nil, lastIssuedAt: 0, consent: .internal, summary: nil)
        return OpenedRecordState(state: state, summary: bytes)
    }

    /// Opens and reads the summaries of `raw` (on all cores for a page of many).
    func decodeStates(_ raw: [RawState]) throws -> [StoredRecordState] {
        let storeKey = cipher?.storeKey
        return try OrderedParallel.map(
            raw, minimumPerCore: 128, makeWorker: { try storeKey.map { try ChaChaPoly.Cipher(key: $0) } }
        ) { worker, row in
            var (state, summary) = try Self.open(row, cipher: worker).read { try $0.readValue() }
            state.summary = summary
            return state
        }
    }

    /// Opens the summaries of `raw` (on all cores for a page of many).
    func openStates(_ raw: [RawState]) throws -> [OpenedRecordState] {
        let storeKey = cipher?.storeKey
        return try OrderedParallel.map(
            raw, minimumPerCore: 128, makeWorker: { try storeKey.map { try ChaChaPoly.Cipher(key: $0) } }
        ) { worker, row in
            try Self.open(row, cipher: worker)
        }
    }
}
