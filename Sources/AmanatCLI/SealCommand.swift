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

            -R FILE reads recipients from a file, one per line (the same three forms; blank lines and lines \
            starting with # are skipped), as age -R does.

            -o - (or no -o at all when standard output is not a terminal) writes the bundle to standard output, \
            like age, for a pipe; a binary bundle is refused at a terminal unless --armor is given. Status lines \
            always go to standard error (-q silences them).

            Examples:
              amanat seal -r berlin -r geneva -o case.amanat verdict.pdf id-card.jpg
              amanat seal -r berlin --all | ssh courier 'cat > steppe.amanat'
              amanat seal -R partners.txt -a --since-last > delta.amanat.txt
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(
        name: [.short, .customLong("to")],
        help: ArgumentHelp("A partner who can open the bundle (repeatable).", valueName: "partner"))
    var recipients: [String] = []
    @Option(
        name: [.customShort("R"), .customLong("recipients-file")],
        help: ArgumentHelp("A file of partners, one per line (repeatable).", valueName: "file"))
    var recipientFiles: [String] = []
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp(
            "The bundle file to write ('-' or none: standard output, when it is not a terminal).", valueName: "out"))
    var output: String?
    @Flag(name: .shortAndLong, help: "Write ASCII armor (PEM-like text) instead of binary.") var armor = false
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

    /// `-o -`, or no `-o` at all: the bundle goes to standard output.
    var toStdout: Bool { output == nil || output == "-" }

    func validate() throws {
        if recipients.isEmpty && recipientFiles.isEmpty {
            throw ValidationError("name at least one partner with -r PARTNER or -R FILE.")
        }
        if files.isEmpty && record.isEmpty && !all && !sinceLast {
            throw ValidationError("name files to seal, --record ID, --all, or --since-last.")
        }
        if [all, !record.isEmpty, sinceLast].filter({ $0 }).count > 1 {
            throw ValidationError("--all, --record and --since-last exclude each other.")
        }
        if toStdout && json {
            throw ValidationError("--json and the bundle both want standard output; write the bundle with -o FILE.")
        }
        if toStdout && !armor && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError(
                output == nil
                    ? "name the bundle file with -o FILE (or redirect standard output, or pass --armor)."
                    : "refusing to write a binary bundle to the terminal; redirect standard output, pass -o FILE, or --armor."
            )
        }
    }

    func run() throws {
        let workspace = try options.locate()
        let selection: RecordSelection =
            all ? .all : sinceLast ? .sinceLast : record.isEmpty ? .none : .records(record)
        let partners = recipients + (try recipientFiles.flatMap(Self.readRecipients))
        let out = try output.flatMap { $0 == "-" ? nil : try OutputFile($0, mode: 0o600, overwrite: force) }
        let progress = ProgressBar(label: "sealing")
        defer { progress.finish() }
        let report = try workspace.seal(
            SealRequest(files: files, records: selection, recipients: partners, armor: armor),
            sink: { bytes in
                if let out { try out.write(bytes) } else { FileHandle.standardOutput.write(Data(bytes)) }
            },
            commit: { try out?.commit() }, progress: progress.update)
        progress.finish()
        if report.missingAttachments > 0 {
            Console.status(
                "note: \(report.missingAttachments) attachment(s) listed by the records are not stored here and are "
                    + "not in the bundle.")
        }
        if !report.withheldRecords.isEmpty {
            Console.status(
                "note: \(report.withheldRecords.count) record(s) with consent 'internal' were left out: they never "
                    + "leave this organization.")
        }
        let manifest = report.manifest
        if json {
            try Console.json(manifest)
        } else {
            if let versions = report.versionCount, let records = report.recordCount {
                Console.status(
                    "Included \(versions) version(s) of \(records) record\(records == 1 ? "" : "s"), with their attachments."
                )
            }
            Console.status(
                "Sealed \(manifest.contentEntries.count) entr\(manifest.contentEntries.count == 1 ? "y" : "ies") into "
                    + "\(output.map { $0 == "-" ? "standard output" : UntrustedText.printable($0) } ?? "standard output") for "
                    + report.recipientNames.map(UntrustedText.printable).joined(separator: ", ") + ".")
            Console.status("Bundle id: \(manifest.bundleId)")
        }
    }

    /// The recipients listed in a `-R` file: one per line, blank lines and `#` comments skipped.
    static func readRecipients(_ path: String) throws -> [String] {
        let text = String(
            decoding: try Workspace.readFile(URL(fileURLWithPath: path), what: "recipients file"), as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let listed = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !listed.isEmpty else {
            throw AmanatError(
                .malformedInput,
                "\(UntrustedText.printable(path)) lists no recipient: one partner name, identity file or age1… per line."
            )
        }
        return listed
    }
}
