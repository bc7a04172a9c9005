import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

/// Record versions chosen for a bundle, with their attachments and the exchange facts that travel with them.
public struct RecordBundleContents {
    public var inputs: [BundleInput] = []
    public var versionIds: [String] = []
    public var recordCount = 0
    /// Bytes of the attachments included (for the progress bar).
    public var attachmentBytes: UInt64 = 0
    /// Attachments the records list but this workspace does not hold.
    public var missingAttachments = 0
    /// Records left out because they may not leave this organization (``Authority/sealRefusal(_:)``), sorted.
    public var withheldRecords: [String] = []
    public var summary: BundleManifest.Summary
    public var acknowledges: [String] = []
    /// Reads the record batches (the next one ahead of the sealer).
    var reader: RecordBatchReader?

    /// Waits for a record batch still being read ahead: call it when sealing ends, however it ends.
    public func finishReading() { reader?.finish() }
}

extension RecordService {
    /// The versions none of `partners` (fingerprints) is known to hold, sorted.
    public func unacknowledgedVersions(partners: [String]) throws -> [String] {
        var wanted = Set<String>()
        for fp in partners { wanted.formUnion(try store.unacknowledgedVersions(partner: fp)) }
        return wanted.sorted()
    }

    /// Every version of these records, record by record.
    public func versionIds(ofRecords records: [String]) throws -> [String] {
        var ids: [String] = []
        for id in Set(records).sorted() { ids += try store.versionIds(record: id) }
        return ids
    }

    /// How many version ids ``bundleContents(versionIds:partners:anonymousRecipients:batchSize:)`` reads at a time.
    static let sealChunk = 1000

    /// Bundle inputs for the versions (in record batches) and the attachments stored here, plus this store's
    /// summary and the partners' bundles to acknowledge. Versions of records that may not leave this organization
    /// (consent `internal`) are left out and listed in ``RecordBundleContents/withheldRecords``.
    /// `partners` are the recipients' fingerprints; `anonymousRecipients` says whether some recipient is a bare
    /// `age1…` key (nobody can tell what it holds).
    ///
    /// Memory does not follow the number of versions' contents: the versions are chosen a chunk at a time from
    /// their stored sizes and states, and each batch of `batchSize` versions is read and opened only when the sealer
    /// reaches it (the inputs read from this store while the bundle is sealed).
    public func bundleContents(
        versionIds: [String], partners: [String], anonymousRecipients: Bool = false,
        batchSize: Int = BundleInput.defaultRecordBatchSize
    ) throws -> RecordBundleContents {
        try bundleContents(
            versionIds: versionIds, partners: partners, anonymousRecipients: anonymousRecipients, batchSize: batchSize,
            chunk: Self.sealChunk)
    }

    /// ``bundleContents(versionIds:partners:anonymousRecipients:batchSize:)`` choosing `chunk` versions at a time.
    func bundleContents(
        versionIds: [String], partners: [String], anonymousRecipients: Bool, batchSize: Int, chunk: Int
    ) throws -> RecordBundleContents {
        let chunk = max(1, chunk)
        let counts = try store.viewCounts(authority: authority)
        var contents = RecordBundleContents(
            summary: .init(records: counts.records, versions: counts.versions, stateHash: try store.stateHash()))
        let batchSize = max(1, batchSize)
        var blobs = Set<String>()
        var records = Set<String>()
        var withheld = Set<String>()
        var included: [String] = []
        var batches: [(ids: Range<Int>, size: UInt64)] = []
        var batchStart = 0
        var batchBytes: UInt64 = 0
        let askPartners = !anonymousRecipients && !partners.isEmpty
        let chunks = stride(from: 0, to: versionIds.count, by: chunk).map {
            versionIds[$0..<min($0 + chunk, versionIds.count)]
        }
        let (store, authority) = (store, authority)
        // The chunks are chosen on every core, a few at a time (memory holds those chunks' facts), and taken in order.
        let group = 2 * ProcessInfo.processInfo.activeProcessorCount
        for first in stride(from: 0, to: chunks.count, by: group) {
            let plans = try OrderedParallel.map(
                Array(chunks[first..<min(first + group, chunks.count)]), minimumPerCore: 1, run: 1, makeWorker: {}
            ) { _, ids in
                try Self.sealPlan(ids, store: store, authority: authority, partners: askPartners ? partners : [])
            }
            for plan in plans {
                withheld.formUnion(plan.withheld)
                for version in plan.versions {
                    guard plan.leaves.contains(version.recordId) else {
                        withheld.insert(version.recordId)
                        continue
                    }
                    included.append(version.id)
                    records.insert(version.recordId)
                    batchBytes += UInt64(version.compactSize + 1)
                    if included.count - batchStart == batchSize {
                        batches.append((batchStart..<included.count, batchBytes))
                        batchStart = included.count
                        batchBytes = 0
                    }
                }
                blobs.formUnion(plan.blobs)
            }
        }
        if batchStart < included.count { batches.append((batchStart..<included.count, batchBytes)) }
        let reader = RecordBatchReader(store: store, batches: batches.map { (included[$0.ids], $0.size) })
        contents.reader = reader
        contents.inputs = batches.enumerated().map { number, batch in
            let source = RecordBatchSource(reader: reader, number: number)
            return BundleInput.recordBatch(number: number + 1, size: batch.size) { try source.read($0) }
        }
        contents.versionIds = included
        contents.withheldRecords = withheld.sorted()
        contents.recordCount = records.count
        for sha in blobs.sorted() {
            guard let blob = try openBlob(sha) else {
                contents.missingAttachments += 1
                continue
            }
            contents.attachmentBytes += blob.plaintextSize
            contents.inputs.append(.blob(sha256: sha, size: blob.plaintextSize) { try blob.read($0) })
        }
        for fp in partners { contents.acknowledges += try store.receivedBundles(partner: fp) }
        return contents
    }

    /// What one chunk of version ids contributes to a bundle: its sealable versions, the records among them that may
    /// leave (``Authority/sealRefusal(isErased:consent:recipientsHoldIt:)``; a record every one of `partners` holds or
    /// was sent may leave even when it could not otherwise), and the attachments of the versions that leave.
    struct SealPlan: Sendable {
        var versions: [SealableVersion]
        var leaves: Set<String>
        var blobs: Set<String>
        /// Records withheld whose only version is among the chunk (decided without reading its row; not in
        /// `versions`).
        var withheld: Set<String> = []
    }

    static func sealPlan(
        _ ids: ArraySlice<String>, store: Store, authority: Authority, partners: [String]
    ) throws -> SealPlan {
        // A version that is its record's only one, of a record that may not leave, is withheld without reading its
        // row: the same rule (``Authority/sealRefusal(isErased:consent:recipientsHoldIt:)``) on the same state, its
        // recipients holding the record exactly when each acknowledged or was sent that one version.
        let only = try store.onlyVersions(among: ids, authority: authority)
        // Their states are read once, here, and serve the full rule below too.
        var states = try store.sealingStates(only, authority: authority)
        var withheld = Set<String>()
        if !only.isEmpty {
            var refused = only.filter { record in
                guard let state = states[record] else { return false }
                return Authority.sealRefusal(isErased: state.isErased, consent: state.consent, recipientsHoldIt: false)
                    != nil
            }
            var heldByAll = partners.isEmpty ? Set<String>() : refused
            for fp in partners where !heldByAll.isEmpty {
                heldByAll.formIntersection(try store.versionsHeld(by: fp, among: heldByAll))
            }
            // Held by every recipient: the full rule decides below (it may leave).
            refused.subtract(heldByAll)
            withheld = refused
        }
        let versions = try store.sealableVersions(withheld.isEmpty ? Array(ids) : ids.filter { !withheld.contains($0) })
        let chunkRecords = Set(versions.map(\.recordId))
        let unread = chunkRecords.filter { states[$0] == nil && !only.contains($0) }
        states.merge(try store.sealingStates(unread, authority: authority)) { known, _ in known }
        func refusal(_ record: String, held: Bool) -> Bool {
            guard let state = states[record] else { return true }
            return Authority.sealRefusal(isErased: state.isErased, consent: state.consent, recipientsHoldIt: held)
                != nil
        }
        // Records every recipient holds or was sent: asked only of the records that could not leave otherwise.
        var heldByAll: Set<String> = partners.isEmpty ? [] : chunkRecords.filter { refusal($0, held: false) }
        for fp in partners where !heldByAll.isEmpty {
            heldByAll.formIntersection(try store.recordsHeld(by: fp, among: heldByAll))
        }
        let leaves = chunkRecords.filter { !refusal($0, held: heldByAll.contains($0)) }
        let blobs = try store.attachments(ofVersions: versions.lazy.filter { leaves.contains($0.recordId) }.map(\.id))
        return SealPlan(versions: versions, leaves: leaves, blobs: blobs, withheld: withheld)
    }

    /// Whether every recipient already holds (or was sent) the record.
    public func recipientsHold(_ recordId: String, _ partners: [String], anonymous: Bool) throws -> Bool {
        guard !anonymous, !partners.isEmpty else { return false }
        return try partners.allSatisfy { try store.partnerHolds(partner: $0, record: recordId) }
    }

    /// Checks that records named for a bundle may leave this organization.
    /// - Throws: ``AmanatError`` 64 naming the first that may not, and why.
    public func checkSealable(_ recordIds: [String], partners: [String], anonymousRecipients: Bool) throws {
        for id in recordIds {
            let holds = try recipientsHold(id, partners, anonymous: anonymousRecipients)
            if let why = Authority.sealRefusal(try view(id), recipientsHoldIt: holds) {
                throw AmanatError(.invalidRequest, "record \(id) cannot be sealed: \(why). Nothing was written.")
            }
        }
    }

    /// Remembers what each partner was sent in a bundle (for `--since-last`).
    public func recordSent(_ contents: RecordBundleContents, bundleId: String, partners: [String]) throws {
        guard !contents.versionIds.isEmpty else { return }
        for fp in partners { try store.recordSent(partner: fp, bundleId: bundleId, versions: contents.versionIds) }
    }

    /// Signs and stores the merge (or retraction) version a resolution decided, recording each field's decision.
    public func signResolution(_ resolution: RecordResolution, key: Ed25519.SigningKey) throws -> SignedVersion {
        let decisions = JSONValue.array(
            resolution.decisions.map { d in
                let how: String
                switch d.choice {
                case .version(let v): how = "version:" + v
                case .signer(let s): how = "organization:" + s
                case .value: how = "value"
                case .base: how = "base"
                }
                return .object([("path", .string(d.path)), ("decision", .string(how))])
            })
        let content = resolution.content ?? .object([("schema", .string("amanat-record/v1"))])
        let signed = try RecordSigner.sign(
            content: content.sortedKeys(), kind: resolution.kind, recordId: resolution.recordId,
            prev: resolution.parents, attachments: RecordContent.attachmentDigests(content), key: key,
            policy: .amanatRecord, extraClaims: [("merge", decisions)])
        try store.insert([try verifiedForStore(signed.sdjwt)], authority: authority)
        return signed
    }
}
