import AmanatCrypto
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat init --org NAME`
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace and a new organization identity.",
        discussion: """
            Creates .amanat/ in the current folder (or --workspace DIR) holding an Ed25519 signing key and an \
            X25519 sealing key, both encrypted with your passphrase (scrypt N=2^17, r=8, p=1) and readable only \
            by you (mode 0600). Prints the fingerprint: read it out to partners over the phone so they can check \
            the identity file you send them.

            Example:
              AMANAT_PASSPHRASE='correct horse battery staple' amanat init --org "Steppe Rights Archive"
            """
    )

    @Option(name: .long, help: "The organization's name, as partners will see it.")
    var org: String

    @OptionGroup var options: WorkspaceOptions

    @Option(name: .long, help: .hidden)
    var kdfLogN: Int?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        let name = org.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw ValidationError("--org must be a non-empty name of at most 200 characters.")
        }
        if let kdfLogN, !(10...22).contains(kdfLogN) {
            throw ValidationError("--kdf-log-n must be between 10 and 22.")
        }
    }

    func run() throws {
        let root = URL(fileURLWithPath: options.workspace ?? FileManager.default.currentDirectoryPath)
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(Workspace.folderName).path) {
            throw AmanatError(
                .cannotCreateOutput,
                "\(root.appendingPathComponent(Workspace.folderName).path) already exists: this folder is already an "
                    + "Amanat workspace. Nothing was changed. Use another folder, or `amanat identity show`.")
        }
        let passphrase = try options.passphrase(confirm: true)
        var parameters = ScryptParameters.default
        if let kdfLogN {
            parameters.logN = kdfLogN
            if kdfLogN < ScryptParameters.default.logN {
                Console.err(
                    "warning: keys protected with scrypt N=2^\(kdfLogN), weaker than the default 2^17 (tests only).")
            }
        }
        let (workspace, identity) = try Workspace.create(
            at: root, organization: org.trimmingCharacters(in: .whitespacesAndNewlines), passphrase: passphrase,
            parameters: parameters)
        if json {
            try Console.json(IdentitySummary(identity, workspace: workspace))
        } else {
            Console.status(
                "Created workspace \(workspace.dotFolder.path) for \(UntrustedText.printable(identity.organization)).")
            Console.status("Fingerprint:    \(identity.fingerprint)")
            Console.status("Age recipient:  \(identity.ageRecipient)")
            Console.status(
                "Next: `amanat identity export -o \(Self.suggestedFileName(identity.organization))` and send it to partners;"
            )
            Console.status("      read them the fingerprint over the phone so they can check it.")
        }
    }

    static func suggestedFileName(_ organization: String) -> String {
        let slug = organization.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(slug).split(separator: "-").joined(separator: "-") + ".identity.json"
    }
}

/// What `identity show --json` and `init --json` print.
struct IdentitySummary: Encodable {
    var organization: String
    var fingerprint: String
    var ageRecipient: String
    var signingKey: JWK
    var workspace: String

    init(_ identity: PublicIdentity, workspace: Workspace) {
        organization = identity.organization
        fingerprint = identity.fingerprint
        ageRecipient = identity.ageRecipient
        signingKey = identity.signingKey
        self.workspace = workspace.root.path
    }
}
