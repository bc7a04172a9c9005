import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatCrypto

/// RFC 7748 §5.2 and §6.1 test vectors for X25519, typed in from the RFC.
@Suite struct X25519Tests {
    func x25519(_ scalar: [UInt8], _ u: [UInt8]) throws -> [UInt8] {
        let key = try X25519.PrivateKey(rawRepresentation: SecretBytes(scalar))
        return try key.sharedSecret(with: X25519.PublicKey(rawRepresentation: u)).unprotectedArray
    }

    @Test func section5_2Vector1() throws {
        let out = try x25519(
            Hex.decode("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            Hex.decode("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
        #expect(out == Hex.decode("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"))
    }

    @Test func section5_2Vector2() throws {
        // The u-coordinate has its top bit set; RFC 7748 says to mask it.
        let out = try x25519(
            Hex.decode("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
            Hex.decode("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"))
        #expect(out == Hex.decode("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"))
    }

    @Test func section5_2Iterated() throws {
        var k = Hex.decode("0900000000000000000000000000000000000000000000000000000000000000")
        var u = k
        var afterOne: [UInt8] = []
        for iteration in 1...1000 {
            let next = try x25519(k, u)
            u = k
            k = next
            if iteration == 1 { afterOne = k }
        }
        #expect(afterOne == Hex.decode("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"))
        #expect(k == Hex.decode("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"))
    }

    @Test func section6_1DiffieHellman() throws {
        let alice = try X25519.PrivateKey(
            rawRepresentation: SecretBytes(
                Hex.decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        )
        let bob = try X25519.PrivateKey(
            rawRepresentation: SecretBytes(
                Hex.decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
        )
        #expect(
            alice.publicKey.rawRepresentation
                == Hex.decode("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
        #expect(
            bob.publicKey.rawRepresentation
                == Hex.decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        let shared = Hex.decode("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        #expect(try alice.sharedSecret(with: bob.publicKey).unprotectedArray == shared)
        #expect(try bob.sharedSecret(with: alice.publicKey).unprotectedArray == shared)
    }

    @Test func lowOrderPeersRefused() throws {
        let key = try X25519.PrivateKey.generate()
        // u = 0 and u = 1 are low-order points: the shared secret would be all zeroes.
        for u in [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31)] {
            #expect(throws: CryptoError.zeroSharedSecret) {
                try key.sharedSecret(with: X25519.PublicKey(rawRepresentation: u))
            }
        }
    }

    @Test func everyLowOrderPointIsRefusedAsZeroSharedSecret() throws {
        // The 7 low-order encodings, each also with bit 255 set (which X25519 ignores), against several keys.
        #expect(X25519.lowOrderPoints.count == 7)
        var refused = 0
        for _ in 0..<4 {
            let key = try X25519.PrivateKey.generate()
            for point in X25519.lowOrderPoints {
                var high = point
                high[31] |= 0x80
                for u in [point, high] {
                    #expect(X25519.isLowOrder(u))
                    #expect(throws: CryptoError.zeroSharedSecret, "\(u)") {
                        try key.sharedSecret(with: X25519.PublicKey(rawRepresentation: u))
                    }
                    refused += 1
                }
            }
        }
        #expect(refused == 56)
        // Points next to them are ordinary.
        #expect(!X25519.isLowOrder([2] + [UInt8](repeating: 0, count: 31)))
        #expect(!X25519.isLowOrder([0xef] + [UInt8](repeating: 0xff, count: 30) + [0x7f]))
        #expect(!X25519.isLowOrder([9] + [UInt8](repeating: 0, count: 31)))
    }

    @Test func lowOrderTableMatchesWycheproof() throws {
        // Independent evidence for the table: in Wycheproof's X25519 file, a peer key is in it exactly when the
        // expected shared secret is all zeroes.
        struct File: Decodable {
            struct Group: Decodable { let tests: [Case] }
            struct Case: Decodable {
                let tcId: Int
                let `public`: String
                let shared: String
            }
            let testGroups: [Group]
        }
        let url = TestVectors.wycheproof.appendingPathComponent("x25519_test.json")
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        var lowOrder = 0
        var checked = 0
        for test in file.testGroups.flatMap(\.tests) {
            let zero = test.shared == String(repeating: "0", count: 64)
            #expect(X25519.isLowOrder(Hex.decode(test.public)) == zero, "tcId \(test.tcId)")
            if zero { lowOrder += 1 }
            checked += 1
        }
        #expect(checked == 518)
        #expect(lowOrder == 31)
    }

    @Test func otherDerivationFailuresAreNotReportedAsLowOrder() throws {
        // OpenSSL refuses a derivation into a buffer too short for the secret; that is not a low-order peer, and
        // must come back as keyAgreementFailed with OpenSSL's reason.
        let key = try X25519.PrivateKey.generate()
        let peer = try X25519.PrivateKey.generate().publicKey
        #expect(!X25519.isLowOrder(peer.rawRepresentation))
        do {
            _ = try key.derive(with: peer, outputLength: 16)
            Issue.record("a 16-byte derivation was accepted")
        } catch CryptoError.keyAgreementFailed(let reasons) {
            #expect(!reasons.isEmpty)
            #expect(
                CryptoError.keyAgreementFailed(reasons: reasons).description
                    == "X25519 key agreement failed: " + reasons.joined(separator: "; "))
        }
        // The same key and peer derive normally at full length, so the failure above was the length only.
        #expect(try key.derive(with: peer, outputLength: 32) == key.sharedSecret(with: peer))
        #expect(CryptoError.keyAgreementFailed(reasons: []).description == "X25519 key agreement failed")
        #expect(CryptoError.keyAgreementFailed(reasons: []) != CryptoError.zeroSharedSecret)
    }

    @Test func wrongLengthsRefused() throws {
        #expect(throws: CryptoError.invalidLength(what: "public key", expected: 32, actual: 31)) {
            try X25519.PublicKey(rawRepresentation: [UInt8](repeating: 9, count: 31))
        }
        #expect(throws: CryptoError.invalidLength(what: "private key", expected: 32, actual: 64)) {
            try X25519.PrivateKey(rawRepresentation: SecretBytes(zeroes: 64))
        }
    }

    @Test func rawRoundTrip() throws {
        let key = try X25519.PrivateKey.generate()
        let again = try X25519.PrivateKey(rawRepresentation: key.rawRepresentation())
        #expect(again.publicKey == key.publicKey)
        #expect(try X25519.PrivateKey.generate().publicKey != key.publicKey)
    }
}
