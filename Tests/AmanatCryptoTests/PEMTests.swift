import AmanatCrypto
import Foundation
import Testing

/// PEM armor: what is accepted and every corruption we could think of.
@Suite struct PEMTests {
    static let der: [UInt8] = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    static let body = Data(der).base64EncodedString()  // 136 characters, ends in "=="? see padding tests

    func armored(_ lines: [String], label: String = "PRIVATE KEY") -> String {
        (["-----BEGIN \(label)-----"] + lines + ["-----END \(label)-----"]).joined(separator: "\n") + "\n"
    }

    func lines(_ text: String, width: Int = 64) -> [String] {
        stride(from: 0, to: text.count, by: width).map { start in
            let a = text.index(text.startIndex, offsetBy: start)
            let b = text.index(a, offsetBy: min(width, text.count - start))
            return String(text[a..<b])
        }
    }

    func refused(_ text: String, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: CryptoError.malformed(what: "PEM file", reason: reason), sourceLocation: sourceLocation) {
            try PEM.decode(text)
        }
    }

    @Test func acceptedForms() throws {
        let canonical = PEM.encode(label: "PRIVATE KEY", der: Self.der)
        #expect(canonical == armored(lines(Self.body)))
        #expect(try PEM.decode(canonical).der == Self.der)
        #expect(try PEM.decode(canonical).label == "PRIVATE KEY")
        // CRLF line ends, explanatory text before, trailing text after, no final newline, other line widths.
        #expect(try PEM.decode(canonical.replacingOccurrences(of: "\n", with: "\r\n")).der == Self.der)
        #expect(try PEM.decode("Key for the invented Example Group\n" + canonical + "trailing words\n").der == Self.der)
        #expect(try PEM.decode(String(canonical.dropLast())).der == Self.der)
        #expect(try PEM.decode(armored(lines(Self.body, width: 76))).der == Self.der)
        #expect(try PEM.decode(armored([Self.body])).der == Self.der)
        // Only the first block is read.
        #expect(try PEM.decode(canonical + PEM.encode(label: "PUBLIC KEY", der: [1, 2, 3])).label == "PRIVATE KEY")
    }

    @Test func armorCorruptions() {
        let body = lines(Self.body)
        refused("", "no -----BEGIN line")
        refused(body.joined(separator: "\n"), "no -----BEGIN line")
        refused(
            "-----BEGIN PRIVATE KEY----\n" + body.joined(separator: "\n") + "\n-----END PRIVATE KEY-----\n",
            "no -----BEGIN line")
        refused("-----BEGIN PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n", "no -----END line (truncated?)")
        refused(
            "-----BEGIN PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n",
            "BEGIN and END labels differ")
        refused(
            "-----BEGIN PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n-----END PRIVATE KEY----\n",
            "BEGIN and END labels differ")
        refused(armored([]), "invalid base64")
        refused(armored([""]), "invalid base64")
    }

    @Test func base64Corruptions() throws {
        let body = Self.body
        #expect(body.hasSuffix("="))
        let unpadded = String(body.drop { _ in false }.prefix { $0 != "=" })
        let cases: [(String, String)] = [
            ("space inside a line", String(body.prefix(10)) + " " + String(body.dropFirst(10))),
            ("tab inside a line", String(body.prefix(10)) + "\t" + String(body.dropFirst(10))),
            ("invalid character !", "!" + String(body.dropFirst())),
            ("invalid character *", String(body.prefix(20)) + "*" + String(body.dropFirst(21))),
            ("url-safe alphabet -", "-" + String(body.dropFirst())),
            ("url-safe alphabet _", "_" + String(body.dropFirst())),
            ("non-ASCII", "é" + String(body.dropFirst())),
            ("padding missing", unpadded),
            ("one pad short", String(body.dropLast())),
            ("extra pad", body + "="),
            ("three pads", unpadded.dropLast() + "==="),
            ("pad in the middle", String(body.prefix(8)) + "====" + String(body.dropFirst(8))),
            ("one character too many", body + "A"),
            ("stray final character", unpadded + "A=="),
        ]
        for (name, text) in cases {
            #expect(throws: CryptoError.malformed(what: "PEM file", reason: "invalid base64"), "\(name)") {
                try PEM.decode(armored(lines(text)))
            }
        }
        // Non-canonical trailing bits: 100 bytes = 33 groups + 1 byte → "xx==", the second character's low 4 bits
        // must be zero. Setting one of them decodes to the same bytes under a lenient decoder; we refuse it.
        let chars = Array(body)
        let second = chars[chars.count - 3]
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let value = try #require(alphabet.firstIndex(of: second))
        #expect(value & 0x0F == 0)
        var bent = chars
        bent[chars.count - 3] = alphabet[value | 0x01]
        #expect(Data(base64Encoded: String(bent)).map(Array.init) == Self.der)  // what a lenient decoder does
        #expect(throws: CryptoError.malformed(what: "PEM file", reason: "invalid base64")) {
            try PEM.decode(armored(lines(String(bent))))
        }
        // Too large.
        #expect(throws: CryptoError.malformed(what: "PEM file", reason: "too large")) {
            try PEM.decode(armored([String(repeating: "AAAA", count: (1 << 18) + 1)]))
        }
    }

    @Test func everyPaddingLengthRoundTrips() throws {
        for count in 1...70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(try PEM.decode(PEM.encode(label: "X", der: bytes)).der == bytes)
        }
    }
}
