// Amanat benchmarks that need the library: record signing, verification and store import.
// Usage: amanat-bench records [COUNT] | sign-csv FILE [COUNT] | sync [COUNT] | blobs [MIB] | primitives | tlog [COUNT]
// | view WORKSPACE
// (SyncBench.swift: sync)
import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import AmanatWorkspace
import Dispatch
import Foundation

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// A small synthetic record with the shape of a real one (names, IDs, phone, status, transcript).
func syntheticRecord(_ i: Int) -> JSONValue {
    let id = String(format: "6502011980%02d%02d%03d", 1 + i % 12, 1 + i % 28, i % 1000) + "X"
    return .object([
        ("schema", .string("amanat-record/v1")),
        ("language", .string("en")),
        (
            "testifier",
            .object([
                ("names", .object([("latn", .string("Synthetic Person \(i)"))])),
                ("cnResidentId", .string(id)),
                ("phones", .array([.object([("number", .string("+7701\(String(format: "%07d", i % 10_000_000))"))])])),
            ])
        ),
        (
            "detainees",
            .array([
                .object([
                    ("names", .object([("latn", .string("Synthetic Relative \(i)"))])),
                    (
                        "statusHistory",
                        .array([.object([("status", .string("detained")), ("date", .string("2018-03"))])])
                    ),
                ])
            ])
        ),
        (
            "testimony",
            .object([
                ("consent", .string("public")),
                (
                    "transcript",
                    .string("My brother was taken in 2018. His ID is \(id). We have not heard from him since.")
                ),
            ])
        ),
        ("provenance", .object([("organization", .string("Bench Org (synthetic)"))])),
    ])
}

let policy = DisclosurePolicy(isConcealable: { pointer in
    !(pointer == "/schema" || pointer == "/language" || pointer == "/testimony" || pointer == "/testimony/consent"
        || pointer == "/provenance" || pointer == "/provenance/organization")
})

/// Runs `body` for 0..<count on `workers` threads, each taking one contiguous block (so neighbouring results are
/// written by the same core, without false sharing).
func parallel(_ count: Int, workers: Int, _ body: @Sendable (Range<Int>) -> Void) {
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        body((count * w / workers)..<(count * (w + 1) / workers))
    }
}

func parallel(_ count: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        for i in (count * w / workers)..<(count * (w + 1) / workers) { body(i) }
    }
}

/// Result slots written from several threads, each slot by one thread only (no copy-on-write check on the way).
final class Slots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<T?>
    init(_ n: Int) {
        storage = .allocate(capacity: n)
        storage.initialize(repeating: nil)
    }
    deinit {
        storage.deinitialize()
        storage.deallocate()
    }
    subscript(i: Int) -> T? {
        get { storage[i] }
        set { storage[i] = newValue }
    }
    var items: [T?] { Array(storage) }
}

func opensslVerifyRate(cores: Int, multiOnly: Bool = false) -> (single: Double, multi: Double)? {
    func run(_ args: [String]) -> Double? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = Pipe()
        guard (try? p.run()) != nil else { return nil }
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        // "... 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  25000.0  9000.0" (sign/s verify/s last)
        guard let line = out.split(separator: "\n").last(where: { $0.contains("Ed25519") }) else { return nil }
        return Double(line.split(separator: " ").last.map(String.init) ?? "")
    }
    if multiOnly {
        guard let multi = run(["speed", "-seconds", "3", "-multi", String(cores), "ed25519"]) else { return nil }
        return (multi / Double(cores), multi)
    }
    guard let single = run(["speed", "-seconds", "3", "ed25519"]) else { return nil }
    let multi = cores > 1 ? run(["speed", "-seconds", "3", "-multi", String(cores), "ed25519"]) ?? single : single
    return (single, multi)
}

func recordsBenchmark(count: Int) throws {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let key = try Ed25519.SigningKey.generate()
    let fingerprint = Fingerprint.of(key.publicKey)
    let verifying = key.publicKey
    print("records benchmark: \(count) synthetic records, \(cores) cores")
    let records = (0..<count).map(syntheticRecord)

    let signed = Slots<SignedVersion>(count)
    var t = now()
    parallel(count, workers: cores) { i in
        signed[i] = try! RecordSigner.sign(
            content: records[i], kind: .create, recordId: nil, prev: [], key: key, policy: policy,
            issuedAt: 1_764_230_000)
    }
    let signSeconds = now() - t
    let versions = signed.items.map { $0! }
    let disclosures = versions.reduce(0) { $0 + $1.sdjwt.disclosures.count }
    print(
        String(
            format: "  sign:   %8.0f records/s (%.2f s; %.1f disclosures per record)", Double(count) / signSeconds,
            signSeconds, Double(disclosures) / Double(count)))

    // Verification keeps every result (an import needs them), one verifier per worker, both cores. It runs in
    // rounds interleaved with `openssl speed -multi`, so both see the same machine; the ratio reported is the
    // median of the rounds.
    let sdjwts = versions.map(\.sdjwt)
    let single = opensslVerifyRate(cores: 1)?.single
    var verified = Slots<VerifiedVersion>(count)
    var ratios: [Double] = []
    let rounds = max(1, Int(ProcessInfo.processInfo.environment["AMANAT_BENCH_ROUNDS"] ?? "") ?? 3)
    for round in 1...rounds {
        let results = Slots<VerifiedVersion>(count)
        verified = results
        t = now()
        parallel(count, workers: cores) { (range: Range<Int>) in
            let verifier = try! RecordVerifier()
            for i in range {
                results[i] = try! verifier.verify(sdjwts[i], trustedKey: { $0 == fingerprint ? verifying : nil })
            }
        }
        let verifySeconds = now() - t
        let verifyRate = Double(count) / verifySeconds
        let multi = opensslVerifyRate(cores: cores, multiOnly: true)?.multi
        var line = String(format: "  verify, round %d: %8.0f records/s (%.2f s)", round, verifyRate, verifySeconds)
        if let multi {
            ratios.append(verifyRate / multi)
            line += String(
                format: "; openssl speed -multi %d ed25519: %8.0f verify/s; ratio %.0f%%", cores, multi,
                100 * verifyRate / multi)
        }
        print(line)
    }

    t = now()
    parallel(count, workers: cores) { i in
        _ = try! RecordVerifier.verify(sdjwts[i], trustedKey: { $0 == fingerprint ? verifying : nil })
    }
    print(
        String(
            format: "  verify with a new verifier per record, results dropped: %8.0f records/s",
            Double(count) / (now() - t)))

    // Raw Ed25519 verification of the same JWTs, our binding, both cores (the floor under record verification).
    let parts: [(input: [UInt8], sig: [UInt8])] = sdjwts.map { sdjwt in
        let jwt = Array(sdjwt.jwt.utf8)
        let dot = jwt.lastIndex(of: UInt8(ascii: "."))!
        return (Array(jwt[..<dot]), Base64URL.decode(String(decoding: jwt[(dot + 1)...], as: UTF8.self))!)
    }
    t = now()
    parallel(count, workers: cores) { i in _ = verifying.isValidSignature(parts[i].sig, for: parts[i].input) }
    let rawRate = Double(count) / (now() - t)
    print(
        String(
            format: "  raw Ed25519 verify of the same %.0f-byte signing inputs through AmanatCrypto: %8.0f/s",
            Double(parts.reduce(0) { $0 + $1.input.count }) / Double(count), rawRate))
    if let single { print(String(format: "  openssl speed ed25519 verify, one core: %8.0f/s", single)) }
    if !ratios.isEmpty {
        let median = ratios.sorted()[ratios.count / 2]
        print(
            String(
                format: "  record verify / OpenSSL raw Ed25519 verify on all cores: %.0f%% (median of %d rounds; "
                    + "range %.0f-%.0f%%)  (target >= 70%%)",
                100 * median, ratios.count, 100 * ratios.min()!, 100 * ratios.max()!))
    }

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "amanat-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try Store(path: folder.appendingPathComponent("store.sqlite").path)
    let stored = (0..<count).map { StoredVersion(verified: verified[$0]!, sdjwt: sdjwts[$0]) }
    t = now()
    try store.insert(stored)
    let importSeconds = now() - t
    print(
        String(
            format: "  store import (one transaction): %8.0f records/s (%.2f s)  (target >= 5000/s)",
            Double(count) / importSeconds, importSeconds))
    t = now()
    let again = try store.insert(stored)
    print(
        String(format: "  re-import of the same versions: %.2f s, %d already present", now() - t, again.alreadyPresent))
    let size =
        (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("store.sqlite").path)[.size]
            as? Int) ?? 0
    print("  store size: \(size / 1_048_576) MiB (+ WAL)")
}

func primitivesBenchmark() throws {
    let key = try Ed25519.SigningKey.generate()
    let message = [UInt8](repeating: 7, count: 600)
    func rate(_ label: String, _ n: Int, _ body: () throws -> Void) rethrows {
        let t = now()
        for _ in 0..<n { try body() }
        print(String(format: "  %-28@ %10.0f/s (one thread)", label as NSString, Double(n) / (now() - t)))
    }
    let sig = try key.signature(for: message)
    let pub = key.publicKey
    try rate("Ed25519 sign (600 B)", 5000) { _ = try key.signature(for: message) }
    rate("Ed25519 verify (600 B)", 5000) { _ = pub.isValidSignature(sig, for: message) }
    try rate("SHA-256 one-shot (80 B)", 100_000) { _ = try SHA256.hash(message[0..<80]) }
    try rate("random 16 bytes", 100_000) { _ = try SecureRandom.bytes(16) }
    rate("base64url encode 60 B", 100_000) { _ = Base64URL.encode(message[0..<60]) }
    // The store's per-record work (Specs/storage.md): re-key a cipher, open a wrapped 32-byte key or a 2 KiB content.
    let recordKey = SecretBytes(try SecureRandom.bytes(32))
    let cipher = try ChaChaPoly.Cipher(key: recordKey)
    let nonce = try ChaChaPoly.Nonce(try SecureRandom.bytes(12))
    for size in [32, 2048] {
        let plain = [UInt8](repeating: 1, count: size)
        var sealed = [UInt8](repeating: 0, count: size + 16)
        var opened = [UInt8](repeating: 0, count: size)
        let aad = Array("amanat-store/v1 content record version".utf8)
        try plain.withUnsafeBytes { i in
            try sealed.withUnsafeMutableBytes { try cipher.seal(nonce: nonce, input: i, output: $0, aad: aad) }
        }
        try rate("ChaCha20-Poly1305 open \(size) B", 100_000) {
            try sealed.withUnsafeBytes { i in
                try opened.withUnsafeMutableBytes { try cipher.open(nonce: nonce, input: i, output: $0, aad: aad) }
            }
        }
    }
    try rate("ChaCha20-Poly1305 re-key", 100_000) { try cipher.setKey(recordKey) }
}

/// Attachment streaming at rest (``EncryptedBlob``): encrypt and decrypt `megabytes` MiB through files in the temporary
/// folder, next to a plain copy of the same bytes through the same kind of file.
func blobBenchmark(megabytes: Int) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "amanat-blob-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { chunk.deallocate() }
    for i in 0..<chunk.count { chunk[i] = UInt8(truncatingIfNeeded: i &* 31) }
    let total = Double(megabytes) * 1_048_576
    print("attachment streaming benchmark: \(megabytes) MiB")
    // Plain: the same bytes written to a file and read back (the reference).
    var t = now()
    let plainPath = folder.appendingPathComponent("plain").path
    let out = try OutputFile(plainPath, mode: 0o600)
    for _ in 0..<megabytes { try out.write(UnsafeRawBufferPointer(chunk)) }
    try out.commit()
    let plainWrite = now() - t
    t = now()
    let input = try InputFile(plainPath)
    while try input.read(chunk) > 0 {}
    let plainRead = now() - t
    // Encrypted.
    let key = SecretBytes(try SecureRandom.bytes(32))
    let path = folder.appendingPathComponent("sealed").path
    t = now()
    let writer = try EncryptedBlob.Writer(path: path, key: key)
    for _ in 0..<megabytes { try writer.write(UnsafeRawBufferPointer(chunk)) }
    try writer.finish()
    let sealWrite = now() - t
    t = now()
    let reader = try EncryptedBlob.Reader(path: path, key: key)
    var read: UInt64 = 0
    while true {
        let n = try reader.read(chunk)
        if n == 0 { break }
        read += UInt64(n)
    }
    let sealRead = now() - t
    precondition(read == UInt64(total))
    func rate(_ seconds: Double) -> String { String(format: "%.2f GB/s", total / seconds / 1e9) }
    print("  write: plain \(rate(plainWrite)), encrypted \(rate(sealWrite))  (target >= 1 GB/s)")
    print("  read:  plain \(rate(plainRead)), encrypted \(rate(sealRead))  (target >= 1 GB/s)")
}

/// Signing alone, on all cores, of the first `count` records of a CSV file as `amanat add` reads and signs them (the
/// same reader, the record policy, segmented texts): the reference for `add`'s rate in `Benchmarks/scale/run.sh`,
/// since its records carry more disclosures than ``syntheticRecord(_:)``.
func signCSVBenchmark(path: String, count: Int) throws {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let key = try Ed25519.SigningKey.generate()
    let reader = try RecordFiles.Reader(path)
    var read: [JSONValue] = []
    while read.count < count, let entries = try reader.next(maximumCount: min(1000, count - read.count)) {
        read += entries.map(\.record)
    }
    let records = read
    let total = records.count
    print("sign-csv benchmark: the first \(total) records of \(path), \(cores) cores")
    let signed = Slots<SignedVersion>(total)
    let t = now()
    parallel(total, workers: cores) { i in
        signed[i] = try! RecordSigner.sign(
            content: records[i], kind: .create, recordId: nil, prev: [],
            attachments: RecordContent.attachmentDigests(records[i]), key: key, policy: .amanatRecord)
    }
    let seconds = now() - t
    let disclosures = signed.items.reduce(0) { $0 + ($1?.sdjwt.disclosures.count ?? 0) }
    print(
        String(
            format: "  sign:   %8.0f records/s (%.2f s; %.1f disclosures per record)", Double(total) / seconds,
            seconds, Double(disclosures) / Double(max(1, total))))
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "blobs":
    try blobBenchmark(megabytes: Int(arguments.dropFirst().first ?? "") ?? 1024)
case "sync":
    try syncBenchmark(count: Int(arguments.dropFirst().first ?? "") ?? 100_000)
case "verify-profile":
    // One thread, verification only: for profiling with perf.
    let key = try Ed25519.SigningKey.generate()
    let fp = Fingerprint.of(key.publicKey)
    let pub = key.publicKey
    let vs = try (0..<2000).map {
        try RecordSigner.sign(
            content: syntheticRecord($0), kind: .create, recordId: nil, prev: [], key: key, policy: policy)
    }
    let t = now()
    let verifier = try RecordVerifier()
    for _ in 0..<25 { for v in vs { _ = try verifier.verify(v.sdjwt, trustedKey: { $0 == fp ? pub : nil }) } }
    print(String(format: "verify one thread: %.0f/s", 50000 / (now() - t)))
    if arguments.dropFirst().first == "--verify-only" { break }
    if arguments.dropFirst().first == "--parts" {
        let sha = try ReusableSHA256()
        let text = String(
            repeating: "WyJhYmNkZWZnaGlqa2xtbm9wcXJzdHV2IiwiZmFtaWx5X25hbWUiLCJTYXJzZW5iYXlldmEiXQ", count: 1)
        var tt = now()
        for _ in 0..<1_000_000 { _ = try sha.digest(utf8: text) }
        print(String(format: "  reusable sha256 of %d bytes: %.0f ns", text.utf8.count, (now() - tt) * 1000))
        tt = now()
        for _ in 0..<1_000_000 { _ = try SHA256.hash(Array(text.utf8)) }
        print(String(format: "  SHA256.hash: %.0f ns", (now() - tt) * 1000))
        tt = now()
        for _ in 0..<1_000_000 { _ = Base64URL.decode(text) }
        print(String(format: "  base64 decode: %.0f ns", (now() - tt) * 1000))
        var scratch: [UInt8] = []
        tt = now()
        for _ in 0..<1_000_000 { _ = Base64.decode(utf8Of: text, urlSafe: true, into: &scratch) }
        print(String(format: "  base64 decode into scratch: %.0f ns", (now() - tt) * 1000))
        let d = vs[0].sdjwt.disclosures
        print("  disclosure lengths: \(d.map(\.utf8.count))")
        tt = now()
        for _ in 0..<50_000 { for x in d { _ = try Disclosure(encoded: x, index: 0) } }
        print(String(format: "  Disclosure(encoded:): %.0f ns", (now() - tt) * 1e9 / Double(50_000 * d.count)))
        break
    }
    // Parts of verification without the signature check, one thread.
    var t2 = now()
    for _ in 0..<25 {
        for v in vs {
            var r = try DisclosureResolver(disclosures: v.sdjwt.disclosures)
            _ = r.usedCount
            _ = try? r.resolve(.object([]))
        }
    }
    print(String(format: "  disclosures parsed+hashed: %.1f us per record", (now() - t2) / 50000 * 1e6))
    t2 = now()
    for _ in 0..<25 { for v in vs { _ = try SignedJWT.parse(v.sdjwt.jwt) } }
    print(String(format: "  JWT parse: %.1f us per record", (now() - t2) / 50000 * 1e6))
    let jwts = try vs.map { try SignedJWT.parse($0.sdjwt.jwt) }
    t2 = now()
    for _ in 0..<25 { for j in jwts { _ = j.verify(with: pub) } }
    print(String(format: "  Ed25519 verify: %.1f us per record", (now() - t2) / 50000 * 1e6))
case "primitives":
    try primitivesBenchmark()
case "records":
    try recordsBenchmark(count: Int(arguments.dropFirst().first ?? "") ?? 100_000)
case "sign-csv":
    guard let path = arguments.dropFirst().first else {
        print("usage: amanat-bench sign-csv FILE [COUNT]")
        exit(64)
    }
    try signCSVBenchmark(path: path, count: Int(arguments.dropFirst(2).first ?? "") ?? 10_000)
case "view":
    // The steps of `amanat check --rebuild` timed one by one on an existing workspace (AMANAT_PASSPHRASE unlocks it).
    guard let path = arguments.dropFirst().first else {
        print("usage: amanat-bench view WORKSPACE")
        exit(64)
    }
    try viewBenchmark(workspace: path)
case "tlog":
    try tlogBenchmark(count: Int(arguments.dropFirst().first ?? "") ?? 1_000_000)
default:
    print(
        "usage: amanat-bench records [COUNT] | sign-csv FILE [COUNT] | sync [COUNT] | blobs [MIB] | primitives | tlog [COUNT] | view WORKSPACE"
    )
}
