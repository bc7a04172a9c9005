import Testing

@testable import AmanatRecords

/// Untrusted text reaches a terminal only escaped (issue: terminal injection through names and file names).
@Suite("Untrusted text is safe to print")
struct UntrustedTextTests {
    /// (hostile input, what a person must see)
    static let hostile: [(String, String)] = [
        ("Steppe\u{1B}[32m Verified: signed by berlin\u{1B}[0m", "Steppe\\e[32m Verified: signed by berlin\\e[0m"),
        ("Org\nFingerprint: AAAA-BBBB", "Org\\nFingerprint: AAAA-BBBB"),
        ("Org\r\u{1B}[2KFake", "Org\\r\\e[2KFake"),
        ("verdict\u{202E}fdp.exe", "verdict\\u{202E}fdp.exe"),
        ("a\u{2066}b\u{2069}c\u{200F}", "a\\u{2066}b\\u{2069}c\\u{200F}"),
        ("zero\u{200B}width\u{FEFF}", "zero\\u{200B}width\\u{FEFF}"),
        ("soft\u{00AD}hyphen", "soft\\u{AD}hyphen"),
        ("line\u{2028}para\u{2029}next\u{0085}", "line\\u{2028}para\\u{2029}next\\u{85}"),
        ("c1\u{009B}31m", "c1\\u{9B}31m"),
        ("del\u{7F}", "del\\u{7F}"),
        ("tab\tnul\u{0}", "tab\\tnul\\u{0}"),
        ("back\\slash", "back\\\\slash"),
    ]

    @Test func hostileTextIsEscapedAndNothingElseChanges() {
        for (input, expected) in Self.hostile {
            let shown = UntrustedText.printable(input)
            #expect(shown == expected, "\(expected)")
            #expect(UntrustedText.isClean(shown))
            #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            #expect(!UntrustedText.isClean(input) || input.contains("\\"))
        }
        #expect(Self.hostile.count == 12)
    }

    @Test func theASCIIShortcutAgreesWithTheUnicodeTables() {
        // isUnsafe skips the tables for printable ASCII, and the whole-text scans skip plain ASCII texts: both must
        // decide exactly as the tables do.
        var ascii = ""
        for value in UInt32(0)..<0x80 {
            let scalar = Unicode.Scalar(value)!
            #expect(UntrustedText.isUnsafe(scalar) == UntrustedText.isUnsafeByProperties(scalar), "U+\(value)")
            ascii.unicodeScalars.append(scalar)
        }
        // Every ASCII character in one text: the shortcut does not apply (controls), the escapes do.
        #expect(UntrustedText.printable(ascii).contains("\\u{0}"))
        #expect(UntrustedText.jsonSafe(ascii).contains("\\u007f"))
        #expect(!UntrustedText.isClean(ascii))
        let plain = String(ascii.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\\" })
        #expect(UntrustedText.printable(plain) == plain)
        #expect(UntrustedText.terminalSafe(plain + "\n\t\\") == plain + "\n\t\\")
        #expect(UntrustedText.jsonSafe(plain + "\n") == plain + "\n")
        #expect(UntrustedText.isClean(plain))
    }

    @Test func jsonBytesAreEscapedAsTheirText() {
        // The byte form `list --json` uses: plain JSON comes back as it is, anything else as `jsonSafe` of its text
        let plain = #"{"a":"b\\n","c":[1,2]}"# + "\n\t"
        #expect(UntrustedText.jsonSafeBytes(Array(plain.utf8)) == Array(plain.utf8))
        var cases = 0
        for (input, _) in Self.hostile + [("Нұрлан \u{7F}", ""), ("Ürümqi", "")] {
            let json = JSONValue.object([("name", .string(input))]).canonical()
            #expect(UntrustedText.jsonSafeBytes(Array(json.utf8)) == Array(UntrustedText.jsonSafe(json).utf8))
            cases += 1
        }
        #expect(cases == 14)
        #expect(UntrustedText.jsonSafeBytes(Array("\u{1B}[2J".utf8)) == Array("\\u001b[2J".utf8))
    }

    @Test func namesInEveryScriptPassUnchanged() {
        for name in ["Нұрлан Серікұлы", "نۇرلان", "努尔兰", "Nurlan Serikuly", "Атажұрт", "Ürümqi"] {
            #expect(UntrustedText.printable(name) == name)
            #expect(UntrustedText.isClean(name))
        }
    }

    @Test func terminalSafeKeepsLinesTabsAndBackslashes() {
        let message = "error: \"a\\b\"\n\tname: Evil\u{1B}]0;title\u{7}\u{202E}"
        let safe = UntrustedText.terminalSafe(message)
        #expect(safe == "error: \"a\\b\"\n\tname: Evil\\e]0;title\\u{7}\\u{202E}")
        #expect(!safe.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{202E}" })
    }
}
