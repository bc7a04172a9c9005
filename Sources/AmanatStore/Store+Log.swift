import AmanatCrypto
import AmanatLog
import Foundation
import GRDB

/// One entry of the organization's log, as the store keeps it: digests only (`Specs/log.md`).
public struct StoredLogEntry: Sendable, Equatable {
    public var index: UInt64
    public var entry: LogEntry
    /// When it was appended (seconds since 1970).
    public var appendedAt: Int
}

/// A checkpoint of a partner's log, as seen in one of its bundles.
public struct SeenCheckpoint: Sendable, Equatable {
    /// The log's origin line (names the organization by fingerprint).
    public var origin: String
    public var size: UInt64
    public var rootHash: [UInt8]
    /// The signed note exactly as it came.
    public var note: [UInt8]
    /// Our cosignature line on it (a signed note holding the partner's signature and ours), once we checked it.
    public var cosigned: [UInt8]?

    public init(origin: String, size: UInt64, rootHash: [UInt8], note: [UInt8], cosigned: [UInt8]? = nil) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.note = note
        self.cosigned = cosigned
    }
}

/// Two signed checkpoints of one log that cannot both be true, kept as evidence.
public struct LogAlarm: Sendable, Equatable {
    public var id: Int64
    public var origin: String
    public var detectedAt: Int
    public var reason: String
    public var first: [UInt8]
    public var second: [UInt8]
}

/// The tree's hashes in SQLite: table `logNode`, one row per complete subtree, inside the caller's transaction.
struct SQLiteLogHashStorage: LogHashStorage {
    let db: Database

    func hash(level: Int, index: UInt64) throws -> LogHash? {
        let data = try Data.fetchOne(
            try db.cachedStatement(sql: "SELECT hash FROM logNode WHERE level = ? AND idx = ?"),
            arguments: [level, Int64(index)])
        return data.map { LogHash(Array($0)) }
    }

    mutating func store(level: Int, index: UInt64, hash: LogHash) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO logNode (level, idx, hash) VALUES (?, ?, ?)").execute(
            arguments: [level, Int64(index), Data(hash)])
    }
}

extension Store {
    static func registerLogMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-log") { db in
            // The organization's own append-only log (Specs/log.md): what it signed, by digest only.
            try db.create(table: "logEntry") { t in
                t.primaryKey("idx", .integer)
                t.column("kind", .text).notNull()
                t.column("digest", .blob).notNull()
                t.column("appendedAt", .integer).notNull()
                t.uniqueKey(["kind", "digest"])
            }
            try db.create(table: "logNode", options: .withoutRowID) { t in
                t.column("level", .integer).notNull()
                t.column("idx", .integer).notNull()
                t.column("hash", .blob).notNull()
                t.primaryKey(["level", "idx"])
            }
            // Our signed checkpoints, and the cosignatures partners returned on them.
            try db.create(table: "logCheckpoint") { t in
                t.primaryKey("size", .integer)
                t.column("note", .blob).notNull()
            }
            try db.create(table: "logCosignature") { t in
                t.column("size", .integer).notNull()
                t.column("cosigner", .text).notNull()
                t.column("note", .blob).notNull()
                t.primaryKey(["size", "cosigner"])
            }
            // Partners' checkpoints we saw (the latest per origin is what the next one must extend), alarms, and
            // the inclusion proofs that came with partners' versions.
            try db.create(table: "seenCheckpoint") { t in
                t.column("origin", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("root", .blob).notNull()
                t.column("note", .blob).notNull()
                t.column("cosigned", .blob)
                t.primaryKey(["origin", "size"])
            }
            try db.create(table: "logAlarm") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("origin", .text).notNull()
                t.column("detectedAt", .integer).notNull()
                t.column("reason", .text).notNull()
                t.column("first", .blob).notNull()
                t.column("second", .blob).notNull()
            }
            try db.create(table: "versionProof") { t in
                t.primaryKey("versionId", .text)
                t.column("proof", .blob).notNull()
            }
            // Trusted timestamps over partners' checkpoints that came in their bundles and verified here.
            try db.create(table: "seenTimestamp") { t in
                t.column("origin", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("tsa", .text).notNull()
                t.column("genTime", .double).notNull()
                t.column("token", .blob).notNull()
                t.primaryKey(["origin", "size", "tsa"])
            }
            // The size of our checkpoint each partner was last sent (by ledger tag), to prove consistency from it.
            try db.create(table: "sentCheckpoint") { t in
                t.primaryKey("partner", .text)
                t.column("size", .integer).notNull()
            }
        }
    }

    /// The log entry for a version this organization signed.
    public static func logEntry(for version: StoredVersion) -> LogEntry? {
        guard let digest = Base64URL.decode(version.id), digest.count == 32 else { return nil }
        let kind: LogEntry.Kind =
            version.isErasure ? .erasure : version.kind == .retract ? .retraction : .recordVersion
        return try? LogEntry(kind: kind, digest: digest)
    }

    static func entry(kind name: String, digest: [UInt8]) -> LogEntry? {
        guard let kind = LogEntry.Kind.allCases.first(where: { $0.name == name }) else { return nil }
        return try? LogEntry(kind: kind, digest: digest)
    }

    /// Appends `entry` inside the caller's transaction, unless it is already logged; returns its index.
    @discardableResult
    static func appendToLog(_ db: Database, _ entry: LogEntry, at time: Int) throws -> UInt64 {
        let kind = entry.kind.name
        // Cached statements: an import or `add` appends one entry per version.
        if let index = try Int64.fetchOne(
            try db.cachedStatement(sql: "SELECT idx FROM logEntry WHERE kind = ? AND digest = ?"),
            arguments: [kind, Data(entry.digest)])
        {
            return UInt64(index)
        }
        let size = UInt64(
            try Int64.fetchOne(try db.cachedStatement(sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM logEntry")) ?? 0)
        var storage = SQLiteLogHashStorage(db: db)
        try LogTree.append(leafHash: try MerkleHash.leaf(entry.encoded), at: size, to: &storage)
        try db.cachedStatement(sql: "INSERT INTO logEntry (idx, kind, digest, appendedAt) VALUES (?, ?, ?, ?)").execute(
            arguments: [Int64(size), kind, Data(entry.digest), time])
        return size
    }

    // MARK: The organization's log

    /// Appends an entry in a transaction of its own (a bundle manifest, a publication); an entry already logged
    /// keeps its index.
    @discardableResult
    public func appendToLog(_ entry: LogEntry) throws -> UInt64 {
        try write { db in try Self.appendToLog(db, entry, at: Int(Date().timeIntervalSince1970)) }
    }

    /// How many entries the log holds.
    public func logSize() throws -> UInt64 {
        try writer.read { UInt64(try Int64.fetchOne($0, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM logEntry") ?? 0) }
    }

    /// The root hash of the log's first `size` entries.
    public func logRoot(size: UInt64) throws -> LogHash {
        try writer.read { db in try LogTree.rootHash(size: size, in: SQLiteLogHashStorage(db: db)) }
    }

    /// The index of a logged entry, or nil.
    public func logIndex(of entry: LogEntry) throws -> UInt64? {
        try writer.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT idx FROM logEntry WHERE kind = ? AND digest = ?",
                arguments: [entry.kind.name, Data(entry.digest)]
            ).map { UInt64($0) }
        }
    }

    /// Entries from `start`, at most `limit`.
    public func logEntries(from start: UInt64 = 0, limit: Int = .max) throws -> [StoredLogEntry] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT idx, kind, digest, appendedAt FROM logEntry WHERE idx >= ? ORDER BY idx LIMIT ?",
                arguments: [Int64(start), Int64(min(limit, Int(Int64.max)))]
            ).compactMap { row in
                let digest: Data = row["digest"]
                guard let entry = Self.entry(kind: row["kind"], digest: Array(digest)) else { return nil }
                let index: Int64 = row["idx"]
                return StoredLogEntry(index: UInt64(index), entry: entry, appendedAt: row["appendedAt"])
            }
        }
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    public func inclusionProof(index: UInt64, size: UInt64) throws -> [LogHash] {
        try writer.read { db in try LogTree.inclusionProof(index: index, size: size, in: SQLiteLogHashStorage(db: db)) }
    }

    /// The consistency proof between the trees of `oldSize` and `newSize` entries.
    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) throws -> [LogHash] {
        try writer.read { db in
            try LogTree.consistencyProof(from: oldSize, to: newSize, in: SQLiteLogHashStorage(db: db))
        }
    }

    /// Keeps a checkpoint we signed.
    public func storeCheckpoint(size: UInt64, note: [UInt8]) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO logCheckpoint (size, note) VALUES (?, ?)",
                arguments: [Int64(size), Data(note)])
        }
    }

    /// Our latest signed checkpoint, or the one of exactly `size` entries.
    public func signedCheckpoint(size: UInt64? = nil) throws -> (size: UInt64, note: [UInt8])? {
        try writer.read { db in
            let row =
                try size.map {
                    try Row.fetchOne(
                        db, sql: "SELECT size, note FROM logCheckpoint WHERE size = ?", arguments: [Int64($0)])
                } ?? Row.fetchOne(db, sql: "SELECT size, note FROM logCheckpoint ORDER BY size DESC LIMIT 1")
            guard let row else { return nil }
            let s: Int64 = row["size"]
            let note: Data = row["note"]
            return (UInt64(s), Array(note))
        }
    }

    /// Keeps a partner's cosignature on our checkpoint of `size` entries (the note with its cosignature line).
    public func storeCosignature(size: UInt64, cosigner: String, note: [UInt8]) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO logCosignature (size, cosigner, note) VALUES (?, ?, ?)",
                arguments: [Int64(size), cosigner, Data(note)])
        }
    }

    /// Who cosigned our checkpoints: fingerprint → the largest size it cosigned.
    public func cosigners() throws -> [String: UInt64] {
        try writer.read { db in
            var result: [String: UInt64] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT cosigner, MAX(size) AS size FROM logCosignature GROUP BY cosigner")
            {
                let size: Int64 = row["size"]
                result[row["cosigner"]] = UInt64(size)
            }
            return result
        }
    }

    /// The cosignatures on our checkpoint of `size` entries: fingerprint → the cosigned note.
    public func cosignatures(size: UInt64) throws -> [String: [UInt8]] {
        try writer.read { db in
            var result: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT cosigner, note FROM logCosignature WHERE size = ?", arguments: [Int64(size)])
            {
                let note: Data = row["note"]
                result[row["cosigner"]] = Array(note)
            }
            return result
        }
    }

    // MARK: Partners' logs

    /// The latest checkpoint seen from the log `origin`, or the one of exactly `size` entries.
    public func seenCheckpoint(origin: String, size: UInt64? = nil) throws -> SeenCheckpoint? {
        try writer.read { db in
            let row =
                try size.map {
                    try Row.fetchOne(
                        db, sql: "SELECT * FROM seenCheckpoint WHERE origin = ? AND size = ?",
                        arguments: [origin, Int64($0)])
                }
                ?? Row.fetchOne(
                    db, sql: "SELECT * FROM seenCheckpoint WHERE origin = ? ORDER BY size DESC LIMIT 1",
                    arguments: [origin])
            return row.map(Self.seenCheckpoint)
        }
    }

    /// Every partner log's latest seen checkpoint.
    public func latestSeenCheckpoints() throws -> [SeenCheckpoint] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.* FROM seenCheckpoint s
                    WHERE s.size = (SELECT MAX(size) FROM seenCheckpoint t WHERE t.origin = s.origin)
                    ORDER BY s.origin
                    """
            ).map(Self.seenCheckpoint)
        }
    }

    static func seenCheckpoint(_ row: Row) -> SeenCheckpoint {
        let size: Int64 = row["size"]
        let root: Data = row["root"]
        let note: Data = row["note"]
        let cosigned: Data? = row["cosigned"]
        return SeenCheckpoint(
            origin: row["origin"], size: UInt64(size), rootHash: Array(root), note: Array(note),
            cosigned: cosigned.map { Array($0) })
    }

    /// Version proofs handed to `add` one at a time, in one transaction (a bundle's may not fit in memory).
    public typealias VersionProofs = (_ add: (String, [UInt8]) throws -> Void) throws -> Void

    /// Keeps a partner's checkpoint (and our cosignature on it), and the inclusion proofs of its versions.
    public func recordSeenCheckpoint(_ checkpoint: SeenCheckpoint, versionProofs: VersionProofs = { _ in }) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO seenCheckpoint (origin, size, root, note, cosigned) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (origin, size) DO UPDATE SET cosigned = COALESCE(excluded.cosigned, cosigned)
                    """,
                arguments: [
                    checkpoint.origin, Int64(checkpoint.size), Data(checkpoint.rootHash), Data(checkpoint.note),
                    checkpoint.cosigned.map { Data($0) },
                ])
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO versionProof (versionId, proof) VALUES (?, ?)")
            try versionProofs { id, proof in try insert.execute(arguments: [id, Data(proof)]) }
        }
    }

    /// The inclusion proof that came with a partner's version, or nil.
    public func versionProof(_ versionId: String) throws -> [UInt8]? {
        try writer.read { db in
            try Data.fetchOne(db, sql: "SELECT proof FROM versionProof WHERE versionId = ?", arguments: [versionId])
                .map { Array($0) }
        }
    }

    /// Keeps the evidence of a fork: two signed checkpoints of one log that cannot both be true.
    public func recordAlarm(origin: String, reason: String, first: [UInt8], second: [UInt8]) throws {
        try write { db in
            let known = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM logAlarm WHERE origin = ? AND first = ? AND second = ?",
                arguments: [origin, Data(first), Data(second)])
            guard known != true else { return }
            try db.execute(
                sql: "INSERT INTO logAlarm (origin, detectedAt, reason, first, second) VALUES (?, ?, ?, ?, ?)",
                arguments: [origin, Int(Date().timeIntervalSince1970), reason, Data(first), Data(second)])
        }
    }

    /// Every fork alarm, oldest first.
    public func alarms() throws -> [LogAlarm] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM logAlarm ORDER BY id").map { row in
                let first: Data = row["first"]
                let second: Data = row["second"]
                return LogAlarm(
                    id: row["id"], origin: row["origin"], detectedAt: row["detectedAt"], reason: row["reason"],
                    first: Array(first), second: Array(second))
            }
        }
    }
}

extension Store {
    /// The logged entry with this digest (of any kind), or nil.
    public func logEntry(digest: [UInt8]) throws -> StoredLogEntry? {
        try writer.read { db in
            guard
                // Every kind named, so that SQLite searches the (kind, digest) index instead of the whole log.
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT idx, kind, digest, appendedAt FROM logEntry
                        WHERE kind IN (\(LogEntry.Kind.allCases.map { "'\($0.name)'" }.joined(separator: ","))) AND digest = ?
                        LIMIT 1
                        """,
                    arguments: [Data(digest)]),
                let entry = Self.entry(kind: row["kind"], digest: digest)
            else { return nil }
            let index: Int64 = row["idx"]
            return StoredLogEntry(index: UInt64(index), entry: entry, appendedAt: row["appendedAt"])
        }
    }

    /// Remembers that the partner was sent our checkpoint of `size` entries.
    public func recordSentCheckpoint(partner: String, size: UInt64) throws {
        let partner = try ledgerName(partner)
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO sentCheckpoint (partner, size) VALUES (?, ?)
                    ON CONFLICT (partner) DO UPDATE SET size = MAX(size, excluded.size)
                    """, arguments: [partner, Int64(size)])
        }
    }

    /// The size of our checkpoint the partner was last sent, or nil.
    public func lastSentCheckpoint(partner: String) throws -> UInt64? {
        let partner = try ledgerName(partner)
        return try writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT size FROM sentCheckpoint WHERE partner = ?", arguments: [partner])
                .map { UInt64($0) }
        }
    }
}

extension Store {
    /// Keeps the inclusion proofs that came with partners' versions (a version already proved keeps its proof).
    public func recordVersionProofs(_ proofs: VersionProofs) throws {
        try write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO versionProof (versionId, proof) VALUES (?, ?)")
            try proofs { id, proof in try insert.execute(arguments: [id, Data(proof)]) }
        }
    }
}

extension Store {
    /// Each cosigner's latest cosignature on our checkpoints: fingerprint → the cosigned note.
    public func latestCosignatures() throws -> [String: [UInt8]] {
        try writer.read { db in
            var result: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT c.cosigner, c.note FROM logCosignature c
                    WHERE c.size = (SELECT MAX(size) FROM logCosignature d WHERE d.cosigner = c.cosigner)
                    """)
            {
                let note: Data = row["note"]
                result[row["cosigner"]] = Array(note)
            }
            return result
        }
    }
}

extension Store {
    /// Appends entries in one transaction (entries already logged keep their index); returns their indexes.
    public func appendToLog(_ entries: [LogEntry]) throws -> [UInt64] {
        try appendToLog { append in
            for entry in entries { try append(entry) }
        }
    }

    /// Appends the entries `feed` hands to its argument, in one transaction (entries already logged keep their
    /// index), so that a caller can stream them from a file; returns their indexes. Nothing is appended when `feed`
    /// throws.
    public func appendToLog(_ feed: (_ append: (LogEntry) throws -> Void) throws -> Void) throws -> [UInt64] {
        try write { db in
            let now = Int(Date().timeIntervalSince1970)
            var indexes: [UInt64] = []
            try feed { indexes.append(try Self.appendToLog(db, $0, at: now)) }
            return indexes
        }
    }
}

extension Store {
    /// Every checkpoint we signed, smallest first.
    public func signedCheckpoints() throws -> [(size: UInt64, note: [UInt8])] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT size, note FROM logCheckpoint ORDER BY size").map { row in
                let size: Int64 = row["size"]
                let note: Data = row["note"]
                return (UInt64(size), Array(note))
            }
        }
    }
}

/// A trusted timestamp over a partner's checkpoint, verified on import against this workspace's TSA list.
public struct SeenTimestamp: Sendable, Equatable {
    public var origin: String
    public var size: UInt64
    /// The TSA's name on this workspace's list.
    public var tsa: String
    public var genTime: Date
    public var token: [UInt8]

    public init(origin: String, size: UInt64, tsa: String, genTime: Date, token: [UInt8]) {
        self.origin = origin
        self.size = size
        self.tsa = tsa
        self.genTime = genTime
        self.token = token
    }
}

extension Store {
    /// Keeps verified timestamps over partners' checkpoints (one per origin, size and TSA).
    public func recordSeenTimestamps(_ stamps: [SeenTimestamp]) throws {
        guard !stamps.isEmpty else { return }
        try write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO seenTimestamp (origin, size, tsa, genTime, token) VALUES (?, ?, ?, ?, ?)")
            for s in stamps {
                try insert.execute(arguments: [
                    s.origin, Int64(s.size), s.tsa, s.genTime.timeIntervalSince1970, Data(s.token),
                ])
            }
        }
    }

    /// The timestamps seen over checkpoints of `origin` larger than `index` (they hold entry `index`).
    public func seenTimestamps(origin: String, covering index: UInt64) throws -> [SeenTimestamp] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM seenTimestamp WHERE origin = ? AND size > ? ORDER BY genTime",
                arguments: [origin, Int64(index)]
            ).map { row in
                let size: Int64 = row["size"]
                let time: Double = row["genTime"]
                let token: Data = row["token"]
                return SeenTimestamp(
                    origin: row["origin"], size: UInt64(size), tsa: row["tsa"],
                    genTime: Date(timeIntervalSince1970: time), token: Array(token))
            }
        }
    }
}
