import AmanatCrypto
import AmanatTestSupport
import Testing

/// RFC 7914 §12 scrypt test vectors, typed in from the RFC.
@Suite struct ScryptTests {
    func derive(_ password: String, _ salt: String, n: UInt64, r: UInt32, p: UInt32) throws -> [UInt8] {
        try Scrypt.deriveKey(password: secret(password), salt: utf8(salt), n: n, r: r, p: p, length: 64)
            .unprotectedArray
    }

    @Test func vector1() throws {
        #expect(
            try derive("", "", n: 16, r: 1, p: 1)
                == Hex.decode(
                    """
                    77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628
                    cf35e20c38d18906
                    """))
    }

    @Test func vector2() throws {
        #expect(
            try derive("password", "NaCl", n: 1024, r: 8, p: 16)
                == Hex.decode(
                    """
                    fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d
                    8360cbdfa2cc0640
                    """))
    }

    @Test func vector3() throws {
        #expect(
            try derive("pleaseletmein", "SodiumChloride", n: 16384, r: 8, p: 1)
                == Hex.decode(
                    """
                    7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40
                    dfcf017b45575887
                    """))
    }

    /// N = 2^20 needs 1 GiB of memory and a few seconds.
    @Test func vector4() throws {
        #expect(
            try derive("pleaseletmein", "SodiumChloride", n: 1_048_576, r: 8, p: 1)
                == Hex.decode(
                    """
                    2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa478e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fb
                    cbf45c6fa77a41a4
                    """))
    }

    @Test func parameterBounds() throws {
        let pass = secret("p")
        for (n, r, p) in [(UInt64(0), UInt32(8), UInt32(1)), (1, 8, 1), (3, 8, 1), (1 << 23, 8, 1), (1 << 30, 8, 1)] {
            #expect(throws: CryptoError.self) {
                try Scrypt.deriveKey(password: pass, salt: [1], n: n, r: r, p: p, length: 32)
            }
        }
        for (r, p) in [(UInt32(0), UInt32(1)), (8, 0), (33, 1), (1000, 1), (8, 17)] {
            #expect(throws: CryptoError.parameterOutOfRange("scrypt r = \(r), p = \(p)")) {
                try Scrypt.deriveKey(password: pass, salt: [1], n: 16, r: r, p: p, length: 32)
            }
        }
        // 2^22 with r = 32 would need 16 GiB: refused before any allocation.
        #expect(throws: CryptoError.parameterOutOfRange("scrypt memory 128·r·N above 4 GiB")) {
            try Scrypt.deriveKey(password: pass, salt: [1], n: 1 << 22, r: 32, p: 1, length: 32)
        }
        #expect(throws: CryptoError.parameterOutOfRange("scrypt output length 0")) {
            try Scrypt.deriveKey(password: pass, salt: [1], n: 16, r: 1, p: 1, length: 0)
        }
    }
}
