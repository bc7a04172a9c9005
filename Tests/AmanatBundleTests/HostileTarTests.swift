import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatBundle

/// Bundles whose age layer is valid (sealed to the recipient) but whose tar content is hostile.
@Suite("Bundles: hostile tar content")
struct HostileTarTests {
    let fixture: BundleFixture

    init() throws { fixture = try BundleFixture() }

    /// Encrypts a hand-built tar to the recipient with a plain age writer. Unless `withHeader` is false, a signed
    /// header from the trusted sender is put first, declaring the entries the tar holds (so the hostile part is what
    /// gets refused), and a manifest in the tar that the sender signed is signed again to list that header.
    func ageWrap(_ tar: [UInt8], withHeader: Bool = true) throws -> [UInt8] {
        let recipient = [X25519AgeRecipient(publicKey: fixture.recipientSealing.publicKey)]
        guard withHeader else { return try Age.encrypt(tar, to: recipient) }
        let scan = Self.scan(tar)
        let header = BundleHeader(
            bundleId: "test", createdAt: "2026-11-27T00:00:00Z",
            sender: .init(organization: "Test Sender Org", fingerprint: fixture.senderIdentity.fingerprint),
            recipients: [.init(organization: "Test Recipient Org", fingerprint: fixture.recipientIdentity.fingerprint)],
            entryCount: scan.entries, totalSize: min(scan.size, UInt64(tar.count)))
        let headerJWS = Array(try header.signed(with: fixture.senderKey).utf8)
        var body = tar
        if let range = scan.manifest,
            let unverified = try? BundleManifest.parse(jws: Array(tar[range].prefix(while: { $0 != 0 }))),
            unverified.verify(with: fixture.senderKey.publicKey)
        {
            var manifest = unverified.manifest
            manifest.entries.insert(
                .init(
                    path: BundleHeader.entryPath, sha256: Hex.encode(try SHA256.hash(headerJWS)),
                    size: UInt64(headerJWS.count)),
                at: 0)
            let signed = entry(BundleManifest.entryPath, Array(try manifest.signed(with: fixture.senderKey).utf8))
            body = Array(tar[..<(range.lowerBound - Tar.blockSize)]) + signed + Array(tar[range.upperBound...])
        }
        return try Age.encrypt(entry(BundleHeader.entryPath, headerJWS) + body, to: recipient)
    }

    /// What a hand-built tar holds before its manifest: the number of entries, their total size, and where the
    /// manifest's content (with its padding) is. Stops quietly at anything malformed.
    static func scan(_ tar: [UInt8]) -> (entries: Int, size: UInt64, manifest: Range<Int>?) {
        var offset = 0
        var entries = 0
        var size: UInt64 = 0
        var pax: [String: String] = [:]
        while offset + Tar.blockSize <= tar.count {
            let parsed = tar[offset..<(offset + Tar.blockSize)].withUnsafeBytes { try? Tar.parseHeader($0, pax: pax) }
            guard let (type, entry) = parsed ?? nil else { break }
            let start = offset + Tar.blockSize
            guard entry.size <= UInt64(tar.count - start) else { break }
            let end = start + Int(entry.size) + Tar.padding(entry.size)
            if type == UInt8(ascii: "x") {
                pax = (try? Tar.parsePax(Array(tar[start..<(start + Int(entry.size))]))) ?? [:]
            } else {
                pax = [:]
                if entry.path == BundleManifest.entryPath {
                    return (entries, size, start..<min(end, tar.count))
                }
                entries += 1
                size += entry.size
            }
            offset = end
        }
        return (entries, size, nil)
    }

    func entry(_ path: String, _ body: [UInt8], type: UInt8 = UInt8(ascii: "0")) -> [UInt8] {
        var header = Tar.header(name: path, size: UInt64(body.count), mtime: 0, type: type)
        if path.utf8.count > 100 { header = Tar.headers(path: path, size: UInt64(body.count), mtime: 0) }
        return header + body + [UInt8](repeating: 0, count: Tar.padding(UInt64(body.count)))
    }

    func manifestEntry(_ entries: [BundleManifest.Entry]) throws -> [UInt8] {
        let manifest = BundleManifest(
            bundleId: "test", createdAt: "2026-11-27T00:00:00Z",
            sender: .init(organization: "Test Sender Org", fingerprint: fixture.senderIdentity.fingerprint),
            recipients: [.init(organization: "Test Recipient Org", fingerprint: fixture.recipientIdentity.fingerprint)],
            entries: entries)
        return entry(BundleManifest.entryPath, Array(try manifest.signed(with: fixture.senderKey).utf8))
    }

    func expectHostile(
        _ tar: [UInt8], _ reasonFragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let bundle = try ageWrap(tar)
        #expect(sourceLocation: sourceLocation) {
            try fixture.open(bundle)
        } throws: { error in
            guard case BundleError.hostileEntry(_, let reason) = error else { return false }
            return reason.contains(reasonFragment)
        }
    }

    @Test func bytesHiddenInTheBlockPaddingAreRefused() throws {
        // Given an entry of 3 bytes whose block padding holds data instead of zeros
        var tar = entry("files/a.txt", [1, 2, 3]) + Tar.endOfArchive
        tar[512 + 3 + 100] = 0x41
        try expectHostile(tar, "non-zero bytes in the padding")
        // And the same entry with zero padding is not refused for its padding
        let clean = entry("files/a.txt", [1, 2, 3]) + Tar.endOfArchive
        #expect {
            try fixture.open(try ageWrap(clean))
        } throws: { error in
            if case BundleError.hostileEntry = error { return false }
            return true
        }
    }

    @Test func absolutePath() throws { try expectHostile(entry("/etc/passwd", [1]) + Tar.endOfArchive, "absolute") }
    @Test func dotDot() throws { try expectHostile(entry("files/../../x", [1]) + Tar.endOfArchive, "'..'") }
    @Test func unexpectedFolder() throws {
        try expectHostile(entry("other/x", [1]) + Tar.endOfArchive, "unexpected path")
    }
    @Test func badRecordAndBlobNames() throws {
        try expectHostile(entry("records/x.sd-jwt", [1]) + Tar.endOfArchive, "record entry")
        try expectHostile(entry("blobs/ABC", [1]) + Tar.endOfArchive, "blob entry")
        try expectHostile(entry("files/a/b", [1]) + Tar.endOfArchive, "unexpected path")
    }
    @Test func symlink() throws {
        try expectHostile(entry("files/link", [], type: UInt8(ascii: "2")) + Tar.endOfArchive, "links")
    }
    @Test func hardLink() throws {
        try expectHostile(entry("files/link", [], type: UInt8(ascii: "1")) + Tar.endOfArchive, "links")
    }
    @Test func device() throws {
        try expectHostile(entry("files/dev", [], type: UInt8(ascii: "3")) + Tar.endOfArchive, "devices")
    }
    @Test func directory() throws {
        try expectHostile(entry("files/", [], type: UInt8(ascii: "5")) + Tar.endOfArchive, "directory")
    }
    @Test func duplicateName() throws {
        try expectHostile(entry("files/a", [1]) + entry("files/a", [2]) + Tar.endOfArchive, "duplicate")
    }
    @Test func paxLinkpath() throws {
        let records = Tar.paxRecord("linkpath", "/etc/shadow")
        let tar =
            Tar.header(name: "pax", size: UInt64(records.count), mtime: 0, type: UInt8(ascii: "x")) + records
            + [UInt8](repeating: 0, count: Tar.padding(UInt64(records.count))) + entry("files/a", [1])
            + Tar.endOfArchive
        try expectHostile(tar, "links")
    }
    @Test func paxPathTraversal() throws {
        let records = Tar.paxRecord("path", "files/../../../tmp/x")
        let tar =
            Tar.header(name: "pax", size: UInt64(records.count), mtime: 0, type: UInt8(ascii: "x")) + records
            + [UInt8](repeating: 0, count: Tar.padding(UInt64(records.count))) + entry("files/a", [1])
            + Tar.endOfArchive
        try expectHostile(tar, "'..'")
    }

    @Test func hugeDeclaredSizeIsRefusedWithoutAllocating() throws {
        // A header claiming 8 GiB - 1 inside a bundle of a few hundred bytes.
        let tar =
            Tar.header(name: "files/huge", size: Tar.maxOctalSize, mtime: 0, type: UInt8(ascii: "0")) + Tar.endOfArchive
        let bundle = try ageWrap(tar)
        #expect {
            try fixture.open(bundle)
        } throws: { error in
            guard case BundleError.entryTooLarge(_, let declared, _) = error else { return false }
            return declared == Tar.maxOctalSize
        }
        // The same for a pax size beyond anything (2^63).
        let records = Tar.paxRecord("size", "9223372036854775807")
        let pax =
            Tar.header(name: "pax", size: UInt64(records.count), mtime: 0, type: UInt8(ascii: "x")) + records
            + [UInt8](repeating: 0, count: Tar.padding(UInt64(records.count)))
            + Tar.header(name: "files/huge", size: 0, mtime: 0, type: UInt8(ascii: "0")) + Tar.endOfArchive
        #expect {
            try fixture.open(try ageWrap(pax))
        } throws: { error in
            guard case BundleError.entryTooLarge(_, let declared, _) = error else { return false }
            return declared == UInt64(Int64.max)
        }
    }

    @Test func badChecksumIsNotABundle() throws {
        var tar = entry("files/a", [1]) + Tar.endOfArchive
        tar[0] ^= 0x01
        #expect(throws: (any Error).self) { try fixture.open(try ageWrap(tar)) }
    }

    @Test func entryChangedAfterSigningIsTampered() throws {
        // Given a manifest signed over one content, When the tar carries other bytes under that name
        let real = Array("original".utf8)
        let hash = Hex.encode(try SHA256.hash(real))
        let tar =
            entry("files/a.txt", Array("modified".utf8))
            + (try manifestEntry([.init(path: "files/a.txt", sha256: hash, size: 8)])) + Tar.endOfArchive
        // Then opening reports the tampered entry by name
        #expect {
            try fixture.open(try ageWrap(tar))
        } throws: { error in
            guard case BundleError.tampered(let entry, _) = error else { return false }
            return entry == "files/a.txt"
        }
    }

    @Test func unlistedAndMissingEntriesAreTampered() throws {
        let tar = entry("files/extra.txt", [1]) + (try manifestEntry([])) + Tar.endOfArchive
        #expect(throws: BundleError.tampered(entry: "files/extra.txt", reason: "not listed in the signed manifest")) {
            try fixture.open(try ageWrap(tar))
        }
        let missing =
            (try manifestEntry([.init(path: "files/gone.txt", sha256: String(repeating: "0", count: 64), size: 1)]))
            + Tar.endOfArchive
        #expect(
            throws: BundleError.tampered(entry: "files/gone.txt", reason: "listed in the signed manifest but missing")
        ) {
            try fixture.open(try ageWrap(missing))
        }
    }

    @Test func namesWithInvisibleOrLookalikeCharactersAreRefused() throws {
        // U+0085 (next line), U+2028 (line separator), U+202E (right-to-left override), a division slash
        let names = [
            "files/a\u{85}b.txt", "files/a\u{2028}b.txt", "files/verdict\u{202E}fdp.exe", "files/..\u{2215}etc",
        ]
        for name in names { try expectHostile(entry(name, [1]) + Tar.endOfArchive, "unexpected path") }
        #expect(names.count == 4)
        // And the sealer refuses them as file names
        for name in ["a\u{85}b.txt", "a\u{2028}b.txt", "verdict\u{202E}fdp.exe", "..\u{2215}etc"] {
            #expect(throws: BundleError.self) { try BundleSealer.validateName(name) }
        }
    }

    /// A compact JWS with the given header and payload JSON text and a 64-byte zero signature.
    func jws(header: String, payload: String) -> [UInt8] {
        Array(
            (Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
                + Base64URL.encode([UInt8](repeating: 0, count: 64))).utf8)
    }

    @Test func manifestWithDuplicateMembersABOMOrCritIsRefused() throws {
        let header = #"{"alg":"EdDSA","kid":"AAAA","typ":"amanat-manifest+jws"}"#
        let payload =
            #"{"acknowledges":[],"bundleId":"x","createdAt":"2026-11-27T00:00:00Z","entries":[],"recipients":[],"sender":{},"type":"amanat-bundle-manifest/v2"}"#
        // The well-formed one parses
        #expect(try BundleManifest.parse(jws: jws(header: header, payload: payload)).keyID == "AAAA")
        let hostile: [(String, String, String)] = [
            ("duplicate member", header, String(payload.dropLast()) + #","bundleId":"y"}"#),
            ("duplicate in header", #"{"alg":"EdDSA","kid":"AAAA","kid":"BBBB","typ":"amanat-manifest+jws"}"#, payload),
            ("byte order mark", header, "\u{FEFF}" + payload),
            ("crit", #"{"alg":"EdDSA","crit":["exp"],"exp":1,"kid":"AAAA","typ":"amanat-manifest+jws"}"#, payload),
        ]
        for (name, h, p) in hostile {
            #expect(throws: BundleError.self, "\(name)") { try BundleManifest.parse(jws: jws(header: h, payload: p)) }
        }
        #expect(hostile.count == 4)
    }

    @Test func forgedSignatureIsRefused() throws {
        let other = try Ed25519.SigningKey.generate()
        let manifest = BundleManifest(
            bundleId: "x", createdAt: "2026-11-27T00:00:00Z",
            sender: .init(organization: "Test Sender Org", fingerprint: fixture.senderIdentity.fingerprint),
            recipients: [],
            entries: [])
        // Signed by another key but claiming the trusted sender's key id.
        var jws = try manifest.signed(with: other)
        let parts = jws.split(separator: ".")
        let header = Base64URL.encode(
            Array(
                "{\"alg\":\"EdDSA\",\"kid\":\"\(fixture.senderIdentity.fingerprint)\",\"typ\":\"amanat-manifest+jws\"}"
                    .utf8))
        jws = header + "." + parts[1] + "." + parts[2]
        let tar = entry(BundleManifest.entryPath, Array(jws.utf8)) + Tar.endOfArchive
        #expect(throws: BundleError.badSignature) { try fixture.open(try ageWrap(tar)) }
    }

    @Test func entryAfterManifestIsRefused() throws {
        let tar = (try manifestEntry([])) + entry("files/late.txt", [1]) + Tar.endOfArchive
        try expectHostile(tar, "after the manifest")
    }

    @Test func garbageAfterEndOfArchiveIsRefused() throws {
        let tar = (try manifestEntry([])) + Tar.endOfArchive + [1]
        #expect(throws: BundleError.notABundle("data after the end of the tar archive")) {
            try fixture.open(try ageWrap(tar))
        }
    }

    @Test func longAndNonASCIINamesUsePax() throws {
        let name = "судебный-приговор-" + String(repeating: "ж", count: 60) + ".pdf"
        let bundle = try fixture.seal([(name, [1, 2, 3])])
        #expect(try fixture.open(bundle).1["files/" + name] == [1, 2, 3])
    }
}
