import AmanatBundle
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

            Example:
              amanat seal -r berlin -r geneva -o 2026-11-case-0142.amanat verdict.pdf id-card.jpg testimony.mp4
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(
        name: [.short, .customLong("to")],
        help: ArgumentHelp("A partner who can open the bundle (repeatable).", valueName: "partner"))
    var recipients: [String] = []
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The bundle file to write.", valueName: "out"))
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
    }

    func run() throws {
        let workspace = try options.locate()
        let recipientList = try workspace.resolveRecipients(recipients)
        let inputs = try files.map { try InputFile($0) }
        var names = Set<String>()
        for input in inputs {
            let name = URL(fileURLWithPath: input.path).lastPathComponent
            do { try BundleSealer.validateName(name) } catch let error as BundleError {
                throw CLIError(.usage, "\(input.path): \(error)")
            }
            guard names.insert(name).inserted else {
                throw CLIError(.usage, "two files are named '\(name)'; a bundle holds files by name, so rename one.")
            }
        }
        let identity = try workspace.identity()
        var bundleInputs = inputs.map { file in
            BundleInput(name: URL(fileURLWithPath: file.path).lastPathComponent, size: file.size) { try file.read($0) }
        }
        var total = inputs.reduce(0) { $0 + $1.size }
        var records: RecordBundleContents? = nil
        let partnerFingerprints = recipientList.compactMap(\.party.fingerprint)
        let anonymousRecipients = partnerFingerprints.count < recipientList.count
        let service = (all || !record.isEmpty || sinceLast) ? try RecordService(workspace: workspace) : nil
        if let service {
            let versionIds: [String]
            if sinceLast {
                guard !partnerFingerprints.isEmpty else {
                    throw CLIError(
                        .usage,
                        "--since-last needs partners from the trust list (or identity files), not bare age1… recipients."
                    )
                }
                versionIds = try service.unacknowledgedVersions(partners: partnerFingerprints)
            } else {
                let ids = all ? try service.store.records().map(\.id) : try record.map { try service.resolve($0) }
                if !all {
                    try service.checkSealable(
                        ids, partners: partnerFingerprints, anonymousRecipients: anonymousRecipients)
                }
                versionIds = try service.versionIds(ofRecords: ids)
            }
            let contents = try service.bundleContents(
                versionIds: versionIds, partners: partnerFingerprints, anonymousRecipients: anonymousRecipients)
            if contents.missingAttachments > 0 {
                Console.err(
                    "note: \(contents.missingAttachments) attachment(s) listed by the records are not stored here and are "
                        + "not in the bundle.")
            }
            if !contents.withheldRecords.isEmpty {
                Console.err(
                    "note: \(contents.withheldRecords.count) record(s) with consent 'internal' were left out: they never "
                        + "leave this organization.")
            }
            bundleInputs += contents.inputs
            total += contents.attachmentBytes
            records = contents
        }
        let key = try workspace.signingKey(passphrase: try options.passphrase())
        let out = try OutputFile(output, mode: 0o600, overwrite: force)
        let progress = ProgressBar(label: "sealing", total: total)
        let manifest: BundleManifest
        do {
            manifest = try BundleSealer.seal(
                inputs: bundleInputs,
                sender: BundleSender(signingKey: key, identity: identity), recipients: recipientList, armor: armor,
                summary: records?.summary, acknowledges: records?.acknowledges, sink: { try out.write($0) },
                progress: { progress.update($0) })
            try out.commit()
            if let service, let records {
                try service.recordSent(records, bundleId: manifest.bundleId, partners: partnerFingerprints)
            }
        } catch let error as BundleError {
            progress.finish()
            throw error.cliError(file: output, workspace: workspace)
        }
        progress.finish()
        if json {
            try Console.json(manifest)
        } else {
            if let records {
                Console.out(
                    "Included \(records.versionIds.count) version(s) of \(records.recordCount) record"
                        + "\(records.recordCount == 1 ? "" : "s"), with their attachments.")
            }
            Console.out(
                "Sealed \(manifest.entries.count) entr\(manifest.entries.count == 1 ? "y" : "ies") into \(output) for "
                    + recipientList.map { $0.party.organization ?? $0.party.ageRecipient ?? "?" }.joined(
                        separator: ", ") + ".")
            Console.out("Bundle id: \(manifest.bundleId)")
        }
    }
}
