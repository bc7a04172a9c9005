import AmanatCrypto
import AmanatTestSupport
import Testing

/// RFC 4231 test cases 1–7 for HMAC-SHA-256, typed in from the RFC.
@Suite struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let number: Int
        let key: [UInt8]
        let data: [UInt8]
        let mac: String
        var testDescription: String { "RFC 4231 case \(number)" }
    }

    static let largeKey = [UInt8](repeating: 0xaa, count: 131)

    static let vectors: [Vector] = [
        Vector(
            number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: utf8("Hi There"),
            mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(
            number: 2, key: utf8("Jefe"), data: utf8("what do ya want for nothing?"),
            mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(
            number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
            mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(
            number: 4, key: (1...25).map { UInt8($0) }, data: [UInt8](repeating: 0xcd, count: 50),
            mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(
            number: 5, key: [UInt8](repeating: 0x0c, count: 20), data: utf8("Test With Truncation"),
            mac: "a3b6167473100ee06e0c796c2955552b"),
        Vector(
            number: 6, key: largeKey, data: utf8("Test Using Larger Than Block-Size Key - Hash Key First"),
            mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(
            number: 7, key: largeKey,
            data: utf8(
                "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
            ),
            mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: vectors)
    func rfc4231(_ vector: Vector) throws {
        let expected = Hex.decode(vector.mac)
        let key = SecretBytes(vector.key)
        let full = try HMACSHA256.authenticationCode(key: key, message: vector.data)
        #expect(Array(full.prefix(expected.count)) == expected)
        #expect(try HMACSHA256.isValid(expected, key: key, message: vector.data))
        var bad = expected
        bad[bad.count - 1] ^= 1
        #expect(try !HMACSHA256.isValid(bad, key: key, message: vector.data))
        #expect(try !HMACSHA256.isValid(expected, key: key, message: vector.data + [0]))
    }

    @Test(arguments: vectors)
    func aReusableContextGivesEveryTagOfItsKey(_ vector: Vector) throws {
        let expected = Hex.decode(vector.mac)
        let key = SecretBytes(vector.key)
        let hmac = try ReusableHMACSHA256(key: key)
        // The vector's tag first, between other messages, and again: each tag is its message's alone
        let others = [utf8(""), utf8("x"), [UInt8](repeating: 0x5c, count: 200)]
        #expect(Array(try hmac.authenticationCode(vector.data).prefix(expected.count)) == expected)
        for other in others {
            #expect(try hmac.authenticationCode(other) == HMACSHA256.authenticationCode(key: key, message: other))
            #expect(Array(try hmac.authenticationCode(vector.data).prefix(expected.count)) == expected)
        }
    }

    @Test func truncationBounds() throws {
        let key = SecretBytes(zeroes: 32)
        let tag = try HMACSHA256.authenticationCode(key: key, message: utf8("x"))
        #expect(try HMACSHA256.isValid(Array(tag.prefix(10)), key: key, message: utf8("x")))
        #expect(try !HMACSHA256.isValid(Array(tag.prefix(9)), key: key, message: utf8("x")))
        #expect(try !HMACSHA256.isValid([UInt8](), key: key, message: utf8("x")))
        #expect(try !HMACSHA256.isValid(tag + [0], key: key, message: utf8("x")))
        // Empty key and empty message are legal HMAC inputs (checked against the stock tool's value below).
        let empty = try HMACSHA256.authenticationCode(key: SecretBytes(zeroes: 0), message: [UInt8]())
        #expect(empty == Hex.decode("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"))
    }

    @Test func sha256() throws {
        #expect(
            try SHA256.hash(utf8("abc"))
                == Hex.decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        )
        #expect(
            try SHA256.hash([UInt8]()) == Hex.decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        )
        var streaming = try SHA256()
        try streaming.update(utf8("a"))
        try streaming.update([UInt8]())
        try streaming.update(utf8("bc"))
        #expect(try streaming.finalize() == (try SHA256.hash(utf8("abc"))))
    }
}
