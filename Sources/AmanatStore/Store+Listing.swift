import AmanatRecords
import AmanatSync
import GRDB

extension Store {
    /// What a listing of the store needs, read in one pass: the derived view and, per record, the content of its
    /// newest version that still holds record content.
    public struct Listing: Sendable {
        /// The view of every record under the authority it was derived with.
        public var view: SyncView
        /// Per record id, the content of the newest version (by signed time, then id) that is not a `retract`
        /// version and was not erased: for a retracted record, the content it had before. Absent when no such
        /// version is held (an erased record, or one of which only requests are here).
        public var lastContent: [String: JSONValue]
    }

    /// The view and each record's last content (``Listing``), reading and opening every version once.
    /// - Throws: ``StoreError`` if a stored content is unreadable.
    public func listing(authority: Authority = .collectorOnly) throws -> Listing {
        let nodes = try nodes(try graphRows())
        return Listing(
            view: SyncView.derive(versions: nodes, authority: authority), lastContent: Self.lastContents(nodes))
    }

    /// The last content (``Listing/lastContent``) of one record, or nil.
    public func lastContent(record: String) throws -> JSONValue? {
        Self.lastContents(try nodes(try graphRows(record: record)))[record]
    }

    /// Per record, the content of the newest version that is not a `retract` version and still holds content.
    static func lastContents(_ nodes: [VersionNode]) -> [String: JSONValue] {
        var newest: [String: VersionNode] = [:]
        for node in nodes where node.kind != .retract && node.content != nil {
            if let current = newest[node.recordId], (current.issuedAt, current.id) >= (node.issuedAt, node.id) {
                continue
            }
            newest[node.recordId] = node
        }
        return newest.compactMapValues(\.content)
    }

    /// Every record id in the store, sorted.
    public func recordIds() throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT recordId FROM version ORDER BY recordId")
        }
    }

    /// The record ids that start with `prefix` (sorted; at most `limit`), compared byte for byte.
    public func recordIds(withPrefix prefix: String, limit: Int = 100) throws -> [String] {
        try writer.read { db in
            let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            // LIKE ignores ASCII case; the exact prefix test below does not.
            let candidates = try String.fetchAll(
                db,
                sql: "SELECT DISTINCT recordId FROM version WHERE recordId LIKE ? ESCAPE '\\' ORDER BY recordId",
                arguments: [escaped + "%"])
            return Array(candidates.filter { $0.hasPrefix(prefix) }.prefix(max(0, limit)))
        }
    }
}
