import AmanatRecords
import AmanatRedaction
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatPublish

/// The shortcuts publishing takes per value must decide exactly as the general code they stand in for.
@Suite("Redactor: fast paths agree with the general code")
struct PublishFastPathTests {
    @Test func pointersAreDisclosureMapPointers() {
        let paths: [[RecordPathStep]] = [
            [],
            [.key("testifier"), .key("name"), .key("latn")],
            [.key("detainees"), .index(0), .key("statusHistory"), .index(12), .key("note")],
            [.key("a/b"), .key("c~d"), .key("~/~1"), .index(3)],
            [.key(""), .key("сүйінші"), .key("ئۇيغۇر"), .key("名字")],
        ]
        for path in paths { #expect(Redactor.pointer(path) == DisclosureMap.pointer(path)) }
    }

    @Test func mentionsAgreeWithFoundationsSearch() {
        var random = SplitMix64(seed: 17)
        // Small alphabets, so that names often occur: ASCII only (the byte search), and mixed (Foundation's search,
        // with a decomposed é beside a composed one).
        let ascii = Array("abAB c-'")
        let mixed = Array("abé e\u{301}-ДдMy迪")
        func text(_ count: Int, _ alphabet: [Character]) -> String {
            String((0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        var asciiHits = 0
        var asciiMisses = 0
        for round in 0..<600 {
            let alphabet = round % 3 == 0 ? mixed : ascii
            let haystack = text(Int(random.next() % 16), alphabet)
            let names = Set((0..<Int(1 + random.next() % 2)).map { _ in text(2 + Int(random.next() % 2), alphabet) })
            let lower = haystack.lowercased()
            let expected = names.contains { lower.contains($0) }
            if alphabet == ascii { if expected { asciiHits += 1 } else { asciiMisses += 1 } }
            #expect(Redactor.mentions(haystack, anyOf: names) == expected, "\(haystack) \(names)")
        }
        // Fixed cases on both paths: a hit at the end, a miss by one letter, a name longer than the text.
        #expect(Redactor.mentions("Seen with Dinara Mysalova", anyOf: ["mysalova"]))
        #expect(!Redactor.mentions("Seen with Dinara Mysalov", anyOf: ["mysalova"]))
        #expect(!Redactor.mentions("Mys", anyOf: ["mysalova"]))
        #expect(Redactor.mentions("Динара Мысалова", anyOf: ["мысалова"]))
        #expect(asciiHits > 20 && asciiMisses > 20)
    }

    @Test func containsBytesIsSubstringSearch() {
        let cases: [(String, String, Bool)] = [
            ("abcabd", "abd", true), ("abcabd", "abe", false), ("aaab", "aab", true), ("ab", "abc", false),
            ("", "a", false), ("abc", "abc", true),
        ]
        for (haystack, needle, expected) in cases {
            #expect(Redactor.containsBytes(haystack.utf8, needle.utf8) == expected, "\(haystack) \(needle)")
        }
    }
}
