import AmanatRecords
import AmanatRedaction
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatPublish

/// The shortcuts publishing takes per value must decide exactly as the general code they stand in for.
@Suite("Redactor: fast paths agree with the general code")
struct PublishFastPathTests {
    @Test func pointersEscapeAsRFC6901() {
        let paths: [[RecordPathStep]] = [
            [],
            [.key("testifier"), .key("name"), .key("latn")],
            [.key("detainees"), .index(0), .key("statusHistory"), .index(12), .key("note")],
            [.key("a/b"), .key("c~d"), .key("~/~1"), .index(3)],
            [.key(""), .key("сүйінші"), .key("ئۇيغۇر"), .key("名字")],
        ]
        // RFC 6901 escaping, spelled out: `~` as `~0` first, then `/` as `~1`.
        func reference(_ path: [RecordPathStep]) -> String {
            path.map { step -> String in
                switch step {
                case .key(let k):
                    return "/" + k.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                case .index(let i): return "/\(i)"
                }
            }.joined()
        }
        for path in paths { #expect(DisclosureMap.pointer(path) == reference(path)) }
        #expect(DisclosureMap.pointer([.key("a/b"), .key("c~d"), .key("~/~1"), .index(3)]) == "/a~1b/c~0d/~0~1~01/3")
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

    /// The starter filter in front of Foundation's search must never turn a hit into a miss: canonically
    /// equivalent spellings (composed and decomposed letters, Hangul syllables and their jamo, singletons such as
    /// the Kelvin sign, reordered combining marks) and characters Foundation might skip (zero-width space, soft
    /// hyphen, tatweel) are drawn together, and every answer must be Foundation's.
    @Test func theStarterFilterNeverHidesAMatch() {
        var random = SplitMix64(seed: 23)
        let alphabet: [String] = [
            "e", "\u{E9}", "e\u{301}", "\u{301}", "\u{316}", "\u{327}", "c", "\u{E7}", "\u{AC00}", "\u{1100}",
            "\u{1161}", "k", "\u{212A}", "\u{C5}", "\u{212B}", "a\u{30A}", "\u{626}", "\u{64A}", "\u{654}",
            "\u{627}", "\u{640}", "\u{200B}", "\u{AD}", ";", "\u{37E}", " ", "\u{41F}", "\u{43F}",
        ]
        func text(_ count: Int) -> String {
            (0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
        }
        var hits = 0
        var filtered = 0
        for _ in 0..<3000 {
            let haystack = text(Int(random.next() % 12))
            let names = Set((0..<Int(1 + random.next() % 2)).map { _ in text(1 + Int(random.next() % 3)) })
            let lower = haystack.lowercased()
            let expected = names.contains { lower.contains($0) }
            if expected { hits += 1 }
            let search = Redactor.NameSearch(names)
            let lowerStarters = Redactor.NameSearch.starters(lower)
            filtered += search.names.filter { !Redactor.containsRun(lowerStarters, $0.starters) }.count
            #expect(search.isMentioned(in: haystack) == expected, "\(haystack.unicodeScalars.map(\.value)) \(names)")
        }
        #expect(hits > 200 && filtered > 1000, "hits \(hits), filtered \(filtered)")
        // Fixed cases: a decomposed Uyghur letter (yeh + hamza above) holds the composed one; a composed é holds a
        // decomposed one; a Hangul syllable holds its jamo; and a Russian text never holds an Uyghur name.
        #expect(Redactor.mentions("\u{64A}\u{654}\u{627}", anyOf: ["\u{626}\u{627}"]))
        #expect(Redactor.mentions("Caf\u{E9} noir", anyOf: ["cafe\u{301}"]))
        #expect(Redactor.mentions("\u{AC00}", anyOf: ["\u{1100}\u{1161}"]))
        #expect(!Redactor.mentions("Динара Мысалова", anyOf: ["\u{626}\u{627}"]))
        #expect(Redactor.NameSearch.starters("a\u{316}\u{301}b") == [0x61, 0x62])
    }

    /// Publishing finds the overlays from the version's map and the kept disclosures; a verifier finds them by
    /// walking the presentation. Both must name the same paths for any choice of disclosures and values.
    @Test func overlaysFromTheVersionMapAreThePresentations() throws {
        let collector = try Collector()
        let json = Harness.record(
            testifier: "\"names\": {\"latn\": \"Aigul Test\", \"ru\": \"Айгуль Тест\"}, \"phones\": [\"a\", \"b\"]",
            testimony: "\"transcript\": \"One.\\nTwo.\\nThree.\", \"date\": \"2020-01-02\"",
            others:
                "\"detainees\": [{\"name\": {\"latn\": \"Erlan Test\"}, \"detentions\": [{\"facility\": \"X\"}]}, "
                + "{\"name\": {\"latn\": \"Dana Test\"}}]")
        let signed = try collector.sign(json)
        let map = try DisclosureMap(signed.sdjwt)
        var targets: [(String, Int?)] = [("/nowhere", nil), ("/detainees", nil), ("/testimony/transcript", 7)]
        for leaf in map.leaves {
            let pointer = leaf.pointer
            #expect(pointer == DisclosureMap.pointer(leaf.path))
            targets.append((pointer, leaf.segment))
            targets.append((pointer, nil))
            if let slash = pointer.lastIndex(of: "/"), slash != pointer.startIndex {
                targets.append((String(pointer[..<slash]), nil))
            }
        }
        var random = SplitMix64(seed: 31)
        var nonEmpty = 0
        for _ in 0..<300 {
            let kept = Set(signed.sdjwt.disclosures.indices.filter { _ in random.next() % 3 != 0 })
            let presentation = SDJWT(
                jwt: signed.sdjwt.jwt,
                disclosures: signed.sdjwt.disclosures.enumerated().filter { kept.contains($0.offset) }.map(\.element))
            let values = (0..<Int(random.next() % 4)).map { _ in
                let (path, segment) = targets[Int(random.next() % UInt64(targets.count))]
                return PublisherValue(path: path, segment: segment, op: "withhold", kind: nil, value: "x")
            }
            let walked = Annotation.overlays(values, presentation: presentation)
            if !walked.isEmpty { nonEmpty += 1 }
            #expect(
                Annotation.overlays(values, source: map, kept: kept) == walked, "\(kept.sorted()) \(values.map(\.path))"
            )
        }
        #expect(nonEmpty > 60 && nonEmpty < 280, "\(nonEmpty) of 300 found an overlay")
    }

    @Test func containsRunIsSubstringSearch() {
        let cases: [(String, String, Bool)] = [
            ("abcabd", "abd", true), ("abcabd", "abe", false), ("aaab", "aab", true), ("ab", "abc", false),
            ("", "a", false), ("abc", "abc", true),
        ]
        for (haystack, needle, expected) in cases {
            #expect(
                Redactor.containsRun(Array(haystack.utf8), Array(needle.utf8)) == expected, "\(haystack) \(needle)")
        }
    }
}
