import Foundation
import Testing

/// A program outside the package that some tests run (the stock `age`, `openssl`, a Python venv…), with the command
/// that installs it.
///
/// A test that needs one either finds it or is skipped, and the skip message says how to install it:
///
/// ```swift
/// @Suite(.requires(.age)) struct AgeInteropTests {
///     @Test func roundTrip() throws {
///         let age = try ExternalTool.age.require()
///         …
///     }
/// }
/// ```
///
/// When the environment variable `CI` is set, a missing tool is a failure instead: CI installs every tool
/// (`.ci/run`), so nothing may be skipped there.
public struct ExternalTool: Sendable, CustomStringConvertible {
    /// The program's name, as typed in a shell.
    public let name: String
    /// The shell command that installs it on Debian, run from the package root.
    public let installCommand: String
    /// Why a test that needs the tool cannot run, and how to install it.
    public let missingMessage: String
    private let locate: @Sendable () -> URL?

    /// A tool found by `locate`; `missingMessage` says where it was looked for and includes `installCommand`.
    public init(
        name: String, installCommand: String, missingMessage: String, locate: @escaping @Sendable () -> URL?
    ) {
        self.name = name
        self.installCommand = installCommand
        self.missingMessage = missingMessage
        self.locate = locate
    }

    /// A program looked up on `PATH`.
    public static func onPath(_ name: String, installCommand: String) -> ExternalTool {
        ExternalTool(
            name: name, installCommand: installCommand,
            missingMessage: "`\(name)` is not on PATH; install it with `\(installCommand)`"
        ) {
            PathLookup.find(name)
        }
    }

    public var description: String { name }

    /// Where the tool is, or nil if it is not installed.
    public var url: URL? { locate() }

    public var isAvailable: Bool { url != nil }

    /// True when the environment variable `CI` is set: missing tools fail instead of skipping.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The tool's location. If it is missing, throws: outside CI the current test is cancelled (reported as
    /// skipped, with ``missingMessage``); in CI a ``Missing`` error, which fails the test.
    public func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        if let url { return url }
        if Self.isCI { throw Missing(tools: [self]) }
        try Test.cancel(Comment(rawValue: "skipped: " + missingMessage), sourceLocation: sourceLocation)
    }

    /// The error a test fails with in CI when tools it needs are missing.
    public struct Missing: Error, CustomStringConvertible {
        public let tools: [ExternalTool]
        public var description: String {
            "CI is set, so this test may not be skipped, but " + tools.map(\.missingMessage).joined(separator: "; ")
        }
    }
}

// MARK: The tools the tests use

extension ExternalTool {
    /// The stock age encryption tool (interop in both directions).
    public static let age = onPath("age", installCommand: "apt-get install age")
    /// The stock age key generator (shipped with `age`).
    public static let ageKeygen = onPath("age-keygen", installCommand: "apt-get install age")
    /// The OpenSSL command-line tool (key files, signatures, KDFs).
    public static let openssl = onPath("openssl", installCommand: "apt-get install openssl")
    /// GNU tar (a bundle opened without Amanat).
    public static let tar = onPath("tar", installCommand: "apt-get install tar")
    /// libarchive's tar (a second tar reader for the same bundles).
    public static let bsdtar = onPath("bsdtar", installCommand: "apt-get install libarchive-tools")
    /// xxd, for hex in shell recipes.
    public static let xxd = onPath("xxd", installCommand: "apt-get install xxd")
    /// The system Python 3 (zlib for the age test kit, a pseudo-terminal driver).
    public static let python3 = onPath("python3", installCommand: "apt-get install python3")
    /// ripgrep.
    public static let ripgrep = onPath("rg", installCommand: "apt-get install ripgrep")
    /// The stock ffmpeg (synthetic test media, derivatives, decoding for comparisons).
    public static let ffmpeg = onPath("ffmpeg", installCommand: "apt-get install ffmpeg")
    /// ffprobe, shipped with ffmpeg (stream and metadata listings).
    public static let ffprobe = onPath("ffprobe", installCommand: "apt-get install ffmpeg")
    /// Phil Harvey's exiftool (an outside reader of photo and video metadata).
    public static let exiftool = onPath("exiftool", installCommand: "apt-get install libimage-exiftool-perl")
    /// The Go toolchain, with Go's reference sumdb/note and sumdb/tlog packages (log interop).
    public static let go = onPath("go", installCommand: "apt-get install golang-go golang-golang-x-mod-dev")

    /// The Python of the package's `.build-venv`, with the reference libraries of `.ci/requirements.txt`
    /// (the SD-JWT interop tests).
    public static let pythonVenv: ExternalTool = {
        let python = PackagePaths.url(".build-venv/bin/python")
        let install = "python3 -m venv .build-venv && .build-venv/bin/pip install -r .ci/requirements.txt"
        return ExternalTool(
            name: ".build-venv/bin/python", installCommand: install,
            missingMessage: "no Python venv at \(python.path); create it from the package root with `\(install)`"
        ) {
            FileManager.default.isExecutableFile(atPath: python.path) ? python : nil
        }
    }()
}

// MARK: Skipping a test or suite

extension Trait where Self == ConditionTrait {
    /// Runs the test or suite only if every one of `tools` is installed. Otherwise it is skipped with a message
    /// naming the install commands, or, when `CI` is set, fails with ``ExternalTool/Missing``.
    public static func requires(
        _ tools: ExternalTool..., sourceLocation: SourceLocation = #_sourceLocation
    ) -> Self {
        // The comment is fixed when tests are discovered; name the tools missing then (all of them if none is).
        let missingAtDiscovery = tools.filter { !$0.isAvailable }
        let named = missingAtDiscovery.isEmpty ? tools : missingAtDiscovery
        let comment = Comment(rawValue: named.map(\.missingMessage).joined(separator: "; "))
        return .enabled(comment, sourceLocation: sourceLocation) {
            let missing = tools.filter { !$0.isAvailable }
            if missing.isEmpty { return true }
            if ExternalTool.isCI { throw ExternalTool.Missing(tools: missing) }
            return false
        }
    }
}
