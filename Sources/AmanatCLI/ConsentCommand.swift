import AmanatRecords
import AmanatSync
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat consent RECORD [--accept | --set VALUE [--note TEXT]]`
struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Show a record's consent in force, proposals to raise it, and change it.",
        discussion: """
            Consent is a ceiling the collector sets (Specs/authority.md): only the organization that collected a \
            record raises it; anyone may lower it; a raise signed by anyone else is kept as a proposal and never \
            applied. With two heads that disagree, the more restrictive consent is in force.

            --set lowers (anyone) or raises (the collector, with --note saying how fresh consent was given) the \
            consent in a new signed version. --accept, at the collector, signs the raise a partner proposed.

            Examples:
              amanat consent 3Jq7xk
              amanat consent 3Jq7xk --set internal
              amanat consent 3Jq7xk --set public --note "agreed on video, 2026-11-30"
              amanat consent 3Jq7xk --accept
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix).") var record: String
    @Flag(name: .long, help: "As the collector, accept the pending proposal to raise consent.") var accept = false
    @Option(name: .long, help: "The new consent: public, partners or internal.") var set: String?
    @Option(name: .long, help: "With --set: how and when the testifier gave this consent (testimony.consentNote).")
    var note: String?
    @Flag(name: .long, help: "Print a JSON object.") var json = false

    struct Report: Encodable {
        struct Proposal: Encodable {
            var version: String
            var organization: String
            var proposed: String
        }
        var record: String
        var consent: String
        var collector: String?
        var proposals: [Proposal]
        var newVersion: String?
    }

    func validate() throws {
        if accept && set != nil { throw ValidationError("--accept and --set exclude each other.") }
        if note != nil && set == nil { throw ValidationError("--note goes with --set.") }
        if let set, Consent(rawValue: set) == nil {
            throw ValidationError("--set must be public, partners or internal.")
        }
    }

    func run() throws {
        let workspace = try options.locate()
        if accept || set != nil { workspace.unlockSigningKeyAhead() }
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        var view = try service.view(recordId)
        var newVersion: String?
        if accept || set != nil {
            let key = try workspace.signingKey()
            let outcome: RecordService.EditOutcome =
                accept
                ? .signed(try service.acceptConsentProposal(recordId, key: key), .raised)
                : try service.setConsent(recordId, to: Consent(rawValue: set!)!, note: note, key: key)
            var edit = Authority.ConsentEdit.unchanged
            switch outcome {
            case .signed(let version, let consentEdit):
                newVersion = version.versionId
                edit = consentEdit
            case .unchanged:
                // Like `update` with unchanged content: nothing to sign, and that is not an error.
                Console.status("Record \(recordId) already states consent '\(set ?? "")'; nothing was signed.")
            }
            view = try service.view(recordId)
            if !json && edit == .proposed {
                Console.status(
                    "note: only the collector can raise consent; your version is a proposal and the record stays "
                        + "'\(view.consent.rawValue)'.")
            }
        }
        let report = Report(
            record: recordId, consent: view.consent.rawValue, collector: view.collector.map(workspace.signerName),
            proposals: view.consentProposals.map {
                .init(
                    version: $0.versionId, organization: workspace.signerName($0.signer), proposed: $0.proposed.rawValue
                )
            }, newVersion: newVersion)
        if json {
            try Console.json(report)
            return
        }
        if let newVersion { Console.out(newVersion) }
        // The consent in force is what `amanat consent RECORD` asks for (standard output); after a change it is
        // status next to the new version id.
        let say: (String) -> Void = newVersion == nil ? { Console.out($0) } : { Console.status($0) }
        say(
            "Record \(UntrustedText.printable(recordId)): consent '\(report.consent)' in force, set by \(report.collector ?? "an unknown collector")."
        )
        for p in report.proposals {
            say(
                "  \(p.organization) proposes '\(p.proposed)' (version \(p.version)); not in force until the collector "
                    + "accepts it with `amanat consent \(recordId) --accept`.")
        }
    }
}
