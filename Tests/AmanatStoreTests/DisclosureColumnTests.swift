import Testing

@testable import AmanatStore

/// A stored version's `disclosures` column is split on '~' byte by byte; it reads exactly as splitting the UTF-8
/// view would, empty pieces dropped, on texts with tildes at the ends, in runs, and beside multi-byte characters.
@Suite("Store: the disclosures column")
struct DisclosureColumnTests {
    @Test func splittingMatchesTheUTF8View() {
        let alphabet: [String] = ["~", "~", "a", "Z", "0", "-", "_", "é", "ئ", "中", "🙂", "\u{301}"]
        var generator = SystemRandomNumberGenerator()
        var cases = ["", "~", "~~", "a", "a~", "~a", "a~~b", "~a~b~"]
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<24, using: &generator)
            cases.append((0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined())
        }
        var withEmptyPieces = 0
        for text in cases {
            let expected = text.utf8.split(separator: UInt8(ascii: "~")).map { String(decoding: $0, as: UTF8.self) }
            #expect(Store.splitDisclosures(text) == expected, "\(text.debugDescription)")
            if text.hasPrefix("~") || text.hasSuffix("~") || text.contains("~~") { withEmptyPieces += 1 }
        }
        // The random texts reach the case that matters: pieces to drop at the ends and between tildes.
        #expect(withEmptyPieces > 500, "\(withEmptyPieces) of \(cases.count) texts had empty pieces")
        #expect(Store.splitDisclosures("WyJh~WyJi~") == ["WyJh", "WyJi"])
    }
}
