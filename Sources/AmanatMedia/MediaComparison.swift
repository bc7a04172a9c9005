import Foundation

/// Checks that a derivative differs from its original only inside the declared rectangles and intervals: both are
/// decoded, the declared rectangles are painted identically on both, and ffmpeg's psnr filter measures every frame;
/// audio is decoded to PCM and correlated outside the declared intervals.
public enum MediaComparison {
    /// The figures of one comparison.
    public struct Report: Sendable, Equatable {
        /// Frames compared.
        public var frames: Int
        /// The lowest PSNR of any frame outside the rectangles, in dB (infinity for identical pictures; nil: no video).
        public var minimumPSNR: Double?
        /// The mean PSNR over frames (nil: no video).
        public var meanPSNR: Double?
        /// Pearson correlation of the audio outside the intervals (nil: no audio).
        public var audioCorrelation: Double?
        /// Seconds of audio compared.
        public var audioSecondsCompared: Double
        /// Whether the figures meet the thresholds.
        public var passes: Bool
    }

    /// The default thresholds (Specs/media-redaction.md).
    public static let minimumPSNR = 35.0
    public static let minimumCorrelation = 0.95
    /// Audio this close to an interval's edge is left out (encoder frames blur the edge).
    public static let guardSeconds = 0.05

    public static func compare(
        original: String, derivative: String, rectangles: [MediaRedactionSpec.Rectangle],
        intervals: [MediaRedactionSpec.Interval], tools: MediaTools
    ) throws(MediaError) -> Report {
        let originalInfo = try MediaProbe.probe(original, tools: tools)
        let derivedInfo = try MediaProbe.probe(derivative, tools: tools)
        var report = Report(
            frames: 0, minimumPSNR: nil, meanPSNR: nil, audioCorrelation: nil, audioSecondsCompared: 0, passes: true)
        if originalInfo.hasVideo && derivedInfo.hasVideo {
            let (frames, minimum, mean) = try psnr(
                original: original, derivative: derivative, rectangles: rectangles, info: originalInfo, tools: tools)
            report.frames = frames
            report.minimumPSNR = minimum
            report.meanPSNR = mean
            if frames == 0 || minimum < minimumPSNR { report.passes = false }
        } else if originalInfo.hasVideo != derivedInfo.hasVideo {
            report.passes = false
        }
        if originalInfo.hasAudio && derivedInfo.hasAudio {
            let a = try pcm(original, tools: tools)
            let b = try pcm(derivative, tools: tools)
            let (correlation, compared) = correlate(a, b, excluding: intervals)
            report.audioCorrelation = correlation
            report.audioSecondsCompared = Double(compared) / Double(sampleRate)
            if compared > 0 && correlation < minimumCorrelation { report.passes = false }
        } else if originalInfo.hasAudio != derivedInfo.hasAudio {
            report.passes = false
        }
        return report
    }

    /// Per-frame PSNR with every rectangle painted black on both inputs: (frames, minimum, mean).
    static func psnr(
        original: String, derivative: String, rectangles: [MediaRedactionSpec.Rectangle], info: MediaInfo,
        tools: MediaTools
    ) throws(MediaError) -> (Int, Double, Double) {
        let stats = FileManager.default.temporaryDirectory.appendingPathComponent(
            "amanat-psnr-\(UUID().uuidString).log"
        )
        .path
        defer { try? FileManager.default.removeItem(atPath: stats) }
        let covers = rectangles.map { r -> String in
            let enable =
                r.start == nil && r.end == nil
                ? "" : ":enable='\(MediaFilterGraph.between(r.start ?? 0, r.end ?? max(info.duration, 1e6)))'"
            return "drawbox=x=\(r.x):y=\(r.y):w=\(r.width):h=\(r.height):color=black:t=fill\(enable)"
        }
        let chain = (covers + ["format=yuv420p"]).joined(separator: ",")
        // The stats file path goes through the filter parser: keep it free of its special characters.
        let escapedStats = stats.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        let graph = "[0:v:0]\(chain)[a];[1:v:0]\(chain)[b];[a][b]psnr=stats_file='\(escapedStats)'"
        try tools.runFFmpeg(
            MediaTools.inputArguments(original) + MediaTools.inputArguments(derivative) + [
                "-filter_complex", graph, "-an", "-f", "null", "-",
            ])
        guard let text = try? String(contentsOfFile: stats, encoding: .utf8) else {
            throw .toolFailed(tool: "ffmpeg", status: 0, diagnostics: "the psnr filter wrote no statistics")
        }
        var values: [Double] = []
        for line in text.split(separator: "\n") {
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("psnr_avg:") }) else { continue }
            let value = field.dropFirst("psnr_avg:".count)
            values.append(value == "inf" ? .infinity : Double(value) ?? 0)
        }
        guard !values.isEmpty else { return (0, 0, 0) }
        let finite = values.map { $0.isFinite ? $0 : 100 }
        return (values.count, values.min() ?? 0, finite.reduce(0, +) / Double(finite.count))
    }

    static let sampleRate = 16000

    /// The first audio stream as mono 16 kHz 16-bit PCM.
    static func pcm(_ path: String, tools: MediaTools) throws(MediaError) -> [Int16] {
        let output = try tools.runFFmpeg(
            MediaTools.inputArguments(path) + [
                "-map", "0:a:0", "-ac", "1", "-ar", "\(sampleRate)", "-f", "s16le", "-c:a", "pcm_s16le", "-",
            ])
        let count = output.stdout.count / 2
        var samples = [Int16](repeating: 0, count: count)
        output.stdout.withUnsafeBytes { raw in
            for i in 0..<count {
                samples[i] = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
            }
        }
        return samples
    }

    /// Pearson correlation over samples outside the intervals (each widened by ``guardSeconds``): (r, samples used).
    /// Audio that is silent in both is a perfect match.
    public static func correlate(
        _ a: [Int16], _ b: [Int16], excluding intervals: [MediaRedactionSpec.Interval]
    )
        -> (Double, Int)
    {
        let n = min(a.count, b.count)
        var excluded = [Bool](repeating: false, count: n)
        for interval in intervals {
            let start = max(0, Int(((interval.start - guardSeconds) * Double(sampleRate)).rounded(.down)))
            let end = min(n, Int(((interval.end + guardSeconds) * Double(sampleRate)).rounded(.up)))
            if start < end { for i in start..<end { excluded[i] = true } }
        }
        var sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
        var used = 0
        for i in 0..<n where !excluded[i] {
            let x = Double(a[i]), y = Double(b[i])
            sa += x
            sb += y
            saa += x * x
            sbb += y * y
            sab += x * y
            used += 1
        }
        guard used > 0 else { return (1, 0) }
        let count = Double(used)
        let cov = sab - sa * sb / count
        let va = saa - sa * sa / count
        let vb = sbb - sb * sb / count
        if va <= 1e-9 && vb <= 1e-9 { return (1, used) }
        guard va > 1e-9, vb > 1e-9 else { return (0, used) }
        return (cov / (va * vb).squareRoot(), used)
    }

    /// Root mean square of samples from `start` to `end` seconds of a decoded track (for checking muted intervals).
    public static func rms(
        of path: String, from start: Double, to end: Double, tools: MediaTools
    ) throws(MediaError)
        -> Double
    {
        let samples = try pcm(path, tools: tools)
        let lower = max(0, Int(start * Double(sampleRate)))
        let upper = min(samples.count, Int(end * Double(sampleRate)))
        guard lower < upper else { return 0 }
        var sum = 0.0
        for i in lower..<upper { sum += Double(samples[i]) * Double(samples[i]) }
        return (sum / Double(upper - lower)).squareRoot() / 32768
    }
}
