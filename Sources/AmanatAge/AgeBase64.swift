/// Standard-alphabet base64 (RFC 4648 §4) as age uses it: unpadded and canonical in the header, padded in the
/// ASCII armor. Decoding is strict: characters outside the alphabet and non-zero trailing bits are refused.
enum AgeBase64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0…63 for alphabet characters, 0xFF otherwise.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func isAlphabet(_ c: UInt8) -> Bool { values[Int(c)] != 0xFF }

    /// The number of characters `count` bytes encode to.
    static func encodedCount(_ count: Int, padded: Bool) -> Int {
        padded ? (count + 2) / 3 * 4 : (count * 4 + 2) / 3
    }

    /// Encodes `input` into `output` (which must hold ``encodedCount(_:padded:)`` bytes); returns the count written.
    @discardableResult
    static func encode(_ input: UnsafeRawBufferPointer, padded: Bool, into output: UnsafeMutableRawBufferPointer) -> Int
    {
        alphabet.withUnsafeBufferPointer { a in
            var o = 0
            var i = 0
            let n = input.count
            while i + 3 <= n {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                output[o] = a[Int(v >> 18)]
                output[o + 1] = a[Int((v >> 12) & 63)]
                output[o + 2] = a[Int((v >> 6) & 63)]
                output[o + 3] = a[Int(v & 63)]
                i += 3
                o += 4
            }
            let rest = n - i
            if rest == 1 {
                let v = UInt32(input[i]) << 16
                output[o] = a[Int(v >> 18)]
                output[o + 1] = a[Int((v >> 12) & 63)]
                o += 2
                if padded {
                    output[o] = UInt8(ascii: "=")
                    output[o + 1] = UInt8(ascii: "=")
                    o += 2
                }
            } else if rest == 2 {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                output[o] = a[Int(v >> 18)]
                output[o + 1] = a[Int((v >> 12) & 63)]
                output[o + 2] = a[Int((v >> 6) & 63)]
                o += 3
                if padded {
                    output[o] = UInt8(ascii: "=")
                    o += 1
                }
            }
            return o
        }
    }

    /// Unpadded encoding as a string (header arguments and bodies).
    static func encodeUnpadded(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: encodedCount(bytes.count, padded: false))
        bytes.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in _ = encode(i, padded: false, into: o) } }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes canonical unpadded base64 (header arguments, bodies, MAC); nil if anything is off.
    static func decodeUnpadded(_ text: some Collection<UInt8>) -> [UInt8]? {
        let chars = Array(text)
        if chars.count % 4 == 1 { return nil }
        var out = [UInt8](repeating: 0, count: chars.count * 3 / 4)
        let ok = chars.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in decodeUnpadded(i, into: o) == o.count }
        }
        return ok ? out : nil
    }

    /// Decodes unpadded canonical base64 from `input` into `output` (room for `input.count * 3 / 4` bytes).
    /// Returns the decoded count, or nil for a bad character, an impossible length or non-zero trailing bits.
    static func decodeUnpadded(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        values.withUnsafeBufferPointer { t in
            let n = input.count
            if n % 4 == 1 { return nil }
            var i = 0
            var o = 0
            while i + 4 <= n {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
                if (a | b | c | d) & 0xC0 != 0 { return nil }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[o] = UInt8(truncatingIfNeeded: v >> 16)
                output[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                output[o + 2] = UInt8(truncatingIfNeeded: v)
                i += 4
                o += 3
            }
            let rest = n - i
            if rest == 2 {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { return nil }
                output[o] = a << 2 | b >> 4
                o += 1
            } else if rest == 3 {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])]
                if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return nil }
                output[o] = a << 2 | b >> 4
                output[o + 1] = (b & 0x0F) << 4 | c >> 2
                o += 2
            }
            return o
        }
    }

    /// Decodes one armor line of padded base64 (a multiple of 4 characters; `=` allowed only as the final one or
    /// two characters, with zero trailing bits). Returns the decoded count and whether the line was padded.
    static func decodePadded(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> (count: Int, padded: Bool)? {
        let n = input.count
        guard n % 4 == 0 else { return nil }
        if n == 0 { return (0, false) }
        var padding = 0
        if input[n - 1] == UInt8(ascii: "=") {
            padding = input[n - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        let body = UnsafeRawBufferPointer(rebasing: input[0..<(n - padding)])
        guard let count = decodeUnpadded(body, into: output) else { return nil }
        return (count, padding > 0)
    }
}
