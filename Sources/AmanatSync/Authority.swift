import AmanatRecords

/// A record's consent (`testimony.consent`, Specs/records.md), ordered from the most restrictive.
public enum Consent: String, Sendable, Hashable, Comparable, CaseIterable {
    /// Kept by the collecting organization only: never sealed, never published.
    case `internal`
    /// May go to named partners; never published.
    case partners
    /// May be published as a redacted public version.
    case `public`

    var rank: Int {
        switch self {
        case .internal: return 0
        case .partners: return 1
        case .public: return 2
        }
    }

    public static func < (a: Consent, b: Consent) -> Bool { a.rank < b.rank }

    /// The consent a record's content states, or nil when it states none (a tombstone, an erased version).
    public init?(content: JSONValue?) {
        guard let text = content?["testimony"]?["consent"]?.stringValue else { return nil }
        // A value outside the enum never passed validation; if one is met anyway it counts as the strictest.
        self = Consent(rawValue: text) ?? .internal
    }
}

/// A raise of consent signed by an organization that is not the record's collector: kept, never applied, until
/// the collector signs the same value itself (`amanat consent RECORD --accept`).
public struct ConsentProposal: Sendable, Hashable {
    /// The head that proposes it.
    public var versionId: String
    /// The fingerprint of the organization that signed it.
    public var signer: String
    /// The consent it states.
    public var proposed: Consent
    /// The consent in force for that head (the ceiling).
    public var ceiling: Consent
}

/// Who may do what with a record (Specs/authority.md). The one place these rules are decided: the derived view,
/// the store's erasures, sealing and publishing all ask it.
///
/// - Consent is a ceiling set by the record's **collector** (the organization that signed its `create` version):
///   only the collector raises it; anyone may lower it; a raise by anyone else is a ``ConsentProposal``.
/// - A retraction or erasure takes effect only when signed by the collector or by a **delegate** (an organization
///   the local trust list marks `--may-retract`); from anyone else it is a pending request, invisible to the view.
public struct Authority: Sendable, Hashable {
    /// Fingerprints of organizations allowed to retract and erase records they did not collect.
    public var delegates: Set<String>

    public init(delegates: Set<String> = []) { self.delegates = delegates }

    /// Only collectors retract and erase their own records: the rule every store applies without local settings
    /// (the state hash is computed under it).
    public static let collectorOnly = Authority()

    /// Whether a retraction or erasure signed by `signer` takes effect on a record collected by `collector`
    /// (nil when the record's `create` version is not present, so the collector is unknown).
    public func mayRetract(signer: String, collector: String?) -> Bool {
        (collector != nil && signer == collector) || delegates.contains(signer)
    }

    /// The versions of one record (sorted by id) as the view sees them: retractions this authority does not
    /// allow are removed, and a version naming one as a parent names its parents instead, so a refused request
    /// changes nothing. Also returns the refused requests that are still heads (nothing names them): the pending
    /// requests the collector may act on.
    public func visibleVersions(
        _ versions: [VersionNode], recordId: String
    ) -> (
        visible: [VersionNode], pending: [VersionNode]
    ) {
        guard versions.contains(where: { $0.kind == .retract }) else { return (versions, []) }
        let collector = versions.first { $0.id == recordId }?.signer
        var refused: [String: [String]] = [:]
        for v in versions where v.kind == .retract && !mayRetract(signer: v.signer, collector: collector) {
            refused[v.id] = v.prev
        }
        guard !refused.isEmpty else { return (versions, []) }
        var named = Set<String>()
        for v in versions { named.formUnion(v.prev) }
        var visible: [VersionNode] = []
        var pending: [VersionNode] = []
        for v in versions {
            if refused[v.id] != nil {
                if !named.contains(v.id) { pending.append(v) }
                continue
            }
            var node = v
            if node.prev.contains(where: { refused[$0] != nil }) {
                var out = Set<String>()
                var seen = Set<String>()
                var stack = node.prev
                while let p = stack.popLast() {
                    guard seen.insert(p).inserted else { continue }
                    if let further = refused[p] { stack += further } else { out.insert(p) }
                }
                node.prev = out.sorted(by: utf8Less)
            }
            visible.append(node)
        }
        return (visible, pending)
    }

    // MARK: Editing

    /// What an edit does to a record's consent.
    public enum ConsentEdit: Sendable, Hashable {
        case unchanged, lowered
        /// Raised by the collector, with fresh consent recorded.
        case raised
        /// Raised by someone else: signed and exchanged, but only a proposal until the collector accepts it.
        case proposed
    }

    /// An edit the rules refuse.
    public enum EditRefusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// The collector raises consent without saying, in `testimony.consentNote`, how the new consent was given.
        case raiseWithoutFreshConsent(from: Consent, to: Consent)

        public var description: String {
            switch self {
            case .raiseWithoutFreshConsent(let from, let to):
                return "raising consent from '\(from.rawValue)' to '\(to.rawValue)' needs fresh consent from the "
                    + "testifier: write how and when it was given in testimony.consentNote"
            }
        }
    }

    /// Decides an edit that changes consent from `current` (in force) to `new` (what the edit states).
    /// - Parameters:
    ///   - byCollector: the editing organization is the record's collector.
    ///   - consentNoteChanged: the edit changes `testimony.consentNote`.
    /// - Throws: ``EditRefusal`` when the collector raises consent without recording fresh consent.
    public static func consentEdit(
        from current: Consent, to new: Consent, byCollector: Bool, consentNoteChanged: Bool
    ) throws(EditRefusal) -> ConsentEdit {
        if new == current { return .unchanged }
        if new < current { return .lowered }
        guard byCollector else { return .proposed }
        guard consentNoteChanged else { throw .raiseWithoutFreshConsent(from: current, to: new) }
        return .raised
    }

    // MARK: Sharing

    /// Why a record may not go to partners in a bundle, or nil when it may. Erased records always may: they hold
    /// no personal data and their erasure must reach every partner. An `internal` record goes only to recipients
    /// that already hold it (`recipientsHoldIt`), so that a lowering to `internal` reaches the partners who must
    /// now honour it; nobody new ever receives it.
    public static func sealRefusal(_ record: RecordView, recipientsHoldIt: Bool = false) -> String? {
        sealRefusal(isErased: record.isErased, consent: record.consent, recipientsHoldIt: recipientsHoldIt)
    }

    /// ``sealRefusal(_:recipientsHoldIt:)`` from what the stored view keeps of a record.
    public static func sealRefusal(isErased: Bool, consent: Consent, recipientsHoldIt: Bool = false) -> String? {
        if isErased { return nil }
        if consent == .internal && !recipientsHoldIt {
            return "its consent is 'internal': it never leaves this organization"
        }
        return nil
    }

    /// Who a redacted version is written for.
    public enum Audience: Sendable, Hashable {
        /// Anyone: a publication (policy purpose `publication`).
        case everyone
        /// One named partner (policy purpose `exchange`): partners records may go, redacted, to partners.
        case partner
    }

    /// Why a record may not be published under a policy that lists `allowed` consents for `audience`, or nil.
    public static func publicationRefusal(
        _ record: RecordView, allowed: Set<Consent>, audience: Audience
    ) -> String? {
        publicationRefusal(
            status: record.status, isErased: record.isErased, consent: record.consent, allowed: allowed,
            audience: audience)
    }

    /// ``publicationRefusal(_:allowed:audience:)`` from what the stored view keeps of a record.
    public static func publicationRefusal(
        status: RecordStatus, isErased: Bool, consent: Consent, allowed: Set<Consent>, audience: Audience
    ) -> String? {
        if status == .retracted { return "it is retracted" }
        if isErased { return "it was erased" }
        switch consent {
        case .internal:
            return "its consent is 'internal': it may never be published or shared"
        case .partners where audience == .everyone:
            return "its consent is 'partners': it may go to partners but is never published"
        default:
            break
        }
        guard allowed.contains(consent) else {
            return "its consent is '\(consent.rawValue)' and the policy publishes only records with consent "
                + allowed.map(\.rawValue).sorted().joined(separator: " or ")
        }
        return nil
    }
}

extension RecordGraph {
    /// The consent in force for every version (by index): the collector's versions set it, anyone else's can only
    /// lower what their parents had; a version whose history here is incomplete, by someone other than the
    /// collector, is held at `internal` until the history arrives (fail closed).
    func effectiveConsents(collector: String?) -> [Consent] {
        var result = [Consent?](repeating: nil, count: versions.count)
        for start in versions.indices where result[start] == nil {
            var stack: [(Int, Bool)] = [(start, false)]
            while let (i, expanded) = stack.popLast() {
                if result[i] != nil { continue }
                if !expanded {
                    stack.append((i, true))
                    for p in parents[i] where result[p] == nil { stack.append((p, false)) }
                    continue
                }
                let v = versions[i]
                let own = v.kind == .retract ? nil : Consent(content: v.content)
                let inherited = parents[i].compactMap { result[$0] }.min()
                let complete = parents[i].count == Set(v.prev).count
                if v.kind == .create && v.id == recordId {
                    result[i] = own ?? .internal
                } else if let collector, v.signer == collector {
                    result[i] = own ?? inherited ?? .internal
                } else {
                    let base = complete ? (inherited ?? .internal) : .internal
                    result[i] = min(own ?? base, base)
                }
            }
        }
        return result.map { $0 ?? .internal }
    }
}

extension JSONValue {
    /// The content with `testimony.consent` lowered to `ceiling` where it states more.
    public func cappingConsent(at ceiling: Consent) -> JSONValue {
        guard let stated = Consent(content: self), ceiling < stated, let testimony = self["testimony"] else {
            return self
        }
        return setting("testimony", testimony.setting("consent", .string(ceiling.rawValue)))
    }
}
