import AmanatCrypto
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat timestamp [--tsa NAME]… | --request-out FILE | --import FILE | --list [--json]` and `amanat timestamp tsa …`
struct TimestampCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamp",
        abstract: "Get RFC 3161 trusted timestamps of the organization's log from time-stamping authorities.",
        discussion: """
            A timestamp is a TSA's signed statement that some bytes existed no later than a given time. Only their \
            SHA-256 digest leaves the workspace. Every reply is verified (digest, nonce, signature, and the TSA's \
            certificate against the CA you gave with `tsa add`) before its token is kept in .amanat/timestamps/.

            Without a network, --request-out writes the request (.tsq) for a volunteer to take to a TSA, and \
            --import reads the reply (.tsr) they bring back.

            Examples:
              amanat timestamp tsa add freetsa --url https://freetsa.org/tsr --ca ca.pem
              amanat timestamp                    # ask every TSA on the list
              amanat timestamp --tsa freetsa      # ask one
              amanat timestamp --request-out now.tsq
              amanat timestamp --import now.tsr
              amanat timestamp --list --json
            """,
        subcommands: [TSACommand.self]
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .long, help: ArgumentHelp("Ask only this TSA (repeat for several).", valueName: "name"))
    var tsa: [String] = []
    @Option(
        name: .long,
        help: ArgumentHelp("Write the request to this file instead of sending it (no network).", valueName: "file"))
    var requestOut: String?
    @Option(
        name: .customLong("import"),
        help: ArgumentHelp("Import a TSA's reply (.tsr) to a written request.", valueName: "file"))
    var importFile: String?
    @Flag(name: .long, help: "List the stored timestamps, each verified again.") var list = false
    @Flag(name: .long, help: "With --list: print a JSON array.") var json = false
    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each TSA.", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        let modes = [requestOut != nil, importFile != nil, list].filter { $0 }.count
        guard modes <= 1 else {
            throw ValidationError("give at most one of --request-out, --import and --list.")
        }
        if json && !list { throw ValidationError("--json goes with --list.") }
        if list && !tsa.isEmpty { throw ValidationError("--tsa does not go with --list.") }
        if tsa.count > 1 && requestOut != nil {
            throw ValidationError("--request-out writes one request: give at most one --tsa.")
        }
        guard timeout > 0 && timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600.") }
    }

    func run() async throws {
        let workspace = try options.locate()
        if list { return try printList(workspace) }
        if let importFile {
            let stored = try workspace.importTimestampReply(from: importFile, tsa: tsa.first)
            report(stored)
            return
        }
        let subject = try workspace.timestampSubject()
        if let requestOut {
            let pending = try workspace.writeTimestampRequest(
                over: subject.bytes, label: subject.label, tsa: tsa.first, to: requestOut)
            Console.status("Wrote a timestamp request over \(UntrustedText.printable(subject.label)) to \(requestOut).")
            Console.status(
                "Take it to the TSA (for example: curl -H 'Content-Type: application/timestamp-query' "
                    + "--data-binary @\(requestOut) URL -o reply.tsr), then `amanat timestamp --import reply.tsr`.")
            Console.out(pending.requestPath)
            return
        }
        let outcomes = try await workspace.requestTimestamps(
            over: subject.bytes, label: subject.label, tsaNames: tsa.isEmpty ? nil : tsa, timeout: timeout)
        var firstError: AmanatError? = nil
        for outcome in outcomes {
            switch outcome.result {
            case .success(let stored): report(stored)
            case .failure(let error):
                if firstError == nil { firstError = error } else { Console.err("error: \(error.message)") }
            }
        }
        if let firstError { throw firstError }
    }

    private func report(_ stored: StoredTimestamp) {
        let time = Self.format(stored.info.genTime)
        Console.out(
            "\(UntrustedText.printable(stored.label)) existed no later than \(time) "
                + "(TSA \(UntrustedText.printable(stored.tsa)): \(UntrustedText.printable(stored.info.tsaName)))")
        if !stored.isNew {
            Console.status("An earlier token from this TSA over the same bytes was kept: \(stored.tokenURL.path)")
        } else {
            Console.status("Token: \(stored.tokenURL.path)")
        }
    }

    struct ListEntry: Encodable {
        var tsa: String
        var label: String
        var subjectSHA256: String
        var token: String
        var status: String
        var genTime: String?
        var tsaName: String?
        var serialNumber: String?
        var policy: String?
        var reason: String?
    }

    private func printList(_ workspace: Workspace) throws {
        let entries = try workspace.storedTimestamps().map { listing -> ListEntry in
            var entry = ListEntry(
                tsa: listing.tsa, label: listing.label, subjectSHA256: listing.subjectDigest,
                token: listing.tokenURL.path, status: "verified")
            switch listing.status {
            case .verified(let info):
                entry.genTime = Self.format(info.genTime)
                entry.tsaName = info.tsaName
                entry.serialNumber = info.serialNumber
                entry.policy = info.policy
            case .tsaNotListed:
                entry.status = "tsa-not-listed"
            case .failed(let reason):
                entry.status = "failed"
                entry.reason = reason
            }
            return entry
        }
        if json { return try Console.json(entries) }
        if entries.isEmpty {
            Console.out("No timestamps yet. Get one with `amanat timestamp`.")
            return
        }
        for entry in entries {
            let what = entry.genTime.map { "existed no later than \($0)" } ?? entry.status
            Console.out(
                "\(UntrustedText.printable(entry.label))\t\(what)\tTSA \(UntrustedText.printable(entry.tsa))"
                    + "\t\(entry.subjectSHA256.prefix(16))…"
                    + (entry.reason.map { "\t\(UntrustedText.printable($0))" } ?? ""))
        }
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// `amanat timestamp tsa add|list|remove`
struct TSACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsa",
        abstract: "Manage the time-stamping authorities this workspace asks and trusts.",
        subcommands: [TSAAddCommand.self, TSAListCommand.self, TSARemoveCommand.self]
    )
}

/// `amanat timestamp tsa add NAME --url URL --ca FILE`
struct TSAAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a TSA: its URL and the CA certificate its tokens must chain to.",
        discussion: """
            The CA file is PEM (-----BEGIN CERTIFICATE-----); get it from the TSA's web site over a channel you \
            trust and compare its fingerprint. The TSA's own certificate must carry the timeStamping extended key \
            usage.

            Example:
              amanat timestamp tsa add freetsa --url https://freetsa.org/tsr --ca ca.pem
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "A name for the TSA (letters, digits, '.', '_', '-').") var name: String
    @Option(name: .long, help: ArgumentHelp("The TSA's URL (http or https).", valueName: "url")) var url: String
    @Option(name: .long, help: ArgumentHelp("The PEM file of the TSA's CA certificate.", valueName: "file"))
    var ca: String

    func run() throws {
        let entry = try options.locate().addTSA(name: name, url: url, caFile: ca)
        Console.status(
            "Added TSA '\(entry.name)' at \(UntrustedText.printable(entry.url)), trusting "
                + entry.caSubjects.map { UntrustedText.printable($0) }.joined(separator: "; ") + ".")
    }
}

/// `amanat timestamp tsa list [--json]`
struct TSAListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the TSAs.")

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array.") var json = false

    func run() throws {
        let list = try options.locate().tsaList()
        let entries = list.authorities.sorted { $0.name < $1.name }
        if json { return try Console.json(entries) }
        if entries.isEmpty {
            Console.out("No TSA yet. Add one with `amanat timestamp tsa add NAME --url URL --ca FILE.pem`.")
            return
        }
        for entry in entries {
            Console.out(
                "\(entry.name)\t\(UntrustedText.printable(entry.url))\t"
                    + entry.caSubjects.map { UntrustedText.printable($0) }.joined(separator: "; "))
        }
    }
}

/// `amanat timestamp tsa remove NAME`
struct TSARemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a TSA from the list.",
        discussion: "Its stored tokens stay, listed as from a TSA no longer listed. Example:\n"
            + "  amanat timestamp tsa remove freetsa")

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The TSA's name on the list.") var name: String

    func run() throws {
        let removed = try options.locate().removeTSA(name)
        Console.status("Removed TSA '\(removed.name)' (\(UntrustedText.printable(removed.url))).")
    }
}
