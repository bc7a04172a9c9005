import Dispatch

/// Folding of the characters that matter for identifiers, one code point to one character.
///
/// The classes come from Unicode properties (the Unicode data of the Swift runtime), not from a list of code points,
/// through a table built once on first use (planes 0 and 1, 128 KiB; plane 14 by a range check):
///
/// - every decimal digit (general category `Nd`: ASCII, Arabic-Indic, Devanagari, Thai, Mongolian, full-width,
///   mathematical bold…) → its ASCII digit;
/// - default-ignorable code points and format characters (`Cf`: zero-width space and joiners, soft hyphen, word
///   joiner, BOM, bidi marks, embeddings and isolates, variation selectors, tags) → ``Normalization/ignorable``;
/// - space separators (`Zs`) and tab → a space; dash punctuation (`Pd`) → `-`; LF, VT, FF, CR, CR LF (one character
///   of two bytes), NEL, and the line and paragraph separators (`Zl`, `Zp`) → a line feed;
/// - the full-width forms U+FF01…U+FF5E → their ASCII counterparts (so `＋（）．／` and full-width letters too).
///
/// And a few documented extras: `x Ｘ ｘ Ⅹ ⅹ ×` and the Cyrillic and Greek look-alikes `Х х Χ χ` → `X` (the
/// check character of the Chinese ID); U+2212 minus → `-`; the dot class `· · ․ ‧ ∙ ⋅ 。 ・ ﹒ ｡ ･` → `.`; the slash
/// class `⁄ ∕ ⧸` → `/`; the Chinese numerals `〇 一 二 三 四 五 六 七 八 九`, `零` and `○` (written for 〇) → digits.
/// Other ASCII stays as it is (letters keep their case); every other code point, and every byte of broken UTF-8,
/// becomes ``Normalization/other``.
public enum Normalization {
    /// The character that stands for a code point without a folding (any other non-ASCII letter or symbol).
    public static let other: UInt8 = 0x80
    /// The character that stands for a default-ignorable or format code point: skipped inside an identifier.
    public static let ignorable: UInt8 = 0x81
    /// Table codes `hanZero…hanZero+9`: a Chinese numeral (``fold(_:_:_:)`` reports it as the ASCII digit).
    static let hanZero: UInt8 = 0xA0
    /// Code points `0..<tableSize` are looked up in ``table``.
    static let tableSize = 0x20000

    /// Folds the code point that starts at `index`: returns the folded character and the number of bytes
    /// the code point takes (a CR LF pair counts as one line break of 2 bytes; a broken sequence is one byte).
    @inline(__always)
    public static func fold(_ base: UnsafePointer<UInt8>, _ index: Int, _ end: Int) -> (char: UInt8, length: Int) {
        let (code, length) = classify(base, index, end, table)
        return (code >= hanZero ? code &- (hanZero &- 0x30) : code, length)
    }

    /// Like ``fold(_:_:_:)`` but with Chinese numerals as `hanZero + value`, so that a digit run can tell them apart.
    @inline(__always)
    static func classify(
        _ base: UnsafePointer<UInt8>, _ index: Int, _ end: Int, _ table: UnsafePointer<UInt8>
    )
        -> (code: UInt8, length: Int)
    {
        let b0 = base[index]
        if b0 < 0x80 {
            switch b0 {
            case 0x78: return (0x58, 1)  // x → X
            case 0x09: return (0x20, 1)
            case 0x0B, 0x0C: return (0x0A, 1)
            case 0x0D:
                if index + 1 < end && base[index + 1] == 0x0A { return (0x0A, 2) }
                return (0x0A, 1)
            default: return (b0, 1)
            }
        }
        return classifyNonASCII(base, index, end, table)
    }

    /// Decodes one UTF-8 sequence (rejecting overlong forms, surrogates, stray and missing continuation bytes:
    /// each such byte is one ``other``) and looks its class up.
    @inline(__always)
    static func classifyNonASCII(
        _ base: UnsafePointer<UInt8>, _ index: Int, _ end: Int, _ table: UnsafePointer<UInt8>
    ) -> (code: UInt8, length: Int) {
        let b0 = base[index]
        if b0 < 0xC2 { return (other, 1) }
        if b0 < 0xE0 {
            guard index + 1 < end else { return (other, 1) }
            let b1 = base[index + 1]
            guard b1 & 0xC0 == 0x80 else { return (other, 1) }
            return (table[Int(b0 & 0x1F) << 6 | Int(b1 & 0x3F)], 2)
        }
        if b0 < 0xF0 {
            guard index + 2 < end else { return (other, 1) }
            let b1 = base[index + 1]
            let b2 = base[index + 2]
            guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return (other, 1) }
            let scalar = Int(b0 & 0x0F) << 12 | Int(b1 & 0x3F) << 6 | Int(b2 & 0x3F)
            guard scalar >= 0x800, scalar & 0xF800 != 0xD800 else { return (other, 1) }
            return (table[scalar], 3)
        }
        guard b0 < 0xF5, index + 3 < end else { return (other, 1) }
        let b1 = base[index + 1]
        let b2 = base[index + 2]
        let b3 = base[index + 3]
        guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return (other, 1) }
        let scalar = Int(b0 & 0x07) << 18 | Int(b1 & 0x3F) << 12 | Int(b2 & 0x3F) << 6 | Int(b3 & 0x3F)
        guard scalar >= 0x10000, scalar <= 0x10FFFF else { return (other, 1) }
        if scalar < tableSize { return (table[scalar], 4) }
        // Plane 14 (tags, variation selectors supplement) is default-ignorable from end to end.
        return (scalar >> 12 == 0xE0 ? ignorable : other, 4)
    }

    /// The folded character of one Unicode scalar (as ``fold(_:_:_:)`` folds it inside text).
    public static func fold(_ scalar: Unicode.Scalar) -> UInt8 {
        var bytes = Array(String(scalar).utf8)
        return bytes.withUnsafeMutableBufferPointer { fold($0.baseAddress!, 0, $0.count).char }
    }

    /// The class of every code point of planes 0 and 1, built on first use from the Unicode properties.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: tableSize)
        table.initialize(repeating: other, count: tableSize)
        for value in 0..<0x80 { table[value] = UInt8(value) }
        // Looking up the properties of 128K code points takes tens of milliseconds: in chunks on all cores.
        let chunks = 16
        let target = UnsafeMutableSendablePointer(table)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let low = max(0x80, chunk * (tableSize / chunks))
            for value in low..<((chunk + 1) * (tableSize / chunks)) {
                guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
                target.pointer[value] = derivedClass(scalar)
            }
        }
        // The full-width forms of ASCII.
        for offset in 0..<0x5E { table[0xFF01 + offset] = asciiClass(UInt8(0x21 + offset)) }
        for (scalar, code) in extras { table[Int(scalar)] = code }
        return UnsafePointer(table)
    }()

    /// A pointer the table's builders share (each writes its own range).
    struct UnsafeMutableSendablePointer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<UInt8>
        init(_ pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }
    }

    /// The class a Unicode property gives (``other`` when none applies).
    static func derivedClass(_ scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        if properties.isDefaultIgnorableCodePoint || properties.generalCategory == .format { return ignorable }
        switch properties.generalCategory {
        case .decimalNumber:
            guard let value = properties.numericValue, value >= 0, value <= 9 else { return other }
            return 0x30 + UInt8(value)
        case .spaceSeparator: return 0x20
        case .dashPunctuation: return 0x2D
        case .lineSeparator, .paragraphSeparator: return 0x0A
        default: return other
        }
    }

    /// The class of an ASCII character (`x` → `X`, tab → space, VT and FF → line feed).
    static func asciiClass(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x78: return 0x58
        case 0x09: return 0x20
        case 0x0B, 0x0C, 0x0D: return 0x0A
        default: return byte
        }
    }

    /// The documented extras, beyond what the properties give.
    static let extras: [(UInt32, UInt8)] = {
        var list: [(UInt32, UInt8)] = []
        // X look-alikes: multiplication sign, Roman numeral ten, Cyrillic and Greek capital and small letters.
        for scalar: UInt32 in [0x00D7, 0x2169, 0x2179, 0x0425, 0x0445, 0x03A7, 0x03C7] { list.append((scalar, 0x58)) }
        list.append((0x2212, 0x2D))  // minus sign
        list.append((0x0085, 0x0A))  // next line (NEL)
        // Dots: middle dot, Greek ano teleia, one-dot leader, hyphenation point, bullet and dot operators,
        // ideographic full stop, katakana middle dot, small full stop, half-width ideographic stop and middle dot.
        for scalar: UInt32 in [0x00B7, 0x0387, 0x2024, 0x2027, 0x2219, 0x22C5, 0x3002, 0x30FB, 0xFE52, 0xFF61, 0xFF65] {
            list.append((scalar, 0x2E))
        }
        // Slashes: fraction slash, division slash, big solidus.
        for scalar: UInt32 in [0x2044, 0x2215, 0x29F8] { list.append((scalar, 0x2F)) }
        // Chinese numerals 〇 一 二 三 四 五 六 七 八 九, 零 and the white circle often typed for 〇.
        let han: [UInt32] = [0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D]
        for (value, scalar) in han.enumerated() { list.append((scalar, hanZero + UInt8(value))) }
        list.append((0x96F6, hanZero))
        list.append((0x25CB, hanZero))
        return list
    }()

    /// Whether a candidate (a digit of any kind, an `@`, or the start of a WeChat keyword) may start at a byte
    /// `b0` followed by `b1`, `b2`: the scalar form of the detector's vector test. Lead bytes at or above
    /// `leadThreshold` always pass.
    @inline(__always)
    static func mayStartCandidate(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, leadThreshold: UInt8) -> Bool {
        if b0 >= 0x80 && b0 >= leadThreshold { return true }
        switch b0 {
        case 0x30...0x39, 0x40: return true
        case 0xEF: return b1 == 0xBC && b2 & 0xF0 == 0x90  // full-width digits
        case 0xD9: return b1 & 0xF0 == 0xA0  // Arabic-Indic digits
        case 0xDB: return b1 & 0xF0 == 0xB0  // extended Arabic-Indic digits
        case 0xDF: return b1 & 0xF0 == 0x80  // NKo digits
        case 0xE0, 0xE1, 0xEA: return true  // Indic, Southeast Asian, Mongolian… digits
        case 0xF0: return b1 & 0xF0 == 0x90  // plane 1
        case 0xE2: return b1 == 0x97 && b2 == 0x8B  // ○
        case 0xE3: return b1 == 0x80 && b2 == 0x87  // 〇
        case 0xE4: return b1 &- 0xB8 < 3 || b1 == 0xBF  // 一 二 三 五 七 九, and 信
        case 0xE5: return b1 == 0x85 || b1 == 0x9B  // 六 八, 四
        case 0xE9: return b1 == 0x9B  // 零
        default:
            let l0 = b0 | 0x20
            let l1 = b1 | 0x20
            return (l0 == 0x77 && (l1 == 0x65 || l1 == 0x78)) || (l0 == 0x76 && l1 == 0x78)
        }
    }

    /// 0xFF when every code point that folds to a digit passes ``mayStartCandidate(_:_:_:leadThreshold:)`` on its
    /// own; otherwise 0xC2, so that every lead byte starts a candidate (complete, if slower, whatever the Unicode
    /// version of the runtime adds).
    static let leadThreshold: UInt8 = {
        for value in 0x80..<tableSize {
            let code = table[value]
            guard isDigit(code) || code >= hanZero else { continue }
            var bytes: [UInt8] = Array(String(Unicode.Scalar(UInt32(value))!).utf8)
            bytes.append(contentsOf: [0, 0])
            if !mayStartCandidate(bytes[0], bytes[1], bytes[2], leadThreshold: 0xFF) { return 0xC2 }
        }
        return 0xFF
    }()

    /// The whole text folded, with a map from each folded character back to the byte offset where its code
    /// point starts in the original (plus one final entry, the original length).
    public struct FoldedText: Sendable, Equatable {
        /// One character per code point (see ``Normalization``).
        public var characters: [UInt8]
        /// `offsets[k]` is the original byte offset of `characters[k]`; `offsets.last` is the input length.
        public var offsets: [Int]

        /// The folded characters as a string (``Normalization/other`` and ``Normalization/ignorable`` shown as `?`).
        public var string: String {
            String(decoding: characters.map { $0 >= 0x80 ? 0x3F : $0 }, as: UTF8.self)
        }
    }

    /// Folds a whole buffer (for tests and for callers that want the folded view; the detector folds on the fly).
    public static func fold(_ bytes: some Collection<UInt8>) -> FoldedText {
        let array = Array(bytes)
        var characters: [UInt8] = []
        var offsets: [Int] = []
        characters.reserveCapacity(array.count)
        offsets.reserveCapacity(array.count + 1)
        array.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var index = 0
            while index < buffer.count {
                let (char, length) = fold(base, index, buffer.count)
                characters.append(char)
                offsets.append(index)
                index += length
            }
        }
        offsets.append(array.count)
        return FoldedText(characters: characters, offsets: offsets)
    }

    /// The folded characters of `bytes` with the ignorable ones left out (for normalizing values).
    static func foldedSkippingIgnorables(_ bytes: some Collection<UInt8>) -> [UInt8] {
        fold(bytes).characters.filter { $0 != ignorable }
    }

    /// Whether a folded character separates digit groups: space, dash, dot, slash, line feed (see ``Normalization``).
    @inline(__always)
    static func isSeparator(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x2D || c == 0x2E || c == 0x2F || c == 0x0A
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
}
