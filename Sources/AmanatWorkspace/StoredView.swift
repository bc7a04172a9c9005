import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import Foundation

/// What the store keeps per record for the commands that go over every record (`list`, `status`, `duplicates`):
/// the list columns and the identifiers duplicates are matched on, sealed under the store key in the stored view
/// (`Specs/storage.md`), updated with each import or edit of the record.
extension Workspace {
    /// The summarizer the workspace's store is opened with.
    public static let recordSummarizer = RecordSummarizer(tag: "amanat-record-summary/2") { view, last in
        RecordSummary.make(view, lastContent: last)
    }
}

/// The summary of one record (``Workspace/recordSummarizer``) and how it is read back.
enum RecordSummary {
    static func make(_ view: RecordView, lastContent: JSONValue?) -> JSONValue {
        let state = RecordState(view)
        // The content `list` shows: a retracted record shows what it said before.
        let shown: JSONValue?
        switch state {
        case .erased: shown = nil
        case .clean, .conflict: shown = view.content
        case .retracted: shown = lastContent
        case .incomplete: shown = view.content ?? lastContent
        }
        let fields = RecordListing.fields(shown)
        var object: [(String, JSONValue)] = [
            ("attachments", .number(String(fields.count))), ("state", .string(state.rawValue)),
        ]
        if let reference = fields.reference { object.append(("reference", .string(reference))) }
        if let language = fields.language { object.append(("language", .string(language))) }
        if let date = fields.date { object.append(("date", .string(date))) }
        let tags = shown?["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !tags.isEmpty { object.append(("tags", .array(tags.map { .string($0) }))) }
        // Duplicates match records that are not retracted and still have content.
        if view.status != .retracted, let content = view.content {
            let ids = SyncService.identifiers(content)
            if !ids.isEmpty {
                object.append(("identifiers", .array(ids.map { .array([.string($0.0.rawValue), .string($0.1)]) })))
            }
            var links: [JSONValue] = []
            for link in content["links"]?.arrayValue ?? [] {
                guard let other = link["recordId"]?.stringValue, let kind = link["kind"]?.stringValue,
                    kind == "same_person" || kind == "different_person"
                else { continue }
                links.append(.array([.string(other), .string(kind)]))
            }
            if !links.isEmpty {
                object.append(("links", .array(links)))
                object.append(("linkSigner", .string(view.heads.first?.signer ?? "")))
            }
        }
        return .object(object)
    }

    /// What a listing entry takes from a record's summary (``make(_:lastContent:)``'s object).
    struct ListedFields: Sendable {
        var attachments = 0
        var state = RecordState.incomplete
        var reference: String?
        var language: String?
        var date: String?
        var tags: [String] = []
    }

    /// Reads the listed fields of a summary (the reader before it), building nothing else: a member of another type
    /// than ``make(_:lastContent:)`` writes reads as absent, a summary that is not an object as all absent.
    static func readListedFields(_ reader: inout JSONReader) throws -> ListedFields? {
        var fields = ListedFields()
        try reader.readMembers { reader, name in
            switch name {
            case "attachments": fields.attachments = try reader.readNumber().flatMap { Int($0) } ?? 0
            case "state": fields.state = try reader.readString().flatMap(RecordState.init(rawValue:)) ?? .incomplete
            case "reference": fields.reference = try reader.readString()
            case "language": fields.language = try reader.readString()
            case "date": fields.date = try reader.readString()
            case "tags": fields.tags = try reader.readStrings() ?? []
            default: try reader.skipValue()
            }
        }
        return fields
    }

    /// The listing entry of a stored record state and the listed fields of its summary.
    static func entry(_ state: StoredRecordState, _ fields: ListedFields?, shortId: String) -> RecordListing.Entry {
        let fields = fields ?? ListedFields()
        return RecordListing.Entry(
            id: state.recordId, shortId: shortId, caseReference: fields.reference, language: fields.language,
            consent: state.consent, date: fields.date, attachments: fields.attachments, state: fields.state,
            versions: state.versionCount, heads: state.graphHeads, createdBy: state.collector ?? "?",
            lastIssuedAt: state.lastIssuedAt, tags: fields.tags)
    }
}

extension SyncService {
    /// The normalized ID numbers (Chinese resident IDs, IINs) of a record's testifier and detainees.
    public static func identifiers(_ content: JSONValue) -> [(IdentifierKind, String)] {
        var values: [(IdentifierKind, String)] = []
        func collect(_ person: JSONValue?) {
            guard let person else { return }
            if let id = person["cnResidentId"]?.stringValue, let normalized = ChineseResidentID.normalize(id) {
                values.append((.cnResidentID, normalized))
            }
            if let iin = person["kzIin"]?.stringValue, KazakhIIN.isValid(iin) { values.append((.kzIIN, iin)) }
        }
        collect(content["testifier"])
        for detainee in content["detainees"]?.arrayValue ?? [] { collect(detainee) }
        return values
    }

    /// A pseudonym as 16 bytes (two big-endian halves): a million records' keys fit in tens of megabytes.
    struct RawKey: Hashable, Comparable {
        var high: UInt64
        var low: UInt64

        init(_ bytes: ArraySlice<UInt8>) {
            (high, low) = (0, 0)
            for (i, byte) in bytes.prefix(16).enumerated() {
                if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
        }

        /// The pseudonym as `duplicates --pseudonyms` prints it (base64url).
        var text: String {
            Base64URL.encode((0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> (8 * (7 - i % 8))) })
        }

        static func < (a: RawKey, b: RawKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
    }

    /// Keyed pseudonyms of identifiers, each once: HMAC-SHA-256 under the matching key (`hmac`, keyed once per
    /// thread) of `kind NUL value`, first 16 bytes (printed base64url, ``RawKey/text``).
    static func rawMatchingKeys(_ values: [(IdentifierKind, String)], hmac: ReusableHMACSHA256) throws -> [RawKey] {
        var keys: [RawKey] = []
        for (kind, value) in values {
            let mac = try hmac.authenticationCode(Array("\(kind.rawValue)\u{0}\(value)".utf8))
            let raw = RawKey(mac.prefix(16))
            if !keys.contains(raw) { keys.append(raw) }
        }
        return keys
    }

    /// The view's counts, from the stored view (no record is derived again).
    public func counts() throws -> SyncView.Counts {
        do {
            return try service.store.viewCounts(authority: service.authority)
        } catch let error as StoreError {
            throw AmanatError(error)
        }
    }

    /// Calls `keyed` with every record that is not retracted and still has content, in record-id order, and its
    /// matching pseudonyms under `key` (none when it names no ID number), and `link` with each `links` assertion,
    /// reading the stored view record by record.
    func forEachMatchingInput(
        key: SecretBytes, keyed: (String, [RawKey]) throws -> Void, link: (LinkAssertion) throws -> Void
    ) throws {
        do {
            // The pseudonyms (an HMAC per identifier) are made on every core, a page ahead of this thread.
            try service.store.forEachOpenedStatePage(
                authority: service.authority,
                preparePage: { states in
                    try OrderedParallel.map(
                        states, minimumPerCore: 256, makeWorker: { try ReusableHMACSHA256(key: key) }
                    ) { hmac, opened -> MatchingInput? in
                        let read = try opened.read(Self.readMatchingFields)
                        return try Self.matchingInput(read.state, read.summary, hmac: hmac)
                    }
                }
            ) { page in
                for case let input? in page {
                    if let keys = input.keys { try keyed(input.id, keys) }
                    for assertion in input.links { try link(assertion) }
                }
                return true
            }
        } catch let error as StoreError {
            throw AmanatError(error)
        }
    }

    /// What one record gives duplicate matching: its pseudonyms (nil: it is not matched) and its `links` assertions.
    typealias MatchingInput = (id: String, keys: [RawKey]?, links: [LinkAssertion])

    /// What duplicate matching takes from a record's summary (``RecordSummary/make(_:lastContent:)``'s object).
    struct MatchingFields: Sendable {
        /// The `[kind, value]` pairs of `identifiers` (nil when the summary has none).
        var identifiers: [(IdentifierKind, String)]?
        /// The summary has a `state` (every summary of a record with content does).
        var hasState = false
        var linkSigner = ""
        /// The `[record, kind]` pairs of `links`.
        var links: [(other: String, kind: String)] = []
    }

    /// Reads what duplicate matching takes of a summary (the reader before it), building nothing else: items of
    /// another shape than ``RecordSummary/make(_:lastContent:)`` writes are left out, a member of another type reads
    /// as absent.
    static func readMatchingFields(_ reader: inout JSONReader) throws -> MatchingFields? {
        var fields = MatchingFields()
        func pairs(_ value: JSONValue) -> [(String, String)]? {
            value.arrayValue?.compactMap { item in
                guard let pair = item.arrayValue, pair.count == 2, let a = pair[0].stringValue,
                    let b = pair[1].stringValue
                else { return nil }
                return (a, b)
            }
        }
        try reader.readMembers { reader, name in
            switch name {
            case "identifiers":
                fields.identifiers = pairs(try reader.readValue()).map { found in
                    found.compactMap { kind, value in IdentifierKind(rawValue: kind).map { ($0, value) } }
                }
            case "state":
                try reader.skipValue()
                fields.hasState = true
            case "linkSigner": fields.linkSigner = try reader.readString() ?? ""
            case "links": fields.links = (pairs(try reader.readValue()) ?? []).map { (other: $0.0, kind: $0.1) }
            default: try reader.skipValue()
            }
        }
        return fields
    }

    /// One record's part of ``forEachMatchingInput(key:keyed:link:)`` from its state and the matching fields of its
    /// summary (nil: it has no summary, and is not matched).
    static func matchingInput(
        _ state: StoredRecordState, _ fields: MatchingFields?, hmac: ReusableHMACSHA256
    ) throws -> MatchingInput? {
        guard let fields else { return nil }
        var keys: [RawKey]?
        if let values = fields.identifiers {
            keys = try rawMatchingKeys(values, hmac: hmac)
        } else if state.status != .retracted, !state.isErased, fields.hasState {
            keys = []
        }
        let links = fields.links.map { link in
            LinkAssertion(
                recordA: state.recordId, recordB: link.other, relation: link.kind == "same_person" ? .same : .different,
                signer: fields.linkSigner, issuedAt: 0)
        }
        return (state.recordId, keys, links)
    }

    /// Every record that is not retracted and still has content, in record-id order, with its matching pseudonyms
    /// under `key`, sorted (`duplicates --pseudonyms`); one record at a time.
    public func forEachPseudonyms(key: SecretBytes, _ body: (String, [String]) throws -> Void) throws {
        try forEachMatchingInput(key: key, keyed: { try body($0, $1.map(\.text).sorted()) }, link: { _ in })
    }

    /// What duplicate matching needs, read record by record from the stored view: the matching pseudonyms (under
    /// `key`) of the records that share one with another record, only those pseudonyms, and the `links`
    /// assertions. A pseudonym no other record holds cannot join records, so leaving it out changes no group
    /// (``AmanatSync/DuplicateFinder``), and what is held while reading is 24 bytes per pseudonym and each
    /// record's id, not every record's set of strings.
    public func duplicateInputs(key: SecretBytes) throws -> (keys: [String: Set<String>], assertions: [LinkAssertion]) {
        var records: [String] = []
        var pairs: [(key: RawKey, record: Int32)] = []
        var assertions: [LinkAssertion] = []
        try forEachMatchingInput(
            key: key,
            keyed: { id, keys in
                guard !keys.isEmpty else { return }
                for raw in keys { pairs.append((raw, Int32(records.count))) }
                records.append(id)
            }, link: { assertions.append($0) })
        pairs.sort { ($0.key, $0.record) < ($1.key, $1.record) }
        var keys: [String: Set<String>] = [:]
        var start = 0
        while start < pairs.count {
            var end = start + 1
            while end < pairs.count, pairs[end].key == pairs[start].key { end += 1 }
            if end - start > 1 {
                let text = pairs[start].key.text
                for pair in pairs[start..<end] { keys[records[Int(pair.record)], default: []].insert(text) }
            }
            start = end
        }
        return (keys, assertions)
    }
}

extension SyncService {
    /// The key duplicates are matched under: this organization's own (derived from its master secret), or, with
    /// `partner` (a trust-list name), the one agreed with that partner (X25519 between the two sealing keys).
    /// - Parameter option: how the command line named the partner, for the error when it is not on the trust list.
    /// - Throws: ``AmanatError`` for an unknown partner or a key that does not unlock.
    public func matchingKey(partner: String? = nil, option: String = "--partner") throws -> SecretBytes {
        guard let partner else { return try OrganizationSecrets(signingKey: try workspace.signingKey()).matchingKey() }
        guard let entry = try workspace.trustList().entry(named: partner) else {
            throw workspace.unknownPartnerError(partner, option: option)
        }
        return try OrganizationSecrets.partnerMatchingKey(
            sealingKey: try workspace.sealingKey(), partner: entry.identity)
    }

    /// The groups of records that share an identifier under `key` (``AmanatSync/DuplicateFinder``), with what the
    /// records' `links` assert about them: flagged, never merged.
    public func duplicates(key: SecretBytes) throws -> DuplicateReport {
        let inputs = try duplicateInputs(key: key)
        return DuplicateFinder.clusters(keys: inputs.keys, assertions: inputs.assertions)
    }

    /// How many groups of likely duplicates no link confirms, under this organization's own matching key.
    public func unconfirmedDuplicateGroups() throws -> Int {
        try duplicates(key: try matchingKey()).clusters.filter { !$0.isConfirmed }.count
    }
}

extension RecordService {
    /// Every record of the store as `amanat list` shows it, sorted (``RecordListing/sorted(_:)``) and kept when
    /// every filter holds. `skip` and `limit` page through the sorted result (`list --skip N --limit M`).
    public func listing(
        filters: [RecordListing.Filter] = [], skip: Int = 0, limit: Int? = nil
    ) throws -> [RecordListing.Entry] {
        var entries: [RecordListing.Entry] = []
        try listing(filters: filters, skip: skip, limit: limit) { entries.append($0) }
        return entries
    }

    /// Streams the listing: calls `body` with each entry of the sorted, filtered page in order.
    /// - Returns: how many records match the filters (before `skip` and `limit`).
    @discardableResult
    public func listing(
        filters: [RecordListing.Filter] = [], skip: Int = 0, limit: Int? = nil,
        _ body: (RecordListing.Entry) throws -> Void
    ) throws -> Int {
        try listing(filters: filters, skip: skip, limit: limit, render: { $0 }, body)
    }

    /// Streams the listing, each entry first rendered by `render` on any core (a front end formats its lines there):
    /// calls `body` with each rendered entry of the sorted, filtered page, in order.
    ///
    /// One pass over the stored view (read ahead, opened on every core), in which each entry is built, filtered and
    /// rendered on every core (with a `limit` shorter than a run, only the entries of the page are rendered, at the
    /// end). The rendered lines are sorted in runs of ``listingRun`` that wait in encrypted
    /// temporary files (``Spool``, in a staging folder inside `.amanat/`) and are merged as they are handed out, so
    /// memory holds one run, whatever the store's size; a listing that fits one run (or a page with `limit`) never
    /// leaves memory.
    /// - Returns: how many records match the filters (before `skip` and `limit`).
    @discardableResult
    public func listing<Rendered: ListingLine>(
        filters: [RecordListing.Filter] = [], skip: Int = 0, limit: Int? = nil,
        render: @escaping @Sendable (RecordListing.Entry) throws -> Rendered, _ body: (Rendered) throws -> Void
    ) throws -> Int {
        try listing(filters: filters, skip: skip, limit: limit, run: Self.listingRun, render: render, body)
    }

    /// One record of a page of the listing's first pass.
    private enum Prepared: Sendable {
        /// Filtered out.
        case left
        /// Rendered, its short id known from its neighbours in the page.
        case line(SortedLine)
        /// Not rendered (a page with `--limit` renders only the entries it keeps), its short id known.
        case entry(RecordListing.Entry)
        /// The first or last of its page: its short id waits for a neighbour in the page before or after.
        case waiting(RecordListing.Entry)
    }

    /// ``listing(filters:skip:limit:render:_:)`` with runs of `run` entries and pages of `page` records read from the
    /// store (tests use small ones).
    func listing<Rendered: ListingLine>(
        filters: [RecordListing.Filter], skip: Int, limit: Int?, run: Int, page pageSize: Int = 2000,
        render: @escaping @Sendable (RecordListing.Entry) throws -> Rendered, _ body: (Rendered) throws -> Void
    ) throws -> Int {
        let skip = max(0, skip)
        let keep = limit.map { skip + max(0, $0) }
        // A page shorter than a run is kept unrendered in memory; anything longer goes through the external sort.
        let pageOnly = keep.map { $0 < run } ?? false
        var kept = ListingPage(keep: keep ?? 0)
        let sorter = ListingSorter(folder: workspace.dotFolder, run: run)
        var matching = 0
        @Sendable func withShortId(_ entry: RecordListing.Entry, length: Int) -> RecordListing.Entry {
            var entry = entry
            entry.shortId = String(entry.id.prefix(length))
            return entry
        }
        @Sendable func rendered(_ entry: RecordListing.Entry) throws -> SortedLine {
            SortedLine(date: entry.date, id: entry.id, line: try render(entry).listingBytes)
        }
        /// A first or last entry of a page, its short id now known (on this thread).
        func add(_ entry: RecordListing.Entry, length: Int) throws {
            let entry = withShortId(entry, length: length)
            if pageOnly { kept.add(entry) } else { try sorter.add(try rendered(entry)) }
        }
        do {
            // Short ids from each id's neighbours in id order (the stored view is read in id order): those inside a
            // page are known from the page; the first and last of each page wait for the pages around them.
            var edges = ShortIds.PageEdges()
            // The entry of the last record of the page before, when it matches the filters.
            var waiting: RecordListing.Entry?
            // Entries are built, filtered and rendered on every core, a page ahead of this thread.
            try store.forEachOpenedStatePage(
                authority: authority, pageSize: pageSize,
                preparePage: { states in
                    let ids = states.map(\.state.recordId)
                    let prepared = try OrderedParallel.map(
                        Array(states.indices), minimumPerCore: 256, makeWorker: {}
                    ) { _, i -> Prepared in
                        let read = try states[i].read(RecordSummary.readListedFields)
                        let entry = RecordSummary.entry(read.state, read.summary, shortId: ids[i])
                        guard filters.allSatisfy({ $0.matches(entry) }) else { return .left }
                        guard let length = ShortIds.lengthInPage(ids, i) else { return .waiting(entry) }
                        let known = withShortId(entry, length: length)
                        return pageOnly ? .entry(known) : .line(try rendered(known))
                    }
                    return (ids, prepared)
                }
            ) { page in
                let (ids, prepared) = page
                guard !ids.isEmpty else { return true }
                let lengths = edges.add(ids)
                if let entry = waiting, let length = lengths.previousLast { try add(entry, length: length) }
                waiting = nil
                for item in prepared {
                    switch item {
                    case .left: continue
                    case .line(let line):
                        matching += 1
                        try sorter.add(line)
                    case .entry(let entry):
                        matching += 1
                        kept.add(entry)
                    case .waiting: matching += 1
                    }
                }
                if case .waiting(let entry) = prepared[0], let length = lengths.first { try add(entry, length: length) }
                // The last (when it is also the first, `lengths.first` is nil and it was not added above).
                if case .waiting(let entry) = prepared[ids.count - 1] { waiting = entry }
                return true
            }
            if let entry = waiting, let length = edges.finish() { try add(entry, length: length) }
        } catch let error as StoreError {
            throw AmanatError(error)
        }
        if pageOnly {
            for entry in kept.sorted.dropFirst(skip) { try body(try render(entry)) }
            return matching
        }
        var position = 0
        try sorter.finish { line in
            defer { position += 1 }
            guard position >= skip else { return true }
            if let keep, position >= keep { return false }
            try body(try Rendered(listingBytes: line))
            return true
        }
        return matching
    }

    /// How many entries a listing sorts in memory before it spills them to a sorted run on disk.
    static let listingRun = 50_000
}

/// What `amanat check` found: SQLite's own consistency check, and the stored view against a derivation from every
/// version.
public struct ViewCheck: Encodable, Sendable {
    /// SQLite's `PRAGMA integrity_check` said ok.
    public var integrity: Bool
    /// The stored view was derived again first (`--rebuild`).
    public var rebuilt: Bool
    public var records: Int
    public var versions: Int
    /// The state hash from the stored view, and from deriving every record again.
    public var storedStateHash: String
    public var derivedStateHash: String
    /// The stored counts equal the derived ones.
    public var countsAgree: Bool

    /// Everything agrees.
    public var isConsistent: Bool { integrity && countsAgree && storedStateHash == derivedStateHash }
}

extension SyncService {
    /// Checks the store (`amanat check`): SQLite's integrity check, then the stored view (counts, state hash)
    /// against the view derived again from every version. With `rebuild`, the stored view is first derived again
    /// from the versions (in one transaction).
    public func check(rebuild: Bool) throws -> ViewCheck {
        let store = service.store
        do {
            let integrity = try store.integrityCheck()
            if rebuild { try store.rebuildView(authority: service.authority) }
            let counts = try store.viewCounts(authority: service.authority)
            let stored = try store.stateHash()
            // Every summary opens (a damaged one names its record: exit 1; `--rebuild` derives it again).
            try store.forEachRecordState(authority: service.authority) { _ in true }
            // Derived again range by range, never the whole store in memory.
            let derived = try store.derivedCountsAndStateHash(authority: service.authority)
            return ViewCheck(
                integrity: integrity, rebuilt: rebuild, records: counts.records, versions: counts.versions,
                storedStateHash: stored, derivedStateHash: derived.stateHash, countsAgree: counts == derived.counts)
        } catch let error as StoreError {
            throw AmanatError(error)
        }
    }
}

extension SyncService {
    /// The records in conflict, sorted by id: found in the stored view, each derived from its own versions.
    public func conflicted() throws -> [RecordView] {
        var ids: [String] = []
        do {
            try service.store.forEachRecordState(statuses: [.conflict], authority: service.authority) { state in
                ids.append(state.recordId)
                return true
            }
        } catch let error as StoreError {
            throw AmanatError(error)
        }
        return try ids.map { try service.view($0) }
    }
}
