import AmanatRecords
import AmanatRedaction
import AmanatTestSupport
import Foundation
import Testing

@Suite struct TimedTranscriptTests {
    /// A synthetic ID number (checksum valid, not a real person's).
    static let syntheticID = "11010519491231002X"

    static let vtt = """
        WEBVTT - synthetic testimony

        NOTE made for the tests

        intro
        00:00.000 --> 00:02.500
        My brother was taken in <b>2018</b>.

        00:00:02.500 --> 00:00:05.000 align:start
        His ID number is \(syntheticID).

        00:00:05.000 --> 00:00:07.250
        We have heard nothing &amp; nobody answers.
        """

    @Test func parsesWebVTT() throws {
        let transcript = try TimedTranscript.parse(Array(Self.vtt.utf8), file: "t.vtt")
        #expect(transcript.format == .webVTT)
        #expect(transcript.cues.count == 3)
        #expect(transcript.cues[0] == TimedCue(start: 0, end: 2.5, text: "My brother was taken in 2018."))
        #expect(transcript.cues[2].text == "We have heard nothing & nobody answers.")
        #expect(transcript.cues[2].end == 7.25)
        #expect(transcript.text.hasPrefix("My brother was taken in 2018.\nHis ID number is"))
    }

    @Test func identifiersMapToTheirCues() throws {
        let transcript = try TimedTranscript.parse(Array(Self.vtt.utf8), file: "t.vtt")
        let found = transcript.identifierIntervals()
        let id = try #require(found.first { $0.kind == .cnResidentID })
        #expect(id.start == 2.5 && id.end == 5.0)
        // A number read across two cues maps to both.
        let split = TimedTranscript(
            format: .srt,
            cues: [
                .init(start: 1, end: 2, text: "the number is \(Self.syntheticID.prefix(9))"),
                .init(start: 2, end: 3, text: "\(Self.syntheticID.dropFirst(9)) and that is all"),
            ])
        #expect(split.interval(forByteRange: 10..<40)! == (1, 3))
    }

    @Test func parsesSRT() throws {
        let srt =
            "1\r\n00:00:01,000 --> 00:00:02,000\r\nHello\r\nthere\r\n\r\n2\r\n00:00:02,500 --> 00:00:04,000\r\n{\\an8}Bye\r\n"
        let transcript = try TimedTranscript.parse(Array(srt.utf8), file: "t.srt")
        #expect(transcript.format == .srt)
        #expect(
            transcript.cues == [.init(start: 1, end: 2, text: "Hello\nthere"), .init(start: 2.5, end: 4, text: "Bye")])
        #expect(transcript.cueByteRanges == [0..<11, 12..<15])
    }

    @Test(arguments: [
        ("WEBVTT\n\n00:01.000 --> 00:00.500\nbackwards", 3, "ends before it starts"),
        ("WEBVTT\n\n00:02.000 --> 00:03.000\na\n\n00:01.000 --> 00:04.000\nb", 6, "time order"),
        ("WEBVTT\n\n00:01.00 --> 00:02.000\nshort millis", 3, "is not a time"),
        ("WEBVTT\n\n00:61.000 --> 00:62.000\nbad seconds", 3, "is not a time"),
        ("WEBVTT\n\nidentifier only", 3, "expected a timing line"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\ntext\n00:03.000 --> 00:04.000\nmore", 5, "timing line inside"),
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx", 1, "must start with WEBVTT"),
        ("WEBVTT\n", 2, "no cues"),
        ("one\n00:00:01,000 --> 00:00:02,000\nx", 1, "cue number"),
        ("1\n00:00:01.000 --> 00:00:02,000\nx", 2, "is not a time"),
    ])
    func rejectsWithLineNumbers(text: String, line: Int, reason: String) {
        let format: TimedTranscript.Format = text.hasPrefix("WEBVTT") ? .webVTT : .srt
        #expect {
            _ = try TimedTranscript.parse(Array(text.utf8), file: "x", format: format)
        } throws: { error in
            guard let error = error as? TimedTranscriptError else { return false }
            return error.line == line && error.reason.contains(reason) && error.file == "x"
        }
    }

    @Test func rejectsInvalidUTF8AndOversizedFiles() {
        #expect(throws: TimedTranscriptError.self) {
            try TimedTranscript.parse([0x57, 0x45, 0xFF, 0xFE], file: "x")
        }
        let big = [UInt8](repeating: 0x41, count: TimedTranscript.maximumBytes + 1)
        #expect(throws: TimedTranscriptError.self) { try TimedTranscript.parse(big, file: "x") }
    }
}

@Suite struct TimedTranscriptExampleTests {
    @Test func theVTTAndSRTExamplesAgree() throws {
        let folder = PackagePaths.url("Specs/examples/media")
        let vtt = try TimedTranscript.parse(
            Array(try Data(contentsOf: folder.appendingPathComponent("testimony-video.vtt"))), file: "vtt")
        let srt = try TimedTranscript.parse(
            Array(try Data(contentsOf: folder.appendingPathComponent("testimony-video.srt"))), file: "srt")
        #expect(vtt.cues.count == 3 && vtt.cues == srt.cues)
        let found = vtt.identifierIntervals().filter { $0.kind == .cnResidentID }
        #expect(found.count == 1 && found.first?.start == 4 && found.first?.end == 8.5)
    }
}
