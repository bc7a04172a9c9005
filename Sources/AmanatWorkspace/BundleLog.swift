import AmanatAge
import AmanatBundle
import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatStore
import Foundation

/// The log material a bundle carries (`Specs/log.md`, "In bundles"): inclusion proofs for the sender's own versions
/// (`log/versions.tlog-proofs`, listed in the manifest), the sender's cosignatures on its recipients' checkpoints
/// (`log/cosignatures.notes`, listed), and after the manifest `MANIFEST.tlog`: the manifest's inclusion proof under
/// the sender's newest checkpoint and consistency proofs to it.
public enum BundleLog {
    public static let versionProofsName = "versions.tlog-proofs"
    public static let cosignaturesName = "cosignatures.notes"
    public static let timestampsName = "timestamps.items"
    /// At most this many of our timestamped checkpoints travel in a bundle (the most recent).
    public static let maximumTimestamps = 8

    /// A sequence of labelled items: `amanat-log-items/v1\n`, then per item `LABEL LENGTH\n` and LENGTH bytes and
    /// `\n`. Labels are one token of printable ASCII.
    public struct Items: Sendable, Equatable {
        public static let magic = "amanat-log-items/v1\n"
        public static let maximumItems = 10_000_000
        public var items: [(label: String, bytes: [UInt8])] = []

        public init(_ items: [(label: String, bytes: [UInt8])] = []) { self.items = items }

        public static func == (a: Items, b: Items) -> Bool {
            a.items.count == b.items.count
                && zip(a.items, b.items).allSatisfy { $0.label == $1.label && $0.bytes == $1.bytes }
        }

        public var serialized: [UInt8] {
            var out = Array(Self.magic.utf8)
            for item in items {
                out += Array("\(item.label) \(item.bytes.count)\n".utf8)
                out += item.bytes
                out.append(0x0A)
            }
            return out
        }

        public init(parsing bytes: [UInt8]) throws {
            let magic = Array(Self.magic.utf8)
            guard bytes.starts(with: magic) else {
                throw LogError.malformedProof(reason: "not an amanat-log-items/v1 file")
            }
            var i = magic.count
            while i < bytes.count {
                guard let newline = bytes[i...].firstIndex(of: 0x0A), newline - i <= 200 else {
                    throw LogError.malformedProof(reason: "an item line is cut short or too long")
                }
                let (label, length) = try Self.itemLine(bytes[i..<newline])
                let start = newline + 1
                guard length <= bytes.count - start - 1, bytes[start + length] == 0x0A else {
                    throw LogError.malformedProof(reason: "an item is cut short")
                }
                guard items.count < Self.maximumItems else { throw LogError.malformedProof(reason: "too many items") }
                items.append((label, Array(bytes[start..<start + length])))
                i = start + length + 1
            }
        }

        /// An item's line `LABEL LENGTH` (without its newline): one token of printable ASCII, then a length of at
        /// most 9 digits without leading zeros.
        static func itemLine(_ bytes: ArraySlice<UInt8>) throws -> (label: String, length: Int) {
            let line = String(decoding: bytes, as: UTF8.self)
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty,
                parts[0].utf8.allSatisfy({ (0x21...0x7E).contains($0) }),
                parts[1].count <= 9, parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let length = Int(parts[1]), parts[1] == "0" || !parts[1].hasPrefix("0")
            else { throw LogError.malformedProof(reason: "a malformed item line") }
            return (String(parts[0]), length)
        }
    }

    /// Reads `amanat-log-items/v1` one item at a time, with the rules of ``Items/init(parsing:)``, from a source too
    /// large to hold: a bundle's version proofs (about a kilobyte per version), staged encrypted on disk. An item
    /// may be at most ``maximumItemBytes`` long (a tlog proof is a few kilobytes).
    final class ItemReader {
        static let maximumItemBytes = 1 << 20
        private let read: (UnsafeMutableRawBufferPointer) throws -> Int
        private var buffer: [UInt8] = []
        private var position = 0
        private var atEnd = false
        private var count = 0
        /// Where each read lands before it joins `buffer` (allocated once, not per read).
        private var chunk = [UInt8](repeating: 0, count: 1 << 16)

        /// - Parameter read: fills its argument with the next bytes of the stream; 0 at its end.
        /// - Throws: ``AmanatLog/LogError/malformedProof(reason:)`` when the stream does not start with the magic line.
        init(read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
            self.read = read
            let magic = Array(Items.magic.utf8)
            try fill(magic.count)
            guard buffer.count >= magic.count, buffer[0..<magic.count].elementsEqual(magic) else {
                throw LogError.malformedProof(reason: "not an amanat-log-items/v1 file")
            }
            position = magic.count
        }

        /// Makes `n` bytes available from `position` (fewer at the end of the stream); what was read before is
        /// dropped now and then, so the buffer holds about one item.
        private func fill(_ n: Int) throws {
            if position >= 1 << 16 {
                buffer.removeFirst(position)
                position = 0
            }
            while buffer.count - position < n, !atEnd {
                let got = try chunk.withUnsafeMutableBytes { try read($0) }
                if got == 0 { atEnd = true } else { buffer += chunk[0..<got] }
            }
        }

        /// The next item; nil at the end of the stream.
        /// - Throws: ``AmanatLog/LogError/malformedProof(reason:)`` as ``Items/init(parsing:)`` does, and for an item
        ///   longer than ``maximumItemBytes``.
        func next() throws -> (label: String, bytes: [UInt8])? {
            try fill(201)
            guard position < buffer.count else { return nil }
            let window = buffer[position..<min(buffer.count, position + 201)]
            guard let newline = window.firstIndex(of: 0x0A) else {
                throw LogError.malformedProof(reason: "an item line is cut short or too long")
            }
            let (label, length) = try Items.itemLine(buffer[position..<newline])
            guard length <= Self.maximumItemBytes else { throw LogError.malformedProof(reason: "an item is too large") }
            position = newline + 1
            try fill(length + 1)
            guard buffer.count - position >= length + 1, buffer[position + length] == 0x0A else {
                throw LogError.malformedProof(reason: "an item is cut short")
            }
            guard count < Items.maximumItems else { throw LogError.malformedProof(reason: "too many items") }
            count += 1
            defer { position += length + 1 }
            return (label, Array(buffer[position..<position + length]))
        }
    }
}

/// A consistency proof as a bundle carries it: `old N\nnew M\n` and one base64 hash per line.
public struct ConsistencyItem: Sendable, Equatable {
    public var oldSize: UInt64
    public var newSize: UInt64
    public var hashes: [LogHash]

    public init(oldSize: UInt64, newSize: UInt64, hashes: [LogHash]) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.hashes = hashes
    }

    public var serialized: [UInt8] {
        Array(
            (["old \(oldSize)", "new \(newSize)"] + hashes.map { Data($0).base64EncodedString() })
                .joined(separator: "\n").utf8) + [0x0A]
    }

    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= 8192, bytes.last == 0x0A else {
            throw LogError.malformedProof(reason: "a malformed consistency proof")
        }
        let lines = String(decoding: bytes.dropLast(), as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        func number(_ line: Substring, _ word: String) throws -> UInt64 {
            guard line.hasPrefix(word + " "), let n = UInt64(line.dropFirst(word.count + 1)),
                String(n) == line.dropFirst(word.count + 1)
            else { throw LogError.malformedProof(reason: "a malformed consistency proof") }
            return n
        }
        guard lines.count >= 2, lines.count <= 2 + 64 else {
            throw LogError.malformedProof(reason: "a malformed consistency proof")
        }
        oldSize = try number(lines[0], "old")
        newSize = try number(lines[1], "new")
        hashes = try lines.dropFirst(2).map { line in
            guard let data = Data(base64Encoded: String(line)), data.count == 32,
                data.base64EncodedString() == line
            else { throw LogError.malformedProof(reason: "a malformed hash in a consistency proof") }
            return LogHash(Array(data))
        }
    }
}

extension BundleLog {
    /// What the sender puts in a bundle before sealing: proofs for its own versions and its cosignatures on the
    /// recipients' logs, as listed entries; and the checkpoint they were made under.
    struct SealMaterial {
        var inputs: [BundleInput] = []
        var checkpointSize: UInt64
        /// Sizes of our checkpoints whose timestamps travel in the bundle (the trailer proves them consistent).
        var timestampedSizes: Set<UInt64> = []
        /// The version proofs being made on other threads while the records are sealed.
        var proofs: Ahead<UInt64>?

        /// Waits for the version proofs still being made (sealing stopped before it read them), so that nothing
        /// writes into the staging folder once sealing has ended.
        func finishProofs() { proofs?.wait() }
    }

    /// The size of the version proofs file (``Items``, magic line first) for versions at these log indexes in the
    /// tree of `treeSize` leaves, each proved to the checkpoint `note`.
    static func proofsSize(
        _ logged: [(index: UInt64, position: Int)], versionIds: [String], treeSize: UInt64, note: SignedNote
    ) -> UInt64 {
        let noteBytes = note.serialized.count
        var total = UInt64(Items.magic.utf8.count)
        for entry in logged {
            let proof = TlogProof.serializedSize(
                index: entry.index, hashCount: LogTree.inclusionProofLength(index: entry.index, size: treeSize),
                checkpointBytes: noteBytes)
            // "<label> <count>\n", the proof, "\n"
            total += UInt64(versionIds[entry.position].utf8.count + 1 + String(proof).utf8.count + 1 + proof + 1)
        }
        return total
    }

    /// Makes the version proofs of `logged` (sorted by index) a few chunks at a time on every core and writes them,
    /// in order, to the staged file ``versionProofsName``; returns its size.
    static func makeProofs(
        _ logged: [(index: UInt64, position: Int)], versionIds: [String], store: Store, treeSize: UInt64,
        note: SignedNote, staging: SealStaging, chunk: Int
    ) throws -> UInt64 {
        let parts = stride(from: 0, to: logged.count, by: chunk).map { $0..<min($0 + chunk, logged.count) }
        var writer: EncryptedBlob.Writer?
        var written: UInt64 = 0
        // A few chunks at a time, so that memory holds only their proofs.
        let group = 2 * ProcessInfo.processInfo.activeProcessorCount
        // Every proof ends with the same checkpoint note: its bytes are made once.
        let prepared = TlogProof.SerializedNote(note)
        for first in stride(from: 0, to: parts.count, by: group) {
            let made = try OrderedParallel.map(
                Array(parts[first..<min(first + group, parts.count)]), minimumPerCore: 1, run: 1, makeWorker: {}
            ) { _, range -> [UInt8] in
                let part = logged[range]
                let hashes = try store.inclusionProofs(indexes: part.map(\.index), size: treeSize)
                var items = Items()
                for (entry, hashes) in zip(part, hashes) {
                    var proof: [UInt8] = []
                    try TlogProof(index: entry.index, hashes: hashes, checkpoint: note).append(
                        to: &proof, checkpoint: prepared)
                    items.items.append((versionIds[entry.position], proof))
                }
                return items.serialized
            }
            for var bytes in made {
                // Items without the magic line: the file has it once, at the start.
                if let writer {
                    bytes.removeFirst(Items.magic.utf8.count)
                    try bytes.withUnsafeBytes { try writer.write($0) }
                } else {
                    let first = try staging.writer(versionProofsName)
                    try bytes.withUnsafeBytes { try first.write($0) }
                    writer = first
                }
                written += UInt64(bytes.count)
            }
        }
        try writer?.finish()
        return written
    }

    static func listedInput(_ name: String, _ bytes: [UInt8]) -> BundleInput {
        var input = BundleInput(name: name, size: UInt64(bytes.count), read: Age.memorySource(bytes))
        input.folder = BundlePath.logPrefix
        return input
    }

    /// The listed log entries of a bundle for `partners` holding `versionIds`. The version proofs (about a kilobyte
    /// each) are made a chunk at a time on other threads, while the bundle's records are sealed, and staged encrypted
    /// in `staging`, from where the bundle input reads them once they are all made: it comes after the records, and
    /// its size, which the bundle's header states first, follows from the versions' log indexes alone
    /// (``proofsSize(_:versionIds:treeSize:note:)``).
    static func sealMaterial(
        workspace: Workspace, store: Store, versionIds: [String], partners: [String], staging: SealStaging,
        chunk: Int = 1000
    ) throws -> SealMaterial {
        let chunk = max(1, chunk)
        let (checkpoint, note) = try workspace.checkpoint(store: store)
        var material = SealMaterial(checkpointSize: checkpoint.size)
        // The versions' log indexes first (16 bytes each), then their proofs in log order: the siblings of
        // neighbouring leaves are neighbouring rows of the log, read a range at a time (``Store/inclusionProofs``).
        // A recipient looks proofs up by version id, so their order in the file is free. Both are made a chunk at a
        // time on every core (each chunk through its own read transaction of the same unchanged log).
        let positions = stride(from: 0, to: versionIds.count, by: chunk).map { $0..<min($0 + chunk, versionIds.count) }
        var logged = try OrderedParallel.map(positions, minimumPerCore: 1, run: 1, makeWorker: {}) {
            _, range -> [(index: UInt64, position: Int)] in
            let digests = range.compactMap { position in Base64URL.decode(versionIds[position]).map { (position, $0) } }
            let indexes = try store.versionLogIndexes(digests: digests.map(\.1))
            return digests.compactMap { position, digest in indexes[Data(digest)].map { ($0, position) } }
        }.flatMap { $0 }
        if !logged.isEmpty {
            logged.sort { $0.index < $1.index }
            let expected = proofsSize(logged, versionIds: versionIds, treeSize: checkpoint.size, note: note)
            let made = Ahead { [logged] in
                try makeProofs(
                    logged, versionIds: versionIds, store: store, treeSize: checkpoint.size, note: note,
                    staging: staging, chunk: chunk)
            }
            material.proofs = made
            let source = ProofsSource(staging: staging, made: made, size: expected)
            var input = BundleInput(name: versionProofsName, size: expected) { try source.read($0) }
            input.folder = BundlePath.logPrefix
            material.inputs.append(input)
        }
        var cosignatures = Items()
        for fp in partners {
            if let seen = try store.seenCheckpoint(origin: try Workspace.logOrigin(fingerprint: fp)),
                let cosigned = seen.cosigned
            {
                cosignatures.items.append((seen.origin, cosigned))
            }
        }
        if !cosignatures.items.isEmpty {
            material.inputs.append(listedInput(cosignaturesName, cosignatures.serialized))
        }
        // Trusted timestamps over our checkpoints (each: the checkpoint as timestamped, then the token), the most
        // recent first; a recipient keeps those its own TSA list verifies.
        var checkpoints: [String: (size: UInt64, note: [UInt8])] = [:]
        for (size, note) in try store.signedCheckpoints() {
            checkpoints[Workspace.hex(try SHA256.hash(note))] = (size, note)
        }
        var stamps: [(size: UInt64, note: [UInt8], token: [UInt8])] = []
        for listing in (try? workspace.storedTimestamps()) ?? [] {
            guard case .verified = listing.status, let checkpoint = checkpoints[listing.subjectDigest],
                let token = try? Data(contentsOf: listing.tokenURL)
            else { continue }
            stamps.append((checkpoint.size, checkpoint.note, Array(token)))
        }
        var timestamps = Items()
        for stamp in stamps.sorted(by: { $0.size > $1.size }).prefix(maximumTimestamps) {
            timestamps.items += [("checkpoint", stamp.note), ("token", stamp.token)]
            material.timestampedSizes.insert(stamp.size)
        }
        if !timestamps.items.isEmpty { material.inputs.append(listedInput(timestampsName, timestamps.serialized)) }
        return material
    }

    /// `MANIFEST.tlog`: logs the signed manifest, signs a new checkpoint, and returns the manifest's inclusion
    /// proof under it with consistency proofs from every size a recipient may hold (the checkpoint the listed
    /// proofs use, the last one each was sent and the last one each cosigned).
    static func trailer(
        manifestJWS: String, workspace: Workspace, store: Store, material: SealMaterial, partners: [String]
    ) throws -> (bytes: [UInt8], size: UInt64) {
        let entry = try LogEntry(kind: .manifest, digest: try SHA256.hash(Array(manifestJWS.utf8)))
        let index = try store.appendToLog(entry)
        let (checkpoint, note) = try workspace.checkpoint(store: store)
        let size = checkpoint.size
        let proof = try TlogProof(
            index: index, hashes: try store.inclusionProof(index: index, size: size), checkpoint: note)
        var items = Items([("manifest", proof.serialized)])
        var olds: Set<UInt64> = material.timestampedSizes.union([material.checkpointSize])
        let cosigned = try store.cosigners()
        for fp in partners {
            if let sent = try store.lastSentCheckpoint(partner: fp) { olds.insert(sent) }
            if let size = cosigned[fp] { olds.insert(size) }
        }
        for old in olds.sorted() where old > 0 && old < size {
            let item = ConsistencyItem(
                oldSize: old, newSize: size, hashes: try store.consistencyProof(from: old, to: size))
            items.items.append(("consistency", item.serialized))
        }
        return (items.serialized, size)
    }
}

/// What a bundle's log material said, and what the import did with it.
public struct BundleLogReport: Encodable, Sendable, Equatable {
    public enum Status: String, Encodable, Sendable {
        /// The bundle has no log material (an earlier release made it).
        case absent
        /// The first checkpoint seen from this organization: taken as the start of its history.
        case first
        /// The checkpoint extends the last one seen (a consistency proof verified), or equals it.
        case consistent
        /// Older than the last checkpoint seen (bundles arrived out of order); checked where possible, not kept.
        case older
        /// Newer, but the bundle carries no consistency proof from the last checkpoint seen: not cosigned.
        case unchecked
    }

    public var origin: String?
    public var status: Status
    /// The sender's checkpoint the bundle proves its manifest under.
    public var size: UInt64?
    /// Whether we cosigned it (it goes back to the sender in our next bundle).
    public var cosigned = false
    /// Inclusion proofs of the sender's versions that verified and were kept.
    public var versionProofs = 0
    /// Cosignatures on our own checkpoints that the sender returned.
    public var cosignaturesReceived = 0
    /// Trusted timestamps over the sender's checkpoints that verified against our TSA list, and were kept.
    public var timestamps = 0
    /// Our checkpoints the sender cosigned that our log does not agree with (alarms raised).
    public var ownLogAlarms = 0
}

extension BundleLog {
    /// The checked log material of an opened bundle, ready to be kept once the import commits.
    struct Checked {
        var report: BundleLogReport
        var checkpoint: Checkpoint?
        var note: SignedNote?
        var keep = false
        /// Opens the bundle's version proofs, all checked, again (they are kept once the import commits); nil when
        /// it has none.
        var versionProofs: (() throws -> ItemReader)?
        var versionProofCount = 0
        var cosignatures: [(size: UInt64, note: [UInt8])] = []
        var timestamps: [SeenTimestamp] = []
        /// The entries the sender's version proofs prove, by version id: each must be a version of the bundle,
        /// signed by the sender, of that kind (``match(_:)``, ``checkEveryProofMatched(bundle:)``).
        var provenVersions: [String: LogEntry] = [:]
        /// Proven versions not yet seen among the bundle's versions.
        var unmatched = Set<String>()

        /// Checks a verified version of the bundle against the proofs: a proven version is the sender's, of the kind
        /// proven.
        mutating func match(_ version: StoredVersion, sender fingerprint: String, bundle path: String) throws {
            guard let proven = provenVersions[version.id] else { return }
            guard version.signer == fingerprint, Store.logEntry(for: version) == proven else {
                throw refuse(path, "log/\(versionProofsName) proves a version the sender did not send or sign")
            }
            unmatched.remove(version.id)
        }

        /// After the bundle's last version: every proof was for one of them.
        func checkEveryProofMatched(bundle path: String) throws {
            guard unmatched.isEmpty else {
                throw refuse(path, "log/\(versionProofsName) proves a version the sender did not send or sign")
            }
        }
    }

    static func refuse(_ path: String, _ why: String) -> AmanatError {
        AmanatError(.verificationFailed, "\(path): \(why). Nothing was imported.")
    }

    /// Checks a bundle's log material before anything is imported: the manifest's inclusion proof, the proofs of
    /// the sender's versions, and that the sender's checkpoint extends the last one seen from it. A fork (two signed
    /// checkpoints that cannot both be true) is kept as evidence (`amanat log alarms`) and refuses the bundle.
    ///
    /// It runs before the bundle's versions are verified (they stream into the store afterwards): a version proof
    /// names a version id only, so the entry it proves (record version, retraction or erasure) is the one its
    /// inclusion proof verifies for, and each verified version is then matched against it (``Checked/match(_:sender:bundle:)``).
    /// - Parameters:
    ///   - logFiles: the bundle's small log entries (`log/cosignatures.notes`, `log/timestamps.items`), read whole.
    ///   - versionProofs: opens `log/versions.tlog-proofs` for reading (nil: the bundle has none); it is read once
    ///     here and once more when the import commits.
    static func check(
        _ opened: OpenedBundle, logFiles: [String: [UInt8]], versionProofs: (() throws -> ItemReader)?,
        bundle path: String, workspace: Workspace, store: Store
    ) throws -> Checked {
        let fingerprint = opened.signerFingerprint
        let origin = try Workspace.logOrigin(fingerprint: fingerprint)
        guard let trailer = opened.trailer else {
            guard logFiles.isEmpty else { throw refuse(path, "it carries log proofs but no \(BundlePath.trailerPath)") }
            return Checked(report: BundleLogReport(origin: origin, status: .absent))
        }
        guard let identity = try workspace.trustedIdentity(fingerprint: fingerprint) else {
            throw refuse(path, "its sender is not on the trust list")
        }
        let verifier = try Workspace.logVerifier(identity)
        let items: Items
        do { items = try Items(parsing: trailer) } catch {
            throw AmanatError(
                .malformedInput, "\(path): its \(BundlePath.trailerPath) is malformed (\(error)). Nothing was imported."
            )
        }
        // 1. The manifest is in the sender's log, under a checkpoint the sender signed.
        guard let manifestProof = items.items.first(where: { $0.label == "manifest" }) else {
            throw refuse(path, "its \(BundlePath.trailerPath) holds no proof for the manifest")
        }
        let manifestEntry = try LogEntry(kind: .manifest, digest: try SHA256.hash(Array(opened.manifestJWS.utf8)))
        let checkpoint: Checkpoint
        let note: SignedNote
        do {
            let proof = try TlogProof(parsing: manifestProof.bytes)
            checkpoint = try proof.verify(leafHash: try MerkleHash.leaf(manifestEntry.encoded), verifier: verifier)
            note = proof.checkpoint
        } catch {
            throw refuse(path, "the manifest's proof in the sender's log does not verify (\(error))")
        }
        guard checkpoint.origin == origin else { throw refuse(path, "its log checkpoint names another log") }
        var consistency: [UInt64: ConsistencyItem] = [:]
        for item in items.items where item.label == "consistency" {
            guard let parsed = try? ConsistencyItem(parsing: item.bytes), parsed.newSize == checkpoint.size else {
                throw AmanatError(
                    .malformedInput,
                    "\(path): a consistency proof in \(BundlePath.trailerPath) is malformed. Nothing was imported.")
            }
            consistency[parsed.oldSize] = parsed
        }
        /// Whether the sender's checkpoint `old` is consistent with `checkpoint`; nil when no proof is carried.
        func extends(_ oldSize: UInt64, _ oldRoot: LogHash) -> Bool? {
            if oldSize == checkpoint.size { return oldRoot == checkpoint.rootHash }
            if oldSize == 0 { return true }
            guard let proof = consistency[oldSize] else { return nil }
            return LogTree.verifyConsistency(
                oldSize: oldSize, newSize: checkpoint.size, oldRoot: oldRoot, newRoot: checkpoint.rootHash,
                proof: proof.hashes)
        }
        func fork(_ reason: String, _ other: [UInt8]) throws -> Never {
            try store.recordAlarm(origin: origin, reason: reason, first: other, second: note.serialized)
            throw refuse(
                path,
                "FORK: \(reason). Both signed checkpoints are kept as evidence (`amanat log alarms`); ask "
                    + "\(workspace.signerName(fingerprint)) by phone what happened before importing anything more from it"
            )
        }
        var checked = Checked(report: BundleLogReport(origin: origin, status: .first, size: checkpoint.size))
        checked.checkpoint = checkpoint
        checked.note = note
        // 2. The proofs of the sender's versions, under its earlier checkpoint, which the new one must extend.
        // They are read one at a time from where the import staged them (a million versions' proofs are about a
        // gigabyte); all of them carry the same checkpoint as a rule, whose signature is verified once.
        if let versionProofs {
            func malformed(_ error: any Error) -> AmanatError {
                AmanatError(
                    .malformedInput, "\(path): log/\(versionProofsName) is malformed (\(error)). Nothing was imported.")
            }
            let proofs: ItemReader
            do { proofs = try versionProofs() } catch let error as LogError { throw malformed(error) }
            var checkedSizes: [UInt64: LogHash] = [:]
            var proofVerifier = TlogProofBatchVerifier(verifier: verifier)
            while true {
                let item: (label: String, bytes: [UInt8])?
                do { item = try proofs.next() } catch let error as LogError { throw malformed(error) }
                guard let (id, bytes) = item else { break }
                guard let digest = Base64URL.decode(id), digest.count == 32 else {
                    throw refuse(path, "log/\(versionProofsName) proves a version the sender did not send or sign")
                }
                do {
                    let proof = try TlogProof(parsing: bytes)
                    let entry = try provenEntry(digest: digest, proof: proof)
                    if let earlier = checked.provenVersions[id], earlier != entry {
                        throw refuse(path, "log/\(versionProofsName) proves a version as two different entries")
                    }
                    checked.provenVersions[id] = entry
                    checked.unmatched.insert(id)
                    let under = try proofVerifier.verify(proof, leafHash: try MerkleHash.leaf(entry.encoded))
                    guard under.origin == origin else {
                        throw LogError.originMismatch(expected: origin, found: under.origin)
                    }
                    if let root = checkedSizes[under.size], root != under.rootHash {
                        try fork(
                            "two checkpoints of size \(under.size) with different roots in one bundle",
                            proof.checkpoint.serialized)
                    }
                    checkedSizes[under.size] = under.rootHash
                } catch let error as AmanatError {
                    throw error
                } catch {
                    throw refuse(path, "the log proof of version \(id) does not verify (\(error))")
                }
                checked.versionProofCount += 1
            }
            checked.versionProofs = versionProofs
            for (size, root) in checkedSizes where extends(size, root) != true {
                throw refuse(
                    path, "its version proofs use a checkpoint (size \(size)) the manifest's checkpoint does not extend"
                )
            }
        }
        // 3. The new checkpoint against the last one seen from the sender.
        if let last = try store.seenCheckpoint(origin: origin) {
            if last.size > checkpoint.size {
                if let same = try store.seenCheckpoint(origin: origin, size: checkpoint.size),
                    same.rootHash != checkpoint.rootHash
                {
                    try fork("two signed checkpoints of size \(checkpoint.size) with different roots", same.note)
                }
                checked.report.status = .older
            } else {
                switch extends(last.size, last.rootHash) {
                case true?:
                    checked.report.status = .consistent
                    checked.keep = true
                case false?:
                    try fork(
                        last.size == checkpoint.size
                            ? "two signed checkpoints of size \(checkpoint.size) with different roots"
                            : "the checkpoint of size \(checkpoint.size) does not extend the one of size \(last.size) seen before",
                        last.note)
                case nil:
                    checked.report.status = .unchecked
                }
            }
        } else {
            checked.keep = true
        }
        // 4. Timestamps over the sender's checkpoints: each checkpoint signed by the sender and consistent with the
        // bundle's (or a fork), each token verified against our own TSA list (others are ignored).
        if let bytes = logFiles[BundlePath.logPrefix + timestampsName] {
            guard let items = try? Items(parsing: bytes), items.items.count % 2 == 0 else {
                throw AmanatError(.malformedInput, "\(path): log/\(timestampsName) is malformed. Nothing was imported.")
            }
            let authorities = (try? workspace.tsaList().authorities) ?? []
            for pair in stride(from: 0, to: items.items.count, by: 2) {
                let (noteItem, tokenItem) = (items.items[pair], items.items[pair + 1])
                guard noteItem.label == "checkpoint", tokenItem.label == "token",
                    let stamped = try? SignedNote(parsing: noteItem.bytes), verifier.verify(stamped),
                    let earlier = try? Checkpoint(parsing: stamped.text), earlier.origin == origin
                else { throw refuse(path, "a timestamped checkpoint in log/\(timestampsName) is not the sender's") }
                switch extends(earlier.size, earlier.rootHash) {
                case false?:
                    try fork(
                        "a timestamped checkpoint of size \(earlier.size) is not in the bundle's history",
                        noteItem.bytes)
                case nil: continue
                case true?: break
                }
                guard let token = try? TimestampToken(der: tokenItem.bytes) else { continue }
                for tsa in authorities {
                    guard let certificates = try? workspace.tsaCertificates(tsa),
                        let info = try? token.verify(subject: noteItem.bytes, trusting: certificates)
                    else { continue }
                    checked.timestamps.append(
                        SeenTimestamp(
                            origin: origin, size: earlier.size, tsa: tsa.name, genTime: info.genTime,
                            token: tokenItem.bytes))
                    break
                }
            }
        }
        // 5. Cosignatures the sender returns on our checkpoints: kept when our log agrees, an alarm when it does not.
        if let bytes = logFiles[BundlePath.logPrefix + cosignaturesName], let cosigned = try? Items(parsing: bytes) {
            let ownOrigin = try workspace.logOrigin()
            let ownVerifier = try Workspace.logVerifier(try workspace.identity())
            let ownSize = try store.logSize()
            for (label, bytes) in cosigned.items where label == ownOrigin {
                guard let note = try? SignedNote(parsing: bytes), ownVerifier.verify(note),
                    let ours = try? Checkpoint(parsing: note.text), ours.origin == ownOrigin,
                    let cosigner = try? NoteVerifier(
                        name: origin, publicKey: verifier.publicKey, algorithm: .cosignatureV1),
                    Cosignature.verify(note, verifier: cosigner) != nil
                else { continue }
                if try ours.size > ownSize || store.logRoot(size: ours.size) != ours.rootHash {
                    try store.recordAlarm(
                        origin: ownOrigin,
                        reason:
                            "\(workspace.signerName(fingerprint)) cosigned a checkpoint of our log (size \(ours.size)) that our log does not agree with: our key signed another history",
                        first: (try store.signedCheckpoint(size: ours.size))?.note ?? [], second: bytes)
                    checked.report.ownLogAlarms += 1
                    continue
                }
                checked.cosignatures.append((ours.size, bytes))
            }
        }
        return checked
    }

    /// The entry of a version's log proof: the kind (record version, retraction, erasure) whose leaf the inclusion
    /// proof leads to the root of its checkpoint from; the first kind when none does (its verification then fails).
    static func provenEntry(digest: [UInt8], proof: TlogProof) throws -> LogEntry {
        let kinds: [LogEntry.Kind] = [.recordVersion, .retraction, .erasure]
        let entries = try kinds.map { try LogEntry(kind: $0, digest: digest) }
        guard let checkpoint = try? Checkpoint(parsing: proof.checkpoint.text), proof.index < checkpoint.size else {
            return entries[0]
        }
        for entry in entries
        where LogTree.verifyInclusion(
            leafHash: try MerkleHash.leaf(entry.encoded), index: proof.index, size: checkpoint.size,
            proof: proof.hashes, rootHash: checkpoint.rootHash)
        {
            return entry
        }
        return entries[0]
    }

    /// Keeps what a checked bundle's log material proved, once its records are imported: the sender's checkpoint,
    /// cosigned by us, the proofs of its versions and its cosignatures on our checkpoints.
    static func commit(_ checked: inout Checked, sender fingerprint: String, workspace: Workspace, store: Store) throws
    {
        for (size, note) in checked.cosignatures {
            try store.storeCosignature(size: size, cosigner: fingerprint, note: note)
        }
        checked.report.cosignaturesReceived = checked.cosignatures.count
        try store.recordSeenTimestamps(checked.timestamps)
        checked.report.timestamps = checked.timestamps.count
        checked.report.versionProofs = checked.versionProofCount
        guard let checkpoint = checked.checkpoint, let note = checked.note else { return }
        // The proofs, read again from where they were staged (every one of them verified in ``check``).
        let open = checked.versionProofs
        let replay: Store.VersionProofs = { add in
            guard let open else { return }
            let proofs = try open()
            while let (id, bytes) = try proofs.next() { try add(id, bytes) }
        }
        var cosigned: [UInt8]? = nil
        if checked.keep {
            let signed = try note.adding(
                try Cosignature.make(
                    for: checkpoint, name: try workspace.logOrigin(), key: try workspace.signingKey(),
                    time: UInt64(Date().timeIntervalSince1970)))
            cosigned = signed.serialized
            checked.report.cosigned = true
        }
        if checked.keep {
            try store.recordSeenCheckpoint(
                SeenCheckpoint(
                    origin: checkpoint.origin, size: checkpoint.size, rootHash: checkpoint.rootHash,
                    note: note.serialized, cosigned: cosigned), versionProofs: replay)
        } else if open != nil {
            try store.recordVersionProofs(replay)
        }
    }
}

extension Workspace {
    /// The place of an opened bundle's manifest in its sender's log (`MANIFEST.tlog`), checked against the sender's
    /// key, with the cosignatures on that checkpoint by organizations this workspace trusts; nil when the bundle
    /// carries no log proof (an earlier release sealed it). Nothing is stored: `inspect` reports, `open` imports.
    /// - Throws: ``AmanatError`` `verificationFailed` when the proof is present but wrong, `malformedInput` when
    ///   `MANIFEST.tlog` is not well formed.
    public func manifestInclusion(_ opened: OpenedBundle) throws -> LogInclusion? {
        guard let trailer = opened.trailer else { return nil }
        let items: BundleLog.Items
        do { items = try BundleLog.Items(parsing: trailer) } catch {
            throw AmanatError(.malformedInput, "the bundle's \(BundlePath.trailerPath) is malformed (\(error)).")
        }
        guard let proof = items.items.first(where: { $0.label == "manifest" }) else {
            throw AmanatError(
                .verificationFailed, "the bundle's \(BundlePath.trailerPath) holds no proof for the manifest.")
        }
        let keys = try VerificationKeys(workspace: self, identityFiles: [])
        return try keys.checkLogProof(
            proof.bytes, file: "the bundle's \(BundlePath.trailerPath)",
            entry: try LogEntry(kind: .manifest, digest: try SHA256.hash(Array(opened.manifestJWS.utf8))),
            owner: opened.signerFingerprint)
    }
}

extension BundleLogReport {
    /// One line for a person: where the sender's log stands after the import.
    public func describe(sender: String) -> String {
        let at = size.map { " (checkpoint of \($0) entries)" } ?? ""
        var line: String
        switch status {
        case .absent: return "The bundle carries no transparency-log proof (sealed by an earlier release)."
        case .first: line = "Its manifest is in \(sender)'s log\(at), the first checkpoint seen from it"
        case .consistent: line = "Its manifest is in \(sender)'s log\(at), which extends the checkpoint seen before"
        case .older:
            line = "Its manifest is in \(sender)'s log\(at), older than a checkpoint seen before (kept that one)"
        case .unchecked:
            line =
                "Its manifest is in \(sender)'s log\(at), but the bundle proves no consistency with the checkpoint seen "
                + "before; ask \(sender) to seal again once your cosignature has reached it"
        }
        line += cosigned ? "; cosigned (the cosignature goes back in your next bundle to it)." : "; not cosigned."
        if timestamps > 0 { line += " \(timestamps) trusted timestamp(s) over its checkpoints verified." }
        return line
    }
}
