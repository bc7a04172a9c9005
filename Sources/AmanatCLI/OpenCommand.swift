import AmanatBundle
import AmanatCrypto
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
            DIR/files/<name>, with the signed manifest as DIR/MANIFEST.jws.

            Without -o, the bundle's record versions are verified against the trust list and imported into the \
            store (with their attachments) in one transaction: all or nothing; importing the same bundle twice \
            changes nothing; versions made concurrently with local ones are kept and reported.

            Examples:
              amanat open inbox/2026-11-case-0142.amanat -o cases/0142
              amanat open inbox/2026-11-steppe-records.amanat
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: ArgumentHelp("The bundle to open.", valueName: "in")) var input: String
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("Extract the verified files into this folder.", valueName: "dir"))
    var output: String?
    @Flag(name: .long, help: "Decrypt and verify only; write nothing.") var dryRun = false
    @Flag(name: .long, help: "Print the verified manifest as JSON.") var json = false

    func run() throws {
        let workspace = try options.locate()
        if output == nil && !dryRun {
            try BundleImport.run(input, workspace: workspace, options: options, json: json)
            return
        }
        let opened: OpenedBundle
        if dryRun {
            opened = try BundleVerification.open(input, workspace: workspace, passphraseFrom: options, output: nil)
        } else {
            let staging = try StagingFolder(destination: output!)
            opened = try BundleVerification.open(input, workspace: workspace, passphraseFrom: options, output: staging)
            try staging.publish(manifestJWS: opened.manifestJWS)
        }
        let signer = workspace.partnerName(fingerprint: opened.signerFingerprint) ?? opened.signerFingerprint
        if json {
            try Console.json(opened.manifest)
        } else {
            Console.out(
                "Verified: signed by \(signer) (\(opened.signerFingerprint)), \(opened.manifest.entries.count) file(s), created \(opened.manifest.createdAt)."
            )
            if let output, !dryRun { Console.out("Extracted into \(output).") }
        }
    }
}

/// Opening shared by `open` and `inspect`.
enum BundleVerification {
    static func open(
        _ path: String, workspace: Workspace, passphraseFrom options: WorkspaceOptions, passphrase: SecretBytes? = nil,
        output: BundleEntryOutput?
    ) throws -> OpenedBundle {
        let file = try InputFile(path, what: "bundle")
        let key = try workspace.sealingKey(passphrase: try passphrase ?? options.passphrase())
        let signers = try workspace.trustedSigners()
        let progress = ProgressBar(label: "opening", total: file.size)
        defer { progress.finish() }
        do {
            return try BundleOpener.open(
                source: { try file.read($0) }, sizeLimit: file.size, identity: key, trustedSigner: signers,
                ownFingerprint: try workspace.identity().fingerprint, output: output, progress: { progress.update($0) })
        } catch let error as BundleError {
            throw error.cliError(file: path, workspace: workspace)
        }
    }
}

/// Extracted files go to a hidden folder beside the destination and are moved in only after verification.
final class StagingFolder: BundleEntryOutput {
    let destination: URL
    let staging: URL
    private var current: OutputFile?
    private var published = false

    init(destination path: String) throws {
        destination = URL(fileURLWithPath: path).standardizedFileURL
        let parent = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CLIError(
                .cannotCreateOutput, "cannot extract into \(path): the folder \(parent.path) does not exist.")
        }
        if FileManager.default.fileExists(atPath: destination.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CLIError(.cannotCreateOutput, "cannot extract into \(path): it is a file, not a folder.")
        }
        staging = parent.appendingPathComponent(
            ".\(destination.lastPathComponent).amanat-partial-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(
                at: staging.appendingPathComponent("files"), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError(.cannotCreateOutput, "cannot create a staging folder beside \(path).")
        }
    }

    deinit {
        if !published { try? FileManager.default.removeItem(at: staging) }
    }

    func begin(path: String, size: UInt64) throws {
        current = try OutputFile(staging.appendingPathComponent(path).path, mode: 0o600)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try current?.write(bytes) }

    func end() throws {
        try current?.commit()
        current = nil
    }

    /// Moves the verified files into the destination; refuses (changing nothing) if any name already exists there.
    func publish(manifestJWS: String) throws {
        try AtomicFile.write(Data(manifestJWS.utf8), to: staging.appendingPathComponent("MANIFEST.jws"), mode: 0o600)
        let fm = FileManager.default
        if !fm.fileExists(atPath: destination.path) {
            guard rename(staging.path, destination.path) == 0 else {
                throw CLIError(
                    .cannotCreateOutput, "cannot create \(destination.path): \(String(cString: strerror(errno))).")
            }
            published = true
            return
        }
        let names = (try? fm.contentsOfDirectory(atPath: staging.appendingPathComponent("files").path)) ?? []
        var clashes = names.map { "files/" + $0 }.filter {
            fm.fileExists(atPath: destination.appendingPathComponent($0).path)
        }
        if fm.fileExists(atPath: destination.appendingPathComponent("MANIFEST.jws").path) {
            clashes.append("MANIFEST.jws")
        }
        guard clashes.isEmpty else {
            throw CLIError(
                .cannotCreateOutput,
                "\(destination.path) already holds \(clashes.prefix(3).joined(separator: ", ")); nothing was extracted. "
                    + "Choose a new folder with -o.")
        }
        try? fm.createDirectory(at: destination.appendingPathComponent("files"), withIntermediateDirectories: true)
        for name in names.map({ "files/" + $0 }) + ["MANIFEST.jws"] {
            guard rename(staging.appendingPathComponent(name).path, destination.appendingPathComponent(name).path) == 0
            else {
                throw CLIError(
                    .cannotCreateOutput,
                    "cannot move \(name) into \(destination.path): \(String(cString: strerror(errno))).")
            }
        }
    }
}
