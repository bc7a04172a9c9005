import Testing

@testable import AmanatRedaction

/// The cases of the table in REDACTION.md ("Cases a good engine passes"), one test each, with exact findings.
@Suite struct TableCaseTests {
    let detector = Detector()

    func findings(_ text: String) -> [Finding] { detector.scan(text) }

    func offset(_ text: String, of needle: String) -> Int {
        let range = text.range(of: needle)!
        return text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound)
    }

    @Test func idGluedToChineseText() {
        let text = "身份证号65010219800101139X，他在伊宁"
        let start = offset(text, of: "6501")
        #expect(
            findings(text) == [Finding(kind: .cnResidentID, range: start..<(start + 18), value: "65010219800101139X")])
    }

    @Test func fullWidthIDWithRomanNumeralTen() {
        let text = "６５０１０２１９８００１０１１３９Ⅹ"
        #expect(
            findings(text) == [Finding(kind: .cnResidentID, range: 0..<text.utf8.count, value: "65010219800101139X")])
    }

    @Test func spacedAndLineBrokenIDsGiveOnePseudonym() throws {
        let spaced = "650102 19800101 1234"
        let broken = "650102-1980\n0101-1234"
        #expect(findings(spaced) == [Finding(kind: .cnResidentID, range: 0..<20, value: "650102198001011234")])
        #expect(findings(broken) == [Finding(kind: .cnResidentID, range: 0..<21, value: "650102198001011234")])
        let key = SecretBytesFixture.key
        let a = try pseudonymize(kind: .cnResidentID, normalizedValue: findings(spaced)[0].value, key: key)
        let b = try pseudonymize(kind: .cnResidentID, normalizedValue: findings(broken)[0].value, key: key)
        #expect(a == b)
    }

    @Test func nineteenDigitRunGivesNothing() {
        #expect(findings("Order 16501021980010112345").isEmpty)
        #expect(findings("Order 6501021980010112341").isEmpty)
        #expect(findings("1650102198001011234").isEmpty)
    }

    @Test func checksumFailureNextToContextWordIsSuspect() {
        let text = "身份证 650102198001011235"
        let start = offset(text, of: "6501")
        #expect(
            findings(text) == [
                Finding(
                    kind: .cnResidentID, range: start..<(start + 18), value: "650102198001011235", confidence: .suspect)
            ])
        #expect(findings("Order 650102198001011235").isEmpty)
    }

    @Test func legacyFifteenDigitID() {
        let text = "旧身份证 650102800101123"
        let start = offset(text, of: "6501")
        #expect(
            findings(text) == [Finding(kind: .cnResidentID, range: start..<(start + 15), value: "650102198001011234")])
    }

    @Test func iinButNotBIN() {
        let text = "ЖСН: 910317 300400, БИН 700140000019"
        let start = offset(text, of: "910317")
        #expect(findings(text) == [Finding(kind: .kzIIN, range: start..<(start + 13), value: "910317300400")])
    }

    @Test func kazakhAndChinesePhones() {
        let text = "+7 (701) 234-56-78, 8 701 234 5678, 13800138000, +86 138-0013-8000"
        let a = offset(text, of: "+7")
        let b = offset(text, of: "8 701")
        let c = offset(text, of: "13800138000")
        let d = offset(text, of: "+86")
        #expect(
            findings(text) == [
                Finding(kind: .phone, range: a..<(a + 18), value: "+77012345678"),
                Finding(kind: .phone, range: b..<(b + 14), value: "+77012345678"),
                Finding(kind: .phone, range: c..<(c + 11), value: "+8613800138000"),
                Finding(kind: .phone, range: d..<(d + 17), value: "+8613800138000"),
            ])
    }

    @Test func passportsNearContextWord() {
        let text = "护照号E12345678；N48053599; EA1234567; E123456789"
        let a = offset(text, of: "E12345678")
        let b = offset(text, of: "N48053599")
        let c = offset(text, of: "EA1234567")
        #expect(
            findings(text) == [
                Finding(kind: .cnPassport, range: a..<(a + 9), value: "E12345678"),
                Finding(kind: .kzPassport, range: b..<(b + 9), value: "N48053599"),
                Finding(kind: .cnPassport, range: c..<(c + 9), value: "EA1234567"),
            ])
        #expect(findings("Order E12345678").isEmpty)
    }

    @Test func birthDateButNotArrestDate() {
        let birth = "туған күні 17.03.1991"
        let start = offset(birth, of: "17.03")
        #expect(findings(birth) == [Finding(kind: .dateOfBirth, range: start..<(start + 10), value: "1991-03-17")])
        #expect(findings("арестован 17.03.2018").isEmpty)
        let both = "туған күні 17.03.1991, арестован 17.03.2018"
        #expect(findings(both) == [Finding(kind: .dateOfBirth, range: start..<(start + 10), value: "1991-03-17")])
    }
}
