import AmanatMedia
import AmanatRecords
import AmanatRedaction
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat scan FILE... [--json]`: find identifiers in text, JSON record and SD-JWT files.
public struct ScanCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Find identifiers (ID numbers, IINs, passports, phones, e-mail, WeChat IDs, birth dates) in files.",
        discussion: """
            Reads text files, JSON record files and compact SD-JWT files (each disclosure is decoded and scanned; \
            its findings cover the disclosure's bytes). Offsets are byte offsets in the file as it is on disk; \
            values are normalized (18-character Chinese ID, E.164 phone, YYYY-MM-DD date, …).

            Without --json only a masked summary is printed, never a full identifier. With --json one array of \
            {file, kind, start, end, value, confidence} objects is printed: it contains the identifiers \
            themselves, so redirect it to a protected place.

            Photos, videos and audio files (.jpg, .png, .mp4, .mov, .m4a, .mp3, .wav, …) are read with ffprobe and \
            their identifying metadata is listed: GPS position (shown only as present), device make, model and \
            serial, creation times, author and software. A missing ffprobe exits 69.

            FILE may be - to scan standard input (up to 1 GiB; it is scanned as text, JSON or SD-JWT by its \
            content).

            Exit status: 0 nothing found, 1 something identifying found, 65 a file is unreadable or malformed, \
            66 a file is missing.

            Example:
              amanat scan interviews/2026-11-case-0142.txt records.json
              amanat scan --json interviews/*.txt > findings.json
              amanat show 3Jq7xk --format json | amanat scan -
            """
    )

    @Argument(help: ArgumentHelp("Text, JSON or SD-JWT files to scan ('-': standard input).", valueName: "file"))
    public var files: [String] = []

    @Flag(name: .long, help: "Print one JSON array of findings (with the values) on stdout.")
    public var json = false

    public init() {}

    public func validate() throws {
        if files.isEmpty { throw ValidationError("Name at least one file to scan (or - for standard input).") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("- (standard input) can be named once.") }
    }

    /// One finding in one file.
    struct Reported {
        var file: String
        var finding: Finding
    }

    public func run() throws {
        let scanner = DocumentScanner()
        // Check every file before printing anything, so output appears only for a complete run.
        for file in files where file != "-" {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
                throw AmanatError(
                    .inputMissing, "\(UntrustedText.printable(file)) does not exist. Check the path and try again.")
            }
            if isDirectory.boolValue {
                throw AmanatError(
                    .malformedInput, "\(file) is a folder; name the files inside it (e.g. \(file)/*.txt).")
            }
        }
        // Photos, videos and audio: their metadata (GPS, device, time, author), read with ffprobe.
        let mediaFiles = Set(files.filter { $0 != "-" && MediaScanReport.isMedia($0) }).sorted()
        var mediaSensitive = false
        if !mediaFiles.isEmpty {
            let (lines, sensitive) = try MediaScanReport.report(mediaFiles)
            mediaSensitive = sensitive
            // With --json the findings array stays alone on stdout; the media report goes to stderr.
            if json { Console.err(lines.joined(separator: "\n")) } else { Console.out(lines.joined(separator: "\n")) }
        }
        let textFiles = files.filter { !mediaFiles.contains($0) }
        if textFiles.isEmpty {
            if mediaSensitive { throw ExitCode(1) }
            return
        }
        // Findings per file come sorted by start; files are reported in path order.
        var results: [(file: String, table: FindingTable)] = []
        let sorted = Set(textFiles).sorted()
        for (index, file) in sorted.enumerated() {
            let (mapped, format) = try FileScan.open(file: file)
            if json && format == .text && index == sorted.count - 1 {
                // The last file (every other one was read without error): its findings are written out while it
                // is still being scanned.
                let streamed = try JSONFindingsWriter(results).write(streaming: file, mapped, scanner.detector)
                if streamed || mediaSensitive || results.contains(where: { !$0.table.isEmpty }) { throw ExitCode(1) }
                return
            }
            results.append((file, try FileScan.scan(mapped, format: format, file: file, scanner: scanner)))
        }
        if json {
            try JSONFindingsWriter(results).write()
        } else {
            let reported = results.flatMap { result in
                result.table.findings.map { Reported(file: result.file, finding: $0) }
            }
            Console.out(ScanCommand.summary(reported, files: textFiles))
        }
        if mediaSensitive || results.contains(where: { !$0.table.isEmpty }) { throw ExitCode(1) }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }

    /// A file name as a JSON string, every unsafe character in it escaped (``UntrustedText/jsonSafe(_:)``).
    static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        var quoted = ""
        JSONEscaping.appendQuoted(string, to: &quoted)
        out += Array(UntrustedText.jsonSafe(quoted).utf8)
    }

    /// A value masked for people to read: never the whole identifier.
    static func masked(_ finding: Finding) -> String {
        let value = finding.value
        switch finding.kind {
        case .cnResidentID: return RedactionOperators.mask(value, keepPrefix: 4, keepSuffix: 4)
        case .kzIIN: return RedactionOperators.mask(value, keepPrefix: 2, keepSuffix: 2)
        case .phone: return RedactionOperators.mask(value, keepPrefix: value.hasPrefix("+86") ? 6 : 5, keepSuffix: 2)
        case .email:
            guard let at = value.firstIndex(of: "@") else { return RedactionOperators.mask(value, keepPrefix: 1) }
            return RedactionOperators.mask(String(value[..<at]), keepPrefix: 1) + value[at...]
        case .wechatID: return RedactionOperators.mask(value, keepPrefix: 2)
        case .cnPassport, .kzPassport: return RedactionOperators.mask(value, keepPrefix: 1, keepSuffix: 2)
        case .dateOfBirth: return RedactionOperators.mask(value, keepPrefix: 4)
        }
    }

    /// The human summary: per file, each finding with its offsets, kind, masked value and confidence.
    static func summary(_ reported: [Reported], files: [String]) -> String {
        var lines: [String] = []
        var byFile: [String: [Finding]] = [:]
        for item in reported { byFile[item.file, default: []].append(item.finding) }
        var seen = Set<String>()
        for file in files where seen.insert(file).inserted {
            let findings = byFile[file] ?? []
            let shown = file == "-" ? "standard input" : UntrustedText.printable(file)
            if findings.isEmpty {
                lines.append("\(shown): nothing found")
                continue
            }
            let suspect = findings.filter { $0.confidence == .suspect }.count
            lines.append(
                "\(shown): \(findings.count) identifier\(findings.count == 1 ? "" : "s")"
                    + (suspect > 0 ? " (\(suspect) suspect)" : ""))
            for finding in findings {
                lines.append(
                    "  \(finding.range.lowerBound)-\(finding.range.upperBound)  \(finding.kind.rawValue)  "
                        + "\(masked(finding))  \(finding.confidence.rawValue)")
            }
        }
        let fileCount = Set(reported.map(\.file)).count
        lines.append(
            reported.isEmpty
                ? "No identifiers found."
                : "\(reported.count) identifier\(reported.count == 1 ? "" : "s") in \(fileCount) file\(fileCount == 1 ? "" : "s"). "
                    + "Values are masked here; use --json to get them.")
        return lines.joined(separator: "\n")
    }
}
