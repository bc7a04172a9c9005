// `amanat-bench sync [COUNT]`: import + verify, view rebuild, a 1 % merge and delta bundle sizes, for a plaintext and
// an encrypted store side by side. It streams: versions are signed, verified and stored a chunk at a time, and the
// 1 % edits wait in files, so that the benchmark's own memory does not grow with COUNT (the library's may).
import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import AmanatWorkspace
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Peak resident set size of this process so far, in MiB (`ru_maxrss` is in KiB on Linux, bytes on Darwin).
func peakRSSMiB() -> Double {
    var usage = rusage()
    #if os(Linux)
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss) / 1024
    #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss) / 1_048_576
    #endif
}

/// Each line as soon as it is measured, also into a file or a pipe (a run of a million records takes a while).
private func print(_ line: String) {
    Swift.print(line)
    fflush(nil)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Compact SD-JWTs appended to a file, one per line. Only the line lengths stay in memory, so that batches can be
/// read back, or cut into bundle entries, without holding the lines.
final class LineFile {
    let path: String
    private let handle: FileHandle
    private(set) var lengths: [Int] = []
    private var offsets: [UInt64] = []
    private var end: UInt64 = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw BenchError("cannot create \(path)")
        }
        self.path = path
        handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    }

    deinit { try? handle.close() }

    var count: Int { lengths.count }

    func append(_ lines: [String]) throws {
        var bytes: [UInt8] = []
        for line in lines {
            offsets.append(end + UInt64(bytes.count))
            lengths.append(line.utf8.count)
            bytes += line.utf8
            bytes.append(0x0A)
        }
        try handle.seek(toOffset: end)
        try handle.write(contentsOf: bytes)
        end += UInt64(bytes.count)
    }

    /// The bytes of lines `range`, each with its newline.
    func bytes(_ range: Range<Int>) throws -> [UInt8] {
        guard !range.isEmpty else { return [] }
        let size = Int(offsets[range.upperBound - 1] - offsets[range.lowerBound]) + lengths[range.upperBound - 1] + 1
        try handle.seek(toOffset: offsets[range.lowerBound])
        let data = try handle.read(upToCount: size) ?? Data()
        guard data.count == size else { throw BenchError("\(path) is shorter than written") }
        return [UInt8](data)
    }

    func lines(_ range: Range<Int>) throws -> [String] {
        try bytes(range).split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The first `count` lines as `records/` bundle entries of up to `batchSize` lines each (the layout of
    /// ``BundleInput/recordBatches(_:batchSize:)``); each entry is read from the file only when the sealer reaches
    /// it, and dropped when it has been read.
    func bundleInputs(count: Int, batchSize: Int = 4096) -> [BundleInput] {
        final class Pending {
            var bytes: [UInt8]?
            var position = 0
        }
        return stride(from: 0, to: count, by: batchSize).enumerated().map { index, start in
            let range = start..<min(start + batchSize, count)
            let size = range.reduce(0) { $0 + lengths[$1] + 1 }
            let pending = Pending()
            var input = BundleInput(
                name: String(format: "batch-%06d.sd-jwt-lines", index + 1), size: UInt64(size),
                read: { [self] buffer in
                    if pending.bytes == nil { pending.bytes = try bytes(range) }
                    let bytes = pending.bytes!
                    let n = min(buffer.count, bytes.count - pending.position)
                    if n == 0 {
                        pending.bytes = []
                        return 0
                    }
                    bytes.withUnsafeBytes { source in
                        buffer.copyMemory(
                            from: UnsafeRawBufferPointer(rebasing: source[pending.position..<(pending.position + n)]))
                    }
                    pending.position += n
                    return n
                })
            input.folder = BundlePath.recordsPrefix
            return input
        }
    }
}

/// Sync benchmarks: import + verify, view rebuild, merging two stores that differ in 1 %, delta bundle size.
///
/// Versions are made `chunk` at a time (default 10,000; `AMANAT_BENCH_CHUNK`): signed (not timed), then verified and
/// inserted into the plaintext and the encrypted store in alternation (timed, one transaction per chunk and store).
/// Three batches of edits to 1 % of the records each (records `i` with `i % 100` = the batch number) are signed
/// alongside and written to files; each merge repetition reads its batch back.
func syncBenchmark(count: Int) throws {
    guard count >= 100 else { throw BenchError("sync needs COUNT >= 100 (1 % of the records are edited)") }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunk = max(1, Int(ProcessInfo.processInfo.environment["AMANAT_BENCH_CHUNK"] ?? "") ?? 10_000)
    let key = try Ed25519.SigningKey.generate()
    let fingerprint = Fingerprint.of(key.publicKey)
    let verifying = key.publicKey
    let trusted: @Sendable (String) -> Ed25519.VerifyingKey? = { $0 == fingerprint ? verifying : nil }
    print("sync benchmark: \(count) records, \(cores) cores, chunks of \(chunk)")

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "amanat-sync-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    let changed = count / 100
    let repetitions = 3
    let editFiles = try (0..<repetitions).map { try LineFile(path: folder.appendingPathComponent("edits-\($0)").path) }

    // Plaintext and encrypted side by side. The machine's load moves figures by tens of percent from one minute to
    // the next, so the two are measured in alternation: each chunk is imported into both (which goes first alternates
    // from chunk to chunk, after flushing dirty pages), then the rebuild and the merge alternately, best of
    // `repetitions` each.
    // AMANAT_BENCH_STORES=encrypted measures the encrypted store alone (the targets of a million records are for it;
    // half the run time).
    let only = ProcessInfo.processInfo.environment["AMANAT_BENCH_STORES"]
    let stores = ([("plaintext", nil), ("encrypted", try StoreKey.generate())] as [(label: String, key: StoreKey?)])
        .filter { only == nil || only == $0.label }
    guard !stores.isEmpty else { throw BenchError("AMANAT_BENCH_STORES is plaintext or encrypted") }
    // Opened as a workspace opens its store: the stored view keeps each record's list columns and identifiers.
    func open(_ label: String, _ key: StoreKey?) throws -> Store {
        try Store(
            path: folder.appendingPathComponent("\(label).sqlite").path, key: key,
            summarizer: Workspace.recordSummarizer)
    }
    let opened = try stores.map { try open($0.label, $0.key) }
    var importSeconds = [0.0, 0.0]
    var waitedSeconds = [0.0, 0.0]
    for (chunkIndex, start) in stride(from: 0, to: count, by: chunk).enumerated() {
        let range = start..<min(start + chunk, count)
        let signed = Slots<SignedVersion>(range.count)
        parallel(range.count, workers: cores) { i in
            signed[i] = try! RecordSigner.sign(
                content: syntheticRecord(range.lowerBound + i), kind: .create, recordId: nil, prev: [], key: key,
                policy: policy, issuedAt: 1_764_230_000)
        }
        let versions = signed.items.map { $0! }
        // The edits of this chunk's records, one batch per repetition.
        let targets = range.filter { $0 % 100 < repetitions && $0 / 100 < changed }
        let edits = Slots<String>(targets.count)
        parallel(targets.count, workers: cores) { j in
            let index = targets[j]
            let base = versions[index - range.lowerBound]
            let content = syntheticRecord(index).setting("tags", .array([.string("edited-at-b")]))
            edits[j] =
                try! RecordSigner.sign(
                    content: content, kind: .edit, recordId: base.recordId, prev: [base.versionId], key: key,
                    policy: policy
                ).sdjwt.compact
        }
        for round in 0..<repetitions {
            try editFiles[round].append(targets.indices.filter { targets[$0] % 100 == round }.map { edits[$0]! })
        }
        // Each chunk is imported as `amanat open` imports a bundle: one transaction, batches of 1000 versions, the
        // next batch verified on the other threads while the store writes the current one.
        let batchSize = 1000
        @Sendable func verified(_ range: Range<Int>) -> [StoredVersion] {
            let stored = Slots<StoredVersion>(range.count)
            parallel(range.count, workers: cores) { i in
                let v = try! RecordVerifier.verify(versions[range.lowerBound + i].sdjwt, trustedKey: trusted)
                stored[i] = StoredVersion(verified: v, sdjwt: versions[range.lowerBound + i].sdjwt)
            }
            return stored.items.map { $0! }
        }
        for index in (chunkIndex % 2 == 0 ? stores.indices.map { $0 } : stores.indices.reversed()) {
            sync()
            let t = now()
            var start = 0
            var ahead: Ahead<[StoredVersion]>? = Ahead { verified(0..<min(batchSize, versions.count)) }
            var waited = 0.0
            try opened[index].insert(batches: {
                guard let current = ahead else { return nil }
                let w = now()
                let batch = try current.get()
                waited += now() - w
                start += batchSize
                let next = start
                ahead =
                    next < versions.count ? Ahead { verified(next..<min(next + batchSize, versions.count)) } : nil
                return batch
            })
            importSeconds[index] += now() - t
            waitedSeconds[index] += waited
        }
    }
    for (index, (label, _)) in stores.enumerated() {
        print(
            String(
                format:
                    "  %@: import + verify %d versions: %.2f s (%.0f versions/s; verification overlaps the store's writes, which waited %.2f s for it)",
                label as NSString, count, importSeconds[index], Double(count) / importSeconds[index],
                waitedSeconds[index]))
    }
    let rssAfterImport = peakRSSMiB()
    sync()

    // Rebuild the stored view (`amanat check --rebuild`: every record derived again, in one transaction) and read the
    // state hash from it, on a fresh Store (no key cached).
    var rebuild = [Double.infinity, Double.infinity]
    var hash = [Double.infinity, Double.infinity]
    var hashA = ""
    for _ in 0..<repetitions {
        for (index, (label, storeKey)) in stores.enumerated() {
            let fresh = try open(label, storeKey)
            var t = now()
            try fresh.rebuildView()
            rebuild[index] = min(rebuild[index], now() - t)
            t = now()
            hashA = try fresh.stateHash()
            hash[index] = min(hash[index], now() - t)
        }
    }
    for (index, (label, _)) in stores.enumerated() {
        print(
            String(
                format:
                    "  %@: rebuild the stored view of %d records: %.2f s (+ state hash %.2f s), best of %d",
                label as NSString, count, rebuild[index], hash[index], repetitions))
    }
    let rssAfterRebuild = peakRSSMiB()

    // Two stores that differ in 1 %: B edited 1 % of the records. Merge = import B's new versions into a fresh Store,
    // re-derive. Each repetition merges its own batch of edits (other records), into both stores in turn; the batch
    // is read back from its file and verified before the clock starts.
    var merge = [Double.infinity, Double.infinity]
    var mergeInsert = [0.0, 0.0]
    var states = ["", ""]
    for file in editFiles {
        let lines = try file.lines(0..<file.count)
        let verified = Slots<StoredVersion>(lines.count)
        parallel(lines.count, workers: cores) { i in
            let sdjwt = try! SDJWT.parse(lines[i])
            verified[i] = StoredVersion(verified: try! RecordVerifier.verify(sdjwt, trustedKey: trusted), sdjwt: sdjwt)
        }
        let batch = verified.items.map { $0! }
        for (index, (label, storeKey)) in stores.enumerated() {
            let fresh = try open(label, storeKey)
            let t = now()
            // The insert updates the stored view of the records it touched; then the counts and the state hash.
            try fresh.insert(batch)
            let inserted = now() - t
            _ = try fresh.viewCounts()
            let state = try fresh.stateHash()
            let total = now() - t
            if total < merge[index] { (merge[index], mergeInsert[index]) = (total, inserted) }
            states[index] = String(state.prefix(12))
        }
    }
    for (index, (label, _)) in stores.enumerated() {
        print(
            String(
                format:
                    "  %@: merge two stores of %d records differing in 1 %% (%d versions): %.2f s (insert with view update %.2f s), best of %d; state %@",
                label as NSString, count, changed, merge[index], mergeInsert[index], repetitions,
                states[index] as NSString))
    }
    if stores.count == 2 {
        print(
            String(
                format: "  encrypted / plaintext: import %.2f x, rebuild %.2f x, merge %.2f x  (target <= 1.3 x)",
                importSeconds[1] / importSeconds[0], (rebuild[1] + hash[1]) / (rebuild[0] + hash[0]),
                merge[1] / merge[0]))
    }
    let rssAfterMerge = peakRSSMiB()

    // Delta bundle size: d versions sealed (age + tar + signed manifest) against the bytes of those versions. The
    // bundle's entries are read from the edits file one batch at a time while the sealer streams.
    let sender = try BundleSender(
        signingKey: key,
        identity: PublicIdentity(
            organization: "Bench (synthetic)", signingKey: key, sealingKey: X25519.PrivateKey.generate().publicKey))
    let recipient = try BundleRecipient(
        identity: PublicIdentity(
            organization: "Bench B (synthetic)", signingKey: Ed25519.SigningKey.generate(),
            sealingKey: X25519.PrivateKey.generate().publicKey))
    let missing = editFiles[0]
    for d in Set([10, 100, changed]).sorted() where d <= missing.count {
        let raw = missing.lengths[0..<d].reduce(0, +)
        final class Counter: @unchecked Sendable { var bytes = 0 }
        let counter = Counter()
        let manifest = try BundleSealer.seal(
            inputs: missing.bundleInputs(count: d), sender: sender, recipients: [recipient],
            summary: .init(records: count, versions: count + changed, stateHash: hashA),
            acknowledges: ["abcdefghijklmnopqrstuvwxyz"], sink: { counter.bytes += $0.count })
        print(
            String(
                format: "  delta bundle of %d versions: %d bytes for %d bytes of versions = %.3f x  (target <= 1.1)", d,
                counter.bytes, raw, Double(counter.bytes) / Double(raw)))
        print("    (manifest \(try manifest.signed(with: key).utf8.count) bytes)")
    }
    print(
        String(
            format: "  peak RSS: %.0f MiB (after import %.0f MiB, after rebuild %.0f MiB, after merge %.0f MiB)",
            peakRSSMiB(), rssAfterImport, rssAfterRebuild, rssAfterMerge))
}
