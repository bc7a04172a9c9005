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

    /// The item as bytes for a ``Spool``: each text as a 2-byte big-endian length and its UTF-8, the digest, then a
    /// byte saying what follows (0: no version, 1: a version without a log entry, 2: with one, as its kind byte and
    /// digest).
    var encoded: [UInt8] {
        var out: [UInt8] = []
        func text(_ value: String) {
            let bytes = Array(value.utf8.prefix(Int(UInt16.max)))
            out += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
        }
        text(record)
        out += [UInt8(digest.count)] + digest
        guard let version else {
            out.append(0)
            return out
        }
        out.append(version.entry == nil ? 1 : 2)
        text(version.id)
        text(version.signer)
        if let entry = version.entry { out += [entry.kind.rawValue, UInt8(entry.digest.count)] + entry.digest }
        return out
    }

    /// Reads ``encoded`` back.
    /// - Throws: ``AmanatError`` `ioError` for bytes that are not an item.
    init(encoded bytes: [UInt8]) throws {
        var at = 0
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - at >= n else {
                throw AmanatError(.ioError, "a spooled publication log item is cut short (a bug).")
            }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        func byte() throws -> Int { Int(try take(1).first!) }
        func text() throws -> String {
            let length = try byte() << 8 | byte()
            return String(decoding: try take(length), as: UTF8.self)
        }
        record = try text()
        digest = Array(try take(try byte()))
        switch try byte() {
        case 0: version = nil
        case let flag where flag <= 2:
            let id = try text()
            let signer = try text()
            var entry: LogEntry?
            if flag == 2 {
                guard let kind = LogEntry.Kind(rawValue: UInt8(try byte())) else {
                    throw AmanatError(.ioError, "a spooled publication log item names no log entry kind (a bug).")
                }
                entry = try LogEntry(kind: kind, digest: Array(try take(try byte())))
            }
            version = (id, signer, entry)
        default:
            throw AmanatError(.ioError, "a spooled publication log item is not one (a bug).")
        }
        guard at == bytes.count else {
            throw AmanatError(.ioError, "a spooled publication log item has bytes left over (a bug).")
        }
    }

    init(record: String, digest: [UInt8], version: (id: String, signer: String, entry: LogEntry?)?) {
        self.record = record
        self.digest = digest
        self.version = version
    }
}

extension Workspace {
    /// The provenance files of a publication (`Specs/log.md`, "In publications"), for one of any size: every item
    /// (``PublicationLogItem/encoded``, read from `items`) is logged as a `publication` entry (one transaction)
    /// and gets `<record>.tlog-proof` under a new checkpoint, and `<record>.version.tlog-proof` and
    /// `<record>.version.tst` when its presented version is in a timestamped checkpoint. The files go to `folder`
    /// from every core. What is held is an index per item and one slice of items at a time, never the bytes.
    func writePublicationLog(_ items: Spool, store: Store, into folder: PublicationFolder) throws {
        let indexes = try store.appendToLog { append in
            try items.forEach {
                try append(try LogEntry(kind: .publication, digest: PublicationLogItem(encoded: $0).digest))
            }
        }
        guard indexes.count == items.count else {
            throw AmanatError(
                .ioError, "the publication log read back \(indexes.count) of \(items.count) items (a bug).")
        }
        let (checkpoint, note) = try self.checkpoint(store: store)
        let stamps = try VersionTimestamps(workspace: self, store: store)
        let size = checkpoint.size
        var slice: [(PublicationLogItem, UInt64)] = []
        // In slices, so that the results of one slice (nothing but errors) are all that is held at a time.
        func write() throws {
            // The slice's proofs in one read, the subtrees they share looked up once (one read per proof took 2.5 %
            // of publish).
            let proofs = try store.inclusionProofs(indexes: slice.map(\.1), size: size)
            _ = try OrderedParallel.map(Array(zip(slice, proofs)), makeWorker: {}) { _, pair in
                let ((item, index), hashes) = pair
                try folder.write(
                    "\(item.record).tlog-proof",
                    try TlogProof(index: index, hashes: hashes, checkpoint: note).serialized)
                if let version = item.version, let (proof, token) = try stamps.find(version) {
                    try folder.write("\(item.record).version.tlog-proof", proof)
                    try folder.write("\(item.record).version.tst", token)
                }
            }
            slice.removeAll(keepingCapacity: true)
        }
        var next = 0
        try items.forEach { bytes in
            slice.append((try PublicationLogItem(encoded: bytes), indexes[next]))
            next += 1
            if slice.count == 4096 { try write() }
        }
        if !slice.isEmpty { try write() }
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
