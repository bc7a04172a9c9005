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

    /// The listing entry of a stored record state.
    static func entry(_ state: StoredRecordState, shortId: String) -> RecordListing.Entry {
        let s = state.summary
        var count = 0
        if case .number(let n)? = s?["attachments"] { count = Int(n) ?? 0 }
        return RecordListing.Entry(
            id: state.recordId, shortId: shortId, caseReference: s?["reference"]?.stringValue,
            language: s?["language"]?.stringValue, consent: state.consent, date: s?["date"]?.stringValue,
            attachments: count,
            state: s?["state"]?.stringValue.flatMap(RecordState.init(rawValue:)) ?? .incomplete,
            versions: state.versionCount, heads: state.graphHeads, createdBy: state.collector ?? "?",
            lastIssuedAt: state.lastIssuedAt, tags: s?["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
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
            try service.store.forEachRecordStatePage(
                authority: service.authority,
                preparePage: { states in
                    try OrderedParallel.map(
                        states, minimumPerCore: 256, makeWorker: { try ReusableHMACSHA256(key: key) }
                    ) { hmac, state -> MatchingInput? in
                        try Self.matchingInput(state, hmac: hmac)
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

    /// One record's part of ``forEachMatchingInput(key:keyed:link:)`` (nil: it has no summary).
    static func matchingInput(_ state: StoredRecordState, hmac: ReusableHMACSHA256) throws -> MatchingInput? {
        guard let summary = state.summary else { return nil }
        var keys: [RawKey]?
        if let ids = summary["identifiers"]?.arrayValue {
            let values = ids.compactMap { item -> (IdentifierKind, String)? in
                guard let pair = item.arrayValue, pair.count == 2,
                    let kind = pair[0].stringValue.flatMap(IdentifierKind.init(rawValue:)),
                    let value = pair[1].stringValue
                else { return nil }
                return (kind, value)
            }
            keys = try rawMatchingKeys(values, hmac: hmac)
        } else if state.status != .retracted, !state.isErased, summary["state"] != nil {
            keys = []
        }
        let signer = summary["linkSigner"]?.stringValue ?? ""
        var links: [LinkAssertion] = []
        for item in summary["links"]?.arrayValue ?? [] {
            guard let pair = item.arrayValue, pair.count == 2, let other = pair[0].stringValue,
                let kind = pair[1].stringValue
            else { continue }
            links.append(
                LinkAssertion(
                    recordA: state.recordId, recordB: other, relation: kind == "same_person" ? .same : .different,
                    signer: signer, issuedAt: 0))
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

    /// Streams the listing, each entry first passed through `render` on any core (a front end formats its lines
    /// there): calls `body` with each rendered entry of the sorted, filtered page, in order.
    ///
    /// One pass over the stored view (read ahead, opened on every core). The matching entries are sorted in runs of
    /// ``listingRun`` that wait in encrypted temporary files (``Spool``, in a staging folder inside `.amanat/`) and
    /// are merged as they are handed out, so memory holds one run, whatever the store's size; a listing that fits
    /// one run (or a page with `limit`) never leaves memory.
    /// - Returns: how many records match the filters (before `skip` and `limit`).
    @discardableResult
    public func listing<Rendered: Sendable>(
        filters: [RecordListing.Filter] = [], skip: Int = 0, limit: Int? = nil,
        render: @escaping @Sendable (RecordListing.Entry) throws -> Rendered, _ body: (Rendered) throws -> Void
    ) throws -> Int {
        try listing(filters: filters, skip: skip, limit: limit, run: Self.listingRun, render: render, body)
    }

    /// ``listing(filters:skip:limit:render:_:)`` with runs of `run` entries (tests use small ones).
    func listing<Rendered: Sendable>(
        filters: [RecordListing.Filter], skip: Int, limit: Int?, run: Int,
        render: @escaping @Sendable (RecordListing.Entry) throws -> Rendered, _ body: (Rendered) throws -> Void
    ) throws -> Int {
        let skip = max(0, skip)
        let keep = limit.map { skip + max(0, $0) }
        let sorter = ListingSorter(folder: workspace.dotFolder, run: run, keep: keep)
        var matching = 0
        do {
            // Short ids from each id's neighbours in id order (the stored view is read in id order): an entry waits
            // for the next id.
            var scanner = ShortIds.Scanner()
            var pending: RecordListing.Entry?
            // Entries are built and filtered on every core, a page ahead of this thread.
            try store.forEachRecordStatePage(
                authority: authority,
                preparePage: { states in
                    try OrderedParallel.map(states, minimumPerCore: 256, makeWorker: {}) {
                        _, state -> (id: String, entry: RecordListing.Entry?) in
                        let entry = RecordSummary.entry(state, shortId: state.recordId)
                        return (state.recordId, filters.allSatisfy({ $0.matches(entry) }) ? entry : nil)
                    }
                }
            ) { page in
                for prepared in page {
                    if let length = scanner.add(prepared.id), var entry = pending {
                        entry.shortId = String(entry.id.prefix(length))
                        try sorter.add(entry)
                    }
                    pending = prepared.entry
                    if pending != nil { matching += 1 }
                }
                return true
            }
            if let length = scanner.finish(), var entry = pending {
                entry.shortId = String(entry.id.prefix(length))
                try sorter.add(entry)
            }
        } catch let error as StoreError {
            throw AmanatError(error)
        }
        // Batches of 1024 entries are rendered on every core while this thread merges the next batch; each is handed
        // to `body` in order once rendered (the merge and `body` run on this thread only).
        var batch: [RecordListing.Entry] = []
        var rendering: Ahead<[Rendered]>?
        // However the listing ends, no batch is still being rendered when it returns.
        defer { rendering?.wait() }
        func emit() throws {
            guard let done = rendering else { return }
            rendering = nil
            for rendered in try done.get() { try body(rendered) }
        }
        func flush() throws {
            let items = batch
            batch = []
            batch.reserveCapacity(1024)
            try emit()
            guard !items.isEmpty else { return }
            rendering = Ahead {
                try OrderedParallel.map(items, minimumPerCore: 64, makeWorker: {}, { try render($1) })
            }
        }
        var position = 0
        try sorter.finish { entry in
            defer { position += 1 }
            guard position >= skip else { return true }
            if let keep, position >= keep { return false }
            batch.append(entry)
            if batch.count == 1024 { try flush() }
            return true
        }
        try flush()
        try emit()
        return matching
    }

    /// How many entries a listing sorts in memory before it spills them to a sorted run on disk.
    static let listingRun = 50_000
}

/// The external sort of a large listing (``RecordService/listing(filters:skip:limit:render:_:)``): entries are
/// sorted in memory `run` at a time (``RecordListing/sorted(_:)``'s order), each full run is written to a
/// ``Spool``, and the runs are merged. With `keep` below `run`, only the first `keep` entries are ever needed: they
/// stay in memory, in a heap whose top is the last of them, and an entry after it costs one comparison (a page of a
/// million records sorted 50,000 entries at a time to keep 50 spent two to three seconds sorting).
final class ListingSorter {
    private let folder: URL
    private let run: Int
    private let keep: Int?
    private var buffer: [RecordListing.Entry] = []
    /// The first `keep` entries so far (when `keep` is below `run`), the last of them on top.
    private var kept = Heap<RecordListing.Entry>(less: { ListingSorter.precedes($1, $0) })
    private var staging: StagingDirectory?
    private var runs: [Spool] = []

    init(folder: URL, run: Int, keep: Int?) {
        self.folder = folder
        self.run = max(2, run)
        self.keep = keep
    }

    static func precedes(_ a: RecordListing.Entry, _ b: RecordListing.Entry) -> Bool {
        RecordListing.precedes((a.date, a.id), (b.date, b.id))
    }

    func add(_ entry: RecordListing.Entry) throws {
        if let keep, keep < run {
            if kept.count < keep {
                kept.push(entry)
            } else if let last = kept.top, Self.precedes(entry, last) {
                kept.replaceTop(entry)
            }
            return
        }
        buffer.append(entry)
        guard buffer.count >= run else { return }
        try spill()
    }

    /// A run being sorted and written on another thread while the next one fills.
    private var writing: Ahead<Spool>?

    /// Hands the buffer to another thread to be sorted and written as the next run (after the run before it).
    private func spill() throws {
        if staging == nil {
            staging = try StagingDirectory(beside: folder.appendingPathComponent("listing"), label: "sort.partial")
        }
        if let writing { runs.append(try writing.get()) }
        let path = staging!.url.appendingPathComponent("run-\(runs.count)").path
        let handed = Handed(buffer)
        buffer = []
        buffer.reserveCapacity(run)
        writing = Ahead {
            let spool = try Spool(file: path)
            // Sorted in place, as the array's only owner (`sorted(by:)` copied every entry).
            var entries = handed.take()
            entries.sort(by: Self.precedes)
            for entry in entries { try spool.append(RecordListing.encode(entry)) }
            return spool
        }
    }

    deinit { writing?.wait() }

    /// Hands every entry out in order until `body` returns false.
    func finish(_ body: (RecordListing.Entry) throws -> Bool) throws {
        if let keep, keep < run {
            for entry in kept.items.sorted(by: Self.precedes) where try !body(entry) { break }
            kept.items = []
            return
        }
        if runs.isEmpty && writing == nil {
            buffer.sort(by: Self.precedes)
            for entry in buffer where try !body(entry) { break }
            buffer = []
            return
        }
        if !buffer.isEmpty { try spill() }
        if let writing { runs.append(try writing.get()) }
        writing = nil
        buffer = []
        // A k-way merge: a heap of each run's next entry. Runs hold disjoint ids and entries compare by date then
        // id, so no two entries tie.
        var cursors: [RunReader] = []
        // However the merge ends, no batch is still being read when it returns (the runs' files go next).
        defer { for cursor in cursors { cursor.finish() } }
        for run in runs { cursors.append(RunReader(try run.read())) }
        var heap = Heap<(entry: RecordListing.Entry, run: Int)>(less: { Self.precedes($0.entry, $1.entry) })
        for (i, cursor) in cursors.enumerated() {
            if let entry = try cursor.next() { heap.push((entry, i)) }
        }
        while let (entry, run) = heap.top {
            guard try body(entry) else { break }
            if let next = try cursors[run].next() {
                heap.replaceTop((next, run))
            } else {
                heap.popTop()
            }
        }
    }
}

/// A binary heap: the least element by `less` on top.
struct Heap<Element> {
    var items: [Element] = []
    let less: (Element, Element) -> Bool

    var count: Int { items.count }
    var top: Element? { items.first }

    mutating func push(_ element: Element) {
        items.append(element)
        var i = items.count - 1
        while i > 0, less(items[i], items[(i - 1) / 2]) {
            items.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    /// Replaces the top and restores the order.
    mutating func replaceTop(_ element: Element) {
        items[0] = element
        siftDown()
    }

    mutating func popTop() {
        let last = items.removeLast()
        guard !items.isEmpty else { return }
        items[0] = last
        siftDown()
    }

    private mutating func siftDown() {
        var i = 0
        while true {
            var least = i
            let (left, right) = (2 * i + 1, 2 * i + 2)
            if left < items.count, less(items[left], items[least]) { least = left }
            if right < items.count, less(items[right], items[least]) { least = right }
            if least == i { return }
            items.swapAt(i, least)
            i = least
        }
    }
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

/// A run's entries handed to the thread that sorts them, which takes them out (so that the array has one owner and
/// is sorted in place).
private final class Handed: @unchecked Sendable {
    private var entries: [RecordListing.Entry]
    init(_ entries: [RecordListing.Entry]) { self.entries = entries }
    /// Called once, by the one thread the run was handed to.
    func take() -> [RecordListing.Entry] {
        defer { entries = [] }
        return entries
    }
}

/// A sorted run's entries for the merge, read and decoded a batch ahead on another thread (the merge itself, on the
/// caller's thread, only compares).
private final class RunReader: @unchecked Sendable {
    /// Used by one batch's work at a time, on whichever thread runs it.
    private let cursor: Spool.Cursor
    private var batch: [RecordListing.Entry] = []
    private var position = 0
    private var ahead: Ahead<[RecordListing.Entry]>?

    init(_ cursor: Spool.Cursor) {
        self.cursor = cursor
        ahead = readBatch()
    }

    /// Waits for the batch being read ahead, if any (the reading work holds this reader until it ends, so a wait in
    /// `deinit` would come too late): the merge calls it before the runs' files are removed.
    func finish() {
        ahead?.wait()
        ahead = nil
    }

    private func readBatch() -> Ahead<[RecordListing.Entry]> {
        Ahead { [self] in
            var entries: [RecordListing.Entry] = []
            entries.reserveCapacity(1024)
            while entries.count < 1024, let bytes = try cursor.next() {
                entries.append(try RecordListing.decode(bytes))
            }
            return entries
        }
    }

    func next() throws -> RecordListing.Entry? {
        if position == batch.count {
            guard let current = ahead else { return nil }
            batch = try current.get()
            position = 0
            ahead = batch.count < 1024 ? nil : readBatch()
            if batch.isEmpty { return nil }
        }
        defer { position += 1 }
        return batch[position]
    }
}
