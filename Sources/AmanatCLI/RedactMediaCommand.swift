import AmanatMedia
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat redact-media IN --spec SPEC.json -o OUT`: a metadata-free derivative with rectangles covered and
/// intervals muted.
public struct RedactMediaCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "redact-media",
        abstract: "Make a publishable copy of a video, audio file or photo: rectangles covered, intervals muted.",
        discussion: """
            Runs the stock ffmpeg (5.1 or later; Debian: apt-get install ffmpeg) with an argument array. The copy \
            keeps only what a player needs: no GPS, device, creation time, author, software, chapters, subtitles \
            or thumbnails. Rectangles are filled solid black unless the spec asks for pixelation (faces). The \
            spec format is described in Specs/media-redaction.md.

            OUT's extension picks the format: .mp4 (video), .m4a or .wav (audio), .jpg or .png (photo). OUT is \
            written under a temporary name and renamed when complete; on any error nothing is written.

            Exit status: 0 written, 64 usage, 65 malformed media or spec (or a spec that does not fit the \
            media), 66 a file is missing, 69 ffmpeg is missing, 73 OUT cannot be written.

            With --transcript, the detectors run over the timed transcript and the time of every identifier found \
            (ID numbers, phones, …), widened by --margin seconds, is muted in addition to the spec's intervals.

            Example:
              amanat redact-media 0142.mp4 --spec 0142.redact.json -o public/0142.mp4
              amanat redact-media 0142.mp4 --transcript 0142.vtt -o public/0142.mp4
            """
    )

    @Argument(help: ArgumentHelp("The original video, audio file or photo.", valueName: "in"))
    public var input: String

    @Option(name: .long, help: ArgumentHelp("The media redaction spec (JSON).", valueName: "spec.json"))
    public var spec: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The derivative to write.", valueName: "out"))
    public var output: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A timed transcript (WebVTT or SRT) of the recording: every identifier the detectors find in it is muted.",
            valueName: "file.vtt"))
    public var transcript: String?

    @Option(name: .long, help: "Seconds added before and after each identifier found in the transcript (0 to 10).")
    public var margin: Double = 0.5

    @Option(
        name: .long,
        help: ArgumentHelp(
            "x264 speed for video: ultrafast (default: about 4x real time for 720p on 2 cores, larger files), "
                + "superfast, veryfast (about 2x, half the size), faster, fast, medium.", valueName: "preset"))
    public var preset: String = VideoPreset.ultrafast.rawValue

    @Flag(name: .long, help: "Print the media annotation (hashes, rectangles, intervals, metadata removed) as JSON.")
    public var json = false

    public init() {}

    public func validate() throws {
        if VideoPreset(rawValue: preset) == nil {
            throw ValidationError(
                "--preset must be one of \(VideoPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if !(0...10).contains(margin) { throw ValidationError("--margin must be from 0 to 10 seconds.") }
        if URL(fileURLWithPath: input).standardizedFileURL == URL(fileURLWithPath: output).standardizedFileURL {
            throw ValidationError("The output must not be the input file.")
        }
    }

    public func run() throws {
        try MediaCommandSupport.mapping {
            var redactionSpec: MediaRedactionSpec
            if let spec {
                guard let data = FileManager.default.contents(atPath: spec) else {
                    throw AmanatError(
                        .inputMissing,
                        "\(UntrustedText.printable(spec)) does not exist or cannot be read. Check the path.")
                }
                redactionSpec = try MediaRedactionSpec.parse(Array(data), name: spec)
            } else {
                redactionSpec = MediaRedactionSpec()
            }
            let tools = try MediaTools.locate()
            if let transcript {
                let timed = try MediaCommandSupport.readTranscript(transcript)
                let info = try MediaProbe.probe(input, tools: tools)
                let found = timed.identifierIntervals()
                redactionSpec.addIntervals(
                    found.map { ($0.start, $0.end) }, margin: margin, duration: info.duration,
                    reason: "identifier in the transcript")
                Console.status(
                    "\(found.count) identifier\(found.count == 1 ? "" : "s") in the transcript muted "
                        + "(margin \(margin) s).")
            }
            let annotation = try MediaRedactor.redact(
                input: input, spec: redactionSpec, specName: spec ?? "the spec", output: output, tools: tools,
                preset: VideoPreset(rawValue: preset) ?? .ultrafast)
            if json {
                Console.jsonText(String(decoding: annotation.canonicalBytes(), as: UTF8.self))
            } else {
                Console.out(MediaCommandSupport.summary(annotation, output: output))
            }
        }
    }
}

/// What the media commands share: the mapping of ``MediaError`` to messages and exit codes, summaries.
enum MediaCommandSupport {
    /// Runs `body`; a ``MediaError`` becomes an ``AmanatError`` (a missing tool: ``AmanatError/Kind/toolUnavailable``,
    /// exit 69).
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as MediaError {
            throw amanatError(error)
        }
    }

    /// Reads a WebVTT or SRT file (by its extension, else by its signature).
    static func readTranscript(_ path: String) throws -> TimedTranscript {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AmanatError(
                .inputMissing, "\(UntrustedText.printable(path)) does not exist or cannot be read. Check the path.")
        }
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        let format: TimedTranscript.Format? = ext == "srt" ? .srt : ext == "vtt" ? .webVTT : nil
        do {
            return try TimedTranscript.parse(Array(data), file: path, format: format)
        } catch {
            throw AmanatError(
                .malformedInput,
                "\(UntrustedText.printable(error.description)). Fix the transcript (WebVTT or SRT) and retry.")
        }
    }

    static func amanatError(_ error: MediaError) -> AmanatError { AmanatError(error) }

    static func summary(_ annotation: MediaAnnotation, output: String) -> String {
        var lines = ["Wrote \(UntrustedText.printable(output)) (\(annotation.kind.rawValue))."]
        lines.append("  rectangles covered: \(annotation.rectangles.count)")
        lines.append("  intervals muted: \(annotation.intervals.count)")
        let removed = annotation.metadataRemoved.map { UntrustedText.printable("\($0.scope): \($0.key)") }
        lines.append(
            "  metadata removed: " + (removed.isEmpty ? "none found" : removed.joined(separator: ", ")))
        if annotation.streamsRemoved > 0 { lines.append("  other streams removed: \(annotation.streamsRemoved)") }
        if annotation.chaptersRemoved > 0 { lines.append("  chapters removed: \(annotation.chaptersRemoved)") }
        lines.append("  original sha256:   \(annotation.originalSHA256)")
        lines.append("  derivative sha256: \(annotation.derivativeSHA256)")
        lines.append("  tools: \(annotation.tools.map(UntrustedText.printable).joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}
