import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatSync
import Foundation
import GRDB

/// What sealing a bundle needs to know about a version before reading it: its record and the size of its compact
/// SD-JWT, taken from the stored lengths without opening anything.
public struct SealableVersion: Sendable, Equatable {
    public var id: String
    public var recordId: String
    /// The byte count of `jwt~disclosure~…~` (``AmanatRecords/SDJWT/compact``).
    public var compactSize: Int
}

/// Reads for `seal` at scale (``Store/sealableVersions(_:)``, ``Store/compactLines(_:)``): a chunk of versions per
/// read transaction with cached statements, contents opened on all cores, nothing cached across chunks, so memory
/// follows the chunk and not the store.
extension Store {
    /// How many ids go into one `IN (…)` list.
    static let sealIdsPerStatement = 500

    /// Every version id, record by record (records in id order, a record's versions oldest first, by time then
    /// id): the order of ``versionIds(record:)`` over the sorted records, in one query.
    public func versionIdsByRecord() throws -> [String] {
        // Read in table order and sorted here: SQLite's ORDER BY went through the recordId index and looked every
        // row up in the table for its time and id (four times slower). Texts compare as SQLite's BINARY does, by
        // their UTF-8 bytes.
        var rows: [(record: String, issuedAt: Int64, id: String)] = []
        try writer.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT recordId, issuedAt, id FROM version")
            while let row = try cursor.next() { rows.append((row[0], row[1], row[2])) }
        }
        func bytesLess(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        rows.sort { a, b in
            if a.record != b.record { return bytesLess(a.record, b.record) }
            if a.issuedAt != b.issuedAt { return a.issuedAt < b.issuedAt }
            return bytesLess(a.id, b.id)
        }
        return rows.map(\.id)
    }

    /// The versions among `ids` the store holds, in the order of `ids` (unknown ids left out).
    public func sealableVersions(_ ids: some Collection<String>) throws -> [SealableVersion] {
        let ids = Array(ids)
        var found: [String: SealableVersion] = [:]
        found.reserveCapacity(ids.count)
        try writer.read { db in
            for (chunk, list) in Self.inLists(ids) {
                // length() of a blob reads its size from the row header, not its pages; the texts of a plaintext
                // store are ASCII (base64url, '.', '~'), so characters are bytes.
                let rows = try Row.fetchCursor(
                    db.cachedStatement(
                        sql: """
                            SELECT id, recordId, length(jwt), typeof(jwt) = 'blob', length(disclosures),
                                   typeof(disclosures) = 'blob'
                            FROM version WHERE id IN (\(list))
                            """), arguments: StatementArguments(Array(chunk)))
                while let row = try rows.next() {
                    let overhead = ChaChaPoly.nonceSize + ChaChaPoly.tagSize
                    let jwt = (row[2] as Int) - ((row[3] as Bool) ? overhead : 0)
                    let disclosures = (row[4] as Int) - ((row[5] as Bool) ? overhead : 0)
                    let id: String = row[0]
                    found[id] = SealableVersion(
                        id: id, recordId: row[1], compactSize: jwt + 1 + disclosures + (disclosures > 0 ? 1 : 0))
                }
            }
        }
        return ids.compactMap { found[$0] }
    }

    /// Those of `ids` that are the only version of their record: the id of a record (a record's id is its `create`
    /// version's) whose stored view counts one version, held here under that id. Decided from the stored view and the
    /// version table's two indexes (id, and record id, each with the row's rowid), without reading a version's row:
    /// `seal --since-last` weighs every `internal` record again on every delta, and at a million records reading
    /// their rows at random was most of its time.
    public func onlyVersions(
        among ids: some Collection<String>, authority: Authority = .collectorOnly
    ) throws -> Set<
        String
    > {
        try ensureView(authority)
        let ids = Array(ids)
        return try writer.read { db in
            var only = Set<String>()
            for (chunk, list) in Self.inLists(ids) {
                let single = try String.fetchSet(
                    db.cachedStatement(
                        sql: "SELECT recordId FROM recordState WHERE versions = 1 AND recordId IN (\(list))"),
                    arguments: StatementArguments(chunk))
                guard !single.isEmpty else { continue }
                let singles = Array(single)
                let singleList = Self.placeholders(singles.count)
                // The row of the version with each id, and the rows of the versions of each record: both index-only.
                var rowOfVersion: [String: Int64] = [:]
                for row in try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT id, rowid FROM version WHERE id IN (\(singleList))"),
                    arguments: StatementArguments(singles))
                {
                    rowOfVersion[row[0]] = row[1]
                }
                var rowsOfRecord: [String: [Int64]] = [:]
                for row in try Row.fetchAll(
                    db.cachedStatement(
                        sql:
                            "SELECT recordId, rowid FROM version INDEXED BY version_on_recordId WHERE recordId IN (\(singleList))"
                    ), arguments: StatementArguments(singles))
                {
                    rowsOfRecord[row[0], default: []].append(row[1])
                }
                for id in singles {
                    guard let row = rowOfVersion[id], rowsOfRecord[id] == [row] else { continue }
                    only.insert(id)
                }
            }
            return only
        }
    }

    /// Those of `versions` that `partner` acknowledged holding or was sent.
    public func versionsHeld(by partner: String, among versions: some Collection<String>) throws -> Set<String> {
        try held(by: partner, among: Array(versions)) { list in
            """
            SELECT versionId FROM ack WHERE partner = ? AND versionId IN (\(list))
            UNION SELECT versionId FROM sentVersion WHERE partner = ? AND versionId IN (\(list))
            """
        }
    }

    /// Those of `records` that `partner` holds or was sent some version of (``partnerHolds(partner:record:)`` for
    /// many records in one read).
    public func recordsHeld(by partner: String, among records: some Collection<String>) throws -> Set<String> {
        try held(by: partner, among: Array(records)) { list in
            """
            SELECT DISTINCT v.recordId FROM version v CROSS JOIN ack a
                ON a.partner = ? AND a.versionId = v.id WHERE v.recordId IN (\(list))
            UNION
            SELECT DISTINCT v.recordId FROM version v CROSS JOIN sentVersion s
                ON s.partner = ? AND s.versionId = v.id WHERE v.recordId IN (\(list))
            """
        }
    }

    /// Those of `items` that `sql` (given a chunk's `IN` list; the partner, the chunk, the partner and the chunk
    /// again are bound) names for `partner`, in one read.
    private func held(by partner: String, among items: [String], sql: (String) -> String) throws -> Set<String> {
        let partner = try ledgerName(partner)
        return try writer.read { db in
            var held = Set<String>()
            for (chunk, list) in Self.inLists(items) {
                held.formUnion(
                    try String.fetchSet(
                        db.cachedStatement(sql: sql(list)),
                        arguments: StatementArguments([partner] + chunk + [partner] + chunk)))
            }
            return held
        }
    }

    /// The attachments (SHA-256, hex) that `versions` list.
    public func attachments(ofVersions versions: some Collection<String>) throws -> Set<String> {
        let versions = Array(versions)
        return try writer.read { db in
            var digests = Set<String>()
            for (chunk, list) in Self.inLists(versions) {
                let rows = try String.fetchCursor(
                    db.cachedStatement(
                        sql: """
                            SELECT DISTINCT sha256 FROM versionAttachment
                            WHERE versionId IN (\(list))
                            """), arguments: StatementArguments(Array(chunk)))
                while let sha = try rows.next() { digests.insert(sha) }
            }
            return digests
        }
    }

    /// The compact SD-JWTs of `ids`, in that order, each followed by a newline, in one buffer: read in one
    /// transaction, opened on all cores.
    /// - Throws: ``StoreError/unknownVersion(_:)`` for an id the store does not hold; ``StoreError/damaged(record:what:)``
    ///   when a field does not open.
    public func compactLines(_ ids: some Collection<String>) throws -> [UInt8] {
        let ids = Array(ids)
        var position: [String: Int] = [:]
        position.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { position[id] = i }
        let rows = try writer.read { db in
            var sealed = SealedVersionRows(count: ids.count)
            for (chunk, list) in Self.inLists(ids) {
                let rows = try Row.fetchCursor(
                    db.cachedStatement(
                        sql: """
                            SELECT v.id, v.recordId, v.jwt, v.disclosures, k.wrapped
                            FROM version v LEFT JOIN recordKey k ON k.recordId = v.recordId
                            WHERE v.id IN (\(list))
                            """), arguments: StatementArguments(Array(chunk)))
                while let row = try rows.next() {
                    let id: String = row[0]
                    guard let index = position[id] else { continue }
                    try sealed.append(row, at: index, encrypted: cipher != nil)
                }
            }
            return sealed
        }
        if let missing = zip(ids, rows.items).first(where: { $0.1 == nil }) {
            throw StoreError.unknownVersion(missing.0)
        }
        let items = rows.items.compactMap { $0 }
        let pieces: [[UInt8]]
        if let cipher {
            let storeKey = cipher.storeKey
            let bytes = rows.bytes
            pieces = try OrderedParallel.map(items, minimumPerCore: 64, makeWorker: { try ContentWorker(storeKey) }) {
                worker, item in
                try bytes.withUnsafeBytes { buffer in
                    try item.compactLine(from: buffer) { field, sealed in
                        guard let wrapped = item.wrapped else {
                            throw StoreError.locked("record \(item.record) is encrypted and no key is available")
                        }
                        let cipher = try worker.cipher(
                            for: UnsafeRawBufferPointer(rebasing: buffer[wrapped]), at: wrapped.lowerBound,
                            record: item.record)
                        worker.aad.setField(field, record: item.record, version: item.version)
                        do {
                            return try FieldSealer.open(sealed, cipher: cipher, aad: worker.aad)
                        } catch is CryptoError {
                            throw StoreError.damaged(
                                record: item.record,
                                what: "the \(field) of version \(item.version) does not decrypt (altered or moved)")
                        }
                    }
                }
            }
        } else {
            pieces = try rows.bytes.withUnsafeBytes { buffer in
                try items.map { item in try item.compactLine(from: buffer) { _, plain in Array(plain) } }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { out += piece }
        return out
    }

    /// The log indexes of the version entries (record versions, retractions, erasures) with these digests.
    public func versionLogIndexes(digests: [[UInt8]]) throws -> [Data: UInt64] {
        let kinds = [LogEntry.Kind.recordVersion, .retraction, .erasure].map(\.name)
        return try writer.read { db in
            var found: [Data: UInt64] = [:]
            for (piece, list) in Self.inLists(digests) {
                let chunk = piece.map { Data($0) }
                // `kind` first, so that the (kind, digest) index answers it.
                let rows = try Row.fetchCursor(
                    db.cachedStatement(
                        sql: """
                            SELECT digest, idx FROM logEntry
                            WHERE kind IN (?, ?, ?) AND digest IN (\(list))
                            """), arguments: StatementArguments(kinds) + StatementArguments(chunk))
                while let row = try rows.next() {
                    let index: Int64 = row[1]
                    found[row[0]] = UInt64(index)
                }
            }
            return found
        }
    }

    /// Inclusion proofs of many entries in the tree of `size` entries, in one read; the hashes of subtrees of at
    /// least `1 << sharedLevel` leaves (shared by many proofs, few in number) are looked up once.
    public func inclusionProofs(indexes: [UInt64], size: UInt64, sharedLevel: Int = 6) throws -> [[LogHash]] {
        try writer.read { db in
            let storage = try CachedLogHashStorage(db: db, sharedLevel: sharedLevel)
            try storage.prefetchSiblings(of: indexes, size: size)
            return try LogTree.inclusionProofs(indexes: indexes, size: size, in: storage)
        }
    }

    /// Records, in one transaction, that a committed bundle was sent to `partners`: its versions (for
    /// `--since-last`) and the checkpoint size it proved (``recordSentCheckpoint(partner:size:)``).
    public func recordSent(
        partners: [String], bundleId: String, versions: some Collection<String>, checkpointSize: UInt64
    ) throws {
        let names = try partners.map { try ledgerName($0) }
        try write { db in
            let checkpoint = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO sentCheckpoint (partner, size) VALUES (?, ?)")
            for partner in names {
                try checkpoint.execute(arguments: [partner, Int64(checkpointSize)])
                try Self.recordSent(db, partner: partner, bundleId: bundleId, versions: versions)
            }
        }
    }

    /// `items` a chunk of at most ``sealIdsPerStatement`` at a time (one `IN (…)` list each), with the list's
    /// placeholders.
    static func inLists<T>(_ items: [T]) -> [(items: [T], placeholders: String)] {
        stride(from: 0, to: items.count, by: sealIdsPerStatement).map { start in
            let chunk = Array(items[start..<min(start + sealIdsPerStatement, items.count)])
            return (chunk, placeholders(chunk.count))
        }
    }

    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }
}

/// The sealed (or plaintext) fields of a chunk of versions, copied out of SQLite's row buffers into one buffer.
struct SealedVersionRows {
    struct Item: Sendable {
        var record: String
        var version: String
        var jwt: Range<Int>
        var disclosures: Range<Int>
        var jwtSealed: Bool
        var disclosuresSealed: Bool
        var wrapped: Range<Int>?

        /// `jwt~d1~…~dn~\n`, each sealed field opened by `open(field, bytes)`.
        func compactLine(
            from buffer: UnsafeRawBufferPointer, open: (String, UnsafeRawBufferPointer) throws -> [UInt8]
        ) throws -> [UInt8] {
            func field(_ name: String, _ range: Range<Int>, _ sealed: Bool) throws -> [UInt8] {
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[range])
                return sealed ? try open(name, bytes) : Array(bytes)
            }
            var line = try field("jwt", jwt, jwtSealed)
            line.append(UInt8(ascii: "~"))
            let joined = try field("disclosures", disclosures, disclosuresSealed)
            if !joined.isEmpty {
                line += joined
                line.append(UInt8(ascii: "~"))
            }
            line.append(0x0A)
            return line
        }
    }

    var bytes: [UInt8] = []
    var items: [Item?]
    /// The wrapped key of the record last appended (rows of one record share it).
    private var lastKey: (record: String, range: Range<Int>?)?

    init(count: Int) { items = Array(repeating: nil, count: count) }

    mutating func append(_ row: Row, at index: Int, encrypted: Bool) throws {
        let record: String = row[1]
        let version: String = row[0]
        func copy(_ column: Int) throws -> (Range<Int>, Bool) {
            let sealed: Bool
            if case .blob = (row[column] as DatabaseValue).storage { sealed = true } else { sealed = false }
            let start = bytes.count
            try row.withUnsafeData(atIndex: column) { data in
                if let data { data.withUnsafeBytes { bytes.append(contentsOf: $0) } }
            }
            return (start..<bytes.count, sealed)
        }
        let (jwt, jwtSealed) = try copy(2)
        let (disclosures, disclosuresSealed) = try copy(3)
        if encrypted && (!jwtSealed || (!disclosuresSealed && !disclosures.isEmpty)) {
            throw StoreError.damaged(record: record, what: "a field of version \(version) is not encrypted")
        }
        if lastKey?.record != record {
            let start = bytes.count
            var present = false
            try row.withUnsafeData(atIndex: 4) { data in
                if let data {
                    present = true
                    data.withUnsafeBytes { bytes.append(contentsOf: $0) }
                }
            }
            lastKey = (record, present ? start..<bytes.count : nil)
        }
        items[index] = Item(
            record: record, version: version, jwt: jwt, disclosures: disclosures, jwtSealed: jwtSealed,
            disclosuresSealed: disclosuresSealed, wrapped: lastKey?.range)
    }
}

/// Subtree hashes read with one cached statement; those at `sharedLevel` and above are remembered (a proof's upper
/// siblings are the same for every leaf below them), and the siblings of a batch of proofs can be read ahead in a
/// few statements (``prefetchSiblings(of:size:)``).
final class CachedLogHashStorage: LogHashStorage {
    private let db: Database
    private let statement: Statement
    private let sharedLevel: Int
    private var shared: [UInt64: LogHash] = [:]
    /// Hashes read ahead for the proofs being made.
    private var prefetched: [UInt64: LogHash] = [:]

    init(db: Database, sharedLevel: Int) throws {
        self.db = db
        statement = try db.cachedStatement(sql: "SELECT hash FROM logNode WHERE level = ? AND idx = ?")
        self.sharedLevel = sharedLevel
    }

    /// Reads the siblings on the paths of `leaves` (every level up to the tree's height) ahead, a level at a time:
    /// where the wanted nodes of a level lie close together (leaves given sorted, as ``BundleLog`` gives a bundle's
    /// versions), one range of the level's rows is read in order; otherwise 500 nodes per statement are looked up.
    /// Either way one statement serves many nodes, instead of one statement each (a proof needs one node per level).
    /// A node not stored is simply not read ahead.
    func prefetchSiblings(of leaves: [UInt64], size: UInt64) throws {
        prefetched.removeAll(keepingCapacity: true)
        var level = 0
        while level < 63, UInt64(1) << level < size {
            let wanted = Array(Set(leaves.map { ($0 >> level) ^ 1 })).sorted()
            guard let low = wanted.first, let high = wanted.last else { break }
            func keep(_ rows: RowCursor) throws {
                while let row = try rows.next() {
                    let index: Int64 = row[0]
                    let hash: Data = row[1]
                    prefetched[UInt64(level) << 56 | UInt64(index)] = LogHash(Array(hash))
                }
            }
            if high - low < 4 * UInt64(wanted.count) {
                try keep(
                    Row.fetchCursor(
                        db.cachedStatement(
                            sql: "SELECT idx, hash FROM logNode WHERE level = ? AND idx BETWEEN ? AND ?"),
                        arguments: [Int64(level), Int64(bitPattern: low), Int64(bitPattern: high)]))
            } else {
                for start in stride(from: 0, to: wanted.count, by: 500) {
                    let chunk = wanted[start..<min(start + 500, wanted.count)]
                    try keep(
                        Row.fetchCursor(
                            db.cachedStatement(
                                sql:
                                    "SELECT idx, hash FROM logNode WHERE level = ? AND idx IN (\(Store.placeholders(chunk.count)))"
                            ), arguments: StatementArguments([Int64(level)] + chunk.map { Int64(bitPattern: $0) })))
                }
            }
            level += 1
        }
    }

    func hash(level: Int, index: UInt64) throws -> LogHash? {
        let key = UInt64(level) << 56 | index
        if let hash = prefetched[key] { return hash }
        if level >= sharedLevel, let hash = shared[key] { return hash }
        guard let data = try Data.fetchOne(statement, arguments: [level, Int64(index)]) else { return nil }
        let hash = LogHash(Array(data))
        if level >= sharedLevel { shared[key] = hash }
        return hash
    }

    func store(level: Int, index: UInt64, hash: LogHash) throws {
        throw StoreError.database("the log is read-only while proofs are made")
    }
}
