import AmanatMedia
import AmanatTestSupport
import Foundation
import Testing

/// Synthetic media made once per test process with the stock ffmpeg and exiftool: a 2 s 320x240 test pattern with a
/// drawn synthetic ID number and a 440 Hz tone, a photo and an audio file, each with GPS, device, time and author
/// metadata written in.
final class MediaFixtures: Sendable {
    let folder: URL
    let video: String
    let photo: String
    let audio: String
    let tools: MediaTools

    static let duration = 2.0
    static let frameRate = 25
    /// A made-up number in the shape of a Chinese resident ID (never a real person's).
    static let syntheticID = "650000199001010000"

    private init() throws {
        let ffmpeg = try #require(ExternalTool.ffmpeg.url).path
        let exiftool = try #require(ExternalTool.exiftool.url).path
        Self.removeFoldersOfFinishedRuns()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "amanat-media-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        video = folder.appendingPathComponent("testimony.mp4").path
        photo = folder.appendingPathComponent("card.jpg").path
        audio = folder.appendingPathComponent("voice.m4a").path
        let metadata = [
            "-metadata", "location=+43.8000+087.6000/", "-metadata", "make=SynthCam", "-metadata", "model=S1",
            "-metadata", "creation_time=2024-01-02T03:04:05Z", "-metadata", "artist=Synthetic Author",
            "-metadata", "comment=synthetic", "-movflags", "use_metadata_tags",
        ]
        try Self.run(
            ffmpeg,
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "testsrc2=s=320x240:r=\(Self.frameRate):d=\(Self.duration)", "-f", "lavfi", "-i",
                "sine=frequency=440:sample_rate=48000:d=\(Self.duration)", "-vf",
                "drawtext=text='ID \(Self.syntheticID)':x=20:y=190:fontsize=18:fontcolor=white:box=1:boxcolor=blue",
                "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-c:a", "aac", "-b:a", "192k",
            ] + metadata + [video])
        try Self.run(
            ffmpeg,
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v",
                "1", photo,
            ])
        try Self.run(
            exiftool,
            [
                "-q", "-overwrite_original", "-GPSLatitude=43.8", "-GPSLatitudeRef=N", "-GPSLongitude=87.6",
                "-GPSLongitudeRef=E", "-Make=SynthCam", "-Model=S1", "-SerialNumber=SYN0001",
                "-DateTimeOriginal=2024:01:02 03:04:05", "-Artist=Synthetic Author", "-Software=SynthEdit", photo,
            ])
        try Self.run(
            ffmpeg,
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "sine=frequency=300:sample_rate=48000:d=\(Self.duration)", "-c:a", "aac",
            ] + metadata + [audio])
        tools = try MediaTools.locate()
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let result = try Subprocess.run(tool, arguments)
        #expect(result.status == 0, "\(tool) failed: \(result.stderrText)")
    }

    private static let made = Result { try MediaFixtures() }

    /// The fixtures (made on first use).
    static func shared() throws -> MediaFixtures { try made.get() }

    /// A fresh path in the fixture folder.
    func path(_ name: String) -> String {
        folder.appendingPathComponent("\(UUID().uuidString.prefix(8))-\(name)").path
    }

    /// Decodes every frame of `path` as 8-bit gray (Y), in presentation order.
    func grayFrames(_ path: String) throws -> [[UInt8]] {
        let ffmpeg = try #require(ExternalTool.ffmpeg.url)
        let result = try Subprocess.run(
            ffmpeg, ["-hide_banner", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        #expect(result.status == 0)
        let size = 320 * 240
        return stride(from: 0, to: result.stdout.count - size + 1, by: size).map {
            Array(result.stdout[$0..<($0 + size)])
        }
    }

    /// Tags exiftool finds in `path` that name a place, device, time, author or software (zero dates are not times).
    /// The fixtures live as long as the test process (they are shared by every suite), so a run cannot remove its
    /// own folder; the next run removes those of processes that have ended (`amanat-media-<pid>-<uuid>`).
    static func removeFoldersOfFinishedRuns() {
        let temporary = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] {
            let parts = name.split(separator: "-")
            guard name.hasPrefix("amanat-media-"), parts.count > 3, let pid = Int32(parts[2]), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
        }
    }

    func exiftoolLeaks(_ path: String) throws -> [String] {
        let exiftool = try #require(ExternalTool.exiftool.url)
        let result = try Subprocess.run(exiftool, ["-a", "-G1", "-s", "-n", path])
        #expect(result.status == 0)
        let words = [
            "gps", "location", "make", "model", "serial", "author", "artist", "software", "creator", "comment",
            "date", "time", "xmp", "iptc", "thumbnail", "lens", "owner", "copyright",
        ]
        return result.stdoutText.split(separator: "\n").map(String.init).filter { line in
            guard !line.hasPrefix("[System]"), !line.hasPrefix("[ExifTool]") else { return false }
            // "[Group]   TagName   : value": the tag's name, without its group.
            let name =
                line.split(separator: ":").first.map {
                    $0.split(separator: "]").last.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
                } ?? ""
            guard words.contains(where: { name.contains($0) }) else { return false }
            // Durations and time scales are not timestamps; a zero date is "not set".
            if name.contains("timescale") || name.contains("duration") || name.contains("previewtime")
                || name.contains("postertime") || name.contains("selectiontime") || name.contains("currenttime")
            {
                return false
            }
            if line.hasSuffix("0000:00:00 00:00:00") { return false }
            return true
        }
    }
}
