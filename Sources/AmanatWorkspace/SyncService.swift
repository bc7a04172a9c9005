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
}
