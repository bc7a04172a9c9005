/// Chinese resident identity card numbers (GB 11643-1999): structure checks, legacy conversion, normalization.
public enum ChineseResidentID {
    static let weights: [Int] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [UInt8] = Array("10X98765432".utf8)

    /// Whether the first two digits name a province-level division (11–15, 21–23, 31–37, 41–46, 50–54, 61–65,
    /// 71, 81–83) or start with 9 (the 2023 permanent-resident card for foreigners).
    public static func isValidProvince(_ code: Int) -> Bool {
        switch code {
        case 11...15, 21...23, 31...37, 41...46, 50...54, 61...65, 71, 81...83, 90...99: return true
        default: return false
        }
    }

    /// The check character (`0`–`9` or `X`) for 17 ASCII digits.
    static func checkCharacter<C: Collection<UInt8>>(forDigits digits: C) -> UInt8 {
        var sum = 0
        for (index, digit) in digits.prefix(17).enumerated() { sum += Int(digit &- 0x30) * weights[index] }
        return checkCharacters[sum % 11]
    }

    /// The check character for the 17 ASCII digits at `p` (the same as ``checkCharacter(forDigits:)``).
    @inline(__always)
    static func checkCharacter(_ p: UnsafePointer<UInt8>) -> UInt8 {
        // The weight of digit k is 2^(17-k) mod 11: from the last digit back, 2, 4, 8, 5, 10, …
        var sum = 0
        var weight = 2
        var k = 16
        while k >= 0 {
            sum += Int(p[k] &- 0x30) * weight
            weight = weight * 2 % 11
            k -= 1
        }
        let check = (12 - sum % 11) % 11
        return check == 10 ? 0x58 : UInt8(0x30 + check)
    }

    /// Whether `value` is a valid 18-character number: 17 ASCII digits and a check character (`X` upper or lower
    /// case), a province code, a real birth date from 1800 on, and a matching check character.
    public static func isValid(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 18 else { return false }
        return bytes.withUnsafeBufferPointer {
            isValid18(UnsafeRawBufferPointer($0).baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Validates 18 characters (17 ASCII digits + digit or `X`) at `p`.
    static func isValid18(_ p: UnsafePointer<UInt8>) -> Bool {
        for k in 0..<17 where !Normalization.isDigit(p[k]) { return false }
        let last = p[17] == 0x78 ? 0x58 : p[17]
        guard Normalization.isDigit(last) || last == 0x58 else { return false }
        guard structureIsValid18(p) else { return false }
        return checkCharacter(p) == last
    }

    static func structureIsValid18(_ p: UnsafePointer<UInt8>) -> Bool {
        guard isValidProvince(number(p, 0, 2)) else { return false }
        let year = number(p, 6, 4)
        return year >= 1800 && year <= 2099
            && DateValidation.isReal(year: year, month: number(p, 10, 2), day: number(p, 12, 2))
    }

    /// Validates a legacy 15-digit number at `p`: province code and a real 19YY birth date.
    static func isValid15(_ p: UnsafePointer<UInt8>) -> Bool {
        for k in 0..<15 where !Normalization.isDigit(p[k]) { return false }
        guard isValidProvince(number(p, 0, 2)) else { return false }
        return DateValidation.isReal(year: 1900 + number(p, 6, 2), month: number(p, 8, 2), day: number(p, 10, 2))
    }

    /// Converts a legacy 15-digit number to its 18-character form: `19` inserted after the area code and the
    /// check character computed. Returns nil when `value` is not 15 ASCII digits.
    public static func convert15to18(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.count == 15, bytes.allSatisfy(Normalization.isDigit) else { return nil }
        return String(decoding: convert15to18Bytes(bytes), as: UTF8.self)
    }

    static func convert15to18Bytes(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(bytes[0..<6]) + [0x31, 0x39] + Array(bytes[6..<15])
        out.append(checkCharacter(forDigits: out))
        return out
    }

    /// Writes the 18-character form of the 15 ASCII digits at `p` to `out` (18 bytes).
    static func convert15to18(_ p: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        out.update(from: p, count: 6)
        out[6] = 0x31
        out[7] = 0x39
        (out + 8).update(from: p + 6, count: 9)
        out[17] = checkCharacter(out)
    }

    /// Normalizes any spelling of a Chinese resident ID: folds digits of every script and `X` variants, drops
    /// separators (spaces, dashes, dots, slashes, line breaks) and ignorable code points (see ``Normalization``),
    /// converts a 15-digit number to 18 characters.
    /// Returns nil unless 18 characters (17 digits + digit/`X`) or 15 digits remain. No check is applied:
    /// a suspect number normalizes too.
    public static func normalize(_ value: String) -> String? {
        let folded = Normalization.fold(Array(value.utf8)).characters
        var out: [UInt8] = []
        for c in folded {
            if Normalization.isDigit(c) || c == 0x58 {
                out.append(c)
            } else if Normalization.isSeparator(c) || c == Normalization.ignorable {
                continue
            } else {
                return nil
            }
        }
        if out.count == 15 && out.allSatisfy(Normalization.isDigit) {
            return String(decoding: convert15to18Bytes(out), as: UTF8.self)
        }
        guard out.count == 18, out[0..<17].allSatisfy(Normalization.isDigit) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// Province-level division names by the first two digits of the area code.
    public static let provinceNames: [Int: String] = [
        11: "Beijing", 12: "Tianjin", 13: "Hebei", 14: "Shanxi", 15: "Inner Mongolia",
        21: "Liaoning", 22: "Jilin", 23: "Heilongjiang",
        31: "Shanghai", 32: "Jiangsu", 33: "Zhejiang", 34: "Anhui", 35: "Fujian", 36: "Jiangxi", 37: "Shandong",
        41: "Henan", 42: "Hubei", 43: "Hunan", 44: "Guangdong", 45: "Guangxi", 46: "Hainan",
        50: "Chongqing", 51: "Sichuan", 52: "Guizhou", 53: "Yunnan", 54: "Tibet",
        61: "Shaanxi", 62: "Gansu", 63: "Qinghai", 64: "Ningxia", 65: "Xinjiang",
        71: "Taiwan", 81: "Hong Kong", 82: "Macau", 83: "Taiwan (resident permit)",
    ]

    @inline(__always)
    static func number(_ p: UnsafePointer<UInt8>, _ offset: Int, _ count: Int) -> Int {
        var value = 0
        for k in 0..<count { value = value * 10 + Int(p[offset + k] &- 0x30) }
        return value
    }
}

/// Calendar checks shared by the detectors.
enum DateValidation {
    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func isReal(year: Int, month: Int, day: Int) -> Bool {
        guard month >= 1 && month <= 12 && day >= 1 else { return false }
        switch month {
        case 2: return day <= (isLeap(year) ? 29 : 28)
        case 4, 6, 9, 11: return day <= 30
        default: return day <= 31
        }
    }
}
