import Foundation

/// PEM armor (RFC 7468, strict form): `-----BEGIN LABEL-----`, base64 in lines of 64, `-----END LABEL-----`.
public enum PEM {
    /// Wraps `der` in PEM armor with `label`.
    public static func encode(label: String, der: [UInt8]) -> String {
        let b64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var index = b64.startIndex
        while index < b64.endIndex {
            let end = b64.index(index, offsetBy: 64, limitedBy: b64.endIndex) ?? b64.endIndex
            lines.append(String(b64[index..<end]))
            index = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Finds the first PEM block in `text` and returns its label and DER bytes.
    /// - Throws: ``CryptoError/malformed(what:reason:)`` if there is no block, the labels differ or the base64 is bad.
    public static func decode(_ text: String) throws -> (label: String, der: [UInt8]) {
        let lines = text.split(
            omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        )
        .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) else {
            throw CryptoError.malformed(what: "PEM file", reason: "no -----BEGIN line")
        }
        let label = String(lines[begin].dropFirst(11).dropLast(5))
        guard let end = lines[(begin + 1)...].firstIndex(where: { $0.hasPrefix("-----END ") }) else {
            throw CryptoError.malformed(what: "PEM file", reason: "no -----END line (truncated?)")
        }
        guard lines[end] == "-----END \(label)-----" else {
            throw CryptoError.malformed(what: "PEM file", reason: "BEGIN and END labels differ")
        }
        let body = lines[(begin + 1)..<end].joined()
        guard body.utf8.count <= 1 << 20 else { throw CryptoError.malformed(what: "PEM file", reason: "too large") }
        guard let der = decodePaddedBase64(body), !der.isEmpty else {
            throw CryptoError.malformed(what: "PEM file", reason: "invalid base64")
        }
        return (label, der)
    }

    /// Strict padded standard base64 (RFC 4648 §4): the length is a multiple of four, at most two `=` and only at
    /// the end, no other characters, and the unused bits of the last character are zero, so each byte string has
    /// exactly one accepted encoding.
    static func decodePaddedBase64(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 4 == 0 else { return nil }
        var padding = 0
        while padding < utf8.count, utf8[utf8.count - 1 - padding] == UInt8(ascii: "=") { padding += 1 }
        guard padding <= 2 else { return nil }
        let unpadded = utf8.dropLast(padding)
        // decodeCanonical refuses "=" anywhere, a lone final character, and non-zero trailing bits.
        guard let bytes = Base64.decodeCanonical(String(decoding: unpadded, as: UTF8.self), urlSafe: false) else {
            return nil
        }
        // With padding p the unpadded length must leave 4 - p characters in the last group.
        guard padding == 0 || unpadded.count % 4 == 4 - padding else { return nil }
        return bytes
    }
}
