import AmanatRecords
import AmanatSync

extension Store {
    /// The sync view (heads, merges, conflicts, state hash) derived from every version in the store.
    /// `authority` decides which retractions and erasures take effect (the trust list's delegates).
    /// - Throws: ``StoreError`` if a stored content is unreadable.
    public func deriveView(authority: Authority = .collectorOnly) throws -> SyncView {
        SyncView.derive(versions: try nodes(try graphRows()), authority: authority)
    }

    /// The view of one record, derived from its versions alone; nil when the store has none.
    public func recordView(_ recordId: String, authority: Authority = .collectorOnly) throws -> RecordView? {
        SyncView.derive(versions: try nodes(try graphRows(record: recordId)), authority: authority)[recordId]
    }

    /// The state hash of the store (``StateHash``), always under ``Authority/collectorOnly`` so that stores holding
    /// the same versions agree whatever their trust lists delegate; read from the stored view.
    public func stateHash() throws -> String { try storedStateHash() }

    /// The version nodes of fetched graph rows, their contents opened and parsed on all cores.
    func nodes(_ fetched: FetchedGraph) throws -> [VersionNode] { try nodes(try fetched.opened(cipher)) }

    func nodes(_ rows: [GraphRow]) throws -> [VersionNode] {
        // Contents of a plaintext store are parsed here, on all cores (an encrypted store's were parsed as they
        // were opened).
        try OrderedParallel.map(rows, minimumPerCore: 64, makeWorker: {}) { _, row in
            var content: JSONValue? = row.parsed
            if content == nil, let text = row.content {
                do { content = try JSONValue.parse(Array(text.utf8)) } catch {
                    throw StoreError.database("unreadable content for version \(row.id)")
                }
            }
            return VersionNode(
                id: row.id, recordId: row.recordId, kind: row.kind, prev: row.prev, signer: row.signer,
                issuedAt: row.issuedAt, content: content)
        }
    }
}
