import Foundation

#if os(Linux)
    import Glibc

    /// syncfs(2): flushes the file system holding `fd` (glibc has it; Swift's Glibc module does not export it).
    @_silgen_name("syncfs") private func systemSyncfs(_ fd: Int32) -> Int32
#endif

/// The files of a publication, written into its staging folder (``StagingDirectory``) from any thread. The folder
/// is renamed into place only when complete, so the files need no temporary names of their own; instead of one
/// fsync per file (a publication holds two to four files per record), ``flush()`` makes them all durable at once
/// before the rename.
final class PublicationFolder: Sendable {
    let url: URL
    /// The folder's path, to which names are joined as strings: `URL.appendingPathComponent` asks the file system
    /// whether each name is a folder, a stat(2) per file that took 3 % of a publication's time.
    private let base: String

    init(_ url: URL) {
        self.url = url
        base = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
    }

    /// Creates `name` (a new file, or a path under a folder that exists) holding `bytes`.
    /// - Throws: ``AmanatError`` `cannotCreateOutput` when the file cannot be created, `ioError` when it cannot be
    ///   written.
    func write(_ name: String, _ bytes: [UInt8]) throws {
        let path = base + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AmanatError(.cannotCreateOutput, "cannot write \(path): \(systemError()).") }
        defer { close(fd) }
        try bytes.withUnsafeBytes { try OutputFile.writeAll(fd, $0, path: path) }
        #if !os(Linux)
            guard fsync(fd) == 0 else { throw AmanatError(.ioError, "cannot write \(path): \(systemError()).") }
        #endif
    }

    /// Creates `name` from pieces written one after the other (`body` calls its argument with each piece).
    func write(_ name: String, pieces body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = base + "/" + name
        let out = try OutputFile(path, tracked: false)
        try body { try out.write($0) }
        try out.commit()
    }

    /// Makes every file written so far durable (on Linux one syncfs(2) for the folder's file system; elsewhere each
    /// file was flushed as it was written).
    /// - Throws: ``AmanatError`` `ioError`.
    func flush() throws {
        #if os(Linux)
            let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw AmanatError(.ioError, "cannot write \(url.path): \(systemError()).") }
            defer { close(fd) }
            guard systemSyncfs(fd) == 0, fsync(fd) == 0 else {
                throw AmanatError(.ioError, "cannot write \(url.path): \(systemError()).")
            }
        #endif
    }
}
