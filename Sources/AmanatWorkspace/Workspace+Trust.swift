import AmanatCrypto
import AmanatRecords
import Foundation

/// What adding to the trust list did.
public enum TrustChange: Sendable {
    /// A new partner was added.
    case added(TrustList.Entry)
    /// A partner already trusted may now retract and erase; its pending erasures took effect on this many records.
    case delegated(TrustList.Entry, erasedRecords: Int)
}

extension Workspace {
    /// Trusts a partner's verified public identity under `name` (default: its organization name).
    /// - Parameters:
    ///   - file: where the identity came from, for messages.
    ///   - mayRetract: the partner may retract and erase records it did not collect; for a partner already on the
    ///     list this adds the permission, and its erasure requests already in the store take effect.
    /// - Throws: ``AmanatError`` when the identity is this workspace's own, or the key or name is already trusted.
    public func trust(
        _ identity: PublicIdentity, from file: String, name: String?, mayRetract: Bool = false, now: Date = Date()
    ) throws -> TrustChange {
        let localName = (name ?? identity.organization).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !localName.isEmpty else {
            throw AmanatError(.invalidRequest, "the partner name is empty; pass --name NAME.")
        }
        guard try self.identity().fingerprint != identity.fingerprint else {
            throw AmanatError(
                .invalidRequest, "\(file) is this workspace's own identity; there is no need to trust it.")
        }
        var list = try trustList()
        if mayRetract, let index = list.partners.firstIndex(where: { $0.identity.fingerprint == identity.fingerprint }),
            list.partners[index].mayRetract != true
        {
            list.partners[index].mayRetract = true
            try save(list)
            return .delegated(list.partners[index], erasedRecords: try applyDelegation())
        }
        // Names come from identity files (an organization's name is the default): escaped in messages.
        if let existing = list.entry(fingerprint: identity.fingerprint) {
            let shown = UntrustedText.printable(existing.name)
            throw AmanatError(
                .malformedInput,
                "\(file): this key (fingerprint \(identity.fingerprint)) is already trusted as '\(shown)'. "
                    + "Nothing was changed. To rename it, `amanat trust remove \(shown)` first.")
        }
        if list.entry(named: localName) != nil {
            throw AmanatError(
                .invalidRequest,
                "a partner named '\(UntrustedText.printable(localName))' is already on the trust list with another key. Nothing was changed. "
                    + "Choose another name with --name.")
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let entry = TrustList.Entry(
            name: localName, identity: identity, addedAt: formatter.string(from: now),
            mayRetract: mayRetract ? true : nil)
        list.partners.append(entry)
        try save(list)
        if mayRetract { _ = try applyDelegation() }
        return .added(entry)
    }

    /// Removes the partner named `name` from the trust list.
    /// - Throws: ``AmanatError`` `invalidRequest` when there is none.
    public func distrust(_ name: String) throws -> TrustList.Entry {
        var list = try trustList()
        guard let index = list.partners.firstIndex(where: { $0.name == name }) else {
            throw AmanatError(
                .invalidRequest,
                "no partner named '\(UntrustedText.printable(name))' on the trust list; see `amanat trust list`.")
        }
        let removed = list.partners.remove(at: index)
        try save(list)
        return removed
    }

    /// Erasure requests of a new delegate that are already in the store take effect now.
    /// - Returns: how many records were erased.
    func applyDelegation() throws -> Int {
        guard FileManager.default.fileExists(atPath: storeURL.path) else { return 0 }
        let service = try RecordService(workspace: self)
        let erased = try service.store.applyErasures(authority: service.authority)
        if !erased.isEmpty { _ = try service.deleteErasedBlobs() }
        return erased.count
    }
}
