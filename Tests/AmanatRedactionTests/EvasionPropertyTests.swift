import AmanatTestSupport
import Testing

@testable import AmanatRedaction

/// Evasions of the detectors (issue #12, item 1): every synthetic identifier, written with the digits of every
/// Unicode script, ignorable code points at every position, every separator between its groups, its letters in
/// every case and width, is found once with its kind, its normalized value and a byte range that covers exactly
/// the written identifier; the same written with one digit changed (a failing checksum) is never reported as valid.
/// The classes are derived here from the Unicode properties, independently of the detector's table.
@Suite struct EvasionPropertyTests {
    let detector = Detector()

    // MARK: Classes derived from Unicode properties

    static let allScalars: [Unicode.Scalar] = (0...0x10FFFF).compactMap { Unicode.Scalar(UInt32($0)) }

    /// The zero of every decimal-digit script (general category Nd with numeric value 0).
    static let digitZeros: [Unicode.Scalar] = allScalars.filter {
        $0.properties.generalCategory == .decimalNumber && $0.properties.numericValue == 0
    }

    /// Every default-ignorable or format code point.
    static let ignorables: [Unicode.Scalar] = allScalars.filter {
        $0.properties.isDefaultIgnorableCodePoint || $0.properties.generalCategory == .format
    }

    static func category(_ categories: Unicode.GeneralCategory...) -> [String] {
        allScalars.filter { categories.contains($0.properties.generalCategory) }.map { String($0) }
    }

    /// The separator classes of the spec: every space (Zs) and tab; every dash (Pd) and the minus sign; the dots;
    /// the slashes; the line breaks (LF, VT, FF, CR, CR LF, NEL, Zl, Zp).
    static let separatorClasses: [(name: String, members: [String])] = [
        ("space", category(.spaceSeparator) + ["\t"]),
        ("dash", category(.dashPunctuation) + ["\u{2212}"]),
        (
            "dot",
            [".", "\u{00B7}", "\u{0387}", "\u{2024}", "\u{2027}", "\u{2219}", "\u{22C5}", "。", "・", "﹒", "．", "｡", "･"]
        ),
        ("slash", ["/", "／", "\u{2044}", "\u{2215}", "\u{29F8}"]),
        ("line", category(.lineSeparator, .paragraphSeparator) + ["\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}"]),
    ]

    static let hanNumerals = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
    static let xVariants = ["X", "x", "Ｘ", "ｘ", "Ⅹ", "ⅹ", "×", "Х", "х", "Χ", "χ"]

    /// A Latin letter in upper and lower case, ASCII and full-width.
    static func letterVariants(_ upper: UInt8) -> [String] {
        let lower = upper | 0x20
        return [
            String(UnicodeScalar(upper)), String(UnicodeScalar(lower)),
            String(UnicodeScalar(0xFF21 + UInt32(upper - 0x41))!),
            String(UnicodeScalar(0xFF41 + UInt32(lower - 0x61))!),
        ]
    }

    // MARK: Identifiers made of parts

    /// An identifier as parts: a `+`, passport letters, digit groups and a check `X`, and what must be found.
    struct Parts {
        var kind: IdentifierKind
        var value: String
        var plus = false
        var letters: [UInt8] = []
        var groups: [[Int]]
        var check = false
        var context = ""

        var digitCount: Int { groups.reduce(0) { $0 + $1.count } }
    }

    /// How to write the parts: each digit (by its index in the identifier), letter, `X`, `+`, the separators
    /// after the letters and between groups, and what to insert before each written character (index `k` is
    /// before character `k`; `0` and the last are outside the identifier).
    struct Style {
        var digit: (_ index: Int, _ value: Int) -> String = { String($1) }
        var letter: (_ index: Int, _ upper: UInt8) -> String = { String(UnicodeScalar($1)) }
        var x = "X"
        var plus = "+"
        var afterLetters: [String] = []
        var between: (_ gap: Int) -> [String] = { _ in [] }
        var insert: (_ position: Int) -> String = { _ in "" }
    }

    /// The written characters (a CR LF pair is one), in order.
    static func atoms(_ parts: Parts, _ style: Style) -> [String] {
        var atoms: [String] = []
        if parts.plus { atoms.append(style.plus) }
        for (k, letter) in parts.letters.enumerated() { atoms.append(style.letter(k, letter)) }
        if !parts.letters.isEmpty { atoms += style.afterLetters }
        var index = 0
        for (g, group) in parts.groups.enumerated() {
            if g > 0 { atoms += style.between(g - 1) }
            for value in group {
                atoms.append(style.digit(index, value))
                index += 1
            }
        }
        if parts.check { atoms.append(style.x) }
        return atoms
    }

    /// The text (context, identifier, insertions) and the byte range of the identifier in it.
    static func render(_ parts: Parts, _ style: Style, before: String, after: String) -> (String, Range<Int>) {
        let atoms = atoms(parts, style)
        var text = before + parts.context + style.insert(0)
        let start = text.utf8.count
        for (k, atom) in atoms.enumerated() {
            if k > 0 { text += style.insert(k) }
            text += atom
        }
        let end = text.utf8.count
        text += style.insert(atoms.count) + after
        return (text, start..<end)
    }

    static func digits(_ s: some StringProtocol) -> [Int] { s.utf8.map { Int($0) - 0x30 } }

    /// One identifier of every kind, from invented parts with correct checks.
    static func identifiers(_ rng: inout SplitMix64) -> [Parts] {
        var list: [Parts] = []
        let id = Synthetic.chineseID(&rng)
        let idDigits = digits(id.prefix(17)) + (id.last == "X" ? [] : digits(id.suffix(1)))
        list.append(
            Parts(
                kind: .cnResidentID, value: id,
                groups: [
                    Array(idDigits.prefix(6)), Array(idDigits.dropFirst(6).prefix(8)), Array(idDigits.dropFirst(14)),
                ],
                check: id.last == "X"))
        var withX = Synthetic.chineseID(&rng)
        while withX.last != "X" { withX = Synthetic.chineseID(&rng) }
        list.append(
            Parts(
                kind: .cnResidentID, value: withX,
                groups: [
                    digits(withX.prefix(6)), digits(withX.dropFirst(6).prefix(8)),
                    digits(withX.dropFirst(14).prefix(3)),
                ],
                check: true))
        let (legacy, converted) = Synthetic.legacyChineseID(&rng)
        list.append(
            Parts(
                kind: .cnResidentID, value: converted,
                groups: [digits(legacy.prefix(6)), digits(legacy.dropFirst(6).prefix(6)), digits(legacy.suffix(3))]))
        let iin = Synthetic.kazakhIIN(&rng)
        list.append(Parts(kind: .kzIIN, value: iin, groups: [digits(iin.prefix(6)), digits(iin.suffix(6))]))
        let mobile = Synthetic.chineseMobile(&rng)
        let mobileGroups = [digits(mobile.prefix(3)), digits(mobile.dropFirst(3).prefix(4)), digits(mobile.suffix(4))]
        list.append(Parts(kind: .phone, value: "+86" + mobile, groups: mobileGroups))
        list.append(Parts(kind: .phone, value: "+86" + mobile, plus: true, groups: [[8, 6]] + mobileGroups))
        let kz = Synthetic.kazakhNumber(&rng)
        let kzGroups = [
            digits(kz.prefix(3)), digits(kz.dropFirst(3).prefix(3)), digits(kz.dropFirst(6).prefix(2)),
            digits(kz.suffix(2)),
        ]
        list.append(Parts(kind: .phone, value: "+7" + kz, groups: [[8]] + kzGroups))
        list.append(Parts(kind: .phone, value: "+7" + kz, plus: true, groups: [[7]] + kzGroups))
        for (letters, count, kind) in [
            ([UInt8(0x45)], 8, IdentifierKind.cnPassport), ([0x47], 8, .cnPassport), ([0x4E], 8, .kzPassport),
            ([0x45, UInt8(Int.random(in: 0x41...0x5A, using: &rng))], 7, .cnPassport),
        ] {
            let number = (0..<count).map { _ in Int.random(in: 0...9, using: &rng) }
            let value = String(decoding: letters, as: UTF8.self) + number.map(String.init).joined()
            let split = count == 8 ? 4 : 3
            list.append(
                Parts(
                    kind: kind, value: value, letters: letters,
                    groups: [Array(number.prefix(split)), Array(number.dropFirst(split))], context: "passport "))
        }
        return list
    }

    static let befores = ["", "Номер ", "号码", "The number ", "ئۇنىڭ نومۇرى ", "（"]
    static let afters = ["", "。", " was given.", "，他在伊宁", "\n", "）"]

    // MARK: Checking

    /// Counts scans and the failing ones (described without the identifier's value).
    struct Tally {
        var scans = 0
        var failures = 0
        var firstFailure = ""

        mutating func record(_ ok: Bool, _ label: @autoclosure () -> String) {
            scans += 1
            if !ok {
                if failures == 0 { firstFailure = label() }
                failures += 1
            }
        }
    }

    /// Whether the text has exactly one finding, of the identifier's kind and value, valid, over `range`.
    func foundExactly(_ parts: Parts, _ text: String, _ range: Range<Int>) -> Bool {
        let findings = detector.scan(text)
        guard findings.count == 1, let finding = findings.first else { return false }
        return finding.kind == parts.kind && finding.value == parts.value && finding.confidence == .valid
            && finding.range == range
    }

    func check(_ parts: Parts, _ style: Style, _ tally: inout Tally, _ label: String, _ rng: inout SplitMix64) {
        let before = Self.befores.randomElement(using: &rng)!
        let after = Self.afters.randomElement(using: &rng)!
        let (text, range) = Self.render(parts, style, before: before, after: after)
        let ok = foundExactly(parts, text, range)
        tally.record(ok, "\(parts.kind.rawValue) \(label)")
    }

    // MARK: Tests

    @Test func unicodeClassesAsExpected() {
        // The runtime's Unicode data: 77 Nd scripts in Unicode 16 (more in later versions, never fewer).
        print("Nd scripts: \(Self.digitZeros.count), ignorables: \(Self.ignorables.count)")
        #expect(Self.digitZeros.count >= 77)
        #expect(Self.ignorables.count >= 4000)
        for zero in Self.digitZeros {
            for d in 0..<10 {
                let scalar = Unicode.Scalar(zero.value + UInt32(d))!
                #expect(scalar.properties.numericValue == Double(d))
                #expect(Normalization.fold(scalar) == UInt8(0x30 + d))
            }
        }
        var wrong = 0
        for scalar in Self.ignorables where Normalization.fold(scalar) != Normalization.ignorable { wrong += 1 }
        #expect(wrong == 0)
        let expected: [String: UInt8] = ["space": 0x20, "dash": 0x2D, "dot": 0x2E, "slash": 0x2F, "line": 0x0A]
        for (name, members) in Self.separatorClasses {
            for member in members {
                #expect(Normalization.fold(Array(member.utf8)).characters == [expected[name]!], "\(name)")
            }
        }
        for x in Self.xVariants { #expect(Normalization.fold(Array(x.utf8)).characters == [0x58]) }
        #expect(Normalization.leadThreshold == 0xFF, "a digit escapes the fixed trigger: every lead byte is checked")
    }

    @Test func everyDigitScript() {
        // Given every identifier written in each script's digits (and in Chinese numerals), plain and in groups,
        var rng = SplitMix64(seed: 0x1201)
        var tally = Tally()
        var scripts = 0
        let renderers: [(String, (Int) -> String)] =
            Self.digitZeros.map { zero in
                ("U+\(String(zero.value, radix: 16))", { String(Unicode.Scalar(zero.value + UInt32($0))!) })
            } + [("Chinese numerals", { Self.hanNumerals[$0] })]
        for (name, digit) in renderers {
            scripts += 1
            for parts in Self.identifiers(&rng) {
                for between in [[], [" "], ["-"], ["."]] {
                    var style = Style()
                    style.digit = { digit($1) }
                    style.between = { _ in between }
                    // Then each is found once, with its value and exact range.
                    check(parts, style, &tally, "\(name) \(between)", &rng)
                }
            }
        }
        print("digit scripts: \(scripts), scans: \(tally.scans), failures: \(tally.failures)")
        #expect(scripts == Self.digitZeros.count + 1)
        #expect(tally.scans == scripts * 12 * 4)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
    }

    @Test func everyIgnorableAtEveryPosition() {
        // Given each default-ignorable or format code point inserted at every position of an identifier (the
        // edges included, where it must stay outside the finding), and all positions at once,
        var rng = SplitMix64(seed: 0x1202)
        var tally = Tally()
        let identifiers = Self.identifiers(&rng)
        for (k, ignorable) in Self.ignorables.enumerated() {
            let parts = identifiers[k % identifiers.count]
            var style = Style()
            style.between = { _ in [" "] }
            style.afterLetters = k % 2 == 0 ? [] : [" "]
            let count = Self.atoms(parts, style).count
            for position in 0...count {
                style.insert = { $0 == position ? String(ignorable) : "" }
                check(parts, style, &tally, "U+\(String(ignorable.value, radix: 16)) at \(position)", &rng)
            }
            style.insert = { _ in String(ignorable) }
            check(parts, style, &tally, "U+\(String(ignorable.value, radix: 16)) everywhere", &rng)
        }
        print("ignorables: \(Self.ignorables.count), scans: \(tally.scans), failures: \(tally.failures)")
        #expect(tally.scans > Self.ignorables.count * 15)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
    }

    @Test func everySeparatorBetweenGroups() {
        // Given each member of each separator class between the groups (and between passport letters and digits),
        var rng = SplitMix64(seed: 0x1203)
        var tally = Tally()
        let identifiers = Self.identifiers(&rng)
        var members = 0
        for (name, list) in Self.separatorClasses {
            for separator in list {
                members += 1
                for parts in identifiers {
                    var style = Style()
                    style.between = { _ in [separator] }
                    style.afterLetters = [separator]
                    check(
                        parts, style, &tally, "\(name) U+\(String(separator.unicodeScalars.first!.value, radix: 16))",
                        &rng)
                }
            }
        }
        print("separators: \(members), scans: \(tally.scans), failures: \(tally.failures)")
        #expect(tally.scans == members * identifiers.count)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
    }

    @Test func everyCaseAndWidthOfLetters() {
        // Given passport letters and the check X in every case and width, glued or separated,
        var rng = SplitMix64(seed: 0x1204)
        var tally = Tally()
        let identifiers = Self.identifiers(&rng)
        for parts in identifiers where !parts.letters.isEmpty || parts.check {
            let firstVariants = parts.letters.isEmpty ? [""] : Self.letterVariants(parts.letters[0])
            let secondVariants = parts.letters.count < 2 ? [""] : Self.letterVariants(parts.letters[1])
            for first in firstVariants {
                for second in secondVariants {
                    for x in parts.check ? Self.xVariants : ["X"] {
                        for afterLetters in [[], [" "], ["-"], [".", " "]] {
                            var style = Style()
                            style.letter = { index, _ in index == 0 ? first : second }
                            style.x = x
                            style.afterLetters = afterLetters
                            style.between = { _ in [" "] }
                            check(parts, style, &tally, "letters \(first)\(second) \(x)", &rng)
                        }
                    }
                }
            }
        }
        print("letter variants: scans: \(tally.scans), failures: \(tally.failures)")
        // E, G, N: 4 variants; E + letter: 4 × 4; the X: 11 variants; each with 4 separations after the letters.
        let withX = identifiers.filter(\.check).count
        #expect(tally.scans == (3 * 4 + 4 * 4 + 11 * withX) * 4)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
    }

    /// A random style: each digit in a random script, separator runs of one or two from random classes,
    /// letters and X in random variants, ignorables at random positions.
    static func randomStyle(_ parts: Parts, _ rng: inout SplitMix64) -> Style {
        var style = Style()
        let scripts = (0..<parts.digitCount).map { _ in digitZeros.randomElement(using: &rng)! }
        let han = Int.random(in: 0..<10, using: &rng) == 0
        style.digit = { index, value in
            han ? hanNumerals[value] : String(Unicode.Scalar(scripts[index].value + UInt32(value))!)
        }
        func run(_ rng: inout SplitMix64, allowEmpty: Bool) -> [String] {
            let length = Int.random(in: (allowEmpty ? 0 : 1)...2, using: &rng)
            return (0..<length).map { _ in
                separatorClasses.randomElement(using: &rng)!.members.randomElement(using: &rng)!
            }
        }
        let gaps = (0..<max(parts.groups.count - 1, 0)).map { _ in run(&rng, allowEmpty: false) }
        style.between = { gaps[$0] }
        style.afterLetters = run(&rng, allowEmpty: true)
        let letters = parts.letters.map { letterVariants($0).randomElement(using: &rng)! }
        style.letter = { index, _ in letters[index] }
        style.x = xVariants.randomElement(using: &rng)!
        style.plus = Bool.random(using: &rng) ? "+" : "＋"
        let count = atoms(parts, style).count
        let inserts = (0...count).map { _ in
            Int.random(in: 0..<3, using: &rng) == 0 ? String(ignorables.randomElement(using: &rng)!) : ""
        }
        style.insert = { inserts[$0] }
        return style
    }

    @Test func randomCombinationsAreFound() {
        // Given 2,000 rounds of every identifier with a random combination of all evasions,
        var rng = SplitMix64(seed: 0x1205)
        var tally = Tally()
        for _ in 0..<2000 {
            for parts in Self.identifiers(&rng) {
                let style = Self.randomStyle(parts, &rng)
                check(parts, style, &tally, "random", &rng)
            }
        }
        print("random combinations: scans: \(tally.scans), failures: \(tally.failures)")
        #expect(tally.scans == 2000 * 12)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
    }

    @Test func wrongChecksumsAreNeverValid() {
        // Given Chinese IDs and IINs written every way as above but with one digit changed (the check fails),
        var rng = SplitMix64(seed: 0x1206)
        var tally = Tally()
        for round in 0..<4000 {
            for var parts in Self.identifiers(&rng)
            where parts.kind == .kzIIN || (parts.kind == .cnResidentID && parts.digitCount > 15) {
                let position = Int.random(in: 0..<parts.digitCount, using: &rng)
                var g = 0
                var k = position
                while k >= parts.groups[g].count {
                    k -= parts.groups[g].count
                    g += 1
                }
                let old = parts.groups[g][k]
                parts.groups[g][k] = (old + Int.random(in: 1...9, using: &rng)) % 10
                let written = parts.groups.joined().map(String.init).joined() + (parts.check ? "X" : "")
                let stillValid = parts.kind == .kzIIN ? KazakhIIN.isValid(written) : ChineseResidentID.isValid(written)
                guard !stillValid else { continue }
                let style = round % 2 == 0 ? Self.randomStyle(parts, &rng) : Style()
                let (text, _) = Self.render(
                    parts, style, before: Self.befores.randomElement(using: &rng)!,
                    after: Self.afters.randomElement(using: &rng)!)
                // Then no finding of its kind is reported as valid.
                let valid = detector.scan(text).filter { $0.kind == parts.kind && $0.confidence == .valid }
                tally.record(valid.isEmpty, "\(parts.kind.rawValue) wrong digit at \(position)")
            }
        }
        print("wrong checksums: scans: \(tally.scans), failures: \(tally.failures)")
        #expect(tally.scans > 4000 * 3 * 9 / 10)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
    }

    @Test func reviewExamples() {
        // The evasions the review found, each now found with its value and exact range.
        let id = "650102198001011234"
        func only(_ text: String, _ needle: String, _ kind: IdentifierKind, _ value: String) {
            let start = text.byteOffset(of: needle)
            #expect(
                detector.scan(text) == [Finding(kind: kind, range: start..<(start + needle.byteCount), value: value)],
                "\(kind.rawValue)")
        }
        only("身份证号6501\u{200B}0219800101\u{00AD}1234。", "6501\u{200B}0219800101\u{00AD}1234", .cnResidentID, id)
        only("号码\u{2060}650102198001011234\u{FEFF}\u{200F}", id, .cnResidentID, id)
        only("ID 650102.19800101.1234.", "650102.19800101.1234", .cnResidentID, id)
        only("电话138.0013.8000", "138.0013.8000", .phone, "+8613800138000")
        only("тел. +7.701.234.56.78", "+7.701.234.56.78", .phone, "+77012345678")
        only("passport e12345678", "e12345678", .cnPassport, "E12345678")
        only("passport E 1234 5678", "E 1234 5678", .cnPassport, "E12345678")
        only("Паспорт: ｎ\u{00A0}4805\u{2009}3599", "ｎ\u{00A0}4805\u{2009}3599", .kzPassport, "N48053599")
        for zero: UInt32 in [0x0966, 0x09E6, 0x0E50, 0x1810, 0x1D7CE, 0xFF10] {
            let written = Synthetic.mapDigits(id, base: zero)
            only("ID " + written, written, .cnResidentID, id)
        }
        only("他的身份证650102198001011234一直被扣押", id, .cnResidentID, id)
        only("第一650102198001011234", id, .cnResidentID, id)
        only("号码六五〇一〇二一九八〇〇一〇一一二三四", "六五〇一〇二一九八〇〇一〇一一二三四", .cnResidentID, id)
        only("他二〇〇一年五月一日出生", "二〇〇一年五月一日", .dateOfBirth, "2001-05-01")
        only("туған күні 17\u{200B}.03.1991", "17\u{200B}.03.1991", .dateOfBirth, "1991-03-17")
        #expect(detector.scan("650102 - 19800101 - 1234").isEmpty)  // three separators still end a number
    }

    @Test func brokenUTF8AndSeamsStaySafe() {
        // Given texts of evasive identifiers, hostile code points and broken UTF-8 bytes,
        var rng = SplitMix64(seed: 0x1207)
        var bytes: [UInt8] = []
        var planted = 0
        while bytes.count < 600_000 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let parts = Self.identifiers(&rng).randomElement(using: &rng)!
                let (text, _) = Self.render(parts, Self.randomStyle(parts, &rng), before: " ", after: " ")
                bytes += Array(text.utf8)
                planted += 1
            case 1:
                bytes += rng.bytes(Int.random(in: 1...6, using: &rng)).map { $0 | 0x80 } + [0x61]
            case 2:
                let scalar = Self.ignorables.randomElement(using: &rng)!
                bytes += Array((String(scalar) + "1" + String(scalar) + "a").utf8)
            default:
                bytes += Array(Self.befores.randomElement(using: &rng)!.utf8)
            }
        }
        // When it is scanned sequentially and in parallel,
        let sequential = bytes.withUnsafeBytes { detector.scanSequential($0) }
        let parallel = Detector(parallelThreshold: 1, threadCount: 3).scan(bytes)
        // Then nothing reads out of bounds, the scans agree, and the planted identifiers are there.
        #expect(parallel == sequential)
        #expect(sequential.allSatisfy { $0.range.lowerBound >= 0 && $0.range.upperBound <= bytes.count })
        #expect(sequential.count >= planted)
        for cut in 1..<12 {
            let prefix = Array(bytes.prefix(cut * 37))
            _ = detector.scan(prefix)
        }
    }

    @Test func ignorablesInsideContextWords() {
        // Given every passport, ID, IIN and birth word with an ignorable code point between two of its characters
        // (each position in turn, the ignorables in turn), and every ignorable inside a random word,
        var rng = SplitMix64(seed: 0x1208)
        var tally = Tally()
        let badID = Synthetic.cn18("65010219800231123")  // 31 February: a suspect next to an ID word
        let cases: [(ContextWords, String, (String) -> Bool)] = [
            (.passport, " E12345678", { self.detector.scan($0).map(\.value) == ["E12345678"] }),
            (.chineseID, " " + badID, { self.detector.scan($0).map(\.confidence) == [.suspect] }),
            (.kazakhIIN, " 910317300004", { self.detector.scan($0).map(\.value) == ["910317300004"] }),
            (.birth, " 17.03.1991", { self.detector.scan($0).map(\.kind) == [.dateOfBirth] }),
        ]
        func hidden(_ word: String, _ position: Int, _ ignorable: Unicode.Scalar) -> String {
            var scalars = Array(word.unicodeScalars)
            scalars.insert(ignorable, at: position)
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            return text
        }
        var next = 0
        for (list, after, found) in cases {
            for bytes in list.words {
                let word = String(decoding: bytes, as: UTF8.self)
                for position in 1..<word.unicodeScalars.count {
                    let ignorable = Self.ignorables[next % Self.ignorables.count]
                    next += 7
                    let text = hidden(word, position, ignorable)
                    // Then the word still counts: the passport, the suspect number, the date of birth is found.
                    tally.record(found(text + after), "\(word) U+\(String(ignorable.value, radix: 16)) at \(position)")
                }
            }
        }
        for ignorable in Self.ignorables {
            let (list, after, found) = cases.randomElement(using: &rng)!
            let word = String(decoding: list.words.randomElement(using: &rng)!, as: UTF8.self)
            let position = Int.random(in: 1..<word.unicodeScalars.count, using: &rng)
            let text = hidden(word, position, ignorable)
            tally.record(found(text + after), "\(word) U+\(String(ignorable.value, radix: 16)) at \(position)")
        }
        print("context words with ignorables: scans: \(tally.scans), failures: \(tally.failures)")
        #expect(tally.scans > Self.ignorables.count + 200)
        #expect(tally.failures == 0, "first: \(tally.firstFailure)")
        // A business word with an ignorable inside still rules out a suspect IIN; an ignorable before or after a
        // word is not part of it, and a word with a letter inside is no word.
        #expect(detector.scan("ИИН ТОО 910317300004").isEmpty)
        #expect(detector.scan("ИИН Т\u{00AD}ОО 910317300004").isEmpty)
        #expect(detector.scan("\u{200B}passport\u{200B} E12345678").map(\.value) == ["E12345678"])
        #expect(detector.scan("passXport E12345678").isEmpty)
        #expect(detector.scan("身\u{200B}份\u{2060}证\u{FEFF}号 " + badID).map(\.confidence) == [.suspect])
        #expect(detector.scan("ро\u{200D}ди\u{00AD}лся 17.03.1991").map(\.value) == ["1991-03-17"])
        #expect(detector.scan("родился и ар\u{200B}естован 17.03.2018").isEmpty)  // event words too
    }
}
