import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import Foundation

/// Derives the sync view (heads, merges, conflicts, state hash) from the store.
public struct SyncService {
    public let service: RecordService

    public init(workspace: Workspace) throws { service = try RecordService(workspace: workspace) }

    public var workspace: Workspace { service.workspace }

    /// The view derived from every version in the store.
    public func view() throws -> SyncView {
        do {
            return try service.store.deriveView(authority: service.authority)
        } catch let error as StoreError {
            throw AmanatError(.malformedInput, "\(error); restore the store from a backup.")
        }
    }

    /// An organization named on the command line: a trust-list name, this workspace (`self`, its organization name
    /// or the first word of it, in any case: partners often call `Steppe Rights Archive` just `steppe`), or a
    /// fingerprint.
    public func fingerprint(forOrganization text: String) throws -> String? {
        if let entry = try workspace.trustList().entry(named: text) { return entry.identity.fingerprint }
        let own = try workspace.identity()
        let folded = text.lowercased()
        let ownName = own.organization.lowercased()
        if folded == "self" || folded == ownName || folded == ownName.split(separator: " ").first.map(String.init) {
            return own.fingerprint
        }
        return Fingerprint.normalize(text)
    }

    /// The organization names ``fingerprint(forOrganization:)`` accepts, for error messages: the trust-list names,
    /// `self` and this organization's name.
    public func organizationNames() throws -> [String] {
        try workspace.trustList().partners.map(\.name) + ["self", try workspace.identity().organization]
    }

    // MARK: Duplicates

    /// Keyed pseudonyms of the normalized ID numbers (Chinese resident IDs, IINs) in a record.
    public static func matchingKeys(_ content: JSONValue, key: SecretBytes) throws -> Set<String> {
        try matchingKeys(identifiers(content), key: key)
    }

    /// The matching pseudonyms of every record that is not retracted and still has content.
    public static func matchingKeys(_ view: SyncView, key: SecretBytes) throws -> [String: Set<String>] {
        var keys: [String: Set<String>] = [:]
        for record in view.records where record.status != .retracted {
            if let content = record.content { keys[record.recordId] = try matchingKeys(content, key: key) }
        }
        return keys
    }

    /// Link assertions made with `amanat link` (links of kind same_person / different_person).
    public static func assertions(_ view: SyncView) -> [LinkAssertion] {
        var result: [LinkAssertion] = []
        for record in view.records {
            guard let content = record.content else { continue }
            for link in content["links"]?.arrayValue ?? [] {
                guard let other = link["recordId"]?.stringValue, let kind = link["kind"]?.stringValue else { continue }
                let relation: LinkAssertion.Relation
                switch kind {
                case "same_person": relation = .same
                case "different_person": relation = .different
                default: continue
                }
                result.append(
                    LinkAssertion(
                        recordA: record.recordId, recordB: other, relation: relation,
                        signer: record.heads.first?.signer ?? "",
                        issuedAt: 0))
            }
        }
        return result
    }
}
