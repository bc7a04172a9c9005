import AmanatMedia
import AmanatPublish
import AmanatRecords
import AmanatWorkspace
import Foundation

/// What `amanat verify published/media/<sha256>.<ext> [--original FILE]` reports.
struct MediaVerifyReport: Encodable {
    var annotation: String
    var publisher: String
    var publisherFingerprint: String
    var record: String
    var version: String
    var collector: String?
    var attachmentKind: String
    var mediaKind: String
    var originalSha256: String
    var derivativeSha256: String
    var rectangles: Int
    var intervals: Int
    var metadataRemoved: [String]
    var tools: [String]
    var log: LogInclusion?
    var comparison: Comparison?

    /// Figures of the comparison with the original (PSNR as text: `inf` for identical pictures).
    struct Comparison: Encodable {
        var original: String
        var frames: Int
        var minimumPSNR: String?
        var meanPSNR: String?
        var audioCorrelation: Double?
        var audioSecondsCompared: Double
        var minimumPSNRRequired: Double
        var minimumCorrelationRequired: Double
        var passes: Bool
    }

    /// Whether a file is a published derivative (a media annotation lies beside it).
    static func isDerivative(_ file: String) -> Bool {
        file != "-" && !file.hasSuffix(".sd-jwt")
            && FileManager.default.fileExists(atPath: MediaPublication.annotationPath(forDerivative: file))
    }

    init(_ m: MediaVerification, keys: VerificationKeys) {
        annotation = m.annotationFile
        publisher = keys.name(m.publisherFingerprint)
        publisherFingerprint = m.publisherFingerprint
        record = m.recordId
        version = m.versionId
        collector = m.collectorFingerprint.map { keys.name($0) }
        attachmentKind = m.attachmentKind
        mediaKind = m.annotation.kind.rawValue
        originalSha256 = m.annotation.originalSHA256
        derivativeSha256 = m.annotation.derivativeSHA256
        rectangles = m.annotation.rectangles.count
        intervals = m.annotation.intervals.count
        metadataRemoved = m.annotation.metadataRemoved.map { "\($0.scope): \($0.key)" }
        tools = m.annotation.tools
        log = m.log
    }

    static func decibels(_ value: Double?) -> String? {
        value.map { $0.isInfinite ? "inf" : String(format: "%.2f", $0) }
    }

    mutating func add(_ report: MediaComparison.Report, original: String) {
        comparison = Comparison(
            original: original, frames: report.frames, minimumPSNR: Self.decibels(report.minimumPSNR),
            meanPSNR: Self.decibels(report.meanPSNR), audioCorrelation: report.audioCorrelation,
            audioSecondsCompared: report.audioSecondsCompared, minimumPSNRRequired: MediaComparison.minimumPSNR,
            minimumCorrelationRequired: MediaComparison.minimumCorrelation, passes: report.passes)
    }

    /// Human lines (every untrusted value escaped).
    func lines(file: String) -> [String] {
        let removed =
            metadataRemoved.isEmpty
            ? "none found" : metadataRemoved.map(UntrustedText.printable).joined(separator: ", ")
        let collected = collector.map { "; collected by \($0)" } ?? ""
        var head = "\(UntrustedText.printable(file)): valid — \(UntrustedText.printable(mediaKind)) derivative"
        head +=
            " of a \(UntrustedText.printable(attachmentKind)) attachment of record \(UntrustedText.printable(record))"
        head += " (version \(UntrustedText.printable(version))); annotation \(UntrustedText.printable(annotation))"
        head += " signed by publisher \(publisher)"
        var lines: [String] = [head]
        lines.append("  the original's SHA-256 is among the attachments the record's signed version lists" + collected)
        lines.append(
            "  declared: \(rectangles) rectangle(s) covered, \(intervals) interval(s) muted; metadata removed: \(removed)"
        )
        lines.append("  made with \(tools.map(UntrustedText.printable).joined(separator: ", "))")
        if let log { lines.append("  publication \(log.summary)") }
        if let c = comparison {
            var figures: [String] = []
            if c.frames > 0 {
                figures.append(
                    "\(c.frames) frame(s), PSNR outside the rectangles min \(c.minimumPSNR ?? "-") dB, mean "
                        + "\(c.meanPSNR ?? "-") dB (at least \(c.minimumPSNRRequired) required)")
            }
            if let r = c.audioCorrelation {
                figures.append(
                    String(
                        format: "audio correlation outside the intervals %.4f over %.1f s", r, c.audioSecondsCompared)
                        + " (at least \(c.minimumCorrelationRequired) required)")
            }
            lines.append(
                "  compared with the original \(UntrustedText.printable(c.original)): "
                    + (figures.isEmpty ? "nothing to compare" : figures.joined(separator: "; "))
                    + (c.passes ? " — differs only inside the declared regions" : " — FAILS"))
        }
        return lines
    }
}
