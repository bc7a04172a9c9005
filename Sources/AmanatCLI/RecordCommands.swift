import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat add FILE...`
struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add testimony records from JSON or CSV files, each signed as a new record.",
        discussion: """
            A JSON file holds one record or an array of records (Specs/records.md); a CSV file one record per row. \
            Every record is validated first: one bad record fails the whole command and nothing is stored. Each \
            record is signed as an SD-JWT in which every identifying or sensitive field is its own disclosure.

            Example:
              amanat add testimony-0142.json interviews-2026-11.csv
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print the new record ids as a JSON array.") var json = false
    @Argument(help: ArgumentHelp("Record files (.json or .csv).", valueName: "file")) var files: [String]

    func run() throws {
        let workspace = try options.locate()
        var records: [JSONValue] = []
        var warnings: [RecordFiles.Warning] = []
        for file in files {
            let loaded = try RecordFiles.load(file)
            records += loaded.records
            warnings += loaded.warnings
        }
        let service = try RecordService(workspace: workspace)
        let key = try workspace.signingKey()
        let ids = try service.add(records, key: key)
        // Specs/records.md: a number that fails its checksum is stored as entered and reported.
        for warning in warnings { Console.err("warning: \(warning)") }
        if json {
            try Console.json(ids)
        } else {
            for id in ids { Console.out(id) }
            Console.err(
                "Added \(ids.count) record\(ids.count == 1 ? "" : "s"), signed by \(UntrustedText.printable(try workspace.identity().organization))."
            )
        }
    }
}

/// `amanat update RECORD FILE`
struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Sign a new version of a record from an edited JSON file.",
        discussion: """
            Get the current content with `amanat show RECORD --format json > r.json`, edit it, then:
              amanat update RECORD r.json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix of at least 6 characters).") var record: String
    @Argument(help: ArgumentHelp("The edited record (JSON).", valueName: "file")) var file: String

    func run() throws {
        let workspace = try options.locate()
        let loaded = try RecordFiles.load(file)
        let records = loaded.records
        guard records.count == 1 else {
            throw AmanatError(.malformedInput, "\(UntrustedText.printable(file)) must hold exactly one record.")
        }
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        let key = try workspace.signingKey()
        let (version, consent) = try service.update(recordId, content: records[0], key: key)
        for warning in loaded.warnings { Console.err("warning: \(warning)") }
        Console.out(version.versionId)
        Console.err("Record \(recordId): new version \(version.versionId).")
        if consent == .proposed {
            Console.err(
                "note: you raised its consent, but only the organization that collected it may: the raise is kept as "
                    + "a proposal, and the record stays under the lower consent until the collector accepts it.")
        }
    }
}

/// `amanat attach RECORD FILE...`
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach media to a record (streamed and hashed, never loaded whole).",
        discussion: """
            Each file is copied into the workspace's content-addressed blob folder under its SHA-256, and a new \
            signed version of the record lists it.

            Example:
              amanat attach 3Jq… id-card.jpg court-verdict.pdf --kind court_verdict
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix).") var record: String
    @Argument(help: ArgumentHelp("Files to attach.", valueName: "file")) var files: [String]
    @Option(
        name: .long,
        help: "What the files are: id_card_photo, court_verdict, detention_notice, testimony_video or other.")
    var kind: String = "other"

    func validate() throws {
        guard ["id_card_photo", "court_verdict", "detention_notice", "testimony_video", "other"].contains(kind) else {
            throw ValidationError(
                "--kind must be one of id_card_photo, court_verdict, detention_notice, testimony_video, other.")
        }
    }

    func run() throws {
        let workspace = try options.locate()
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        var content = try service.editableContent(recordId).content
        let key = try workspace.signingKey()
        var list = content["attachments"]?.arrayValue ?? []
        for file in files {
            let (sha, size) = try service.importBlob(file)
            if list.contains(where: { $0["sha256"]?.stringValue == sha }) { continue }
            list.append(
                JSONValue.object([
                    ("kind", .string(kind)), ("mediaType", .string(Self.mediaType(file))), ("sha256", .string(sha)),
                    ("size", .number(String(size))),
                ]))
            Console.err("Stored \(UntrustedText.printable(file)) as \(sha).")
        }
        content = content.setting("attachments", .array(list)).sortedKeys()
        let (version, _) = try service.update(recordId, content: content, key: key)
        Console.out(version.versionId)
    }

    static func mediaType(_ file: String) -> String {
        switch URL(fileURLWithPath: file).pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "pdf": return "application/pdf"
        case "mp4": return "video/mp4"
        case "mp3": return "audio/mpeg"
        case "txt": return "text/plain"
        default: return "application/octet-stream"
        }
    }
}

/// `amanat list [--json]`
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the records in the store.",
        discussion: "Example:\n  amanat list --json")

    @OptionGroup var options: WorkspaceOptions
    @Flag(
        name: .long,
        help: "Print a JSON array of {id, versions, heads, createdBy, lastIssuedAt, concurrent, retracted}.")
    var json = false

    struct Item: Encodable {
        var id: String
        var versions: Int
        var heads: [String]
        var createdBy: String
        var lastIssuedAt: Int
        var concurrent: Bool
        var retracted: Bool
    }

    func run() throws {
        let workspace = try options.locate()
        let records = try RecordService(workspace: workspace).store.records()
        let items = records.map {
            Item(
                id: $0.id, versions: $0.versionCount, heads: $0.heads, createdBy: $0.createdBy,
                lastIssuedAt: $0.lastIssuedAt,
                concurrent: $0.heads.count > 1, retracted: $0.retracted)
        }
        if json {
            try Console.json(items)
        } else if items.isEmpty {
            Console.out("No records yet. Add some with `amanat add FILE`.")
        } else {
            for item in items {
                let flags = (item.concurrent ? "  [concurrent versions]" : "") + (item.retracted ? "  [retracted]" : "")
                Console.out(
                    "\(UntrustedText.printable(item.id))  \(item.versions) version\(item.versions == 1 ? "" : "s")  by \(workspace.signerName(item.createdBy))\(flags)"
                )
            }
        }
    }
}

/// `amanat show RECORD [--history] [--format text|json|sd-jwt]`
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one record (its head version, verified again).",
        discussion: """
            --format json prints the content exactly as `add` and `update` accept it; --format sd-jwt prints the \
            head version's compact SD-JWT with all its disclosures.

            Example:
              amanat show 3Jq7xk --format json > record.json
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sdJWT = "sd-jwt" }

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix).") var record: String
    @Flag(name: .long, help: "List every version (id, kind, parents, signer, time).") var history = false
    @Option(name: .long, help: "text, json or sd-jwt.") var format: Format = .text

    /// Parents before children; ties by time, then id.
    static func topologicalOrder(_ versions: [StoredVersion]) -> [StoredVersion] {
        let ids = Set(versions.map(\.id))
        var placed = Set<String>()
        var result: [StoredVersion] = []
        var remaining = versions.sorted { ($0.issuedAt, $0.id) < ($1.issuedAt, $1.id) }
        while !remaining.isEmpty {
            let index = remaining.firstIndex { $0.prev.allSatisfy { !ids.contains($0) || placed.contains($0) } } ?? 0
            let next = remaining.remove(at: index)
            placed.insert(next.id)
            result.append(next)
        }
        return result
    }

    func run() throws {
        let workspace = try options.locate()
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        if history {
            let versions = Self.topologicalOrder(try service.store.versions(record: recordId))
            let heads = Set(try service.store.heads(record: recordId))
            for v in versions {
                let date = Date(timeIntervalSince1970: TimeInterval(v.issuedAt))
                Console.out(
                    "\(v.id)  \(v.kind.rawValue)\(heads.contains(v.id) ? " (head)" : "")  by \(workspace.signerName(v.signer))  \(ISO8601DateFormatter().string(from: date))"
                        + (v.prev.isEmpty
                            ? "" : "  after \(v.prev.map(UntrustedText.printable).joined(separator: ", "))"))
            }
            return
        }
        let (head, content, view) = try service.editableContent(recordId)
        switch format {
        case .sdJWT:
            Console.out(head.sdjwt.compact)
        case .json:
            Console.jsonText(content.sortedKeys().pretty())
        case .text:
            Console.out("Record    \(UntrustedText.printable(recordId))")
            Console.out(
                "Collector \(view.collector.map { workspace.signerName($0) } ?? "unknown (its first version is not here)")"
            )
            Console.out(
                "Version   \(head.id) (\(head.kind.rawValue)), signed by \(workspace.signerName(head.signer)) — verified"
            )
            Console.out("Consent   \(view.consent.rawValue) (in force)")
            for p in view.consentProposals {
                Console.out(
                    "          \(workspace.signerName(p.signer)) proposes '\(p.proposed.rawValue)'; only the collector can "
                        + "raise it (`amanat consent \(recordId) --accept`)")
            }
            for r in view.pendingRequests {
                Console.out(
                    "Request   \(workspace.signerName(r.signer)) asks to \(r.kind == .retract ? "retract or erase" : "change") "
                        + "this record (version \(r.id)); not in force: only the collector can")
            }
            Console.jsonText(content.sortedKeys().pretty())
        }
    }
}
