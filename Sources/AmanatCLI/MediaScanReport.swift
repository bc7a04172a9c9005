import AmanatMedia
import AmanatRecords
import Foundation

/// `amanat scan` on photos, videos and audio files: the metadata that would leak if the file were published.
enum MediaScanReport {
    /// Extensions scanned as media (with ffprobe) instead of as text.
    static let extensions: Set<String> = [
        "mp4", "m4v", "mov", "m4a", "mkv", "webm", "avi", "mp3", "wav", "ogg", "oga", "flac", "aac", "jpg", "jpeg",
        "png", "3gp",
    ]

    static func isMedia(_ path: String) -> Bool {
        extensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased())
    }

    /// Probes each file; returns the lines to print and whether anything sensitive was found.
    static func report(_ files: [String]) throws -> (lines: [String], sensitive: Bool) {
        try MediaCommandSupport.mapping {
            let tools = try MediaTools.locate()
            var infos: [(String, MediaInfo)] = []
            // Every file is probed before anything is printed.
            for file in files { infos.append((file, try MediaProbe.probe(file, tools: tools))) }
            var lines: [String] = []
            var sensitive = false
            for (file, info) in infos {
                let tags = info.sensitiveTags
                let shown = UntrustedText.printable(file)
                var facts = "\(info.kind.rawValue)"
                if let w = info.width, let h = info.height { facts += ", \(w)x\(h)" }
                if info.kind != .photo { facts += ", " + String(format: "%.1f s", info.duration) }
                if tags.isEmpty && info.otherStreams == 0 && info.chapters == 0 {
                    lines.append("\(shown): \(facts); no identifying metadata")
                    continue
                }
                sensitive = sensitive || !tags.isEmpty
                lines.append("\(shown): \(facts); \(tags.count) identifying metadata tag\(tags.count == 1 ? "" : "s")")
                for tag in tags {
                    let category = tag.category?.rawValue ?? "other"
                    // A position is shown only as present: the terminal may be watched or recorded.
                    let value = tag.category == .location ? "(present)" : "\"\(clipped(tag.value))\""
                    lines.append(
                        "  \(category)  \(UntrustedText.printable(tag.scope)): "
                            + "\(UntrustedText.printable(tag.key)) = \(UntrustedText.printable(value))")
                }
                if info.otherStreams > 0 {
                    lines.append(
                        "  \(info.otherStreams) other stream(s) (subtitles, data, thumbnails) would be dropped")
                }
                if info.chapters > 0 { lines.append("  \(info.chapters) chapter(s) would be dropped") }
            }
            return (lines, sensitive)
        }
    }

    static func clipped(_ value: String) -> String {
        value.count > 60 ? String(value.prefix(57)) + "…" : value
    }
}
