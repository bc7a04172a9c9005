import AmanatAge
import AmanatCrypto
import Dispatch
import Foundation

/// Receives the files of a bundle while it is being opened. Nothing it receives is verified until
/// ``BundleOpener/open(source:sizeLimit:identity:trustedSigner:ownFingerprint:output:progress:)`` returns, so write to a staging
/// area and publish only after success.
public protocol BundleEntryOutput: AnyObject {
    func begin(path: String, size: UInt64) throws
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func end() throws
}

/// A bundle that opened and verified.
public struct OpenedBundle: Sendable {
    /// The verified manifest.
    public var manifest: BundleManifest
    /// The signer's fingerprint (on the trust list).
    public var signerFingerprint: String
    /// The manifest exactly as signed (compact JWS), for keeping beside the extracted files.
    public var manifestJWS: String
    /// The signed header exactly as it came (compact JWS); the manifest lists it with its SHA-256.
    public var headerJWS: String
    /// `MANIFEST.tlog`, the entry after the manifest (the manifest's proof in the sender's log), unverified; nil
    /// when the bundle has none.
    public var trailer: [UInt8]? = nil
}

/// Opens bundles: decrypts the age layer, parses the tar strictly, hashes every file while it streams, and checks
/// the signed manifest against the trust list.
public enum BundleOpener {
    /// A trusted signer: its key and the local name.
    public typealias TrustLookup = (_ fingerprint: String) -> Ed25519.VerifyingKey?

    /// Opens and verifies a bundle.
    /// - Parameters:
    ///   - source: the age file's bytes.
    ///   - sizeLimit: an upper bound on the plaintext (e.g. the file size); larger tar entries are refused at once.
    ///   - identity: this workspace's X25519 key.
    ///   - trustedSigner: looks up a trusted Ed25519 key by fingerprint.
    ///   - ownFingerprint: this workspace's fingerprint. The signed manifest must name this workspace as a
    ///     recipient (by this fingerprint, or by the `age1…` recipient of `identity`): a bundle sealed for someone
    ///     else and re-encrypted to us is refused with ``BundleError/notAddressedToUs(recipients:)``.
    ///   - output: receives the files (nil: verify only, as `inspect` does).
    /// - Throws: ``BundleError`` naming what is wrong.
    public static func open(
        source: @escaping AgeSource, sizeLimit: UInt64, identity: X25519.PrivateKey, trustedSigner: TrustLookup,
        ownFingerprint: String?, output: BundleEntryOutput?, progress: ((UInt64) -> Void)? = nil
    ) throws -> OpenedBundle {
        let reader: AgeReader
        do {
            // One decryption thread: the second core hashes (SHA-256 is the slower of the two), so the two
            // overlap instead of competing.
            reader = try AgeReader(
                source: source, identities: [X25519AgeIdentity(privateKey: identity)],
                parallelism: BundleTuning.ageThreads)
        } catch let error as AgeError {
            throw BundleError.from(error)
        }
        let stream = PlainStream(reader: reader)
        var pax: [String: String]? = nil
        var seen = Set<String>()
        var hashes: [String: (sha256: String, size: UInt64)] = [:]
        var manifestBytes: [UInt8]? = nil
        var trailer: [UInt8]? = nil
        var remaining = sizeLimit
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: Tar.blockSize, alignment: 16)
        defer { block.deallocate() }
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        let buffers = (0..<2).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64) }
        let groups = [DispatchGroup(), DispatchGroup()]
        defer {
            for g in groups { g.wait() }
            for b in buffers + [buffer] { b.deallocate() }
        }
        var first = true
        var processed: UInt64 = 0
        // The signed header, once the first entry has been authenticated, and what has been read against it.
        var header: BundleHeader.Unverified? = nil
        var entryCount = 0
        var contentSize: UInt64 = 0

        while true {
            let got = try stream.readFully(block)
            if got == 0 && first { throw BundleError.notABundle("the decrypted content is empty") }
            guard got == Tar.blockSize else {
                throw BundleError.notABundle(
                    first ? "the decrypted content is not a tar archive" : "the tar archive ends inside a header")
            }
            let parsed: (type: UInt8, entry: Tar.Entry)?
            do {
                parsed = try Tar.parseHeader(UnsafeRawBufferPointer(block), pax: pax ?? [:])
            } catch let error as BundleError {
                if first { throw BundleError.notABundle("the decrypted content is not a tar archive") }
                throw error
            }
            first = false
            guard let (type, entry) = parsed else {
                // End of archive: the rest must be zeros.
                guard pax == nil else { throw BundleError.notABundle("a pax header is not followed by an entry") }
                while true {
                    let n = try stream.read(buffer)
                    if n == 0 { break }
                    guard UnsafeRawBufferPointer(rebasing: buffer[0..<n]).allSatisfy({ $0 == 0 }) else {
                        throw BundleError.notABundle("data after the end of the tar archive")
                    }
                }
                break
            }
            remaining = remaining >= UInt64(Tar.blockSize) ? remaining - UInt64(Tar.blockSize) : 0
            let shownPath = Tar.sanitizedForMessage(entry.path)
            if entry.size > remaining {
                throw BundleError.entryTooLarge(path: shownPath, declared: entry.size, limit: remaining)
            }
            switch type {
            case UInt8(ascii: "x"):
                guard pax == nil else { throw BundleError.notABundle("two pax headers in a row") }
                guard entry.size <= Tar.maxPaxHeaderSize else {
                    throw BundleError.entryTooLarge(
                        path: "pax header", declared: entry.size, limit: Tar.maxPaxHeaderSize)
                }
                var bytes = [UInt8](repeating: 0, count: Int(entry.size))
                try bytes.withUnsafeMutableBytes { try stream.expect($0, what: "pax header") }
                try stream.skipPadding(Tar.padding(entry.size), after: "pax header")
                pax = try Tar.parsePax(bytes)
                remaining -= entry.size
                continue
            case UInt8(ascii: "0"), 0:
                break
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw BundleError.hostileEntry(path: shownPath, reason: "links are not allowed")
            case UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6"):
                throw BundleError.hostileEntry(path: shownPath, reason: "devices and FIFOs are not allowed")
            case UInt8(ascii: "5"):
                throw BundleError.hostileEntry(path: shownPath, reason: "directory entries are not allowed")
            default:
                throw BundleError.hostileEntry(path: shownPath, reason: "unsupported tar entry type")
            }
            pax = nil
            if let problem = BundlePath.problem(with: entry.path) {
                throw BundleError.hostileEntry(path: shownPath, reason: problem)
            }
            guard seen.insert(entry.path).inserted else {
                throw BundleError.hostileEntry(path: shownPath, reason: "duplicate name")
            }
            if manifestBytes != nil {
                // Only the log trailer may follow the manifest, once, small, and kept in memory.
                guard entry.path == BundlePath.trailerPath, trailer == nil else {
                    throw BundleError.hostileEntry(path: shownPath, reason: "an entry after the manifest")
                }
                guard entry.size <= UInt64(BundlePath.maximumTrailerSize) else {
                    throw BundleError.entryTooLarge(
                        path: shownPath, declared: entry.size, limit: UInt64(BundlePath.maximumTrailerSize))
                }
                var bytes = [UInt8](repeating: 0, count: Int(entry.size))
                try bytes.withUnsafeMutableBytes { try stream.expect($0, what: shownPath) }
                trailer = bytes
                try stream.skipPadding(Tar.padding(entry.size), after: shownPath)
                remaining -= min(remaining, entry.size)
                continue
            }
            guard entry.path != BundlePath.trailerPath else {
                throw BundleError.hostileEntry(path: shownPath, reason: "the log trailer must follow the manifest")
            }
            guard let declared = header?.header else {
                // Authenticate before doing any work for the sender: the first entry must be the signed header, from
                // a trusted key, naming this workspace. Nothing has been written or kept yet.
                guard entry.path == BundleHeader.entryPath else {
                    throw BundleError.notABundle(
                        "it does not start with a signed \(BundleHeader.entryPath) (a version 1 bundle, or not made "
                            + "by Amanat); ask the sender to seal it again with a current Amanat")
                }
                guard entry.size <= UInt64(BundleHeader.maximumSize) else {
                    throw BundleError.entryTooLarge(
                        path: shownPath, declared: entry.size, limit: UInt64(BundleHeader.maximumSize))
                }
                var bytes = [UInt8](repeating: 0, count: Int(entry.size))
                try bytes.withUnsafeMutableBytes { try stream.expect($0, what: shownPath) }
                let authenticated = try authenticate(
                    header: bytes, identity: identity, trustedSigner: trustedSigner, ownFingerprint: ownFingerprint)
                // The whole bundle must fit what is left of the file (with at least one tar block per entry).
                let overhead = UInt64(authenticated.header.entryCount) * UInt64(Tar.blockSize)
                guard authenticated.header.totalSize <= remaining,
                    overhead <= remaining - min(remaining, authenticated.header.totalSize)
                else {
                    throw BundleError.exceedsHeader(
                        "its signed header declares \(authenticated.header.entryCount) entries of "
                            + "\(authenticated.header.totalSize) bytes, more than the file can hold")
                }
                header = authenticated
                hashes[entry.path] = (try SHA256.hash(bytes).hexString, entry.size)
                try stream.skipPadding(Tar.padding(entry.size), after: shownPath)
                remaining -= min(remaining, entry.size)
                continue
            }
            if entry.path == BundleManifest.entryPath {
                guard entry.size <= UInt64(BundleManifest.maximumSize) else {
                    throw BundleError.entryTooLarge(
                        path: shownPath, declared: entry.size, limit: UInt64(BundleManifest.maximumSize))
                }
                var bytes = [UInt8](repeating: 0, count: Int(entry.size))
                try bytes.withUnsafeMutableBytes { try stream.expect($0, what: shownPath) }
                manifestBytes = bytes
            } else {
                // Never more entries or bytes than the signed header declared.
                entryCount += 1
                guard entryCount <= declared.entryCount else {
                    throw BundleError.exceedsHeader(
                        "it holds more than the \(declared.entryCount) entries its signed header declares")
                }
                guard entry.size <= declared.totalSize - contentSize else {
                    throw BundleError.exceedsHeader(
                        "it holds more than the \(declared.totalSize) bytes its signed header declares")
                }
                contentSize += entry.size
                try output?.begin(path: entry.path, size: entry.size)
                // Hash on the hasher's thread while this thread decrypts the next chunk and writes this one.
                let hasher = try OverlappedHasher()
                var left = entry.size
                var k = 0
                defer { for g in groups { g.wait() } }
                while left > 0 {
                    let want = Int(min(UInt64(bufferSize), left))
                    groups[k & 1].wait()
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: buffers[k & 1][0..<want])
                    try stream.expect(chunk, what: shownPath)
                    hasher.update(UnsafeRawBufferPointer(chunk), group: groups[k & 1])
                    try output?.write(UnsafeRawBufferPointer(chunk))
                    left -= UInt64(want)
                    processed += UInt64(want)
                    progress?(processed)
                    k += 1
                }
                let digest = try hasher.finalize()
                try output?.end()
                hashes[entry.path] = (digest.hexString, entry.size)
            }
            try stream.skipPadding(Tar.padding(entry.size), after: shownPath)
            remaining -= min(remaining, entry.size)
        }

        guard let header else {
            throw BundleError.notABundle("it has no \(BundleHeader.entryPath)")
        }
        guard let manifestBytes else {
            throw BundleError.notABundle("it has no \(BundleManifest.entryPath)")
        }
        let unverified = try BundleManifest.parse(jws: manifestBytes)
        let manifest = unverified.manifest
        let fingerprint = header.keyID
        // The same trusted key signed both ends, and the manifest says what the header said.
        guard unverified.keyID == fingerprint, let key = trustedSigner(fingerprint) else {
            throw BundleError.badManifest("the manifest and the header are signed by different keys")
        }
        guard unverified.verify(with: key) else { throw BundleError.badSignature }
        guard manifest.sender.fingerprint == fingerprint else {
            throw BundleError.badManifest("the sender fingerprint differs from the signing key")
        }
        guard manifest.bundleId == header.header.bundleId, manifest.sender == header.header.sender,
            manifest.recipients == header.header.recipients
        else {
            throw BundleError.badManifest("the manifest names another bundle, sender or recipients than the header")
        }
        guard entryCount == header.header.entryCount, contentSize == header.header.totalSize else {
            throw BundleError.exceedsHeader(
                "it holds \(entryCount) entries of \(contentSize) bytes; its signed header declares "
                    + "\(header.header.entryCount) of \(header.header.totalSize)")
        }
        var listed = Set<String>()
        for item in manifest.entries {
            guard listed.insert(item.path).inserted else {
                throw BundleError.badManifest("'\(Tar.sanitizedForMessage(item.path))' is listed twice")
            }
            guard let actual = hashes[item.path] else {
                throw BundleError.tampered(
                    entry: Tar.sanitizedForMessage(item.path), reason: "listed in the signed manifest but missing")
            }
            guard actual.size == item.size else {
                throw BundleError.tampered(
                    entry: Tar.sanitizedForMessage(item.path), reason: "its size differs from the signed manifest")
            }
            guard constantTimeEquals(Array(actual.sha256.utf8), Array(item.sha256.lowercased().utf8)) else {
                throw BundleError.tampered(
                    entry: Tar.sanitizedForMessage(item.path), reason: "its SHA-256 differs from the signed manifest")
            }
        }
        for path in hashes.keys where !listed.contains(path) {
            throw BundleError.tampered(
                entry: Tar.sanitizedForMessage(path), reason: "not listed in the signed manifest")
        }
        for (path, actual) in hashes where path.hasPrefix(BundlePath.blobsPrefix) {
            guard path.dropFirst(BundlePath.blobsPrefix.count) == actual.sha256 else {
                throw BundleError.tampered(
                    entry: Tar.sanitizedForMessage(path), reason: "its content does not match its SHA-256 name")
            }
        }
        return OpenedBundle(
            manifest: manifest, signerFingerprint: fingerprint,
            manifestJWS: String(decoding: manifestBytes, as: UTF8.self), headerJWS: header.text, trailer: trailer)
    }
}

extension BundleOpener {
    /// Checks the signed header: a fingerprint on the trust list signed it, its sender is that key, and it names
    /// this workspace among the recipients the sender chose.
    static func authenticate(
        header bytes: [UInt8], identity: X25519.PrivateKey, trustedSigner: TrustLookup, ownFingerprint: String?
    ) throws -> BundleHeader.Unverified {
        let unverified = try BundleHeader.parse(jws: bytes)
        let header = unverified.header
        guard let fingerprint = Fingerprint.normalize(unverified.keyID), fingerprint == unverified.keyID else {
            throw BundleError.badManifest("the signer key id is not a fingerprint")
        }
        guard let key = trustedSigner(fingerprint) else {
            throw BundleError.untrustedSigner(fingerprint: fingerprint, organization: header.sender.organization ?? "")
        }
        guard unverified.verify(with: key) else { throw BundleError.badSignature }
        guard header.sender.fingerprint == fingerprint else {
            throw BundleError.badManifest("the sender fingerprint differs from the signing key")
        }
        // The sender decided who may read it: a bundle that does not name us was meant for someone else (a copy
        // decrypted by its recipient and re-encrypted to us). Forwarding is done by re-sealing, never like this.
        let ownRecipient = AgeKeyEncoding.recipient(identity.publicKey)
        guard
            header.recipients.contains(where: { party in
                (ownFingerprint != nil && party.fingerprint == ownFingerprint) || party.ageRecipient == ownRecipient
            })
        else {
            throw BundleError.notAddressedToUs(
                recipients: header.recipients.map { party in
                    let name = party.organization.map { "'\(Tar.sanitizedForMessage($0))' " } ?? ""
                    return name + (party.fingerprint ?? party.ageRecipient ?? "?")
                })
        }
        return unverified
    }
}

/// The decrypted tar stream, with exact reads.
final class PlainStream {
    let reader: AgeReader

    init(reader: AgeReader) { self.reader = reader }

    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do {
            return try reader.read(into: buffer)
        } catch let error as AgeError {
            throw BundleError.from(error)
        }
    }

    /// Reads until `buffer` is full or the stream ends; returns the count.
    func readFully(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var total = 0
        while total < buffer.count {
            let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Fills `buffer` exactly or throws: the archive is cut short.
    func expect(_ buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        guard try readFully(buffer) == buffer.count else {
            throw BundleError.notABundle("the tar archive ends inside '\(what)'")
        }
    }

    /// Reads the zero padding that ends an entry's last block; anything else there is refused (the format says
    /// zeros, and bytes hidden in padding are bytes nobody signed).
    func skipPadding(_ count: Int, after path: String) throws {
        guard count > 0 else { return }
        var scratch = [UInt8](repeating: 0, count: count)
        try scratch.withUnsafeMutableBytes { try expect($0, what: "padding") }
        guard scratch.allSatisfy({ $0 == 0 }) else {
            throw BundleError.hostileEntry(path: path, reason: "non-zero bytes in the padding after it")
        }
    }
}
