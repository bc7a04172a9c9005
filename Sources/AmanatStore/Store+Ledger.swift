import Foundation
import GRDB

/// The exchange ledger's record of what was sent (Specs/storage.md, "The exchange ledger"): per partner and bundle
/// the list of its versions as one row (`sentBundle`), kept until the partner acknowledges the bundle, and per partner
/// each version it was ever sent once (`sentVersion`). Before v9, `sent` kept a row per version per bundle, in the
/// table and in two indexes: every `seal --all` of 100k records added 100k rows to each, about 29 MB per bundle, for
/// as long as the store lived.
extension Store {
    static let sentLedgerMigration = "v9-sent-ledger"

    static func registerSentLedgerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(sentLedgerMigration) { db in
            try db.create(table: "sentBundle") { t in
                t.column("partner", .text).notNull()
                t.column("bundleId", .text).notNull()
                // ``encodeVersionList(_:)``: the bundle's version ids, sorted.
                t.column("versions", .blob).notNull()
                t.primaryKey(["partner", "bundleId"])
            }
            // Small rows looked up by their key alone: WITHOUT ROWID, one B-tree.
            try db.create(table: "sentVersion", options: .withoutRowID) { t in
                t.column("partner", .text).notNull()
                t.column("versionId", .text).notNull()
                t.primaryKey(["partner", "versionId"])
            }
            // The v1 ledger, bundle by bundle in its key order. A bundle whose versions the partner is all known to
            // hold (acknowledged, or received from it) needs no list: acknowledging it again would add nothing.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT partner, bundleId, versionId FROM sent ORDER BY partner, bundleId, versionId")
            let held = try db.makeStatement(sql: "SELECT 1 FROM ack WHERE partner = ? AND versionId = ?")
            var current: (partner: String, bundle: String)?
            var versions: [String] = []
            var allHeld = true
            func flush() throws {
                defer {
                    versions.removeAll(keepingCapacity: true)
                    allHeld = true
                }
                guard let current, !versions.isEmpty, !allHeld else { return }
                try db.execute(
                    sql: "INSERT INTO sentBundle (partner, bundleId, versions) VALUES (?, ?, ?)",
                    arguments: [current.partner, current.bundle, Data(try encodeVersionList(versions))])
            }
            while let row = try rows.next() {
                let key: (String, String) = (row[0], row[1])
                if current.map({ $0.partner != key.0 || $0.bundle != key.1 }) ?? true {
                    try flush()
                    current = key
                }
                let version: String = row[2]
                versions.append(version)
                if allHeld, try Bool.fetchOne(held, arguments: [key.0, version]) == nil { allHeld = false }
            }
            try flush()
            try db.execute(
                sql:
                    "INSERT INTO sentVersion (partner, versionId) SELECT DISTINCT partner, versionId FROM sent ORDER BY 1, 2"
            )
            try db.drop(table: "sent")
        }
    }

    /// Version ids as a `sentBundle` row keeps them: sorted by UTF-8 bytes, each as a 2-byte big-endian length and
    /// its UTF-8.
    static func encodeVersionList(_ versions: some Collection<String>) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(versions.count * 45)
        for id in versions.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            var id = id
            try id.withUTF8 { utf8 in
                guard utf8.count <= Int(UInt16.max) else { throw StoreError.database("a version id is too long") }
                out.append(UInt8(utf8.count >> 8))
                out.append(UInt8(utf8.count & 0xff))
                out.append(contentsOf: utf8)
            }
        }
        return out
    }

    /// Reads ``encodeVersionList(_:)`` back.
    /// - Throws: ``StoreError`` naming the bundle when the bytes end inside an id.
    static func decodeVersionList(_ bytes: [UInt8], bundle: String = "?") throws -> [String] {
        var ids: [String] = []
        var i = 0
        func cut() -> StoreError {
            StoreError.database(
                "the exchange ledger's list of the versions sent in bundle \(bundle) is cut (the store file was altered)"
            )
        }
        while i < bytes.count {
            guard bytes.count - i >= 2 else { throw cut() }
            let count = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            i += 2
            guard bytes.count - i >= count else { throw cut() }
            ids.append(String(decoding: bytes[i..<(i + count)], as: UTF8.self))
            i += count
        }
        return ids
    }

    /// Records in the caller's transaction that `partner` (its ledger name) was sent a bundle with these versions;
    /// the same bundle recorded again keeps the union of both lists.
    static func recordSent(_ db: Database, partner: String, bundleId: String, versions: some Collection<String>) throws
    {
        guard !versions.isEmpty else { return }
        var list = Set(versions)
        if let stored = try Data.fetchOne(
            db, sql: "SELECT versions FROM sentBundle WHERE partner = ? AND bundleId = ?",
            arguments: [partner, bundleId])
        {
            list.formUnion(try decodeVersionList(Array(stored), bundle: bundleId))
        }
        let sorted = list.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        try db.execute(
            sql: "INSERT OR REPLACE INTO sentBundle (partner, bundleId, versions) VALUES (?, ?, ?)",
            arguments: [partner, bundleId, Data(try encodeVersionList(sorted))])
        // In key order: a bundle's new rows fill pages one after another; versions sent before are found and left.
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO sentVersion (partner, versionId) VALUES (?, ?)")
        for v in sorted { try insert.execute(arguments: [partner, v]) }
    }

    /// Records in the caller's transaction that `partner` acknowledges our bundle `bundleId`: it holds every version
    /// sent in it. The bundle's list is no longer needed and goes (an acknowledgement repeated, or of a bundle never
    /// sent to this partner, changes nothing).
    static func recordAcknowledged(_ db: Database, partner: String, bundleId: String) throws {
        guard
            let stored = try Data.fetchOne(
                db, sql: "SELECT versions FROM sentBundle WHERE partner = ? AND bundleId = ?",
                arguments: [partner, bundleId])
        else { return }
        let ack = try db.cachedStatement(sql: "INSERT OR IGNORE INTO ack (partner, versionId) VALUES (?, ?)")
        for v in try decodeVersionList(Array(stored), bundle: bundleId) { try ack.execute(arguments: [partner, v]) }
        try db.execute(
            sql: "DELETE FROM sentBundle WHERE partner = ? AND bundleId = ?", arguments: [partner, bundleId])
    }
}
