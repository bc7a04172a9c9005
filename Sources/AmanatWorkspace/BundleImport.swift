import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

/// Verifying a bundle and importing its records and attachments into the store (`amanat open IN`): everything
/// is verified and checked first, then imported in one transaction, so a bundle is imported whole or not at all.
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

    /// Checks every received version against the record schema and the limits of a local `add`
    /// (``IncomingVersion``), on all cores. One bad version refuses the whole bundle.
    static func validate(_ versions: [Received], bundle path: String, store: Store) throws {
        let erasable = try store.recordsWithErasureRequests().union(
            versions.filter(\.verified.isErasureRequest).map(\.verified.recordId))
        let schema = try RecordSchema.bundled()
        _ = try OrderedParallel.map(versions, makeWorker: { () }) { _, v in
            do {
                try IncomingVersion.validate(
                    v.verified, sdjwt: v.sdjwt, mayLackDisclosures: erasable.contains(v.verified.recordId),
                    schema: schema)
            } catch let error as IncomingVersionError {
                throw AmanatError(
                    .malformedInput,
                    "\(path): \(v.location) was refused: \(error). Nothing was imported; ask the sender to check "
                        + "the record.")
            }
        }
    }

    /// The received retractions and erasure requests that do not take effect here (``Authority``).
    static func pendingRequests(_ versions: [StoredVersion], service: RecordService) throws -> [String] {
        let retracts = versions.filter { $0.kind == .retract }
        guard !retracts.isEmpty else { return [] }
        var result: [String] = []
        for recordId in Set(retracts.map(\.recordId)).sorted() {
            let pending = Set(try service.view(recordId).pendingRequests.map(\.id))
            result += retracts.filter { $0.recordId == recordId && pending.contains($0.id) }.map(\.id)
        }
        return result
    }

    /// Verifies and imports; returns what changed. Nothing changes unless everything verifies.
    /// - Parameters:
    ///   - path: the bundle file, or `-` for standard input.
    ///   - progress: bytes of the bundle read so far, and its size.
    public static func importBundle(
        _ path: String, into workspace: Workspace, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> Report {
        // Staging lives inside .amanat/ and is removed on any failure or interruption (``Leftovers``); the store is
        // opened only after every check. Staging folders of imports that were killed are removed first.
        Leftovers.sweep(dotFolder: workspace.dotFolder)
        let output = try ImportOutput(stagingParent: workspace.dotFolder)
        let keys = try workspace.trustedKeys()
        let opened = try workspace.openBundle(path, output: output, progress: progress)
        // Messages name the bundle; `-` (a pipe) is "standard input".
        let path = path == "-" ? "standard input" : path

        // Every record version must verify against the trust list; one failure fails the whole import.
        var items: [PendingVersion] = []
        for (entry, text) in output.records.sorted(by: { $0.key < $1.key }) {
            let isBatch = entry.hasSuffix(".sd-jwt-lines")
            let lines = isBatch ? Self.lines(of: text) : [text]
            for (lineNumber, line) in lines.enumerated() {
                items.append(
                    PendingVersion(
                        entry: entry, location: isBatch ? "\(entry), line \(lineNumber + 1)" : entry, text: line,
                        isBatch: isBatch))
            }
        }
        let versions = try verifyInParallel(items, bundle: path, keys: keys)
        let service = try RecordService(workspace: workspace)
        try validate(versions, bundle: path, store: service.store)
        // The sender's log proofs, and its checkpoint against the last one seen: a fork refuses the bundle.
        var logChecked = try BundleLog.check(
            opened, logFiles: output.logFiles,
            versions: Dictionary(versions.map { ($0.stored.id, $0.stored) }, uniquingKeysWith: { a, _ in a }),
            bundle: path, workspace: workspace, store: service.store)
        // Blobs are content-addressed: moving them in is idempotent and safe before the store commit.
        let stored = try output.publishBlobs(into: workspace, store: service.store)
        for (sha, size, key) in stored {
            try service.store.registerBlob(sha256: sha, size: size, key: key, replacing: true)
        }
        let summary = try service.store.insert(versions.map(\.stored), authority: service.authority)
        if !summary.erased.isEmpty { _ = try service.deleteErasedBlobs() }
        // The sender holds what it sent; it also acknowledges our bundles it imported.
        try service.store.recordReceived(
            partner: opened.signerFingerprint, bundleId: opened.manifest.bundleId, versions: versions.map(\.stored.id),
            acknowledges: opened.manifest.acknowledges ?? [])
        try BundleLog.commit(&logChecked, sender: opened.signerFingerprint, workspace: workspace, store: service.store)
        var inSync: Bool? = nil
        if let theirs = opened.manifest.summary {
            inSync = try service.store.stateHash() == theirs.stateHash
        }
        return Report(
            file: path, signer: workspace.signerName(opened.signerFingerprint), versionsAdded: summary.added.count,
            versionsAlreadyPresent: summary.alreadyPresent,
            recordsWithConcurrentVersions: summary.recordsWithConcurrentHeads,
            incompleteHistory: summary.incomplete, attachmentsStored: stored.count,
            plainFilesIgnored: output.plainFiles,
            erasedRecords: summary.erased,
            pendingRequests: try pendingRequests(versions.map(\.stored), service: service),
            senderSummary: opened.manifest.summary, inSyncWithSender: inSync, log: logChecked.report)
    }
}

extension SDJWTError {
    var isUntrustedSigner: Bool {
        if case .untrustedSigner = self { return true }
        return false
    }
}

/// Receives a bundle's entries during import: record versions in memory (bounded), attachments into a staging
/// folder inside the blob store, plain files counted and skipped.
final class ImportOutput: BundleEntryOutput {
    static let maximumRecordSize: UInt64 = 256 << 20

    let staging: URL
    var records: [String: String] = [:]
    /// The listed log entries (`log/…`): proofs and cosignatures, checked by ``BundleLog``.
    var logFiles: [String: [UInt8]] = [:]
    var plainFiles = 0
    private var blobs: [(sha: String, size: UInt64, key: SecretBytes)] = []
    private var currentPath: String?
    private var currentRecord: [UInt8]?
    private var currentBlob: EncryptedBlob.Writer?
    private var published = false
    private let leftover: Int

    init(stagingParent: URL) throws {
        staging = stagingParent.appendingPathComponent(".incoming-\(UUID().uuidString.prefix(8))")
        leftover = Leftovers.register(staging.path)
        try FileManager.default.createDirectory(
            at: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    deinit {
        try? FileManager.default.removeItem(at: staging)
        Leftovers.unregister(leftover)
    }

    func begin(path: String, size: UInt64) throws {
        currentPath = path
        if path.hasPrefix(BundlePath.recordsPrefix) {
            guard size <= Self.maximumRecordSize else {
                throw AmanatError(
                    .malformedInput, "the bundle's \(path) is larger than \(Self.maximumRecordSize) bytes; refused.")
            }
            currentRecord = []
        } else if path.hasPrefix(BundlePath.logPrefix) {
            guard size <= Self.maximumRecordSize else {
                throw AmanatError(
                    .malformedInput, "the bundle's \(path) is larger than \(Self.maximumRecordSize) bytes; refused.")
            }
            currentRecord = []
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
        if currentRecord != nil { currentRecord!.append(contentsOf: bytes) }
        try currentBlob?.write(bytes)
    }

    func end() throws {
        if let path = currentPath, let bytes = currentRecord {
            if path.hasPrefix(BundlePath.logPrefix) {
                logFiles[path] = bytes
            } else {
                records[path] = String(decoding: bytes, as: UTF8.self)
            }
        }
        try currentBlob?.finish()
        currentBlob = nil
        currentRecord = nil
        currentPath = nil
    }

    /// Moves verified blobs into the content-addressed store (skipping ones already there with a key).
    func publishBlobs(into workspace: Workspace, store: Store) throws -> [(String, UInt64, SecretBytes)] {
        var moved: [(String, UInt64, SecretBytes)] = []
        for (sha, size, key) in blobs {
            let target = workspace.blobURL(sha)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            if try !FileManager.default.fileExists(atPath: target.path) || store.blobKey(sha256: sha) == nil {
                try FileMove.rename(staging.appendingPathComponent(sha), to: target)
                moved.append((sha, size, key))
            }
        }
        return moved
    }
}
