import AmanatRecords
import AmanatStore
import Foundation

/// One version of a record as `amanat show RECORD --history` lists it: what it is, and which fields it changed.
public struct VersionHistoryEntry: Sendable {
    /// What a version is compared with.
    public struct Comparison: Sendable {
        /// The parent version id.
        public var parent: String
        /// The fields that differ from the parent (JSON Pointers, with the values), in document order; nil when
        /// the parent is not in the store or its content was erased.
        public var changes: [JSONChange]?
    }

    public var version: StoredVersion
    /// Whether it is a head of the record (no other version names it as a parent).
    public var isHead: Bool
    /// Against each parent, for a version that carries record content (`edit`, `merge`). Empty for a `create`
    /// version (it has no parent) and for retractions and erasures (their content is a tombstone, not a record).
    public var comparisons: [Comparison]

    /// `create`, `edit`, `merge`, `retract`, or `erase` for a signed erasure request.
    public var kindName: String { version.isErasure ? "erase" : version.kind.rawValue }
    /// Whether this version's content was erased here.
    public var isContentErased: Bool { version.content == nil }
}

extension RecordService {
    /// Every version of a record, parents before children (ties by signed time, then id), each compared with its
    /// parents (``VersionHistoryEntry``). Reads what the store holds; nothing is signed or changed.
    public func history(_ recordId: String) throws -> [VersionHistoryEntry] {
        let versions = Self.topologicalOrder(try store.versions(record: recordId))
        let heads = Set(try store.heads(record: recordId))
        var contents: [String: JSONValue] = [:]
        for v in versions {
            guard let text = v.content else { continue }
            do { contents[v.id] = try JSONValue.parse(Array(text.utf8)) } catch {
                throw AmanatError(
                    .verificationFailed,
                    "the stored content of version \(v.id) of record \(recordId) is unreadable; the store is damaged.")
            }
        }
        let byId = Dictionary(versions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return versions.map { v in
            var comparisons: [VersionHistoryEntry.Comparison] = []
            if v.kind == .edit || v.kind == .merge {
                for parent in v.prev {
                    let parentContent = byId[parent]?.kind == .retract ? nil : contents[parent]
                    comparisons.append(
                        .init(
                            parent: parent,
                            changes: parentContent.flatMap { old in contents[v.id].map { $0.changes(from: old) } }))
                }
            }
            return VersionHistoryEntry(version: v, isHead: heads.contains(v.id), comparisons: comparisons)
        }
    }

    /// Parents before children; ties by time, then id.
    public static func topologicalOrder(_ versions: [StoredVersion]) -> [StoredVersion] {
        let ids = Set(versions.map(\.id))
        var placed = Set<String>()
        var result: [StoredVersion] = []
        var remaining = versions.sorted { ($0.issuedAt, $0.id) < ($1.issuedAt, $1.id) }
        while !remaining.isEmpty {
            let index = remaining.firstIndex { $0.prev.allSatisfy { !ids.contains($0) || placed.contains($0) } } ?? 0
            let next = remaining.remove(at: index)
            placed.insert(next.id)
            result.append(next)
        }
        return result
    }
}
