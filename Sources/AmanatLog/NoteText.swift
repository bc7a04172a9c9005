import AmanatCrypto

/// Text rules shared by notes, checkpoints and proofs.
enum NoteText {
    /// Standard base64 with padding (RFC 4648 §4), as signed notes, checkpoints and tlog proofs use it.
    static func base64(_ bytes: [UInt8]) -> String {
        let unpadded = Base64.encodeUnpadded(bytes)
        return unpadded + String(repeating: "=", count: (4 - unpadded.utf8.count % 4) % 4)
    }

    /// Decodes padded standard base64, refusing any other encoding of the same bytes (missing or extra padding,
    /// non-zero trailing bits, other characters), so that what parses serializes back identically.
    static func decodeBase64(_ text: Substring.UTF8View) -> [UInt8]? {
        let count = text.count
        guard count % 4 == 0 else { return nil }
        var padding = 0
        var end = text.endIndex
        while padding < 2, end > text.startIndex, text[text.index(before: end)] == UInt8(ascii: "=") {
            end = text.index(before: end)
            padding += 1
        }
        let body = Substring(text[text.startIndex..<end])
        guard let bytes = Base64.decodeCanonical(body, urlSafe: false) else { return nil }
        // Canonical unpadded decoding fixes the length; the padding must be exactly what that length needs.
        guard (body.utf8.count + padding) % 4 == 0 else { return nil }
        return bytes
    }

    /// Decodes `text` as padded base64 of exactly 32 bytes.
    static func decodeHash(_ text: Substring.UTF8View) -> LogHash? {
        guard text.count == 44, let bytes = decodeBase64(text), bytes.count == 32 else { return nil }
        return bytes
    }

    /// An ASCII decimal with no leading zeroes (other than `0` itself), at most 2^63 − 1.
    static func decimal(_ text: Substring.UTF8View) -> UInt64? {
        guard let first = text.first, text.count <= 19, first != UInt8(ascii: "0") || text.count == 1 else {
            return nil
        }
        var value: UInt64 = 0
        for byte in text {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value <= UInt64(Int64.max) ? value : nil
    }

    /// Whether `name` is a valid key name: non-empty, no Unicode white space, no plus sign, no control character.
    static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 1024
            && name.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0 != "+" && $0.value >= 0x20 }
    }

    /// Whether `bytes` are UTF-8 with no ASCII control character other than newline.
    static func isNoteText(_ bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x0A }) else { return false }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// The bytes of a string compared exactly (Swift's `==` treats canonically equivalent strings as equal; names
    /// and origins are compared as the bytes that were signed).
    static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
}
