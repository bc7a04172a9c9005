import AmanatRecords
import AmanatRedaction
import Foundation

/// Scanning files for identifiers (`amanat scan`, the demo's check of a published folder): each file is
/// memory-mapped, its format (text, JSON, SD-JWT) detected, and scanned in place.
public enum FileScan {
    /// Reads (memory-maps) one file and scans it in the format it has.
    public static func scan(file: String, scanner: DocumentScanner) throws -> [Finding] {
        try scanTable(file: file, scanner: scanner).findings
    }

    /// Reads (memory-maps) one file and scans it in the format it has; findings in compact form.
    public static func scanTable(file: String, scanner: DocumentScanner) throws -> FindingTable {
        let (mapped, format) = try open(file: file)
        return try scan(mapped, format: format, file: file, scanner: scanner)
    }

    /// Memory-maps one file and finds its format (text, JSON, SD-JWT).
    /// - Throws: ``AmanatError`` `inputMissing` when the file is missing, `malformedInput` when it is binary or a
    ///   `.json` file is not JSON.
    public static func open(file: String) throws -> (MappedFile, DocumentFormat) {
        let mapped =
            file == "-" ? try MappedFile(standardInputUpTo: MappedFile.standardInputLimit) : try MappedFile(path: file)
        let buffer = mapped.buffer
        if buffer.prefix(8192).contains(0) {
            throw AmanatError(
                .malformedInput,
                "\(file) looks like a binary file (or UTF-16 text); scan takes UTF-8 text, JSON or SD-JWT.")
        }
        let ext = URL(fileURLWithPath: file).pathExtension
        var format = DocumentScanner.detectFormat(buffer, pathExtension: ext)
        if format == .json && buffer.count <= 64 << 20 {
            // A syntax check that keeps nothing: memory stays flat however many values the document holds (building
            // the document took 3.5 GB for a 32 MB array of tiny values).
            let limits = JSONValue.Limits(maximumBytes: 64 << 20, maximumDepth: 512, maximumValues: .max)
            if (try? JSONValue.validate(buffer, limits: limits)) == nil {
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
    /// - Throws: ``AmanatError`` `malformedInput` for an SD-JWT whose segments do not decode.
    public static func scan(
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
}

/// A read-only memory mapping of a whole file (pages read ahead), unmapped on deinit. Big files are never copied
/// into memory: the detector reads the mapping directly.
public final class MappedFile {
    public let buffer: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?
    /// Bytes at the start already unmapped (a multiple of the page size).
    private var released = 0
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// - Throws: ``AmanatError`` `inputMissing` when the file is missing, `malformedInput` when it cannot be read.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT {
                throw AmanatError(.inputMissing, "\(path) does not exist. Check the path and try again.")
            }
            throw AmanatError(
                .malformedInput, "\(path) cannot be read (\(systemError())). Check its permissions.")
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
            throw AmanatError(.malformedInput, "\(path) cannot be read (\(systemError())).")
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

    /// The most `scan -` reads from standard input (a file of any size is mapped instead).
    public static let standardInputLimit = 1 << 30

    /// Reads standard input to its end into anonymous memory (reserved up to `limit`, the unused rest returned).
    /// - Throws: ``AmanatError`` `malformedInput` when the input is larger than `limit`, `ioError` when it fails.
    public init(standardInputUpTo limit: Int) throws {
        let page = MappedFile.pageSize
        let reserved = (limit + page) / page * page
        let address = mmap(nil, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else {
            throw AmanatError(.ioError, "cannot reserve memory for standard input (\(systemError())).")
        }
        var size = 0
        while size < reserved {
            let n = Foundation.read(STDIN_FILENO, address + size, reserved - size)
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = systemError()
                munmap(address, reserved)
                throw AmanatError(.ioError, "cannot read standard input (\(reason)).")
            }
            size += n
        }
        guard size <= limit else {
            munmap(address, reserved)
            throw AmanatError(
                .malformedInput, "standard input is larger than \(limit >> 20) MiB; save it to a file and scan that.")
        }
        let used = (size + page - 1) / page * page
        if used < reserved { munmap(address + used, reserved - used) }
        if size == 0 {
            mapping = nil
            buffer = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        mapping = address
        buffer = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Unmaps the whole pages below `offset` (they must not be read again).
    public func release(below offset: Int) {
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
