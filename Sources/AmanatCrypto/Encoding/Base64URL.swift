import Foundation

/// base64url without padding (RFC 4648 §5), strict: padding, whitespace, non-alphabet characters and non-zero
/// trailing bits are refused, so every byte string has exactly one encoding.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encode(bytes, alphabet: Base64.urlAlphabet)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        Base64.decodeCanonical(text, urlSafe: true)
    }
}

/// Strict base64 decoding shared by the base64url and standard alphabets.
public enum Base64 {
    /// Decodes unpadded base64 (standard alphabet if `urlSafe` is false), refusing non-canonical encodings.
    public static func decodeCanonical(_ text: some StringProtocol, urlSafe: Bool) -> [UInt8]? {
        var utf8 = text.utf8
        if let result = utf8.withContiguousStorageIfAvailable({ decode($0, table: urlSafe ? urlTable : standardTable) })
        {
            return result
        }
        let copy = Array(utf8)
        utf8 = text.utf8
        return copy.withUnsafeBufferPointer { decode($0, table: urlSafe ? urlTable : standardTable) }
    }

    /// 0xFF marks a byte outside the alphabet.
    public static let standardTable: [UInt8] = table(standardAlphabet)
    public static let urlTable: [UInt8] = table(urlAlphabet)

    static func table(_ alphabet: [UInt8]) -> [UInt8] {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }

    /// Decodes unpadded base64 bytes with a table from ``urlTable`` or ``standardTable``; nil if not canonical.
    public static func decode(_ input: UnsafeBufferPointer<UInt8>, table: [UInt8]) -> [UInt8]? {
        let n = input.count
        if n % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(n * 3 / 4)
        return table.withUnsafeBufferPointer { t -> [UInt8]? in
            var i = 0
            while i + 4 <= n {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
                guard (a | b | c | d) & 0xC0 == 0 else { return nil }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                out.append(UInt8(v >> 16))
                out.append(UInt8((v >> 8) & 0xFF))
                out.append(UInt8(v & 0xFF))
                i += 4
            }
            let rest = n - i
            if rest == 2 {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                guard (a | b) & 0xC0 == 0, b & 0x0F == 0 else { return nil }
                out.append(a << 2 | b >> 4)
            } else if rest == 3 {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])]
                guard (a | b | c) & 0xC0 == 0, c & 0x03 == 0 else { return nil }
                out.append(a << 2 | b >> 4)
                out.append((b & 0x0F) << 4 | c >> 2)
            }
            return out
        }
    }

    /// Standard-alphabet base64 without padding.
    public static func encodeUnpadded(_ bytes: some Collection<UInt8>) -> String {
        encode(bytes, alphabet: standardAlphabet)
    }

    static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Unpadded base64 in the given 64-character alphabet.
    static func encode(_ bytes: some Collection<UInt8>, alphabet: [UInt8]) -> String {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int((n >> 12) & 63)])
            out.append(alphabet[Int((n >> 6) & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int((n >> 12) & 63)])
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int((n >> 12) & 63)])
            out.append(alphabet[Int((n >> 6) & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
