import AmanatAge
import AmanatCrypto
import Foundation
import FuzzSupport

private let passphrase = SecretBytes(Array("fuzz passphrase".utf8))

// Key material read from files: PEM (`PEM.decode`), the PKCS#8 private key file with its DER reader and the
// encrypted (scrypt / PBKDF2) form (`PrivateKeyFile.decode`), PEM public keys, public identity files (JSON, with
// their JWK and binding signature: `PublicIdentity.validated`), age identity and recipient files, and fingerprints.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    if let (label, der) = try? PEM.decode(text) {
        guard PEM.encode(label: label, der: der).contains(label) else { fuzzFailure("keys", "PEM label lost") }
    }
    for secret in [nil, passphrase] {
        do {
            let key = try PrivateKeyFile.decode(pem: text, passphrase: secret)
            _ = try? key.signingKey()
            _ = try? key.sealingKey()
        } catch let error as CryptoError {
            _ = error.description
        } catch {
            fuzzFailure("keys", "PrivateKeyFile.decode threw \(type(of: error)): \(error)")
        }
    }
    _ = try? Ed25519.VerifyingKey(pemRepresentation: text)
    let decoder = JSONDecoder()
    if let identity = try? decoder.decode(PublicIdentity.self, from: Data(bytes)) {
        do {
            let keys = try identity.validated()
            guard Fingerprint.of(keys.signing) == identity.fingerprint else {
                fuzzFailure("keys", "a validated identity's fingerprint is not its key's")
            }
        } catch let error as PublicIdentity.ValidationError {
            _ = error.description
        } catch {
            _ = error
        }
    }
    if let jwk = try? decoder.decode(JWK.self, from: Data(bytes)) { _ = try? Ed25519.VerifyingKey(jwk: jwk) }
    _ = try? AgeKeyFile.identities(text)
    _ = try? AgeKeyFile.recipients(text)
    _ = Fingerprint.normalize(text)
    return 0
}
