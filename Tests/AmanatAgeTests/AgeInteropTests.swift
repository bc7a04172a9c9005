import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// Interoperability with the stock `age` tool, both directions. Skipped (with the install command) only when `age`
/// is not installed, and never when `CI` is set. The passphrase direction is not tested against stock age: it reads
/// passphrases only from a terminal.
@Suite(.requires(.age))
struct AgeInteropTests {
    static let chunk = 64 * 1024

    /// A temporary directory removed at the end.
    final class TempDir {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-age-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    }

    static func writeIdentity(_ key: X25519.PrivateKey, to path: String) throws {
        let secret = try AgeKeyEncoding.secretKey(key).unprotectedArray
        let text = "# test identity\n" + String(decoding: secret, as: UTF8.self) + "\n"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    }

    @Test(arguments: [false, true]) func weEncryptStockAgeDecrypts(armor: Bool) throws {
        let age = try ExternalTool.age.require()
        let dir = try TempDir()
        // Given three recipients and a multi-chunk payload
        let keys = try (0..<3).map { _ in try X25519.PrivateKey.generate() }
        try Self.writeIdentity(keys[1], to: dir.file("id.txt"))
        let recipients: [any AgeRecipient] = keys.map { X25519AgeRecipient(publicKey: $0.publicKey) }
        for size in [0, 1000, 3 * Self.chunk, 3 * Self.chunk + 4321] {
            let plaintext = SplitMix64.bytes(size, seed: 42)
            let file = try Age.encrypt(plaintext, to: recipients, armor: armor)
            // When stock age decrypts it with the second recipient's identity file
            let result = try Subprocess.run(age, ["-d", "-i", dir.file("id.txt")], stdin: Data(file))
            // Then it gets the same bytes
            #expect(result.status == 0, "age -d failed: \(result.stderrText)")
            #expect(result.stdout == plaintext, "size \(size), armor \(armor)")
        }
    }

    @Test(arguments: [false, true]) func stockAgeEncryptsWeDecrypt(armor: Bool) throws {
        let age = try ExternalTool.age.require()
        let me = try X25519.PrivateKey.generate()
        let other = try X25519.PrivateKey.generate()
        for size in [0, 1000, 2 * Self.chunk, 3 * Self.chunk + 4321] {
            let plaintext = SplitMix64.bytes(size, seed: 7)
            var arguments = [
                "-r", AgeKeyEncoding.recipient(other.publicKey), "-r", AgeKeyEncoding.recipient(me.publicKey),
            ]
            if armor { arguments.append("-a") }
            let result = try Subprocess.run(age, arguments, stdin: Data(plaintext))
            #expect(result.status == 0, "age -r failed: \(result.stderrText)")
            let file = result.stdout
            #expect(try Age.inspect(file).stanzaTypes == ["X25519", "X25519"])
            #expect(try Age.decrypt(file, identities: [X25519AgeIdentity(privateKey: me)]) == plaintext)
            #expect(try Age.decrypt(file, identities: [X25519AgeIdentity(privateKey: other)]) == plaintext)
        }
    }

    @Test(.requires(.ageKeygen)) func ageKeygenIdentityFile() throws {
        let keygen = try ExternalTool.ageKeygen.require()
        let age = try ExternalTool.age.require()
        let generated = try Subprocess.run(keygen, [])
        #expect(generated.status == 0)
        let identities = try AgeKeyFile.identities(generated.stdoutText)
        let recipient = identities[0].recipient.stringValue
        let encrypted = try Subprocess.run(age, ["-r", recipient], stdin: Data("synthetic record".utf8))
        #expect(try Age.decrypt(encrypted.stdout, identities: identities) == Array("synthetic record".utf8))
    }
}
