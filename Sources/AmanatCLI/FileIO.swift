import Foundation

/// A file opened for streaming reads, closed on deinit.
final class InputFile {
    let path: String
    let size: UInt64
    private let fd: Int32

    /// - Throws: ``CLIError`` 66 if missing, 74 if unreadable or not a regular file.
    init(_ path: String, what: String = "input file") throws {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw CLIError(.inputMissing, "\(path) (\(what)) does not exist.") }
            throw CLIError(.ioError, "cannot read \(path): \(String(cString: strerror(errno))).")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CLIError(.ioError, "\(path) is not a regular file.")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError(.ioError, "cannot read \(path): \(String(cString: strerror(errno))).") }
        self.fd = fd
        size = UInt64(info.st_size)
    }

    deinit { close(fd) }

    /// Reads into `buffer`; 0 at the end.
    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw CLIError(.ioError, "cannot read \(path): \(String(cString: strerror(errno))).")
        }
    }
}

/// An output file written under a temporary name in the same folder and renamed over the final name only by
/// ``commit()``; if it is never committed, the temporary file is removed.
final class OutputFile {
    let path: String
    let temporaryPath: String
    private var fd: Int32
    private var committed = false
    private let overwrite: Bool

    init(_ path: String, mode: mode_t = 0o644, overwrite: Bool = false) throws {
        self.path = path
        self.overwrite = overwrite
        let url = URL(fileURLWithPath: path)
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw CLIError(.cannotCreateOutput, "\(path) already exists; choose another name or pass --force.")
        }
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError(.cannotCreateOutput, "cannot write \(path): the folder \(folder) does not exist.")
        }
        temporaryPath = folder + "/.\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw CLIError(.cannotCreateOutput, "cannot write \(path): \(String(cString: strerror(errno))).")
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError(.ioError, "cannot write \(path): \(String(cString: strerror(errno))).")
            }
            offset += n
        }
    }

    /// Flushes and renames the file into place.
    func commit() throws {
        guard fsync(fd) == 0 else {
            throw CLIError(.ioError, "cannot write \(path): \(String(cString: strerror(errno))).")
        }
        close(fd)
        fd = -1
        if overwrite {
            guard rename(temporaryPath, path) == 0 else {
                throw CLIError(.cannotCreateOutput, "cannot create \(path): \(String(cString: strerror(errno))).")
            }
        } else {
            guard link(temporaryPath, path) == 0 else {
                throw CLIError(.cannotCreateOutput, "cannot create \(path): \(String(cString: strerror(errno))).")
            }
            unlink(temporaryPath)
        }
        committed = true
    }
}

/// A progress bar on standard error, drawn only when standard error is a terminal and the work is big.
final class ProgressBar {
    private let total: UInt64
    private let label: String
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private let start = Date()

    init(label: String, total: UInt64, minimum: UInt64 = 16 << 20) {
        self.label = label
        self.total = total
        enabled = Console.stderrIsTerminal && total >= minimum
    }

    func update(_ done: UInt64) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
        lastDraw = now
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / max(0.001, now.timeIntervalSince(start)) / 1_048_576
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%%  %.0f MiB/s", label, bar, fraction * 100, rate)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
