import AmanatCrypto
import AmanatPublish
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat publish --policy FILE -o DIR [RECORD...]`
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Write redacted public versions of records under a written redaction policy.",
        discussion: """
            For each record (default: every record whose consent the policy allows) writes DIR/<record-id>.sd-jwt, \
            a presentation of the collector's SD-JWT holding only the disclosures the policy lets through (it still \
            verifies against the collector's signature), and DIR/<record-id>.annotation.jws, signed by this \
            workspace, with the pseudonyms, generalized values and markers the publisher made. Beside them, \
            DIR/<fingerprint>.identity.json holds the public identity of this workspace (the publisher) and of \
            every collector and signer of a published record (from the trust list), so that anyone can check the \
            folder with `amanat verify DIR/<record-id>.sd-jwt --identity DIR/<fingerprint>.identity.json …`, \
            without a workspace. DIR/index.json lists them all. The folder appears only when complete.

            Readers can only trust the identity files as far as they can compare the fingerprints with ones \
            published elsewhere: publish your fingerprint (`amanat identity show`) on your web site or in print. Anything the policy does not name is withheld; free text \
            is scanned, and a piece of text holding an identifier among other words is withheld whole.

            Attachments are withheld unless the policy's media: section says otherwise (Specs/policies.md): a kind \
            marked publish or redact is written as DIR/media/<sha256>.<ext>, a copy made with ffmpeg that keeps no \
            GPS, device, time or author metadata, with the rectangles and intervals of its redaction spec covered \
            and muted, and beside it DIR/media/<sha256>.media.jws, signed by this workspace. Give specs with \
            --media-spec SHA256=SPEC.json (the original attachment's SHA-256) or --media-specs DIR holding \
            <sha256>.json. Identifiers spoken in a recording are muted too when the record has a timed transcript \
            (WebVTT, SRT) attached. An attachment marked redact without a spec refuses the whole publication \
            (exit 65); without ffmpeg, exit 69.

            Records with consent internal are always refused; records whose consent the policy does not list are \
            refused (exit 64) when named, skipped otherwise (the first 100 skipped records are named on standard \
            error, the rest counted by reason). The report gives counts per kind, never values.

            Example:
              amanat publish --policy Specs/policies/public.yaml -o published/
              amanat publish --policy Specs/policies/public.yaml --dry-run 3Jq7xk
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .long, help: ArgumentHelp("The redaction policy (YAML, Specs/policies.md).", valueName: "file"))
    var policy: String
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The folder to create (new, or empty).", valueName: "dir"))
    var output: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A media redaction spec for the attachment with this SHA-256 (repeatable).", valueName: "sha256=file"))
    var mediaSpec: [String] = []
    @Option(
        name: .long,
        help: ArgumentHelp("A folder of media redaction specs named <sha256>.json.", valueName: "dir"))
    var mediaSpecs: String?
    @Flag(name: .long, help: "Show the redacted records with markers and the report; write nothing.") var dryRun = false
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @Argument(
        help: ArgumentHelp("Record ids or unique prefixes (default: all publishable records).", valueName: "record"))
    var records: [String] = []

    func validate() throws {
        if output == nil && !dryRun { throw ValidationError("Give the output folder with -o DIR (or use --dry-run).") }
    }

    func run() throws {
        let workspace = try options.locate()
        let loaded = try Workspace.loadPolicy(policy)
        let bar = ProgressBar(label: "redacting", unit: .items("records"))
        let specs = try MediaSpecs.load(pairs: mediaSpec, folder: mediaSpecs)
        // The reports (or their summaries) are printed only once the folder is in place; until then they wait,
        // encrypted, in a spool beside the output, so that memory does not grow with the records published. A dry run
        // keeps the redacted records it shows.
        let spool = try dryRun ? nil : output.map { try Spool(beside: URL(fileURLWithPath: $0), label: "report") }
        let encoder = Console.jsonEncoder()
        let result = try workspace.publish(
            records, policy: loaded, to: dryRun ? nil : output, mediaSpecs: specs,
            progress: { bar.update(UInt64($0), of: UInt64($1)) },
            onRecord: spool.map { spool in
                { record in
                    try spool.append(
                        json ? Array(try encoder.encode(record.report)) : Array(record.report.summary.utf8))
                }
            })
        bar.finish()
        for skipped in result.skipped {
            Console.err(
                "skipped \(UntrustedText.printable(skipped.record)): \(UntrustedText.printable(skipped.reason))")
        }
        if result.skippedCount > result.skipped.count {
            let reasons = result.skippedReasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                .map { "\(UntrustedText.printable($0.key)) (\($0.value))" }
            Console.err(
                "skipped \(result.skippedCount - result.skipped.count) more records (\(result.skippedCount) in all: "
                    + reasons.joined(separator: "; ") + ").")
        }
        if let spool {
            let array = json ? JSONArrayStream() : nil
            let text = StreamedText()
            try spool.forEach { bytes in
                if let array {
                    array.appendEncoded(bytes)
                } else {
                    text.write(UntrustedText.terminalSafe(String(decoding: bytes, as: UTF8.self)) + "\n")
                }
            }
            array?.finish()
            text.flush()
        } else if json {
            try Console.json(result.records.map(\.report))
        }
        if dryRun && !json {
            for record in result.records {
                Console.out(
                    "── \(UntrustedText.printable(record.recordId)) (version \(record.versionId)) — dry run, nothing written"
                )
                Console.jsonText(record.rendered.pretty())
                Console.out(record.report.summary)
            }
        }
        for media in result.media {
            Console.status(
                "Wrote \(UntrustedText.printable(media.entry.derivative)) (\(UntrustedText.printable(media.entry.kind)) of "
                    + "record \(UntrustedText.printable(media.entry.record)), \(media.entry.action)) and its signed "
                    + "annotation \(UntrustedText.printable(media.entry.annotation)).")
        }
        if let folder = result.folder {
            Console.status(
                "Published \(result.count) record\(result.count == 1 ? "" : "s") under policy "
                    + "'\(UntrustedText.printable(loaded.policy.name))' in \(UntrustedText.printable(folder)).")
            Console.status(
                "With it are the public identities of \(result.identities.count) organization"
                    + "\(result.identities.count == 1 ? "" : "s") (<fingerprint>.identity.json): anyone can check the "
                    + "folder with `amanat verify FILE.sd-jwt --identity …`. Publish your fingerprint elsewhere too "
                    + "(`amanat identity show`), so that readers can compare it.")
        }
    }
}
