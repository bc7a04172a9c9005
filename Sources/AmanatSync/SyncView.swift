import AmanatRecords

/// The state of one record in the derived view.
///
/// When several apply, the first in this order wins: `conflict`, `retracted`, `incomplete`, `clean` (a conflict is
/// never hidden; ``RecordView/missingParents`` still tells about incomplete history).
public enum RecordStatus: String, Sendable, Hashable, CaseIterable {
    /// One head, or several whose content is equal or merges without conflict.
    case clean
    /// Heads that changed a field differently, or a retraction concurrent with an edit.
    case conflict
    /// Every head is a `retract` version.
    case retracted
    /// Some version names a parent that is absent.
    case incomplete
}

/// A head of a record.
public struct HeadInfo: Sendable, Hashable {
    /// The head's version id.
    public var id: String
    /// Its kind (a `retract` head beside another kind is a retraction conflict).
    public var kind: VersionKind
    /// The organization fingerprint that signed it.
    public var signer: String
}

/// A `retract` head concurrent with a head that is not a retraction: a record-level conflict.
public struct RetractionConflict: Sendable, Hashable {
    /// The retracting heads (ids, sorted).
    public var retractions: [String]
    /// The other heads (ids, sorted).
    public var edits: [String]
}

/// What a person's resolution makes: the merge (or retract) version to sign.
public struct RecordResolution: Sendable, Hashable {
    public var recordId: String
    /// `merge`, or `retract` when the resolution retracts the record.
    public var kind: VersionKind
    /// Every head, sorted: the new version's `prev`.
    public var parents: [String]
    /// The content the new version carries.
    public var content: JSONValue?
    /// How each conflicting field was decided (empty for a retraction or a clean merge).
    public var decisions: [MergeDecision]
}

/// Whether a resolution keeps or retracts a record whose retraction is concurrent with an edit.
public enum RetractionDecision: Sendable, Hashable {
    case keep, retract
}

/// One record of the derived view.
public struct RecordView: Sendable, Hashable {
    public let recordId: String
    public let status: RecordStatus
    /// The heads the view works with (``RecordGraph/effectiveHeads``), sorted by id.
    public let heads: [HeadInfo]
    /// Heads set aside because they may be ancestors of a missing version (``RecordGraph/setAsideHeads``).
    public let setAsideHeads: [String]
    /// The current content: the heads' content when they agree, otherwise the automatic merge preview (conflicting
    /// fields at their base value). nil when erased.
    public let content: JSONValue?
    /// Field conflicts of the automatic merge, in document order.
    public let conflicts: [FieldConflict]
    /// Set when a retraction is concurrent with an edit.
    public let retractionConflict: RetractionConflict?
    /// Absent parents named by the record's versions, sorted.
    public let missingParents: [String]
    /// How many versions of the record the store holds.
    public let versionCount: Int
    /// The ids of those versions, sorted (UTF-8 byte order); set by ``SyncView/derive(versions:policy:authority:)``.
    public internal(set) var versionIds: [String] = []
    /// True when the heads' contents differ and the preview merged them without a field conflict: a person may
    /// accept it (`resolve --accept`), which writes the merge version.
    public let isAutoMerged: Bool
    /// The content of each retract head, kept only when there is a retraction conflict.
    let retractHeadContents: [String: JSONValue?]
    /// The collector: the organization that signed the `create` version (nil while that version is absent).
    public let collector: String?
    /// Every other organization that signed a version of the record (editors, resolvers), sorted.
    public let editors: [String]
    /// The consent in force (``Authority``): the most restrictive over the heads, each capped by what the
    /// collector allowed. ``content`` states no more than this.
    public let consent: Consent
    /// Raises of consent by organizations other than the collector, kept but not applied.
    public let consentProposals: [ConsentProposal]
    /// Retractions and erasure requests from organizations without the authority to make them, not acted on:
    /// they wait for the collector (`amanat retract` / `amanat erase` there names them as parents).
    public let pendingRequests: [HeadInfo]

    /// The head ids, sorted.
    public var headIds: [String] { heads.map(\.id) }
    /// True when the record needs a person's decision.
    public var isInConflict: Bool { status == .conflict }
    /// True when the current content is gone (erased). A record of which only refused requests are held is not.
    public var isErased: Bool { content == nil && !heads.isEmpty }
    /// The automatic merge as a ``MergeResult``.
    public var mergeResult: MergeResult { MergeResult(content: content, conflicts: conflicts) }

    /// Builds the view of one record from its graph (the versions ``Authority/visibleVersions(_:recordId:)``
    /// left; `pending` are the requests it set aside and `versionCount` counts them too).
    public init(
        graph: RecordGraph, policy: MergePolicy = .amanatRecord, pending: [VersionNode] = [], versionCount: Int? = nil
    ) {
        let heads = graph.effectiveHeads
        var content: JSONValue?
        var conflicts: [FieldConflict] = []
        var autoMerged = false
        if let first = heads.first {
            if heads.dropFirst().allSatisfy({ $0.content == first.content }) {
                content = first.content
            } else {
                let merged = graph.mergeHeads(policy: policy)
                content = merged.content
                conflicts = merged.conflicts
                autoMerged = merged.isClean
            }
        }
        let collector = graph.version(graph.recordId)?.signer
        let consents = graph.effectiveConsents(collector: collector)
        var consent: Consent?
        var proposals: [ConsentProposal] = []
        for i in graph.effectiveHeadIndices {
            let v = graph.versions[i]
            consent = min(consent ?? consents[i], consents[i])
            if v.kind != .retract, let own = Consent(content: v.content), own > consents[i] {
                proposals.append(
                    ConsentProposal(versionId: v.id, signer: v.signer, proposed: own, ceiling: consents[i]))
            }
        }
        var signers = Set(graph.versions.map(\.signer))
        if let collector { signers.remove(collector) }
        self.init(
            recordId: graph.recordId, heads: heads, content: content, conflicts: conflicts, autoMerged: autoMerged,
            missingParents: graph.missingParents, setAsideHeads: graph.setAsideHeads,
            versionCount: versionCount ?? graph.versions.count,
            authorship: .init(
                collector: collector, editors: signers.sorted(by: utf8Less), consent: consent ?? .internal,
                proposals: proposals, pending: pending))
    }

    /// Who made a record and what it may be used for, as ``Authority`` decided.
    struct Authorship {
        var collector: String?
        var editors: [String]
        var consent: Consent
        var proposals: [ConsentProposal]
        var pending: [VersionNode]
    }

    init(
        recordId: String, heads: [VersionNode], content: JSONValue?, conflicts: [FieldConflict], autoMerged: Bool,
        missingParents: [String], setAsideHeads: [String], versionCount: Int, authorship: Authorship
    ) {
        self.recordId = recordId
        self.setAsideHeads = setAsideHeads
        self.heads = heads.map { HeadInfo(id: $0.id, kind: $0.kind, signer: $0.signer) }
        self.content = content?.cappingConsent(at: authorship.consent)
        collector = authorship.collector
        editors = authorship.editors
        consent = authorship.consent
        consentProposals = authorship.proposals
        pendingRequests = authorship.pending.map { HeadInfo(id: $0.id, kind: $0.kind, signer: $0.signer) }
        self.conflicts = conflicts
        self.missingParents = missingParents
        self.versionCount = versionCount
        self.isAutoMerged = autoMerged
        let retracting = heads.filter { $0.kind == .retract }.map(\.id)
        let editing = heads.filter { $0.kind != .retract }.map(\.id)
        if !retracting.isEmpty && !editing.isEmpty {
            retractionConflict = RetractionConflict(retractions: retracting, edits: editing)
            var contents: [String: JSONValue?] = [:]
            for h in heads where h.kind == .retract { contents[h.id] = .some(h.content) }
            retractHeadContents = contents
        } else {
            retractionConflict = nil
            retractHeadContents = [:]
        }
        if !conflicts.isEmpty || retractionConflict != nil {
            status = .conflict
        } else if !heads.isEmpty && editing.isEmpty {
            status = .retracted
        } else if !missingParents.isEmpty || heads.isEmpty {
            status = .incomplete
        } else {
            status = .clean
        }
    }

    /// The version a person's decision makes. Its parents are all the heads.
    ///
    /// - A clean record with several heads (``isAutoMerged``, or equal content) needs no choices: the `--accept` case.
    /// - With a ``retractionConflict``, `retraction` says whether to retract; if nil, `fallback` decides: a retract
    ///   head's version id (or an organization whose heads are all retractions) retracts, another head keeps the
    ///   record. A retraction carries the content of the chosen retract head (the lowest id if none is named).
    /// - Otherwise (and when kept) every field conflict is decided by `choices[path] ?? fallback`.
    /// - Throws: ``SyncError``: `nothingToMerge` with fewer than two heads, `retractionUndecided`, and the errors of
    ///   ``MergeResult/resolved(choices:fallback:)``.
    public func resolve(
        choices: [String: FieldChoice] = [:], fallback: FieldChoice? = nil, retraction: RetractionDecision? = nil
    ) throws
        -> RecordResolution
    {
        guard heads.count > 1 else { throw SyncError.nothingToMerge(recordId: recordId) }
        var retractHead: String?
        var decision = retraction
        if let rc = retractionConflict {
            switch fallback {
            case .version(let id):
                guard heads.contains(where: { $0.id == id }) else {
                    throw SyncError.noSuchVersion(path: "", versionId: id)
                }
                if rc.retractions.contains(id) {
                    retractHead = id
                    if decision == nil { decision = .retract }
                } else if decision == nil {
                    decision = .keep
                }
            case .signer(let fingerprint):
                let mine = heads.filter { $0.signer == fingerprint }
                guard !mine.isEmpty else { throw SyncError.noSuchSigner(path: "", signer: fingerprint) }
                let retracts = mine.filter { $0.kind == .retract }
                if retracts.count == mine.count {
                    retractHead = retracts[0].id
                    if decision == nil { decision = .retract }
                } else if retracts.isEmpty {
                    if decision == nil { decision = .keep }
                } else if decision == nil {
                    throw SyncError.ambiguousSigner(path: "", signer: fingerprint)
                }
            default:
                break
            }
            guard let decision else { throw SyncError.retractionUndecided(recordId: recordId) }
            if decision == .retract {
                let id = retractHead ?? rc.retractions[0]
                let retracted = retractHeadContents[id] ?? nil
                return RecordResolution(
                    recordId: recordId, kind: .retract, parents: headIds, content: retracted, decisions: [])
            }
        }
        let allRetract = heads.allSatisfy { $0.kind == .retract }
        let (merged, decisions) = try mergeResult.resolved(choices: choices, fallback: fallback)
        return RecordResolution(
            recordId: recordId, kind: allRetract ? .retract : .merge, parents: headIds, content: merged,
            decisions: decisions)
    }

}

/// The view derived from the set of versions alone: heads, merges, conflicts, counts.
public struct SyncView: Sendable {
    /// Global counts.
    public struct Counts: Sendable, Hashable {
        /// Records (distinct record ids).
        public var records = 0
        /// Distinct versions.
        public var versions = 0
        /// Records with status `clean`.
        public var clean = 0
        /// Records in conflict.
        public var conflicts = 0
        /// Records with status `retracted`.
        public var retracted = 0
        /// Records with status `incomplete`.
        public var incomplete = 0
        /// Records without content (erased).
        public var erased = 0
        /// Clean records whose heads differ and merged automatically (waiting for `--accept`).
        public var autoMerged = 0
        /// Conflicting fields over all records (a retraction conflict counts as one).
        public var fieldConflicts = 0
        /// Distinct missing parent ids over all records.
        public var missingParents = 0
        /// Retraction and erasure requests waiting for the collector (``RecordView/pendingRequests``).
        public var pendingRequests = 0
        /// Consent raises waiting for the collector (``RecordView/consentProposals``).
        public var consentProposals = 0

        public init() {}

        /// Adds the counts of other records (views of disjoint sets of records add up).
        public static func += (a: inout Counts, b: Counts) {
            a.records += b.records
            a.versions += b.versions
            a.clean += b.clean
            a.conflicts += b.conflicts
            a.retracted += b.retracted
            a.incomplete += b.incomplete
            a.erased += b.erased
            a.autoMerged += b.autoMerged
            a.fieldConflicts += b.fieldConflicts
            a.missingParents += b.missingParents
            a.pendingRequests += b.pendingRequests
            a.consentProposals += b.consentProposals
        }
    }

    /// Every record, sorted by id.
    public let records: [RecordView]
    /// Every version id, sorted, without duplicates.
    public let versionIds: [String]
    public let counts: Counts
    /// The rule the view was derived under (which retractions and erasures took effect).
    public let authority: Authority
    let recordIndex: [String: Int]

    /// The record with this id.
    public subscript(recordId: String) -> RecordView? {
        recordIndex[recordId].map { records[$0] }
    }

    /// The records in conflict, sorted by id.
    public var conflicted: [RecordView] { records.filter(\.isInConflict) }

    /// Derives the view from a set of versions given in any order (duplicates by id are ignored), so importing in
    /// any order, any number of times, gives the same view.
    ///
    /// `authority` decides which retractions and erasures take effect (``Authority/visibleVersions(_:recordId:)``);
    /// the default, collectors only, needs no local settings, so every store derives the same view.
    public static func derive(
        versions: [VersionNode], policy: MergePolicy = .amanatRecord, authority: Authority = .collectorOnly
    ) -> SyncView {
        var order = Array(versions.indices)
        order.sort { utf8Less(versions[$0].id, versions[$1].id) }
        var ids: [String] = []
        ids.reserveCapacity(order.count)
        var groups: [String: [Int]] = [:]
        for i in order {
            let v = versions[i]
            if let last = ids.last, last == v.id { continue }
            ids.append(v.id)
            groups[v.recordId, default: []].append(i)
        }
        let recordIds = groups.keys.sorted(by: utf8Less)
        var records: [RecordView] = []
        records.reserveCapacity(recordIds.count)
        var index: [String: Int] = [:]
        index.reserveCapacity(recordIds.count)
        var counts = Counts()
        counts.versions = ids.count
        for rid in recordIds {
            let members = groups[rid] ?? []
            var view: RecordView
            if members.count == 1 {
                view = RecordView(single: versions[members[0]], authority: authority)
            } else {
                let (visible, pending) = authority.visibleVersions(members.map { versions[$0] }, recordId: rid)
                if visible.isEmpty {
                    view = RecordView(onlyRequests: pending, recordId: rid, versionCount: members.count)
                } else {
                    view = RecordView(
                        graph: RecordGraph(sortedUnique: visible), policy: policy, pending: pending,
                        versionCount: members.count)
                }
            }
            view.versionIds = members.map { versions[$0].id }
            index[rid] = records.count
            records.append(view)
            switch view.status {
            case .clean: counts.clean += 1
            case .conflict: counts.conflicts += 1
            case .retracted: counts.retracted += 1
            case .incomplete: counts.incomplete += 1
            }
            if view.isErased { counts.erased += 1 }
            counts.pendingRequests += view.pendingRequests.count
            counts.consentProposals += view.consentProposals.count
            if view.isAutoMerged { counts.autoMerged += 1 }
            counts.fieldConflicts += view.conflicts.count + (view.retractionConflict == nil ? 0 : 1)
            counts.missingParents += view.missingParents.count
        }
        counts.records = records.count
        return SyncView(records: records, versionIds: ids, counts: counts, authority: authority, recordIndex: index)
    }
}

extension RecordView {
    /// A record with one version (the common case, without building a graph).
    init(single v: VersionNode, authority: Authority) {
        var missing = v.prev.sorted(by: utf8Less)
        missing.removeDuplicatesInSorted()
        let isCreate = v.kind == .create && v.id == v.recordId
        let collector = isCreate ? v.signer : nil
        if v.kind == .retract, !authority.mayRetract(signer: v.signer, collector: collector) {
            self.init(onlyRequests: [v], recordId: v.recordId, versionCount: 1)
            return
        }
        // Without the create version nobody can be shown to be the collector: held at internal (fail closed).
        let consent = isCreate ? Consent(content: v.content) ?? .internal : .internal
        var proposals: [ConsentProposal] = []
        if v.kind != .retract, let own = Consent(content: v.content), own > consent {
            proposals.append(ConsentProposal(versionId: v.id, signer: v.signer, proposed: own, ceiling: consent))
        }
        self.init(
            recordId: v.recordId, heads: [v], content: v.content, conflicts: [], autoMerged: false,
            missingParents: missing, setAsideHeads: [], versionCount: 1,
            authorship: .init(
                collector: collector, editors: isCreate ? [] : [v.signer], consent: consent, proposals: proposals,
                pending: []))
    }

    /// A record of which this store holds only requests nobody had the authority to make.
    init(onlyRequests pending: [VersionNode], recordId: String, versionCount: Int) {
        var missing = Array(Set(pending.flatMap(\.prev))).sorted(by: utf8Less)
        missing.removeDuplicatesInSorted()
        self.init(
            recordId: recordId, heads: [], content: nil, conflicts: [], autoMerged: false, missingParents: missing,
            setAsideHeads: [], versionCount: versionCount,
            authorship: .init(
                collector: nil, editors: Array(Set(pending.map(\.signer))).sorted(by: utf8Less), consent: .internal,
                proposals: [], pending: pending))
    }
}

extension Array where Element == String {
    mutating func removeDuplicatesInSorted() {
        guard count > 1 else { return }
        var out: [String] = [self[0]]
        for s in dropFirst() where s != out[out.count - 1] { out.append(s) }
        self = out
    }
}
