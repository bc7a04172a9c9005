/// Text that came from outside (organization names, file names in manifests, values in bundles) made safe to
/// show on a terminal: nothing in it can move the cursor, change colours, start a new line, reorder the text
/// around it or hide itself.
public enum UntrustedText {
    /// Whether a character must never reach a terminal as it is: C0 and C1 controls (newline, tab and escape
    /// included), DEL, line and paragraph separators, and format or default-ignorable characters (bidi marks,
    /// embeddings, overrides and isolates, zero-width characters, the byte order mark, the soft hyphen,
    /// variation selectors).
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        // Printable ASCII, most of any output, is safe without a look at the Unicode tables.
        if scalar.value >= 0x20 && scalar.value < 0x7F { return false }
        return isUnsafeByProperties(scalar)
    }

    /// ``isUnsafe(_:)`` from the Unicode properties alone.
    static func isUnsafeByProperties(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return properties.isDefaultIgnorableCodePoint || properties.isBidiControl
        }
    }

    /// `text` with every unsafe character written as an escape (`\n`, `\t`, `\e`, else `\u{202E}`), so that what
    /// a person reads is exactly what is there.
    public static func printable(_ text: String) -> String {
        if plainASCII(text, lineBreaks: false) && !text.utf8.contains(UInt8(ascii: "\\")) { return text }
        guard text.unicodeScalars.contains(where: isUnsafe) || text.contains("\\") else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{1B}": out += "\\e"
            case _ where isUnsafe(scalar):
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` with unsafe characters escaped except line breaks and tabs, and backslashes left alone: the last
    /// line of defence for whole messages on their way to a terminal (names inside them are escaped with
    /// ``printable(_:)`` first, so that they cannot start a line of their own).
    public static func terminalSafe(_ text: String) -> String {
        if plainASCII(text, lineBreaks: true) { return text }
        guard text.unicodeScalars.contains(where: { isUnsafe($0) && $0 != "\n" && $0 != "\t" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\t" || !isUnsafe(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar == "\u{1B}" {
                out += "\\e"
            } else {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// JSON text with every unsafe character (other than the line breaks and tabs that separate its tokens) written
    /// as a JSON `\uXXXX` escape: the same JSON value, valid as before, and safe on a terminal. Outside strings
    /// JSON holds only ASCII punctuation, digits, letters and whitespace, and inside strings a raw control character
    /// is not valid JSON, so every character escaped here sits inside a string, where an escape means the same.
    public static func jsonSafe(_ json: String) -> String {
        if plainASCII(json, lineBreaks: true) { return json }
        guard json.unicodeScalars.contains(where: { isUnsafe($0) && $0 != "\n" && $0 != "\t" }) else { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count + 16)
        for scalar in json.unicodeScalars {
            guard isUnsafe(scalar) && scalar != "\n" && scalar != "\t" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out
    }

    /// ``jsonSafe(_:)`` of UTF-8 JSON text: bytes that are printable ASCII, line feeds and tabs only come
    /// back as they are, without a String made of them.
    public static func jsonSafeBytes(_ json: [UInt8]) -> [UInt8] {
        json.withUnsafeBufferPointer { plainASCII($0, lineBreaks: true) }
            ? json : Array(jsonSafe(String(decoding: json, as: UTF8.self)).utf8)
    }

    /// Whether `text` holds no unsafe character (names an organization chooses for itself must be clean).
    public static func isClean(_ text: String) -> Bool {
        plainASCII(text, lineBreaks: false) || !text.unicodeScalars.contains(where: isUnsafe)
    }

    /// Whether `text` is printable ASCII only (and line feeds and tabs, with `lineBreaks`): a scan of its UTF-8
    /// bytes that settles most texts without decoding a scalar.
    static func plainASCII(_ text: String, lineBreaks: Bool) -> Bool {
        // Over the contiguous bytes (a native string's own storage): `utf8.allSatisfy` went through the view's
        // iterator a byte at a time, a few percent of `list --json`.
        var text = text
        return text.withUTF8 { plainASCII($0, lineBreaks: lineBreaks) }
    }

    /// ``plainASCII(_:lineBreaks:)`` of UTF-8 bytes.
    static func plainASCII(_ bytes: UnsafeBufferPointer<UInt8>, lineBreaks: Bool) -> Bool {
        for byte in bytes where byte < 0x20 || byte >= 0x7F {
            guard lineBreaks && (byte == 0x0A || byte == 0x09) else { return false }
        }
        return true
    }
}
