import Foundation

/// Where the package is, for tests that read its files.
public enum PackagePaths {
    /// The package root (this file is `Tests/AmanatTestSupport/TestSupport.swift`).
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}
