import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatBundle

@Suite("Bundles: seal and open")
struct BundleTests {
    @Test func roundTripWithSeveralFiles() throws {
        let fixture = try BundleFixture()
        let video = SplitMix64.bytes(200_000, seed: 1)  // several age chunks
        let bundle = try fixture.seal([
            ("verdict.pdf", Array("court verdict".utf8)), ("testimony.mp4", video), ("empty.txt", []),
        ])
        let (opened, files) = try fixture.open(bundle)
        #expect(files["files/verdict.pdf"] == Array("court verdict".utf8))
        #expect(files["files/testimony.mp4"] == video)
        #expect(files["files/empty.txt"] == [])
        #expect(opened.manifest.contentEntries.count == 3)
        #expect(opened.manifest.entries.first?.path == BundleHeader.entryPath)
        #expect(
            opened.manifest.contentEntries[1].sha256 == Hex.encode(try SHA256.hash(video)))
        #expect(opened.manifest.sender.fingerprint == fixture.senderIdentity.fingerprint)
        #expect(opened.manifest.recipients.map(\.fingerprint) == [fixture.recipientIdentity.fingerprint])
        #expect(opened.signerFingerprint == fixture.senderIdentity.fingerprint)
    }

    @Test func armoredRoundTrip() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.seal([("a.txt", Array("hello".utf8))], armor: true)
        #expect(String(decoding: bundle.prefix(34), as: UTF8.self) == "-----BEGIN AGE ENCRYPTED FILE-----")
        #expect(try fixture.open(bundle).1["files/a.txt"] == Array("hello".utf8))
    }

    @Test func untrustedSenderIsNamedByFingerprint() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.seal([("a.txt", [1, 2, 3])])
        #expect(
            throws: BundleError.untrustedSigner(
                fingerprint: fixture.senderIdentity.fingerprint, organization: "Test Sender Org")
        ) {
            try fixture.open(bundle, trustSender: false)
        }
    }

    @Test func bundleForSomeoneElseIsNoMatch() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.seal([("a.txt", [1, 2, 3])])
        #expect(throws: BundleError.noMatchingRecipient(recipients: 1)) {
            try fixture.open(bundle, key: try X25519.PrivateKey.generate())
        }
    }

    @Test func bundleReEncryptedByItsRecipientIsRefusedByAThirdParty() throws {
        // Given a bundle the sender sealed for the fixture's recipient (call it C)
        let fixture = try BundleFixture()
        let sealed = try fixture.seal([("verdict.pdf", Array("court verdict".utf8))])
        // When C decrypts it and re-encrypts the same tar (signed manifest intact) to another organization B
        let tar = try Age.decrypt(sealed, identities: [X25519AgeIdentity(privateKey: fixture.recipientSealing)])
        let keyB = try X25519.PrivateKey.generate()
        let forwarded = try Age.encrypt(tar, to: [X25519AgeRecipient(publicKey: keyB.publicKey)])
        // Then B refuses it, naming whom the sender sealed it for, and nothing reaches the output
        let collector = Collector()
        let senderPublic = fixture.senderKey.publicKey
        let expected = BundleError.notAddressedToUs(recipients: [
            "'Test Recipient Org' \(fixture.recipientIdentity.fingerprint)"
        ])
        #expect(throws: expected) {
            try BundleOpener.open(
                source: Age.memorySource(forwarded), sizeLimit: UInt64(forwarded.count), identity: keyB,
                trustedSigner: { $0 == fixture.senderIdentity.fingerprint ? senderPublic : nil },
                ownFingerprint: "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", output: collector)
        }
        // And C itself (named by fingerprint) still opens the original
        #expect(try fixture.open(sealed).1["files/verdict.pdf"] == Array("court verdict".utf8))
        // And a bare age1 recipient named in the manifest is recognised by its key alone
        let bare = try BundleSealer.seal(
            inputs: [BundleFixture.input("a.txt", [1, 2, 3])], sender: fixture.sender,
            recipients: [try BundleRecipient(ageRecipient: AgeKeyEncoding.recipient(keyB.publicKey))],
            sink: { _ in })
        #expect(bare.recipients.first?.ageRecipient == AgeKeyEncoding.recipient(keyB.publicKey))
    }

    @Test func plainAgeFileIsNotABundle() throws {
        let fixture = try BundleFixture()
        let plain = try Age.encrypt(
            Array("just a note".utf8), to: [X25519AgeRecipient(publicKey: fixture.recipientSealing.publicKey)])
        #expect {
            try fixture.open(plain)
        } throws: { error in
            guard case BundleError.notABundle = error else { return false }
            return true
        }
    }

    @Test func everySingleByteChangeIsRefused() throws {
        // Given a small sealed bundle
        let fixture = try BundleFixture()
        let bundle = try fixture.seal([("note.txt", Array("synthetic testimony note".utf8))])
        // When any one byte at any position is changed, Then opening fails
        var accepted: [Int] = []
        for position in 0..<bundle.count {
            var copy = bundle
            copy[position] ^= 0x01
            if (try? fixture.open(copy)) != nil { accepted.append(position) }
        }
        #expect(accepted.isEmpty, "accepted changes at \(accepted)")
        #expect(bundle.count > 1000)
    }

    @Test func truncationAroundEveryChunkBoundaryIsRefused() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.seal([("video.mp4", SplitMix64.bytes(3 * 65536 + 100, seed: 2))])
        let headerEnd = try #require(headerLength(bundle))
        let chunk = 65536 + 16
        var cuts = Set<Int>([0, 1, headerEnd - 1, headerEnd, headerEnd + 16, bundle.count - 1])
        for k in 1...4 {
            for delta in -17...17 {
                let cut = headerEnd + 16 + k * chunk + delta
                if cut > 0 && cut < bundle.count { cuts.insert(cut) }
            }
        }
        for cut in cuts.sorted() {
            #expect(throws: (any Error).self, "cut at \(cut) accepted") { try fixture.open(Array(bundle.prefix(cut))) }
        }
        #expect(cuts.count > 100)
    }

    @Test func trailingDataIsRefused() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.seal([("a.txt", [1, 2, 3])])
        #expect(throws: (any Error).self) { try fixture.open(bundle + [0]) }
    }

    /// The age header ends after the line starting with "---".
    func headerLength(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i + 3 < bytes.count {
            if (i == 0 || bytes[i - 1] == 0x0A) && bytes[i] == 0x2D && bytes[i + 1] == 0x2D && bytes[i + 2] == 0x2D {
                guard let newline = bytes[i...].firstIndex(of: 0x0A) else { return nil }
                return newline + 1
            }
            i += 1
        }
        return nil
    }
}
