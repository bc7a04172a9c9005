import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatBundle

/// The signed header entry (`HEADER.jws`, first in the tar): a bundle from an untrusted or unexpected sender, or one
/// holding more than it declared, is refused before anything is written or kept (issue #12, item 2).
@Suite("Bundles: the signed header authenticates before any work")
struct SignedHeaderTests {
    let fixture: BundleFixture

    init() throws { fixture = try BundleFixture() }

    /// Counts what the opener hands to its output, so a test can show nothing was written.
    final class CountingOutput: BundleEntryOutput {
        var begun = 0
        var bytes = 0
        func begin(path: String, size: UInt64) throws { begun += 1 }
        func write(_ buffer: UnsafeRawBufferPointer) throws { bytes += buffer.count }
        func end() throws {}
    }

    func open(_ bundle: [UInt8], trustSender: Bool = true, output: CountingOutput) throws -> OpenedBundle {
        let senderPublic = fixture.senderKey.publicKey
        let fingerprint = fixture.senderIdentity.fingerprint
        return try BundleOpener.open(
            source: Age.memorySource(bundle), sizeLimit: UInt64(bundle.count), identity: fixture.recipientSealing,
            trustedSigner: { trustSender && $0 == fingerprint ? senderPublic : nil },
            ownFingerprint: fixture.recipientIdentity.fingerprint, output: output)
    }

    func tarEntry(_ path: String, _ body: [UInt8]) -> [UInt8] {
        Tar.header(name: path, size: UInt64(body.count), mtime: 0, type: UInt8(ascii: "0")) + body
            + [UInt8](repeating: 0, count: Tar.padding(UInt64(body.count)))
    }

    /// A header signed by `key` (the sender's unless given) declaring `count` entries of `size` bytes.
    func headerEntry(
        count: Int, size: UInt64, key: Ed25519.SigningKey? = nil, recipients: [BundleManifest.Party]? = nil
    ) throws -> [UInt8] {
        let header = BundleHeader(
            bundleId: "hdr", createdAt: "2026-12-06T00:00:00Z",
            sender: .init(organization: "Test Sender Org", fingerprint: fixture.senderIdentity.fingerprint),
            recipients: recipients
                ?? [.init(organization: "Test Recipient Org", fingerprint: fixture.recipientIdentity.fingerprint)],
            entryCount: count, totalSize: size)
        return tarEntry(BundleHeader.entryPath, Array(try header.signed(with: key ?? fixture.senderKey).utf8))
    }

    func wrap(_ tar: [UInt8]) throws -> [UInt8] {
        try Age.encrypt(tar, to: [X25519AgeRecipient(publicKey: fixture.recipientSealing.publicKey)])
    }

    @Test func sealedBundlesStartWithTheHeaderAndTheManifestListsIt() throws {
        // Given a bundle sealed the normal way
        let bundle = try fixture.seal([("a.txt", [1, 2, 3]), ("b.txt", Array(repeating: 7, count: 1000))])
        let tar = try Age.decrypt(bundle, identities: [X25519AgeIdentity(privateKey: fixture.recipientSealing)])
        // Then its first entry is the header, declaring two entries of 1003 bytes
        let first = try tar[0..<512].withUnsafeBytes { try Tar.parseHeader($0, pax: [:]) }
        #expect(first?.entry.path == BundleHeader.entryPath)
        let size = Int(first?.entry.size ?? 0)
        let header = try BundleHeader.parse(jws: Array(tar[512..<(512 + size)])).header
        #expect(header.entryCount == 2)
        #expect(header.totalSize == 1003)
        // And the manifest lists the header with its SHA-256, under the same bundle id
        let (opened, files) = try fixture.open(bundle)
        #expect(opened.manifest.bundleId == header.bundleId)
        #expect(
            opened.manifest.entries.first
                == .init(
                    path: BundleHeader.entryPath, sha256: Hex.encode(try SHA256.hash(Array(tar[512..<(512 + size)]))),
                    size: UInt64(size)))
        #expect(files.keys.sorted() == ["files/a.txt", "files/b.txt"])
    }

    @Test func anUntrustedSenderIsRefusedBeforeAnyEntryIsWritten() throws {
        // Given a bundle of many entries from a sender the recipient does not trust
        let inputs = (0..<200).map { ("f\($0).txt", [UInt8](repeating: UInt8($0 & 0xFF), count: 3000)) }
        let bundle = try fixture.seal(inputs)
        let output = CountingOutput()
        // When it is opened, Then it is refused as untrusted and the output never saw an entry or a byte
        #expect(
            throws: BundleError.untrustedSigner(
                fingerprint: fixture.senderIdentity.fingerprint, organization: "Test Sender Org")
        ) { try open(bundle, trustSender: false, output: output) }
        #expect(output.begun == 0)
        #expect(output.bytes == 0)
    }

    @Test func aHeaderNotNamingUsIsRefusedBeforeAnyEntryIsWritten() throws {
        let other = BundleManifest.Party(
            organization: "Someone Else", fingerprint: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        let tar =
            try headerEntry(count: 1, size: 3, recipients: [other]) + tarEntry("files/a.txt", [1, 2, 3])
            + Tar.endOfArchive
        let output = CountingOutput()
        #expect {
            try open(try wrap(tar), output: output)
        } throws: { error in
            guard case BundleError.notAddressedToUs(let recipients) = error else { return false }
            return recipients.first?.contains("Someone Else") == true
        }
        #expect(output.begun == 0)
    }

    @Test func aHeaderSignedByAnotherKeyIsRefused() throws {
        let forger = try Ed25519.SigningKey.generate()
        // The forger's key id is not trusted
        let untrusted = try headerEntry(count: 0, size: 0, key: forger) + Tar.endOfArchive
        #expect(throws: BundleError.self) { try open(try wrap(untrusted), output: CountingOutput()) }
        // And a forged signature under the trusted key id does not verify
        var jws = try BundleHeader(
            bundleId: "hdr", createdAt: "2026-12-06T00:00:00Z",
            sender: .init(fingerprint: fixture.senderIdentity.fingerprint), recipients: [], entryCount: 0, totalSize: 0
        ).signed(with: forger)
        let parts = jws.split(separator: ".")
        let protected = Base64URL.encode(
            Array(
                "{\"alg\":\"EdDSA\",\"kid\":\"\(fixture.senderIdentity.fingerprint)\",\"typ\":\"amanat-header+jws\"}"
                    .utf8))
        jws = protected + "." + parts[1] + "." + parts[2]
        let forged = tarEntry(BundleHeader.entryPath, Array(jws.utf8)) + Tar.endOfArchive
        #expect(throws: BundleError.badSignature) { try open(try wrap(forged), output: CountingOutput()) }
    }

    @Test func moreEntriesOrBytesThanDeclaredAreRefusedAtOnce() throws {
        // Declares one entry; the second is refused before the output sees it
        let extra =
            try headerEntry(count: 1, size: 6) + tarEntry("files/a.txt", [1, 2, 3])
            + tarEntry("files/b.txt", [4, 5, 6]) + Tar.endOfArchive
        let output = CountingOutput()
        #expect {
            try open(try wrap(extra), output: output)
        } throws: { error in
            guard case BundleError.exceedsHeader(let why) = error else { return false }
            return why.contains("more than the 1 entries")
        }
        #expect(output.begun == 1)
        // Declares 2 bytes; an entry of 3 is refused before the output sees it
        let bigger = try headerEntry(count: 1, size: 2) + tarEntry("files/a.txt", [1, 2, 3]) + Tar.endOfArchive
        let second = CountingOutput()
        #expect {
            try open(try wrap(bigger), output: second)
        } throws: { error in
            guard case BundleError.exceedsHeader(let why) = error else { return false }
            return why.contains("more than the 2 bytes")
        }
        #expect(second.begun == 0)
        // Declares more than the file can hold
        let huge = try headerEntry(count: 1, size: 1 << 40) + Tar.endOfArchive
        #expect {
            try open(try wrap(huge), output: CountingOutput())
        } throws: { error in
            guard case BundleError.exceedsHeader(let why) = error else { return false }
            return why.contains("more than the file can hold")
        }
        // And more entries than any bundle may hold
        let many = try headerEntry(count: BundleHeader.maximumEntries + 1, size: 0) + Tar.endOfArchive
        #expect(throws: BundleError.self) { try open(try wrap(many), output: CountingOutput()) }
    }

    @Test func fewerEntriesThanDeclaredAreRefused() throws {
        // A complete, validly signed bundle whose header declared one entry more than it holds
        let body = tarEntry("files/a.txt", [1, 2, 3])
        let headerBytes = try headerEntry(count: 2, size: 3)
        let headerJWS = Array(headerBytes[512...].prefix { $0 != 0 })
        var manifest = BundleManifest(
            bundleId: "hdr", createdAt: "2026-12-06T00:00:00Z",
            sender: .init(organization: "Test Sender Org", fingerprint: fixture.senderIdentity.fingerprint),
            recipients: [.init(organization: "Test Recipient Org", fingerprint: fixture.recipientIdentity.fingerprint)],
            entries: [
                .init(
                    path: BundleHeader.entryPath, sha256: Hex.encode(try SHA256.hash(headerJWS)),
                    size: UInt64(headerJWS.count)),
                .init(path: "files/a.txt", sha256: Hex.encode(try SHA256.hash([1, 2, 3] as [UInt8])), size: 3),
            ])
        let tar = { (m: BundleManifest) throws -> [UInt8] in
            headerBytes + body + tarEntry(BundleManifest.entryPath, Array(try m.signed(with: fixture.senderKey).utf8))
                + Tar.endOfArchive
        }
        #expect {
            try open(try wrap(try tar(manifest)), output: CountingOutput())
        } throws: { error in
            guard case BundleError.exceedsHeader(let why) = error else { return false }
            return why.contains("declares 2 of 3")
        }
        // And a manifest naming another bundle id than its header is refused
        manifest.bundleId = "other"
        #expect(
            throws: BundleError.badManifest("the manifest names another bundle, sender or recipients than the header")
        ) {
            try open(try wrap(try tar(manifest)), output: CountingOutput())
        }
    }

    @Test func aBundleWithoutAHeaderFirstIsRefused() throws {
        // A tar that starts with a file (as version 1 bundles did) is refused at its first entry
        let tar = tarEntry("files/a.txt", [1, 2, 3]) + Tar.endOfArchive
        let output = CountingOutput()
        #expect {
            try open(try wrap(tar), output: output)
        } throws: { error in
            guard case BundleError.notABundle(let why) = error else { return false }
            return why.contains("does not start with a signed HEADER.jws")
        }
        #expect(output.begun == 0)
        // An oversized header is refused without reading it
        let oversized =
            Tar.header(name: BundleHeader.entryPath, size: 1 << 20, mtime: 0, type: UInt8(ascii: "0"))
            + [UInt8](repeating: 0x41, count: 1 << 20) + Tar.endOfArchive
        #expect {
            try open(try wrap(oversized), output: CountingOutput())
        } throws: { error in
            guard case BundleError.entryTooLarge(_, let declared, let limit) = error else { return false }
            return declared == 1 << 20 && limit == UInt64(BundleHeader.maximumSize)
        }
    }
}
