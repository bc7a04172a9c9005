import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat export RECORD [--attachment SHA256]... -o DIR`
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a record's JSON and its attachments, decrypted, into a folder.",
        discussion: """
            WARNING: the files written are PLAINTEXT outside the encrypted store (.amanat/), on purpose: to open a \
            video, print a court verdict or hand a file to a lawyer. Anyone who can read DIR can read them. Delete \
            them when you are done; `amanat lock --shred` does not reach them.

            Writes DIR/record.json (the head's content, byte for byte as `amanat show RECORD --format json` prints \
            it) and each attachment as DIR/<sha256>.<extension> (the extension from its media type, .bin when \
            unknown; names never come from the record). Files get mode 0600; DIR and missing parents are created \
            with mode 0700.

            Each attachment is decrypted as a stream (a 4 GiB video in constant memory), its SHA-256 and size \
            checked against the record's signed version while it is written under a temporary name, and renamed \
            into place only when every file is complete and verified. An attachment that does not decrypt or does \
            not match is refused (exit 1) and nothing is left behind. Existing files are refused (exit 73) unless \
            --force is given. An attachment whose file this workspace does not hold (never received, or erased) is \
            skipped with a warning, or refused (exit 66) when named with --attachment.

            Example:
              amanat export 3Jq7xk -o cases/0142
              amanat export 3Jq7xk --attachment 9f86d081 -o cases/0142 --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix).") var record: String
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Export only this attachment: its SHA-256 or a unique prefix (repeat for several; default: all).",
            valueName: "sha256"))
    var attachment: [String] = []
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The folder to write into (created with its parents when missing).", valueName: "dir"))
    var output: String
    @Flag(name: .long, help: "Replace existing files of the same names (only once everything is verified).")
    var force = false
    @Flag(name: .long, help: "Print the files written as JSON.") var json = false

    func run() throws {
        let workspace = try options.locate()
        let bar = ProgressBar(label: "export")
        let result = try workspace.export(
            record, attachments: attachment, to: output, overwrite: force, progress: { bar.update($0, of: $1) })
        bar.finish()
        for summary in result.missing {
            Console.err(
                "warning: attachment \(summary) is not in this workspace (never received, or erased); not exported.")
        }
        if json {
            try Console.json(result)
        } else {
            for file in result.files { Console.out(UntrustedText.printable(file.path)) }
            let attachments = result.files.filter { $0.type == "attachment" }.count
            Console.status(
                "Exported record \(UntrustedText.printable(result.record)) (version \(result.version)) and "
                    + "\(attachments) attachment\(attachments == 1 ? "" : "s"), each verified against its signed "
                    + "SHA-256, into \(UntrustedText.printable(result.folder)). These files are plaintext: delete "
                    + "them when you are done.")
        }
    }
}
