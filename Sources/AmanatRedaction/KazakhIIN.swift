/// Kazakhstan individual identification numbers (ЖСН / ИИН) and business identification numbers (БИН).
public enum KazakhIIN {
    static let firstWeights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    static let secondWeights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]

    /// The check digit for 11 digit values (0–9), or nil when the number can never be issued (both weight
    /// sets give 10).
    static func checkDigit(_ digit: (Int) -> Int) -> Int? {
        var sum = 0
        for k in 0..<11 { sum += digit(k) * firstWeights[k] }
        var check = sum % 11
        if check == 10 {
            sum = 0
            for k in 0..<11 { sum += digit(k) * secondWeights[k] }
            check = sum % 11
            if check == 10 { return nil }
        }
        return check
    }

    /// Whether `value` is a valid IIN: 12 ASCII digits, a real birth date YYMMDD with the century-and-sex digit
    /// 1–6 (1–2: 1800s, 3–4: 1900s, 5–6: 2000s), and a matching check digit. A BIN is never a valid IIN.
    public static func isValid(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 12 else { return false }
        return bytes.withUnsafeBufferPointer { isValid12($0.baseAddress!) }
    }

    /// Whether `value` is shaped like a BIN: 12 digits, YYMM with a real month, 40–63 in the 5th–6th positions
    /// (where an IIN has the day), and the same check digit as an IIN.
    public static func isBIN(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 12 else { return false }
        return bytes.withUnsafeBufferPointer { isBIN12($0.baseAddress!) }
    }

    static func checksumMatches(_ p: UnsafePointer<UInt8>) -> Bool {
        for k in 0..<12 where !Normalization.isDigit(p[k]) { return false }
        guard let check = checkDigit({ Int(p[$0] &- 0x30) }) else { return false }
        return check == Int(p[11] &- 0x30)
    }

    static func isValid12(_ p: UnsafePointer<UInt8>) -> Bool {
        guard checksumMatches(p) else { return false }
        return datePartIsValid(p)
    }

    static func datePartIsValid(_ p: UnsafePointer<UInt8>) -> Bool {
        let centuryDigit = Int(p[6] &- 0x30)
        let century: Int
        switch centuryDigit {
        case 1, 2: century = 1800
        case 3, 4: century = 1900
        case 5, 6: century = 2000
        default: return false
        }
        let year = century + ChineseResidentID.number(p, 0, 2)
        return DateValidation.isReal(
            year: year, month: ChineseResidentID.number(p, 2, 2), day: ChineseResidentID.number(p, 4, 2))
    }

    static func isBIN12(_ p: UnsafePointer<UInt8>) -> Bool {
        guard checksumMatches(p) else { return false }
        let month = ChineseResidentID.number(p, 2, 2)
        let type = ChineseResidentID.number(p, 4, 2)
        return month >= 1 && month <= 12 && type >= 40 && type <= 63
    }

    /// The birth date an IIN encodes, as (year, month, day), or nil when `value` is not 12 digits.
    public static func birthDate(_ value: String) -> (year: Int, month: Int, day: Int)? {
        let bytes = Array(value.utf8)
        guard bytes.count == 12, bytes.allSatisfy(Normalization.isDigit) else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> (Int, Int, Int)? in
            let p = buffer.baseAddress!
            guard datePartIsValid(p) else { return nil }
            let century: Int = [0, 1800, 1800, 1900, 1900, 2000, 2000][Int(p[6] &- 0x30)]
            return (
                century + ChineseResidentID.number(p, 0, 2), ChineseResidentID.number(p, 2, 2),
                ChineseResidentID.number(p, 4, 2)
            )
        }
    }
}
