import AmanatRecords
import AmanatSync

/// Parses JSON text (test helper); keys sorted as the store keeps them.
func J(_ text: String) throws -> JSONValue {
    try JSONValue.parse(text).sortedKeys()
}

/// Builds small histories by hand. Ids are readable and unique (`<name>` padded); only their order matters.
struct History {
    var nodes: [VersionNode] = []

    /// Adds a version. `name` becomes the id; `record` defaults to the id for `create`, else the first parent's record.
    @discardableResult
    mutating func add(
        _ name: String, _ kind: VersionKind = .edit, prev: [String] = [], signer: String = "orgA", content: JSONValue?,
        record: String? = nil
    ) -> String {
        let recordId = record ?? (kind == .create ? name : nodes.first { $0.id == prev.first }?.recordId ?? name)
        nodes.append(
            VersionNode(
                id: name, recordId: recordId, kind: kind, prev: prev.sorted(), signer: signer,
                issuedAt: 1_700_000_000 + nodes.count,
                content: content))
        return name
    }

    var graph: RecordGraph { RecordGraph(versions: nodes) }
    var view: SyncView { SyncView.derive(versions: nodes) }
}
