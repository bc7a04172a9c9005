/// The one JSON string escaper (RFC 8259 §7) used everywhere Amanat writes JSON: `"`, `\` and the control
/// characters are escaped (`\n \r \t \b \f`, else `\u00XX`); every other byte is copied, so UTF-8 stays UTF-8 and
/// `/` is not escaped. The state hash depends on this exact output.
public enum JSONEscaping {
    /// The escape sequence of each byte below 0x5D that needs one (nil: copied as it is).
    static let sequences: [[UInt8]?] = (0..<0x5D).map { (byte: Int) -> [UInt8]? in
        switch byte {
        case 0x22: return Array("\\\"".utf8)
        case 0x5C: return Array("\\\\".utf8)
        case 0x0A: return Array("\\n".utf8)
        case 0x0D: return Array("\\r".utf8)
        case 0x09: return Array("\\t".utf8)
        case 0x08: return Array("\\b".utf8)
        case 0x0C: return Array("\\f".utf8)
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            return Array("\\u00".utf8) + [hex[byte >> 4], hex[byte & 15]]
        default: return nil
        }
    }

    /// Whether `byte` needs an escape.
    @inline(__always)
    public static func needsEscape(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C }

    /// The longest escape sequence of one byte.
    public static let maximumSequenceLength = 6

    /// Walks `bytes` in order: `run` gets each stretch to copy as it is, `escaped` each escape sequence.
    @inline(__always)
    public static func forEachPiece(
        in bytes: UnsafeBufferPointer<UInt8>, run: (UnsafeBufferPointer<UInt8>) -> Void,
        escaped: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        var start = 0
        for i in 0..<bytes.count where needsEscape(bytes[i]) {
            if i > start { run(UnsafeBufferPointer(rebasing: bytes[start..<i])) }
            sequences[Int(bytes[i])]!.withUnsafeBufferPointer(escaped)
            start = i + 1
        }
        if bytes.count > start { run(UnsafeBufferPointer(rebasing: bytes[start..<bytes.count])) }
    }

    /// Appends `s` as a quoted JSON string.
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            forEachPiece(in: bytes, run: { out.append(contentsOf: $0) }, escaped: { out.append(contentsOf: $0) })
        }
        out.append(0x22)
    }

    /// Appends `s` as a quoted JSON string. Every byte that needs an escape is ASCII, so runs end on character
    /// boundaries.
    public static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        if !s.utf8.contains(where: needsEscape) {
            out += s
        } else {
            var s = s
            s.withUTF8 { bytes in
                forEachPiece(
                    in: bytes, run: { out += String(decoding: $0, as: UTF8.self) },
                    escaped: { out += String(decoding: $0, as: UTF8.self) })
            }
        }
        out += "\""
    }
}
