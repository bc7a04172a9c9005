import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import ArgumentParser
import Foundation

/// `amanat publish --policy FILE -o DIR [RECORD...]`
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Write redacted public versions of records under a written redaction policy.",
        discussion: """
            For each record (default: every record whose consent the policy allows) writes DIR/<record-id>.sd-jwt, \
            a presentation of the collector's SD-JWT holding only the disclosures the policy lets through (it still \
            verifies against the collector's signature), and DIR/<record-id>.annotation.jws, signed by this \
            workspace, with the pseudonyms, generalized values and markers the publisher made. DIR/index.json lists \
            them. The folder appears only when complete. Anything the policy does not name is withheld; free text \
            is scanned, and a piece of text holding an identifier among other words is withheld whole.

            Records with consent internal are always refused; records whose consent the policy does not list are \
            refused (exit 64) when named, skipped otherwise. The report gives counts per kind, never values.

            Example:
              amanat publish --policy Specs/policies/public.yaml -o published/
              amanat publish --policy Specs/policies/public.yaml --dry-run 3Jq7xk
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .long, help: ArgumentHelp("The redaction policy (YAML, Specs/policies.md).", valueName: "file"))
    var policy: String
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The folder to create (new, or empty).", valueName: "dir"))
    var output: String?
    @Flag(name: .long, help: "Show the redacted records with markers and the report; write nothing.") var dryRun = false
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @Argument(
        help: ArgumentHelp("Record ids or unique prefixes (default: all publishable records).", valueName: "record"))
    var records: [String] = []

    func validate() throws {
        if output == nil && !dryRun { throw ValidationError("Give the output folder with -o DIR (or use --dry-run).") }
    }

    func run() throws {
        let workspace = try options.locate()
        let loaded = try PolicyFile.load(policy)
        let service = try RecordService(workspace: workspace)
        let selected = try Publisher.select(records, policy: loaded, service: service)
        let key = try workspace.signingKey(passphrase: try options.passphrase())
        let result = try Publisher.redact(
            selected, policy: loaded, service: service, key: key, explicit: !records.isEmpty)
        if dryRun {
            if json {
                try Console.json(result.map(\.report))
            } else {
                for record in result {
                    Console.out("── \(record.recordId) (version \(record.versionId)) — dry run, nothing written")
                    Console.out(record.rendered.pretty())
                    Console.out(Publisher.describe(record.report))
                }
            }
            return
        }
        let folder = try Publisher.write(
            result, to: output!, policy: loaded, key: key, publisher: try workspace.identity())
        if json {
            try Console.json(result.map(\.report))
        } else {
            for record in result { Console.out(Publisher.describe(record.report)) }
        }
        Console.err(
            "Published \(result.count) record\(result.count == 1 ? "" : "s") under policy '\(loaded.policy.name)' in \(folder)."
        )
    }
}

/// A policy file, parsed and checked against the record schema.
struct PolicyFile {
    var policy: RedactionPolicy
    /// SHA-256 of the file (hex), named in every annotation.
    var sha256: String
    var path: String

    static func load(_ path: String) throws -> PolicyFile {
        let input = try InputFile(path, what: "policy file")
        guard input.size <= UInt64(PolicyYAML.maximumSize) else {
            throw CLIError(.malformedInput, "\(path) is larger than 1 MiB; a policy is a short text file.")
        }
        return try parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
    }

    /// Parses policy bytes (`path` names them in messages), e.g. a policy bundled as a resource.
    /// - Throws: ``CLIError`` 65 naming the line.
    static func parse(_ bytes: [UInt8], path: String) throws -> PolicyFile {
        let policy: RedactionPolicy
        do {
            policy = try RedactionPolicy.parse(bytes)
        } catch let error as PolicyError {
            throw CLIError(
                .malformedInput,
                "\(path), \(error). Fix the policy (Specs/policies.md describes the format); nothing was published.")
        }
        if let schema = try? RecordSchema.bundled() {
            for rule in policy.fields + policy.conditions.flatMap(\.fields) {
                var cursor = schema.sensitivityRoot
                for step in rule.path.steps {
                    switch step {
                    case .key(let k): cursor = cursor.child(.key(k))
                    case .anyElement: cursor = cursor.child(.index(0))
                    }
                    if !cursor.isDescribed { break }
                }
                guard cursor.isDescribed else {
                    throw CLIError(
                        .malformedInput,
                        "\(path), line \(rule.action.line): '\(rule.path)' is not a field of the record schema (Specs/records.md lists them; "
                            + "'[]' marks array elements). Nothing was published.")
                }
            }
        }
        let hash = try SHA256.hash(bytes).map { String(format: "%02x", $0) }.joined()
        return PolicyFile(policy: policy, sha256: hash, path: path)
    }
}

/// The steps of `amanat publish`, callable from the demo.
enum Publisher {
    /// A record chosen for publication: its single head and its view (consent, collector, editors).
    struct Selected {
        var head: StoredVersion
        var view: RecordView
    }

    /// Who a policy writes for: a policy whose purpose is `exchange` makes redacted versions for a partner, which
    /// may include records with consent `partners`; every other policy publishes.
    static func audience(_ policy: RedactionPolicy) -> Authority.Audience {
        policy.purpose == "exchange" && policy.recipient != "public" ? .partner : .everyone
    }

    /// The records to publish: the single head of each named record (all records when none is named). Whether a
    /// record may be published is ``Authority/publicationRefusal(_:allowed:audience:)``'s decision, on the consent
    /// in force (capped by the collector), never on what the head claims.
    /// - Throws: ``CLIError`` 64 for a named record that may not be published, 2 for unresolved concurrent edits.
    static func select(_ names: [String], policy: PolicyFile, service: RecordService) throws -> [Selected] {
        let explicit = !names.isEmpty
        let ids = explicit ? try names.map { try service.resolve($0) } : try service.store.records().map(\.id)
        let allowed = Set(policy.policy.consent.compactMap(Consent.init(rawValue:)))
        var selected: [Selected] = []
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            let view = try service.view(id)
            if let why = Authority.publicationRefusal(view, allowed: allowed, audience: audience(policy.policy)) {
                if explicit {
                    throw CLIError(.usage, "record \(id) cannot be published: \(why). Nothing was written.")
                }
                Console.err("skipped \(id): \(why)")
                continue
            }
            selected.append(Selected(head: try service.singleHead(of: view), view: view))
        }
        guard !selected.isEmpty else {
            throw CLIError(
                .usage,
                "no record in this workspace may be published under policy '\(policy.policy.name)'. Nothing was written."
            )
        }
        return selected
    }

    /// Applies the policy to each record. A record the policy cannot present (a plain claim it would have to
    /// strip) is skipped with a message, unless it was named (`explicit`), which fails the whole run.
    /// - Throws: ``CLIError`` 65 for a named record that cannot be presented under the policy.
    static func redact(
        _ records: [Selected], policy: PolicyFile, service: RecordService, key: Ed25519.SigningKey,
        explicit: Bool = true
    ) throws
        -> [PublishedRecord]
    {
        let master = try Annotation.masterSecret(key)
        var keys: [IdentifierKind: SecretBytes] = [:]
        let redactor = Redactor(policy: policy.policy) { kind in
            if let k = keys[kind] { return k }
            let k = try RedactionOperators.pseudonymKey(
                master: master, purpose: policy.policy.purpose, recipient: policy.policy.recipient, kind: kind)
            keys[kind] = k
            return k
        }
        var result: [PublishedRecord] = []
        for record in records {
            let version = record.head
            let verified = try service.verifiedContent(version)
            var published: PublishedRecord
            do {
                published = try redactor.apply(version.sdjwt, verified: verified)
            } catch let refusal as Redactor.Refusal {
                let message =
                    "record \(version.recordId) cannot be published under policy '\(policy.policy.name)': \(refusal.reason)"
                guard explicit else {
                    Console.err("skipped \(version.recordId): \(refusal.reason)")
                    continue
                }
                throw CLIError(.malformedInput, message + ". Nothing was written.")
            } catch let error as SDJWTError {
                throw CLIError(
                    .verificationFailed, "record \(version.recordId): its stored version does not parse: \(error).")
            }
            // Authorship is the collector's; whoever signed later versions is named as an editor.
            guard let collector = record.view.collector else {
                throw CLIError(
                    .inputMissing,
                    "record \(version.recordId): its first version is not in this store, so its collector "
                        + "cannot be shown. Nothing was written.")
            }
            published.collector = collector
            published.editors = record.view.editors
            if version.id != version.recordId { published.origin = try service.store.version(version.recordId).jwt }
            let overlaid = Annotation.overlays(
                published.values.map {
                    .object(
                        [("path", .string($0.path))] + ($0.segment.map { [("segment", .number(String($0)))] } ?? []))
                },
                presentation: published.presentation)
            guard overlaid.isEmpty else {
                throw CLIError(
                    .malformedInput,
                    "record \(version.recordId): the publisher values at \(overlaid.joined(separator: ", ")) would sit on "
                        + "values the presentation discloses (a bug in the redactor). Nothing was written.")
            }
            result.append(published)
        }
        guard !result.isEmpty else {
            throw CLIError(
                .usage,
                "no record in this workspace may be published under policy '\(policy.policy.name)'. Nothing was written."
            )
        }
        return result
    }

    /// Writes the presentations, annotations and index.json into a staging folder beside `path`, then renames it
    /// into place. Returns the final path.
    /// - Throws: ``CLIError`` 73 when `path` exists and is not an empty folder, or cannot be created.
    static func write(
        _ records: [PublishedRecord], to path: String, policy: PolicyFile, key: Ed25519.SigningKey,
        publisher: PublicIdentity
    ) throws -> String {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try? fm.contentsOfDirectory(atPath: target.path))?.isEmpty == true else {
                throw CLIError(
                    .cannotCreateOutput,
                    "\(path) already exists and is not an empty folder; choose a new folder. Nothing was written.")
            }
        }
        let parent = target.deletingLastPathComponent()
        guard fm.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError(.cannotCreateOutput, "cannot create \(path): the folder \(parent.path) does not exist.")
        }
        let staging = parent.appendingPathComponent(
            ".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try fm.createDirectory(
                at: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        } catch {
            throw CLIError(.cannotCreateOutput, "cannot create \(staging.path): \(error.localizedDescription)")
        }
        var ok = false
        defer { if !ok { try? fm.removeItem(at: staging) } }
        let now = Int(Date().timeIntervalSince1970)
        var entries: [JSONValue] = []
        for record in records {
            let presentationName = record.recordId + ".sd-jwt"
            let annotationName = record.recordId + Annotation.fileSuffix
            let annotation = try Annotation.sign(
                record, policyName: policy.policy.name, policyHash: policy.sha256, key: key, issuedAt: now)
            try AtomicFile.write(
                Data((record.presentation.compact + "\n").utf8), to: staging.appendingPathComponent(presentationName))
            try AtomicFile.write(Data((annotation + "\n").utf8), to: staging.appendingPathComponent(annotationName))
            entries.append(
                .object([
                    ("id", .string(record.recordId)),
                    ("version", .string(record.versionId)),
                    ("collector", .string(record.collector)),
                    ("signer", .string(record.signer)),
                    ("editors", .array(record.editors.map { .string($0) })),
                    ("presentation", .string(presentationName)),
                    ("annotation", .string(annotationName)),
                    ("disclosuresPresented", .number(String(record.report.disclosuresPresented))),
                    ("publisherValues", .number(String(record.values.count))),
                ]))
        }
        let index = JSONValue.object([
            ("format", .string("amanat-publication/v1")),
            (
                "publisher",
                .object([
                    ("organization", .string(publisher.organization)), ("fingerprint", .string(publisher.fingerprint)),
                ])
            ),
            ("policy", .object([("name", .string(policy.policy.name)), ("sha256", .string(policy.sha256))])),
            ("publishedAt", .number(String(now))),
            ("records", .array(entries)),
        ])
        try AtomicFile.write(Data((index.pretty() + "\n").utf8), to: staging.appendingPathComponent("index.json"))
        guard rename(staging.path, target.path) == 0 else {
            throw CLIError(
                .cannotCreateOutput, "cannot create \(path): \(String(cString: strerror(errno))). Nothing was written.")
        }
        ok = true
        return target.path
    }

    /// One paragraph per record: counts per kind and operator, never values.
    static func describe(_ r: RedactionReport) -> String {
        var lines = [
            "\(r.record): \(r.original) original value(s) presented (\(r.disclosuresPresented) disclosures), \(r.withheld) withheld "
                + "(\(r.notInPolicy) not named by the policy)"
        ]
        if !r.conditions.isEmpty {
            lines.append(
                "  conditions in force: policy line(s) \(r.conditions.map(String.init).joined(separator: ", "))")
        }
        if !r.fields.isEmpty {
            lines.append(
                "  fields replaced: "
                    + r.fields.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        if !r.identifiers.isEmpty {
            let parts = r.identifiers.sorted { $0.key < $1.key }.map { kind, ops in
                "\(kind) " + ops.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
            }
            lines.append("  identifiers in text: " + parts.joined(separator: "; "))
        }
        if !r.textWithheldWhole.isEmpty {
            let total = r.textWithheldWhole.values.reduce(0, +)
            lines.append(
                "  withheld whole: \(total) identifier(s) sat inside text with other words ("
                    + r.textWithheldWhole.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                        separator: ", ")
                    + "); the text around them is withheld too, marked \(RedactionMarker.textWithheld)")
        }
        return lines.joined(separator: "\n")
    }
}
