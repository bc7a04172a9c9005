import AmanatAge
import AmanatCrypto
import Foundation
import FuzzSupport

/// The identities of the age test kit and its passphrase, so that the kit's valid files decrypt and the fuzzer gets
/// past the header MAC into the payload. The X25519 identities are public test keys, read from the vendored kit
/// (Tests/Vectors/age-testkit, beside this package) so that no key string lives outside it. The scrypt identity
/// accepts work factors up to 2^12 only, to keep every run fast.
private let identities: [any AgeIdentity] = {
    let kit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/Vectors/age-testkit")
    var keys = Set<String>()
    for name in (try? FileManager.default.contentsOfDirectory(atPath: kit.path)) ?? [] {
        guard let data = FileManager.default.contents(atPath: kit.appendingPathComponent(name).path) else { continue }
        // The kit's header lines come before the age file; the file itself may be binary.
        for line in String(decoding: data.prefix(4096), as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("identity: AGE-SECRET-KEY-1") { keys.insert(String(line.dropFirst("identity: ".count))) }
        }
    }
    guard keys.count >= 2 else { fatalError("cannot read the test kit's identities in \(kit.path)") }
    do {
        return try keys.sorted().map { try X25519AgeIdentity(secretKey: $0) }
            + [ScryptAgeIdentity(passphrase: SecretBytes(Array("password".utf8)), maxWorkFactor: 12)]
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
