import AmanatCrypto
import AmanatLog
import AmanatPublish
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import Foundation

/// The per-record work of ``Workspace/publish(_:policy:to:mediaSpecs:batchSize:progress:onRecord:)``, done on
/// any core: choose (when the record was not named), verify, redact, sign the annotation and write both files.
struct PublishContext: Sendable {
    let store: Store
    let authority: Authority
    let keys: [String: Ed25519.VerifyingKey]
    let policy: PolicyFile
    let secrets: OrganizationSecrets
    /// Records were named: one the policy cannot present fails the run instead of being skipped.
    let explicit: Bool
    let issuedAt: Int
    /// The staging folder (nil on a dry run).
    let folder: PublicationFolder?
    let wantsMedia: Bool

    init(
        store: Store, authority: Authority, keys: [String: Ed25519.VerifyingKey], policy: PolicyFile,
        key: Ed25519.SigningKey, secrets: OrganizationSecrets, explicit: Bool, issuedAt: Int,
        folder: PublicationFolder?, wantsMedia: Bool
    ) {
        self.store = store
        self.authority = authority
        self.keys = keys
        self.policy = policy
        self.secrets = secrets
        self.explicit = explicit
        self.issuedAt = issuedAt
        self.folder = folder
        self.wantsMedia = wantsMedia
        annotations = Annotation.Signer(key: key)
        allowed = Set(policy.policy.consent.compactMap(Consent.init(rawValue:)))
        audience = Publisher.audience(policy.policy)
    }

    private let annotations: Annotation.Signer
    private let allowed: Set<Consent>
    private let audience: Authority.Audience

    /// A record to publish: one already chosen (named), or any record of the store, chosen here, or one the stored
    /// view already refuses.
    enum Input: Sendable {
        case selected(Publisher.Selected)
        case id(String)
        case refused(Publisher.Skipped)
    }

    /// A record of the store as `publish` takes it: refused from its stored state (the consent in force, status,
    /// erasure; ``AmanatSync/Authority/publicationRefusal(status:isErased:consent:allowed:audience:)``) without
    /// deriving it again, or left for ``process(_:_:)`` to derive and decide.
    func input(_ state: StoredRecordState) -> Input {
        if let why = Authority.publicationRefusal(
            status: state.status, isErased: state.isErased, consent: state.consent, allowed: allowed,
            audience: audience)
        {
            return .refused(Publisher.Skipped(record: state.recordId, reason: why))
        }
        return .id(state.recordId)
    }

    /// A published record with what the run keeps of it after its files are written.
    struct Made {
        var record: PublishedRecord
        var log: PublicationLogItem
        var media: Publisher.MediaSource?
    }

    enum Outcome {
        case skipped(Publisher.Skipped)
        case published(Made)
    }

    /// One core's tools: a verifier (not thread-safe) and a redactor whose pseudonym keys are derived once per kind.
    final class Worker {
        let verifier: RecordVerifier
        let redactor: Redactor

        /// The pseudonym keys derived so far, by kind (used by one thread only).
        private final class Keys {
            var byKind: [IdentifierKind: SecretBytes] = [:]
        }

        init(_ context: PublishContext) throws {
            verifier = try RecordVerifier()
            let policy = context.policy.policy
            let secrets = context.secrets
            let keys = Keys()
            redactor = Redactor(policy: policy) { kind in
                if let known = keys.byKind[kind] { return known }
                let derived = try secrets.pseudonymKey(purpose: policy.purpose, recipient: policy.recipient, kind: kind)
                keys.byKind[kind] = derived
                return derived
            }
        }
    }

    func makeWorker() throws -> Worker { try Worker(self) }

    /// Records read from the store a few at a time: ``process(_:_:onlyVersions:)`` for each of a run of `inputs`,
    /// the only versions of the records among them read first, in one transaction.
    func process(_ inputs: [Input], _ worker: Worker) throws -> [Outcome] {
        let ids = inputs.compactMap { input -> String? in if case .id(let id) = input { id } else { nil } }
        let only = try store.onlyVersions(ofRecords: ids)
        return try inputs.map { try process($0, worker, onlyVersions: only) }
    }

    /// - Parameter onlyVersions: the only version of each record that has just one, by record id, for `.id` inputs
    ///   (``AmanatStore/Store/onlyVersions(ofRecords:)``).
    func process(_ input: Input, _ worker: Worker, onlyVersions: [String: StoredVersion]) throws -> Outcome {
        let record: Publisher.Selected
        /// The record's only version, verified (and its disclosure map), when its view was derived from it.
        var only: (version: StoredVersion, verified: VerifiedVersion, map: DisclosureMap)?
        switch input {
        case .selected(let selected):
            record = selected
        case .refused(let skipped):
            return .skipped(skipped)
        case .id(let id):
            let view: RecordView
            if let version = onlyVersions[id], version.id == id, version.kind == .create {
                // Most records hold their first version only: the view is derived from it (its content as it
                // verifies), so that its history is not read a second time.
                let (verified, map) = try verify(version, worker)
                let node = VersionNode(
                    id: version.id, recordId: id, kind: version.kind, prev: version.prev, signer: version.signer,
                    issuedAt: version.issuedAt, content: verified.content)
                guard let derived = SyncView.derive(versions: [node], authority: authority)[id] else {
                    throw AmanatError(.inputMissing, "no record \(id) in the store. See `amanat list`.")
                }
                view = derived
                only = (version, verified, map)
            } else {
                guard let derived = try store.recordView(id, authority: authority) else {
                    throw AmanatError(.inputMissing, "no record \(id) in the store. See `amanat list`.")
                }
                view = derived
            }
            if let why = Authority.publicationRefusal(view, allowed: allowed, audience: audience) {
                return .skipped(Publisher.Skipped(record: id, reason: why))
            }
            // The single head (or the error naming the concurrent heads); the version read above when it is it.
            let head =
                try only.flatMap { view.heads.map(\.id) == [$0.version.id] ? $0.version : nil }
                ?? RecordService.singleHead(of: view, in: store)
            record = Publisher.Selected(head: head, view: view)
        }
        let version = record.head
        let (verified, map) =
            try only.flatMap { $0.version.id == version.id ? ($0.verified, $0.map) : nil } ?? verify(version, worker)
        var published: PublishedRecord
        do {
            published = try worker.redactor.apply(version.sdjwt, verified: verified, map: map)
        } catch let refusal as Redactor.Refusal {
            guard explicit else { return .skipped(Publisher.Skipped(record: version.recordId, reason: refusal.reason)) }
            throw AmanatError(
                .malformedInput,
                "record \(version.recordId) cannot be published under policy "
                    + "'\(UntrustedText.printable(policy.policy.name))': \(refusal.reason). Nothing was written.")
        } catch let error as SDJWTError {
            throw AmanatError(
                .verificationFailed, "record \(version.recordId): its stored version does not parse: \(error).")
        }
        // Authorship is the collector's; whoever signed later versions is named as an editor.
        guard let collector = record.view.collector else {
            throw AmanatError(
                .inputMissing,
                "record \(version.recordId): its first version is not in this store, so its collector "
                    + "cannot be shown. Nothing was written.")
        }
        published.collector = collector
        published.editors = record.view.editors
        if version.id != version.recordId { published.origin = try store.version(version.recordId).jwt }
        let overlaid = published.overlaid
        guard overlaid.isEmpty else {
            throw AmanatError(
                .malformedInput,
                "record \(version.recordId): the publisher values at \(overlaid.joined(separator: ", ")) would sit on "
                    + "values the presentation discloses (a bug in the redactor). Nothing was written.")
        }
        let bytes = Array((published.presentation.compact + "\n").utf8)
        if let folder {
            let annotation = try annotations.sign(
                published, policyName: policy.policy.name, policyHash: policy.sha256, issuedAt: issuedAt)
            try folder.write(PublicationIndex.presentationName(published), bytes)
            try folder.write(PublicationIndex.annotationName(published), Array((annotation + "\n").utf8))
        }
        let media =
            wantsMedia
            ? Publisher.MediaSource(
                recordId: published.recordId, versionId: published.versionId, content: verified.content,
                signedAttachments: verified.attachments) : nil
        return .published(
            Made(
                record: published,
                log: PublicationLogItem(
                    record: published.recordId, digest: try SHA256.hash(bytes),
                    version: (version.id, version.signer, Store.logEntry(for: version))),
                media: media))
    }
}

extension PublishContext {
    /// The version verified against the trust list, and its disclosure map (made from what the verifier parsed).
    func verify(_ version: StoredVersion, _ worker: Worker) throws -> (VerifiedVersion, DisclosureMap) {
        do {
            return try worker.verifier.verifyMapping(version.sdjwt, trustedKey: { keys[$0] })
        } catch let error as SDJWTError {
            throw AmanatError(
                .verificationFailed, "version \(version.id) of record \(version.recordId) does not verify: \(error).")
        }
    }
}

/// The entries of `index.json` while the records are made: a file in a hidden folder beside the output, removed
/// when the run ends.
final class IndexSpill {
    private let staging: StagingDirectory
    private let handle: FileHandle
    private let path: String
    private var count = 0

    init(beside target: URL) throws {
        staging = try StagingDirectory(beside: target, label: "index.partial")
        path = staging.url.appendingPathComponent("entries").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw AmanatError(.cannotCreateOutput, "cannot create a temporary file beside \(target.path).")
        }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw AmanatError(.cannotCreateOutput, "cannot create a temporary file beside \(target.path).")
        }
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Adds an entry (``PublicationIndex/prettyEntry(_:)``).
    func append(_ entry: String) throws {
        do {
            try handle.write(contentsOf: Data(((count == 0 ? "" : ",\n") + entry).utf8))
        } catch {
            throw AmanatError(.ioError, "cannot write \(path): \(error.localizedDescription).")
        }
        count += 1
    }

    /// Hands the entries, in order, to `write`.
    func copy(to write: (UnsafeRawBufferPointer) throws -> Void) throws {
        do {
            try handle.seek(toOffset: 0)
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { try write($0) }
            }
        } catch let error as AmanatError {
            throw error
        } catch {
            throw AmanatError(.ioError, "cannot read \(path): \(error.localizedDescription).")
        }
    }
}
