import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

/// Verifying a bundle and importing its records and attachments into the store (`amanat open IN`): the bundle is
/// authenticated first, then its versions are verified and written batch by batch into one transaction that
/// commits only when everything checked, so a bundle is imported whole or not at all, in bounded memory.
public enum BundleImport {
    /// What an import changed.
    public struct Report: Encodable, Sendable {
        public var file: String
        /// The sender as this workspace names it.
        public var signer: String
        public var versionsAdded: Int
        public var versionsAlreadyPresent: Int
        public var recordsWithConcurrentVersions: [String]
        public var incompleteHistory: [String]
        public var attachmentsStored: Int
        public var plainFilesIgnored: Int
        public var erasedRecords: [String]
        /// Retractions and erasure requests in the bundle from organizations without the authority to make them.
        public var pendingRequests: [String]
        /// What the sender said its store holds, and whether ours now matches.
        public var senderSummary: BundleManifest.Summary?
        public var inSyncWithSender: Bool?
        /// The sender's log: its checkpoint, whether it extends the last one seen, and whether we cosigned it.
        public var log: BundleLogReport
    }

    /// The non-empty lines of `text` (LF or CR LF endings), split on bytes: splitting Characters would cost
    /// more than verifying them.
    static func lines(of text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var lines: [String] = []
            var start = 0
            for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "\n") {
                var end = i
                if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end > start {
                    lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                }
                start = i + 1
            }
            return lines
        }
    }

    /// One record version read from a bundle, not yet verified.
    struct PendingVersion: Sendable {
        var entry: String
        /// Where it is, for errors: the entry, and the line of a batch.
        var location: String
        var text: String
        var isBatch: Bool
    }

    /// A version that verified, with what validating it needs.
    struct Received: Sendable {
        var stored: StoredVersion
        var verified: VerifiedVersion
        var sdjwt: SDJWT
        var location: String
    }

    /// Verifies one version against the trust list and turns it into what the store keeps.
    /// - Throws: ``AmanatError`` naming the entry (and line) that does not verify.
    static func verify(
        _ item: PendingVersion, bundle path: String, keys: [String: Ed25519.VerifyingKey], verifier: RecordVerifier
    ) throws -> Received {
        do {
            let sdjwt = try SDJWT.parse(item.text)
            let verified = try verifier.verify(sdjwt, trustedKey: { keys[$0] })
            let stored = StoredVersion(verified: verified, sdjwt: sdjwt)
            guard item.isBatch || item.entry == BundlePath.recordsPrefix + stored.id + ".sd-jwt" else {
                throw AmanatError(
                    .verificationFailed,
                    "\(path): \(item.entry) does not hold the version its name says. Nothing was imported.")
            }
            return Received(stored: stored, verified: verified, sdjwt: sdjwt, location: item.location)
        } catch let error as SDJWTError {
            throw AmanatError(
                .verificationFailed,
                "\(path): \(item.location) does not verify (\(error)). Nothing was imported."
                    + (error.isUntrustedSigner
                        ? " If you expect records from that organization, compare its fingerprint by phone and run `amanat trust add FILE`."
                        : ""))
        }
    }

    /// Verifies every version on all cores (see ``OrderedParallel``): the versions in bundle order, or the error
    /// of the first bad version in bundle order.
    static func verifyInParallel(
        _ items: [PendingVersion], bundle path: String, keys: [String: Ed25519.VerifyingKey]
    ) throws -> [Received] {
        try OrderedParallel.map(items, makeWorker: { try RecordVerifier() }) { verifier, item in
            try verify(item, bundle: path, keys: keys, verifier: verifier)
        }
    }

    /// Versions verified, validated and inserted per batch (``importBundle(_:into:progress:batchSize:)``): enough to
    /// keep every core busy, few enough that a batch's SD-JWTs take some megabytes.
    public static let defaultBatchSize = 4096
    /// A batch also ends once its SD-JWTs reach this many bytes: while it is verified, sealed and inserted it is held
    /// about five times over (text, parsed, verified content, stored and sealed fields).
    static let maximumBatchBytes = 16 << 20

    /// Checks the received versions of one batch against the record schema and the limits of a local `add`
    /// (``IncomingVersion``), on all cores. One bad version refuses the whole bundle.
    ///
    /// A version may lack disclosures only if its record has an erasure request (in the store or anywhere in the
    /// bundle): one whose request has not arrived yet waits in `waiting` until ``checkWaiting(_:erasable:bundle:schema:)``.
    static func validate(
        _ versions: [Received], bundle path: String, erasable: inout Set<String>, waiting: inout [Received],
        schema: RecordSchema
    ) throws {
        erasable.formUnion(versions.filter(\.verified.isErasureRequest).map(\.verified.recordId))
        let known = erasable
        _ = try OrderedParallel.map(versions, makeWorker: { () }) { _, v in
            try validate(
                v, bundle: path,
                mayLackDisclosures: known.contains(v.verified.recordId) || v.verified.withheldCount > 0,
                schema: schema)
        }
        waiting.removeAll { erasable.contains($0.verified.recordId) }
        waiting += versions.filter { $0.verified.withheldCount > 0 && !erasable.contains($0.verified.recordId) }
    }

    /// After the last batch: the versions that lack disclosures whose record got no erasure request are refused.
    static func checkWaiting(
        _ waiting: [Received], erasable: Set<String>, bundle path: String, schema: RecordSchema
    ) throws {
        for v in waiting where !erasable.contains(v.verified.recordId) {
            try validate(v, bundle: path, mayLackDisclosures: false, schema: schema)
        }
    }

    static func validate(_ v: Received, bundle path: String, mayLackDisclosures: Bool, schema: RecordSchema) throws {
        do {
            try IncomingVersion.validate(
                v.verified, sdjwt: v.sdjwt, mayLackDisclosures: mayLackDisclosures, schema: schema)
        } catch {
            throw AmanatError(
                .malformedInput,
                "\(path): \(v.location) was refused: \(error). Nothing was imported; ask the sender to check the record."
            )
        }
    }

    /// The received retractions and erasure requests that do not take effect here (``Authority``).
    static func pendingRequests(
        _ retracts: [(id: String, recordId: String)], service: RecordService
    ) throws -> [String] {
        guard !retracts.isEmpty else { return [] }
        var result: [String] = []
        for recordId in Set(retracts.map(\.recordId)).sorted() {
            let pending = Set(try service.view(recordId).pendingRequests.map(\.id))
            result += retracts.filter { $0.recordId == recordId && pending.contains($0.id) }.map(\.id)
        }
        return result
    }

    /// Verifies and imports; returns what changed. Nothing changes unless everything verifies.
    ///
    /// Memory does not grow with the bundle: record entries are staged encrypted while the bundle is read (they
    /// cannot be trusted before its signed manifest, at the end, has been checked), then read back and verified,
    /// validated and inserted `batchSize` versions at a time, all in one store transaction that commits only after
    /// the last one.
    /// - Parameters:
    ///   - path: the bundle file, or `-` for standard input.
    ///   - progress: bytes of the bundle read so far, and its size.
    ///   - batchSize: versions per batch (tests use small ones).
    public static func importBundle(
        _ path: String, into workspace: Workspace, progress: ((UInt64, UInt64) -> Void)? = nil,
        batchSize: Int = defaultBatchSize
    ) throws -> Report {
        // A refused bundle changes nothing, not even by creating the store: a store (and store key) made for this
        // import are removed again when it fails (the batches are verified inside the store's transaction).
        let storePath = workspace.storeURL.path
        let made = [storePath, storePath + "-wal", storePath + "-shm", workspace.storeKeyURL.path].filter {
            !FileManager.default.fileExists(atPath: $0)
        }
        do {
            return try importStreaming(path, into: workspace, progress: progress, batchSize: batchSize)
        } catch {
            if made.contains(storePath) { for file in made { try? FileManager.default.removeItem(atPath: file) } }
            throw error
        }
    }

    static func importStreaming(
        _ path: String, into workspace: Workspace, progress: ((UInt64, UInt64) -> Void)?, batchSize: Int
    ) throws -> Report {
        // Staging lives inside .amanat/ and is removed on any failure or interruption (``Leftovers``); the store is
        // opened only after every check. Staging folders of imports that were killed are removed first.
        Leftovers.sweep(dotFolder: workspace.dotFolder)
        let output = try ImportOutput(stagingParent: workspace.dotFolder)
        let keys = try workspace.trustedKeys()
        let opened = try workspace.openBundle(path, output: output, progress: progress)
        try output.finishRecords()
        // Messages name the bundle; `-` (a pipe) is "standard input".
        let path = path == "-" ? "standard input" : path
        let sender = opened.signerFingerprint

        let service = try RecordService(workspace: workspace)
        // The sender's log proofs, and its checkpoint against the last one seen: a fork refuses the bundle (and is
        // kept as evidence). The proven versions are matched as they are verified below.
        var logChecked = try BundleLog.check(
            opened, logFiles: output.logFiles, versionProofs: output.stagedVersionProofs(), bundle: path,
            workspace: workspace, store: service.store)
        // Attachments that go into the blob store once every version has verified (read before the transaction).
        let blobs = try output.blobsToPublish(into: workspace, store: service.store)

        // Every record version must verify against the trust list and pass the checks of a local `add`; one failure
        // fails the whole import, and the transaction the batches went into is rolled back. The next batch is read,
        // verified and checked on other threads while the store writes this one (one batch ahead at most).
        let batches = ImportBatches(
            records: try output.stagedRecords(), bundle: path, keys: keys, schema: try RecordSchema.bundled(),
            sender: sender, batchSize: max(1, batchSize), erasable: try service.store.recordsWithErasureRequests(),
            logChecked: logChecked)
        var ahead: Ahead<[StoredVersion]?>? = Ahead { try batches.next() }
        // Whatever happens, the batch being prepared is finished before the staged records are given back.
        defer { ahead?.wait() }
        let summary = try service.store.insert(
            batches: {
                guard let current = ahead else { return nil }
                guard let versions = try current.get() else {
                    ahead = nil
                    // Every batch is in: the attachments move into the blob store before the transaction commits
                    // (content-addressed, so moving them is idempotent and safe).
                    try output.publish(blobs, into: workspace)
                    return nil
                }
                ahead = Ahead { try batches.next() }
                return versions
            }, authority: service.authority,
            from: IncomingBundle(
                partner: sender, bundleId: opened.manifest.bundleId, acknowledges: opened.manifest.acknowledges ?? [],
                blobs: blobs.map { IncomingBlob(sha256: $0.sha, size: $0.size, key: $0.key) }))
        logChecked = batches.logChecked
        let retracts = batches.retracts
        if !summary.erased.isEmpty { _ = try service.deleteErasedBlobs() }
        try BundleLog.commit(&logChecked, sender: sender, workspace: workspace, store: service.store)
        var inSync: Bool? = nil
        if let theirs = opened.manifest.summary {
            inSync = try service.store.stateHash() == theirs.stateHash
        }
        return Report(
            file: path, signer: workspace.signerName(sender), versionsAdded: summary.added,
            versionsAlreadyPresent: summary.alreadyPresent,
            recordsWithConcurrentVersions: summary.recordsWithConcurrentHeads,
            incompleteHistory: summary.incomplete, attachmentsStored: blobs.count,
            plainFilesIgnored: output.plainFiles,
            erasedRecords: summary.erased,
            pendingRequests: try pendingRequests(retracts, service: service),
            senderSummary: opened.manifest.summary, inSyncWithSender: inSync, log: logChecked.report)
    }
}

/// The work of an import per batch (``BundleImport/importBundle(_:into:progress:batchSize:)``): read the next staged
/// versions, verify them on all cores, check them as a local `add` would and against the sender's log proofs. Each
/// call runs on another thread while the store writes the batch before (``AmanatRecords/Ahead``); a call starts only
/// after the store took the previous one's result, so the state below is never touched by two threads at once.
final class ImportBatches: @unchecked Sendable {
    private let records: StagedRecords
    private let path: String
    private let keys: [String: Ed25519.VerifyingKey]
    private let schema: RecordSchema
    private let sender: String
    private let batchSize: Int
    private var erasable: Set<String>
    private var waiting: [BundleImport.Received] = []
    private var finished = false
    /// The log proofs' state: each verified version is matched against them.
    private(set) var logChecked: BundleLog.Checked
    /// The retractions and erasure requests received, for the report.
    private(set) var retracts: [(id: String, recordId: String)] = []

    init(
        records: StagedRecords, bundle path: String, keys: [String: Ed25519.VerifyingKey], schema: RecordSchema,
        sender: String, batchSize: Int, erasable: Set<String>, logChecked: BundleLog.Checked
    ) {
        self.records = records
        self.path = path
        self.keys = keys
        self.schema = schema
        self.sender = sender
        self.batchSize = batchSize
        self.erasable = erasable
        self.logChecked = logChecked
    }

    /// The next batch, checked; nil after the last (when every check that needs the whole bundle has passed too).
    func next() throws -> [StoredVersion]? {
        guard !finished else { return nil }
        let items = try records.next(count: batchSize, bytes: BundleImport.maximumBatchBytes)
        guard !items.isEmpty else {
            try BundleImport.checkWaiting(waiting, erasable: erasable, bundle: path, schema: schema)
            try logChecked.checkEveryProofMatched(bundle: path)
            finished = true
            return nil
        }
        let versions = try BundleImport.verifyInParallel(items, bundle: path, keys: keys)
        try BundleImport.validate(versions, bundle: path, erasable: &erasable, waiting: &waiting, schema: schema)
        for v in versions {
            try logChecked.match(v.stored, sender: sender, bundle: path)
            if v.stored.kind == .retract { retracts.append((v.stored.id, v.stored.recordId)) }
        }
        return versions.map(\.stored)
    }
}

extension SDJWTError {
    var isUntrustedSigner: Bool {
        if case .untrustedSigner = self { return true }
        return false
    }
}

/// Receives a bundle's entries during import: record entries staged encrypted (they are verified only after the
/// bundle's manifest, which comes last), attachments into a staging folder inside the blob store, log entries in
/// memory (bounded), plain files counted and skipped.
final class ImportOutput: BundleEntryOutput {
    static let maximumRecordSize: UInt64 = 256 << 20
    /// The largest `log/versions.tlog-proofs` accepted (staged on disk, read one proof at a time): about a
    /// kilobyte per version, so room for tens of millions of versions.
    static let maximumVersionProofsSize: UInt64 = 64 << 30

    let staging: URL
    /// The listed log entries (`log/…`): proofs and cosignatures, checked by ``BundleLog``.
    var logFiles: [String: [UInt8]] = [:]
    var plainFiles = 0
    /// The record entries in the order they came, and their sizes; their bytes are in ``recordsPath``.
    private(set) var recordEntries: [(path: String, size: UInt64)] = []
    /// The key the staged record entries are encrypted under; it exists only in memory (`Specs/storage.md`: no
    /// plaintext of a record reaches the disk outside the store).
    private let recordsKey: SecretBytes
    private var records: EncryptedBlob.Writer?
    private var inRecord = false
    /// `log/versions.tlog-proofs`, staged like the record entries: too large to hold for a big bundle.
    private var versionProofs: EncryptedBlob.Writer?
    private var inVersionProofs = false
    private var hasVersionProofs = false
    private var blobs: [(sha: String, size: UInt64, key: SecretBytes)] = []
    private var currentPath: String?
    private var currentLog: [UInt8]?
    private var currentBlob: EncryptedBlob.Writer?
    private let leftover: Int

    init(stagingParent: URL) throws {
        staging = stagingParent.appendingPathComponent(".incoming-\(UUID().uuidString.prefix(8))")
        leftover = Leftovers.register(staging.path)
        recordsKey = SecretBytes(try SecureRandom.bytes(32))
        try FileManager.default.createDirectory(
            at: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    deinit {
        try? FileManager.default.removeItem(at: staging)
        Leftovers.unregister(leftover)
    }

    /// The staged record entries (one encrypted stream); not a SHA-256 name, so no attachment can collide with it.
    var recordsPath: String { staging.appendingPathComponent("records.staged").path }

    func begin(path: String, size: UInt64) throws {
        currentPath = path
        if path.hasPrefix(BundlePath.recordsPrefix) {
            guard size <= Self.maximumRecordSize else {
                throw AmanatError(
                    .malformedInput, "the bundle's \(path) is larger than \(Self.maximumRecordSize) bytes; refused.")
            }
            if records == nil {
                records = try EncryptedBlob.Writer(
                    path: recordsPath, key: recordsKey, tracked: false, durable: false)
            }
            recordEntries.append((path, size))
            inRecord = true
        } else if path == BundlePath.logPrefix + BundleLog.versionProofsName {
            guard size <= Self.maximumVersionProofsSize, !hasVersionProofs else {
                throw AmanatError(
                    .malformedInput,
                    "the bundle's \(path) is larger than \(Self.maximumVersionProofsSize) bytes or comes twice; refused."
                )
            }
            versionProofs = try EncryptedBlob.Writer(
                path: versionProofsPath, key: recordsKey, tracked: false, durable: false)
            inVersionProofs = true
        } else if path.hasPrefix(BundlePath.logPrefix) {
            guard size <= Self.maximumRecordSize else {
                throw AmanatError(
                    .malformedInput, "the bundle's \(path) is larger than \(Self.maximumRecordSize) bytes; refused.")
            }
            currentLog = []
        } else if path.hasPrefix(BundlePath.blobsPrefix) {
            // Encrypted as it arrives, under a fresh key: the attachment's plaintext never reaches the disk.
            let sha = String(path.dropFirst(BundlePath.blobsPrefix.count))
            let key = SecretBytes(try SecureRandom.bytes(32))
            currentBlob = try EncryptedBlob.Writer(
                path: staging.appendingPathComponent(sha).path, key: key, tracked: false)
            blobs.append((sha, size, key))
        } else {
            plainFiles += 1
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if inRecord { try records?.write(bytes) }
        if inVersionProofs { try versionProofs?.write(bytes) }
        if currentLog != nil { currentLog!.append(contentsOf: bytes) }
        try currentBlob?.write(bytes)
    }

    func end() throws {
        if let path = currentPath, let bytes = currentLog {
            logFiles[path] = bytes
        }
        if inVersionProofs {
            try versionProofs?.finish()
            versionProofs = nil
            inVersionProofs = false
            hasVersionProofs = true
        }
        try currentBlob?.finish()
        currentBlob = nil
        currentLog = nil
        currentPath = nil
        inRecord = false
    }

    /// Ends the staged record entries, once the bundle has been read.
    func finishRecords() throws {
        try records?.finish()
        records = nil
    }

    /// Where `log/versions.tlog-proofs` is staged (not a SHA-256 name either).
    var versionProofsPath: String { staging.appendingPathComponent("version-proofs.staged").path }

    /// Opens the staged version proofs for reading, once the bundle has been read; nil when it had none.
    func stagedVersionProofs() -> (() throws -> BundleLog.ItemReader)? {
        guard hasVersionProofs else { return nil }
        let (path, key) = (versionProofsPath, recordsKey)
        return {
            let reader = try EncryptedBlob.Reader(path: path, key: key)
            return try BundleLog.ItemReader { try reader.read($0) }
        }
    }

    /// The staged record entries, read back (after ``finishRecords()``).
    func stagedRecords(chunkSize: Int = 1 << 16) throws -> StagedRecords {
        StagedRecords(
            reader: recordEntries.isEmpty ? nil : try EncryptedBlob.Reader(path: recordsPath, key: recordsKey),
            entries: recordEntries, chunkSize: chunkSize)
    }

    /// The verified blobs to move into the content-addressed store: those it lacks, or has without a key.
    func blobsToPublish(
        into workspace: Workspace, store: Store
    ) throws -> [(sha: String, size: UInt64, key: SecretBytes)] {
        try blobs.filter { blob in
            try !FileManager.default.fileExists(atPath: workspace.blobURL(blob.sha).path)
                || store.blobKey(sha256: blob.sha) == nil
        }
    }

    /// Moves blobs (``blobsToPublish(into:store:)``) into the content-addressed store.
    func publish(_ chosen: [(sha: String, size: UInt64, key: SecretBytes)], into workspace: Workspace) throws {
        for blob in chosen {
            let target = workspace.blobURL(blob.sha)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try FileMove.rename(staging.appendingPathComponent(blob.sha), to: target)
        }
    }
}

/// The record entries of a bundle, staged encrypted by ``ImportOutput``, read back as versions a batch at a time:
/// one version per `records/<id>.sd-jwt` entry, one per non-empty line (LF or CR LF) of a `.sd-jwt-lines` batch.
/// Memory holds one chunk and the versions of one batch, whatever the bundle's size.
final class StagedRecords {
    private let reader: EncryptedBlob.Reader?
    private let entries: [(path: String, size: UInt64)]
    private var entry = 0
    /// Bytes of the current entry not read yet (nil: the entry has not been started).
    private var left: UInt64?
    /// Non-empty lines of the current batch entry so far.
    private var line = 0
    private var chunk: [UInt8]
    private var window = 0..<0

    /// - Parameter chunkSize: plaintext read at a time (tests use tiny ones).
    init(reader: EncryptedBlob.Reader?, entries: [(path: String, size: UInt64)], chunkSize: Int = 1 << 16) {
        self.reader = reader
        self.entries = entries
        chunk = [UInt8](repeating: 0, count: max(1, chunkSize))
    }

    /// The next versions in bundle order: at most `count`, and no more once they reach `bytes` bytes (at least
    /// one); empty at the end.
    func next(count: Int, bytes: Int) throws -> [BundleImport.PendingVersion] {
        var out: [BundleImport.PendingVersion] = []
        var taken = 0
        while out.count < count, taken < bytes, entry < entries.count {
            let (path, size) = entries[entry]
            if left == nil {
                left = size
                line = 0
            }
            if path.hasSuffix(".sd-jwt-lines") {
                guard let text = try nextLine() else {
                    nextEntry()
                    continue
                }
                line += 1
                taken += text.count
                out.append(
                    BundleImport.PendingVersion(
                        entry: path, location: "\(path), line \(line)", text: String(decoding: text, as: UTF8.self),
                        isBatch: true))
            } else {
                var whole: [UInt8] = []
                whole.reserveCapacity(Int(size))
                while try refill() {
                    whole += chunk[window]
                    window = window.upperBound..<window.upperBound
                }
                taken += whole.count
                out.append(
                    BundleImport.PendingVersion(
                        entry: path, location: path, text: String(decoding: whole, as: UTF8.self), isBatch: false))
                nextEntry()
            }
        }
        return out
    }

    private func nextEntry() {
        entry += 1
        left = nil
        window = 0..<0
    }

    /// Reads the next chunk of the current entry when the window is empty; false when the entry has no more.
    private func refill() throws -> Bool {
        guard window.isEmpty else { return true }
        guard let remaining = left, remaining > 0, let reader else { return false }
        let want = Int(min(UInt64(chunk.count), remaining))
        var got = 0
        try chunk.withUnsafeMutableBytes { raw in
            while got < want {
                let n = try reader.read(UnsafeMutableRawBufferPointer(rebasing: raw[got..<want]))
                if n == 0 { break }
                got += n
            }
        }
        guard got == want else {
            throw AmanatError(
                .ioError, "the staged records of the bundle end early (\(reader.path)). Nothing was imported.")
        }
        left = remaining - UInt64(want)
        window = 0..<want
        return true
    }

    /// The next non-empty line of the current batch entry, without its LF or CR LF; nil at the entry's end.
    private func nextLine() throws -> [UInt8]? {
        var text: [UInt8] = []
        while try refill() {
            if let newline = chunk[window].firstIndex(of: UInt8(ascii: "\n")) {
                text += chunk[window.lowerBound..<newline]
                window = (newline + 1)..<window.upperBound
                if text.last == UInt8(ascii: "\r") { text.removeLast() }
                if text.isEmpty { continue }
                return text
            }
            text += chunk[window]
            window = window.upperBound..<window.upperBound
        }
        if text.last == UInt8(ascii: "\r") { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}
