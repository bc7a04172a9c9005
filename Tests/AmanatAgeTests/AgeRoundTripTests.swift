import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@Suite struct AgeRoundTripTests {
    static let chunk = 64 * 1024

    static func identity() throws -> X25519AgeIdentity {
        X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
    }

    /// Sizes around the chunk and the 32-chunk batch boundaries.
    static let sizes = [
        0, 1, 15, 16, 17, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 1000, 32 * chunk, 32 * chunk + 1,
        33 * chunk, 65 * chunk - 7,
    ]

    @Test(arguments: sizes) func roundTrip(size: Int) throws {
        let me = try Self.identity()
        let plaintext = SplitMix64.bytes(size, seed: UInt64(size) + 1)
        for armor in [false, true] {
            for parallelism in [1, 2] {
                // Given a file written in uneven pieces
                var file: [UInt8] = []
                let writer = try AgeWriter(recipients: [me.recipient], armor: armor, parallelism: parallelism) {
                    file.append(contentsOf: $0)
                }
                var offset = 0
                var step = 1
                while offset < plaintext.count {
                    let n = min(step, plaintext.count - offset)
                    try plaintext[offset..<(offset + n)].withUnsafeBytes { try writer.write($0) }
                    offset += n
                    step = step * 7 % 100_003 + 1
                }
                try writer.finish()
                // Then the expected number of chunks was written (a full final chunk, no extra empty one)
                if !armor {
                    let chunks = max(1, (size + Self.chunk - 1) / Self.chunk)
                    let header = try #require(Self.headerLength(file))
                    #expect(file.count == header + 16 + size + 16 * chunks)
                }
                // And it decrypts with odd read sizes
                let (back, error) = AgeTestSupport.decryptCollecting(file, identities: [me], readSize: 1000)
                #expect(error == nil)
                #expect(back == plaintext, "size \(size), armor \(armor)")
            }
        }
    }

    /// The length of a binary header (through the MAC line).
    static func headerLength(_ file: [UInt8]) -> Int? {
        let marker = Array("\n--- ".utf8)
        guard file.count > marker.count else { return nil }
        for i in 0...(file.count - marker.count) where Array(file[i..<(i + marker.count)]) == marker {
            return file[(i + 1)...].firstIndex(of: 0x0A).map { $0 + 1 }
        }
        return nil
    }

    @Test func armorLayout() throws {
        let me = try Self.identity()
        let file = try Age.encrypt(SplitMix64.bytes(1000), to: [me.recipient], armor: true)
        let text = String(decoding: file, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "-----BEGIN AGE ENCRYPTED FILE-----")
        #expect(lines[lines.count - 2] == "-----END AGE ENCRYPTED FILE-----")
        #expect(lines.last == "")
        let body = lines[1..<(lines.count - 2)]
        #expect(body.dropLast().allSatisfy { $0.count == 64 })
        #expect(body.last!.count <= 64 && body.last!.count % 4 == 0)
        #expect(try Age.decrypt(file, identities: [me]) == SplitMix64.bytes(1000))
        #expect(try Age.inspect(file).armored)
    }

    @Test func severalRecipientsAndSummary() throws {
        let a = try Self.identity()
        let b = try Self.identity()
        let c = try Self.identity()
        let file = try Age.encrypt([1, 2, 3], to: [a.recipient, b.recipient])
        #expect(try Age.decrypt(file, identities: [b]) == [1, 2, 3])
        #expect(try Age.decrypt(file, identities: [c, a]) == [1, 2, 3])
        let summary = try Age.inspect(file)
        #expect(summary.stanzaTypes == ["X25519", "X25519"])
        #expect(summary.recipientCount == 2 && !summary.armored && !summary.isPassphraseEncrypted)
        // A file for someone else says how many recipients it has.
        #expect(throws: AgeError.noMatch(recipientStanzas: 2)) { try Age.decrypt(file, identities: [c]) }
        #expect(throws: AgeError.noMatch(recipientStanzas: 2)) { try Age.decrypt(file, identities: []) }
    }

    @Test func passphrase() throws {
        let pass = SecretBytes(Array("correct horse battery".utf8))
        let recipient = try ScryptAgeRecipient(passphrase: pass, workFactor: 10)
        let file = try Age.encrypt(SplitMix64.bytes(70_000), to: [recipient])
        #expect(try Age.inspect(file).isPassphraseEncrypted)
        #expect(
            try Age.decrypt(file, identities: [ScryptAgeIdentity(passphrase: pass)]) == SplitMix64.bytes(70_000))
        let wrong = ScryptAgeIdentity(passphrase: SecretBytes(Array("wrong".utf8)))
        #expect(throws: AgeError.noMatch(recipientStanzas: 1)) { try Age.decrypt(file, identities: [wrong]) }
        let capped = ScryptAgeIdentity(passphrase: pass, maxWorkFactor: 9)
        #expect(throws: AgeError.scryptWorkFactorTooHigh(workFactor: 10, maximum: 9)) {
            try Age.decrypt(file, identities: [capped])
        }
        // A passphrase cannot be mixed with other recipients.
        let other = try Self.identity().recipient
        #expect(throws: AgeError.self) { try Age.encrypt([1], to: [recipient, other]) }
        #expect(throws: AgeError.self) { try ScryptAgeRecipient(passphrase: pass, workFactor: 23) }
    }

    @Test func writerMisuse() throws {
        let me = try Self.identity()
        #expect(throws: AgeError.self) { try AgeWriter(recipients: []) { _ in } }
        let writer = try AgeWriter(recipients: [me.recipient]) { _ in }
        try writer.finish()
        #expect(throws: AgeError.self) { try writer.write([1, 2, 3]) }
        #expect(throws: AgeError.self) { try writer.finish() }
    }

    @Test func keyFiles() throws {
        let key = try X25519.PrivateKey.generate()
        let secret = String(decoding: try AgeKeyEncoding.secretKey(key).unprotectedArray, as: UTF8.self)
        let recipient = AgeKeyEncoding.recipient(key.publicKey)
        let identityFile = "# created: 2026-01-01T00:00:00Z\n# public key: \(recipient)\n\(secret)\n"
        let identities = try AgeKeyFile.identities(identityFile)
        #expect(identities.count == 1)
        #expect(identities[0].recipient.stringValue == recipient)
        let recipients = try AgeKeyFile.recipients("# team\n\(recipient)\n\n")
        #expect(recipients.map(\.publicKey) == [key.publicKey])
        #expect(throws: AgeError.self) { try AgeKeyFile.identities("# nothing\n") }
        #expect(throws: AgeError.self) { try AgeKeyFile.recipients("age1notarecipient\n") }
        #expect(throws: AgeError.self) { try X25519AgeRecipient("AGE-SECRET-KEY-1QQQQ") }
    }
}
