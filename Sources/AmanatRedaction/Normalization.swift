/// Folding of the characters that matter for identifiers, one code point to one character.
///
/// Full-width digits (U+FF10…), Arabic-Indic digits (U+0660…) and extended Arabic-Indic digits (U+06F0…, used in
/// Uyghur text) become ASCII digits; `x Ｘ ｘ Ⅹ ⅹ ×` become `X`; dash variants (U+2010–2015, U+2212, U+FF0D)
/// become `-`; tab, no-break, figure, thin, narrow and ideographic spaces become a space; CR, CR LF and U+2028
/// become a line feed. Other ASCII stays as it is and every other code point becomes ``Normalization/other``.
public enum Normalization {
    /// The character that stands for a code point without a folding (any other non-ASCII letter or symbol).
    public static let other: UInt8 = 0x80

    /// Folds the code point that starts at `index`: returns the folded character and the number of bytes
    /// the code point takes (a CR LF pair counts as one line break of 2 bytes; a broken sequence is one byte).
    @inline(__always)
    public static func fold(_ base: UnsafePointer<UInt8>, _ index: Int, _ end: Int) -> (char: UInt8, length: Int) {
        let b0 = base[index]
        if b0 < 0x80 {
            switch b0 {
            case 0x78: return (0x58, 1)  // x → X
            case 0x09: return (0x20, 1)
            case 0x0D:
                if index + 1 < end && base[index + 1] == 0x0A { return (0x0A, 2) }
                return (0x0A, 1)
            default: return (b0, 1)
            }
        }
        if b0 < 0xC2 { return (other, 1) }
        if b0 < 0xE0 {
            guard index + 1 < end else { return (other, 1) }
            let b1 = base[index + 1]
            switch b0 {
            case 0xC2: if b1 == 0xA0 { return (0x20, 2) }
            case 0xC3: if b1 == 0x97 { return (0x58, 2) }
            case 0xD9: if b1 >= 0xA0 && b1 <= 0xA9 { return (b1 &- 0xA0 &+ 0x30, 2) }
            case 0xDB: if b1 >= 0xB0 && b1 <= 0xB9 { return (b1 &- 0xB0 &+ 0x30, 2) }
            default: break
            }
            return (other, 2)
        }
        if b0 < 0xF0 {
            guard index + 2 < end else { return (other, 1) }
            let b1 = base[index + 1]
            let b2 = base[index + 2]
            switch b0 {
            case 0xE2:
                if b1 == 0x80 {
                    if b2 >= 0x80 && b2 <= 0x8A { return (0x20, 3) }
                    if b2 >= 0x90 && b2 <= 0x95 { return (0x2D, 3) }
                    if b2 == 0xA8 { return (0x0A, 3) }
                    if b2 == 0xAF { return (0x20, 3) }
                } else if b1 == 0x81 {
                    if b2 == 0x9F { return (0x20, 3) }
                } else if b1 == 0x88 {
                    if b2 == 0x92 { return (0x2D, 3) }
                } else if b1 == 0x85 {
                    if b2 == 0xA9 || b2 == 0xB9 { return (0x58, 3) }
                }
            case 0xE3:
                if b1 == 0x80 && b2 == 0x80 { return (0x20, 3) }
            case 0xEF:
                if b1 == 0xBC {
                    if b2 >= 0x90 && b2 <= 0x99 { return (b2 &- 0x90 &+ 0x30, 3) }
                    if b2 == 0xB8 { return (0x58, 3) }
                    if b2 == 0x8D { return (0x2D, 3) }
                } else if b1 == 0xBD {
                    if b2 == 0x98 { return (0x58, 3) }
                }
            default: break
            }
            return (other, 3)
        }
        guard index + 3 < end else { return (other, 1) }
        return (other, 4)
    }

    /// The whole text folded, with a map from each folded character back to the byte offset where its code
    /// point starts in the original (plus one final entry, the original length).
    public struct FoldedText: Sendable, Equatable {
        /// One character per code point (see ``Normalization``).
        public var characters: [UInt8]
        /// `offsets[k]` is the original byte offset of `characters[k]`; `offsets.last` is the input length.
        public var offsets: [Int]

        /// The folded characters as a string (``Normalization/other`` shown as U+FFFD).
        public var string: String {
            String(decoding: characters.map { $0 == Normalization.other ? 0x3F : $0 }, as: UTF8.self)
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

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
}
