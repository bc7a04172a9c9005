import AmanatRecords
import AmanatSync

extension Store {
    /// The sync view (heads, merges, conflicts, state hash) derived from every version in the store.
    /// - Throws: ``StoreError`` if a stored content is unreadable.
    public func deriveView() throws -> SyncView {
        let rows = try graphRows()
        var nodes: [VersionNode] = []
        nodes.reserveCapacity(rows.count)
        for row in rows {
            var content: JSONValue? = nil
            if let text = row.content {
                do { content = try JSONValue.parse(Array(text.utf8)) } catch {
                    throw StoreError.database("unreadable content for version \(row.id)")
                }
            }
            nodes.append(
                VersionNode(
                    id: row.id, recordId: row.recordId, kind: row.kind, prev: row.prev, signer: row.signer,
                    issuedAt: row.issuedAt, content: content))
        }
        return SyncView.derive(versions: nodes)
    }
}
