import AmanatRedaction
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

            Exit status: 0 nothing found, 1 something identifying found, 65 a file is unreadable or malformed, \
            66 a file is missing.

            Example:
              amanat scan interviews/2026-11-case-0142.txt records.json
              amanat scan --json interviews/*.txt > findings.json
            """
    )

    @Argument(help: ArgumentHelp("Text, JSON or SD-JWT files to scan.", valueName: "file"))
    public var files: [String] = []

    @Flag(name: .long, help: "Print one JSON array of findings (with the values) on stdout.")
    public var json = false

    public init() {}

    public func validate() throws {
        if files.isEmpty { throw ValidationError("Name at least one file to scan.") }
    }

    /// One finding in one file.
    struct Reported {
        var file: String
        var finding: Finding
    }

    public func run() throws {
        let scanner = DocumentScanner()
        // Check every file before printing anything, so output appears only for a complete run.
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
                throw CLIError(.inputMissing, "\(file) does not exist. Check the path and try again.")
            }
            if isDirectory.boolValue {
                throw CLIError(.malformedInput, "\(file) is a folder; name the files inside it (e.g. \(file)/*.txt).")
            }
        }
        var reported: [Reported] = []
        for file in files {
            let findings = try ScanCommand.scan(file: file, scanner: scanner)
            reported += findings.map { Reported(file: file, finding: $0) }
        }
        reported.sort {
            $0.file != $1.file ? $0.file < $1.file : $0.finding.range.lowerBound < $1.finding.range.lowerBound
        }
        if json {
            FileHandle.standardOutput.write(ScanCommand.jsonDocument(reported))
        } else {
            Console.out(ScanCommand.summary(reported, files: files))
        }
        if !reported.isEmpty { throw ExitCode(1) }
    }

    /// Reads (memory-maps) one file and scans it in the format it has.
    static func scan(file: String, scanner: DocumentScanner) throws -> [Finding] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
        } catch {
            throw CLIError(.malformedInput, "\(file) cannot be read (\(reason(error))). Check its permissions.")
        }
        return try data.withUnsafeBytes { buffer -> [Finding] in
            let head = buffer.prefix(8192)
            if head.contains(0) {
                throw CLIError(
                    .malformedInput, "\(file) looks like a binary file (or UTF-16 text); scan takes UTF-8 text, JSON or SD-JWT.")
            }
            let ext = URL(fileURLWithPath: file).pathExtension
            var format = DocumentScanner.detectFormat(buffer, pathExtension: ext)
            if format == .json && buffer.count <= 64 << 20 && (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil {
                if ext.lowercased() == "json" {
                    throw CLIError(.malformedInput, "\(file) is not valid JSON. Fix the file or rename it to .txt to scan it as text.")
                }
                format = .text
            }
            do {
                return try scanner.scan(buffer, format: format)
            } catch DocumentScanError.invalidSDJWTSegment(let index) {
                let part = index == 0 ? "its issuer JWT" : "disclosure \(index)"
                throw CLIError(.malformedInput, "\(file) is not a valid SD-JWT: \(part) does not decode to JSON.")
            }
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }

    /// The findings as one JSON array (sorted as given), written by hand so millions of findings stay fast.
    static func jsonDocument(_ reported: [Reported]) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(reported.count * 120 + 4)
        out.append(0x5B)
        var lastFile = ""
        var fileJSON: [UInt8] = []
        for (index, item) in reported.enumerated() {
            if index == 0 || item.file != lastFile {
                lastFile = item.file
                fileJSON = []
                appendJSONString(item.file, to: &fileJSON)
            }
            out.append(contentsOf: index == 0 ? "\n  {\"file\":".utf8 : ",\n  {\"file\":".utf8)
            out.append(contentsOf: fileJSON)
            out.append(contentsOf: ",\"kind\":\"".utf8)
            out.append(contentsOf: item.finding.kind.rawValue.utf8)
            out.append(contentsOf: "\",\"start\":".utf8)
            appendInteger(item.finding.range.lowerBound, to: &out)
            out.append(contentsOf: ",\"end\":".utf8)
            appendInteger(item.finding.range.upperBound, to: &out)
            out.append(contentsOf: ",\"value\":".utf8)
            appendJSONString(item.finding.value, to: &out)
            out.append(contentsOf: ",\"confidence\":\"".utf8)
            out.append(contentsOf: item.finding.confidence.rawValue.utf8)
            out.append(contentsOf: "\"}".utf8)
        }
        out.append(contentsOf: reported.isEmpty ? "]\n".utf8 : "\n]\n".utf8)
        return Data(out)
    }

    static func appendInteger(_ value: Int, to out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(0x30 + v % 10)
                v /= 10
                count += 1
            } while v > 0 && count < 20
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        out.append(0x22)
        let utf8 = string.utf8
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out.append(contentsOf: utf8)
            out.append(0x22)
            return
        }
        for b in utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20: out.append(contentsOf: Array(String(format: "\\u%04x", Int(b)).utf8))
            default: out.append(b)
            }
        }
        out.append(0x22)
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
            if findings.isEmpty {
                lines.append("\(file): nothing found")
                continue
            }
            let suspect = findings.filter { $0.confidence == .suspect }.count
            lines.append(
                "\(file): \(findings.count) identifier\(findings.count == 1 ? "" : "s")"
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
