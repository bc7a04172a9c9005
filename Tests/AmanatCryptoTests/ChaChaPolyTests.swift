import AmanatCrypto
import AmanatTestSupport
import Testing

/// RFC 8439 §2.8.2 AEAD test vector and the raw-buffer `Cipher` API.
@Suite struct ChaChaPolyTests {
    static let key = Hex.decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let nonce = try! ChaChaPoly.Nonce(Hex.decode("070000004041424344454647"))
    static let aad = Hex.decode("50515253c0c1c2c3c4c5c6c7")
    static let plaintext = utf8(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
    )
    static let ciphertext = Hex.decode(
        """
        d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b29\
        05d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116
        """)
    static let tag = Hex.decode("1ae10b594f09e26a7e902ecbd0600691")

    @Test func rfc8439Section2_8_2() throws {
        #expect(Self.plaintext.count == 114)
        let sealed = try ChaChaPoly.seal(
            key: SecretBytes(Self.key), nonce: Self.nonce, plaintext: Self.plaintext, authenticating: Self.aad)
        #expect(sealed == Self.ciphertext + Self.tag)
        let opened = try ChaChaPoly.open(
            key: SecretBytes(Self.key), nonce: Self.nonce, ciphertext: sealed, authenticating: Self.aad)
        #expect(opened == Self.plaintext)
    }

    @Test func anyChangeIsRefused() throws {
        let sealed = Self.ciphertext + Self.tag
        let key = SecretBytes(Self.key)
        for index in [0, 57, sealed.count - 17, sealed.count - 16, sealed.count - 1] {
            var bad = sealed
            bad[index] ^= 0x80
            #expect(throws: CryptoError.authenticationFailed) {
                try ChaChaPoly.open(key: key, nonce: Self.nonce, ciphertext: bad, authenticating: Self.aad)
            }
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaChaPoly.open(key: key, nonce: Self.nonce, ciphertext: sealed, authenticating: [])
        }
        var otherNonceBytes = Self.nonce.byteArray
        otherNonceBytes[11] ^= 1
        let otherNonce = try ChaChaPoly.Nonce(otherNonceBytes)
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaChaPoly.open(key: key, nonce: otherNonce, ciphertext: sealed, authenticating: Self.aad)
        }
        var otherKey = Self.key
        otherKey[0] ^= 1
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaChaPoly.open(
                key: SecretBytes(otherKey), nonce: Self.nonce, ciphertext: sealed, authenticating: Self.aad)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaChaPoly.open(key: key, nonce: Self.nonce, ciphertext: Array(sealed.prefix(15)))
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaChaPoly.open(
                key: key, nonce: Self.nonce, ciphertext: Array(sealed.dropLast()), authenticating: Self.aad)
        }
    }

    @Test func lengthsChecked() throws {
        #expect(throws: CryptoError.invalidLength(what: "ChaCha20-Poly1305 key", expected: 32, actual: 16)) {
            try ChaChaPoly.Cipher(key: SecretBytes(zeroes: 16))
        }
        #expect(throws: CryptoError.invalidLength(what: "nonce", expected: 12, actual: 8)) {
            try ChaChaPoly.Nonce([UInt8](repeating: 0, count: 8))
        }
        let cipher = try ChaChaPoly.Cipher(key: SecretBytes(zeroes: 32))
        let input = [UInt8](repeating: 7, count: 10)
        var small = [UInt8](repeating: 0, count: 25)
        #expect(throws: CryptoError.invalidLength(what: "output buffer", expected: 26, actual: 25)) {
            try input.withUnsafeBytes { i in
                try small.withUnsafeMutableBytes { o in
                    try cipher.seal(nonce: .zero, input: i, output: o)
                }
            }
        }
    }

    @Test func cipherReuseAndEmptyMessages() throws {
        let cipher = try ChaChaPoly.Cipher(key: SecretBytes(Self.key))
        // The same context, used for several nonces in a row, must give the one-shot results.
        for (index, length) in [0, 1, 64, 65, 1000].enumerated() {
            let nonce = try ChaChaPoly.Nonce([UInt8](repeating: UInt8(index), count: 12))
            let input = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var output = [UInt8](repeating: 0, count: length + 16)
            try input.withUnsafeBytes { i in
                try output.withUnsafeMutableBytes { o in
                    try cipher.seal(nonce: nonce, input: i, output: o, aad: Self.aad)
                }
            }
            #expect(
                output
                    == (try ChaChaPoly.seal(
                        key: SecretBytes(Self.key), nonce: nonce, plaintext: input, authenticating: Self.aad)))
            var back = [UInt8](repeating: 0, count: length)
            try output.withUnsafeBytes { i in
                try back.withUnsafeMutableBytes { o in try cipher.open(nonce: nonce, input: i, output: o, aad: Self.aad)
                }
            }
            #expect(back == input)
        }
        // A failed open zeroes the output buffer.
        var tampered = try ChaChaPoly.seal(key: SecretBytes(Self.key), nonce: Self.nonce, plaintext: Self.plaintext)
        tampered[0] ^= 1
        var out = [UInt8](repeating: 0xEE, count: tampered.count - 16)
        #expect(throws: CryptoError.authenticationFailed) {
            try tampered.withUnsafeBytes { i in
                try out.withUnsafeMutableBytes { o in try cipher.open(nonce: Self.nonce, input: i, output: o) }
            }
        }
        #expect(out.allSatisfy { $0 == 0 })
    }

    // MARK: Nonces

    @Test func nonceLengthIsCheckedWhenItIsMade() throws {
        for length in [0, 1, 8, 11, 13, 16, 24] {
            #expect(throws: CryptoError.invalidLength(what: "nonce", expected: 12, actual: length), "\(length)") {
                try ChaChaPoly.Nonce([UInt8](repeating: 0xAB, count: length))
            }
        }
        let bytes = Array(UInt8(1)...UInt8(12))
        let nonce = try ChaChaPoly.Nonce(bytes)
        #expect(nonce.byteArray == bytes)
        #expect(nonce.withUnsafeBytes { Array($0) } == bytes)
        #expect(try ChaChaPoly.Nonce(bytes[...]) == nonce)
        #expect(nonce.description == "ChaChaPoly.Nonce(0102030405060708090a0b0c)")
        #expect(ChaChaPoly.Nonce.zero.byteArray == [UInt8](repeating: 0, count: 12))
        #expect(Set([nonce, try ChaChaPoly.Nonce(bytes), .zero]).count == 2)
        #expect(MemoryLayout<ChaChaPoly.Nonce>.size == 12)
    }

    @Test func streamNoncesAreAnElevenByteBigEndianCounterAndAFinalFlag() throws {
        #expect(ChaChaPoly.Nonce.stream(counter: 0, isFinal: false) == .zero)
        #expect(ChaChaPoly.Nonce.stream(counter: 0, isFinal: true).byteArray == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(ChaChaPoly.Nonce.stream(counter: 1, isFinal: false).byteArray == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
        #expect(ChaChaPoly.Nonce.stream(counter: 256, isFinal: true).byteArray == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1])
        #expect(
            ChaChaPoly.Nonce.stream(counter: 0x0102_0304_0506_0708, isFinal: false).byteArray
                == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0])
        #expect(
            ChaChaPoly.Nonce.stream(counter: .max, isFinal: true).byteArray
                == [0, 0, 0] + [UInt8](repeating: 0xFF, count: 8) + [1])
        // Every counter and flag gives its own nonce.
        var seen = Set<ChaChaPoly.Nonce>()
        for counter in UInt64(0)..<300 {
            for isFinal in [false, true] { seen.insert(.stream(counter: counter, isFinal: isFinal)) }
        }
        #expect(seen.count == 600)
    }

    @Test func aRekeyedCipherMatchesAFreshOne() throws {
        let (a, b) = (SecretBytes(try SecureRandom.bytes(32)), SecretBytes(try SecureRandom.bytes(32)))
        let plaintext = Array("synthetic testimony line".utf8)
        let nonce = try ChaChaPoly.Nonce(try SecureRandom.bytes(12))
        let reused = try ChaChaPoly.Cipher(key: a)
        try reused.setKey(b)
        var fromReused = [UInt8](repeating: 0, count: plaintext.count + 16)
        try plaintext.withUnsafeBytes { input in
            try fromReused.withUnsafeMutableBytes { try reused.seal(nonce: nonce, input: input, output: $0, aad: [1]) }
        }
        // The same bytes as a cipher made with key b, and key a no longer opens them
        #expect(fromReused == (try ChaChaPoly.seal(key: b, nonce: nonce, plaintext: plaintext, authenticating: [1])))
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaChaPoly.open(key: a, nonce: nonce, ciphertext: fromReused, authenticating: [1])
        }
        #expect(throws: CryptoError.self) { try reused.setKey(SecretBytes(zeroes: 16)) }
    }

    /// The raw-buffer associated data entry points give the bytes of the array ones and the one-shot API, open what
    /// those seal, and refuse any change (ciphertext, tag, associated data) with a zeroed output.
    @Test func rawAssociatedDataMatchesTheArrayAndOneShotAPIs() throws {
        let key = SecretBytes(Self.key)
        let cipher = try ChaChaPoly.Cipher(key: key)
        // RFC 8439 §2.8.2 through the raw entry point.
        var sealed = [UInt8](repeating: 0, count: Self.plaintext.count + 16)
        try Self.plaintext.withUnsafeBytes { input in
            try sealed.withUnsafeMutableBytes { output in
                try Self.aad.withUnsafeBytes { aad in
                    try cipher.seal(nonce: Self.nonce, input: input, output: output, aad: aad)
                }
            }
        }
        #expect(sealed == Self.ciphertext + Self.tag)
        for length in [0, 1, 17, 300] {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let aad = Array("amanat-store/v1 content record version".utf8)
            let nonce = try ChaChaPoly.Nonce(try SecureRandom.bytes(12))
            var raw = [UInt8](repeating: 0, count: length + 16)
            try plaintext.withUnsafeBytes { input in
                try raw.withUnsafeMutableBytes { output in
                    try aad.withUnsafeBytes { try cipher.seal(nonce: nonce, input: input, output: output, aad: $0) }
                }
            }
            #expect(raw == (try ChaChaPoly.seal(key: key, nonce: nonce, plaintext: plaintext, authenticating: aad)))
            #expect(try ChaChaPoly.open(key: key, nonce: nonce, ciphertext: raw, authenticating: aad) == plaintext)
            // Opened through the raw entry point (output one byte larger than needed, so it exists for length 0).
            func openRaw(_ sealed: [UInt8], aad: [UInt8]) throws -> [UInt8] {
                var output = [UInt8](repeating: 0xAA, count: length + 1)
                try sealed.withUnsafeBytes { input in
                    try output.withUnsafeMutableBytes { output in
                        try aad.withUnsafeBytes {
                            try cipher.open(
                                nonce: nonce, input: input,
                                output: UnsafeMutableRawBufferPointer(rebasing: output[0..<length]),
                                aad: $0)
                        }
                    }
                }
                return Array(output[0..<length])
            }
            #expect(try openRaw(raw, aad: aad) == plaintext)
            // Any flipped byte, and other associated data, are refused.
            for index in [0, length / 2, length + 15] where index < raw.count {
                var tampered = raw
                tampered[index] ^= 1
                #expect(throws: CryptoError.authenticationFailed) { try openRaw(tampered, aad: aad) }
            }
            #expect(throws: CryptoError.authenticationFailed) { try openRaw(raw, aad: aad + [0]) }
            #expect(throws: CryptoError.authenticationFailed) { try openRaw(raw, aad: []) }
            // A failed open leaves zeros, not a partial plaintext.
            if length > 0 {
                var tampered = raw
                tampered[length] ^= 1
                var output = [UInt8](repeating: 0xAA, count: length)
                var refused = false
                do {
                    try tampered.withUnsafeBytes { input in
                        try output.withUnsafeMutableBytes { output in
                            try aad.withUnsafeBytes {
                                try cipher.open(nonce: nonce, input: input, output: output, aad: $0)
                            }
                        }
                    }
                } catch CryptoError.authenticationFailed { refused = true }
                #expect(refused)
                #expect(output.allSatisfy { $0 == 0 })
            }
        }
    }
}
