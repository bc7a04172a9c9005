import AmanatAge
import AmanatCrypto
import AmanatRecords
import Dispatch
import Foundation

/// Who seals a bundle: the organization's signing key and public identity.
public struct BundleSender: Sendable {
    public var signingKey: Ed25519.SigningKey
    public var identity: PublicIdentity

    public init(signingKey: Ed25519.SigningKey, identity: PublicIdentity) {
        self.signingKey = signingKey
        self.identity = identity
    }
}

/// Who can open a bundle: an X25519 key and what the manifest says about it.
public struct BundleRecipient: Sendable {
    public var publicKey: X25519.PublicKey
    public var party: BundleManifest.Party

    /// A recipient from a trusted partner's public identity.
    public init(identity: PublicIdentity) throws {
        publicKey = try AgeKeyEncoding.publicKey(recipient: identity.ageRecipient)
        // Named by fingerprint (what partners compare by phone); the age recipient is in its identity file.
        party = BundleManifest.Party(organization: identity.organization, fingerprint: identity.fingerprint)
    }

    /// A bare `age1…` recipient (someone without an Amanat identity).
    public init(ageRecipient: String) throws {
        publicKey = try AgeKeyEncoding.publicKey(recipient: ageRecipient)
        party = BundleManifest.Party(ageRecipient: ageRecipient)
    }
}

/// One file to put in a bundle, read as a stream.
public struct BundleInput {
    /// The file name inside its folder: one path component.
    public var name: String
    /// The folder inside the bundle: `files/` (plain files), `records/` (`<version id>.sd-jwt`) or `blobs/`
    /// (attachments named by their SHA-256).
    public var folder: String = BundlePath.filesPrefix
    /// The exact size; sealing fails if the stream yields a different number of bytes.
    public var size: UInt64
    /// Fills a prefix of the buffer, returns the count, 0 at the end.
    public var read: (UnsafeMutableRawBufferPointer) throws -> Int

    public init(name: String, size: UInt64, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.name = name
        self.size = size
        self.read = read
    }

    /// Record versions in batches: each entry `records/batch-NNNNNN.sd-jwt-lines` holds up to `batchSize`
    /// compact SD-JWTs, one per line (far less tar overhead than one entry per version).
    public static func recordBatches(_ versions: [String], batchSize: Int = defaultRecordBatchSize) -> [BundleInput] {
        stride(from: 0, to: versions.count, by: batchSize).enumerated().map { index, start in
            let lines = versions[start..<min(start + batchSize, versions.count)].joined(separator: "\n") + "\n"
            let bytes = Array(lines.utf8)
            return recordBatch(number: index + 1, size: UInt64(bytes.count), read: Age.memorySource(bytes))
        }
    }

    /// How many versions a record batch holds unless the caller says otherwise.
    public static let defaultRecordBatchSize = 4096

    /// The record batch numbered `number` (from 1): `records/batch-NNNNNN.sd-jwt-lines`, `size` bytes of compact
    /// SD-JWTs each followed by a newline, produced by `read` when the sealer reaches it (so that a large bundle's
    /// versions need not all be in memory).
    public static func recordBatch(
        number: Int, size: UInt64, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int
    ) -> BundleInput {
        var input = BundleInput(name: String(format: "batch-%06d.sd-jwt-lines", number), size: size, read: read)
        input.folder = BundlePath.recordsPrefix
        return input
    }

    /// An attachment named by its SHA-256 (lowercase hex).
    public static func blob(
        sha256: String, size: UInt64, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int
    ) -> BundleInput {
        var input = BundleInput(name: sha256, size: size, read: read)
        input.folder = BundlePath.blobsPrefix
        return input
    }
}

/// Seals files into a bundle: age( tar( HEADER.jws, files…, MANIFEST.jws ) ). The signed header (sender, recipients,
/// entry count and total size) goes first; each input is read once: it is hashed while it streams into the
/// encryptor, and the signed manifest listing every hash goes last.
public enum BundleSealer {
    /// Checks that `name` can be a bundle file name (one path component, no control characters).
    public static func validateName(_ name: String) throws {
        guard BundlePath.isValidFileName(name) else {
            throw BundleError.invalidInput(
                "'\(Tar.sanitizedForMessage(name))' cannot be a file name in a bundle (empty, '.', '..', a slash, a "
                    + "control character or longer than 255 bytes); rename the file")
        }
    }

    /// Seals `inputs` for `recipients`.
    /// - Parameters:
    ///   - sink: receives the age file's bytes in order.
    ///   - trailer: given the signed manifest (compact JWS), returns the bytes of `MANIFEST.tlog`, the entry after
    ///     the manifest that holds the manifest's inclusion proof in the sender's log (``BundlePath/trailerPath``);
    ///     nil: no trailer.
    ///   - progress: called with the number of input bytes processed so far.
    /// - Returns: the signed manifest.
    /// - Throws: ``BundleError/invalidInput(_:)`` for bad names or an input that changed size; errors from `sink`.
    public static func seal(
        inputs: [BundleInput], sender: BundleSender, recipients: [BundleRecipient], armor: Bool = false,
        createdAt: Date = Date(), summary: BundleManifest.Summary? = nil, acknowledges: [String]? = nil,
        sink: @escaping AgeSink, trailer: ((String) throws -> [UInt8])? = nil, progress: ((UInt64) -> Void)? = nil
    ) throws -> BundleManifest {
        guard !recipients.isEmpty else { throw BundleError.invalidInput("a bundle needs at least one recipient") }
        var seen = Set<String>()
        for input in inputs {
            try validateName(input.name)
            guard BundlePath.problem(with: input.folder + input.name) == nil else {
                throw BundleError.invalidInput(
                    "'\(Tar.sanitizedForMessage(input.folder + input.name))' is not a valid bundle path")
            }
            guard seen.insert(input.folder + input.name).inserted else {
                throw BundleError.invalidInput(
                    "two input files are named '\(Tar.sanitizedForMessage(input.name))'; rename one")
            }
        }
        let writer = try AgeWriter(
            recipients: recipients.map { X25519AgeRecipient(publicKey: $0.publicKey) }, armor: armor,
            parallelism: BundleTuning.ageThreads, sink: sink)
        let mtime = UInt64(max(0, createdAt.timeIntervalSince1970))
        guard inputs.count <= BundleHeader.maximumEntries else {
            throw BundleError.invalidInput(
                "a bundle holds at most \(BundleHeader.maximumEntries) entries; this one would hold \(inputs.count)")
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let bundleId = Base32.encode(try SecureRandom.bytes(16)).lowercased()
        let created = formatter.string(from: createdAt)
        // The sender is named by fingerprint (its key is on the recipient's trust list); its public keys are in its
        // identity file, not repeated here.
        let senderParty = BundleManifest.Party(
            organization: sender.identity.organization, fingerprint: sender.identity.fingerprint)
        // The signed header goes first, so a recipient can refuse an unexpected sender before reading further.
        let header = BundleHeader(
            bundleId: bundleId, createdAt: created, sender: senderParty, recipients: recipients.map(\.party),
            entryCount: inputs.count, totalSize: inputs.reduce(0) { $0 + $1.size })
        let headerJWS = Array(try header.signed(with: sender.signingKey).utf8)
        try Self.write(
            Tar.headers(path: BundleHeader.entryPath, size: UInt64(headerJWS.count), mtime: mtime), to: writer)
        try Self.write(headerJWS + [UInt8](repeating: 0, count: Tar.padding(UInt64(headerJWS.count))), to: writer)
        var entries: [BundleManifest.Entry] = [
            BundleManifest.Entry(
                path: BundleHeader.entryPath, sha256: try SHA256.hash(headerJWS).hexString,
                size: UInt64(headerJWS.count))
        ]
        // Two buffers: while one is hashed on the hasher's thread and encrypted here, the other is refilled.
        let bufferSize = 1 << 20
        let buffers = (0..<2).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64) }
        let groups = [DispatchGroup(), DispatchGroup()]
        defer {
            for g in groups { g.wait() }
            for b in buffers { b.deallocate() }
        }
        var processed: UInt64 = 0
        for var input in inputs {
            let path = input.folder + input.name
            try Self.write(Tar.headers(path: path, size: input.size, mtime: mtime), to: writer)
            let hasher = try OverlappedHasher()
            var count: UInt64 = 0
            var k = 0
            while true {
                let buffer = buffers[k & 1]
                groups[k & 1].wait()  // the hasher is done with this buffer
                let n = try input.read(buffer)
                if n == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                count += UInt64(n)
                guard count <= input.size else { break }
                hasher.update(chunk, group: groups[k & 1])
                try writer.write(chunk)
                processed += UInt64(n)
                progress?(processed)
                k += 1
            }
            let digest = try hasher.finalize()
            guard count == input.size else {
                throw BundleError.invalidInput(
                    "'\(Tar.sanitizedForMessage(input.name))' changed size while it was being sealed; try again")
            }
            try Self.write([UInt8](repeating: 0, count: Tar.padding(count)), to: writer)
            entries.append(BundleManifest.Entry(path: path, sha256: digest.hexString, size: count))
            input.read = { _ in 0 }
        }
        var manifest = BundleManifest(
            bundleId: bundleId, createdAt: created, sender: senderParty, recipients: recipients.map(\.party),
            entries: entries)
        manifest.summary = summary
        manifest.acknowledges = acknowledges
        let jws = Array(try manifest.signed(with: sender.signingKey).utf8)
        try Self.write(Tar.headers(path: BundleManifest.entryPath, size: UInt64(jws.count), mtime: mtime), to: writer)
        try Self.write(jws + [UInt8](repeating: 0, count: Tar.padding(UInt64(jws.count))), to: writer)
        if let trailer {
            let bytes = try trailer(String(decoding: jws, as: UTF8.self))
            guard bytes.count <= BundlePath.maximumTrailerSize else {
                throw BundleError.invalidInput(
                    "the bundle's log proofs are larger than \(BundlePath.maximumTrailerSize) bytes")
            }
            try Self.write(
                Tar.headers(path: BundlePath.trailerPath, size: UInt64(bytes.count), mtime: mtime), to: writer)
            try Self.write(bytes + [UInt8](repeating: 0, count: Tar.padding(UInt64(bytes.count))), to: writer)
        }
        try Self.write(Tar.endOfArchive, to: writer)
        try writer.finish()
        return manifest
    }

    static func write(_ bytes: [UInt8], to writer: AgeWriter) throws {
        try bytes.withUnsafeBytes { try writer.write($0) }
    }
}

/// How bundle streaming uses the cores.
enum BundleTuning {
    /// Threads for age encryption/decryption: all cores but the one the SHA-256 hasher keeps busy.
    static let ageThreads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
}

/// Rules for paths inside a bundle.
public enum BundlePath {
    public static let filesPrefix = "files/"
    public static let recordsPrefix = "records/"
    public static let blobsPrefix = "blobs/"
    /// The sender's log material that the manifest lists: `log/versions.tlog-proofs`, `log/cosignatures.notes`.
    public static let logPrefix = "log/"
    public static let logNames: Set<String> = ["versions.tlog-proofs", "cosignatures.notes", "timestamps.items"]
    /// The one entry allowed after the manifest: the manifest's inclusion proof in the sender's log, and
    /// consistency proofs (self-authenticating: a signed checkpoint; not listed in the manifest it proves).
    public static let trailerPath = "MANIFEST.tlog"
    public static let maximumTrailerSize = 1 << 20

    static func isBase64URL(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2D || c == 0x5F
    }

    static func isValidFileName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255, name != ".", name != ".." else { return false }
        // No control, format or bidi character (U+0085, U+2028, U+202E…), and no slash or its look-alikes
        // (`..∕etc` must not pass for a path on a screen).
        return !name.unicodeScalars.contains { UntrustedText.isUnsafe($0) || slashLookalikes.contains($0) }
    }

    /// Slashes and characters drawn like one.
    static let slashLookalikes: Set<Unicode.Scalar> = [
        "/", "\\", "\u{2215}", "\u{2044}", "\u{FF0F}", "\u{29F8}", "\u{29F9}",
    ]

    /// Why a tar path is refused, or nil if it is acceptable (`files/<name>` or the manifest).
    static func problem(with path: String) -> String? {
        if path.isEmpty { return "empty path" }
        if path.hasPrefix("/") { return "absolute path" }
        if path.unicodeScalars.contains(where: { $0.value == 0 }) { return "NUL in path" }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 == ".." }) { return "'..' in path" }
        if components.contains(where: { $0.isEmpty || $0 == "." }) { return "empty or '.' path component" }
        if path == BundleManifest.entryPath || path == BundleHeader.entryPath || path == trailerPath { return nil }
        guard components.count == 2, isValidFileName(String(components[1])) else {
            return
                "unexpected path (only HEADER.jws, files/<name>, records/<id>.sd-jwt, blobs/<sha256>, log/…, MANIFEST.jws "
                + "and MANIFEST.tlog)"
        }
        let name = components[1]
        switch components[0] {
        case "files":
            return nil
        case "log":
            return logNames.contains(String(name))
                ? nil : "a log entry must be log/versions.tlog-proofs, log/cosignatures.notes or log/timestamps.items"
        case "records":
            if name.hasPrefix("batch-") && name.hasSuffix(".sd-jwt-lines") {
                let number = name.dropFirst("batch-".count).dropLast(".sd-jwt-lines".count)
                guard number.count == 6, number.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                    return "a record batch must be records/batch-<6 digits>.sd-jwt-lines"
                }
                return nil
            }
            let id = name.dropLast(".sd-jwt".count)
            guard name.hasSuffix(".sd-jwt"), id.count == 43, id.utf8.allSatisfy(Self.isBase64URL) else {
                return
                    "a record entry must be records/<43-character version id>.sd-jwt or records/batch-NNNNNN.sd-jwt-lines"
            }
            return nil
        case "blobs":
            guard name.count == 64, name.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else {
                return "a blob entry must be blobs/<64 lowercase hex digits>"
            }
            return nil
        default:
            return
                "unexpected path (only HEADER.jws, files/<name>, records/<id>.sd-jwt, blobs/<sha256>, log/…, MANIFEST.jws "
                + "and MANIFEST.tlog)"
        }
    }
}
