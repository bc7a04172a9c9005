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
                throw AmanatError(.inputMissing, "\(file) does not exist. Check the path and try again.")
            }
            if isDirectory.boolValue {
                throw AmanatError(
                    .malformedInput, "\(file) is a folder; name the files inside it (e.g. \(file)/*.txt).")
            }
        }
        // Findings per file come sorted by start; files are reported in path order.
        var results: [(file: String, table: FindingTable)] = []
        let sorted = Set(files).sorted()
        for (index, file) in sorted.enumerated() {
            let (mapped, format) = try ScanCommand.open(file: file)
            if json && format == .text && index == sorted.count - 1 {
                // The last file (every other one was read without error): its findings are written out while it
                // is still being scanned.
                let streamed = try JSONFindingsWriter(results).write(streaming: file, mapped, scanner.detector)
                if streamed || results.contains(where: { !$0.table.isEmpty }) { throw ExitCode(1) }
                return
            }
            results.append((file, try ScanCommand.scan(mapped, format: format, file: file, scanner: scanner)))
        }
        if json {
            try JSONFindingsWriter(results).write()
        } else {
            let reported = results.flatMap { result in
                result.table.findings.map { Reported(file: result.file, finding: $0) }
            }
            Console.out(ScanCommand.summary(reported, files: files))
        }
        if results.contains(where: { !$0.table.isEmpty }) { throw ExitCode(1) }
    }

    /// Reads (memory-maps) one file and scans it in the format it has.
    static func scan(file: String, scanner: DocumentScanner) throws -> [Finding] {
        try scanTable(file: file, scanner: scanner).findings
    }

    /// Reads (memory-maps) one file and scans it in the format it has; findings in compact form.
    static func scanTable(file: String, scanner: DocumentScanner) throws -> FindingTable {
        let (mapped, format) = try open(file: file)
        return try scan(mapped, format: format, file: file, scanner: scanner)
    }

    /// Memory-maps one file and finds its format (text, JSON, SD-JWT).
    /// - Throws: ``AmanatError`` 66 when the file is missing, 65 when it is binary or a `.json` file is not JSON.
    static func open(file: String) throws -> (MappedFile, DocumentFormat) {
        let mapped = try MappedFile(path: file)
        let buffer = mapped.buffer
        if buffer.prefix(8192).contains(0) {
            throw AmanatError(
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
                    throw AmanatError(
                        .malformedInput,
                        "\(file) is not valid JSON. Fix the file or rename it to .txt to scan it as text.")
                }
                format = .text
            }
        }
        return (mapped, format)
    }

    /// Scans a mapped file in the given format.
    /// - Throws: ``AmanatError`` 65 for an SD-JWT whose segments do not decode.
    static func scan(
        _ mapped: MappedFile, format: DocumentFormat, file: String, scanner: DocumentScanner
    ) throws
        -> FindingTable
    {
        do {
            return try withExtendedLifetime(mapped) { try scanner.scanTable(mapped.buffer, format: format) }
        } catch DocumentScanError.invalidSDJWTSegment(let index) {
            let part = index == 0 ? "its issuer JWT" : "disclosure \(index)"
            throw AmanatError(.malformedInput, "\(file) is not a valid SD-JWT: \(part) does not decode to JSON.")
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
    /// Bytes at the start already unmapped (a multiple of the page size).
    private var released = 0
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// - Throws: ``AmanatError`` 66 when the file is missing, 65 when it cannot be read.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT {
                throw AmanatError(.inputMissing, "\(path) does not exist. Check the path and try again.")
            }
            throw AmanatError(
                .malformedInput, "\(path) cannot be read (\(String(cString: strerror(errno)))). Check its permissions.")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw AmanatError(.malformedInput, "\(path) is not a regular file.")
        }
        let size = Int(info.st_size)
        if size == 0 {
            mapping = nil
            buffer = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw AmanatError(.malformedInput, "\(path) cannot be read (\(String(cString: strerror(errno)))).")
        }
        mapping = address
        buffer = UnsafeRawBufferPointer(start: address, count: size)
        MappedFile.populate(address, size)
    }

    /// `MADV_POPULATE_READ` (Linux 5.14 and later; older kernels refuse it and pages are read in on first use).
    private static let populateRead: Int32 = 22

    /// Maps the pages in ahead of the scan, on every core for a big file (a hint: failures are ignored).
    private static func populate(_ address: UnsafeMutableRawPointer, _ size: Int) {
        let page = MappedFile.pageSize
        let parts = size >= 8 << 20 ? ProcessInfo.processInfo.activeProcessorCount : 1
        let partSize = ((size + parts - 1) / parts + page - 1) / page * page
        let shared = Int(bitPattern: address)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = part * partSize
            guard start < size else { return }
            _ = madvise(
                UnsafeMutableRawPointer(bitPattern: shared + start), min(partSize, size - start),
                MappedFile.populateRead)
        }
    }

    /// Unmaps the whole pages below `offset` (they must not be read again).
    func release(below offset: Int) {
        guard let mapping else { return }
        let end = min(offset, buffer.count) / MappedFile.pageSize * MappedFile.pageSize
        guard end > released else { return }
        munmap(mapping + released, end - released)
        released = end
    }

    deinit {
        if let mapping, released < buffer.count { munmap(mapping + released, buffer.count - released) }
    }
}

/// Writes `amanat scan --json` output: one JSON array of findings, sorted by file then start. Pieces of a few
/// thousand findings are serialized on every core into reused buffers and written to standard output in order
/// as soon as they are ready (the whole array is never held in memory).
final class JSONFindingsWriter: @unchecked Sendable {
    /// A run of findings of one block of one file.
    struct Piece {
        var file: Int
        var block: FindingBlock
        var range: Range<Int>
    }

    static let findingsPerPiece = 4096

    private let pieces: [Piece]
    /// Per file and kind: `,\n  {"file":"…","kind":"…","start":` (allocated once, freed on deinit).
    private let prefixes: [[UnsafeBufferPointer<UInt8>]]
    private let condition = NSCondition()
    private var nextPiece = 0
    private var turn = 0
    private var failure: Error?

    init(_ results: [(file: String, table: FindingTable)]) {
        var pieces: [Piece] = []
        var prefixes: [[UnsafeBufferPointer<UInt8>]] = []
        for (index, result) in results.enumerated() {
            var fileJSON: [UInt8] = []
            ScanCommand.appendJSONString(result.file, to: &fileJSON)
            prefixes.append(JSONFindingsWriter.prefixes(fileJSON))
            for block in result.table.blocks {
                for lower in stride(from: 0, to: block.count, by: JSONFindingsWriter.findingsPerPiece) {
                    let upper = min(block.count, lower + JSONFindingsWriter.findingsPerPiece)
                    pieces.append(Piece(file: index, block: block, range: lower..<upper))
                }
            }
        }
        self.pieces = pieces
        self.prefixes = prefixes
    }

    deinit {
        for filePrefixes in prefixes {
            for prefix in filePrefixes { prefix.deallocate() }
        }
    }

    /// - Throws: ``AmanatError`` 74 when stdout cannot be written.
    func write() throws {
        try JSONFindingsWriter.writeAll(Array("[".utf8))
        try writePieces()
        try JSONFindingsWriter.writeAll(Array((pieces.isEmpty ? "]\n" : "\n]\n").utf8))
    }

    /// Writes the findings of the files given at init, then scans `buffer` (the text of `file`, sorted after them)
    /// and writes its findings while the scan goes on. Returns whether `file` had findings.
    /// - Throws: ``AmanatError`` 74 when stdout cannot be written.
    func write(streaming file: String, _ mapped: MappedFile, _ detector: Detector) throws -> Bool {
        try JSONFindingsWriter.writeAll(Array("[".utf8))
        try writePieces()
        var fileJSON: [UInt8] = []
        ScanCommand.appendJSONString(file, to: &fileJSON)
        let filePrefixes = JSONFindingsWriter.prefixes(fileJSON)
        defer { for prefix in filePrefixes { prefix.deallocate() } }
        let out = OutputBuffer()
        var first = pieces.isEmpty
        var found = false
        try detector.scanTable(
            mapped.buffer,
            streaming: { block, doneBelow in
                // Unmapping what was scanned now costs less than unmapping the whole file at the end.
                mapped.release(below: doneBelow)
                guard block.count > 0 else { return }
                out.count = 0
                JSONFindingsWriter.serialize(block, 0..<block.count, filePrefixes, first: first, into: out)
                first = false
                found = true
                try JSONFindingsWriter.writeAll(UnsafeBufferPointer(start: out.base, count: out.count))
            })
        try JSONFindingsWriter.writeAll(Array((first ? "]\n" : "\n]\n").utf8))
        return found
    }

    /// Writes the pieces (serialized on every core, written in order).
    private func writePieces() throws {
        if pieces.isEmpty { return }
        let threads = min(ProcessInfo.processInfo.activeProcessorCount, pieces.count)
        let done = DispatchSemaphore(value: 0)
        for _ in 1..<max(1, threads) {
            let thread = Thread { [self] in
                work()
                done.signal()
            }
            thread.start()
        }
        work()
        for _ in 1..<max(1, threads) { done.wait() }
        if let failure { throw failure }
    }

    /// Takes the next piece, serializes it, waits for its turn and writes it; until no piece is left.
    private func work() {
        let out = OutputBuffer()
        while true {
            condition.lock()
            let index = nextPiece
            nextPiece += 1
            condition.unlock()
            guard index < pieces.count else { return }
            out.count = 0
            let piece = pieces[index]
            JSONFindingsWriter.serialize(piece.block, piece.range, prefixes[piece.file], first: index == 0, into: out)
            condition.lock()
            while turn != index { condition.wait() }
            let failed = failure != nil
            condition.unlock()
            var error: Error?
            if !failed {
                do { try JSONFindingsWriter.writeAll(UnsafeBufferPointer(start: out.base, count: out.count)) } catch let
                    caught
                {
                    error = caught
                }
            }
            condition.lock()
            if let error, failure == nil { failure = error }
            turn += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Per kind (in ``kindIndex(_:)`` order): `,\n  {"file":"…","kind":"…","start":`; the caller deallocates them.
    static func prefixes(_ fileJSON: [UInt8]) -> [UnsafeBufferPointer<UInt8>] {
        var prefixes = Array(repeating: UnsafeBufferPointer<UInt8>(start: nil, count: 0), count: kindCount)
        for kind in IdentifierKind.allCases {
            let bytes =
                Array(",\n  {\"file\":".utf8) + fileJSON + Array(",\"kind\":\"\(kind.rawValue)\",\"start\":".utf8)
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
            _ = copy.initialize(from: bytes)
            prefixes[kindIndex(kind)] = UnsafeBufferPointer(copy)
        }
        return prefixes
    }

    static let kindCount = 8

    static func kindIndex(_ kind: IdentifierKind) -> Int {
        switch kind {
        case .cnResidentID: return 0
        case .kzIIN: return 1
        case .cnPassport: return 2
        case .kzPassport: return 3
        case .phone: return 4
        case .email: return 5
        case .wechatID: return 6
        case .dateOfBirth: return 7
        }
    }

    private static let endKey: StaticString = ",\"end\":"
    private static let valueKey: StaticString = ",\"value\":\""
    private static let validTail: StaticString = "\",\"confidence\":\"valid\"}"
    private static let suspectTail: StaticString = "\",\"confidence\":\"suspect\"}"

    /// Appends the findings of `piece` as JSON objects, each preceded by `,` except the very first.
    static func serialize(
        _ block: FindingBlock, _ range: Range<Int>, _ filePrefixes: [UnsafeBufferPointer<UInt8>], first: Bool,
        into out: OutputBuffer
    ) {
        filePrefixes.withUnsafeBufferPointer { filePrefixes in
            var first = first
            block.forEach(in: range) { kind, range, confidence, value in
                let prefix = filePrefixes[JSONFindingsWriter.kindIndex(kind)]
                out.reserve(prefix.count + 160 + value.count * 6)
                out.append(first ? UnsafeBufferPointer(rebasing: prefix.dropFirst()) : prefix)
                first = false
                out.append(integer: range.lowerBound)
                out.append(JSONFindingsWriter.endKey)
                out.append(integer: range.upperBound)
                out.append(JSONFindingsWriter.valueKey)
                out.appendEscaped(value)
                out.append(confidence == .valid ? JSONFindingsWriter.validTail : JSONFindingsWriter.suspectTail)
            }
        }
    }

    /// Writes `bytes` to standard output.
    /// - Throws: ``AmanatError`` 74 when stdout cannot be written.
    static func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { try writeAll($0) }
    }

    static func writeAll(_ buffer: UnsafeBufferPointer<UInt8>) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = Foundation.write(STDOUT_FILENO, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw AmanatError(
                    .ioError, "cannot write the findings to standard output: \(String(cString: strerror(errno))).")
            }
            offset += written
        }
    }
}

/// A growable byte buffer filled without bounds checks: callers ``reserve(_:)`` room first.
final class OutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
        base = malloc(capacity)!.assumingMemoryBound(to: UInt8.self)
    }

    deinit { free(base) }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity {
            capacity = max(capacity * 2, count + extra)
            base = realloc(base, capacity)!.assumingMemoryBound(to: UInt8.self)
        }
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    func append(_ text: StaticString) {
        (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    /// The numbers 00…99, ten to a line: `n` is at `n / 10 * 21 + n % 10 * 2`.
    private static let pairs: StaticString = """
        00010203040506070809
        10111213141516171819
        20212223242526272829
        30313233343536373839
        40414243444546474849
        50515253545556575859
        60616263646566676869
        70717273747576777879
        80818283848586878889
        90919293949596979899
        """

    /// Appends a non-negative integer in decimal (two digits per division).
    @inline(__always)
    func append(integer: Int) {
        var v = UInt(bitPattern: integer)
        var digits = 1
        var limit: UInt = 10
        while v >= limit && digits < 19 {
            digits += 1
            limit &*= 10
        }
        if v >= limit { digits += 1 }
        let pairs = OutputBuffer.pairs.utf8Start
        var k = count + digits
        while v >= 10 {
            let pair = Int(v % 100)
            v /= 100
            let at = pair / 10 * 21 + pair % 10 * 2
            base[k - 1] = pairs[at + 1]
            base[k - 2] = pairs[at]
            k -= 2
        }
        if k > count { base[k - 1] = UInt8(truncatingIfNeeded: 0x30 &+ v) }
        count += digits
    }

    /// Appends UTF-8 bytes escaped for a JSON string (without the quotes); room for 6 bytes each is reserved.
    @inline(__always)
    func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        for b in bytes {
            switch b {
            case 0x22, 0x5C:
                base[count] = 0x5C
                base[count + 1] = b
                count += 2
            case 0x0A, 0x0D, 0x09:
                base[count] = 0x5C
                base[count + 1] = b == 0x0A ? 0x6E : b == 0x0D ? 0x72 : 0x74
                count += 2
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                base[count] = 0x5C
                base[count + 1] = 0x75
                base[count + 2] = 0x30
                base[count + 3] = 0x30
                base[count + 4] = hex.utf8Start[Int(b >> 4)]
                base[count + 5] = hex.utf8Start[Int(b & 15)]
                count += 6
            default:
                base[count] = b
                count += 1
            }
        }
    }
}
