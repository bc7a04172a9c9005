import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat retract RECORD --reason TEXT`
struct RetractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Sign a retraction (tombstone) of a record.",
        discussion: """
            The record stays in every store with its full signed history, marked retracted; partners see the \
            retraction when they import it. A retraction made concurrently with someone else's edit is a conflict, \
            never a silent win for either. To also delete the personal data everywhere, use `amanat erase`.

            At a terminal you confirm by typing the record's short id (as `amanat list` shows it); anything else \
            changes nothing. Without a terminal (scripts), pass --yes.

            Examples:
              amanat retract 3Jq7xk --reason "duplicate of an earlier interview"
              amanat retract 3Jq7xk --reason "duplicate of an earlier interview" --yes
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix of at least 4 characters).") var record: String
    @Option(name: .long, help: "Why (kept as a disclosure, not in clear in the signed payload).") var reason: String
    @Flag(name: .long, help: "Do not ask for confirmation (required without a terminal).") var yes = false

    func run() throws {
        let (_, recordId, version, inForce) = try RecordService.tombstone(
            record, .retraction, reason: reason, confirmed: yes, options: options)
        Console.out(version.versionId)
        if inForce {
            Console.err(
                "Record \(recordId) is retracted (version \(version.versionId)). Seal it for partners so they see it.")
        } else {
            Console.err(
                "Record \(recordId) was collected by another organization: your retraction (version \(version.versionId)) "
                    + "is a request. It takes effect when the collector retracts the record; seal it to them.")
        }
    }
}

/// `amanat erase RECORD --reason TEXT`
struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Sign an erasure request: the record's personal data is deleted here and at every partner.",
        discussion: """
            Deletes every disclosure (all personal data) and the attachments of every version of the record, while \
            the signed history still verifies (the signed payloads hold only salted digests). The request is a \
            signed version that travels to partners in bundles like any other; their stores honor it on import, \
            whatever order versions arrive in. This cannot be undone.

            At a terminal you confirm by typing the record's short id (as `amanat list` shows it); anything else \
            changes nothing. Without a terminal (scripts), pass --yes.

            Examples:
              amanat erase 3Jq7xk --reason "the family withdrew consent"
              amanat erase 3Jq7xk --reason "the family withdrew consent" --yes --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix of at least 4 characters).") var record: String
    @Option(name: .long, help: "Why (itself erased along with the rest).") var reason: String
    @Flag(name: .long, help: "Do not ask for confirmation (required without a terminal).") var yes = false
    @Flag(name: .long, help: "Print a JSON summary.") var json = false

    struct Report: Encodable {
        var record: String
        var erasureVersion: String
        var attachmentsDeleted: Int
        /// False when this organization did not collect the record: the erasure is a request to the collector.
        var inForce: Bool
    }

    func run() throws {
        let (service, recordId, version, inForce) = try RecordService.tombstone(
            record, .erasure, reason: reason, confirmed: yes, options: options)
        let deleted = try service.deleteErasedBlobs()
        if json {
            try Console.json(
                Report(
                    record: recordId, erasureVersion: version.versionId, attachmentsDeleted: deleted, inForce: inForce))
            return
        }
        Console.out(version.versionId)
        if !inForce {
            Console.status(
                "Record \(recordId) was collected by another organization: your erasure (version \(version.versionId)) is "
                    + "a request, and nothing was deleted. Seal it to the collector "
                    + "(`amanat seal -r COLLECTOR --record \(recordId)`); its erasure then deletes the data everywhere."
            )
        } else {
            Console.status("Erased the personal data of record \(recordId) (\(deleted) attachment file(s) deleted).")
            Console.status(
                "Seal the record for partners (`amanat seal -r PARTNER --record \(recordId)`) so their stores erase it too."
            )
        }
    }
}

extension RecordService {
    /// Signs a retraction or erasure of a record named on the command line. Unless `confirmed` (--yes), the person
    /// at the terminal types the record's short id back first; without a terminal, --yes is required. A refusal
    /// changes nothing.
    static func tombstone(
        _ record: String, _ kind: RecordContent.Tombstone, reason: String, confirmed: Bool, options: WorkspaceOptions
    ) throws -> (RecordService, String, SignedVersion, Bool) {
        let verb = kind == .erasure ? "erase" : "retract"
        guard confirmed || isatty(STDIN_FILENO) == 1 else {
            throw AmanatError(
                .invalidRequest,
                "`amanat \(verb)` asks you to type the record's short id to confirm, but there is no terminal to ask "
                    + "on. Add --yes to \(verb) without asking. Nothing was changed.")
        }
        let workspace = try options.locate()
        workspace.unlockSigningKeyAhead()
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        if !confirmed { try confirm(kind, recordId, service: service) }
        let key = try workspace.signingKey()
        let (version, inForce) = try service.tombstone(recordId, kind, reason: reason, key: key)
        return (service, recordId, version, inForce)
    }

    /// Asks for the record's short id on the terminal; anything else is refused (exit 64).
    static func confirm(_ kind: RecordContent.Tombstone, _ recordId: String, service: RecordService) throws {
        let short = try service.shortId(recordId)
        let reference = try service.caseReference(recordId).map { " (case \(UntrustedText.printable($0)))" } ?? ""
        let what =
            kind == .erasure
            ? "Erase record \(UntrustedText.printable(short))\(reference)? Its personal data and attachments are deleted "
                + "here, and at every partner once the erasure reaches them. This cannot be undone."
            : "Retract record \(UntrustedText.printable(short))\(reference)? It stays in every store, marked retracted."
        Console.err(what + "\nType the record's short id (\(UntrustedText.printable(short))) to confirm: ")
        var typed = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
        if typed.hasPrefix("id:") { typed.removeFirst(3) }
        guard typed == short else {
            throw AmanatError(
                .invalidRequest,
                "that is not the short id \(UntrustedText.printable(short)); nothing was \(kind == .erasure ? "erased" : "retracted")."
            )
        }
    }
}

/// `amanat link A B --same|--different`
struct LinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Assert that two records describe the same person, or different people (a signed assertion).",
        discussion: """
            Likely duplicates (`amanat duplicates`) are never merged automatically; a person confirms or rejects \
            each pair. The assertion is a new signed version of record A whose links name record B, so it travels \
            to partners and merges like any other edit.

            Example:
              amanat link 3Jq7xk 9Pz2mw --same
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The first record.") var a: String
    @Argument(help: "The second record.") var b: String
    @Flag(name: .long, help: "They describe the same person.") var same = false
    @Flag(name: .long, help: "They describe different people.") var different = false

    func validate() throws {
        guard same != different else { throw ValidationError("give exactly one of --same or --different.") }
    }

    func run() throws {
        let workspace = try options.locate()
        workspace.unlockSigningKeyAhead()
        let service = try RecordService(workspace: workspace)
        let recordA = try service.resolve(a)
        let recordB = try service.resolve(b)
        guard recordA != recordB else { throw AmanatError(.invalidRequest, "a record cannot be linked to itself.") }
        let content = try service.editableContent(recordA).content
        let key = try workspace.signingKey()
        let linked = RecordContent.linking(content, to: recordB, samePerson: same)
        guard case .signed(let version, _) = try service.edit(recordA, content: linked, key: key) else {
            Console.status("Record \(recordA) already says so; no version was signed.")
            return
        }
        Console.out(version.versionId)
        Console.status(
            "Recorded that \(recordA) and \(recordB) describe \(same ? "the same person" : "different people").")
    }
}
