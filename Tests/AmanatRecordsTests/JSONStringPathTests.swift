import AmanatTestSupport
import Testing

@testable import AmanatRecords

/// The string parser's fast paths (a plain run validated in one step; runs copied whole around escapes) against the
/// scalar-by-scalar reference: the same text and end position for good strings, the same first error (reason,
/// line, column, offset) for bad ones.
@Suite("JSON strings: fast paths agree with the reference")
struct JSONStringPathTests {
    /// Pieces of string bodies: plain ASCII, escapes good and bad, UTF-8 good and bad, control characters.
    static let pieces: [[UInt8]] = [
        Array("abc".utf8), Array(" ".utf8), Array("\\\"".utf8), Array("\\\\".utf8), Array("\\n".utf8),
        Array("\\/".utf8), Array("\\u00e9".utf8), Array("\\u4E2D".utf8), Array("\\ud83d\\ude00".utf8),
        Array("\\ud83d".utf8), Array("\\udc00".utf8), Array("\\ud83dx".utf8), Array("\\x".utf8), Array("\\u12".utf8),
        Array("\\".utf8), [0xC3, 0xA9], [0xE4, 0xB8, 0xAD], [0xF0, 0x9F, 0x98, 0x80], Array("Нұрлан".utf8),
        [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x80], [0x01], [0x0A], [0x7F],
        Array("\"".utf8),
    ]

    @Test func fastPathsAgreeWithTheScalarByScalarReference() {
        var rng = SplitMix64(seed: 0x57_1A6)
        var good = 0
        var bad = 0
        for _ in 0..<4000 {
            var bytes: [UInt8] = [0x22]
            for _ in 0..<Int(rng.next() % 7) { bytes += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))] }
            // Most strings are closed, some run to the end of the input.
            if rng.next() % 8 != 0 { bytes.append(0x22) }
            bytes += Array(",1".utf8)
            var fast = JSONValue.Parser(bytes: bytes, limits: JSONValue.Limits())
            var reference = JSONValue.Parser(bytes: bytes, limits: JSONValue.Limits())
            let fastResult = Result { try fast.parseString() }
            let referenceResult = Result { try reference.parseStringScalarByScalar() }
            switch (fastResult, referenceResult) {
            case (.success(let a), .success(let b)):
                #expect(a == b)
                #expect(a.utf8.elementsEqual(b.utf8))
                #expect(fast.index == reference.index)
                good += 1
            case (.failure(let a), .failure(let b)):
                #expect(a as? JSONParseError == b as? JSONParseError, "\(bytes)")
                bad += 1
            default:
                Issue.record("one path failed and the other did not: \(bytes)")
            }
        }
        // Both kinds occur in numbers.
        #expect(good > 500)
        #expect(bad > 500)
        #expect(good + bad == 4000)
    }
}
