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
            Records are validated, signed and stored a batch at a time in one transaction (a CSV file of any size is \
            streamed): one bad record fails the whole command, naming its file and row, and nothing is stored. Each \
            record is signed as an SD-JWT in which every identifying or sensitive field is its own disclosure.

            Prints one line per new record, in input order: the full record id, a tab, and where it came from: \
            `FILE row N` for CSV (rows numbered as a spreadsheet shows them: the header is row 1, a multi-line cell \
            stays in its row, blank rows count), `FILE [i]` for the i-th record of a JSON array (from 0), `FILE` for a \
            JSON file holding one record. `cut -f1` keeps the ids.

            Examples:
              amanat add testimony-0142.json interviews-2026-11.csv
              amanat add interviews.csv | cut -f1 > new-ids.txt
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array of {id, file, row (CSV), index (JSON array)}, in input order.")
    var json = false
    @Argument(help: ArgumentHelp("Record files (.json or .csv).", valueName: "file")) var files: [String]

    struct Added: Encodable {
        var id: String
        var file: String
        var row: Int?
        var index: Int?
    }

    func run() throws {
        let workspace = try options.locate()
        workspace.unlockSigningKeyAhead()
        let service = try RecordService(workspace: workspace)
        let key = try workspace.signingKey()
        // Files are read, signed and stored a batch at a time in one transaction: nothing is stored unless all are.
        // Drawn from 256 KiB of input on (a few hundred records take seconds to sign).
        let bar = ProgressBar(label: "adding", unit: .bytes, minimum: 256 << 10)
        let added = try service.add(files: files, key: key, progress: { bar.update($0, of: $1) })
        bar.finish()
        let (ids, origins) = (added.ids, added.origins)
        // Specs/records.md: a number that fails its checksum is stored as entered and reported.
        for warning in added.warnings { Console.err("warning: \(warning)") }
        if json {
            try Console.json(
                zip(ids, origins).map { Added(id: $0, file: $1.file, row: $1.row, index: $1.index) })
        } else {
            for (id, origin) in zip(ids, origins) { Console.out("\(UntrustedText.printable(id))\t\(origin)") }
            Console.status(
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
            Prints the new version id. When the file holds exactly the record's current content (member order \
            does not matter), nothing is signed or stored: the command says so on standard error, prints \
            nothing and exits 0.

            Get the current content with `amanat show RECORD --format json > r.json`, edit it, then:
              amanat update RECORD r.json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix of at least 4 characters).") var record: String
    @Argument(help: ArgumentHelp("The edited record (JSON).", valueName: "file")) var file: String

    func run() throws {
        let workspace = try options.locate()
        let loaded = try RecordFiles.load(file)
        let records = loaded.records
        guard records.count == 1 else {
            throw AmanatError(.malformedInput, "\(UntrustedText.printable(file)) must hold exactly one record.")
        }
        workspace.unlockSigningKeyAhead()
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        let key = try workspace.signingKey()
        let outcome = try service.edit(recordId, content: records[0], key: key)
        for warning in loaded.warnings { Console.err("warning: \(warning)") }
        guard case .signed(let version, let consent) = outcome else {
            Console.status(
                "Record \(recordId): \(UntrustedText.printable(file)) holds its current content; nothing changed, "
                    + "so no version was signed.")
            return
        }
        Console.out(version.versionId)
        Console.status("Record \(recordId): new version \(version.versionId).")
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

            A timed transcript (WebVTT .vtt or SubRip .srt) is checked strictly; with --transcript its cue texts \
            also become the record's testimony.transcript, and with --translation LANG a translation in that \
            language, so that identifiers found in them map to the times of their cues (Specs/records.md, "Timed \
            transcripts"; `amanat publish` mutes them in the testimony video).

            Examples:
              amanat attach 3Jq… id-card.jpg court-verdict.pdf --kind court_verdict
              amanat attach 3Jq… testimony.mp4 --kind testimony_video
              amanat attach 3Jq… testimony.vtt --transcript
              amanat attach 3Jq… testimony.en.srt --translation en
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix of at least 4 characters).") var record: String
    @Argument(help: ArgumentHelp("Files to attach.", valueName: "file")) var files: [String]
    @Option(name: .long, help: "What the files are: \(Self.kinds.joined(separator: ", ")).")
    var kind: String = "other"
    @Flag(
        name: .long,
        help: "The one file is a timed transcript (.vtt or .srt): its cue texts become testimony.transcript.")
    var transcript = false
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The one file is a timed translation (.vtt or .srt) in this language (BCP 47, e.g. en, ru, kk-Cyrl).",
            valueName: "lang"))
    var translation: String?

    /// The attachment kinds of the record schema.
    static let kinds = [
        "id_card_photo", "passport_photo", "hukou_page", "court_verdict", "detention_notice", "testimony_video",
        "testimony_audio", "photo", "letter", "other",
    ]

    func validate() throws {
        guard Self.kinds.contains(kind) else {
            throw ValidationError("--kind must be one of \(Self.kinds.joined(separator: ", ")).")
        }
        if transcript && translation != nil {
            throw ValidationError("give --transcript or --translation LANG, not both.")
        }
        if (transcript || translation != nil)
            && (files.count != 1
                || !["vtt", "srt"].contains(URL(fileURLWithPath: files[0]).pathExtension.lowercased()))
        {
            throw ValidationError("--transcript and --translation take exactly one .vtt or .srt file.")
        }
    }

    func run() throws {
        let workspace = try options.locate()
        workspace.unlockSigningKeyAhead()
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        var content = try service.editableContent(recordId).content
        let key = try workspace.signingKey()
        var list = content["attachments"]?.arrayValue ?? []
        for file in files where ["vtt", "srt"].contains(URL(fileURLWithPath: file).pathExtension.lowercased()) {
            // A timed transcript is checked before anything is stored (exit 65 naming the line).
            let bytes = Array(try Workspace.readFile(URL(fileURLWithPath: file), what: "timed transcript"))
            let parsed: TimedTranscript
            do { parsed = try TimedTranscript.parse(bytes, file: file) } catch {
                throw AmanatError(.malformedInput, "\(error). Nothing was attached.")
            }
            let testimony = content["testimony"] ?? .object([])
            if transcript {
                content = content.setting("testimony", testimony.setting("transcript", .string(parsed.text)))
            } else if let translation {
                // The schema checks the language tag when the version is signed (exit 65 if it is not BCP 47).
                let list =
                    (testimony["translations"]?.arrayValue ?? []) + [
                        .object([("language", .string(translation)), ("text", .string(parsed.text))])
                    ]
                content = content.setting("testimony", testimony.setting("translations", .array(list)))
            }
        }
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
        guard case .signed(let version, _) = try service.edit(recordId, content: content, key: key) else {
            Console.status("Record \(recordId) already lists every file; no version was signed.")
            return
        }
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
        case "vtt": return "text/vtt"
        case "srt": return "application/x-subrip"
        case "m4a": return "audio/mp4"
        case "wav": return "audio/wav"
        case "mov": return "video/quicktime"
        default: return "application/octet-stream"
        }
    }
}

/// `amanat list [--filter COLUMN OP VALUE]... [--json]`
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the records in the store.",
        discussion: """
            One row per record, sorted by the date of the testimony (records without a date last, ties by id):
              ID           the short id: the shortest prefix (6 characters or more) no other record shares; every \
            command that takes a RECORD accepts it (or any unique prefix of 4 characters or more)
              CASE         the collector's own reference (provenance.reference)
              LANGUAGE     the record's main language
              CONSENT      the consent in force
              DATE         the date of the testimony
              ATTACHMENTS  how many files the record lists
              STATE        clean, conflict (concurrent versions to resolve), retracted, erased, or incomplete (part \
            of its history has not arrived)
            "-" means not given; a case reference longer than 32 characters is cut (… at the end). An id that starts with '-' is written id:-… on the command line.

            --filter \(RecordListing.Filter.syntax)

            Examples:
              amanat list
              amanat list --filter language=kk --filter state=conflict
              amanat list --filter 'date>=2019-01' --filter 'attachments>0'
              amanat list --filter "case~steppe" --json
              amanat list --filter tag=torture --limit 50 --skip 100
            """)

    @OptionGroup var options: WorkspaceOptions
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only records where COLUMN OP VALUE holds (repeat: all must hold), e.g. language=kk, date>=2019-01.",
            valueName: "filter"))
    var filter: [String] = []
    @Option(name: .long, help: ArgumentHelp("Leave out the first N records of the sorted list.", valueName: "n"))
    var skip: Int = 0
    @Option(name: .long, help: ArgumentHelp("Show at most N records (after --skip).", valueName: "n"))
    var limit: Int?
    @Flag(
        name: .long,
        help: """
            Print a JSON array of {id, shortId, caseReference, language, consent, date, attachments, state, versions, \
            heads, createdBy, lastIssuedAt, concurrent, retracted, tags} (members not given are left out).
            """)
    var json = false

    func validate() throws {
        do { _ = try filters() } catch let error as AmanatError { throw ValidationError(error.message) }
        guard skip >= 0 else { throw ValidationError("--skip needs a number of records, 0 or more.") }
        guard (limit ?? 1) >= 1 else { throw ValidationError("--limit needs a number of records, 1 or more.") }
    }

    func filters() throws -> [RecordListing.Filter] { try filter.map(RecordListing.Filter.init(parsing:)) }

    func run() throws {
        let filters = try filters()
        let workspace = try options.locate()
        let service = try RecordService(workspace: workspace)
        // Both outputs stream: a store of a million records is never held as entries.
        if json {
            let out = StreamedText()
            var first = true
            // Each entry is formatted on any core; the lines come back in order.
            try service.listing(
                filters: filters, skip: skip, limit: limit,
                render: { UntrustedText.jsonSafeBytes(Self.itemJSON($0)) }
            ) { line in
                out.write(first ? "[\n  " : ",\n  ")
                first = false
                out.write(bytes: line)
            }
            out.write(first ? "[]\n" : "\n]\n")
            out.flush()
            return
        }
        let header = ["ID", "CASE", "LANGUAGE", "CONSENT", "DATE", "ATTACHMENTS", "STATE"]
        // Column widths from the first rows (a later, wider cell widens its own row only).
        var waiting: [[String]] = []
        var widths: [Int]?
        let out = StreamedText()
        func emit(_ row: [String], _ widths: [Int]) {
            let cells = row.enumerated().map { i, cell in
                // Padded by characters, as the widths are counted (Foundation's `padding(toLength:)` counts UTF-16
                // units and cut cells holding characters of two).
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[i] - cell.count))
            }
            out.write(cells.joined(separator: "  ") + "\n")
        }
        func start(_ rows: [[String]]) -> [Int] {
            var widths = header.map(\.count)
            for row in rows {
                for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
            }
            for row in [header] + rows { emit(row, widths) }
            return widths
        }
        try service.listing(
            filters: filters, skip: skip, limit: limit,
            render: { e in
                ListingCells(
                    [
                        e.shortId, e.caseReference ?? "-", e.language ?? "-", e.consent.rawValue, e.date ?? "-",
                        String(e.attachments), e.state.rawValue,
                    ].map { cell in
                        // Long references are cut in the table (--json has them whole).
                        let shown = UntrustedText.printable(cell)
                        return shown.count > 32 ? String(shown.prefix(31)) + "…" : shown
                    })
            }
        ) { line in
            let row = line.cells
            if let widths {
                emit(row, widths)
            } else {
                waiting.append(row)
                if waiting.count == 1000 {
                    widths = start(waiting)
                    waiting = []
                }
            }
        }
        if widths == nil && !waiting.isEmpty { _ = start(waiting) }
        out.flush()
        if widths == nil && waiting.isEmpty {
            if skip > 0 {
                Console.status("No records after the first \(skip).")
            } else if filters.isEmpty {
                Console.out("No records yet. Add some with `amanat add FILE`.")
            } else {
                Console.status("No record matches the filters.")
            }
        }
    }

    /// The `--json` object of one entry as canonical JSON (keys sorted, no spaces; members not given left out),
    /// written directly: a million-record listing formats each entry without building a JSON value first.
    static func itemJSON(_ e: RecordListing.Entry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func string(_ name: StaticString, _ value: String) {
            key(name)
            JSONEscaping.appendQuoted(value, to: &out)
        }
        func strings(_ name: StaticString, _ values: [String]) {
            key(name)
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONEscaping.appendQuoted(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        func number(_ name: StaticString, _ value: Int) {
            key(name)
            out += String(value).utf8
        }
        func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            out += (value ? "true" : "false").utf8
        }
        number("attachments", e.attachments)
        if let reference = e.caseReference { string("caseReference", reference) }
        bool("concurrent", e.heads.count > 1)
        string("consent", e.consent.rawValue)
        string("createdBy", e.createdBy)
        if let date = e.date { string("date", date) }
        strings("heads", e.heads)
        string("id", e.id)
        if let language = e.language { string("language", language) }
        number("lastIssuedAt", e.lastIssuedAt)
        bool("retracted", e.state == .retracted || e.state == .erased)
        string("shortId", e.shortId)
        string("state", e.state.rawValue)
        if !e.tags.isEmpty { strings("tags", e.tags) }
        number("versions", e.versions)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// `amanat show RECORD [--history [--values]] [--format text|json|sd-jwt]`
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one record (its head version, verified again).",
        discussion: """
            --format json prints the content exactly as `add` and `update` accept it; --format sd-jwt prints the \
            head version's compact SD-JWT with all its disclosures.

            --history lists every version, parents first: id, kind (create, edit, merge, retract, erase), signer and \
            time, then the fields it changed compared with its parent (with each parent, for a merge), as JSON \
            Pointers such as /testimony/date ("added", "removed" or "changed"). Values are not shown unless you \
            add --values.

            Examples:
              amanat show 3Jq7xk --format json > record.json
              amanat show 3Jq7xk --history
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sdJWT = "sd-jwt" }

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The record id (or a unique prefix of at least 4 characters).") var record: String
    @Flag(name: .long, help: "List every version (id, kind, signer, time, parents) and the fields it changed.")
    var history = false
    @Flag(name: .long, help: "With --history: also show the old and new value of every changed field.")
    var values = false
    @Option(name: .long, help: "text, json or sd-jwt.") var format: Format = .text

    func validate() throws {
        if values && !history { throw ValidationError("--values goes with --history.") }
    }

    /// A value of a changed field on one line, escaped and cut at 120 characters.
    static func shown(_ value: JSONValue?) -> String {
        guard let value else { return "(none)" }
        let text = UntrustedText.printable(value.canonical())
        return text.count > 120 ? String(text.prefix(120)) + "…" : text
    }

    func printHistory(_ service: RecordService, _ recordId: String) throws {
        let workspace = service.workspace
        for entry in try service.history(recordId) {
            let v = entry.version
            let date = Date(timeIntervalSince1970: TimeInterval(v.issuedAt))
            Console.out(
                "\(v.id)  \(entry.kindName)\(entry.isHead ? " (head)" : "")  by \(workspace.signerName(v.signer))  \(ISO8601DateFormatter().string(from: date))"
                    + (v.prev.isEmpty ? "" : "  after \(v.prev.map(UntrustedText.printable).joined(separator: ", "))"))
            if entry.isContentErased && v.kind != .retract {
                Console.out("    (content erased)")
                continue
            }
            for comparison in entry.comparisons {
                let indent = entry.comparisons.count > 1 ? "      " : "    "
                if entry.comparisons.count > 1 {
                    Console.out("    compared with \(UntrustedText.printable(comparison.parent)):")
                }
                guard let changes = comparison.changes else {
                    Console.out("\(indent)(parent not here or erased: cannot compare)")
                    continue
                }
                if changes.isEmpty { Console.out("\(indent)(no field changed)") }
                for change in changes {
                    let path = change.pointer.isEmpty ? "/" : UntrustedText.printable(change.pointer)
                    var line = "\(indent)\(change.kind.rawValue) \(path)"
                    if values {
                        switch change.kind {
                        case .added: line += ": \(Self.shown(change.new))"
                        case .removed: line += ": was \(Self.shown(change.old))"
                        case .changed: line += ": \(Self.shown(change.old)) → \(Self.shown(change.new))"
                        }
                    }
                    Console.out(line)
                }
            }
        }
    }

    func run() throws {
        let workspace = try options.locate()
        let service = try RecordService(workspace: workspace)
        let recordId = try service.resolve(record)
        if history {
            try printHistory(service, recordId)
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
            Console.out("State     \(RecordState(view).rawValue)")
            Console.out(
                "Collector \(view.collector.map { workspace.signerName($0) } ?? "unknown (its first version is not here)")"
            )
            Console.out(
                "Version   \(head.id) (\(head.isErasure ? "erase" : head.kind.rawValue)), signed by \(workspace.signerName(head.signer)) — verified"
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
