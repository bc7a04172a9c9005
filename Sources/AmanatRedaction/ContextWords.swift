/// Lists of context words, searched as UTF-8 byte strings in a window around a candidate. Default-ignorable and
/// format code points between two characters of a word (`pass\u{200B}port`, `ИИ\u{00AD}Н`) are skipped, as inside
/// numbers (see ``Normalization``); ASCII words are compared without regard to case.
final class ContextWords: @unchecked Sendable {
    let words: [[UInt8]]
    /// A bit per two-byte prefix (ASCII words in every case combination): a cheap filter before comparing words.
    private let pairs: UnsafeMutablePointer<UInt64>
    /// The words one after another, with per word: where it starts in `flat`, its length, its first two bytes
    /// (lower-cased for an ASCII word) and whether it is compared without regard to case (ASCII words).
    private let flat: UnsafeMutablePointer<UInt8>
    private let starts: UnsafeMutablePointer<Int>
    private let lengths: UnsafeMutablePointer<Int>
    private let keys: UnsafeMutablePointer<UInt16>
    private let caseInsensitive: UnsafeMutablePointer<Bool>
    private let count: Int
    /// Whether an ASCII word starts with this byte (in either case): only then may an ignorable follow the first
    /// byte of a word.
    private let asciiFirst: UnsafeMutablePointer<Bool>
    private let table = Normalization.table

    init(_ list: [String]) {
        words = list.map { Array($0.utf8) }
        count = words.count
        pairs = .allocate(capacity: 1024)
        pairs.initialize(repeating: 0, count: 1024)
        flat = .allocate(capacity: words.reduce(0) { $0 + $1.count })
        starts = .allocate(capacity: count)
        lengths = .allocate(capacity: count)
        keys = .allocate(capacity: count)
        caseInsensitive = .allocate(capacity: count)
        asciiFirst = .allocate(capacity: 128)
        asciiFirst.initialize(repeating: false, count: 128)
        var offset = 0
        for (w, word) in words.enumerated() {
            let ascii = word.allSatisfy { $0 < 0x80 }
            (flat + offset).initialize(from: word, count: word.count)
            (starts + w).initialize(to: offset)
            (lengths + w).initialize(to: word.count)
            (caseInsensitive + w).initialize(to: ascii)
            let key0 = ascii ? ContextWords.lower(word[0]) : word[0]
            let key1 = ascii ? ContextWords.lower(word[1]) : word[1]
            (keys + w).initialize(to: UInt16(key0) << 8 | UInt16(key1))
            offset += word.count
            if ascii {
                asciiFirst[Int(ContextWords.lower(word[0]))] = true
                asciiFirst[Int(ContextWords.upper(word[0]))] = true
            }
            let firsts = ascii ? [ContextWords.lower(word[0]), ContextWords.upper(word[0])] : [word[0]]
            let seconds = ascii ? [ContextWords.lower(word[1]), ContextWords.upper(word[1])] : [word[1]]
            for a in firsts {
                for b in seconds {
                    let key = Int(a) << 8 | Int(b)
                    pairs[key >> 6] |= 1 << UInt64(key & 63)
                }
            }
        }
    }

    deinit {
        pairs.deallocate()
        flat.deallocate()
        starts.deallocate()
        lengths.deallocate()
        keys.deallocate()
        caseInsensitive.deallocate()
        asciiFirst.deallocate()
    }

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    @inline(__always) private static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b & 0xDF : b }

    /// Where the byte that follows the first byte at `index` in a word would be: the next byte, or for an ASCII
    /// first byte, the next byte after any ignorable code points.
    @inline(__always)
    private func second(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        var k = index + 1
        guard p[index] < 0x80, k < end, p[k] >= 0x80, asciiFirst[Int(p[index])] else { return k }
        while k < end && p[k] >= 0x80 {
            let (code, length) = Normalization.classifyNonASCII(p, k, end, table)
            guard code == Normalization.ignorable else { break }
            k += length
        }
        return k
    }

    /// The length in bytes of a word that starts at `index` (and ends before `end`), ignorable code points inside
    /// it included, or 0.
    @inline(__always)
    func match(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        guard index + 1 < end else { return 0 }
        let b0 = p[index]
        let b1 = p[index + 1]
        let key = Int(b0) << 8 | Int(b1)
        if pairs[key >> 6] & (1 << UInt64(key & 63)) != 0 { return compare(p, at: index, second: index + 1, end: end) }
        // An ASCII letter that starts a word, then a non-ASCII byte: perhaps an ignorable inside the word.
        guard b0 < 0x80, b1 >= 0x80, asciiFirst[Int(b0)] else { return 0 }
        return matchAfterIgnorables(p, at: index, end: end)
    }

    /// ``match(_:at:end:)`` for an ASCII first byte followed by a non-ASCII one.
    private func matchAfterIgnorables(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        let next = second(p, at: index, end: end)
        guard next > index + 1, next < end else { return 0 }
        let key = Int(p[index]) << 8 | Int(p[next])
        guard pairs[key >> 6] & (1 << UInt64(key & 63)) != 0 else { return 0 }
        return compare(p, at: index, second: next, end: end)
    }

    /// The first word (in list order) at `index`; only words with the same first two bytes are compared.
    private func compare(_ p: UnsafePointer<UInt8>, at index: Int, second: Int, end: Int) -> Int {
        let b0 = p[index]
        let b1 = p[second]
        let exactKey = UInt16(b0) << 8 | UInt16(b1)
        let lowerKey = UInt16(ContextWords.lower(b0)) << 8 | UInt16(ContextWords.lower(b1))
        var w = 0
        outer: while w < count {
            defer { w += 1 }
            let insensitive = caseInsensitive[w]
            guard keys[w] == (insensitive ? lowerKey : exactKey) else { continue }
            let length = lengths[w]
            let word = flat + starts[w]
            var j = second + 1
            var k = 2
            while k < length {
                guard j < end else { continue outer }
                let b = p[j]
                if insensitive ? ContextWords.lower(b) != ContextWords.lower(word[k]) : b != word[k] {
                    // An ignorable code point between two characters of the word is skipped.
                    guard b >= 0x80, word[k] & 0xC0 != 0x80 else { continue outer }
                    let (code, skipped) = Normalization.classifyNonASCII(p, j, end, table)
                    guard code == Normalization.ignorable else { continue outer }
                    j += skipped
                    continue
                }
                j += 1
                k += 1
            }
            return j - index
        }
        return 0
    }

    /// Whether a word occurs entirely inside `[from, to)`.
    func occurs(_ p: UnsafePointer<UInt8>, from: Int, to: Int) -> Bool {
        var i = max(from, 0)
        while i < to {
            if match(p, at: i, end: to) > 0 { return true }
            i += 1
        }
        return false
    }

    static let chineseID = ContextWords([
        "身份证", "身份證", "身份号", "身份號", "公民身份", "证件号", "證件號", "ID", "identity", "resident",
        "удостоверени", "куәлік", "كىملىك",
    ])
    static let kazakhIIN = ContextWords(["ЖСН", "ИИН", "IIN", "ID", "жеке сәйкестендіру", "индивидуальн"])
    static let business = ContextWords(["БИН", "BIN", "БСН", "ТОО", "ЖШС", "LLP"])
    static let passport = ContextWords([
        "护照", "護照", "паспорт", "Паспорт", "ПАСПОРТ", "passport", "pasport", "төлқұжат", "Төлқұжат",
        "ТӨЛҚҰЖАТ", "پاسپورت",
    ])
    static let birth = ContextWords([
        "туған", "Туған", "туылған", "Туылған", "родился", "Родился", "родилась", "Родилась", "рождения",
        "Рождения", "рожд.", "г.р.", "出生", "生于", "生於", "生日", "born", "birth", "DOB", "D.O.B", "تۇغۇلغان",
        "تۇغۇلدى",
    ])
    static let event = ContextWords([
        "арест", "Арест", "задерж", "Задерж", "осужд", "Осужд", "умер", "Умер", "погиб", "пропал", "қамау",
        "Қамау", "ұстал", "Ұстал", "сотта", "қайтыс", "жоғал", "被捕", "逮捕", "拘留", "拘押", "被抓", "关押",
        "關押", "判刑", "失踪", "去世", "死亡", "arrest", "detain", "detention", "sentenced", "disappeared", "died",
        "released", "تۇتۇل", "قاماق",
    ])
}
