import AmanatMedia
import AmanatTestSupport
import Foundation
import Testing

@Suite struct MediaRedactionSpecTests {
    func parse(_ text: String) throws(MediaError) -> MediaRedactionSpec {
        try MediaRedactionSpec.parse(Array(text.utf8), name: "spec.json")
    }

    @Test func readsRectanglesAndIntervals() throws {
        let spec = try parse(
            """
            {"amanat_media_redaction": 1,
             "rectangles": [{"x": 10, "y": 20, "width": 100, "height": 40, "start": 0.5, "end": 1.5},
                            {"x": 0, "y": 0, "width": 32, "height": 32, "style": "pixelate", "reason": "face"}],
             "intervals": [{"start": 1, "end": 1.25}, {"start": 1.5, "end": 1.75, "audio": "tone"}]}
            """)
        #expect(spec.rectangles.count == 2)
        #expect(spec.rectangles[0] == .init(x: 10, y: 20, width: 100, height: 40, start: 0.5, end: 1.5))
        #expect(spec.rectangles[1].style == .pixelate && spec.rectangles[1].start == nil)
        #expect(spec.intervals == [.init(start: 1, end: 1.25), .init(start: 1.5, end: 1.75, audio: .tone)])
        // What jsonBytes writes, parse reads back unchanged.
        #expect(try MediaRedactionSpec.parse(spec.jsonBytes(), name: "again") == spec)
    }

    @Test(arguments: [
        ("[]", "top level"),
        ("{\"rectangles\": []}", "amanat_media_redaction"),
        ("{\"amanat_media_redaction\": 2}", "must be 1"),
        ("{\"amanat_media_redaction\": 1, \"extra\": 1}", "unknown key"),
        (
            "{\"amanat_media_redaction\": 1, \"rectangles\": [{\"x\": 1, \"y\": 1, \"width\": 0, \"height\": 4}]}",
            "positive"
        ),
        (
            "{\"amanat_media_redaction\": 1, \"rectangles\": [{\"x\": -1, \"y\": 1, \"width\": 2, \"height\": 4}]}",
            "rectangles[0].x"
        ),
        (
            "{\"amanat_media_redaction\": 1, \"rectangles\": [{\"x\": 1.5, \"y\": 1, \"width\": 2, \"height\": 4}]}",
            "whole number"
        ),
        (
            "{\"amanat_media_redaction\": 1, \"rectangles\": [{\"x\": true, \"y\": 1, \"width\": 2, \"height\": 4}]}",
            "whole number"
        ),
        ("{\"amanat_media_redaction\": 1, \"rectangles\": [{\"y\": 1, \"width\": 2, \"height\": 4}]}", "missing"),
        (
            "{\"amanat_media_redaction\": 1, \"rectangles\": [{\"x\": 1, \"y\": 1, \"width\": 2, \"height\": 4, \"style\": \"blur\"}]}",
            "style"
        ),
        ("{\"amanat_media_redaction\": 1, \"intervals\": [{\"start\": 2, \"end\": 1}]}", "after its start"),
        ("{\"amanat_media_redaction\": 1, \"intervals\": [{\"start\": \"1\", \"end\": 2}]}", "seconds"),
        ("{\"amanat_media_redaction\": 1, \"intervals\": [{\"start\": 1}]}", "start and end"),
        ("{\"amanat_media_redaction\": 1, \"intervals\": {}}", "array"),
        ("{\"amanat_media_redaction\": 1, \"intervals\": [{\"start\": 0, \"end\": 1, \"audio\": \"beep\"}]}", "audio"),
        ("not json", "not JSON"),
    ])
    func rejectsBadSpecs(text: String, expected: String) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            guard case .invalidSpec(let path, let reason) = error as? MediaError else { return false }
            return path == "spec.json" && reason.contains(expected)
        }
    }

    @Test func validatesAgainstTheMedia() throws {
        let info = MediaInfo(
            kind: .video, formatName: "mov,mp4,m4a,3gp,3g2,mj2", width: 320, height: 240, duration: 2,
            hasVideo: true, hasAudio: true, audioSampleRate: 48000, otherStreams: 0, chapters: 0, tags: [])
        try MediaRedactionSpec(rectangles: [.init(x: 0, y: 0, width: 320, height: 240)]).validate(
            against: info, name: "s")
        let outside = MediaRedactionSpec(rectangles: [.init(x: 300, y: 0, width: 21, height: 10)])
        #expect(throws: MediaError.self) { try outside.validate(against: info, name: "s") }
        let late = MediaRedactionSpec(intervals: [.init(start: 1.5, end: 2.5)])
        #expect(throws: MediaError.self) { try late.validate(against: info, name: "s") }
        let lateBox = MediaRedactionSpec(rectangles: [.init(x: 0, y: 0, width: 10, height: 10, start: 0, end: 3)])
        #expect(throws: MediaError.self) { try lateBox.validate(against: info, name: "s") }
    }

    @Test func transcriptIntervalsGetTheMarginAndAreClamped() {
        var spec = MediaRedactionSpec()
        spec.addIntervals([(0.1, 0.5), (1.7, 1.9)], margin: 0.25, duration: 2, reason: "identifier")
        #expect(spec.intervals.map(\.start) == [0, 1.45])
        #expect(spec.intervals.map(\.end) == [0.75, 2])
    }
}

@Suite struct MediaFilterGraphTests {
    static let info = MediaInfo(
        kind: .video, formatName: "mov,mp4,m4a,3gp,3g2,mj2", width: 320, height: 240, duration: 2, hasVideo: true,
        hasAudio: true, audioSampleRate: 48000, otherStreams: 1, chapters: 0, tags: [])

    @Test func argumentsCarryTheFiltersAndTheMetadataAllowList() throws {
        let spec = MediaRedactionSpec(
            rectangles: [.init(x: 10, y: 20, width: 30, height: 40, start: 0.5, end: 1.25)],
            intervals: [.init(start: 1, end: 1.5), .init(start: 1.75, end: 2, audio: .tone)])
        let arguments = try MediaFilterGraph.arguments(
            spec: spec, info: Self.info, output: "out.mp4", outputExtension: "mp4", preset: .ultrafast)
        let graph = try #require(arguments.firstIndex(of: "-filter_complex").map { arguments[$0 + 1] })
        #expect(graph.contains("drawbox=x=10:y=20:w=30:h=40:color=black:t=fill:enable='between(t,0.5,1.25)'"))
        #expect(graph.contains("volume=volume=0:enable='between(t,1,1.5)+between(t,1.75,2)'"))
        #expect(graph.contains("sine=frequency=1000") && graph.contains("not(between(t,1.75,2))"))
        for flag in ["-map_metadata", "-map_chapters", "+bitexact", "-sn", "-dn", "filter_units=remove_types=6"] {
            #expect(arguments.contains(flag), "\(flag)")
        }
        #expect(arguments[arguments.firstIndex(of: "-preset")! + 1] == "ultrafast")
        #expect(arguments.suffix(2) == ["-y", "out.mp4"])
        #expect(throws: MediaError.self) {
            try MediaFilterGraph.arguments(spec: spec, info: Self.info, output: "o.gif", outputExtension: "gif")
        }
    }
}

@Suite struct MediaExampleFileTests {
    @Test func theSpecExampleParses() throws {
        let url = PackagePaths.url("Specs/examples/media/testimony-video.redact.json")
        let spec = try MediaRedactionSpec.parse(Array(try Data(contentsOf: url)), name: url.lastPathComponent)
        #expect(spec.rectangles.count == 2 && spec.intervals.count == 2)
        #expect(spec.rectangles[1].style == .pixelate && spec.intervals[1].audio == .tone)
    }
}
