/// Lists of context words, searched as raw UTF-8 byte strings in a window around a candidate.
struct ContextWords: Sendable {
    let words: [[UInt8]]
    /// `firstBytes[b]` is true when some word starts with byte `b` (ASCII words are matched case-insensitively).
    private let firstBytes: [Bool]
    private let caseInsensitive: [Bool]

    init(_ list: [String]) {
        words = list.map { Array($0.utf8) }
        var first = [Bool](repeating: false, count: 256)
        var insensitive: [Bool] = []
        for word in words {
            let ascii = word.allSatisfy { $0 < 0x80 }
            insensitive.append(ascii)
            first[Int(word[0])] = true
            if ascii {
                first[Int(ContextWords.lower(word[0]))] = true
                first[Int(ContextWords.upper(word[0]))] = true
            }
        }
        firstBytes = first
        caseInsensitive = insensitive
    }

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    @inline(__always) private static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b & 0xDF : b }

    /// The length of a word that starts at `index` (and ends before `end`), or 0.
    @inline(__always)
    func match(_ p: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        guard firstBytes[Int(p[index])] else { return 0 }
        outer: for (w, word) in words.enumerated() {
            guard index + word.count <= end else { continue }
            if caseInsensitive[w] {
                for k in 0..<word.count where ContextWords.lower(p[index + k]) != ContextWords.lower(word[k]) { continue outer }
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
