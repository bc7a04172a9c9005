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
        precondition(table.count == 256, "a base64 decoding table has 256 entries")
        let n = input.count
        if n == 0 { return [] }
        if n % 4 == 1 { return nil }
        let capacity = decodedCount(n)
        var ok = true
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            ok = decode(input, table: table, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = ok ? capacity : 0
        }
        return ok ? out : nil
    }

    /// The number of bytes `count` unpadded base64 characters decode to (`count % 4` must not be 1).
    static func decodedCount(_ count: Int) -> Int { count / 4 * 3 + max(0, count % 4 - 1) }

    /// Decodes unpadded base64 into `out`, which must hold exactly the decoded size; false if not canonical.
    static func decode(
        _ input: UnsafeBufferPointer<UInt8>, table: [UInt8], into out: UnsafeMutableRawBufferPointer
    )
        -> Bool
    {
        let n = input.count
        precondition(table.count == 256, "a base64 decoding table has 256 entries")
        guard n > 0, n % 4 != 1, out.count == decodedCount(n), let src = input.baseAddress, let raw = out.baseAddress
        else {
            return n == 0 && out.count == 0
        }
        let dst = raw.assumingMemoryBound(to: UInt8.self)
        return table.withUnsafeBufferPointer { t -> Bool in
            let t = t.baseAddress!
            var i = 0
            var o = 0
            var bad: UInt8 = 0
            while i + 4 <= n {
                let a = t[Int(src[i])], b = t[Int(src[i + 1])], c = t[Int(src[i + 2])], d = t[Int(src[i + 3])]
                bad |= a | b | c | d
                let v = UInt32(a & 0x3F) << 18 | UInt32(b & 0x3F) << 12 | UInt32(c & 0x3F) << 6 | UInt32(d & 0x3F)
                dst[o] = UInt8(truncatingIfNeeded: v >> 16)
                dst[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                dst[o + 2] = UInt8(truncatingIfNeeded: v)
                i += 4
                o += 3
            }
            guard bad & 0xC0 == 0 else { return false }
            let rest = n - i
            if rest == 2 {
                let a = t[Int(src[i])], b = t[Int(src[i + 1])]
                guard (a | b) & 0xC0 == 0, b & 0x0F == 0 else { return false }
                dst[o] = a << 2 | b >> 4
            } else if rest == 3 {
                let a = t[Int(src[i])], b = t[Int(src[i + 1])], c = t[Int(src[i + 2])]
                guard (a | b | c) & 0xC0 == 0, c & 0x03 == 0 else { return false }
                dst[o] = a << 2 | b >> 4
                dst[o + 1] = (b & 0x0F) << 4 | c >> 2
            }
            return true
        }
    }

    /// Decodes the UTF-8 of unpadded base64 `text` into `out` (replacing its contents, reusing its capacity);
    /// false if the text is not canonical base64, leaving `out` empty.
    public static func decode(utf8Of text: String, urlSafe: Bool, into out: inout [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            guard utf8.count % 4 != 1 else {
                out.removeAll(keepingCapacity: true)
                return false
            }
            let count = decodedCount(utf8.count)
            if out.count < count {
                out.append(contentsOf: repeatElement(0, count: count - out.count))
            } else if out.count > count {
                out.removeLast(out.count - count)
            }
            let ok = out.withUnsafeMutableBytes { decode(utf8, table: urlSafe ? urlTable : standardTable, into: $0) }
            if !ok { out.removeAll(keepingCapacity: true) }
            return ok
        }
    }

    /// Decodes a 43-character base64url SHA-256 digest (canonical only); nil for anything else.
    public static func decodeDigest(_ text: String) -> SHA256Digest? {
        var text = text
        return text.withUTF8 { utf8 -> SHA256Digest? in
            guard utf8.count == 43 else { return nil }
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            let ok = withUnsafeMutableBytes(of: &words) { decode(utf8, table: urlTable, into: $0) }
            return ok ? withUnsafeBytes(of: words) { SHA256Digest(bytes: $0) } : nil
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
