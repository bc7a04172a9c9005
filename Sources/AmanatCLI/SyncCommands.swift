import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat status [--json]`
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Counts and the state hash of the store.",
        discussion: """
            The state hash covers the sorted version ids and the derived view (heads, merged content, conflicts), \
            nothing local: two stores holding the same versions have the same hash, whatever order they arrived \
            in and whatever the trust lists call their signers. Compare it with a partner to check you agree.

            Example:
              amanat status --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print one JSON object (stateHash, records, versions, conflicts, duplicates, …).")
    var json = false

    struct Report: Encodable {
        var stateHash: String
        var records: Int
        var versions: Int
        var conflicts: Int
        var duplicates: Int?
        var clean: Int
        var retracted: Int
        var incomplete: Int
        var erased: Int
        var autoMerged: Int
        /// Retractions and erasure requests from organizations that did not collect the records, not in force.
        var pendingRequests: Int
        /// Raises of consent by organizations other than the collector, not in force.
        var consentProposals: Int
        /// Entries in this organization's log, and forks detected in its or partners' logs (`amanat log alarms`).
        var logSize: UInt64
        var logAlarms: Int
    }

    func run() throws {
        let sync = try SyncService(workspace: try options.locate())
        let c = try sync.counts()
        var duplicates: Int? = nil
        // Duplicate matching needs the keyed matching secret; count only when the passphrase is at hand.
        if options.passphraseFile != nil || ProcessInfo.processInfo.environment["AMANAT_PASSPHRASE"] != nil {
            duplicates = try sync.unconfirmedDuplicateGroups()
        }
        let report = Report(
            stateHash: try sync.service.store.stateHash(), records: c.records, versions: c.versions,
            conflicts: c.conflicts, duplicates: duplicates, clean: c.clean, retracted: c.retracted,
            incomplete: c.incomplete, erased: c.erased, autoMerged: c.autoMerged, pendingRequests: c.pendingRequests,
            consentProposals: c.consentProposals, logSize: try sync.service.store.logSize(),
            logAlarms: try sync.service.store.alarms().count)
        if json {
            try Console.json(report)
        } else {
            Console.out("State hash:  \(report.stateHash)")
            Console.out(
                "Records:     \(c.records) (\(c.clean) clean, \(c.conflicts) in conflict, \(c.retracted) retracted, \(c.incomplete) with incomplete history, \(c.erased) erased)"
            )
            Console.out("Versions:    \(c.versions)")
            Console.out("Log:         \(report.logSize) entries (`amanat log show`)")
            if report.logAlarms > 0 {
                Console.out("ALARM:       \(report.logAlarms) fork(s) in a log; see `amanat log alarms`.")
            }
            if c.autoMerged > 0 {
                Console.out(
                    "Auto-merged: \(c.autoMerged) record(s) merge cleanly; confirm with `amanat resolve RECORD --accept`."
                )
            }
            if c.conflicts > 0 { Console.out("Conflicts:   see `amanat conflicts`.") }
            if c.pendingRequests > 0 {
                Console.out(
                    "Requests:    \(c.pendingRequests) retraction/erasure request(s) from organizations that did not "
                        + "collect the record; not in force. The collector acts with `amanat retract` or `amanat erase`."
                )
            }
            if c.consentProposals > 0 {
                Console.out(
                    "Consent:     \(c.consentProposals) proposal(s) to raise consent, not in force; see "
                        + "`amanat consent RECORD` (only the collector can accept).")
            }
            if let duplicates {
                Console.out("Duplicates:  \(duplicates) likely duplicate group(s); see `amanat duplicates`.")
            }
        }
    }
}

/// `amanat conflicts [--json]`
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "Records with concurrent edits that disagree, with the base and every candidate.",
        discussion: """
            Example:
              amanat conflicts --json
            Then decide with `amanat resolve RECORD --take ORG`, `--field PATH=VALUE`, or `--accept`.
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array, one entry per record in conflict.") var json = false

    struct Candidate: Encodable {
        var version: String
        var signer: String
        var organization: String
        var value: JSONText?
    }

    struct Field: Encodable {
        var path: String
        var base: JSONText?
        var candidates: [Candidate]
    }

    struct Entry: Encodable {
        var record: String
        var heads: [Candidate]
        var fields: [Field]
        var retraction: Retraction?
    }

    struct Retraction: Encodable {
        var retractions: [String]
        var edits: [String]
    }

    func run() throws {
        let sync = try SyncService(workspace: try options.locate())
        let workspace = sync.workspace
        let entries = try sync.conflicted().map { record in
            Entry(
                record: record.recordId,
                heads: record.heads.map {
                    Candidate(
                        version: $0.id, signer: $0.signer, organization: workspace.signerName($0.signer), value: nil)
                },
                fields: record.conflicts.map { conflict in
                    Field(
                        path: conflict.path, base: conflict.base.map(JSONText.init),
                        candidates: conflict.candidates.map {
                            Candidate(
                                version: $0.versionId, signer: $0.signer, organization: workspace.signerName($0.signer),
                                value: $0.value.map(JSONText.init))
                        })
                },
                retraction: record.retractionConflict.map { Retraction(retractions: $0.retractions, edits: $0.edits) })
        }
        // Exit 2 while conflicts are unresolved (README, "Exit codes"), with --json too.
        if json {
            try Console.json(entries)
            if !entries.isEmpty { throw ExitCode(ExitStatus.conflicts.rawValue) }
            return
        }
        if entries.isEmpty {
            Console.out("No conflicts.")
            return
        }
        defer { Console.out("Decide with `amanat resolve RECORD --take ORG`, `--field PATH=VALUE`, or `--accept`.") }
        for entry in entries {
            Console.out(
                "Record \(UntrustedText.printable(entry.record)): \(entry.heads.count) concurrent versions by \(Set(entry.heads.map(\.organization)).sorted().joined(separator: ", "))"
            )
            if let r = entry.retraction {
                Console.out(
                    "  retracted by \(r.retractions.joined(separator: ", ")) while edited in \(r.edits.joined(separator: ", "))"
                )
            }
            for field in entry.fields {
                Console.out("  \(UntrustedText.printable(field.path))")
                Console.out("    base: \(field.base.map { UntrustedText.jsonSafe($0.text) } ?? "(absent)")")
                for c in field.candidates {
                    Console.out(
                        "    \(c.organization) (\(c.version.prefix(12))…): \(c.value.map { UntrustedText.jsonSafe($0.text) } ?? "(absent)")"
                    )
                }
            }
        }
        throw ExitCode(ExitStatus.conflicts.rawValue)
    }
}

/// A JSON value printed as JSON inside a JSON report (not as a string).
struct JSONText: Encodable {
    var value: JSONValue
    init(_ value: JSONValue) { self.value = value }
    var text: String { value.serialized() }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(AnyJSON(value))
    }
}

/// Bridges JSONValue into Encodable.
struct AnyJSON: Encodable {
    let value: JSONValue
    init(_ value: JSONValue) { self.value = value }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            var c = encoder.singleValueContainer()
            if let i = Int(n) { try c.encode(i) } else { try c.encode(Double(n) ?? 0) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(AnyJSON(item)) }
        case .object(let members):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in members { try c.encode(AnyJSON(v), forKey: Key(stringValue: k)) }
        }
    }
}

/// `amanat resolve RECORD --take ORG|VERSION | --field PATH=VALUE ... | --accept`
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Sign a merge version that decides a record's conflicts.",
        discussion: """
            The merge version's parents are all the heads; it is signed by this organization and records how \
            each conflicting field was decided. Fields that merged cleanly keep their merged value.

              --take ORG|VERSION   that side's value for every conflicting field (ORG: a trust-list name, \
            this organization's name, or a fingerprint)
              --field PATH=VALUE   a value for one field (VALUE is JSON, or plain text); repeatable
              --accept             confirm a clean automatic merge

            Examples:
              amanat resolve 3Jq7xk --take berlin
              amanat resolve 3Jq7xk --field /testimony/date='"2019-04-02"' --take self
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix).") var record: String
    @Option(
        name: .long,
        help: ArgumentHelp(
            "An organization or version whose value wins every conflicting field.", valueName: "org|version"))
    var take: String?
    @Option(name: .long, help: ArgumentHelp("A value for one conflicting field.", valueName: "path=value")) var field:
        [String] = []
    @Flag(name: .long, help: "Accept a clean automatic merge.") var accept = false

    func validate() throws {
        if take == nil && field.isEmpty && !accept { throw ValidationError("give --take, --field or --accept.") }
    }

    func run() throws {
        let sync = try SyncService(workspace: try options.locate())
        let recordId = try sync.service.resolve(record)
        let recordView = try sync.service.view(recordId)
        guard recordView.heads.count > 1 else {
            throw AmanatError(.invalidRequest, "record \(recordId) has a single head; there is nothing to resolve.")
        }
        if accept && (recordView.isInConflict) && take == nil && field.isEmpty {
            throw AmanatError(
                .conflicts,
                "record \(recordId) has conflicting fields; --accept only confirms a clean merge. See `amanat conflicts`."
            )
        }
        var fallback: FieldChoice? = nil
        if let take {
            if let fp = try sync.fingerprint(forOrganization: take) {
                fallback = .signer(fp)
            } else {
                let id = take.hasPrefix("id:") ? String(take.dropFirst(3)) : take
                guard
                    let head = recordView.heads.first(where: { $0.id == id || ($0.id.hasPrefix(id) && id.count >= 6) })
                else {
                    let names = try sync.organizationNames().map { "'\(UntrustedText.printable($0))'" }
                    let heads = recordView.heads.map { String($0.id.prefix(12)) }
                    let close = Workspace.closest(to: take, among: try sync.organizationNames())
                    throw AmanatError(
                        .invalidRequest,
                        "--take \(UntrustedText.printable(take)) is neither a partner, this organization, a fingerprint, "
                            + "nor a head of the record."
                            + (close.map { " Did you mean '\(UntrustedText.printable($0))'?" } ?? "")
                            + " Accepted: \(names.joined(separator: ", ")), a fingerprint, "
                            + "or a head: \(heads.joined(separator: ", ")).")
                }
                fallback = .version(head.id)
            }
        }
        var choices: [String: FieldChoice] = [:]
        for item in field {
            guard let eq = item.firstIndex(of: "=") else {
                throw AmanatError(.invalidRequest, "--field needs PATH=VALUE, got '\(item)'.")
            }
            let path = String(item[..<eq])
            let text = String(item[item.index(after: eq)...])
            let value = (try? JSONValue.parse(text)) ?? .string(text)
            choices[path] = .value(value)
        }
        let resolution: RecordResolution
        do {
            resolution = try recordView.resolve(choices: choices, fallback: fallback)
        } catch let error as SyncError {
            throw AmanatError(.conflicts, "record \(recordId) is not resolved: \(error). See `amanat conflicts`.")
        }
        let key = try sync.workspace.signingKey()
        let signed = try sync.service.signResolution(resolution, key: key)
        Console.out(signed.versionId)
        Console.status(
            "Record \(recordId): \(resolution.kind.rawValue) version \(signed.versionId) over \(resolution.parents.count) heads (\(resolution.decisions.count) field decision(s))."
        )
    }
}

/// `amanat duplicates [--json]`
struct DuplicatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "Likely duplicate records: records sharing an ID number (compared by keyed pseudonym).",
        discussion: """
            Each normalized Chinese resident ID (15-digit forms converted) and IIN is replaced by an HMAC-SHA-256 \
            pseudonym under a matching key (never an unkeyed hash). By default the key is this organization's own \
            (derived from its master secret); with --partner NAME it is the key agreed with that partner (X25519 \
            between the two organizations' sealing keys, so both derive it and nobody else can), and \
            --pseudonyms prints each record's pseudonyms under it, to compare lists with that partner. Records \
            sharing one are flagged, never merged: confirm with `amanat link A B --same` or reject with \
            `--different`.

            Examples:
              amanat duplicates --json
              amanat duplicates --partner berlin --pseudonyms --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array of groups.") var json = false
    @Option(name: .long, help: "Use the matching key agreed with this partner (a trust-list name).") var partner:
        String?
    @Flag(name: .long, help: "Print each record's pseudonyms instead of the groups.") var pseudonyms = false

    struct RecordKeys: Encodable {
        var record: String
        var pseudonyms: [String]
    }

    struct Group: Encodable {
        var records: [String]
        var sharedKeys: Int
        var confirmed: Bool
    }

    func run() throws {
        let sync = try SyncService(workspace: try options.locate())
        let key = try sync.matchingKey(partner: partner)
        if pseudonyms {
            // One record at a time, in record-id order (the JSON array streamed).
            let array = json ? JSONArrayStream() : nil
            let text = StreamedText()
            try sync.forEachPseudonyms(key: key) { record, pseudonyms in
                if let array {
                    try array.append(RecordKeys(record: record, pseudonyms: pseudonyms))
                } else {
                    text.write(
                        UntrustedText.terminalSafe(
                            "\(UntrustedText.printable(record))  \(pseudonyms.joined(separator: " "))") + "\n")
                }
            }
            array?.finish()
            text.flush()
            return
        }
        let groups = try sync.duplicates(key: key).clusters.map {
            Group(records: $0.records, sharedKeys: $0.sharedKeys.count, confirmed: $0.isConfirmed)
        }
        if json {
            try Console.json(groups)
            return
        }
        if groups.isEmpty {
            Console.out("No likely duplicates.")
            return
        }
        for g in groups {
            Console.out(
                "\(g.confirmed ? "confirmed same person" : "likely duplicates"): \(g.records.map(UntrustedText.printable).joined(separator: "  ")) (\(g.sharedKeys) shared ID number(s))"
            )
        }
        if groups.contains(where: { !$0.confirmed }) {
            Console.out("Confirm with `amanat link A B --same`, or reject with `amanat link A B --different`.")
        }
    }
}
