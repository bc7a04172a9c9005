import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatStore
import Foundation

/// One file of a publication to log (`Specs/log.md`, "In publications"): a presentation, or a media annotation.
struct PublicationLogItem: Sendable {
    /// The record id, or `media/<sha256>` for a media annotation; names the proof files.
    var record: String
    /// The SHA-256 of the bytes published.
    var digest: [UInt8]
    /// The presented version: its signer and its log entry (nil for media).
    var version: (id: String, signer: String, entry: LogEntry?)?
}

extension Workspace {
    /// The provenance files of a publication (`Specs/log.md`, "In publications"), for one of any size: every item
    /// is logged as a
    /// `publication` entry (one transaction) and gets `<record>.tlog-proof` under a new checkpoint, and
    /// `<record>.version.tlog-proof` and `<record>.version.tst` when its presented version is in a timestamped
    /// checkpoint. The files go to `folder` from every core; only the digests are held, never the bytes.
    func writePublicationLog(_ items: [PublicationLogItem], store: Store, into folder: PublicationFolder) throws {
        let entries = try items.map { try LogEntry(kind: .publication, digest: $0.digest) }
        let indexes = try store.appendToLog(entries)
        let (checkpoint, note) = try self.checkpoint(store: store)
        let stamps = try VersionTimestamps(workspace: self, store: store)
        let size = checkpoint.size
        var start = 0
        // In slices, so that the results of one slice (nothing but errors) are all that is held at a time.
        while start < items.count {
            let slice = Array(zip(items[start...], indexes[start...]).prefix(4096))
            _ = try OrderedParallel.map(slice, makeWorker: {}) { _, pair in
                let (item, index) = pair
                try folder.write(
                    "\(item.record).tlog-proof",
                    try TlogProof(
                        index: index, hashes: try store.inclusionProof(index: index, size: size), checkpoint: note
                    )
                    .serialized)
                if let version = item.version, let (proof, token) = try stamps.find(version) {
                    try folder.write("\(item.record).version.tlog-proof", proof)
                    try folder.write("\(item.record).version.tst", token)
                }
            }
            start += slice.count
        }
    }
}

/// The earliest trusted timestamp over a checkpoint that holds a version, with what it reads for every version read once: this organization's
/// fingerprint, its signed checkpoints and its verified timestamps. A partner's version is looked up under a lock
/// (it reads the TSA list and verifies tokens, which is rare and not worth sharing across threads).
final class VersionTimestamps: @unchecked Sendable {
    private let workspace: Workspace
    private let store: Store
    private let own: String
    /// Verified timestamps over our checkpoints, in ``Workspace/storedTimestamps()`` order.
    private let candidates: [(time: Date, size: UInt64, note: [UInt8], token: URL)]
    private let lock = NSLock()
    private var tsaList: TSAList?

    init(workspace: Workspace, store: Store) throws {
        self.workspace = workspace
        self.store = store
        own = try workspace.identity().fingerprint
        var notes: [String: (size: UInt64, note: [UInt8])] = [:]
        for (size, note) in try store.signedCheckpoints() { notes[Workspace.hex(try SHA256.hash(note))] = (size, note) }
        var candidates: [(time: Date, size: UInt64, note: [UInt8], token: URL)] = []
        if !notes.isEmpty {
            for listing in (try? workspace.storedTimestamps()) ?? [] {
                guard case .verified(let info) = listing.status, let (size, note) = notes[listing.subjectDigest] else {
                    continue
                }
                candidates.append((info.genTime, size, note, listing.tokenURL))
            }
        }
        self.candidates = candidates
    }

    /// The version's inclusion proof under the earliest timestamped checkpoint that holds it, and the token; nil
    /// when there is none.
    func find(_ version: (id: String, signer: String, entry: LogEntry?)) throws -> (proof: [UInt8], token: [UInt8])? {
        guard let entry = version.entry else { return nil }
        if version.signer == own {
            guard !candidates.isEmpty, let index = try store.logIndex(of: entry) else { return nil }
            var best: (time: Date, size: UInt64, note: [UInt8], token: URL)? = nil
            for candidate in candidates where candidate.size > index {
                if best == nil || candidate.time < best!.time { best = candidate }
            }
            guard let best, let token = try? Data(contentsOf: best.token),
                let note = try? SignedNote(parsing: best.note), note.serialized == best.note
            else { return nil }
            let proof = try TlogProof(
                index: index, hashes: try store.inclusionProof(index: index, size: best.size), checkpoint: note)
            return (proof.serialized, Array(token))
        }
        // A partner's version: the proof that came with it, and a token over exactly that checkpoint.
        guard let bytes = try store.versionProof(version.id), let proof = try? TlogProof(parsing: bytes) else {
            return nil
        }
        let origin = try Workspace.logOrigin(fingerprint: version.signer)
        let subject = proof.checkpoint.serialized
        lock.lock()
        defer { lock.unlock() }
        if tsaList == nil { tsaList = try workspace.tsaList() }
        guard let list = tsaList else { return nil }
        for stamp in try store.seenTimestamps(origin: origin, covering: proof.index) {
            guard let tsa = list.entry(named: stamp.tsa), let certificates = try? workspace.tsaCertificates(tsa),
                let token = try? TimestampToken(der: stamp.token),
                (try? token.verify(subject: subject, trusting: certificates)) != nil
            else { continue }
            return (bytes, stamp.token)
        }
        return nil
    }
}
