import AmanatTestSupport
import Testing

@testable import AmanatRedaction

/// Seeded random identifiers in every written variant: each is found exactly once with the right value; numbers
/// that fail their checks or sit inside longer digit runs are not found.
@Suite struct PropertyTests {
    let detector = Detector()

    static let contexts: [(String, String)] = [
        ("", ""), ("他的号码是", "，他在伊宁。"), ("Номер: ", ", записан."), ("ئۇنىڭ نومۇرى ", " ئىدى"),
        ("The number ", " was given."), ("Куәгердің нөмірі ", " болды."), ("（", "）"), ("\n", "\n"),
    ]

    /// Spellings of one number given as groups of digits.
    static func spellings(_ groups: [String], _ rng: inout SplitMix64) -> [String] {
        let plain = groups.joined()
        return [
            plain,
            groups.joined(separator: " "),
            groups.joined(separator: "-"),
            groups.joined(separator: "\n"),
            groups.joined(separator: "\r\n"),
            groups.joined(separator: "\u{00A0}"),
            groups.joined(separator: "- "),
            Synthetic.fullWidth(plain),
            Synthetic.fullWidth(groups.joined(separator: "\u{3000}")),
            Synthetic.arabicIndic(plain),
            Synthetic.extendedArabicIndic(groups.joined(separator: " ")),
        ]
    }

    func expectFoundOnce(_ spelled: String, kind: IdentifierKind, value: String, _ rng: inout SplitMix64) {
        let (before, after) = PropertyTests.contexts.randomElement(using: &rng)!
        let text = before + spelled + after
        let findings = detector.scan(text)
        #expect(findings.count == 1, "kind \(kind.rawValue), \(findings.count) findings")
        guard let finding = findings.first else { return }
        #expect(finding.kind == kind)
        #expect(finding.value == value)
        #expect(finding.confidence == .valid)
        #expect(finding.range == before.byteCount..<(before.byteCount + spelled.byteCount))
    }

    @Test func chineseIDsInEveryVariant() {
        var rng = SplitMix64(seed: 1)
        var count = 0
        for _ in 0..<300 {
            let id = Synthetic.chineseID(&rng)
            #expect(ChineseResidentID.isValid(id))
            let groups = [String(id.prefix(6)), String(id.dropFirst(6).prefix(8)), String(id.suffix(4))]
            for spelled in PropertyTests.spellings(groups, &rng) {
                expectFoundOnce(spelled, kind: .cnResidentID, value: id, &rng)
                count += 1
            }
        }
        #expect(count == 3300)
    }

    @Test func legacyIDsConvert() {
        var rng = SplitMix64(seed: 2)
        for _ in 0..<500 {
            let (legacy, converted) = Synthetic.legacyChineseID(&rng)
            expectFoundOnce(legacy, kind: .cnResidentID, value: converted, &rng)
            expectFoundOnce(legacy.prefix(6) + " " + legacy.dropFirst(6), kind: .cnResidentID, value: converted, &rng)
        }
    }

    @Test func iinsInEveryVariant() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<400 {
            let iin = Synthetic.kazakhIIN(&rng)
            #expect(KazakhIIN.isValid(iin))
            #expect(!KazakhIIN.isBIN(iin))
            for spelled in PropertyTests.spellings([String(iin.prefix(6)), String(iin.suffix(6))], &rng) {
                expectFoundOnce(spelled, kind: .kzIIN, value: iin, &rng)
            }
        }
    }

    @Test func binsAreNeverFound() {
        var rng = SplitMix64(seed: 4)
        for _ in 0..<1000 {
            let bin = Synthetic.bin(&rng)
            #expect(KazakhIIN.isBIN(bin))
            #expect(detector.scan("БИН " + bin).isEmpty)
            #expect(detector.scan("ЖСН " + bin).isEmpty)
        }
    }

    @Test func phonesInEveryVariant() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<300 {
            let cn = Synthetic.chineseMobile(&rng)
            let e164 = "+86" + cn
            let groups = [String(cn.prefix(3)), String(cn.dropFirst(3).prefix(4)), String(cn.suffix(4))]
            for spelled in PropertyTests.spellings(groups, &rng) + [
                "+86 " + groups.joined(separator: " "), "0086" + cn, "+86-" + cn,
            ] {
                expectFoundOnce(spelled, kind: .phone, value: e164, &rng)
            }
            let kz = Synthetic.kazakhNumber(&rng)
            let kzE164 = "+7" + kz
            let a = String(kz.prefix(3))
            let b = String(kz.dropFirst(3).prefix(3))
            let c = String(kz.dropFirst(6).prefix(2))
            let d = String(kz.suffix(2))
            for spelled in [
                "+7 (\(a)) \(b)-\(c)-\(d)", "8 \(a) \(b) \(c)\(d)", "+7\(kz)", "8-\(a)-\(b)-\(c)-\(d)", "8\(kz)",
                Synthetic.fullWidth("8\(kz)"), "+7 \(a) \(b) \(c) \(d)",
            ] {
                expectFoundOnce(spelled, kind: .phone, value: kzE164, &rng)
            }
            // The same number in Russia's 9xx range is not a Kazakh phone.
            let russian = "9" + kz.dropFirst()
            #expect(detector.scan("+7 " + russian).isEmpty)
        }
    }

    @Test func failedChecksAndLongerRunsAreNotFound() {
        var rng = SplitMix64(seed: 6)
        var checked = 0
        for _ in 0..<1000 {
            let id = Synthetic.chineseID(&rng)
            let last = id.last!
            let wrong = id.dropLast() + (last == "1" ? "2" : "1")
            if !ChineseResidentID.isValid(String(wrong)) {
                #expect(detector.scan("编号 " + wrong + " 完").isEmpty)
                checked += 1
            }
            let digit = String(Int.random(in: 0...9, using: &rng))
            #expect(detector.scan("No." + digit + id + "。").isEmpty)
            #expect(detector.scan("No." + id.replacingOccurrences(of: "X", with: "0") + digit + "。").isEmpty)
            let iin = Synthetic.kazakhIIN(&rng)
            #expect(detector.scan(digit + iin).isEmpty)
            #expect(detector.scan(iin + digit).isEmpty)
            let mobile = Synthetic.chineseMobile(&rng)
            #expect(detector.scan(mobile + digit + digit).isEmpty)
        }
        #expect(checked > 900)
    }

    @Test func parallelScanEqualsSequentialAcrossSeams() {
        // Given a ~3 MB multilingual text with identifiers everywhere, including across block seams,
        var rng = SplitMix64(seed: 7)
        var text = ""
        var planted = 0
        while text.utf8.count < 3_000_000 {
            text += PropertyTests.contexts.randomElement(using: &rng)!.0
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: text += Synthetic.chineseID(&rng)
            case 1: text += Synthetic.fullWidth(Synthetic.chineseID(&rng))
            case 2: text += "ЖСН " + Synthetic.kazakhIIN(&rng)
            case 3: text += "+86 " + Synthetic.chineseMobile(&rng)
            default: text += "туған күні 17.03.1991, email a\(planted)@example.org"
            }
            planted += 1
            text += PropertyTests.contexts.randomElement(using: &rng)!.1
        }
        let bytes = Array(text.utf8)
        // When it is scanned on one thread and in parallel blocks of several sizes,
        let sequential = bytes.withUnsafeBytes { Detector().scanSequential($0) }
        for threads in [2, 3, 7] {
            let parallel = Detector(parallelThreshold: 1, threadCount: threads).scan(bytes)
            // Then the findings are identical.
            #expect(parallel == sequential, "threads \(threads)")
        }
        #expect(sequential.count >= planted)
    }
}
