import Foundation

#if os(Linux)
    import Glibc

    /// sync_file_range(2) (glibc has it; Swift's Glibc module does not export it).
    @_silgen_name("sync_file_range")
    private func systemSyncFileRange(_ fd: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32
    /// SYNC_FILE_RANGE_WRITE: start writing the range's dirty pages to the disk without waiting for them.
    private let syncFileRangeWrite: UInt32 = 2
#endif

/// A file opened for streaming reads, closed on deinit.
public final class InputFile {
    public let path: String
    /// The file's size (0 for standard input, whose size is not known in advance).
    public let size: UInt64
    /// True for `-`: standard input, a pipe, read once from start to end.
    public let isStandardInput: Bool
    private let fd: Int32

    /// How messages name the input: the path, or "standard input".
    public var displayName: String { isStandardInput ? "standard input" : path }

    /// - Parameter path: a regular file, or `-` for standard input when `allowStandardInput`.
    /// - Throws: ``AmanatError`` (`inputMissing` if missing, `ioError` if unreadable or not a regular file).
    public init(_ path: String, what: String = "input file", allowStandardInput: Bool = false) throws {
        self.path = path
        if allowStandardInput && path == "-" {
            isStandardInput = true
            fd = STDIN_FILENO
            size = 0
            return
        }
        isStandardInput = false
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw AmanatError(.inputMissing, "\(path) (\(what)) does not exist.") }
            throw AmanatError(.ioError, "cannot read \(path): \(systemError()).")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw AmanatError(.ioError, "\(path) is not a regular file.")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AmanatError(.ioError, "cannot read \(path): \(systemError()).") }
        self.fd = fd
        size = UInt64(info.st_size)
    }

    deinit { if !isStandardInput { close(fd) } }

    /// Reads into `buffer`; 0 at the end.
    public func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw AmanatError(.ioError, "cannot read \(path): \(systemError()).")
        }
    }
}

/// An output file written under a temporary name in the same folder and renamed over the final name only by
/// ``commit()``; if it is never committed, the temporary file is removed.
public final class OutputFile {
    public let path: String
    public let temporaryPath: String
    private var fd: Int32
    private var committed = false
    private let overwrite: Bool
    private let durable: Bool
    private var leftover: Int?
    /// Bytes written so far, and how many of them the disk has been asked to take (``write(_:)``).
    private var written: Int64 = 0
    private var handedToDisk: Int64 = 0
    /// A durable file's pages are handed to the disk every this many bytes as it is written, so that the flush in
    /// ``commit()`` waits for the last stretch only instead of the whole file (a sealed bundle is hundreds of MB:
    /// its flush took as long as writing it).
    static let writebackStride: Int64 = 16 << 20

    /// - Parameter tracked: register the temporary file with ``Leftovers`` (so an interrupted command removes it);
    ///   false for files inside a staging folder that is tracked itself.
    /// - Parameter durable: flush the file to the disk before it is renamed into place; false for temporary files
    ///   that a command reads back and removes.
    public init(
        _ path: String, mode: mode_t = 0o644, overwrite: Bool = false, tracked: Bool = true, durable: Bool = true
    ) throws {
        self.path = path
        self.overwrite = overwrite
        self.durable = durable
        let url = URL(fileURLWithPath: path)
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw AmanatError(.cannotCreateOutput, "\(path) already exists; choose another name or pass --force.")
        }
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AmanatError(.cannotCreateOutput, "cannot write \(path): the folder \(folder) does not exist.")
        }
        temporaryPath = folder + "/.\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))"
        leftover = tracked ? Leftovers.register(temporaryPath) : nil
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let reason = systemError()
            leftover.map(Leftovers.unregister)
            throw AmanatError(.cannotCreateOutput, "cannot write \(path): \(reason).")
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
        leftover.map(Leftovers.unregister)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try Self.writeAll(fd, bytes, path: path)
        written += Int64(bytes.count)
        #if os(Linux)
            if durable && written - handedToDisk >= Self.writebackStride {
                // A hint only (the fsync in commit() is the guarantee), so its failure is not an error.
                _ = systemSyncFileRange(fd, handedToDisk, written - handedToDisk, syncFileRangeWrite)
                handedToDisk = written
            }
        #endif
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and interruptions); `path` names the file in errors.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw AmanatError(.ioError, "cannot write \(path): \(systemError()).")
            }
            offset += n
        }
    }

    /// Flushes and renames the file into place.
    public func commit() throws {
        guard !durable || fsync(fd) == 0 else {
            throw AmanatError(.ioError, "cannot write \(path): \(systemError()).")
        }
        close(fd)
        fd = -1
        if overwrite {
            try FileMove.rename(URL(fileURLWithPath: temporaryPath), to: URL(fileURLWithPath: path))
        } else {
            guard link(temporaryPath, path) == 0 else {
                throw AmanatError(.cannotCreateOutput, "cannot create \(path): \(systemError()).")
            }
            unlink(temporaryPath)
        }
        committed = true
    }
}

/// Renames with rename(2): atomic within one file system, and the one place a move into place is written.
public enum FileMove {
    /// Moves `source` to `destination`, replacing a file there (a folder only if empty).
    /// - Throws: ``AmanatError`` `cannotCreateOutput` naming `destination` and the system's reason.
    public static func rename(_ source: URL, to destination: URL) throws {
        guard Foundation.rename(source.path, destination.path) == 0 else {
            throw AmanatError(.cannotCreateOutput, "cannot create \(destination.path): \(systemError()).")
        }
    }
}

/// A hidden folder beside a destination in which an output is built: it is moved into place by ``commit(to:)``
/// only when complete, and removed when released without a commit, so an interrupted command leaves nothing
/// behind under the destination's name.
public final class StagingDirectory {
    /// The staging folder.
    public let url: URL
    private var committed = false
    private var leftover: Int?

    /// Creates `.<name>.<label>-<random>` beside `destination`.
    /// - Throws: ``AmanatError`` `cannotCreateOutput` when the parent folder is missing or not writable.
    public init(beside destination: URL, label: String = "partial", mode: Int = 0o700) throws {
        let parent = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw AmanatError(
                .cannotCreateOutput, "cannot create \(destination.path): the folder \(parent.path) does not exist.")
        }
        url = parent.appendingPathComponent(".\(destination.lastPathComponent).\(label)-\(UUID().uuidString.prefix(8))")
        leftover = Leftovers.register(url.path)
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: mode])
        } catch {
            leftover.map(Leftovers.unregister)
            throw AmanatError(.cannotCreateOutput, "cannot create a staging folder beside \(destination.path).")
        }
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(at: url) }
        leftover.map(Leftovers.unregister)
    }

    /// Renames the staging folder to `destination` (which must not exist, or be an empty folder).
    public func commit(to destination: URL) throws {
        try FileMove.rename(url, to: destination)
        committed = true
        leftover.map(Leftovers.unregister)
        leftover = nil
    }

    /// Marks the staging folder as emptied into its destination item by item; nothing is removed on release.
    public func markConsumed() {
        try? FileManager.default.removeItem(at: url)
        committed = true
    }
}
