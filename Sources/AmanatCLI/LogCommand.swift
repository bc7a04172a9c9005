import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat log show|entries|prove|consistency|export|audit|alarms`
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The organization's transparency log: checkpoints, proofs, cosignatures, fork alarms.",
        discussion: """
            Everything this organization signs (record versions, retractions, erasure requests, bundle manifests, \
            publications) is appended to an append-only Merkle tree log (RFC 6962 hashing), by digest only. \
            Checkpoints of the log are C2SP signed notes; every bundle carries inclusion proofs for the sender's \
            versions and manifest; partners check each new checkpoint against the last one they saw and return a \
            cosignature. Two checkpoints that cannot both be true (a fork: a history shown to one partner and not \
            another, or a workspace restored from a backup) are refused and kept as evidence. See Specs/log.md.

            Examples:
              amanat log show
              amanat log prove RECORD-VERSION-ID > version.tlog-proof
              amanat log export -o ../log-for-auditor
              amanat log audit ../log-for-auditor --identity berlin.identity.json
            """,
        subcommands: [
            LogShowCommand.self, LogEntriesCommand.self, LogProveCommand.self, LogConsistencyCommand.self,
            LogExportCommand.self, LogAuditCommand.self, LogAlarmsCommand.self,
        ],
        defaultSubcommand: LogShowCommand.self
    )
}

/// `amanat log show [--json]`
struct LogShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "The latest signed checkpoint, who cosigned it, and the partners' logs seen.",
        discussion: """
            Signs a new checkpoint when the log grew since the last one.

            Example:
              amanat log show --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print one JSON object (origin, size, rootHash, checkpoint, cosigners, partners, alarms).")
    var json = false

    func run() throws {
        let status = try options.locate().logStatus()
        if json { return try Console.json(status) }
        Console.out("Log:        \(status.origin)")
        Console.out("Entries:    \(status.size)")
        Console.out("Root hash:  \(status.rootHash)")
        for c in status.cosigners {
            Console.out("Cosigned:   by \(c.name) (\(c.fingerprint)) up to size \(c.size)")
        }
        if status.cosigners.isEmpty { Console.out("Cosigned:   not yet (partners cosign when they open your bundles)") }
        for p in status.partners {
            Console.out(
                "Partner:    \(p.name): size \(p.size)\(p.cosignedByUs ? ", cosigned by us" : ", not cosigned")")
        }
        if status.alarms > 0 {
            Console.out("ALARM:      \(status.alarms) fork(s) detected; see `amanat log alarms`.")
        }
        Console.out("")
        Console.outText(status.checkpoint)
    }
}

/// `amanat log entries [--from N] [--limit N] [--json]`
struct LogEntriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entries",
        abstract: "List the log's entries: index, kind, digest (base64url), time appended.",
        discussion: """
            A record version's digest is its version id.

            Example:
              amanat log entries --from 100 --limit 20
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .long, help: "The first index to list.") var from: UInt64 = 0
    @Option(name: .long, help: "List at most this many entries.") var limit: Int?
    @Flag(name: .long, help: "Print a JSON array.") var json = false

    func run() throws {
        let entries = try options.locate().logEntries(from: from, limit: limit ?? .max)
        if json { return try Console.json(entries) }
        for e in entries { Console.out("\(e.index)\t\(e.kind)\t\(e.digest)\t\(e.appendedAt)") }
    }
}

/// `amanat log prove TARGET`
struct LogProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print the inclusion proof (C2SP tlog-proof) of a record version or another logged digest.",
        discussion: """
            TARGET is a record version id (or a unique prefix of 4 or more characters) or a digest that `amanat \
            log entries` lists. The proof holds the latest signed checkpoint; `amanat verify` checks such proofs.

            Example:
              amanat log prove 3q2-7w > version.tlog-proof
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: ArgumentHelp("A version id, its prefix, or a logged digest.", valueName: "target")) var target:
        String

    func run() throws {
        let proof = try options.locate().proveInclusion(target)
        Console.outText(String(decoding: proof.serialized, as: UTF8.self))
    }
}

/// `amanat log consistency OLD [NEW]`
struct LogConsistencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Print the consistency proof between two sizes of the log (RFC 6962).",
        discussion: """
            NEW defaults to the latest checkpoint. The output is `old N`, `new M` and one base64 hash per line.

            Example:
              amanat log consistency 120
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The older size.") var old: UInt64
    @Argument(help: "The newer size (default: the latest checkpoint).") var new: UInt64?

    func run() throws {
        let proof = try options.locate().proveConsistency(from: old, to: new)
        Console.outText(String(decoding: proof.serialized, as: UTF8.self))
    }
}

/// `amanat log export -o DIR`
struct LogExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the log for an auditor: every entry, the signed checkpoint, cosignatures, the identity.",
        discussion: """
            The folder holds digests only (never testimony content): `entries`, `checkpoint`, \
            `cosignatures/<fingerprint>.note` and `identity.json`. Anyone checks it with `amanat log audit`, or with \
            Go's golang.org/x/mod/sumdb packages.

            Example:
              amanat log export -o ../log-2026-12
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("The folder to create.", valueName: "dir")) var output: String

    func run() throws {
        let count = try options.locate().exportLog(to: output)
        Console.status("Wrote \(count) log entries, the signed checkpoint and its cosignatures to \(output).")
    }
}

/// `amanat log audit DIR [--identity FILE]...`
struct LogAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check an exported log (no workspace needed): signature, every entry, cosignatures.",
        discussion: """
            Recomputes the Merkle root from every entry and checks it against the signed checkpoint. Cosignatures \
            count for the partners whose identity files are given. Exit 1 if anything does not verify.

            Example:
              amanat log audit ../log-2026-12 --identity berlin.identity.json
            """
    )

    @Argument(help: ArgumentHelp("A folder written by `amanat log export`.", valueName: "dir")) var folder: String
    @Option(name: .long, help: ArgumentHelp("A cosigner's public identity file (repeatable).", valueName: "file"))
    var identity: [String] = []
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() throws {
        let cosigners = try identity.map { try Workspace.readIdentity($0) }
        let audit = try Workspace.auditLog(folder: folder, cosigners: cosigners)
        if json { return try Console.json(audit) }
        Console.out(
            "OK: \(UntrustedText.printable(audit.origin)): \(audit.size) entries hash to the signed root \(audit.rootHash)"
        )
        for c in audit.cosignedBy { Console.out("Cosigned by \(UntrustedText.printable(c))") }
    }
}

/// `amanat log alarms [--json]`
struct LogAlarmsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarms",
        abstract: "Forks detected: two signed checkpoints of one log that cannot both be true (exit 1 if any).",
        discussion: """
            Each alarm keeps both checkpoints as evidence. A partner's fork means it showed you a history it \
            later contradicted (or its workspace was restored from a backup, or its key was used elsewhere): ask it \
            by phone before importing more from it. An alarm about your own log means a partner saw a checkpoint of \
            your log that your workspace did not sign — your key may be in someone else's hands.

            Example:
              amanat log alarms --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array.") var json = false

    struct Entry: Encodable {
        var origin: String
        var detectedAt: String
        var reason: String
        var first: String
        var second: String
    }

    func run() throws {
        let alarms = try options.locate().logAlarms()
        let formatter = ISO8601DateFormatter()
        let entries = alarms.map {
            Entry(
                origin: UntrustedText.printable($0.origin),
                detectedAt: formatter.string(from: Date(timeIntervalSince1970: TimeInterval($0.detectedAt))),
                reason: UntrustedText.printable($0.reason), first: String(decoding: $0.first, as: UTF8.self),
                second: String(decoding: $0.second, as: UTF8.self))
        }
        if json {
            try Console.json(entries)
        } else if entries.isEmpty {
            Console.out("No fork detected.")
        } else {
            for e in entries {
                Console.out("FORK in \(e.origin), detected \(e.detectedAt): \(e.reason)")
                Console.out("--- first checkpoint")
                Console.outText(e.first)
                Console.out("--- second checkpoint")
                Console.outText(e.second)
            }
        }
        if !entries.isEmpty { throw ExitCode(1) }
    }
}
