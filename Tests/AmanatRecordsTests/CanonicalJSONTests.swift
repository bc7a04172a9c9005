import AmanatRecords
import AmanatTestSupport
import Testing

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    /// Keys and strings drawn from a small alphabet with quotes, escapes, control characters and non-ASCII
    /// scalars (including one outside the BMP, whose UTF-16 order differs from its code point order), so that
    /// sorting, duplicates and escaping are all exercised.
    static let pieces = ["a", "b", "A", "é", "\u{FF21}", "😀", "\"", "\\", "\n", "\u{1}", "/", "ab", ""]

    static func text(_ rng: inout SplitMix64) -> String {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func value(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(["0", "-1", "3.25", "1e400", "12345678901234567890"].randomElement(using: &rng)!)
        case 3: return .string(text(&rng))
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            return .object(
                (0..<Int.random(in: 0...5, using: &rng)).map { _ in (text(&rng), value(&rng, depth: depth + 1)) })
        }
    }

    @Test func theOnePassWriterEqualsSortingThenSerializing() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        // How many values needed members reordered, and how many needed escapes: the comparison is only worth
        // something if the random values exercise both.
        var (reordered, escaped) = (0, 0)
        for _ in 0..<2000 {
            let v = Self.value(&rng, depth: 0)
            let reference = v.sortedKeys().serialized()
            #expect(v.canonical() == reference)
            #expect(v.canonicalUTF8() == Array(reference.utf8))
            if v.serialized() != reference { reordered += 1 }
            if reference.contains("\\") { escaped += 1 }
        }
        #expect(reordered > 100 && escaped > 100)
    }

    @Test func membersAreOrderedByCodePointAtEveryLevel() throws {
        let v = try JSONValue.parse(
            Array(#"{"😀":1,"\uFF21":{"b":[{"z":1,"y":2}],"a":"\u0001"},"B":null,"":true}"#.utf8))
        #expect(v.canonical() == #"{"":true,"B":null,"Ａ":{"a":"\u0001","b":[{"y":2,"z":1}]},"😀":1}"#)
    }
}
