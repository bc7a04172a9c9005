import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// Hostile and damaged key files: every one must be refused with a `CryptoError`, quickly, without a crash.
@Suite struct HostileKeyFileTests {
    static let pass = "hostile input test passphrase"

    // MARK: A tiny DER writer for building hostile structures (format only, no cryptography).

    static func der(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        if content.count < 0x80 {
            out.append(UInt8(content.count))
        } else if content.count < 0x100 {
            out += [0x81, UInt8(content.count)]
        } else {
            out += [0x82, UInt8(content.count >> 8), UInt8(content.count & 0xFF)]
        }
        return out + content
    }

    static func seq(_ items: [UInt8]...) -> [UInt8] { der(0x30, items.flatMap { $0 }) }
    static func octets(_ bytes: [UInt8]) -> [UInt8] { der(0x04, bytes) }
    static func oid(_ bytes: [UInt8]) -> [UInt8] { der(0x06, bytes) }

    static func integer(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var v = value
        repeat {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        } while v > 0
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return der(0x02, bytes)
    }

    static let pbes2 = oid([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D])
    static let scrypt = oid([0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B])
    static let pbkdf2 = oid([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C])
    static let hmacSHA256 = oid([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09])
    static let aes256CBC = oid([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A])
    // pbeWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 PBE, a non-PBES2 scheme)
    static let pkcs12TripleDES = oid([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x03])

    static func scryptFile(n: UInt64, r: UInt64, p: UInt64, salt: [UInt8] = [UInt8](repeating: 7, count: 16)) -> String
    {
        let params = seq(octets(salt), integer(n), integer(r), integer(p))
        let algorithm = seq(pbes2, seq(seq(scrypt, params), seq(aes256CBC, octets([UInt8](repeating: 1, count: 16)))))
        return PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: seq(algorithm, octets([UInt8](repeating: 2, count: 48))))
    }

    static func pbkdf2File(iterations: UInt64) -> String {
        let params = seq(octets([UInt8](repeating: 7, count: 8)), integer(iterations), seq(hmacSHA256, der(0x05, [])))
        let algorithm = seq(pbes2, seq(seq(pbkdf2, params), seq(aes256CBC, octets([UInt8](repeating: 1, count: 16)))))
        return PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: seq(algorithm, octets([UInt8](repeating: 2, count: 48))))
    }

    /// Runs `body`, expects it to throw `expected`, and returns how long it took.
    func expectRefusal(_ expected: CryptoError, _ comment: Comment? = nil, _ body: () throws -> Void) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: expected, comment) { try body() }
        return clock.now - start
    }

    static func ownFile(_ key: PrivateKey) throws -> String {
        try PrivateKeyFile.encode(key, passphrase: secret(pass), parameters: .insecureTestOnly)
    }

    // MARK: Passphrase

    @Test func wrongPassphrase() throws {
        let pem = try Self.ownFile(.ed25519(try Ed25519.SigningKey.generate()))
        for wrong in [
            "", "hostile input test passphras", "hostile input test passphrase ", "Hostile input test passphrase",
        ] {
            #expect(throws: CryptoError.wrongPassphrase) {
                try PrivateKeyFile.decode(pem: pem, passphrase: secret(wrong))
            }
        }
        #expect(throws: CryptoError.wrongPassphrase) { try PrivateKeyFile.decode(pem: pem, passphrase: nil) }
        #expect(
            try PrivateKeyFile.decode(pem: pem, passphrase: secret(Self.pass)).signingKey().publicKey.rawRepresentation
                .count == 32)
    }

    // MARK: Truncation

    @Test func truncatedTextAtEveryLength() throws {
        let pem = try Self.ownFile(.x25519(try X25519.PrivateKey.generate()))
        let bytes = Array(pem.utf8)
        var refused = 0
        // Every prefix that drops part of the END line or more (the final newline alone is optional).
        for length in 0..<(bytes.count - 1) {
            let text = String(decoding: bytes[0..<length], as: UTF8.self)
            do {
                _ = try PrivateKeyFile.decode(pem: text, passphrase: secret(Self.pass))
                Issue.record("a file truncated to \(length) of \(bytes.count) bytes was accepted")
            } catch let error as CryptoError {
                guard case .malformed = error else {
                    Issue.record("length \(length): \(error)")
                    continue
                }
                refused += 1
            }
        }
        #expect(refused == bytes.count - 1)
        #expect(refused > 200)
    }

    @Test func truncatedDERAtEveryLength() throws {
        let pem = try Self.ownFile(.ed25519(try Ed25519.SigningKey.generate()))
        let der = try PEM.decode(pem).der
        for length in 1..<der.count {
            let damaged = PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: Array(der[0..<length]))
            #expect(throws: CryptoError.self, "DER truncated to \(length)") {
                try PrivateKeyFile.decode(pem: damaged, passphrase: secret(Self.pass))
            }
        }
        // Unencrypted files too.
        let plain = PEM.encode(
            label: "PRIVATE KEY", der: Hex.decode("302e020100300506032b657004220420") + [UInt8](repeating: 5, count: 32)
        )
        #expect(
            try PrivateKeyFile.decode(pem: plain, passphrase: nil).signingKey().seed().unprotectedArray
                == [UInt8](repeating: 5, count: 32))
        let plainDER = try PEM.decode(plain).der
        for length in 1..<plainDER.count {
            #expect(throws: CryptoError.self, "PrivateKeyInfo truncated to \(length)") {
                try PrivateKeyFile.decode(
                    pem: PEM.encode(label: "PRIVATE KEY", der: Array(plainDER[0..<length])), passphrase: nil)
            }
        }
        // Trailing bytes after the structure.
        #expect(throws: CryptoError.malformed(what: "encrypted private key", reason: "trailing data")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: der + [0]), passphrase: secret(Self.pass))
        }
    }

    /// PBES2 has no integrity check (neither OpenSSL's nor ours): a flipped ciphertext bit in the middle of the
    /// PrivateKeyInfo can decrypt to a well-formed but *different* key. Pinned here: damage is never silently
    /// accepted as the original key, and the damaged areas that do decode are exactly the seed blocks.
    @Test func damagedFilesNeverYieldTheOriginalKey() throws {
        let signing = try Ed25519.SigningKey.generate()
        let pem = try Self.ownFile(.ed25519(signing))
        let der = try PEM.decode(pem).der
        let ciphertextStart = der.count - 64  // 48-byte PrivateKeyInfo + 16 bytes of padding
        var refused = 0
        var otherKey: [Int] = []
        for index in 2..<der.count {
            var damaged = der
            damaged[index] ^= 0x01
            do {
                let key = try PrivateKeyFile.decode(
                    pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: damaged), passphrase: secret(Self.pass))
                #expect(
                    try key.signingKey().publicKey != signing.publicKey, "byte \(index) flipped, same key came back")
                otherKey.append(index)
            } catch let error as CryptoError {
                switch error {
                case .wrongPassphrase, .malformed, .parameterOutOfRange, .unsupportedKey: refused += 1
                default: Issue.record("byte \(index): unexpected \(error)")
                }
            }
        }
        // Only flips in ciphertext blocks 1 and 2 (the seed lives in plaintext bytes 16…47) can decode.
        #expect(otherKey.allSatisfy { $0 >= ciphertextStart + 16 && $0 < ciphertextStart + 48 }, "\(otherKey)")
        #expect(refused + otherKey.count == der.count - 2)
        #expect(refused > der.count / 2)
    }

    // MARK: Work factors

    @Test func absurdScryptParametersRefusedQuickly() throws {
        let cases: [(n: UInt64, r: UInt64, p: UInt64, error: CryptoError)] = [
            (1 << 30, 8, 1, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),
            (1 << 62, 8, 1, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),
            (UInt64.max, 8, 1, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),
            (1 << 14, 1000, 1, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),
            (1 << 14, 8, 1000, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),
            (1 << 21, 8, 1, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),  // 2 GiB
            (1 << 14, 1 << 40, 1, .parameterOutOfRange("scrypt r = 1099511627776, p = 1")),
            (1 << 20, 8, 2, .parameterOutOfRange("scrypt N·r·p above 2^23 in a key file")),
            (3, 8, 1, .parameterOutOfRange("scrypt N = 3 (a power of two, 2 … 2^22)")),
            (0, 8, 1, .parameterOutOfRange("scrypt N = 0 (a power of two, 2 … 2^22)")),
            (1 << 10, 0, 1, .parameterOutOfRange("scrypt r = 0, p = 1")),
        ]
        for c in cases {
            let file = Self.scryptFile(n: c.n, r: c.r, p: c.p)
            let took = expectRefusal(c.error, "N=\(c.n) r=\(c.r) p=\(c.p)") {
                _ = try PrivateKeyFile.decode(pem: file, passphrase: secret(Self.pass))
            }
            #expect(took < .seconds(2), "N=\(c.n) r=\(c.r) p=\(c.p) took \(took)")
        }
        // At the limit (N·r·p = 2^23) the file is accepted as far as the work factor goes: it reaches AES and fails there.
        #expect(PrivateKeyFile.maximumScryptWork == 1 << 23)
    }

    @Test func pbkdf2AndLegacyIterationCountsBounded() throws {
        for iterations: UInt64 in [0, 10_000_001, 1 << 31, UInt64.max >> 1] {
            let took = expectRefusal(.parameterOutOfRange("key file iteration count \(iterations) (1 … 10000000)")) {
                _ = try PrivateKeyFile.decode(
                    pem: Self.pbkdf2File(iterations: iterations), passphrase: secret(Self.pass))
            }
            #expect(took < .seconds(2))
        }
        // A plausible count gets through to OpenSSL, which then fails to decrypt our junk ciphertext.
        #expect(throws: CryptoError.wrongPassphrase) {
            try PrivateKeyFile.decode(pem: Self.pbkdf2File(iterations: 2048), passphrase: secret(Self.pass))
        }
        let legacy = { (iterations: UInt64) in
            PEM.encode(
                label: "ENCRYPTED PRIVATE KEY",
                der: Self.seq(
                    Self.seq(
                        Self.pkcs12TripleDES, Self.seq(Self.octets([1, 2, 3, 4, 5, 6, 7, 8]), Self.integer(iterations))),
                    Self.octets([UInt8](repeating: 3, count: 48))))
        }
        #expect(throws: CryptoError.parameterOutOfRange("key file iteration count 4294967295 (1 … 10000000)")) {
            try PrivateKeyFile.decode(pem: legacy(4_294_967_295), passphrase: secret(Self.pass))
        }
        #expect(throws: CryptoError.wrongPassphrase) {
            try PrivateKeyFile.decode(pem: legacy(2048), passphrase: secret(Self.pass))
        }
        // An unknown PBES2 key-derivation function is refused by us, not handed to OpenSSL.
        let unknownKDF = PEM.encode(
            label: "ENCRYPTED PRIVATE KEY",
            der: Self.seq(
                Self.seq(
                    Self.pbes2,
                    Self.seq(
                        Self.seq(Self.hmacSHA256, Self.der(0x05, [])),
                        Self.seq(Self.aes256CBC, Self.octets([UInt8](repeating: 1, count: 16))))),
                Self.octets([UInt8](repeating: 2, count: 48))))
        #expect(
            throws: CryptoError.malformed(
                what: "encrypted private key", reason: "unsupported key-derivation function (scrypt or PBKDF2 expected)"
            )
        ) {
            try PrivateKeyFile.decode(pem: unknownKDF, passphrase: secret(Self.pass))
        }
    }

    @Test func scryptParameterEncodingChecked() throws {
        let what = "encrypted private key"
        // Salt outside 8…64 bytes.
        #expect(throws: CryptoError.malformed(what: what, reason: "scrypt salt length")) {
            try PrivateKeyFile.decode(
                pem: Self.scryptFile(n: 1024, r: 8, p: 1, salt: [1, 2, 3]), passphrase: secret(Self.pass))
        }
        #expect(throws: CryptoError.malformed(what: what, reason: "scrypt salt length")) {
            try PrivateKeyFile.decode(
                pem: Self.scryptFile(n: 1024, r: 8, p: 1, salt: [UInt8](repeating: 0, count: 65)),
                passphrase: secret(Self.pass))
        }
        // Non-minimal and negative INTEGERs (N = 1024 written as 00 04 00, and as a negative number).
        let good = try PEM.decode(Self.scryptFile(n: 1024, r: 8, p: 1)).der
        let nMinimal: [UInt8] = [0x02, 0x02, 0x04, 0x00]
        let index = try #require(good.firstRange(of: nMinimal))
        var nonMinimalInteger = good
        nonMinimalInteger.replaceSubrange(index, with: [0x02, 0x03, 0x00, 0x04, 0x00])
        // The enclosing lengths grow by one: rebuild from scratch instead of patching lengths.
        let params = Self.seq(
            Self.octets([UInt8](repeating: 7, count: 16)), [0x02, 0x03, 0x00, 0x04, 0x00], Self.integer(8),
            Self.integer(1))
        let algorithm = Self.seq(
            Self.pbes2,
            Self.seq(
                Self.seq(Self.scrypt, params), Self.seq(Self.aes256CBC, Self.octets([UInt8](repeating: 1, count: 16)))))
        let file = PEM.encode(
            label: "ENCRYPTED PRIVATE KEY", der: Self.seq(algorithm, Self.octets([UInt8](repeating: 2, count: 48))))
        #expect(throws: CryptoError.malformed(what: what, reason: "non-minimal integer")) {
            try PrivateKeyFile.decode(pem: file, passphrase: secret(Self.pass))
        }
        var negative = good
        negative.replaceSubrange(index, with: [0x02, 0x02, 0x84, 0x00])
        #expect(throws: CryptoError.malformed(what: what, reason: "negative integer")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: negative), passphrase: secret(Self.pass))
        }
        _ = nonMinimalInteger
    }

    // MARK: DER lengths

    @Test func nonMinimalAndIndefiniteDERLengthsRefused() throws {
        let pem = try Self.ownFile(.ed25519(try Ed25519.SigningKey.generate()))
        let der = try PEM.decode(pem).der
        let what = "encrypted private key"
        // Our files: 30 81 xx (outer, content ≥ 128) then 30 yy (algorithm, content < 128).
        try #require(der[0] == 0x30 && der[1] == 0x81 && der[3] == 0x30 && der[4] < 0x80)
        let outerLength = Int(der[2])
        let body = Array(der[3...])
        // Outer length in two bytes (82 00 xx): non-minimal.
        var a = [0x30, 0x82, 0x00, UInt8(outerLength)] + body
        #expect(throws: CryptoError.malformed(what: what, reason: "non-minimal length")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: a), passphrase: secret(Self.pass))
        }
        // Inner algorithm length in long form although below 128 (81 yy): non-minimal.
        let innerLength = body[1]
        let inner = [0x30, 0x81, innerLength] + Array(body[2...])
        a = [0x30, 0x81, UInt8(inner.count)] + inner
        #expect(throws: CryptoError.malformed(what: what, reason: "non-minimal length")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: a), passphrase: secret(Self.pass))
        }
        // Indefinite length (BER, not DER).
        a = [0x30, 0x80] + body + [0x00, 0x00]
        #expect(throws: CryptoError.malformed(what: what, reason: "unsupported length")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: a), passphrase: secret(Self.pass))
        }
        // Five length bytes, and a length claiming more than there is.
        a = [0x30, 0x85, 0x00, 0x00, 0x00, 0x00, UInt8(outerLength)] + body
        #expect(throws: CryptoError.malformed(what: what, reason: "unsupported length")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: a), passphrase: secret(Self.pass))
        }
        a = [0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF] + body
        #expect(throws: CryptoError.malformed(what: what, reason: "truncated")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: a), passphrase: secret(Self.pass))
        }
        // Wrong outer tag.
        a = [0x31] + Array(der[1...])
        #expect(throws: CryptoError.malformed(what: what, reason: "unexpected ASN.1 tag")) {
            try PrivateKeyFile.decode(
                pem: PEM.encode(label: "ENCRYPTED PRIVATE KEY", der: a), passphrase: secret(Self.pass))
        }
    }

    // MARK: Labels and key types

    static let p256PKCS8 = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvrdWLYy9YiuE+F65
        Hgnlu0tjIXS4HTnUAwnSanS4BfmhRANCAAR1khFwRUQpek2vFfL/JvpLGZDg4w7t
        2tqwgpoN6Sj9mhIiEdNaBbAO/LNS/c922jMvhrBxFjkaMbO4Md9fCcrb
        -----END PRIVATE KEY-----
        """

    static let ed448PKCS8 = """
        -----BEGIN PRIVATE KEY-----
        MEcCAQAwBQYDK2VxBDsEOeC/86L/7yhePFhiRwRXBfnd/Oxo28H3uDDGxsB68MOa
        mktzAHorvr/4x1Z29H4CNA4N3JyuA0jZNw==
        -----END PRIVATE KEY-----
        """

    @Test func nonKeyLabelsAndForeignKeyTypesRefused() throws {
        let der = try PEM.decode(try Self.ownFile(.ed25519(try Ed25519.SigningKey.generate()))).der
        for label in [
            "CERTIFICATE", "PUBLIC KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
            "ENCRYPTED  PRIVATE KEY", "private key", "",
        ] {
            #expect(
                throws: CryptoError.malformed(
                    what: "private key file", reason: "PEM label '\(label)' is not a private key")
            ) {
                try PrivateKeyFile.decode(pem: PEM.encode(label: label, der: der), passphrase: secret(Self.pass))
            }
        }
        // Well-formed PKCS#8 for keys Amanat does not use (generated once with `openssl genpkey`; test data only).
        for pem in [Self.p256PKCS8, Self.ed448PKCS8] {
            #expect(throws: CryptoError.unsupportedKey("only Ed25519 and X25519 keys are used by Amanat")) {
                try PrivateKeyFile.decode(pem: pem, passphrase: nil)
            }
        }
    }

    @Test func x25519WhereEd25519IsExpected() throws {
        let sealing = try X25519.PrivateKey.generate()
        let decoded = try PrivateKeyFile.decode(pem: try Self.ownFile(.x25519(sealing)), passphrase: secret(Self.pass))
        #expect(throws: CryptoError.unsupportedKey("expected an Ed25519 key, found X25519")) {
            try decoded.signingKey()
        }
        #expect(try decoded.sealingKey().publicKey == sealing.publicKey)
        let signing = try Ed25519.SigningKey.generate()
        let decodedEd = try PrivateKeyFile.decode(
            pem: try Self.ownFile(.ed25519(signing)), passphrase: secret(Self.pass))
        #expect(throws: CryptoError.unsupportedKey("expected an X25519 key, found Ed25519")) {
            try decodedEd.sealingKey()
        }
        // Public keys: an X25519 PEM is not an Ed25519 verifying key.
        #expect(throws: CryptoError.unsupportedKey("expected an Ed25519 public key")) {
            try Ed25519.VerifyingKey(pemRepresentation: try sealing.publicKey.pemRepresentation())
        }
        #expect(throws: CryptoError.malformed(what: "public key", reason: "PEM label 'PRIVATE KEY'")) {
            try Ed25519.VerifyingKey(
                pemRepresentation: PEM.encode(
                    label: "PRIVATE KEY", der: try PEM.decode(signing.publicKey.pemRepresentation()).der))
        }
        #expect(throws: CryptoError.malformed(what: "public key", reason: "not a SubjectPublicKeyInfo")) {
            try Ed25519.VerifyingKey(pemRepresentation: PEM.encode(label: "PUBLIC KEY", der: [0x30, 0x00]))
        }
    }
}
