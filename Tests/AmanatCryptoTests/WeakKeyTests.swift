import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatCrypto

/// Public identities with keys under which nothing is proven are refused (small-order Ed25519 points, under which
/// a "universal" signature verifies; low-order X25519 points, which make every shared secret zero).
@Suite("Weak keys in public identities")
struct WeakKeyTests {
    /// The CCTV vectors' `low_order_A` keys: every encoding of a small-order Ed25519 point.
    static func cctvLowOrderKeys() throws -> Set<[UInt8]> {
        let data = try Data(contentsOf: TestVectors.ed25519CCTV.appendingPathComponent("ed25519vectors.json"))
        let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        var keys = Set<[UInt8]>()
        for c in cases where (c["flags"] as? [String] ?? []).contains("low_order_A") {
            keys.insert(Hex.decode(try #require(c["key"] as? String)))
        }
        return keys
    }

    @Test func theSmallOrderListIsExactlyTheVectorsLowOrderKeys() throws {
        let keys = try Self.cctvLowOrderKeys()
        #expect(keys.count == 14)
        #expect(Ed25519.smallOrderEncodings == keys)
        // An ordinary key is not on it
        #expect(!Ed25519.isSmallOrder(try Ed25519.SigningKey.generate().publicKey.rawRepresentation))
    }

    @Test func anIdentityWithASmallOrderSigningKeyIsRefused() throws {
        let sealing = try X25519.PrivateKey.generate().publicKey
        var refused = 0
        for raw in try Self.cctvLowOrderKeys().sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let key = try? Ed25519.VerifyingKey(rawRepresentation: raw) else { continue }
            // The identity key: the all-identity "signature" (R = identity, S = 0) verifies any message with OpenSSL
            if raw == [1] + [UInt8](repeating: 0, count: 31) {
                #expect(key.isValidSignature(raw + [UInt8](repeating: 0, count: 32), for: Array("anything".utf8)))
            }
            let jwk = key.jwk
            var identity = try PublicIdentity(
                organization: "Forged", signingKey: try .generate(), sealingKey: sealing)
            identity.signingKey = jwk
            identity.fingerprint = Fingerprint.of(key)
            identity.binding = Base64URL.encode(raw + [UInt8](repeating: 0, count: 32))
            #expect(throws: PublicIdentity.ValidationError.weakKey("signing key")) { try identity.validated() }
            refused += 1
        }
        #expect(refused >= 10)
    }

    @Test func anIdentityWithALowOrderSealingKeyIsRefused() throws {
        let signing = try Ed25519.SigningKey.generate()
        for point in X25519.lowOrderPoints {
            let identity = try PublicIdentity(
                organization: "Forged", signingKey: signing, sealingKey: try X25519.PublicKey(rawRepresentation: point))
            #expect(throws: PublicIdentity.ValidationError.weakKey("age recipient")) { try identity.validated() }
        }
        #expect(X25519.lowOrderPoints.count == 7)
        // An ordinary identity still validates
        _ = try PublicIdentity(
            organization: "Test Org", signingKey: signing, sealingKey: try X25519.PrivateKey.generate().publicKey
        ).validated()
    }
}
