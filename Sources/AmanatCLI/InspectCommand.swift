import AmanatBundle
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat inspect IN [--json]`
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decrypt and verify a bundle; print its sender, recipients and files; write nothing.",
        discussion: """
            IN may be - to read the bundle from standard input (a pipe).

            Examples:
              amanat inspect inbox/2026-11-case-0142.amanat --json
              curl -s https://files.example.org/case-0142.amanat | amanat inspect -
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: ArgumentHelp("The bundle to inspect ('-': standard input).", valueName: "in")) var input: String
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    struct Report: Encodable {
        var file: String
        var verified: Bool
        var signer: String
        var signerFingerprint: String
        var manifest: BundleManifest
        /// The manifest's place in the sender's transparency log (nil: the bundle carries no log proof).
        var log: LogInclusion?
    }

    func run() throws {
        let workspace = try options.locate()
        let opened = try workspace.openBundle(input, output: nil)
        let signer = workspace.partnerName(fingerprint: opened.signerFingerprint) ?? opened.signerFingerprint
        // The manifest's proof in the sender's transparency log: a wrong one fails (exit 1), like a bad signature.
        let inclusion = try workspace.manifestInclusion(opened)
        if json {
            try Console.json(
                Report(
                    file: input == "-" ? "standard input" : input, verified: true, signer: signer,
                    signerFingerprint: opened.signerFingerprint,
                    manifest: opened.manifest, log: inclusion))
            return
        }
        let m = opened.manifest
        Console.out("Bundle      \(input == "-" ? "standard input" : UntrustedText.printable(input))")
        Console.out("Id          \(UntrustedText.printable(m.bundleId))")
        Console.out("Created     \(UntrustedText.printable(m.createdAt))")
        Console.out(
            "Signed by   \(UntrustedText.printable(m.sender.organization ?? "?")) — trusted as \(signer) (\(opened.signerFingerprint))"
        )
        Console.out("Recipients")
        for r in m.recipients {
            Console.out(
                "  \(r.organization.map(UntrustedText.printable) ?? "(bare age recipient)")  \(UntrustedText.printable(r.fingerprint ?? r.ageRecipient ?? ""))"
            )
        }
        if let inclusion {
            Console.out("Log         manifest \(inclusion.summary)")
        } else {
            Console.out("Log         no transparency-log proof (sealed by an earlier release)")
        }
        Console.out("Files (all SHA-256 verified)")
        for e in m.contentEntries {
            Console.out(
                "  \(UntrustedText.printable(e.path))  \(e.size) bytes  sha256:\(UntrustedText.printable(e.sha256))")
        }
    }
}
