import Foundation

/// Finds a program by name the way a shell does: the first executable file of that name in a `PATH` folder.
public enum PathLookup {
    /// The program `name` in the folders of `searchPath` (default: this process's `PATH`, else `/usr/bin:/bin`),
    /// or nil.
    public static func find(_ name: String, searchPath: String? = nil) -> URL? {
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
