import AmanatRedaction
import Foundation

/// One cue of a timed transcript: what was said from `start` to `end` (seconds).
public struct TimedCue: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String

    public init(start: Double, end: Double, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}

/// Why a WebVTT or SRT file was refused: the file, the 1-based line, the reason (never the cue text).
public struct TimedTranscriptError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        "\(file)\(line.map { ", line \($0)" } ?? ""): \(reason)"
    }
}

/// A transcript with cue times, read from WebVTT or SRT (Specs/records.md, "Timed transcripts").
///
/// The record keeps ``text`` (the cue texts joined by a line feed) as `testimony.transcript`; the cue times stay
/// beside it in the WebVTT/SRT file, attached to the record (its SHA-256 signed like any attachment). A byte offset
/// in ``text`` maps to its cue, so every detector finding gets a time interval.
public struct TimedTranscript: Sendable, Equatable {
    public enum Format: String, Sendable {
        case webVTT = "vtt"
        case srt
    }

    public var format: Format
    public var cues: [TimedCue]

    /// Limits: file size, number of cues, bytes of one cue's text.
    public static let maximumBytes = 16 << 20
    public static let maximumCues = 100_000
    public static let maximumCueBytes = 64 << 10

    public init(format: Format, cues: [TimedCue]) {
        self.format = format
        self.cues = cues
    }

    /// The transcript text: cue texts joined by `\n`.
    public var text: String { cues.map(\.text).joined(separator: "\n") }

    /// The UTF-8 byte range of each cue's text in ``text``.
    public var cueByteRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = 0
        for cue in cues {
            let count = cue.text.utf8.count
            ranges.append(offset..<(offset + count))
            offset += count + 1
        }
        return ranges
    }

    /// The time interval covering the bytes `range` of ``text`` (the union of the cues it touches), or nil.
    public func interval(forByteRange range: Range<Int>) -> (start: Double, end: Double)? {
        var result: (start: Double, end: Double)?
        for (index, cueRange) in cueByteRanges.enumerated()
        where cueRange.overlaps(range) || (range.isEmpty && cueRange.contains(range.lowerBound)) {
            let cue = cues[index]
            result = result.map { (min($0.start, cue.start), max($0.end, cue.end)) } ?? (cue.start, cue.end)
        }
        return result
    }

    /// One identifier found in the transcript, with the time it is spoken (the cues it falls in).
    public struct TimedFinding: Sendable, Equatable {
        public var kind: IdentifierKind
        public var start: Double
        public var end: Double
    }

    /// Runs the detectors over the transcript (each finding maps to the cues holding it, so a number read across
    /// two cues is found too) and returns every identifier's time interval, in time order.
    public func identifierIntervals(detector: Detector = Detector()) -> [TimedFinding] {
        detector.scan(text).compactMap { finding in
            interval(forByteRange: finding.range).map { TimedFinding(kind: finding.kind, start: $0.start, end: $0.end) }
        }.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
    }

    /// Parses WebVTT or SRT; the format is told by `format`, else by the `WEBVTT` signature.
    /// - Throws: ``TimedTranscriptError`` naming the line and what is wrong.
    public static func parse(
        _ bytes: [UInt8], file: String, format: Format? = nil
    ) throws(TimedTranscriptError)
        -> TimedTranscript
    {
        guard bytes.count <= maximumBytes else {
            throw TimedTranscriptError(file: file, line: nil, reason: "larger than \(maximumBytes >> 20) MiB")
        }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let decoded = String(validating: body, as: UTF8.self) else {
            throw TimedTranscriptError(file: file, line: nil, reason: "not UTF-8 text")
        }
        if decoded.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw TimedTranscriptError(file: file, line: nil, reason: "contains a NUL character")
        }
        // Lines split at CRLF, LF or CR (both formats allow each).
        let lines = decoded.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let isVTT = lines.first.map { $0 == "WEBVTT" || $0.hasPrefix("WEBVTT ") || $0.hasPrefix("WEBVTT\t") } ?? false
        let chosen = format ?? (isVTT ? .webVTT : .srt)
        if chosen == .webVTT && !isVTT {
            throw TimedTranscriptError(file: file, line: 1, reason: "a WebVTT file must start with WEBVTT")
        }
        var parser = Parser(lines: lines, file: file, format: chosen)
        return TimedTranscript(format: chosen, cues: try parser.cues())
    }

    private struct Parser {
        let lines: [String]
        let file: String
        let format: Format
        var index = 0

        init(lines: [String], file: String, format: Format) {
            self.lines = lines
            self.file = file
            self.format = format
        }

        func fail(_ reason: String, line: Int) -> TimedTranscriptError {
            TimedTranscriptError(file: file, line: line, reason: reason)
        }

        mutating func cues() throws(TimedTranscriptError) -> [TimedCue] {
            var cues: [TimedCue] = []
            if format == .webVTT {
                // The header block: the signature line and any header lines up to a blank line.
                while index < lines.count && !lines[index].isEmpty { index += 1 }
            }
            while true {
                while index < lines.count && lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
                guard index < lines.count else { break }
                let blockStart = index
                var block: [String] = []
                while index < lines.count && !lines[index].isEmpty {
                    block.append(lines[index])
                    index += 1
                }
                if format == .webVTT,
                    let first = block.first,
                    first == "NOTE" || first.hasPrefix("NOTE ") || first.hasPrefix("NOTE\t") || first == "STYLE"
                        || first == "REGION"
                {
                    continue
                }
                var timingOffset = 0
                if format == .srt {
                    guard block[0].allSatisfy(\.isASCII),
                        let number = Int(block[0].trimmingCharacters(in: .whitespaces)),
                        number >= 0
                    else {
                        throw fail("expected a cue number", line: blockStart + 1)
                    }
                    timingOffset = 1
                } else if !block[0].contains("-->") {
                    timingOffset = 1  // a cue identifier
                }
                guard timingOffset < block.count else {
                    throw fail("expected a timing line after the cue's first line", line: blockStart + 1)
                }
                let timingLine = blockStart + timingOffset + 1
                let (start, end) = try timing(block[timingOffset], line: timingLine)
                guard end > start else { throw fail("the cue ends before it starts", line: timingLine) }
                if let previous = cues.last, start < previous.start {
                    throw fail("cues must be in time order", line: timingLine)
                }
                let payload = block[(timingOffset + 1)...]
                for (offset, text) in payload.enumerated() where text.contains("-->") {
                    throw fail("a timing line inside a cue's text (missing blank line?)", line: timingLine + offset + 1)
                }
                let text = TimedTranscript.plainText(payload.joined(separator: "\n"), format: format)
                guard text.utf8.count <= maximumCueBytes else {
                    throw fail("a cue's text is longer than \(maximumCueBytes >> 10) KiB", line: timingLine)
                }
                cues.append(TimedCue(start: start, end: end, text: text))
                guard cues.count <= maximumCues else { throw fail("more than \(maximumCues) cues", line: timingLine) }
            }
            guard !cues.isEmpty else { throw fail("no cues found", line: max(1, lines.count)) }
            return cues
        }

        /// `start --> end [settings]`.
        func timing(_ text: String, line: Int) throws(TimedTranscriptError) -> (Double, Double) {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 3, parts[1] == "-->" else {
                throw fail(
                    "expected a timing line like 00:00:01\(separator)000 --> 00:00:02\(separator)500", line: line)
            }
            if format == .srt && parts.count > 3 && !parts[3].hasPrefix("X") {
                throw fail("unexpected text after the end time", line: line)
            }
            return (try timestamp(parts[0], line: line), try timestamp(parts[2], line: line))
        }

        var separator: Character { format == .srt ? "," : "." }

        /// `[hh:]mm:ss.ttt` (WebVTT) or `hh:mm:ss,ttt` (SRT).
        func timestamp(_ text: Substring, line: Int) throws(TimedTranscriptError) -> Double {
            let bad = fail("'\(String(text.prefix(20)))' is not a time like 00:01:02\(separator)500", line: line)
            let pieces = text.split(separator: separator, omittingEmptySubsequences: false)
            guard pieces.count == 2, pieces[1].count == 3, let millis = Int(pieces[1]), pieces[1].allSatisfy(\.isASCII)
            else { throw bad }
            let clock = pieces[0].split(separator: ":", omittingEmptySubsequences: false)
            guard clock.count == 3 || (clock.count == 2 && format == .webVTT) else { throw bad }
            var numbers: [Int] = []
            for (position, piece) in clock.enumerated() {
                let isHours = clock.count == 3 && position == 0
                guard piece.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(piece),
                    isHours ? (piece.count >= 2 && piece.count <= 4) : piece.count == 2
                else { throw bad }
                if !isHours && value > 59 { throw bad }
                numbers.append(value)
            }
            let hours = clock.count == 3 ? numbers[0] : 0
            let minutes = numbers[numbers.count - 2]
            let seconds = numbers[numbers.count - 1]
            return Double(hours * 3600 + minutes * 60 + seconds) + Double(millis) / 1000
        }
    }

    /// The spoken text of a cue: markup tags removed, the few character references decoded.
    static func plainText(_ text: String, format: Format) -> String {
        var out = ""
        var inTag = false
        for character in text {
            if character == "<" {
                inTag = true
            } else if character == ">" && inTag {
                inTag = false
            } else if !inTag {
                out.append(character)
            }
        }
        if format == .srt {
            // SRT's {\an8} positioning codes.
            while let open = out.range(of: "{\\"), let close = out[open.upperBound...].firstIndex(of: "}") {
                out.removeSubrange(open.lowerBound...close)
            }
            return out
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&nbsp;", with: "\u{00A0}").replacingOccurrences(of: "&lrm;", with: "\u{200E}")
            .replacingOccurrences(of: "&rlm;", with: "\u{200F}").replacingOccurrences(of: "&amp;", with: "&")
    }
}
