import AmanatBundle
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat seal -r PARTNER... -o OUT FILE...`
struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal files into a bundle that only the chosen partners can open.",
        discussion: """
            A bundle is an age file (X25519, ChaCha20-Poly1305) holding a tar archive of the files and a manifest \
            signed with your Ed25519 key, listing each file's SHA-256 and size. Partners open it with \
            `amanat open`, or without Amanat: `age -d -i key.txt OUT | tar -x`. Each file is read once.

            -r accepts a name from `amanat trust list`, a public identity file, or a bare age1… recipient; repeat \
            it for several partners.

            -o - writes the bundle to standard output (like age), for a pipe; it is refused at a terminal unless \
            --armor is given. The status lines then go to standard error.

            Examples:
              amanat seal -r berlin -r geneva -o 2026-11-case-0142.amanat verdict.pdf id-card.jpg testimony.mp4
              amanat seal -r berlin --all -o - | ssh courier 'cat > steppe.amanat'
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(
        name: [.short, .customLong("to")],
        help: ArgumentHelp("A partner who can open the bundle (repeatable).", valueName: "partner"))
    var recipients: [String] = []
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The bundle file to write ('-': standard output).", valueName: "out"))
    var output: String
    @Flag(name: .long, help: "Write ASCII armor (PEM-like text) instead of binary.") var armor = false
    @Flag(name: .long, help: "Replace the output file if it exists.") var force = false
    @Flag(name: .long, help: "Print the signed manifest as JSON.") var json = false
    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp(
            "Records from the store to include, with all their versions and attachments.", valueName: "id"))
    var record: [String] = []
    @Flag(name: .long, help: "Include every record in the store.") var all = false
    @Flag(name: .long, help: "Include only the record versions each partner is not known to hold yet (delta exchange).")
    var sinceLast = false
    @Argument(help: ArgumentHelp("Plain files to seal.", valueName: "file")) var files: [String] = []

    func validate() throws {
        if recipients.isEmpty { throw ValidationError("name at least one partner with -r PARTNER.") }
        if files.isEmpty && record.isEmpty && !all && !sinceLast {
            throw ValidationError("name files to seal, --record ID, --all, or --since-last.")
        }
        if [all, !record.isEmpty, sinceLast].filter({ $0 }).count > 1 {
            throw ValidationError("--all, --record and --since-last exclude each other.")
        }
        if output == "-" && json { throw ValidationError("--json and -o - both want standard output; choose one.") }
        if output == "-" && !armor && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError(
                "refusing to write a binary bundle to the terminal; redirect standard output, pass -o FILE, or --armor."
            )
        }
    }

    func run() throws {
        let workspace = try options.locate()
        let selection: RecordSelection =
            all ? .all : sinceLast ? .sinceLast : record.isEmpty ? .none : .records(record)
        let toStdout = output == "-"
        let out = toStdout ? nil : try OutputFile(output, mode: 0o600, overwrite: force)
        let progress = ProgressBar(label: "sealing")
        defer { progress.finish() }
        let report = try workspace.seal(
            SealRequest(files: files, records: selection, recipients: recipients, armor: armor),
            sink: { bytes in
                if let out { try out.write(bytes) } else { FileHandle.standardOutput.write(Data(bytes)) }
            },
            commit: { try out?.commit() }, progress: progress.update)
        let say: (String) -> Void = toStdout ? { Console.err($0) } : { Console.out($0) }
        progress.finish()
        if report.missingAttachments > 0 {
            Console.err(
                "note: \(report.missingAttachments) attachment(s) listed by the records are not stored here and are "
                    + "not in the bundle.")
        }
        if !report.withheldRecords.isEmpty {
            Console.err(
                "note: \(report.withheldRecords.count) record(s) with consent 'internal' were left out: they never "
                    + "leave this organization.")
        }
        let manifest = report.manifest
        if json {
            try Console.json(manifest)
        } else {
            if let versions = report.versionCount, let records = report.recordCount {
                say(
                    "Included \(versions) version(s) of \(records) record\(records == 1 ? "" : "s"), with their attachments."
                )
            }
            say(
                "Sealed \(manifest.contentEntries.count) entr\(manifest.contentEntries.count == 1 ? "y" : "ies") into "
                    + "\(toStdout ? "standard output" : UntrustedText.printable(output)) for "
                    + report.recipientNames.map(UntrustedText.printable).joined(separator: ", ") + ".")
            say("Bundle id: \(manifest.bundleId)")
        }
    }
}
