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
        // Findings per file come sorted by start; files are reported in path order.
        var results: [(file: String, findings: [Finding])] = []
        for file in Set(files).sorted() {
            results.append((file, try ScanCommand.scan(file: file, scanner: scanner)))
        }
        if json {
            try ScanCommand.writeJSON(results)
        } else {
            let reported = results.flatMap { result in result.findings.map { Reported(file: result.file, finding: $0) }
            }
            Console.out(ScanCommand.summary(reported, files: files))
        }
        if results.contains(where: { !$0.findings.isEmpty }) { throw ExitCode(1) }
    }

    /// Reads (memory-maps) one file and scans it in the format it has.
    static func scan(file: String, scanner: DocumentScanner) throws -> [Finding] {
        let mapped = try MappedFile(path: file)
        let buffer = mapped.buffer
        if buffer.prefix(8192).contains(0) {
            throw CLIError(
                .malformedInput,
                "\(file) looks like a binary file (or UTF-16 text); scan takes UTF-8 text, JSON or SD-JWT.")
        }
        let ext = URL(fileURLWithPath: file).pathExtension
        var format = DocumentScanner.detectFormat(buffer, pathExtension: ext)
        if format == .json && buffer.count <= 64 << 20 {
            let data =
                buffer.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: buffer.count, deallocator: .none)
                } ?? Data()
            if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil {
                if ext.lowercased() == "json" {
                    throw CLIError(
                        .malformedInput,
                        "\(file) is not valid JSON. Fix the file or rename it to .txt to scan it as text.")
                }
                format = .text
            }
        }
        do {
            return try scanner.scan(buffer, format: format)
        } catch DocumentScanError.invalidSDJWTSegment(let index) {
            let part = index == 0 ? "its issuer JWT" : "disclosure \(index)"
            throw CLIError(.malformedInput, "\(file) is not a valid SD-JWT: \(part) does not decode to JSON.")
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }

    /// Writes the findings as one JSON array on stdout, in chunks of about 1 MiB (millions of findings stay fast).
    /// - Throws: ``CLIError`` 74 when stdout cannot be written.
    static func writeJSON(_ results: [(file: String, findings: [Finding])]) throws {
        let writer = ChunkWriter()
        var first = true
        writer.append("[")
        for (file, findings) in results {
            var fileJSON: [UInt8] = []
            appendJSONString(file, to: &fileJSON)
            // Many findings: serialize slices on every core, then write them in order.
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let parts = findings.count >= 50_000 ? max(1, cores) * 2 : 1
            if parts > 1 {
                try writer.flush()
                let size = (findings.count + parts - 1) / parts
                final class Pieces: @unchecked Sendable {
                    var bytes: [[UInt8]]
                    init(bytes: [[UInt8]]) { self.bytes = bytes }
                }
                let pieces = Pieces(bytes: Array(repeating: [], count: parts))
                let isFirst = first
                let fileBytes = fileJSON
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    let lower = min(findings.count, p * size)
                    let upper = min(findings.count, lower + size)
                    var out: [UInt8] = []
                    out.reserveCapacity((upper - lower) * 120)
                    let local = ChunkWriter(sink: { out.append(contentsOf: $0) })
                    serialize(findings[lower..<upper], fileJSON: fileBytes, first: isFirst && p == 0, into: local)
                    try? local.flush()
                    pieces.bytes[p] = out
                }
                for piece in pieces.bytes { try ChunkWriter.writeAll(piece) }
                if !findings.isEmpty { first = false }
            } else {
                serialize(findings[...], fileJSON: fileJSON, first: first, into: writer, flushEvery: 1 << 20)
                if !findings.isEmpty { first = false }
                if writer.count > (1 << 20) { try writer.flush() }
            }
        }
        writer.append(first ? "]\n" : "\n]\n")
        try writer.flush()
    }

    /// Appends findings as JSON objects, each preceded by a separator (`,` except for the very first).
    static func serialize(
        _ findings: ArraySlice<Finding>, fileJSON: [UInt8], first: Bool, into writer: ChunkWriter,
        flushEvery: Int = 1 << 20
    ) {
        var first = first
        for finding in findings {
            writer.append(first ? "\n  {\"file\":" : ",\n  {\"file\":")
            first = false
            writer.append(bytes: fileJSON)
            writer.append(",\"kind\":\"")
            writer.append(finding.kind.rawValue)
            writer.append("\",\"start\":")
            writer.append(integer: finding.range.lowerBound)
            writer.append(",\"end\":")
            writer.append(integer: finding.range.upperBound)
            writer.append(",\"value\":")
            writer.appendJSONString(finding.value)
            writer.append(",\"confidence\":\"")
            writer.append(finding.confidence.rawValue)
            writer.append("\"}")
            if writer.count > flushEvery { try? writer.flush() }
        }
    }

    static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        out.append(0x22)
        for b in string.utf8 {
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

/// A read-only memory mapping of a whole file (pages read ahead), unmapped on deinit. Big files are never copied
/// into memory: the detector reads the mapping directly.
final class MappedFile {
    let buffer: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    /// - Throws: ``CLIError`` 66 when the file is missing, 65 when it cannot be read.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT {
                throw CLIError(.inputMissing, "\(path) does not exist. Check the path and try again.")
            }
            throw CLIError(
                .malformedInput, "\(path) cannot be read (\(String(cString: strerror(errno)))). Check its permissions.")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw CLIError(.malformedInput, "\(path) is not a regular file.")
        }
        let size = Int(info.st_size)
        if size == 0 {
            mapping = nil
            buffer = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw CLIError(.malformedInput, "\(path) cannot be read (\(String(cString: strerror(errno)))).")
        }
        mapping = address
        buffer = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let mapping { munmap(mapping, buffer.count) }
    }
}

/// A 2 MiB output buffer written to stdout with `write(2)` when flushed.
final class ChunkWriter {
    private let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 << 20)
    private(set) var count = 0
    /// Where flushed bytes go; nil: standard output.
    private let sink: ((UnsafeBufferPointer<UInt8>) -> Void)?

    init(sink: ((UnsafeBufferPointer<UInt8>) -> Void)? = nil) { self.sink = sink }

    /// Writes `bytes` to standard output.
    static func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CLIError(
                        .ioError, "cannot write the findings to standard output: \(String(cString: strerror(errno))).")
                }
                offset += written
            }
        }
    }

    deinit { storage.deallocate() }

    func append(_ text: StaticString) {
        text.withUTF8Buffer { append(raw: $0) }
    }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { append(raw: $0) }
    }

    func append(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(raw: $0) }
    }

    private func append(raw: UnsafeBufferPointer<UInt8>) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        (storage + count).update(from: base, count: raw.count)
        count += raw.count
    }

    func append(integer: Int) {
        var v = integer
        var digits = 0
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { buffer in
            repeat {
                buffer[23 - digits] = UInt8(0x30 + v % 10)
                v /= 10
                digits += 1
            } while v > 0 && digits < 20
            append(raw: UnsafeBufferPointer(rebasing: buffer.bindMemory(to: UInt8.self)[(24 - digits)...]))
        }
    }

    func appendJSONString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                storage[count] = 0x22
                count += 1
                append(raw: utf8)
                storage[count] = 0x22
                count += 1
            } else {
                var escaped: [UInt8] = []
                ScanCommand.appendJSONString(String(decoding: utf8, as: UTF8.self), to: &escaped)
                append(bytes: escaped)
            }
        }
    }

    /// - Throws: ``CLIError`` 74 when stdout cannot be written.
    func flush() throws {
        if let sink {
            sink(UnsafeBufferPointer(start: storage, count: count))
            count = 0
            return
        }
        var offset = 0
        while offset < count {
            let written = write(STDOUT_FILENO, storage + offset, count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw CLIError(
                    .ioError, "cannot write the findings to standard output: \(String(cString: strerror(errno))).")
            }
            offset += written
        }
        count = 0
    }
}
