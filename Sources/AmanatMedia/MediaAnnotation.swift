import Foundation

/// What a publisher declares about one published derivative: which original (by the SHA-256 the collector signed),
/// which derivative, every covered rectangle and muted interval, the metadata removed and the tools used. Its
/// ``canonicalBytes()`` are what the publisher signs.
public struct MediaAnnotation: Sendable, Equatable, Codable {
    public struct RemovedTag: Sendable, Equatable, Codable {
        public var scope: String
        public var key: String

        public init(scope: String, key: String) {
            self.scope = scope
            self.key = key
        }
    }

    /// `amanat-media-annotation/1`.
    public var type: String
    public var kind: MediaInfo.Kind
    public var originalSHA256: String
    public var derivativeSHA256: String
    /// The derivative's file name in the publication folder.
    public var derivativeName: String
    public var rectangles: [MediaRedactionSpec.Rectangle]
    public var intervals: [MediaRedactionSpec.Interval]
    public var metadataRemoved: [RemovedTag]
    public var streamsRemoved: Int
    public var chaptersRemoved: Int
    /// Version lines of the tools (ffmpeg, ffprobe).
    public var tools: [String]

    public static let typeName = "amanat-media-annotation/1"

    public init(
        kind: MediaInfo.Kind, originalSHA256: String, derivativeSHA256: String, derivativeName: String,
        rectangles: [MediaRedactionSpec.Rectangle], intervals: [MediaRedactionSpec.Interval],
        metadataRemoved: [RemovedTag], streamsRemoved: Int, chaptersRemoved: Int, tools: [String]
    ) {
        self.type = MediaAnnotation.typeName
        self.kind = kind
        self.originalSHA256 = originalSHA256
        self.derivativeSHA256 = derivativeSHA256
        self.derivativeName = derivativeName
        self.rectangles = rectangles
        self.intervals = intervals
        self.metadataRemoved = metadataRemoved
        self.streamsRemoved = streamsRemoved
        self.chaptersRemoved = chaptersRemoved
        self.tools = tools
    }

    enum CodingKeys: String, CodingKey {
        case type, kind
        case originalSHA256 = "original_sha256"
        case derivativeSHA256 = "derivative_sha256"
        case derivativeName = "derivative_name"
        case rectangles, intervals
        case metadataRemoved = "metadata_removed"
        case streamsRemoved = "streams_removed"
        case chaptersRemoved = "chapters_removed"
        case tools
    }

    /// The bytes signed: JSON with keys sorted, no insignificant whitespace, `/` unescaped.
    public func canonicalBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail.
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Reads an annotation; rejects another type or malformed hashes.
    public static func decode(_ bytes: [UInt8], name: String) throws(MediaError) -> MediaAnnotation {
        let annotation: MediaAnnotation
        do {
            annotation = try JSONDecoder().decode(MediaAnnotation.self, from: Data(bytes))
        } catch {
            throw .invalidSpec(path: name, reason: "it is not a media annotation")
        }
        let isHex = { (s: String) in
            s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        guard annotation.type == typeName, isHex(annotation.originalSHA256), isHex(annotation.derivativeSHA256) else {
            throw .invalidSpec(path: name, reason: "it is not a \(typeName) with two SHA-256 hashes")
        }
        return annotation
    }
}
