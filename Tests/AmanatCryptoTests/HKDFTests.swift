import AmanatCrypto
import AmanatTestSupport
import Testing

/// RFC 5869 Appendix A.1–A.3 (HKDF-SHA-256), typed in from the RFC.
@Suite struct HKDFTests {
    @Test func caseA1() throws {
        let okm = try HKDF.deriveKey(
            inputKeyMaterial: SecretBytes([UInt8](repeating: 0x0b, count: 22)),
            salt: Hex.decode("000102030405060708090a0b0c"), info: Hex.decode("f0f1f2f3f4f5f6f7f8f9"),
            outputByteCount: 42)
        #expect(
            okm.unprotectedArray
                == Hex.decode(
                    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
    }

    @Test func caseA2() throws {
        let okm = try HKDF.deriveKey(
            inputKeyMaterial: SecretBytes((0x00...0x4f).map { UInt8($0) }),
            salt: (0x60...0xaf).map { UInt8($0) }, info: (0xb0...0xff).map { UInt8($0) }, outputByteCount: 82)
        #expect(
            okm.unprotectedArray
                == Hex.decode(
                    """
                    b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8
                    367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87
                    """))
    }

    @Test func caseA3() throws {
        let okm = try HKDF.deriveKey(
            inputKeyMaterial: SecretBytes([UInt8](repeating: 0x0b, count: 22)), salt: [], info: [], outputByteCount: 42)
        #expect(
            okm.unprotectedArray
                == Hex.decode(
                    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"))
    }

    @Test func outputLengthBounds() throws {
        let ikm = SecretBytes(zeroes: 32)
        #expect(try HKDF.deriveKey(inputKeyMaterial: ikm, outputByteCount: 8160).count == 8160)
        #expect(throws: CryptoError.parameterOutOfRange("HKDF output length 8161 (1…8160)")) {
            try HKDF.deriveKey(inputKeyMaterial: ikm, outputByteCount: 8161)
        }
        #expect(throws: CryptoError.parameterOutOfRange("HKDF output length 0 (1…8160)")) {
            try HKDF.deriveKey(inputKeyMaterial: ikm, outputByteCount: 0)
        }
    }
}
