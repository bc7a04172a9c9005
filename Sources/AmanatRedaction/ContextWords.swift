/// Lists of context words, searched as raw UTF-8 byte strings in a window around a candidate.
final class ContextWords: @unchecked Sendable {
    let words: [[UInt8]]
    private let caseInsensitive: [Bool]
    /// A bit per two-byte prefix (ASCII words in every case combination): a cheap filter before comparing words.
    private let pairs: UnsafeMutablePointer<UInt64>

    init(_ list: [String]) {
        words = list.map { Array($0.utf8) }
        pairs = .allocate(capacity: 1024)
        pairs.initialize(repeating: 0, count: 1024)
        var insensitive: [Bool] = []
        for word in words {
            let ascii = word.allSatisfy { $0 < 0x80 }
            insensitive.append(ascii)
            let firsts = ascii ? [ContextWords.lower(word[0]), ContextWords.upper(word[0])] : [word[0]]
            let seconds = ascii ? [ContextWords.lower(word[1]), ContextWords.upper(word[1])] : [word[1]]
            for a in firsts {
                for b in seconds {
                    let key = Int(a) << 8 | Int(b)
                    pairs[key >> 6] |= 1 << UInt64(key & 63)
                }
            }
        }
        caseInsensitive = insensitive
    }

    deinit { pairs.deallocate() }

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

    private func compare(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        outer: for (w, word) in words.enumerated() {
            guard index + word.count <= end else { continue }
            if caseInsensitive[w] {
                for k in 0..<word.count where ContextWords.lower(p[index + k]) != ContextWords.lower(word[k]) {
                    continue outer
                }
            } else {
                for k in 0..<word.count where p[index + k] != word[k] { continue outer }
            }
            return word.count
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
