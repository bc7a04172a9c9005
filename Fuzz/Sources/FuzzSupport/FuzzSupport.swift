import AmanatAge
import AmanatCrypto

/// Fixed, synthetic keys shared by the harnesses and the seed generator, so that generated seeds (signed manifests,
/// SD-JWTs, bundles) verify inside the harnesses and the fuzzer can reach the code behind the signature checks.
/// Never use them for anything else: they are derived from public strings.
public enum FuzzKeys {
    /// The Ed25519 key that signs seed manifests and records.
    public static let signing: Ed25519.SigningKey = {
        do {
            return try Ed25519.SigningKey(seed: SecretBytes(try SHA256.hash(Array("amanat-fuzz-signing".utf8))))
        } catch {
            fatalError("cannot derive the fuzz signing key: \(error)")
        }
    }()

    /// The X25519 key bundles are sealed to.
    public static let sealing: X25519.PrivateKey = {
        do {
            return try X25519.PrivateKey(
                rawRepresentation: SecretBytes(try SHA256.hash(Array("amanat-fuzz-sealing".utf8))))
        } catch {
            fatalError("cannot derive the fuzz sealing key: \(error)")
        }
    }()

    /// The fingerprint of ``signing``.
    public static let fingerprint: String = Fingerprint.of(signing.publicKey)

    /// The public identity of the fuzz organization.
    public static let identity: PublicIdentity = {
        do {
            return try PublicIdentity(
                organization: "Fuzz Test Archive", signingKey: signing, sealingKey: sealing.publicKey)
        } catch {
            fatalError("cannot build the fuzz identity: \(error)")
        }
    }()

    /// Looks up ``signing``'s public key by fingerprint, as a trust list holding only the fuzz organization would.
    public static func trusted(_ fingerprint: String) -> Ed25519.VerifyingKey? {
        fingerprint == Self.fingerprint ? signing.publicKey : nil
    }
}

/// The fuzzer's input as an array.
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the process with a message that names the harness and the broken property, so libFuzzer records a crash.
public func fuzzFailure(_ harness: String, _ message: String) -> Never {
    fatalError("[\(harness)] property violated: \(message)")
}
