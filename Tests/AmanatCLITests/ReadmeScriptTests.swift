import AmanatTestSupport
import Foundation
import Testing

/// Issue #14: the README's "Using it" section runs as a script, exactly as written. Every ```sh block of that section
/// (up to the next `## ` heading) is joined in order and run by bash with `set -euo pipefail`, the built `amanat`
/// first on PATH, in a fresh folder holding what the README says the reader brings: `Specs/` (this repository's)
/// and three files to seal.
@Suite struct ReadmeScriptTests {
    /// The shell blocks of the section headed `## Using it`, in order.
    static func usingItScript(_ readme: String) -> [String] {
        var blocks: [String] = []
        var inSection = false
        var current: [Substring]? = nil
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil && line.hasPrefix("## ") {
                inSection = line == "## Using it"
                continue
            }
            guard inSection else { continue }
            if current == nil, line == "```sh" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    @Test func theUsingItSectionRunsAsWritten() throws {
        let age = try ExternalTool.age.require()
        let readme = try String(contentsOf: PackagePaths.url("README.md"), encoding: .utf8)
        let blocks = Self.usingItScript(readme)
        #expect(blocks.count >= 5, "the README's Using it section has \(blocks.count) sh blocks")
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        try FileManager.default.createSymbolicLink(
            atPath: cli.path("Specs"), withDestinationPath: PackagePaths.url("Specs").path)
        // Synthetic stand-ins for the files the README seals.
        try Data("%PDF-1.4 synthetic court verdict\n".utf8).write(to: URL(fileURLWithPath: cli.path("verdict.pdf")))
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array("synthetic ID card photo".utf8)).write(
            to: URL(fileURLWithPath: cli.path("id-card.jpg")))
        try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(
            to: URL(fileURLWithPath: cli.path("testimony.mp4")))
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] =
            [
                CLIHarness.executable.deletingLastPathComponent().path, age.deletingLastPathComponent().path,
                environment["PATH"] ?? "/usr/bin:/bin",
            ].joined(separator: ":")
        for name in ["AMANAT_PASSPHRASE", "AMANAT_WORKSPACE"] { environment.removeValue(forKey: name) }
        let script = "set -euo pipefail\nset -x\n" + blocks.joined(separator: "\n")
        let result = try Subprocess.run(
            "/bin/bash", ["-c", script], in: cli.folder, environment: environment, stdin: Data())
        #expect(result.status == 0, "README script failed (\(result.status)):\n\(result.stderrText.suffix(4000))")
        // What the story leaves behind: a publication that verifies, and the files berlin extracted.
        #expect(FileManager.default.fileExists(atPath: cli.path("cases/0142/files/verdict.pdf")))
        let published = try FileManager.default.contentsOfDirectory(atPath: cli.path("published"))
        #expect(published.contains("index.json"))
        #expect(published.contains { $0.hasSuffix(".sd-jwt") })
    }
}
