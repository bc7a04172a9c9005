/// Chinese mobile and Kazakh phone numbers in E.164 form.
public enum PhoneNumber {
    /// Normalizes any spelling of a Chinese mobile or Kazakh number to E.164 (`+8613800138000`,
    /// `+77012345678`): folds digits, drops spaces, dashes, dots, slashes, parentheses, line breaks and ignorable
    /// code points (see ``Normalization``), and accepts the prefixes `+86`, `0086`, `86`, `+7`, `007`, `8` and `7`.
    /// Returns nil for anything else, including Russian numbers (`+7 9xx`) and other countries.
    public static func e164(_ text: String) -> String? {
        let folded = Normalization.fold(Array(text.utf8)).characters
        var digits: [UInt8] = []
        var plus = false
        for c in folded {
            if Normalization.isDigit(c) {
                digits.append(c)
            } else if c == 0x2B && digits.isEmpty && !plus {
                plus = true
            } else if Normalization.isSeparator(c) || c == 0x28 || c == 0x29 || c == Normalization.ignorable {
                continue
            } else {
                return nil
            }
        }
        return digits.withUnsafeBufferPointer { e164(digits: $0.baseAddress!, count: $0.count, plus: plus) }
    }

    /// E.164 for `count` ASCII digits at `p` (written with a leading `+` when `plus`), or nil.
    static func e164(digits p: UnsafePointer<UInt8>, count: Int, plus: Bool) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 3) { out in
            let length = e164(digits: p, count: count, plus: plus, into: out.baseAddress!)
            return length == 0 ? nil : String(decoding: UnsafeBufferPointer(rebasing: out[..<length]), as: UTF8.self)
        }
    }

    /// Writes the E.164 form of `count` ASCII digits at `p` (at most `count + 3` bytes) to `out`; returns its
    /// length, 0 when the digits are not a Chinese mobile or Kazakh number.
    static func e164(
        digits p: UnsafePointer<UInt8>, count: Int, plus: Bool, into out: UnsafeMutablePointer<UInt8>
    )
        -> Int
    {
        func isCNMobile(_ offset: Int) -> Bool { p[offset] == 0x31 && p[offset + 1] >= 0x33 && p[offset + 1] <= 0x39 }
        func isKZ(_ offset: Int) -> Bool { p[offset] == 0x37 }
        func render(_ china: Bool, _ offset: Int) -> Int {
            out[0] = 0x2B
            var length = 1
            if china {
                out[1] = 0x38
                out[2] = 0x36
                length = 3
            } else {
                out[1] = 0x37
                length = 2
            }
            (out + length).update(from: p + offset, count: count - offset)
            return length + count - offset
        }
        if plus {
            if count == 13 && p[0] == 0x38 && p[1] == 0x36 && isCNMobile(2) { return render(true, 2) }
            if count == 11 && p[0] == 0x37 && isKZ(1) { return render(false, 1) }
            return 0
        }
        switch count {
        case 11:
            if isCNMobile(0) { return render(true, 0) }
            if (p[0] == 0x38 || p[0] == 0x37) && isKZ(1) { return render(false, 1) }
        case 13:
            if p[0] == 0x38 && p[1] == 0x36 && isCNMobile(2) { return render(true, 2) }
            if p[0] == 0x30 && p[1] == 0x30 && p[2] == 0x37 && isKZ(3) { return render(false, 3) }
        case 15:
            if p[0] == 0x30 && p[1] == 0x30 && p[2] == 0x38 && p[3] == 0x36 && isCNMobile(4) { return render(true, 4) }
        default: break
        }
        return 0
    }
}
