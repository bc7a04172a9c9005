import AmanatMedia
import AmanatTestSupport
import Foundation
import Testing

@Suite(.requires(.ffmpeg, .ffprobe, .exiftool)) struct MediaRedactorTests {
    /// The box over the drawn ID number, from 0.4 s to 1.6 s, and a muted interval 0.8–1.2 s.
    static let spec = MediaRedactionSpec(
        rectangles: [
            .init(x: 10, y: 180, width: 300, height: 40, start: 0.4, end: 1.6, reason: "ID card"),
            .init(x: 200, y: 16, width: 64, height: 64, style: .pixelate, reason: "face"),
        ],
        intervals: [.init(start: 0.8, end: 1.2, reason: "spoken number"), .init(start: 1.5, end: 1.7, audio: .tone)])

    @Test func probeReportsLocationDeviceTimeAndAuthor() throws {
        let fixtures = try MediaFixtures.shared()
        for file in [fixtures.video, fixtures.photo, fixtures.audio] {
            let info = try MediaProbe.probe(file, tools: fixtures.tools)
            let categories = Set(info.sensitiveTags.compactMap(\.category))
            #expect(categories.isSuperset(of: [.location, .device, .time, .author]), "\(file): \(categories)")
        }
        let video = try MediaProbe.probe(fixtures.video, tools: fixtures.tools)
        #expect(video.kind == .video && video.width == 320 && video.height == 240 && video.hasAudio)
        #expect(abs(video.duration - MediaFixtures.duration) < 0.1)
        #expect(try MediaProbe.probe(fixtures.photo, tools: fixtures.tools).kind == .photo)
        #expect(try MediaProbe.probe(fixtures.audio, tools: fixtures.tools).kind == .audio)
    }

    @Test func videoDerivativeCoversMutesAndKeepsTheRest() throws {
        let fixtures = try MediaFixtures.shared()
        let output = fixtures.path("public.mp4")
        let annotation = try MediaRedactor.redact(
            input: fixtures.video, spec: Self.spec, specName: "spec", output: output, tools: fixtures.tools)
        #expect(annotation.originalSHA256 == (try MediaHash.file(fixtures.video)))
        #expect(annotation.derivativeSHA256 == (try MediaHash.file(output)))
        #expect(annotation.metadataRemoved.contains { $0.key == "location" })
        #expect(annotation.tools.first?.hasPrefix("ffmpeg ") == true)

        // The covered rectangle is solid in every frame of its range, and not outside it (the check can fail).
        let frames = try fixtures.grayFrames(output)
        #expect(frames.count == Int(MediaFixtures.duration) * MediaFixtures.frameRate)
        // (darkest, brightest, share of pixels at the darkest value) inside the rectangle, 2 px in from its edges.
        func spread(_ frame: [UInt8]) -> (Int, Int, Double) {
            var counts = [Int](repeating: 0, count: 256)
            for y in 182..<218 {
                for x in 12..<308 { counts[Int(frame[y * 320 + x])] += 1 }
            }
            let low = counts.firstIndex { $0 > 0 } ?? 0
            let high = counts.lastIndex { $0 > 0 } ?? 0
            return (low, high, Double(counts[low]) / Double(36 * 296))
        }
        var solid = 0
        for (index, frame) in frames.enumerated() {
            let t = Double(index) / Double(MediaFixtures.frameRate)
            let (low, high, share) = spread(frame)
            if t >= 0.4 + 0.001 && t <= 1.6 - 0.001 {
                // Solid black (a few codec ripples at most): the white digits (~235) are gone from every frame.
                #expect(high <= 24 && share >= 0.98, "frame \(index) is not solid black: \(low)...\(high), \(share)")
                solid += 1
            } else if t < 0.36 || t > 1.64 {
                #expect(high - low > 50, "frame \(index) should show the pattern")
            }
        }
        #expect(solid >= 28)

        // The muted interval is silent; the tone interval and the rest are not.
        #expect(try MediaComparison.rms(of: output, from: 0.85, to: 1.15, tools: fixtures.tools) < 0.001)
        #expect(try MediaComparison.rms(of: output, from: 0.2, to: 0.6, tools: fixtures.tools) > 0.05)
        #expect(try MediaComparison.rms(of: output, from: 1.55, to: 1.65, tools: fixtures.tools) > 0.02)

        // Outside the declared regions it matches the original.
        let report = try MediaComparison.compare(
            original: fixtures.video, derivative: output, rectangles: Self.spec.rectangles,
            intervals: Self.spec.intervals, tools: fixtures.tools)
        #expect(report.passes, "\(report)")
        #expect(report.frames == frames.count)
        #expect((report.minimumPSNR ?? 0) >= MediaComparison.minimumPSNR)
        #expect((report.audioCorrelation ?? 0) >= MediaComparison.minimumCorrelation)

        // Declaring less than was covered fails the comparison.
        let undeclared = try MediaComparison.compare(
            original: fixtures.video, derivative: output, rectangles: [], intervals: Self.spec.intervals,
            tools: fixtures.tools)
        #expect(!undeclared.passes && (undeclared.minimumPSNR ?? 100) < MediaComparison.minimumPSNR)
        let unmuted = try MediaComparison.compare(
            original: fixtures.video, derivative: output, rectangles: Self.spec.rectangles, intervals: [],
            tools: fixtures.tools)
        #expect(!unmuted.passes && (unmuted.audioCorrelation ?? 1) < MediaComparison.minimumCorrelation)

        #expect(try fixtures.exiftoolLeaks(fixtures.video).count >= 3)
        #expect(try fixtures.exiftoolLeaks(output) == [])
        #expect(try MediaProbe.probe(output, tools: fixtures.tools).sensitiveTags == [])
    }

    @Test func photoAndAudioDerivativesCarryNoMetadata() throws {
        let fixtures = try MediaFixtures.shared()
        #expect(try fixtures.exiftoolLeaks(fixtures.photo).count >= 5)
        for ext in ["jpg", "png"] {
            let output = fixtures.path("card.\(ext)")
            let spec = MediaRedactionSpec(rectangles: [.init(x: 20, y: 20, width: 100, height: 60)])
            _ = try MediaRedactor.redact(
                input: fixtures.photo, spec: spec, specName: "spec", output: output, tools: fixtures.tools)
            #expect(try fixtures.exiftoolLeaks(output) == [], "\(ext)")
            let frame = try #require(try fixtures.grayFrames(output).first)
            #expect(frame[50 * 320 + 60] < 24)
        }
        for ext in ["m4a", "wav"] {
            let output = fixtures.path("voice.\(ext)")
            let spec = MediaRedactionSpec(intervals: [.init(start: 0.5, end: 1.0)])
            _ = try MediaRedactor.redact(
                input: fixtures.audio, spec: spec, specName: "spec", output: output, tools: fixtures.tools)
            #expect(try fixtures.exiftoolLeaks(output) == [], "\(ext)")
            #expect(try MediaComparison.rms(of: output, from: 0.55, to: 0.95, tools: fixtures.tools) < 0.001)
        }
    }

    @Test func annotationBytesAreCanonicalAndRoundTrip() throws {
        let annotation = MediaAnnotation(
            kind: .video, originalSHA256: String(repeating: "a", count: 64),
            derivativeSHA256: String(repeating: "b", count: 64), derivativeName: "x.mp4",
            rectangles: Self.spec.rectangles, intervals: Self.spec.intervals,
            metadataRemoved: [.init(scope: "format", key: "location")], streamsRemoved: 0, chaptersRemoved: 0,
            tools: ["ffmpeg 5.1"])
        let bytes = annotation.canonicalBytes()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\"chapters_removed\":0,\"derivative_name\":\"x.mp4\""))
        #expect(!text.contains("\n") && !text.contains(" :"))
        let decoded = try MediaAnnotation.decode(bytes, name: "a.json")
        #expect(decoded == annotation && decoded.canonicalBytes() == bytes)
        var bad = annotation
        bad.originalSHA256 = "zz"
        #expect(throws: MediaError.self) { try MediaAnnotation.decode(bad.canonicalBytes(), name: "a.json") }
    }

    @Test func badInputIsRefusedAndNothingIsWritten() throws {
        let fixtures = try MediaFixtures.shared()
        let data = try #require(FileManager.default.contents(atPath: fixtures.video))
        let truncated = fixtures.path("truncated.mp4")
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: truncated))
        let text = fixtures.path("notes.mp4")
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: text))
        let gif = fixtures.path("anim.gif")
        try MediaFixtures.run(
            try #require(ExternalTool.ffmpeg.url).path,
            ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", gif])
        let cases: [(String, MediaRedactionSpec, (MediaError) -> Bool)] = [
            (truncated, .init(), { if case .unreadableMedia = $0 { true } else { false } }),
            (text, .init(), { if case .unreadableMedia = $0 { true } else { false } }),
            (gif, .init(), { if case .unsupportedContainer = $0 { true } else { false } }),
            (fixtures.path("missing.mp4"), .init(), { $0 == .fileMissing(path: $0.missingPath) }),
            (
                fixtures.video, .init(rectangles: [.init(x: 300, y: 200, width: 40, height: 10)]),
                { if case .specDoesNotFit(_, let r) = $0 { r.contains("outside") } else { false } }
            ),
            (
                fixtures.video, .init(intervals: [.init(start: 1.5, end: 2.5)]),
                { if case .specDoesNotFit(_, let r) = $0 { r.contains("past the end") } else { false } }
            ),
        ]
        for (input, spec, matches) in cases {
            let output = fixtures.path("out.mp4")
            #expect {
                _ = try MediaRedactor.redact(
                    input: input, spec: spec, specName: "spec", output: output, tools: fixtures.tools)
            } throws: { error in
                guard let error = error as? MediaError else { return false }
                return matches(error)
            }
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        // Nothing else (no partial file of this test's output) was left next to the outputs; other tests write into
        // the shared fixtures folder at the same time.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixtures.folder.path)
        #expect(!leftovers.contains { $0.contains(".partial-") && $0.contains("out.mp4") })
        #expect(throws: MediaError.toolMissing(tool: "ffmpeg")) { try MediaTools.locate(searchPath: "/nonexistent") }
    }
}

extension MediaError {
    fileprivate var missingPath: String {
        if case .fileMissing(let path) = self { return path }
        return ""
    }
}
