import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// Interoperability of our age key encodings with the stock `age-keygen`.
@Suite(.requires(.ageKeygen)) struct AgeKeygenInteropTests {
    @Test func ageKeygenDerivesOurRecipientFromOurSecretKey() throws {
        let tool = try ExternalTool.ageKeygen.require()
        let folder = try TemporaryFolder()
        for index in 0..<3 {
            let key = try X25519.PrivateKey.generate()
            let identity = try AgeKeyEncoding.secretKey(key)
            try folder.write("identity\(index).txt", bytes: identity.unprotectedArray + [0x0a])
            let result = try Subprocess.run(tool, ["-y", "identity\(index).txt"], in: folder.url)
            #expect(result.status == 0, "\(result.stderrText)")
            #expect(result.stdoutText == AgeKeyEncoding.recipient(key.publicKey) + "\n")
        }
    }

    @Test func weReadIdentitiesWrittenByAgeKeygen() throws {
        let tool = try ExternalTool.ageKeygen.require()
        let folder = try TemporaryFolder()
        let made = try Subprocess.run(tool, ["-o", "key.txt"], in: folder.url)
        #expect(made.status == 0, "\(made.stderrText)")
        let text = try folder.read("key.txt")
        let lines = text.split(separator: "\n").map(String.init)
        let secretLine = try #require(lines.first { $0.hasPrefix("AGE-SECRET-KEY-1") })
        let publicLine = try #require(lines.first { $0.hasPrefix("# public key: ") })
        let recipient = String(publicLine.dropFirst("# public key: ".count))
        let key = try AgeKeyEncoding.privateKey(secretKey: secretLine)
        #expect(AgeKeyEncoding.recipient(key.publicKey) == recipient)
        #expect(try AgeKeyEncoding.publicKey(recipient: recipient) == key.publicKey)
        #expect(try AgeKeyEncoding.secretKey(key).unprotectedArray == utf8(secretLine))
    }
}
