import AmanatCrypto
import AmanatTestSupport

@testable import AmanatRedaction

enum SecretBytesFixture {
    /// A fixed test key (not a real secret).
    static let key = SecretBytes(Array(0..<32).map { UInt8($0) })
}

/// Synthetic identifiers with valid checks, built from invented parts.
enum Synthetic {
    static let provinces = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
        51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
    ]

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func daysIn(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return DateValidation.isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func date(_ rng: inout SplitMix64, years: ClosedRange<Int>) -> (Int, Int, Int) {
        let year = Int.random(in: years, using: &rng)
        let month = Int.random(in: 1...12, using: &rng)
        return (year, month, Int.random(in: 1...daysIn(year, month), using: &rng))
    }

    static func cn18(_ d17: String) -> String {
        d17 + String(UnicodeScalar(ChineseResidentID.checkCharacter(forDigits: Array(d17.utf8))))
    }

    static func chineseID(_ rng: inout SplitMix64) -> String {
        let (y, m, d) = date(&rng, years: 1850...2015)
        let area = pad(provinces.randomElement(using: &rng)!, 2) + pad(Int.random(in: 0...9999, using: &rng), 4)
        return cn18(area + pad(y, 4) + pad(m, 2) + pad(d, 2) + pad(Int.random(in: 0...999, using: &rng), 3))
    }

    static func legacyChineseID(_ rng: inout SplitMix64) -> (String, String) {
        let (y, m, d) = date(&rng, years: 1900...1999)
        let area = pad(provinces.randomElement(using: &rng)!, 2) + pad(Int.random(in: 0...9999, using: &rng), 4)
        let d15 = area + pad(y % 100, 2) + pad(m, 2) + pad(d, 2) + pad(Int.random(in: 0...999, using: &rng), 3)
        return (d15, ChineseResidentID.convert15to18(d15)!)
    }

    static func iin(_ d11: String) -> String? {
        let digits = Array(d11.utf8).map { Int($0 - 0x30) }
        guard let check = KazakhIIN.checkDigit({ digits[$0] }) else { return nil }
        return d11 + String(check)
    }

    static func kazakhIIN(_ rng: inout SplitMix64) -> String {
        while true {
            let (y, m, d) = date(&rng, years: 1850...2020)
            let century = [18: 1, 19: 3, 20: 5][y / 100]! + Int.random(in: 0...1, using: &rng)
            let d11 =
                pad(y % 100, 2) + pad(m, 2) + pad(d, 2) + String(century)
                + pad(Int.random(in: 0...9999, using: &rng), 4)
            if let value = iin(d11) { return value }
        }
    }

    static func bin(_ rng: inout SplitMix64) -> String {
        while true {
            let d11 =
                pad(Int.random(in: 0...99, using: &rng), 2) + pad(Int.random(in: 1...12, using: &rng), 2)
                + String(Int.random(in: 4...6, using: &rng)) + String(Int.random(in: 0...3, using: &rng))
                + pad(Int.random(in: 0...99999, using: &rng), 5)
            if let value = iin(d11) { return value }
        }
    }

    static func chineseMobile(_ rng: inout SplitMix64) -> String {
        "1" + String(Int.random(in: 3...9, using: &rng)) + pad(Int.random(in: 0...999_999_999, using: &rng), 9)
    }

    static func kazakhNumber(_ rng: inout SplitMix64) -> String {
        "7" + pad(Int.random(in: 0...999_999_999, using: &rng), 9)
    }

    static func mapDigits(_ s: String, base: UInt32) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { c in
                    if c.value >= 0x30 && c.value <= 0x39 { return UnicodeScalar(base + c.value - 0x30)! }
                    return c
                }))
    }

    static func fullWidth(_ s: String) -> String { mapDigits(s, base: 0xFF10).replacingOccurrences(of: "X", with: "Ｘ") }
    static func arabicIndic(_ s: String) -> String { mapDigits(s, base: 0x0660) }
    static func extendedArabicIndic(_ s: String) -> String { mapDigits(s, base: 0x06F0) }
}

extension String {
    /// The UTF-8 offset of the first occurrence of `needle`.
    func byteOffset(of needle: String) -> Int {
        let range = self.range(of: needle)!
        return utf8.distance(from: utf8.startIndex, to: range.lowerBound)
    }

    var byteCount: Int { utf8.count }
}
