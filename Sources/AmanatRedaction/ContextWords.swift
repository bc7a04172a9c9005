/// Lists of context words, searched as raw UTF-8 byte strings in a window around a candidate.
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
    }

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    @inline(__always) private static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b & 0xDF : b }

    /// Whether some word may start at `index` (its first two bytes are those of a word).
    @inline(__always)
    func mayMatch(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Bool {
        guard index + 1 < end else { return false }
        let key = Int(p[index]) << 8 | Int(p[index + 1])
        return pairs[key >> 6] & (1 << UInt64(key & 63)) != 0
    }

    /// The length of a word that starts at `index` (and ends before `end`), or 0.
    @inline(__always)
    func match(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        guard mayMatch(p, at: index, end: end) else { return 0 }
        return compare(p, at: index, end: end)
    }

    /// The first word (in list order) at `index`; only words with the same first two bytes are compared.
    private func compare(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        let b0 = p[index]
        let b1 = p[index + 1]
        let exactKey = UInt16(b0) << 8 | UInt16(b1)
        let lowerKey = UInt16(ContextWords.lower(b0)) << 8 | UInt16(ContextWords.lower(b1))
        var w = 0
        outer: while w < count {
            defer { w += 1 }
            let insensitive = caseInsensitive[w]
            guard keys[w] == (insensitive ? lowerKey : exactKey) else { continue }
            let length = lengths[w]
            guard index + length <= end else { continue }
            let word = flat + starts[w]
            var k = 2
            if insensitive {
                while k < length {
                    if ContextWords.lower(p[index + k]) != ContextWords.lower(word[k]) { continue outer }
                    k += 1
                }
            } else {
                while k < length {
                    if p[index + k] != word[k] { continue outer }
                    k += 1
                }
            }
            return length
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
