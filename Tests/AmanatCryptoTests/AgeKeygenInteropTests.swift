import AmanatCrypto
import Foundation
import Testing

/// Interoperability of our age key encodings with the stock `age-keygen`.
@Suite struct AgeKeygenInteropTests {
    func ageKeygen() -> Tool? {
        if let tool = Tool.ageKeygen { return tool }
        print("skipped: age-keygen is not on PATH; the age-keygen interop tests did not run")
        return nil
    }

    @Test func ageKeygenDerivesOurRecipientFromOurSecretKey() throws {
        guard let tool = ageKeygen() else { return }
        let folder = try TemporaryFolder()
        for index in 0..<3 {
            let key = try X25519.PrivateKey.generate()
            let identity = try AgeKeyEncoding.secretKey(key)
            try folder.write("identity\(index).txt", bytes: identity.unprotectedArray + [0x0a])
            let result = try tool.run(["-y", "identity\(index).txt"], in: folder.url)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output == AgeKeyEncoding.recipient(key.publicKey) + "\n")
        }
    }

    @Test func weReadIdentitiesWrittenByAgeKeygen() throws {
        guard let tool = ageKeygen() else { return }
        let folder = try TemporaryFolder()
        let made = try tool.run(["-o", "key.txt"], in: folder.url)
        #expect(made.status == 0, "\(made.stderr)")
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
