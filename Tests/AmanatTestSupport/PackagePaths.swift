import Foundation

/// Where the package is, for tests that read its files (Specs, resources, the vendored vectors).
public enum PackagePaths {
    /// The package root: this file is `Tests/AmanatTestSupport/PackagePaths.swift`, three levels below it.
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A path relative to the package root, e.g. `url("Specs/examples/en-survivor-public.json")`.
    public static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }
}
