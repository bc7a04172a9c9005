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

    /// Bundle inputs for the versions (in record batches) and the attachments stored here, plus this store's
    /// summary and the partners' bundles to acknowledge. Versions of records that may not leave this organization
    /// (consent `internal`) are left out and listed in ``RecordBundleContents/withheldRecords``.
    /// `partners` are the recipients' fingerprints; `anonymousRecipients` says whether some recipient is a bare
    /// `age1…` key (nobody can tell what it holds).
    public func bundleContents(
        versionIds: [String], partners: [String], anonymousRecipients: Bool = false
    ) throws -> RecordBundleContents {
        let counts = try store.viewCounts(authority: authority)
        var contents = RecordBundleContents(
            summary: .init(records: counts.records, versions: counts.versions, stateHash: try store.stateHash()))
        // Each record's stored state and whether the recipients hold it, read once per record.
        var states: [String: (state: StoredRecordState?, held: Bool)] = [:]
        var blobs = Set<String>()
        var records = Set<String>()
        var withheld = Set<String>()
        var compact: [String] = []
        var included: [String] = []
        for id in versionIds {
            let version = try store.version(id)
            if states[version.recordId] == nil {
                if states.count > 4096 { states.removeAll(keepingCapacity: true) }
                states[version.recordId] = (
                    try store.recordState(version.recordId, authority: authority),
                    try recipientsHold(version.recordId, partners, anonymous: anonymousRecipients)
                )
            }
            guard let (state, held) = states[version.recordId], let record = state,
                Authority.sealRefusal(isErased: record.isErased, consent: record.consent, recipientsHoldIt: held)
                    == nil
            else {
                withheld.insert(version.recordId)
                continue
            }
            included.append(id)
            compact.append(version.sdjwt.compact)
            blobs.formUnion(version.attachments)
            records.insert(version.recordId)
        }
        contents.inputs = BundleInput.recordBatches(compact)
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
