import AmanatAge
import AmanatBundle
import AmanatCrypto
import Foundation
import Testing

/// A sender, a recipient and helpers to seal and open bundles in memory.
struct BundleFixture {
    let senderKey: Ed25519.SigningKey
    let senderSealing: X25519.PrivateKey
    let senderIdentity: PublicIdentity
    let recipientKey: Ed25519.SigningKey
    let recipientSealing: X25519.PrivateKey
    let recipientIdentity: PublicIdentity

    init() throws {
        senderKey = try .generate()
        senderSealing = try .generate()
        senderIdentity = try PublicIdentity(
            organization: "Test Sender Org", signingKey: senderKey, sealingKey: senderSealing.publicKey)
        recipientKey = try .generate()
        recipientSealing = try .generate()
        recipientIdentity = try PublicIdentity(
            organization: "Test Recipient Org", signingKey: recipientKey, sealingKey: recipientSealing.publicKey)
    }

    var sender: BundleSender { BundleSender(signingKey: senderKey, identity: senderIdentity) }

    static func input(_ name: String, _ bytes: [UInt8]) -> BundleInput {
        final class Cursor: @unchecked Sendable { var offset = 0 }
        let cursor = Cursor()
        return BundleInput(name: name, size: UInt64(bytes.count)) { buffer in
            let n = min(buffer.count, bytes.count - cursor.offset)
            if n > 0 {
                bytes.withUnsafeBytes { src in
                    buffer.baseAddress!.copyMemory(from: src.baseAddress! + cursor.offset, byteCount: n)
                }
            }
            cursor.offset += n
            return n
        }
    }

    func seal(_ files: [(String, [UInt8])], armor: Bool = false) throws -> [UInt8] {
        final class Box: @unchecked Sendable { var bytes: [UInt8] = [] }
        let box = Box()
        _ = try BundleSealer.seal(
            inputs: files.map { Self.input($0.0, $0.1) }, sender: sender,
            recipients: [try BundleRecipient(identity: recipientIdentity)], armor: armor,
            sink: { box.bytes.append(contentsOf: $0) })
        return box.bytes
    }

    /// Opens with the recipient's key, trusting the sender; collects the files.
    func open(
        _ bundle: [UInt8], trustSender: Bool = true, key: X25519.PrivateKey? = nil, ownFingerprint: String? = nil
    ) throws -> (OpenedBundle, [String: [UInt8]]) {
        let collector = Collector()
        let senderPublic = senderKey.publicKey
        let fingerprint = senderIdentity.fingerprint
        let opened = try BundleOpener.open(
            source: Age.memorySource(bundle), sizeLimit: UInt64(bundle.count), identity: key ?? recipientSealing,
            trustedSigner: { trustSender && $0 == fingerprint ? senderPublic : nil },
            ownFingerprint: ownFingerprint ?? recipientIdentity.fingerprint, output: collector)
        return (opened, collector.files)
    }
}

final class Collector: BundleEntryOutput {
    var files: [String: [UInt8]] = [:]
    var current: String?

    func begin(path: String, size: UInt64) throws {
        current = path
        files[path] = []
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { files[current!]!.append(contentsOf: bytes) }
    func end() throws { current = nil }
}
