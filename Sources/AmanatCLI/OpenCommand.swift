import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat open IN -o DIR`
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Decrypt a bundle, verify it, and extract its files.",
        discussion: """
            Every file's SHA-256 and the manifest signature are checked against your trust list before anything \
            appears in DIR: on any failure DIR gets nothing new. Files are written with mode 0600, as \
            DIR/files/<name>, with the signed manifest as DIR/MANIFEST.jws. Missing parent folders of DIR are \
            created (as git clone does), and removed again if the bundle does not verify.

            IN may be - to read the bundle from standard input (a pipe). What was verified and imported is \
            reported on standard error (-q silences it); --json prints the report on standard output.

            Without -o, the bundle's record versions are verified against the trust list and imported into the \
            store (with their attachments) in one transaction: all or nothing; importing the same bundle twice \
            changes nothing; versions made concurrently with local ones are kept and reported.

            Examples:
              amanat open inbox/2026-11-case-0142.amanat -o cases/0142
              amanat open inbox/2026-11-steppe-records.amanat
              ssh courier cat steppe.amanat | amanat open -
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: ArgumentHelp("The bundle to open ('-': standard input).", valueName: "in")) var input: String
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("Extract the verified files into this folder.", valueName: "dir"))
    var output: String?
    @Flag(name: .long, help: "Decrypt and verify only; write nothing.") var dryRun = false
    @Flag(name: .long, help: "Print the verified manifest as JSON.") var json = false

    func run() throws {
        let workspace = try options.locate()
        let progress = ProgressBar(label: "opening")
        defer { progress.finish() }
        if output == nil && !dryRun {
            let report = try BundleImport.importBundle(input, into: workspace, progress: progress.update)
            progress.finish()
            try Self.show(report, json: json)
            return
        }
        let opened: OpenedBundle
        if dryRun {
            opened = try workspace.openBundle(input, output: nil, progress: progress.update)
        } else {
            let extraction = try BundleExtraction(destination: output!)
            opened = try workspace.openBundle(input, output: extraction, progress: progress.update)
            try extraction.publish(opened)
        }
        progress.finish()
        let signer = workspace.partnerName(fingerprint: opened.signerFingerprint) ?? opened.signerFingerprint
        if json {
            try Console.json(opened.manifest)
        } else {
            Console.status(
                "Verified: signed by \(signer) (\(opened.signerFingerprint)), \(opened.manifest.contentEntries.count) file(s), created \(UntrustedText.printable(opened.manifest.createdAt))."
            )
            if let output, !dryRun { Console.status("Extracted into \(UntrustedText.printable(output)).") }
        }
    }

    /// Prints what an import changed.
    static func show(_ report: BundleImport.Report, json: Bool) throws {
        if json {
            try Console.json(report)
            return
        }
        Console.status("Verified bundle from \(report.signer).")
        Console.status(report.log.describe(sender: report.signer))
        Console.status(
            "Imported \(report.versionsAdded) new version(s); \(report.versionsAlreadyPresent) already present; \(report.attachmentsStored) attachment(s)."
        )
        if !report.recordsWithConcurrentVersions.isEmpty {
            Console.status(
                "Concurrent versions (kept, not merged) in \(report.recordsWithConcurrentVersions.count) record(s):")
            for id in report.recordsWithConcurrentVersions { Console.status("  \(UntrustedText.printable(id))") }
        }
        if !report.incompleteHistory.isEmpty {
            Console.status(
                "Incomplete history: \(report.incompleteHistory.count) version(s) name parents this store does not have yet."
            )
        }
        if report.plainFilesIgnored > 0 {
            Console.status(
                "\(report.plainFilesIgnored) plain file(s) in the bundle were not imported; extract them with -o DIR.")
        }
        if !report.erasedRecords.isEmpty {
            Console.status(
                "Erasure requests honored: the personal data of \(report.erasedRecords.count) record(s) was deleted.")
        }
        if !report.pendingRequests.isEmpty {
            Console.status(
                "\(report.pendingRequests.count) retraction or erasure request(s) from organizations that did not collect "
                    + "the records were kept as requests, not applied (see `amanat status`).")
        }
        if let theirs = report.senderSummary, report.inSyncWithSender == false {
            Console.status(
                "The sender holds \(theirs.versions) version(s) of \(theirs.records) record(s); this store differs (state hashes differ)."
            )
        } else if report.inSyncWithSender == true {
            Console.status("This store now holds exactly what the sender holds (equal state hashes).")
        }
    }

}
