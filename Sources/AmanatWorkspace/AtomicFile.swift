import Foundation

/// Writes files so that they appear only when complete: data goes to a temporary name in the same folder, is
/// flushed to disk, and is renamed over the final name.
public enum AtomicFile {
    /// Writes `data` to `url` atomically with the given permissions.
    /// - Parameter overwrite: when false, an existing file at `url` is an error (`cannotCreateOutput`) and is left untouched.
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o644, overwrite: Bool = false) throws {
        let out = try OutputFile(url.path, mode: mode, overwrite: overwrite)
        try data.withUnsafeBytes { try out.write($0) }
        try out.commit()
    }
}
