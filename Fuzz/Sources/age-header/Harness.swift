import AmanatAge
import AmanatCrypto
import FuzzSupport

/// The identities of the age test kit (Tests/Vectors/age-testkit: public test keys) and its passphrase, so that the
/// kit's valid files decrypt and the fuzzer gets past the header MAC into the payload. The scrypt identity accepts
/// work factors up to 2^12 only, to keep every run fast.
private let identities: [any AgeIdentity] = {
    do {
        return [
            try X25519AgeIdentity(
                secretKey: "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"),
            try X25519AgeIdentity(
                secretKey: "AGE-SECRET-KEY-143WN7DCXU4G8R5AXQSSYD9AEPYDNT3HXSLWSPK36CDU6E8M59SSSAGZ3KG"),
            ScryptAgeIdentity(passphrase: SecretBytes(Array("password".utf8)), maxWorkFactor: 12),
        ]
    } catch {
        fatalError("cannot read the test kit identities: \(error)")
    }
}()

/// An age file (binary or armored, detected as `amanat open` does): header and armor parsing without an identity
/// (`Age.inspect`), then a full decryption with the test kit's identities. The two must agree on the header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let summary = try? Age.inspect(bytes, armor: .detect)
    _ = try? Age.inspect(bytes, armor: .armored)
    do {
        let plaintext = try Age.decrypt(bytes, identities: identities, armor: .detect)
        guard summary != nil else { fuzzFailure("age-header", "a file decrypts but its header does not inspect") }
        // The payload is at least as long as the plaintext plus a tag and a 16-byte nonce (armor only adds).
        guard plaintext.count + 32 <= bytes.count else { fuzzFailure("age-header", "more plaintext than input") }
    } catch let error as AgeError {
        _ = error.description
        _ = error.failureClass
    } catch {
        fuzzFailure("age-header", "Age.decrypt threw a non-AgeError: \(error)")
    }
    return 0
}
