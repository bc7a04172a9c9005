import Foundation

/// What ffprobe reports about a media file: its kind, size, duration, streams and metadata tags.
public struct MediaInfo: Sendable, Equatable {
    /// What a file is, for choosing encoders and checks.
    public enum Kind: String, Sendable, Codable {
        case video, audio, photo
    }

    /// One metadata tag, where it was found (`format`, `stream 0`, `frame`), its key and value.
    public struct Tag: Sendable, Equatable, Codable {
        public var scope: String
        public var key: String
        public var value: String
        /// The privacy category of the tag, or nil when it is harmless (what a player needs).
        public var category: MetadataCategory?
    }

    public var kind: Kind
    /// ffprobe's `format_name` (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    public var formatName: String
    public var width: Int?
    public var height: Int?
    /// Seconds (0 for a photo).
    public var duration: Double
    public var hasVideo: Bool
    public var hasAudio: Bool
    public var audioSampleRate: Int?
    /// Streams other than one video and one audio (subtitles, data, attachments, thumbnails, extra tracks).
    public var otherStreams: Int
    public var chapters: Int
    public var tags: [Tag]

    public init(
        kind: Kind, formatName: String, width: Int?, height: Int?, duration: Double, hasVideo: Bool, hasAudio: Bool,
        audioSampleRate: Int?, otherStreams: Int, chapters: Int, tags: [Tag]
    ) {
        self.kind = kind
        self.formatName = formatName
        self.width = width
        self.height = height
        self.duration = duration
        self.hasVideo = hasVideo
        self.hasAudio = hasAudio
        self.audioSampleRate = audioSampleRate
        self.otherStreams = otherStreams
        self.chapters = chapters
        self.tags = tags
    }

    /// Tags that reveal a place, a device, a time or a person.
    public var sensitiveTags: [Tag] { tags.filter { $0.category != nil } }
}

/// Why a metadata tag is dangerous to publish.
public enum MetadataCategory: String, Sendable, Codable, CaseIterable {
    case location, device, time, author, software, other
}

extension MetadataCategory {
    /// The category of a tag key (case-insensitive), or nil for a tag a player needs (codec, language, rotation…).
    public static func classify(_ key: String, value: String = "") -> MetadataCategory? {
        let k = key.lowercased()
        // ffmpeg's bitexact mode names the codec of a derivative without any version ("Lavc libx264").
        if k == "encoder", value.hasPrefix("Lavc "),
            value.dropFirst(5).first?.isLetter == true,
            value.dropFirst(5).unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
            })
        {
            return nil
        }
        let harmless: Set<String> = [
            "major_brand", "minor_version", "compatible_brands", "handler_name", "vendor_id", "language",
            "rotate", "duration", "encoder_delay", "xresolution", "yresolution", "resolutionunit", "ycbcrpositioning",
            "exifversion", "componentsconfiguration", "flashpixversion", "colorspace", "pixelxdimension",
            "pixelydimension", "orientation",
        ]
        if harmless.contains(k) { return nil }
        if k.hasPrefix("gps") || k.contains("location") || k.contains("xyz") || k.contains("latitude")
            || k.contains("longitude") || k.contains("altitude")
        {
            return .location
        }
        if k.contains("make") || k.contains("model") || k.contains("serial") || k.contains("lens")
            || k.contains("device") || k.contains("camera") || k.contains("body")
        {
            return .device
        }
        if k.contains("date") || k.contains("time") || k.contains("creation") || k == "year" { return .time }
        if k.contains("artist") || k.contains("author") || k.contains("copyright") || k.contains("owner")
            || k.contains("composer") || k.contains("comment") || k.contains("title") || k.contains("album")
            || k.contains("description") || k.contains("keywords") || k.contains("user")
        {
            return .author
        }
        if k.contains("software") || k.contains("encoder") || k.contains("encoded_by") || k.contains("tool") {
            return .software
        }
        return .other
    }
}

/// Reading a media file's facts and metadata with ffprobe.
public enum MediaProbe {
    /// Probes `path`: format and streams, plus the tags of its first frame (photos' EXIF/GPS).
    /// - Throws: ``MediaError`` `fileMissing`, `unreadableMedia` (corrupt, truncated, not media), tool errors.
    public static func probe(_ path: String, tools: MediaTools) throws(MediaError) -> MediaInfo {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .fileMissing(path: path)
        }
        let output = try ToolRun.run(
            tools.ffprobe,
            [
                "-v", "error", "-show_format", "-show_streams", "-show_chapters", "-show_frames", "-read_intervals",
                "%+#1", "-of", "json",
            ] + MediaTools.inputOptions(path) + [
                MediaTools.fileURL(path)
            ], name: "ffprobe", timeout: 120, allowFailure: true)
        guard output.status == 0 else {
            throw .unreadableMedia(path: path, reason: firstLine(output.stderrTail, removing: path))
        }
        return try parse(output.stdout, path: path)
    }

    static func firstLine(_ text: String, removing path: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? "ffprobe could not read it"
        let cleaned = line.replacingOccurrences(of: MediaTools.fileURL(path) + ": ", with: "")
        return String(cleaned.prefix(200))
    }

    struct Probe: Decodable {
        struct Stream: Decodable {
            var index: Int
            var codec_type: String?
            var codec_name: String?
            var width: Int?
            var height: Int?
            var sample_rate: String?
            var duration: String?
            var nb_frames: String?
            var disposition: [String: Int]?
            var tags: [String: String]?
        }
        struct Format: Decodable {
            var format_name: String
            var duration: String?
            var tags: [String: String]?
        }
        struct Frame: Decodable {
            var media_type: String?
            var tags: [String: String]?
        }
        var streams: [Stream]?
        var format: Format?
        var frames: [Frame]?
        var chapters: [ChapterTags]?
        struct ChapterTags: Decodable { var tags: [String: String]? }
    }

    static let imageFormats: Set<String> = ["image2", "jpeg_pipe", "png_pipe", "webp_pipe", "tiff_pipe"]
    static let supportedFormats: [String] = [
        "mov", "mp4", "matroska", "webm", "avi", "mp3", "wav", "ogg", "flac", "aac",
    ]

    static func parse(_ json: [UInt8], path: String) throws(MediaError) -> MediaInfo {
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: Data(json))
        } catch {
            throw .unreadableMedia(path: path, reason: "ffprobe's report could not be read")
        }
        guard let format = probe.format else { throw .unreadableMedia(path: path, reason: "no container found") }
        let streams = probe.streams ?? []
        let isImage = imageFormats.contains(format.format_name)
        let names = format.format_name.split(separator: ",").map(String.init)
        guard isImage || names.contains(where: { supportedFormats.contains($0) }) else {
            throw .unsupportedContainer(path: path, format: format.format_name)
        }
        let video = streams.first { $0.codec_type == "video" && $0.disposition?["attached_pic"] != 1 }
        let audio = streams.first { $0.codec_type == "audio" }
        guard video != nil || audio != nil else {
            throw .unreadableMedia(path: path, reason: "it has no video or audio stream")
        }
        var kind: MediaInfo.Kind = video == nil ? .audio : .video
        if isImage { kind = .photo }
        var duration = Double(format.duration ?? "") ?? 0
        if kind != .photo {
            guard duration > 0, duration.isFinite else {
                throw .unreadableMedia(path: path, reason: "its duration cannot be determined")
            }
        } else {
            duration = 0
        }
        if let video, (video.width ?? 0) <= 0 || (video.height ?? 0) <= 0 {
            throw .unreadableMedia(path: path, reason: "its video stream has no picture size")
        }
        var tags: [MediaInfo.Tag] = []
        func add(_ scope: String, _ dictionary: [String: String]?) {
            for (key, value) in (dictionary ?? [:]).sorted(by: { $0.key < $1.key }) {
                tags.append(
                    MediaInfo.Tag(
                        scope: scope, key: key, value: value.trimmingCharacters(in: .whitespaces),
                        category: MetadataCategory.classify(key, value: value)))
            }
        }
        add("format", format.tags)
        for stream in streams { add("stream \(stream.index)", stream.tags) }
        for frame in probe.frames ?? [] { add("frame", frame.tags) }
        for (index, chapter) in (probe.chapters ?? []).enumerated() { add("chapter \(index)", chapter.tags) }
        let counted = [video?.index, audio?.index].compactMap { $0 }
        return MediaInfo(
            kind: kind, formatName: format.format_name, width: video?.width, height: video?.height,
            duration: duration, hasVideo: video != nil, hasAudio: audio != nil,
            audioSampleRate: audio?.sample_rate.flatMap { Int($0) },
            otherStreams: streams.count - counted.count, chapters: probe.chapters?.count ?? 0, tags: tags)
    }
}
