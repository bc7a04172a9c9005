import AmanatCrypto
import AmanatTestSupport
import Testing

@testable import AmanatRedaction

@Suite struct OperatorTests {
    let key = SecretBytesFixture.key

    @Test func pseudonymIsTheSameForEverySpelling() throws {
        let forms = ["650102198001011234", "650102800101123", "650102 19800101 1234", "６５０１０２１９８００１０１１２３４"]
        let pseudonyms = try Set(forms.map { try pseudonymize(kind: .cnResidentID, normalizedValue: $0, key: key) })
        #expect(pseudonyms.count == 1)
        let phones = ["+8613800138000", "13800138000", "+86 138-0013-8000", "0086 138 0013 8000"]
        #expect(try Set(phones.map { try pseudonymize(kind: .phone, normalizedValue: $0, key: key) }).count == 1)
        let kz = ["+77012345678", "8 (701) 234-56-78", "87012345678"]
        #expect(try Set(kz.map { try pseudonymize(kind: .phone, normalizedValue: $0, key: key) }).count == 1)
        let x = try pseudonymize(kind: .cnResidentID, normalizedValue: "65010219800101139x", key: key)
        #expect(x == (try pseudonymize(kind: .cnResidentID, normalizedValue: "65010219800101139X", key: key)))
    }

    @Test func pseudonymsCanNeverBeDetectedAsIdentifiers() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<300 {
            let id = Synthetic.chineseID(&rng)
            let pseudonym = try pseudonymize(kind: .cnResidentID, normalizedValue: id, key: key)
            #expect(pseudonym.hasPrefix("CNID-"))
            #expect(pseudonym.count == 29)
            #expect(!pseudonym.contains { $0.isNumber })
            #expect(Detector().scan("身份证 " + pseudonym).isEmpty)
            let phone = try pseudonymize(kind: .phone, normalizedValue: "+86" + Synthetic.chineseMobile(&rng), key: key)
            #expect(phone.hasPrefix("TEL-") && Detector().scan(phone).isEmpty)
        }
    }

    @Test func kindAndKeySeparatePseudonyms() throws {
        let a = try pseudonymize(kind: .kzIIN, normalizedValue: "910317300400", key: key)
        let other = SecretBytes(Array(repeating: 7, count: 32))
        #expect(a.hasPrefix("IIN-"))
        #expect(a != (try pseudonymize(kind: .kzIIN, normalizedValue: "910317300400", key: other)))
        #expect(
            a.dropFirst(4) != (try pseudonymize(kind: .phone, normalizedValue: "910317300400", key: key)).dropFirst(4))
    }

    @Test func pseudonymMatchesHMACDefinition() throws {
        let message = Array("kz_iin".utf8) + [0] + Array("910317300400".utf8)
        let mac = try HMACSHA256.authenticationCode(key: key, message: message)
        let alphabet = Array("BCDFGHJKLMNPQRST")
        let expected = "IIN-" + String(mac.prefix(12).flatMap { [alphabet[Int($0 >> 4)], alphabet[Int($0 & 15)]] })
        #expect(try pseudonymize(kind: .kzIIN, normalizedValue: "910317300400", key: key) == expected)
    }

    @Test func purposeKeysDiffer() throws {
        let master = SecretBytes(Array(repeating: 42, count: 32))
        let k1 = try pseudonymKey(master: master, purpose: "exchange", recipient: "partner-a", kind: .cnResidentID)
        let k2 = try pseudonymKey(master: master, purpose: "exchange", recipient: "partner-b", kind: .cnResidentID)
        let k3 = try pseudonymKey(master: master, purpose: "public", recipient: "partner-a", kind: .cnResidentID)
        let k4 = try pseudonymKey(master: master, purpose: "exchange", recipient: "partner-a", kind: .phone)
        let again = try pseudonymKey(master: master, purpose: "exchange", recipient: "partner-a", kind: .cnResidentID)
        #expect(k1.count == 32)
        #expect(k1 == again)
        #expect(k1 != k2 && k1 != k3 && k1 != k4)
        let info =
            Array("amanat/pseudonym/v1".utf8) + [0] + Array("exchange".utf8) + [0] + Array("partner-a".utf8) + [0]
            + Array("cn_resident_id".utf8)
        #expect(k1 == (try HKDF.deriveKey(inputKeyMaterial: master, salt: [], info: info, outputByteCount: 32)))
    }

    @Test func masks() {
        #expect(RedactionOperators.mask(kind: .cnResidentID, value: "65010219800101139X") == "65****************")
        #expect(RedactionOperators.mask("65010219800101139X", keepPrefix: 4, keepSuffix: 4) == "6501**********139X")
        #expect(RedactionOperators.mask(kind: .email, value: "a.b@example.org") == "***@example.org")
        #expect(RedactionOperators.mask(kind: .dateOfBirth, value: "1991-03-17") == "1991******")
        #expect(RedactionOperators.mask(kind: .kzIIN, value: "910317300400") == "************")
        #expect(RedactionOperators.mask("abc", keepPrefix: 2, keepSuffix: 2) == "***")
    }

    @Test func generalizations() {
        #expect(RedactionOperators.generalize(kind: .dateOfBirth, value: "1991-03-17") == "1991")
        #expect(RedactionOperators.generalize(kind: .dateOfBirth, value: "1991-03-17", level: .coarse) == "1990s")
        #expect(RedactionOperators.generalize(kind: .cnResidentID, value: "65010219800101139X") == "Xinjiang")
        #expect(RedactionOperators.generalize(kind: .cnResidentID, value: "650102800101123") == "Xinjiang")
        #expect(RedactionOperators.generalize(kind: .kzIIN, value: "910317300400") == "1991")
        #expect(RedactionOperators.generalize(kind: .phone, value: "+7 (701) 234-56-78") == "+7 701")
        #expect(RedactionOperators.generalize(kind: .phone, value: "13800138000", level: .coarse) == "+86")
        #expect(RedactionOperators.generalize(kind: .email, value: "a@example.org") == nil)
    }

    @Test func helpers() {
        #expect(ChineseResidentID.convert15to18("650102800101123") == "650102198001011234")
        #expect(ChineseResidentID.convert15to18("65010280010112") == nil)
        #expect(ChineseResidentID.normalize("６５０１０２-19800101-139ｘ") == "65010219800101139X")
        #expect(ChineseResidentID.isValid("11010519491231002X"))
        #expect(ChineseResidentID.isValid("11010519491231002x"))
        #expect(!ChineseResidentID.isValid("11010519491231002"))
        #expect(!ChineseResidentID.isValid("110105194912310021"))
        #expect(PhoneNumber.e164("+7 (912) 345-67-89") == nil)
        #expect(PhoneNumber.e164("8 701 234 56 78") == "+77012345678")
        #expect(KazakhIIN.birthDate("910317300400")! == (1991, 3, 17))
    }
}
