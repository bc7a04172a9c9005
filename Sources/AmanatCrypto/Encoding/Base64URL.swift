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
        let utf8 = Array(text.utf8)
        if utf8.count % 4 == 1 { return nil }
        var values: [UInt8] = []
        values.reserveCapacity(utf8.count)
        for c in utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-") where urlSafe, UInt8(ascii: "+") where !urlSafe: v = 62
            case UInt8(ascii: "_") where urlSafe, UInt8(ascii: "/") where !urlSafe: v = 63
            default: return nil
            }
            values.append(v)
        }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i + 4 <= values.count {
            let n =
                UInt32(values[i]) << 18 | UInt32(values[i + 1]) << 12 | UInt32(values[i + 2]) << 6
                | UInt32(values[i + 3])
            out.append(UInt8(n >> 16))
            out.append(UInt8((n >> 8) & 0xFF))
            out.append(UInt8(n & 0xFF))
            i += 4
        }
        let rest = values.count - i
        if rest == 2 {
            guard values[i + 1] & 0x0F == 0 else { return nil }
            out.append(values[i] << 2 | values[i + 1] >> 4)
        } else if rest == 3 {
            guard values[i + 2] & 0x03 == 0 else { return nil }
            out.append(values[i] << 2 | values[i + 1] >> 4)
            out.append((values[i + 1] & 0x0F) << 4 | values[i + 2] >> 2)
        }
        return out
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
