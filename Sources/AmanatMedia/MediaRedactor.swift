import AmanatCrypto
import Foundation

/// Making a derivative: probe, validate the spec against the real media, run ffmpeg into a temporary file beside the
/// output, check the result, rename it into place. Nothing is left at the output path on failure.
public enum MediaRedactor {
    /// Writes the derivative of `input` under `spec` to `output` and returns its annotation.
    /// - Parameter specName: the spec's file name, for errors.
    /// - Throws: ``MediaError`` for bad media, a spec that does not fit, a missing tool or a failed write.
    public static func redact(
        input: String, spec: MediaRedactionSpec, specName: String, output: String, tools: MediaTools,
        preset: VideoPreset = .ultrafast
    ) throws(MediaError) -> MediaAnnotation {
        let info = try MediaProbe.probe(input, tools: tools)
        try spec.validate(against: info, name: specName)
        let outputURL = URL(fileURLWithPath: output)
        let ext = outputURL.pathExtension
        let directory = outputURL.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .cannotWrite(path: output, reason: "its folder does not exist")
        }
        let temporary = outputURL.deletingLastPathComponent()
            .appendingPathComponent(".\(outputURL.lastPathComponent).partial-\(UUID().uuidString).\(ext)").path
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let arguments = try MediaFilterGraph.arguments(
            spec: spec, info: info, output: MediaTools.fileURL(temporary), outputExtension: ext, preset: preset)
        do {
            try tools.runFFmpeg(MediaTools.inputArguments(input) + arguments)
        } catch .toolFailed(_, _, let diagnostics) {
            let cleaned = diagnostics.replacingOccurrences(of: MediaTools.fileURL(temporary), with: output)
                .replacingOccurrences(of: MediaTools.fileURL(input), with: input)
            throw .unreadableMedia(path: input, reason: "ffmpeg: " + String(cleaned.prefix(300)))
        }
        // The derivative must itself be readable media with nothing sensitive left in it.
        let derived = try MediaProbe.probe(temporary, tools: tools)
        if let leaked = derived.sensitiveTags.first {
            throw .cannotWrite(path: output, reason: "ffmpeg kept the metadata tag \(leaked.key); not written")
        }
        let originalHash = try MediaHash.file(input)
        let derivativeHash = try MediaHash.file(temporary)
        guard rename(temporary, output) == 0 else {
            throw .cannotWrite(path: output, reason: String(cString: strerror(errno)))
        }
        return MediaAnnotation(
            kind: info.kind, originalSHA256: originalHash, derivativeSHA256: derivativeHash,
            derivativeName: outputURL.lastPathComponent, rectangles: spec.rectangles, intervals: spec.intervals,
            metadataRemoved: info.sensitiveTags.map { MediaAnnotation.RemovedTag(scope: $0.scope, key: $0.key) },
            streamsRemoved: info.otherStreams, chaptersRemoved: info.chapters,
            tools: [tools.ffmpegVersion, tools.ffprobeVersion])
    }
}

/// SHA-256 of files, as lowercase hex.
public enum MediaHash {
    /// Streams the file through SHA-256.
    public static func file(_ path: String) throws(MediaError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .fileMissing(path: path) }
        defer { try? handle.close() }
        do {
            var hasher = try SHA256()
            while true {
                let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
                if chunk.isEmpty { break }
                try hasher.update(chunk)
            }
            return hex(try hasher.finalize())
        } catch {
            throw .unreadableMedia(path: path, reason: "it could not be read to the end")
        }
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
