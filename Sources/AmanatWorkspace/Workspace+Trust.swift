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
            throw unknownPartnerError(name, option: "trust remove")
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

extension Workspace {
    /// The error for a partner name that is not on the trust list: it suggests the closest accepted name (`Berlin` →
    /// `berlin`, `berln` → `berlin`) and lists every accepted one.
    /// - Parameters:
    ///   - value: what was typed.
    ///   - option: how the command took it (`-r`, `--take`, `trust remove`), for the message.
    ///   - also: other accepted spellings (`self`, this organization's name, "a fingerprint", "an age1… recipient").
    public func unknownPartnerError(_ value: String, option: String, also: [String] = []) -> AmanatError {
        let names = ((try? trustList().partners.map(\.name)) ?? []).sorted()
        var message = "\(option) '\(UntrustedText.printable(value))' is not a partner on the trust list."
        if let close = Self.closest(to: value, among: names) {
            message += " Did you mean '\(UntrustedText.printable(close))'?"
        }
        let accepted = names.map { "'\(UntrustedText.printable($0))'" } + also
        message +=
            accepted.isEmpty
            ? " The trust list is empty: add partners with `amanat trust add FILE --name NAME`."
            : " Accepted: \(accepted.joined(separator: ", ")) (see `amanat trust list`)."
        return AmanatError(.invalidRequest, message)
    }

    /// The candidate equal to `value` but for case, else the one within a small edit distance (at most 2, and less
    /// than a third of its length), else nil.
    public static func closest(to value: String, among candidates: [String]) -> String? {
        let lowered = value.lowercased()
        if let same = candidates.first(where: { $0.lowercased() == lowered }) { return same }
        let typed = Array(lowered)
        var best: (name: String, distance: Int)? = nil
        for candidate in candidates {
            let distance = editDistance(typed, Array(candidate.lowercased()))
            guard distance <= 2, distance * 3 < max(candidate.count, 1) else { continue }
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance of two short strings (names), in characters.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
