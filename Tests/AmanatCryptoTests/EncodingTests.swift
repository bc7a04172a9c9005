import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// base64url, Bech32 / age key strings, fingerprints and `SecretBytes`.
@Suite struct EncodingTests {
    // MARK: base64url

    @Test func base64URLRoundTripsEveryLength() {
        for count in 0...70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        // RFC 4648 §10 test vectors, unpadded, and the url-safe characters.
        let vectors = [
            "": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(utf8(plain)) == encoded)
            #expect(Base64URL.decode(encoded) == utf8(plain))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64.encodeUnpadded([0xFB, 0xFF]) == "+/8")
        #expect(Base64.decodeCanonical("+/8", urlSafe: false) == [0xFB, 0xFF])
    }

    @Test func base64URLRefusals() {
        let refused = [
            "Zg==", "Zg=", "Zm8=",  // padding
            "Zh", "Zm9", "Zm+", "AB", "AAB",  // non-canonical trailing bits ("Zh" would be "f" with a stray bit)
            "Z", "Zm9vY",  // impossible lengths (4k + 1)
            // characters outside the alphabet
            "+/8", "Zm9v/", "Zm 9v", "Zm9v\n", " Zm9v", "Zm9v.", "Zm9vé", "Zm9v\u{0}",
        ]
        for text in refused {
            #expect(Base64URL.decode(text) == nil, "\(text.debugDescription)")
        }
        #expect(Base64.decodeCanonical("-_8", urlSafe: false) == nil)
    }

    // MARK: Bech32

    @Test func bip173ValidChecksums() throws {
        // BIP 173 valid strings (whose data converts to whole bytes) and their round trip.
        for text in [
            "A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "?1ezyfcl",
            "11" + String(repeating: "q", count: 82) + "c8247j",
        ] {
            let decoded = try #require(Bech32.decode(text), "\(text)")
            #expect(Bech32.encode(hrp: decoded.hrp, data: decoded.data) == text.lowercased())
        }
        #expect(
            Bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw")?.data
                == Hex.decode("00443214c74254b635cf84653a56d7c675be77df"))
    }

    @Test func bech32Refusals() throws {
        let refused = [
            "pzry9x0s0muk",  // no separator
            "1pzry9x0s0muk",  // empty HRP
            "10a06t8", "1qzzfhee",  // empty HRP
            "x1b4n0q5v",  // 'b' is not in the data alphabet
            "li1dgmt3",  // checksum too short
            "de1lg7wt\u{ff}",  // non-ASCII in the checksum
            " 1nwldj5",  // HRP character out of range
            "\u{7f}1axkwrx",  // HRP character out of range
            "A1G7SGD8",  // checksum computed with an uppercase HRP
            "A12uEL5L",  // mixed case
            "a12uel5m",  // wrong checksum
            "a12uel5l ",  // trailing space
        ]
        for text in refused {
            #expect(Bech32.decode(text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func ageRecipientsAndIdentities() throws {
        let key = try X25519.PrivateKey(
            rawRepresentation: SecretBytes(
                Hex.decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        )
        let recipient = AgeKeyEncoding.recipient(key.publicKey)
        #expect(recipient.hasPrefix("age1") && recipient.count == 62)
        #expect(try AgeKeyEncoding.publicKey(recipient: recipient) == key.publicKey)
        let identity = String(decoding: try AgeKeyEncoding.secretKey(key).unprotectedArray, as: UTF8.self)
        #expect(identity.hasPrefix("AGE-SECRET-KEY-1") && identity.count == 74 && identity == identity.uppercased())
        #expect(try AgeKeyEncoding.privateKey(secretKey: identity).publicKey == key.publicKey)

        let badRecipient = CryptoError.malformed(what: "age recipient", reason: "not a valid age1… X25519 recipient")
        var chars = Array(recipient)
        chars[10] = chars[10] == "q" ? "p" : "q"
        let wrongHRP = Bech32.encode(hrp: "agf", data: key.publicKey.rawRepresentation)
        for text in [
            String(chars),  // bad checksum
            recipient.uppercased(),  // uppercase (age writes lowercase)
            String(recipient.prefix(5)) + recipient.dropFirst(5).uppercased(),  // mixed case
            wrongHRP,  // wrong HRP
            Bech32.encode(hrp: "age", data: Array(key.publicKey.rawRepresentation.prefix(31))),  // 31 bytes
            Bech32.encode(hrp: "age", data: key.publicKey.rawRepresentation + [0]),  // 33 bytes
            identity,  // a secret key is not a recipient
            identity.lowercased(),
            recipient + "q",
            "",
        ] {
            #expect(throws: badRecipient, "\(text)") { try AgeKeyEncoding.publicKey(recipient: text) }
        }
        let badIdentity = CryptoError.malformed(what: "age identity", reason: "not a valid AGE-SECRET-KEY-1… identity")
        for text in [
            identity.lowercased(), recipient, String(identity.dropLast()) + (identity.last == "Q" ? "P" : "Q"),
            Bech32.encode(hrp: "age-secret-key-", data: [UInt8](repeating: 1, count: 31)).uppercased(),
        ] {
            #expect(throws: badIdentity, "\(text)") { try AgeKeyEncoding.privateKey(secretKey: text) }
        }
    }

    // MARK: Fingerprints

    @Test func fingerprints() throws {
        let key = try Ed25519.VerifyingKey(
            rawRepresentation: Hex.decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let fingerprint = Fingerprint.of(key)
        #expect(fingerprint.count == 39)
        #expect(fingerprint.split(separator: "-").count == 8)
        let digest = try SHA256.hash(key.rawRepresentation)
        #expect(fingerprint.replacingOccurrences(of: "-", with: "") == Base32.encode(Array(digest.prefix(20))))
        #expect(Fingerprint.normalize(fingerprint.lowercased().replacingOccurrences(of: "-", with: " ")) == fingerprint)
        #expect(Fingerprint.normalize(fingerprint.replacingOccurrences(of: "-", with: "")) == fingerprint)
        #expect(Fingerprint.normalize(String(fingerprint.dropLast())) == nil)
        #expect(Fingerprint.normalize(fingerprint + "A") == nil)
        // Non-ASCII input must be refused, not crash (regression: it used to trap in UInt8(ascii:)).
        let plain = fingerprint.replacingOccurrences(of: "-", with: "")
        #expect(Fingerprint.normalize("É" + plain.dropFirst()) == nil)
        #expect(Fingerprint.normalize(String(plain.dropLast()) + "A\u{301}") == nil)
        #expect(Fingerprint.normalize(String(plain.dropLast()) + "1") == nil)  // 1 is not base32
        #expect(Fingerprint.normalize(String(plain.dropLast()) + "\u{FF21}") == nil)  // fullwidth A
    }

    @Test func base32() {
        // RFC 4648 §10 (without padding).
        let vectors = [
            "": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB",
            "foobar": "MZXW6YTBOI",
        ]
        for (plain, encoded) in vectors { #expect(Base32.encode(utf8(plain)) == encoded) }
    }

    // MARK: SecretBytes

    @Test func secretBytes() throws {
        var a = SecretBytes([1, 2, 3])
        #expect(a.count == 3)
        #expect(a.description == "SecretBytes(3 bytes, redacted)")
        #expect("\(a)".contains("1") == false || "\(a)" == "SecretBytes(3 bytes, redacted)")
        #expect(a == SecretBytes([1, 2, 3]))
        #expect(a != SecretBytes([1, 2, 4]))
        #expect(a != SecretBytes([1, 2]))
        a.wipe()
        #expect(a.unprotectedArray == [0, 0, 0])
        let empty = SecretBytes(zeroes: 0)
        #expect(empty.count == 0 && empty == SecretBytes([UInt8]()))
        let filled = SecretBytes(count: 4) { buffer in buffer.copyBytes(from: [9, 8, 7, 6]) }
        #expect(filled.unprotectedArray == [9, 8, 7, 6])
        #expect(constantTimeEquals([UInt8](arrayLiteral: 1, 2), [UInt8](arrayLiteral: 1, 2)))
        #expect(!constantTimeEquals([UInt8](arrayLiteral: 1, 2), [UInt8](arrayLiteral: 1, 3)))
        var array: [UInt8] = [5, 5, 5]
        wipe(&array)
        #expect(array == [0, 0, 0])
        let random = try SecureRandom.secret(32)
        #expect(random.count == 32 && random != SecretBytes(zeroes: 32))
        #expect(try SecureRandom.bytes(16) != SecureRandom.bytes(16))
        #expect(try SecureRandom.bytes(0).isEmpty)
    }
}
