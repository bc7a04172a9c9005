import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// Every case of the Wycheproof files vendored in `Tests/Vectors/wycheproof/` (C2SP/wycheproof `testvectors_v1`).
///
/// Policy: `valid` must be accepted with the exact expected output, `invalid` must be refused. The only files with
/// `acceptable` cases are X25519's: there, a case whose shared secret is all zeroes (flag `ZeroSharedSecret`) must
/// be refused with ``CryptoError/zeroSharedSecret`` (RFC 7748 §6.1, and age requires it); every other acceptable case
/// (twist points, non-canonical and special public keys…) must be computed and match the expected shared secret.
@Suite struct WycheproofTests {
    struct Tally: Equatable, CustomStringConvertible {
        var total = 0, valid = 0, invalid = 0, acceptable = 0
        mutating func count(_ result: String) {
            total += 1
            switch result {
            case "valid": valid += 1
            case "invalid": invalid += 1
            case "acceptable": acceptable += 1
            default: Issue.record("unknown result \(result)")
            }
        }
        var description: String { "\(total) total: \(valid) valid, \(invalid) invalid, \(acceptable) acceptable" }
    }

    static func file(_ name: String) -> URL { TestVectors.wycheproof.appendingPathComponent(name) }

    // MARK: Ed25519

    struct EdGroup: Decodable {
        struct Key: Decodable { let pk: String }
        struct JWKMembers: Decodable {
            let crv: String
            let kty: String
            let x: String
        }
        struct Case: Decodable {
            let tcId: Int
            let msg: String
            let sig: String
            let result: String
            let flags: [String]
        }
        let publicKey: Key
        let publicKeyPem: String
        let publicKeyJwk: JWKMembers
        let tests: [Case]
    }

    @Test func ed25519() throws {
        let data = try loadJSON(WycheproofFile<EdGroup>.self, from: Self.file("ed25519_test.json"))
        var tally = Tally()
        for group in data.testGroups {
            let key = try Ed25519.VerifyingKey(rawRepresentation: Hex.decode(group.publicKey.pk))
            // The same key through our PEM and JWK readers.
            #expect(try Ed25519.VerifyingKey(pemRepresentation: group.publicKeyPem) == key)
            let jwk = JWK(crv: group.publicKeyJwk.crv, kty: group.publicKeyJwk.kty, x: group.publicKeyJwk.x)
            #expect(try Ed25519.VerifyingKey(jwk: jwk) == key)
            for test in group.tests {
                tally.count(test.result)
                let accepted = key.isValidSignature(Hex.decode(test.sig), for: Hex.decode(test.msg))
                #expect(accepted == (test.result == "valid"), "tcId \(test.tcId) \(test.flags)")
            }
        }
        #expect(tally.total == data.numberOfTests)
        #expect(tally == Tally(total: 151, valid: 88, invalid: 63, acceptable: 0))
    }

    // MARK: X25519

    struct XGroup: Decodable {
        struct Case: Decodable {
            let tcId: Int
            let `public`: String
            let `private`: String
            let shared: String
            let result: String
            let flags: [String]
        }
        let curve: String
        let tests: [Case]
    }

    @Test func x25519() throws {
        let data = try loadJSON(WycheproofFile<XGroup>.self, from: Self.file("x25519_test.json"))
        var tally = Tally()
        var refusedZero = 0
        var computedAcceptable = 0
        for group in data.testGroups {
            #expect(group.curve == "curve25519")
            for test in group.tests {
                tally.count(test.result)
                let expected = Hex.decode(test.shared)
                let key = try X25519.PrivateKey(rawRepresentation: SecretBytes(Hex.decode(test.private)))
                let peer = try X25519.PublicKey(rawRepresentation: Hex.decode(test.public))
                let label = "tcId \(test.tcId) \(test.flags)"
                if expected == [UInt8](repeating: 0, count: 32) {
                    #expect(test.result == "acceptable" && test.flags.contains("ZeroSharedSecret"), "\(label)")
                    #expect(throws: CryptoError.zeroSharedSecret, "\(label)") { try key.sharedSecret(with: peer) }
                    refusedZero += 1
                } else {
                    #expect(test.result != "invalid", "\(label)")
                    let shared = try key.sharedSecret(with: peer)
                    #expect(shared.unprotectedArray == expected, "\(label)")
                    if test.result == "acceptable" { computedAcceptable += 1 }
                }
            }
        }
        #expect(tally.total == data.numberOfTests)
        #expect(tally == Tally(total: 518, valid: 264, invalid: 0, acceptable: 254))
        #expect(refusedZero == 31)
        #expect(computedAcceptable == 223)
    }

    // MARK: ChaCha20-Poly1305

    struct AEADGroup: Decodable {
        struct Case: Decodable {
            let tcId: Int
            let key: String
            let iv: String
            let aad: String
            let msg: String
            let ct: String
            let tag: String
            let result: String
            let flags: [String]
        }
        let ivSize: Int
        let tests: [Case]
    }

    @Test func chacha20Poly1305() throws {
        let data = try loadJSON(WycheproofFile<AEADGroup>.self, from: Self.file("chacha20_poly1305_test.json"))
        var tally = Tally()
        var wrongNonceSize = 0
        for group in data.testGroups {
            for test in group.tests {
                tally.count(test.result)
                let label = "tcId \(test.tcId) \(test.flags)"
                let key = SecretBytes(Hex.decode(test.key))
                let iv = Hex.decode(test.iv)
                let sealed = Hex.decode(test.ct) + Hex.decode(test.tag)
                if group.ivSize != 96 {
                    // A nonce of the wrong size cannot even be made, so nothing is sealed or opened with it.
                    #expect(test.result == "invalid", "\(label)")
                    wrongNonceSize += 1
                    #expect(
                        throws: CryptoError.invalidLength(what: "nonce", expected: 12, actual: iv.count), "\(label)"
                    ) {
                        try ChaChaPoly.Nonce(iv)
                    }
                    continue
                }
                let nonce = try ChaChaPoly.Nonce(iv)
                if test.result == "valid" {
                    let opened = try ChaChaPoly.open(
                        key: key, nonce: nonce, ciphertext: sealed, authenticating: Hex.decode(test.aad))
                    #expect(opened == Hex.decode(test.msg), "\(label)")
                    let resealed = try ChaChaPoly.seal(
                        key: key, nonce: nonce, plaintext: Hex.decode(test.msg), authenticating: Hex.decode(test.aad))
                    #expect(resealed == sealed, "\(label)")
                } else {
                    #expect(throws: CryptoError.authenticationFailed, "\(label)") {
                        try ChaChaPoly.open(
                            key: key, nonce: nonce, ciphertext: sealed, authenticating: Hex.decode(test.aad))
                    }
                }
            }
        }
        #expect(tally.total == data.numberOfTests)
        #expect(tally == Tally(total: 325, valid: 256, invalid: 69, acceptable: 0))
        #expect(wrongNonceSize == 9)
    }

    // MARK: HKDF-SHA-256

    struct HKDFGroup: Decodable {
        struct Case: Decodable {
            let tcId: Int
            let ikm: String
            let salt: String
            let info: String
            let size: Int
            let okm: String
            let result: String
        }
        let tests: [Case]
    }

    @Test func hkdfSHA256() throws {
        let data = try loadJSON(WycheproofFile<HKDFGroup>.self, from: Self.file("hkdf_sha256_test.json"))
        var tally = Tally()
        for group in data.testGroups {
            for test in group.tests {
                tally.count(test.result)
                let derive = {
                    try HKDF.deriveKey(
                        inputKeyMaterial: SecretBytes(Hex.decode(test.ikm)), salt: Hex.decode(test.salt),
                        info: Hex.decode(test.info), outputByteCount: test.size)
                }
                if test.result == "valid" {
                    #expect(try derive().unprotectedArray == Hex.decode(test.okm), "tcId \(test.tcId)")
                } else {
                    #expect(
                        throws: CryptoError.parameterOutOfRange("HKDF output length \(test.size) (1…8160)"),
                        "tcId \(test.tcId)"
                    ) {
                        try derive()
                    }
                }
            }
        }
        #expect(tally.total == data.numberOfTests)
        #expect(tally == Tally(total: 86, valid: 83, invalid: 3, acceptable: 0))
    }

    // MARK: HMAC-SHA-256

    struct HMACGroup: Decodable {
        struct Case: Decodable {
            let tcId: Int
            let key: String
            let msg: String
            let tag: String
            let result: String
        }
        let tagSize: Int
        let tests: [Case]
    }

    @Test func hmacSHA256() throws {
        let data = try loadJSON(WycheproofFile<HMACGroup>.self, from: Self.file("hmac_sha256_test.json"))
        var tally = Tally()
        for group in data.testGroups {
            for test in group.tests {
                tally.count(test.result)
                let key = SecretBytes(Hex.decode(test.key))
                let tag = Hex.decode(test.tag)
                #expect(tag.count * 8 == group.tagSize, "tcId \(test.tcId)")
                let valid = try HMACSHA256.isValid(tag, key: key, message: Hex.decode(test.msg))
                #expect(valid == (test.result == "valid"), "tcId \(test.tcId)")
                if test.result == "valid" {
                    let full = try HMACSHA256.authenticationCode(key: key, message: Hex.decode(test.msg))
                    #expect(Array(full.prefix(tag.count)) == tag, "tcId \(test.tcId)")
                }
            }
        }
        #expect(tally.total == data.numberOfTests)
        #expect(tally == Tally(total: 174, valid: 66, invalid: 108, acceptable: 0))
    }
}
