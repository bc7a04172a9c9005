/// Lower-case hexadecimal, as test vectors and digests are written.
public enum Hex {
    /// The bytes a hex string spells; whitespace is ignored. Traps on an odd count or a bad digit, so a typo in a
    /// vector fails loudly instead of testing something else.
    public static func decode(_ text: String) -> [UInt8] {
        let digits = Array(text.unicodeScalars.filter { !$0.properties.isWhitespace })
        precondition(digits.count % 2 == 0, "odd number of hex digits")
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else {
                preconditionFailure("bad hex digit in \(digits[index])\(digits[index + 1])")
            }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// `bytes` as lower-case hex, two digits per byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = ""
        for byte in bytes {
            out.unicodeScalars.append(alphabet[Int(byte >> 4)])
            out.unicodeScalars.append(alphabet[Int(byte & 0x0F)])
        }
        return out
    }

    private static let alphabet = Array("0123456789abcdef".unicodeScalars)

    private static func value(_ digit: Unicode.Scalar) -> UInt8? {
        switch digit.value {
        case 0x30...0x39: return UInt8(digit.value - 0x30)
        case 0x41...0x46: return UInt8(digit.value - 0x41 + 10)
        case 0x61...0x66: return UInt8(digit.value - 0x61 + 10)
        default: return nil
        }
    }
}
