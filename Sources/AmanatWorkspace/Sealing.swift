import AmanatBundle
import AmanatCrypto
import AmanatRecords
import Foundation

/// Which record versions go into a bundle.
public enum RecordSelection: Sendable, Hashable {
    /// None: plain files only.
    case none
    /// Every version of these records (ids or unique prefixes), with their attachments.
    case records([String])
    /// Every record in the store.
    case all
    /// The versions no recipient is known to hold yet (delta exchange).
    case sinceLast
}

/// What to seal, and for whom.
public struct SealRequest: Sendable {
    /// Plain files, sealed under their base names.
    public var files: [String]
    public var records: RecordSelection
    /// Trust-list names, public identity files or bare `age1…` recipients.
    public var recipients: [String]
    /// ASCII armor instead of binary.
    public var armor: Bool
    /// How many versions each record batch of the bundle holds (``BundleInput/recordBatch(number:size:read:)``).
    public var recordBatchSize = BundleInput.defaultRecordBatchSize

    public init(files: [String] = [], records: RecordSelection = .none, recipients: [String], armor: Bool = false) {
        self.files = files
        self.records = records
        self.recipients = recipients
        self.armor = armor
    }
}

/// What a bundle holds, once sealed.
public struct SealReport: Sendable {
    /// The signed manifest.
    public var manifest: BundleManifest
    /// The recipients, by organization name or `age1…` recipient.
    public var recipientNames: [String]
    /// Record versions and records included (nil when no records were asked for).
    public var versionCount: Int?
    public var recordCount: Int?
    /// Attachments the records list but this workspace does not hold (not in the bundle).
    public var missingAttachments: Int
    /// Records left out because they may not leave this organization (consent `internal`).
    public var withheldRecords: [String]
}

extension Workspace {
    /// Seals files and record versions for partners into a bundle written through `sink`.
    ///
    /// Everything is checked before the passphrase is asked for or a byte is written: recipients, file names,
    /// which records may leave (``AmanatSync/Authority``). What each partner was sent is recorded only after
    /// `commit` returns, so an interrupted bundle is never counted as delivered.
    /// - Parameters:
    ///   - sink: receives the bundle's bytes.
    ///   - commit: makes the written bundle final (renames the output into place).
    ///   - progress: bytes sealed so far, and the total.
    /// - Throws: ``AmanatError``.
    public func seal(
        _ request: SealRequest, sink: @escaping (UnsafeRawBufferPointer) throws -> Void, commit: () throws -> Void,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> SealReport {
        let recipientList = try resolveRecipients(request.recipients)
        let inputs = try request.files.map { try InputFile($0) }
        var names = Set<String>()
        for input in inputs {
            let name = URL(fileURLWithPath: input.path).lastPathComponent
            do { try BundleSealer.validateName(name) } catch let error as BundleError {
                throw AmanatError(.invalidRequest, "\(UntrustedText.printable(input.path)): \(error)")
            }
            guard names.insert(name).inserted else {
                throw AmanatError(
                    .invalidRequest,
                    "two files are named '\(UntrustedText.printable(name))'; a bundle holds files by name, so rename one."
                )
            }
        }
        // Checked; now the passphrase may be asked for. The signing key's scrypt runs on another thread while the
        // store key is unlocked and the records chosen.
        unlockSigningKeyAhead()
        defer { finishSigningKeyAhead() }
        var bundleInputs = inputs.map { file in
            BundleInput(name: URL(fileURLWithPath: file.path).lastPathComponent, size: file.size) { try file.read($0) }
        }
        var total = inputs.reduce(0) { $0 + $1.size }
        let partners = recipientList.compactMap(\.party.fingerprint)
        let anonymous = partners.count < recipientList.count
        var records: RecordBundleContents?
        var service: RecordService?
        if request.records != .none {
            let recordService = try RecordService(workspace: self)
            service = recordService
            let versionIds: [String]
            switch request.records {
            case .sinceLast:
                guard !partners.isEmpty, !anonymous else {
                    throw AmanatError(
                        .invalidRequest,
                        "--since-last needs partners from the trust list (or identity files), not bare age1… recipients."
                    )
                }
                versionIds = try recordService.unacknowledgedVersions(partners: partners)
            case .all:
                versionIds = try recordService.store.versionIdsByRecord()
            case .records(let names):
                let ids = try names.map { try recordService.resolve($0) }
                try recordService.checkSealable(ids, partners: partners, anonymousRecipients: anonymous)
                versionIds = try recordService.versionIds(ofRecords: ids)
            case .none:
                versionIds = []
            }
            let contents = try recordService.bundleContents(
                versionIds: versionIds, partners: partners, anonymousRecipients: anonymous,
                batchSize: request.recordBatchSize)
            bundleInputs += contents.inputs
            total += contents.attachmentBytes
            records = contents
        }
        // However sealing ends, no record batch is still being read when it returns.
        defer { records?.finishReading() }
        let key = try signingKey()
        // Every bundle carries proofs from the organization's log: its versions' and, after the manifest, the
        // manifest's own (Specs/log.md).
        let logStore = try service?.store ?? store()
        // The version proofs are staged encrypted (they can outgrow memory); the folder goes when sealing ends.
        let staging = try SealStaging(parent: dotFolder)
        defer { staging.remove() }
        let material = try BundleLog.sealMaterial(
            workspace: self, store: logStore, versionIds: records?.versionIds ?? [], partners: partners,
            staging: staging)
        // However sealing ends, the proofs are no longer being made when the staging folder goes.
        defer { material.finishProofs() }
        bundleInputs += material.inputs
        var checkpointSize: UInt64 = 0
        let manifest: BundleManifest
        do {
            manifest = try BundleSealer.seal(
                inputs: bundleInputs, sender: BundleSender(signingKey: key, identity: try identity()),
                recipients: recipientList, armor: request.armor, summary: records?.summary,
                acknowledges: records?.acknowledges, sink: sink,
                trailer: { jws in
                    let trailer = try BundleLog.trailer(
                        manifestJWS: jws, workspace: self, store: logStore, material: material, partners: partners)
                    checkpointSize = trailer.size
                    return trailer.bytes
                }, progress: { progress?($0, total) })
            try commit()
        } catch let error as BundleError {
            throw error.amanatError(file: "the bundle", workspace: self)
        }
        // What each partner was sent (its versions and the checkpoint proved), in one transaction after the commit.
        try logStore.recordSent(
            partners: partners, bundleId: manifest.bundleId, versions: records?.versionIds ?? [],
            checkpointSize: checkpointSize)
        return SealReport(
            manifest: manifest,
            recipientNames: recipientList.map { $0.party.organization ?? $0.party.ageRecipient ?? "?" },
            versionCount: records?.versionIds.count, recordCount: records?.recordCount,
            missingAttachments: records?.missingAttachments ?? 0, withheldRecords: records?.withheldRecords ?? [])
    }
}
