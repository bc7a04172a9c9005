/// A piece of a text: ordinary text, or exactly one identifier.
public struct TextSegment: Sendable, Hashable {
    /// Byte offsets of the segment in the UTF-8 text.
    public var range: Range<Int>
    /// The segment's text.
    public var text: String
    /// The identifier this segment is, or nil for ordinary text.
    public var finding: Finding?

    /// Creates a segment.
    public init(range: Range<Int>, text: String, finding: Finding? = nil) {
        self.range = range
        self.text = text
        self.finding = finding
    }
}

/// Splits a transcript into segments (sentences, with every identifier as a segment of its own) so that a
/// redaction policy can act on each identifier and each sentence separately.
///
/// Contract: the segments are in order, do not overlap, and concatenated give back the text exactly.
public protocol TextSegmenter: Sendable {
    /// The segments of `text`.
    func segments(of text: String) -> [TextSegment]
}

/// A simple segmenter: sentences end after `. ! ? 。！？` (with any closing quotes or spaces that follow staying in
/// the sentence) and at line breaks; then each identifier the ``Detector`` finds is carved out as its own segment.
public struct SimpleTextSegmenter: TextSegmenter {
    /// The detector used to find identifiers.
    public var detector: Detector

    /// Creates a segmenter using `detector`.
    public init(detector: Detector = Detector()) {
        self.detector = detector
    }

    /// The segments of `text`.
    public func segments(of text: String) -> [TextSegment] {
        let bytes = Array(text.utf8)
        let findings = detector.scan(bytes)
        // Sentence boundaries (byte offsets where a new sentence starts).
        var cuts: [Int] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            var endOfMark = -1
            if b == 0x2E || b == 0x21 || b == 0x3F {
                endOfMark = i + 1
            } else if b == 0x0A {
                cuts.append(i + 1)
                i += 1
                continue
            } else if i + 2 < bytes.count,
                (b == 0xE3 && bytes[i + 1] == 0x80 && bytes[i + 2] == 0x82)
                    || (b == 0xEF && bytes[i + 1] == 0xBC && (bytes[i + 2] == 0x81 || bytes[i + 2] == 0x9F))
            {
                endOfMark = i + 3
            }
            if endOfMark < 0 {
                i += 1
                continue
            }
            // A dot between digits or letters (17.03.1991, example.com) does not end a sentence.
            if b == 0x2E, endOfMark < bytes.count, bytes[endOfMark] != 0x20, bytes[endOfMark] != 0x0A {
                i += 1
                continue
            }
            var k = endOfMark
            while k < bytes.count, bytes[k] == 0x20 || bytes[k] == 0x22 || bytes[k] == 0x29 { k += 1 }
            cuts.append(k)
            i = k
        }
        var boundaries = Set(cuts.filter { $0 > 0 && $0 < bytes.count })
        for finding in findings {
            boundaries.insert(finding.range.lowerBound)
            boundaries.insert(finding.range.upperBound)
        }
        // No boundary may fall inside an identifier.
        let sortedFindings = findings
        var points = boundaries.filter { point in
            point > 0 && point < bytes.count
                && !sortedFindings.contains { $0.range.lowerBound < point && point < $0.range.upperBound }
        }.sorted()
        points.insert(0, at: 0)
        points.append(bytes.count)
        var findingAt: [Int: Finding] = [:]
        for finding in findings { findingAt[finding.range.lowerBound] = finding }
        var result: [TextSegment] = []
        for (a, b) in zip(points, points.dropFirst()) where a < b {
            let piece = String(decoding: bytes[a..<b], as: UTF8.self)
            let finding = findingAt[a].flatMap { $0.range.upperBound == b ? $0 : nil }
            result.append(TextSegment(range: a..<b, text: piece, finding: finding))
        }
        return result
    }
}
