import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

/// Record operations shared by the commands: signing, verifying what the store holds, attachments.
public struct RecordService {
    public let workspace: Workspace
    public let store: Store
    /// Who may retract and erase here (the trust list's delegates), read once.
    public let authority: Authority

    public init(workspace: Workspace) throws {
        self.workspace = workspace
        store = try workspace.store()
        authority = try workspace.authority()
    }

    /// Signs and stores new records in one transaction; returns their ids in input order.
    /// - Parameter progress: records signed so far and how many there are (called from any thread).
    public func add(
        _ records: [JSONValue], key: Ed25519.SigningKey, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> [String] {
        // Each record is signed and verified again on any core; the store write is one transaction.
        let keys = try workspace.trustedKeys()
        let counter = ProgressCounter(total: records.count, report: progress)
        let versions = try OrderedParallel.map(records, makeWorker: { try RecordVerifier() }) { verifier, content in
            defer { counter.advance() }
            let signed = try RecordSigner.sign(
                content: content, kind: .create, recordId: nil, prev: [],
                attachments: RecordContent.attachmentDigests(content), key: key, policy: .amanatRecord)
            let verified = try verifier.verify(signed.sdjwt, trustedKey: { keys[$0] })
            return StoredVersion(verified: verified, sdjwt: signed.sdjwt)
        }
        try store.insert(versions, authority: authority)
        return versions.map(\.recordId)
    }

    /// How many records ``add(files:key:batchSize:progress:)`` signs and inserts at a time by default.
    public static let addBatchSize = 1000

    /// What ``add(files:key:batchSize:progress:)`` added: the new record ids and where each came from, in input
    /// order, and the identifier checks that failed (stored as entered, Specs/records.md).
    public struct AddedRecords: Sendable {
        public var ids: [String] = []
        public var origins: [RecordFiles.Origin] = []
        public var warnings: [RecordFiles.Warning] = []
    }

    /// Reads, validates, signs and stores the records of JSON and CSV files, `batchSize` records at a time, in ONE
    /// transaction: a bad record anywhere (its error names the file and row) stores nothing. Memory holds one batch
    /// and the ids, not the files (a CSV file is streamed, ``RecordFiles/Reader``).
    /// - Parameter progress: bytes of the files read so far and their total size.
    public func add(
        files: [String], key: Ed25519.SigningKey, batchSize: Int = RecordService.addBatchSize,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> AddedRecords {
        let readers = try files.map { try RecordFiles.Reader($0) }
        let total = readers.reduce(0) { $0 + $1.size }
        var done: UInt64 = 0
        var current = 0
        var result = AddedRecords()
        // Where the input stood after each batch read: reported once that batch is signed and stored.
        var positions: [UInt64] = []
        try add(
            batches: {
                while current < readers.count {
                    let reader = readers[current]
                    if let entries = try reader.next(maximumCount: batchSize) {
                        result.origins += entries.map(\.origin)
                        positions.append(done + reader.bytesRead)
                        return entries.map(\.record)
                    }
                    done += reader.size
                    result.warnings += reader.warnings
                    current += 1
                }
                return nil
            }, key: key,
            added: {
                result.ids += $0
                if !positions.isEmpty { progress?(positions.removeFirst(), total) }
            })
        return result
    }

    /// Signs and stores new records batch by batch in ONE transaction (``AmanatStore/Store/insert(batches:authority:from:)``):
    /// `next` gives the next records (nil after the last); if it or anything else throws, nothing is stored.
    /// `added` receives each batch's new record ids, in input order, before the transaction commits.
    ///
    /// While the store writes one batch, the next is read and signed on the other cores: `next` is called on
    /// another thread, one call at a time, never while `added` runs.
    @discardableResult
    public func add(
        batches next: @escaping () throws -> [JSONValue]?, key: Ed25519.SigningKey,
        added: ([String]) throws -> Void
    ) throws -> StreamedImportSummary {
        let keys = try workspace.trustedKeys()
        let source = UncheckedSendable(next)
        let work: @Sendable () throws -> [StoredVersion]? = {
            guard let records = try source.value() else { return nil }
            // Each record is signed and verified again on any core.
            return try OrderedParallel.map(records, run: 8, makeWorker: { try RecordVerifier() }) { verifier, content in
                let signed = try RecordSigner.sign(
                    content: content, kind: .create, recordId: nil, prev: [],
                    attachments: RecordContent.attachmentDigests(content), key: key, policy: .amanatRecord)
                let verified = try verifier.verify(signed.sdjwt, trustedKey: { keys[$0] })
                return StoredVersion(verified: verified, sdjwt: signed.sdjwt)
            }
        }
        var ahead: Ahead<[StoredVersion]?>? = Ahead(work)
        // Whatever happens, the batch being signed is finished before the reader is given back.
        defer { ahead?.wait() }
        return try store.insert(
            batches: {
                guard let current = ahead else { return nil }
                guard let versions = try current.get() else {
                    ahead = nil
                    return nil
                }
                try added(versions.map(\.recordId))
                ahead = Ahead(work)
                return versions
            }, authority: authority)
    }

    /// Verifies a version against the trust list and turns it into what the store keeps.
    public func verifiedForStore(_ sdjwt: SDJWT) throws -> StoredVersion {
        let keys = try workspace.trustedKeys()
        let verified = try RecordVerifier.verify(sdjwt, trustedKey: { keys[$0] })
        return StoredVersion(verified: verified, sdjwt: sdjwt)
    }

    /// Resolves a record id from the command line: the full id, or a prefix of at least 4 characters
    /// (``ShortIds/minimumPrefixLength``) that only one record id starts with. `id:` in front is dropped (the way to
    /// write an id that starts with `-`).
    /// - Throws: ``AmanatError`` `invalidRequest` for a prefix that is too short or matches several records (the
    ///   message lists them by short id and case reference), `inputMissing` when no record matches.
    public func resolve(_ text: String) throws -> String {
        let text = text.hasPrefix("id:") ? String(text.dropFirst(3)) : text
        let shown = UntrustedText.printable(text)
        guard text.count >= ShortIds.minimumPrefixLength else {
            throw AmanatError(
                .invalidRequest,
                "'\(shown)' is too short to name a record: give at least \(ShortIds.minimumPrefixLength) characters "
                    + "of its id (the short ids of `amanat list` always work).")
        }
        let limit = 10
        let matches = try store.recordIds(withPrefix: text, limit: limit + 1)
        if matches.contains(text) { return text }
        guard matches.count > 1 else {
            guard let only = matches.first else {
                throw AmanatError(.inputMissing, "no record \(shown) in the store. See `amanat list`.")
            }
            return only
        }
        let short = ShortIds.compute(try store.recordIds())
        var lines: [String] = []
        for id in matches.prefix(limit) {
            let reference = try store.lastContent(record: id)?["provenance"]?["reference"]?.stringValue
            lines.append(
                "  \(UntrustedText.printable(short[id] ?? id))  "
                    + (reference.map { "case \(UntrustedText.printable($0))" } ?? "(no case reference)"))
        }
        if matches.count > limit { lines.append("  … and more") }
        throw AmanatError(
            .invalidRequest,
            "'\(shown)' matches several records:\n\(lines.joined(separator: "\n"))\n"
                + "Give more characters of the id (a short id above, or see `amanat list`). Nothing was changed.")
    }

    /// The record as this workspace sees it: heads, consent in force, pending requests (``Authority``).
    public func view(_ recordId: String) throws -> RecordView {
        guard let view = try store.recordView(recordId, authority: authority) else {
            throw AmanatError(.inputMissing, "no record \(recordId) in the store. See `amanat list`.")
        }
        return view
    }

    /// The single head of a record (as the view sees it: requests nobody had the authority to make are not
    /// heads), or exit 2 when concurrent versions must be resolved first.
    public func singleHead(_ recordId: String) throws -> StoredVersion {
        try singleHead(of: try view(recordId))
    }

    public func singleHead(of view: RecordView) throws -> StoredVersion {
        try Self.singleHead(of: view, in: store)
    }

    /// ``singleHead(of:)`` read from `store`.
    static func singleHead(of view: RecordView, in store: Store) throws -> StoredVersion {
        guard view.heads.count == 1 else {
            throw AmanatError(
                .conflicts,
                view.heads.isEmpty
                    ? "record \(view.recordId) has no version this store can show yet (its history is missing)."
                    : "record \(view.recordId) has \(view.heads.count) concurrent versions; resolve them first (`amanat conflicts`)."
            )
        }
        return try store.version(view.heads[0].id)
    }

    /// The single head and its verified content as an edit starts from it: consent capped at what is in force, so
    /// editing a record never accepts someone else's raise by accident.
    public func editableContent(
        _ recordId: String
    ) throws -> (head: StoredVersion, content: JSONValue, view: RecordView) {
        let view = try view(recordId)
        let head = try singleHead(of: view)
        return (head, try verifiedContent(head).content.cappingConsent(at: view.consent), view)
    }

    /// Verifies a stored version again (signature, disclosures) and returns its content.
    public func verifiedContent(_ version: StoredVersion) throws -> VerifiedVersion {
        let keys = try workspace.trustedKeys()
        do {
            return try RecordVerifier.verify(version.sdjwt, trustedKey: { keys[$0] })
        } catch let error as SDJWTError {
            throw AmanatError(
                .verificationFailed, "version \(version.id) of record \(version.recordId) does not verify: \(error).")
        }
    }

    /// What an edit did: signed a new version, or nothing because the content equals the head's.
    public enum EditOutcome {
        /// A new version, and what it did to consent.
        case signed(SignedVersion, Authority.ConsentEdit)
        /// The content equals the single head's (as an edit starts from it, ``editableContent(_:)``): nothing was
        /// signed or stored. The associated value is the head's version id.
        case unchanged(head: String)
    }

    /// Signs and stores a new version of a record on top of its single head, unless `content` equals the head's
    /// content (compared as canonical JSON, so member order does not matter): a version that changes nothing is
    /// never signed. Consent follows ``Authority``: anyone may lower it; the collector raises it only with a
    /// changed consent note; a raise by anyone else is signed but stays a proposal (the outcome says which).
    /// `acceptingProposal`: the collector accepts a proposed raise as it stands (`amanat consent --accept`).
    public func edit(
        _ recordId: String, content: JSONValue, key: Ed25519.SigningKey, acceptingProposal: Bool = false
    ) throws -> EditOutcome {
        let (head, current, view) = try editableContent(recordId)
        if content.canonical() == current.canonical() { return .unchanged(head: head.id) }
        var edit = Authority.ConsentEdit.unchanged
        if let new = Consent(content: content) {
            let noteChanged =
                acceptingProposal || content["testimony"]?["consentNote"] != current["testimony"]?["consentNote"]
            do {
                edit = try Authority.consentEdit(
                    from: view.consent, to: new, byCollector: view.collector == (try workspace.identity().fingerprint),
                    consentNoteChanged: noteChanged)
            } catch {
                throw AmanatError(.invalidRequest, "record \(recordId): \(error). Nothing was changed.")
            }
        }
        let signed = try RecordSigner.sign(
            content: content, kind: .edit, recordId: recordId, prev: [head.id],
            attachments: RecordContent.attachmentDigests(content), key: key, policy: .amanatRecord)
        try store.insert([try verifiedForStore(signed.sdjwt)], authority: authority)
        return .signed(signed, edit)
    }

    /// ``edit(_:content:key:acceptingProposal:)`` for callers that always expect a new version.
    /// - Throws: ``AmanatError`` `invalidRequest` when the content equals the head's (nothing is signed).
    public func update(
        _ recordId: String, content: JSONValue, key: Ed25519.SigningKey, acceptingProposal: Bool = false
    ) throws -> (SignedVersion, Authority.ConsentEdit) {
        switch try edit(recordId, content: content, key: key, acceptingProposal: acceptingProposal) {
        case .signed(let version, let consent):
            return (version, consent)
        case .unchanged:
            throw AmanatError(
                .invalidRequest,
                "record \(recordId) already has this content; nothing was signed (a version that changes nothing is "
                    + "never made).")
        }
    }

    /// Signs a new version with consent `value` (and, if given, a new consent note). Anyone may lower consent; the
    /// collector raises it only with a changed note; anyone else's raise is a proposal (``AmanatSync/Authority``).
    /// Setting the consent the record already states (with no new note) signs nothing: ``EditOutcome/unchanged(head:)``.
    public func setConsent(
        _ recordId: String, to value: Consent, note: String?, key: Ed25519.SigningKey
    ) throws -> EditOutcome {
        let content = try editableContent(recordId).content
        guard var testimony = content["testimony"] else {
            throw AmanatError(.invalidRequest, "record \(recordId) has no testimony section to hold a consent.")
        }
        testimony = testimony.setting("consent", .string(value.rawValue))
        if let note { testimony = testimony.setting("consentNote", .string(note)) }
        return try edit(recordId, content: content.setting("testimony", testimony).sortedKeys(), key: key)
    }

    /// At the collector: signs, as its own version, the content of the single head that proposes a raise of
    /// consent, so that the raise takes effect.
    /// - Throws: ``AmanatError`` when this organization is not the collector, there is no single proposal, or the
    ///   record has concurrent versions.
    public func acceptConsentProposal(_ recordId: String, key: Ed25519.SigningKey) throws -> SignedVersion {
        let view = try view(recordId)
        guard view.collector == (try workspace.identity().fingerprint) else {
            throw AmanatError(
                .invalidRequest,
                "only the organization that collected record \(recordId) can accept a raise of its consent.")
        }
        let values = Set(view.consentProposals.map(\.proposed))
        guard let proposed = values.first, values.count == 1 else {
            throw AmanatError(
                .invalidRequest,
                values.isEmpty
                    ? "record \(recordId) has no proposal to raise its consent."
                    : "record \(recordId) has proposals for different values; use --set VALUE --note TEXT.")
        }
        // The proposing head's own content: what the partner wrote, consent note included.
        let proposal = try verifiedContent(try singleHead(of: view)).content
        guard Consent(content: proposal) == proposed else {
            throw AmanatError(.conflicts, "record \(recordId) has concurrent versions; resolve them first.")
        }
        return try update(recordId, content: proposal, key: key, acceptingProposal: true).0
    }

    /// Signs and stores a version whose parents are ALL current heads (retractions, erasures, merges), pending
    /// requests included, so that a retraction or erasure by the collector answers them.
    public func versionOverAllHeads(
        _ recordId: String, content: JSONValue, kind: VersionKind, key: Ed25519.SigningKey,
        extraClaims: [(String, JSONValue)] = []
    ) throws -> (SignedVersion, ImportSummary) {
        let heads = try store.heads(record: recordId)
        guard !heads.isEmpty else { throw AmanatError(.inputMissing, "no record \(recordId) in the store.") }
        let signed = try RecordSigner.sign(
            content: content, kind: kind, recordId: recordId, prev: heads,
            attachments: RecordContent.attachmentDigests(content), key: key, policy: .amanatRecord,
            extraClaims: extraClaims)
        let summary = try store.insert([try verifiedForStore(signed.sdjwt)], authority: authority)
        return (signed, summary)
    }

    /// Signs a retraction or erasure of a record over all its heads. It takes effect only when this organization
    /// collected the record or the partners who did delegate it (``Authority``); otherwise it travels as a request.
    public func tombstone(
        _ recordId: String, _ kind: RecordContent.Tombstone, reason: String, key: Ed25519.SigningKey
    ) throws -> (version: SignedVersion, inForce: Bool) {
        let view = try view(recordId)
        let own = try workspace.identity().fingerprint
        let inForce = authority.mayRetract(signer: own, collector: view.collector)
        let (version, _) = try versionOverAllHeads(
            recordId, content: RecordContent.tombstone(kind, reason: reason), kind: .retract, key: key,
            extraClaims: RecordContent.tombstoneClaims(kind))
        return (version, inForce)
    }

    /// Deletes the files of attachments that only erased records referenced.
    public func deleteErasedBlobs() throws -> Int {
        let digests = try store.blobsOnlyInErasedRecords()
        var deleted: [String] = []
        for d in digests {
            let url = workspace.blobURL(d)
            if FileManager.default.fileExists(atPath: url.path) {
                try FileManager.default.removeItem(at: url)
                deleted.append(d)
            }
        }
        try store.forgetBlobs(digests)
        return deleted.count
    }

    /// Copies a file into the content-addressed blob folder while hashing it, encrypted under a fresh key
    /// (``EncryptedBlob``); returns its SHA-256 and size. The plaintext never touches the disk.
    public func importBlob(_ path: String) throws -> (sha256: String, size: UInt64) {
        let input = try InputFile(path, what: "attachment")
        try FileManager.default.createDirectory(
            at: workspace.blobsFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let staging = workspace.blobsFolder.appendingPathComponent(".incoming-\(UUID().uuidString.prefix(8))")
        let key = SecretBytes(try SecureRandom.bytes(32))
        let out = try EncryptedBlob.Writer(path: staging.path, key: key)
        var hash = try SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer {
            wipe(buffer)
            buffer.deallocate()
        }
        var size: UInt64 = 0
        while true {
            let n = try input.read(buffer)
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            try hash.update(chunk)
            try out.write(chunk)
            size += UInt64(n)
        }
        let digest = try hash.finalize().map { String(format: "%02x", $0) }.joined()
        try out.finish()
        let target = workspace.blobURL(digest)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        if try FileManager.default.fileExists(atPath: target.path) && store.blobKey(sha256: digest) != nil {
            try? FileManager.default.removeItem(at: staging)
            try store.registerBlob(sha256: digest, size: size)
        } else {
            // The new file replaces whatever was there, and its key replaces whatever the row held.
            do { try FileMove.rename(staging, to: target) } catch {
                try? FileManager.default.removeItem(at: staging)
                throw error
            }
            try store.registerBlob(sha256: digest, size: size, key: key, replacing: true)
        }
        return (digest, size)
    }

    /// Opens an attachment's file for reading its plaintext; nil when the file is missing.
    /// - Throws: ``AmanatError`` `verificationFailed` when the store has no key for it or it does not decrypt.
    public func openBlob(_ sha256: String) throws -> EncryptedBlob.Reader? {
        let url = workspace.blobURL(sha256)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let key = try store.blobKey(sha256: sha256) else {
            throw AmanatError(
                .verificationFailed, "the store has no key for attachment \(sha256.prefix(12))…; it cannot be read.")
        }
        return try EncryptedBlob.Reader(path: url.path, key: key)
    }
}

/// Counts finished items across threads and reports each step to a progress callback.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private let total: Int
    private let report: (@Sendable (Int, Int) -> Void)?

    init(total: Int, report: (@Sendable (Int, Int) -> Void)?) {
        self.total = total
        self.report = report
    }

    func advance() {
        guard let report else { return }
        lock.lock()
        done += 1
        let now = done
        lock.unlock()
        report(now, total)
    }
}

/// A value handed to another thread by a caller that guarantees one thread uses it at a time.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
