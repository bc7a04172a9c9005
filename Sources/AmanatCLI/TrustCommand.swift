import AmanatCrypto
import ArgumentParser
import Foundation

/// `amanat trust add|list|remove`
struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Manage the partners whose signatures this workspace accepts.",
        subcommands: [TrustAddCommand.self, TrustListCommand.self, TrustRemoveCommand.self]
    )
}

/// `amanat trust add FILE [--name NAME]`
struct TrustAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Trust a partner's public identity file.",
        discussion: """
            Checks the file (its signing key signed its name and age recipient) and prints the fingerprint. \
            Compare it with the partner over the phone before you rely on it.

            Example:
              amanat trust add partner.identity.json --name berlin-archive
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(
        help: ArgumentHelp("The partner's public identity (JSON from `amanat identity export`).", valueName: "file"))
    var file: String
    @Option(name: .long, help: "The name to use for this partner in -r/--to (default: its organization name).")
    var name: String?
    @Flag(
        name: .long,
        help:
            "Let this partner retract and erase records it did not collect (give it again for a partner already trusted)."
    )
    var mayRetract = false
    @Flag(name: .long, help: "Print the added entry as JSON.") var json = false

    func run() throws {
        let workspace = try options.locate()
        let identity = try Self.readIdentity(file)
        let localName = (name ?? identity.organization).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !localName.isEmpty else { throw CLIError(.usage, "the partner name is empty; pass --name NAME.") }
        let own = try workspace.identity()
        if own.fingerprint == identity.fingerprint {
            throw CLIError(.usage, "\(file) is this workspace's own identity; there is no need to trust it.")
        }
        var list = try workspace.trustList()
        if mayRetract, let index = list.partners.firstIndex(where: { $0.identity.fingerprint == identity.fingerprint }),
            list.partners[index].mayRetract != true
        {
            list.partners[index].mayRetract = true
            try workspace.save(list)
            let erased = try Self.applyDelegation(workspace)
            Console.out(
                "'\(list.partners[index].name)' may now retract and erase records it did not collect."
                    + (erased > 0 ? " Its pending erasure requests took effect on \(erased) record(s)." : ""))
            return
        }
        if let existing = list.entry(fingerprint: identity.fingerprint) {
            throw CLIError(
                .malformedInput,
                "\(file): this key (fingerprint \(identity.fingerprint)) is already trusted as '\(existing.name)'. "
                    + "Nothing was changed. To rename it, `amanat trust remove \(existing.name)` first.")
        }
        if list.entry(named: localName) != nil {
            throw CLIError(
                .usage,
                "a partner named '\(localName)' is already on the trust list with another key. Nothing was changed. "
                    + "Choose another name with --name.")
        }
        let entry = TrustList.Entry(
            name: localName, identity: identity, addedAt: Self.now(), mayRetract: mayRetract ? true : nil)
        list.partners.append(entry)
        try workspace.save(list)
        if mayRetract { _ = try Self.applyDelegation(workspace) }
        if json {
            try Console.json(TrustListCommandEntry(entry))
        } else {
            Console.out("Trusted \(identity.organization) as '\(localName)'.")
            Console.out("Fingerprint: \(identity.fingerprint)")
            Console.out("Compare this fingerprint with the partner over the phone or in person.")
            if mayRetract { Console.out("It may retract and erase records it did not collect.") }
        }
    }

    /// Erasure requests of a new delegate that are already in the store take effect now.
    /// - Returns: how many records were erased.
    static func applyDelegation(_ workspace: Workspace) throws -> Int {
        guard FileManager.default.fileExists(atPath: workspace.storeURL.path) else { return 0 }
        let service = try RecordService(workspace: workspace)
        let erased = try service.store.applyErasures(authority: service.authority)
        if !erased.isEmpty { _ = try service.deleteErasedBlobs() }
        return erased.count
    }

    /// Reads and fully validates a public identity file; errors name the file and the problem.
    static func readIdentity(_ file: String) throws -> PublicIdentity {
        guard FileManager.default.fileExists(atPath: file) else {
            throw CLIError(.inputMissing, "\(file) does not exist.")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError(.ioError, "cannot read \(file).")
        }
        guard data.count <= 64 * 1024 else {
            throw CLIError(.malformedInput, "\(file) is too large to be a public identity (\(data.count) bytes).")
        }
        let identity: PublicIdentity
        do {
            identity = try JSONDecoder().decode(PublicIdentity.self, from: data)
        } catch {
            throw CLIError(
                .malformedInput,
                "\(file) is not an Amanat public identity (expected the JSON written by `amanat identity export`).")
        }
        do {
            _ = try identity.validated()
        } catch PublicIdentity.ValidationError.bindingInvalid {
            throw CLIError(
                .verificationFailed,
                "\(file): \(PublicIdentity.ValidationError.bindingInvalid). Do not trust it; ask the partner to export "
                    + "the identity again.")
        } catch let error as PublicIdentity.ValidationError {
            if case .fingerprintMismatch = error {
                throw CLIError(.verificationFailed, "\(file): \(error). Do not trust it.")
            }
            throw CLIError(.malformedInput, "\(file): \(error).")
        }
        return identity
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}

struct TrustListCommandEntry: Encodable {
    var name: String
    var organization: String
    var fingerprint: String
    var ageRecipient: String
    var addedAt: String
    var mayRetract: Bool

    init(_ entry: TrustList.Entry) {
        mayRetract = entry.mayRetract == true
        name = entry.name
        organization = entry.identity.organization
        fingerprint = entry.identity.fingerprint
        ageRecipient = entry.identity.ageRecipient
        addedAt = entry.addedAt
    }
}

/// `amanat trust list [--json]`
struct TrustListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List trusted partners with their fingerprints.")

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array.") var json = false

    func run() throws {
        let list = try options.locate().trustList()
        let entries = list.partners.map(TrustListCommandEntry.init).sorted { $0.name < $1.name }
        if json {
            try Console.json(entries)
        } else if entries.isEmpty {
            Console.out("No trusted partners yet. Add one with `amanat trust add FILE`.")
        } else {
            for entry in entries {
                Console.out(
                    "\(entry.name)\t\(entry.fingerprint)\t\(entry.organization)\(entry.mayRetract ? "\t(may retract)" : "")"
                )
            }
        }
    }
}

/// `amanat trust remove NAME`
struct TrustRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Stop trusting a partner.",
        discussion:
            "Bundles and records signed by it will no longer verify here. Example:\n  amanat trust remove berlin-archive"
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The partner's name on the trust list.") var name: String

    func run() throws {
        let workspace = try options.locate()
        var list = try workspace.trustList()
        guard let index = list.partners.firstIndex(where: { $0.name == name }) else {
            throw CLIError(.usage, "no partner named '\(name)' on the trust list; see `amanat trust list`.")
        }
        let removed = list.partners.remove(at: index)
        try workspace.save(list)
        Console.out("Removed '\(name)' (fingerprint \(removed.identity.fingerprint)) from the trust list.")
    }
}
