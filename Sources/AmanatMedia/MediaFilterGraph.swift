import Foundation

/// x264's speed/size trade-off for video derivatives (the quality, CRF 18, is the same for all).
public enum VideoPreset: String, Sendable, CaseIterable {
    /// About 4x real time for 720p on 2 cores; files about twice as large as `veryfast`.
    case ultrafast
    case superfast
    /// The default: about 1.5x real time for 720p on 2 cores.
    case veryfast
    case faster
    case fast
    case medium
}

/// The ffmpeg arguments that make a derivative: the filter graph for a spec and the metadata allow-list.
public enum MediaFilterGraph {
    /// A number for an ffmpeg expression: fixed notation, at most 6 decimals, no locale.
    static func number(_ value: Double) -> String {
        var text = String(format: "%.6f", locale: Locale(identifier: "en_US_POSIX"), value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `between(t,a,b)` for one range.
    static func between(_ start: Double, _ end: Double) -> String { "between(t,\(number(start)),\(number(end)))" }

    /// The video filter chain for the rectangles (input `[0:v:0]`, output `[v]`), or nil when there is no picture.
    public static func videoFilter(_ spec: MediaRedactionSpec, info: MediaInfo) -> String? {
        guard info.hasVideo else { return nil }
        var parts: [String] = []
        var current = "[0:v:0]"
        var label = 0
        func next() -> String {
            label += 1
            return "[r\(label)]"
        }
        for r in spec.rectangles {
            let enable: String
            if r.start == nil && r.end == nil {
                enable = ""
            } else {
                enable = ":enable='\(between(r.start ?? 0, r.end ?? max(info.duration, 1e6)))'"
            }
            switch r.style {
            case .fill:
                let out = next()
                parts.append(
                    "\(current)drawbox=x=\(r.x):y=\(r.y):w=\(r.width):h=\(r.height):color=black:t=fill\(enable)\(out)")
                current = out
            case .pixelate:
                let base = next()
                let copy = next()
                let blocks = next()
                let out = next()
                let cellsX = max(1, r.width / 16)
                let cellsY = max(1, r.height / 16)
                parts.append("\(current)split\(base)\(copy)")
                parts.append(
                    "\(copy)crop=\(r.width):\(r.height):\(r.x):\(r.y),scale=\(cellsX):\(cellsY):flags=area,"
                        + "scale=\(r.width):\(r.height):flags=neighbor\(blocks)")
                parts.append("\(base)\(blocks)overlay=x=\(r.x):y=\(r.y)\(enable)\(out)")
                current = out
            }
        }
        // Even sizes for yuv420p encoders; the picture itself is not scaled.
        parts.append("\(current)format=yuv420p[v]")
        return parts.joined(separator: ";")
    }

    /// The audio filter chain for the intervals (input `[0:a:0]`, output `[a]`), or nil when there is no sound.
    public static func audioFilter(_ spec: MediaRedactionSpec, info: MediaInfo) -> String? {
        guard info.hasAudio else { return nil }
        let all = spec.intervals.map { between($0.start, $0.end) }
        guard !all.isEmpty else { return "[0:a:0]anull[a]" }
        let muted = "[0:a:0]volume=volume=0:enable='\(all.joined(separator: "+"))'"
        let tones = spec.intervals.filter { $0.audio == .tone }.map { between($0.start, $0.end) }
        if tones.isEmpty { return muted + "[a]" }
        let rate = info.audioSampleRate ?? 48000
        return muted + "[m];"
            + "sine=frequency=1000:sample_rate=\(rate):duration=\(number(info.duration)),"
            + "volume=volume=0:enable='not(\(tones.joined(separator: "+")))'[s];"
            + "[m][s]amix=inputs=2:duration=first:normalize=0[a]"
    }

    /// Every argument after `-i INPUT` for a derivative written to `output` (whose extension picks the encoders).
    /// - Throws: ``MediaError/unsupportedOutput(path:extension:)`` for an extension that does not suit the media.
    public static func arguments(
        spec: MediaRedactionSpec, info: MediaInfo, output: String, outputExtension: String,
        preset: VideoPreset = .ultrafast
    ) throws(MediaError) -> [String] {
        let ext = outputExtension.lowercased()
        var filters: [String] = []
        var maps: [String] = []
        var codecs: [String] = []
        let muxer: String
        switch (info.kind, ext) {
        case (.video, "mp4"), (.video, "mov"):
            muxer = ext == "mp4" ? "mp4" : "mov"
            if let v = videoFilter(spec, info: info) {
                filters.append(v)
                maps += ["-map", "[v]"]
            }
            if let a = audioFilter(spec, info: info) {
                filters.append(a)
                maps += ["-map", "[a]"]
            }
            codecs = [
                "-c:v", "libx264", "-preset", preset.rawValue, "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-b:a", "160k",
                // x264 writes its version and settings into a user-data SEI unit; remove every SEI unit.
                "-bsf:v", "filter_units=remove_types=6",
            ]
        case (.audio, "m4a"), (.audio, "wav"), (.video, "m4a"), (.video, "wav"):
            muxer = ext == "m4a" ? "ipod" : "wav"
            guard let a = audioFilter(spec, info: info) else {
                throw .unsupportedOutput(path: output, extension: ext)
            }
            filters.append(a)
            maps += ["-map", "[a]"]
            codecs = ext == "m4a" ? ["-c:a", "aac", "-b:a", "160k"] : ["-c:a", "pcm_s16le"]
        case (.photo, "jpg"), (.photo, "jpeg"), (.photo, "png"):
            muxer = "image2"
            if let v = videoFilter(spec, info: info) {
                filters.append(
                    v.replacingOccurrences(
                        of: "format=yuv420p", with: ext == "png" ? "format=rgb24" : "format=yuvj420p"))
                maps += ["-map", "[v]"]
            }
            codecs =
                ext == "png" ? ["-frames:v", "1", "-c:v", "png"] : ["-frames:v", "1", "-c:v", "mjpeg", "-q:v", "2"]
        default:
            throw .unsupportedOutput(path: output, extension: ext)
        }
        var arguments: [String] = []
        if !filters.isEmpty { arguments += ["-filter_complex", filters.joined(separator: ";")] }
        arguments += maps + codecs + metadataAllowList(muxer: muxer)
        arguments += ["-f", muxer, "-y", output]
        return arguments
    }

    /// What every derivative keeps of the original's metadata: nothing but what the encoder and muxer need to make a
    /// playable file. No global or stream tags, no chapters, no subtitle/data/attachment streams (only the mapped
    /// video and audio are written), no encoder version strings, no creation time.
    public static func metadataAllowList(muxer: String) -> [String] {
        var list = [
            "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1", "-sn", "-dn",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        ]
        if muxer == "mp4" || muxer == "mov" || muxer == "ipod" { list += ["-movflags", "+faststart"] }
        // One picture, written to exactly the name given (a `%` in it is no frame-number pattern).
        if muxer == "image2" { list += ["-update", "1"] }
        return list
    }
}
