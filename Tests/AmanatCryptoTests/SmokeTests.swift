import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@Suite struct SmokeTests {
    @Test func ed25519RFC8032Test1() throws {
        let seed = SecretBytes(Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        let key = try Ed25519.SigningKey(seed: seed)
        #expect(
            key.publicKey.rawRepresentation
                == Hex.decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let sig = try key.signature(for: [UInt8]())
        #expect(
            sig
                == Hex.decode(
                    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
                ))
        #expect(key.publicKey.isValidSignature(sig, for: [UInt8]()))
        #expect(!key.publicKey.isValidSignature(sig, for: [UInt8(1)]))
    }

    @Test func keyFileRoundTrip() throws {
        let key = try Ed25519.SigningKey.generate()
        let pass = SecretBytes(Array("correct horse".utf8))
        let pem = try PrivateKeyFile.encode(.ed25519(key), passphrase: pass, parameters: .insecureTestOnly)
        guard case .ed25519(let back) = try PrivateKeyFile.decode(pem: pem, passphrase: pass) else {
            Issue.record("wrong key type")
            return
        }
        #expect(back.publicKey == key.publicKey)
        #expect(throws: CryptoError.wrongPassphrase) {
            try PrivateKeyFile.decode(pem: pem, passphrase: SecretBytes(Array("wrong".utf8)))
        }
    }
}
