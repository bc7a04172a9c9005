import Testing

@testable import AmanatRedaction

/// Hand-written cases beyond the REDACTION.md table: scripts, glue, separators, look-alikes.
@Suite struct DetectorTests {
    let detector = Detector()

    func kinds(_ text: String) -> [IdentifierKind] { detector.scan(text).map(\.kind) }
    func values(_ text: String) -> [String] { detector.scan(text).map(\.value) }

    // MARK: Chinese resident IDs

    @Test func knownGoodIDs() {
        #expect(values("11010519491231002X") == ["11010519491231002X"])
        #expect(values("440524188001010014") == ["440524188001010014"])  // born in 1880
    }

    @Test func lowerCaseXAndMultiplicationSign() {
        #expect(values("身份证65010219800101139x。") == ["65010219800101139X"])
        #expect(values("ID 65010219800101139×") == ["65010219800101139X"])
        #expect(values("ID 65010219800101139ｘ") == ["65010219800101139X"])
    }

    @Test func idGluedOnBothSidesToChinese() {
        let text = "他的身份证是650102198001011234他在乌鲁木齐"
        let findings = detector.scan(text)
        #expect(findings.count == 1)
        #expect(findings.first?.range == text.byteOffset(of: "6501")..<(text.byteOffset(of: "6501") + 18))
    }

    @Test func idGluedToCyrillicAndLatin() {
        #expect(values("номерІD650102198001011234был") == ["650102198001011234"])
        #expect(values("abc650102198001011234xyz") == ["650102198001011234"])
    }

    @Test func idInUyghurWithExtendedArabicIndicDigits() {
        let text = "ئۇنىڭ كىملىك نومۇرى " + Synthetic.extendedArabicIndic("650102198001011234") + " ئىدى"
        let findings = detector.scan(text)
        #expect(findings.map(\.value) == ["650102198001011234"])
        #expect(findings.first?.range.count == 36)  // 18 two-byte digits
    }

    @Test func idWithArabicIndicDigits() {
        #expect(values("رقم " + Synthetic.arabicIndic("650102198001011234")) == ["650102198001011234"])
    }

    @Test func idWithSpecialSpacesAndDashes() {
        #expect(values("650102\u{00A0}19800101\u{00A0}1234") == ["650102198001011234"])
        #expect(values("650102\u{3000}19800101\u{3000}1234") == ["650102198001011234"])
        #expect(values("650102\u{2013}19800101\u{2014}1234") == ["650102198001011234"])
        #expect(values("650102－19800101－1234") == ["650102198001011234"])
        #expect(values("650102 - 19800101 - 1234").isEmpty)  // three separators: not one number
        #expect(values("650102\r\n19800101\r\n1234") == ["650102198001011234"])
        #expect(values("650102- \n19800101").isEmpty)
    }

    @Test func digitTouchingOnEitherSideGivesNothing() {
        #expect(kinds("5650102198001011234").isEmpty)
        #expect(kinds("6501021980010112345").isEmpty)
        #expect(kinds("６５０１０２１９８００１０１１２３４５").isEmpty)
        #expect(kinds("65010219800101139X5").isEmpty)
    }

    @Test func invalidDateOrProvinceWithoutContextGivesNothing() {
        let badDate = Synthetic.cn18("65010219800231123")  // 31 February
        let badProvince = Synthetic.cn18("00010219800101123")
        #expect(kinds("x " + badDate).isEmpty)
        #expect(kinds("x " + badProvince).isEmpty)
        #expect(detector.scan("身份证号码 " + badDate).map(\.confidence) == [.suspect])
    }

    @Test func foreignPermanentResidentCard() {
        let id = Synthetic.cn18("93315619900101123")
        #expect(values("永久居留身份证 " + id) == [id])
    }

    @Test func legacyIDConvertedAndGivesSameValueAsNew() {
        #expect(values("650102800101123") == ["650102198001011234"])
        #expect(values("650102198001011234") == ["650102198001011234"])
        #expect(values("身份证 650102 800101 123") == ["650102198001011234"])
    }

    @Test func twoIDsInOneSentenceSeparatedBySpace() {
        let text = "650102198001011234 11010519491231002X"
        #expect(values(text) == ["650102198001011234", "11010519491231002X"])
    }

    @Test func bankCardLikeGroupsGiveNothing() {
        #expect(kinds("card 6222 0212 3456 7890 123").isEmpty)
    }

    // MARK: Kazakh IIN / BIN

    @Test func knownGoodIINs() {
        #expect(values("910317300003") == ["910317300003"])
        #expect(values("ИИН 910317300400") == ["910317300400"])
    }

    @Test func binIsNeverAnIIN() {
        #expect(kinds("700140000019").isEmpty)
        #expect(kinds("ЖСН 700140000019").isEmpty)  // a BIN, not a mistyped IIN
        #expect(KazakhIIN.isBIN("700140000019"))
        #expect(!KazakhIIN.isValid("700140000019"))
        #expect(!KazakhIIN.isBIN("910317300400"))
    }

    @Test func iinCenturyDigitMustBeOneToSix() {
        // Same date and serial, century digit 7: not an IIN (even when the checksum would match).
        for century in 7...9 {
            if let value = Synthetic.iin("910317\(century)0000") { #expect(kinds("n " + value).isEmpty) }
        }
        #expect(!KazakhIIN.isValid("910317000003"))
    }

    @Test func suspectIINNextToContextWord() {
        #expect(detector.scan("ЖСН: 910317300004").map(\.confidence) == [.suspect])
        #expect(detector.scan("ИИН 910317 300004").map(\.value) == ["910317300004"])
        #expect(kinds("код 910317300004").isEmpty)
    }

    @Test func iinIn1800sAnd2000s() {
        let old = Synthetic.iin("99010110000")!
        let young = Synthetic.iin("05020250001") ?? Synthetic.iin("05020250002")!
        #expect(values(old) == [old])
        #expect(values(young) == [young])
    }

    // MARK: Phones

    @Test func russianNumbersAreNotKazakh() {
        #expect(kinds("+7 (912) 345-67-89").isEmpty)
        #expect(kinds("8 912 345 6789").isEmpty)
        #expect(values("+7 (727) 234-56-78") == ["+77272345678"])
    }

    @Test func chinesePhoneSpellings() {
        let spellings = [
            "13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
            "0086 138 0013 8000", "(+86) 138-0013-8000", "＋86 13800138000", "１３８００１３８０００",
        ]
        for s in spellings {
            #expect(values("电话" + s + "。") == ["+8613800138000"], "spelling #\(spellings.firstIndex(of: s)!)")
        }
        #expect(kinds("12800138000").isEmpty)  // 12x is no mobile prefix
    }

    @Test func phoneRangeIncludesThePlus() {
        let text = "tel +7 701 234 56 78."
        #expect(detector.scan(text).first?.range == 4..<20)
    }

    @Test func kazakhPhoneSpellings() {
        for s in ["+77012345678", "87012345678", "8 (701) 234-56-78", "+7-701-234-5678", "8 701 234 56 78"] {
            #expect(values("тел. " + s) == ["+77012345678"])
        }
    }

    // MARK: Passports

    @Test func passportsNeedContext() {
        #expect(values("паспорт N12345678") == ["N12345678"])
        #expect(values("Төлқұжат: N12345678") == ["N12345678"])
        #expect(values("passport no. G12345678") == ["G12345678"])
        #expect(values("код N12345678").isEmpty)
        #expect(values("passport XE12345678").isEmpty)  // letter glued to another letter
        #expect(values("passport E1234567").isEmpty)  // E + 7 digits needs a second letter
    }

    // MARK: E-mail and WeChat

    @Test func emailsGluedToChinese() {
        let text = "邮箱Zhang.San+test@Example.COM。"
        let findings = detector.scan(text)
        #expect(findings.map(\.value) == ["zhang.san+test@example.com"])
        #expect(findings.first?.range == text.byteOffset(of: "Zhang")..<(text.byteOffset(of: "Zhang") + 26))
    }

    @Test func emailWithDigitsIsOneFindingNotAPhone() {
        #expect(kinds("mail 13800138000@qq.com") == [.email])
    }

    @Test func notEmails() {
        #expect(kinds("a@b").isEmpty)
        #expect(kinds("@example.com").isEmpty)
        #expect(kinds("x@example.c0m").isEmpty)
    }

    @Test func wechatIDs() {
        #expect(values("微信：zhang_san88，") == ["zhang_san88"])
        #expect(values("微信号 wxid_abc123") == ["wxid_abc123"])
        #expect(values("WeChat ID: aizhan-2020") == ["aizhan-2020"])
        #expect(values("加我vx：nurlan_k1") == ["nurlan_k1"])
        #expect(values("V信 shepherd_99") == ["shepherd_99"])
        #expect(values("his WeChat account was deleted").isEmpty)
        #expect(values("微信 ab1").isEmpty)  // too short
    }

    // MARK: Dates of birth

    @Test func birthDateFormats() {
        #expect(values("родился 17 марта 1991 года") == ["1991-03-17"])
        #expect(values("Родилась 5.11.1978 г.") == ["1978-11-05"])
        #expect(values("1991 жылғы 17 наурызда туған") == ["1991-03-17"])
        #expect(values("туған күні: 17 наурыз 1991") == ["1991-03-17"])
        #expect(values("他1991年3月17日出生") == ["1991-03-17"])
        #expect(values("出生日期：１９９１年３月１７日") == ["1991-03-17"])
        #expect(values("born on March 17, 1991") == ["1991-03-17"])
        #expect(values("born 17 March 1991") == ["1991-03-17"])
        #expect(values("Date of birth: 1991-03-17") == ["1991-03-17"])
        #expect(values("DOB 1991/03/17") == ["1991-03-17"])
        #expect(values("تۇغۇلغان ۋاقتى 17.03.1991") == ["1991-03-17"])
        #expect(values("born 17 March 1891") == ["1891-03-17"])
    }

    @Test func eventDatesAreNotBirthDates() {
        #expect(kinds("арестован 17.03.2018").isEmpty)
        #expect(kinds("2018年5月1日被捕").isEmpty)
        #expect(kinds("detained on 17 March 2018").isEmpty)
        #expect(kinds("17.03.2018 қамауға алынды").isEmpty)
        #expect(kinds("17.03.1991").isEmpty)  // a date without context
        #expect(values("他1991年3月17日出生，2018年5月1日被捕") == ["1991-03-17"])
        #expect(values("born 17.03.1991, arrested 02.05.2018") == ["1991-03-17"])
        #expect(kinds("born 31.02.1991").isEmpty)  // no such day
    }

    // MARK: Mixed

    @Test func mixedMultilingualTranscript() {
        let id = "65010219800101139X"
        let text = """
            Куәгер: менің ағам, ЖСН 910317300400, 2018 жылы ұсталды.
            他的身份证号\(id)，手机13800138000。
            Телефон сестры +7 701 234 56 78, паспорт N48053599.
            The brother (born 17 March 1991) wrote to aizhan.k@example.org.
            """
        let findings = detector.scan(text)
        #expect(findings.map(\.kind) == [.kzIIN, .cnResidentID, .phone, .phone, .kzPassport, .dateOfBirth, .email])
        for finding in findings {
            // Every range starts and ends on a character boundary of the original text.
            let bytes = Array(text.utf8)
            #expect(String(validating: bytes[finding.range], as: UTF8.self) != nil)
        }
    }

    @Test func emptyAndTinyInputs() {
        #expect(detector.scan("").isEmpty)
        #expect(detector.scan([UInt8]()).isEmpty)
        #expect(detector.scan("1").isEmpty)
        #expect(detector.scan([0xEF]).isEmpty)
        #expect(detector.scan([0xEF, 0xBC]).isEmpty)
    }

    @Test func findingDescriptionHidesValue() {
        let finding = detector.scan("650102198001011234")[0]
        #expect(!finding.description.contains("650102"))
    }
}
