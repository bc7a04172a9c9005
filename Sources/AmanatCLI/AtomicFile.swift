import Foundation

/// Writes files so that they appear only when complete: data goes to a temporary name in the same folder, is
/// flushed to disk, and is renamed over the final name.
enum AtomicFile {
    /// Writes `data` to `url` atomically with the given permissions.
    /// - Parameter overwrite: when false, an existing file at `url` is an error (exit 73) and is left untouched.
    static func write(_ data: Data, to url: URL, mode: mode_t = 0o644, overwrite: Bool = false) throws {
        let path = url.path
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw CLIError(.cannotCreateOutput, "\(path) already exists; choose another name or remove it first.")
        }
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CLIError(.cannotCreateOutput, "cannot write \(path): the folder \(folder.path) does not exist.")
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString.prefix(8))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw CLIError(.cannotCreateOutput, "cannot write \(path): \(String(cString: strerror(errno))).")
        }
        var ok = false
        defer {
            if !ok { unlink(temporary.path) }
        }
        do {
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw CLIError(.ioError, "cannot write \(path): \(String(cString: strerror(errno))).")
                    }
                    offset += n
                }
            }
            fchmod(fd, mode)
            guard fsync(fd) == 0 else {
                throw CLIError(.ioError, "cannot write \(path): \(String(cString: strerror(errno))).")
            }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        if !overwrite {
            // link() fails if the name appeared meanwhile, so an existing file is never replaced.
            guard link(temporary.path, path) == 0 else {
                throw CLIError(.cannotCreateOutput, "cannot create \(path): \(String(cString: strerror(errno))).")
            }
            unlink(temporary.path)
        } else {
            guard rename(temporary.path, path) == 0 else {
                throw CLIError(.cannotCreateOutput, "cannot create \(path): \(String(cString: strerror(errno))).")
            }
        }
        ok = true
    }
}
