import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

/// The state of a record as `amanat list` and `amanat show` name it.
public enum RecordState: String, Sendable, Hashable, CaseIterable {
    /// One head, or several that agree or merge without conflict.
    case clean
    /// Concurrent versions changed a field differently, or a retraction is concurrent with an edit.
    case conflict
    /// Retracted (a tombstone in force); the signed history is kept.
    case retracted
    /// Erased: the personal data is deleted here (and, once the erasure travels, at every partner).
    case erased
    /// Part of the history is missing (a version names a parent this store does not hold).
    case incomplete

    /// The state of a record in the derived view. An erasure is a retraction that also deleted the content, so an
    /// erased record is `erased`, never `retracted`; a conflict is never hidden otherwise.
    public init(_ view: RecordView) {
        if view.isErased {
            self = .erased
            return
        }
        switch view.status {
        case .clean: self = .clean
        case .conflict: self = .conflict
        case .retracted: self = .retracted
        case .incomplete: self = .incomplete
        }
    }
}

/// Short record ids: the shortest prefix of at least ``minimumLength`` characters that no other record id of the
/// store shares.
public enum ShortIds {
    /// The length a short id has at least.
    public static let minimumLength = 6
    /// The shortest prefix a command accepts for a record (when it is unique).
    public static let minimumPrefixLength = 4

    /// The short id of every id in `ids` (duplicates are ignored), by id.
    public static func compute(_ ids: [String], minimum: Int = minimumLength) -> [String: String] {
        let sorted = Array(Set(ids)).sorted()
        var result: [String: String] = [:]
        result.reserveCapacity(sorted.count)
        for (i, id) in sorted.enumerated() {
            var shared = 0
            if i > 0 { shared = max(shared, commonPrefix(sorted[i - 1], id)) }
            if i + 1 < sorted.count { shared = max(shared, commonPrefix(id, sorted[i + 1])) }
            result[id] = String(id.prefix(max(minimum, shared + 1)))
        }
        return result
    }

    /// The short-id length of `ids[i]` from its neighbours in `ids` (sorted, no duplicates), or nil for the first and
    /// last, whose neighbours may lie in the pages before and after (``PageEdges``). Pure: a page's ids are done on
    /// every core.
    public static func lengthInPage(_ ids: [String], _ i: Int, minimum: Int = minimumLength) -> Int? {
        guard i > 0, i < ids.count - 1 else { return nil }
        return max(minimum, max(commonPrefix(ids[i - 1], ids[i]), commonPrefix(ids[i], ids[i + 1])) + 1)
    }

    /// Short ids of the first and last id of pages of ids that arrive in sorted order (what ``lengthInPage(_:_:minimum:)``
    /// leaves): the last id of a page is known once the next page's first id has arrived.
    public struct PageEdges {
        let minimum: Int
        /// The last id of the page before and the prefix it shares with the id before it.
        var waiting: (id: String, sharedBefore: Int)?

        public init(minimum: Int = ShortIds.minimumLength) { self.minimum = minimum }

        /// Takes the next page (sorted, after the pages before, not empty): returns the short-id length of the last
        /// id of the page before (nil for the first page) and of this page's first id (nil when it is also its last,
        /// which waits for the next page).
        public mutating func add(_ ids: [String]) -> (previousLast: Int?, first: Int?) {
            guard let firstId = ids.first else { return (nil, nil) }
            let sharedFirst = waiting.map { ShortIds.commonPrefix($0.id, firstId) } ?? 0
            let previousLast = waiting.map { max(minimum, max($0.sharedBefore, sharedFirst) + 1) }
            let last = ids.count - 1
            var first: Int?
            if last > 0 {
                first = max(minimum, max(sharedFirst, ShortIds.commonPrefix(ids[0], ids[1])) + 1)
                waiting = (ids[last], ShortIds.commonPrefix(ids[last - 1], ids[last]))
            } else {
                waiting = (firstId, sharedFirst)
            }
            return (previousLast, first)
        }

        /// The short-id length of the last id of the last page (nil when no page came).
        public func finish() -> Int? { waiting.map { max(minimum, $0.sharedBefore + 1) } }
    }

    /// How many characters `a` and `b` share at their start. Record ids are ASCII and are compared byte by byte; a
    /// carriage return (one character with a line feed after it) or a byte past ASCII where the bytes stop agreeing
    /// sends them to the comparison by characters.
    static func commonPrefix(_ a: String, _ b: String) -> Int {
        func byBytes(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int? {
            let m = min(x.count, y.count)
            var n = 0
            while n < m, x[n] == y[n], x[n] < 0x80, x[n] != 0x0D { n += 1 }
            if n < m, x[n] == y[n] { return nil }
            if n < x.count, x[n] >= 0x80 { return nil }
            if n < y.count, y[n] >= 0x80 { return nil }
            return n
        }
        let bytes = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in byBytes(x, y) }
        }
        if case let count??? = bytes { return count }
        var n = 0
        for (x, y) in zip(a, b) {
            guard x == y else { break }
            n += 1
        }
        return n
    }
}

/// What `amanat list` shows of each record, sorted and filtered.
public enum RecordListing {
    /// One record as listed.
    public struct Entry: Sendable, Equatable {
        /// The full record id.
        public var id: String
        /// The shortest unique prefix of at least 6 characters (``ShortIds``).
        public var shortId: String
        /// The collector's own number (`provenance.reference`), if the record has one. Untrusted text.
        public var caseReference: String?
        /// The record's main language (`language`, BCP 47). Untrusted text.
        public var language: String?
        /// The consent in force (``AmanatSync/Authority``).
        public var consent: Consent
        /// The date of the testimony (`testimony.date`, a partial date). Untrusted text.
        public var date: String?
        /// How many attachments the record lists.
        public var attachments: Int
        public var state: RecordState
        /// How many versions the store holds.
        public var versions: Int
        /// Every head (versions no other names as a parent), pending requests included, sorted.
        public var heads: [String]
        /// The fingerprint that signed the `create` version ("?" when it is not here).
        public var createdBy: String
        /// The newest signed time of its versions (seconds since 1970).
        public var lastIssuedAt: Int
        /// The record's tags (`tags`). Untrusted text.
        public var tags: [String]

        public init(
            id: String, shortId: String, caseReference: String? = nil, language: String? = nil,
            consent: Consent = .internal, date: String? = nil, attachments: Int = 0, state: RecordState = .clean,
            versions: Int = 1, heads: [String] = [], createdBy: String = "?", lastIssuedAt: Int = 0,
            tags: [String] = []
        ) {
            self.tags = tags
            self.id = id
            self.shortId = shortId
            self.caseReference = caseReference
            self.language = language
            self.consent = consent
            self.date = date
            self.attachments = attachments
            self.state = state
            self.versions = versions
            self.heads = heads
            self.createdBy = createdBy
            self.lastIssuedAt = lastIssuedAt
        }
    }

    /// An entry as bytes (``ListingBytes``), for the sorted runs of a large listing that lists entries themselves.
    static func encode(_ entry: Entry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        for text in [entry.id, entry.shortId, entry.caseReference, entry.language, entry.consent.rawValue, entry.date] {
            ListingBytes.append(text, to: &out)
        }
        ListingBytes.append(entry.attachments, to: &out)
        ListingBytes.append(entry.state.rawValue, to: &out)
        ListingBytes.append(entry.versions, to: &out)
        ListingBytes.append(entry.heads.count, to: &out)
        for head in entry.heads { ListingBytes.append(head, to: &out) }
        ListingBytes.append(entry.createdBy, to: &out)
        ListingBytes.append(entry.lastIssuedAt, to: &out)
        ListingBytes.append(entry.tags.count, to: &out)
        for tag in entry.tags { ListingBytes.append(tag, to: &out) }
        return out
    }

    /// Reads ``encode(_:)`` back.
    /// - Throws: ``AmanatError`` `ioError` for bytes that are not an entry.
    static func decode(_ bytes: [UInt8]) throws -> Entry {
        var reader = ListingBytes.Reader(bytes)
        let id = try reader.text()
        let shortId = try reader.text()
        let reference = try reader.optionalText()
        let language = try reader.optionalText()
        guard let consent = Consent(rawValue: try reader.text()) else { throw reader.damaged() }
        let date = try reader.optionalText()
        let attachments = try reader.number()
        guard let state = RecordState(rawValue: try reader.text()) else { throw reader.damaged() }
        let versions = try reader.number()
        let heads = try reader.texts()
        let createdBy = try reader.text()
        let lastIssuedAt = try reader.number()
        let tags = try reader.texts()
        guard reader.isAtEnd else { throw reader.damaged() }
        return Entry(
            id: id, shortId: shortId, caseReference: reference, language: language, consent: consent, date: date,
            attachments: attachments, state: state, versions: versions, heads: heads, createdBy: createdBy,
            lastIssuedAt: lastIssuedAt, tags: tags)
    }

    /// The listed fields of a record content.
    static func fields(_ content: JSONValue?) -> (reference: String?, language: String?, date: String?, count: Int) {
        (
            content?["provenance"]?["reference"]?.stringValue, content?["language"]?.stringValue,
            content?["testimony"]?["date"]?.stringValue, content?["attachments"]?.arrayValue?.count ?? 0
        )
    }

    /// Sorted by testimony date (partial dates as written: `2019` before `2019-04` before `2019-04-02`), records
    /// without a date last; ties by id.
    public static func sorted(_ entries: [Entry]) -> [Entry] {
        entries.sorted { a, b in precedes((a.date, a.id), (b.date, b.id)) }
    }

    /// The order of ``sorted(_:)`` on (date, id).
    static func precedes(_ a: (date: String?, id: String), _ b: (date: String?, id: String)) -> Bool {
        switch (a.date, b.date) {
        case (let x?, let y?) where x != y: return x < y
        case (nil, _?): return false
        case (_?, nil): return true
        default: return a.id < b.id
        }
    }

    /// One `--filter COLUMN OP VALUE`. Several filters must all hold.
    public struct Filter: Sendable, Equatable {
        /// The columns a filter may name.
        public enum Column: String, Sendable, CaseIterable {
            case id, `case`, language, consent, date, attachments, state, tag
        }

        /// How a value is compared.
        public enum Operator: String, Sendable, CaseIterable {
            case equal = "="
            case notEqual = "!="
            case less = "<"
            case lessOrEqual = "<="
            case greater = ">"
            case greaterOrEqual = ">="
            case contains = "~"
        }

        public var column: Column
        public var op: Operator
        public var value: String

        /// The syntax, for help texts and errors.
        public static let syntax = """
            COLUMN OP VALUE. Columns: id, case, language, consent, date, attachments, state, tag. Operators: = and != \
            (every column), < <= > >= (date, attachments, consent: internal < partners < public), ~ (case, tag: \
            contains, ignoring letter case). tag=VALUE matches records with that tag, tag!=VALUE those without it. id=PREFIX matches ids that start with it; language=kk matches kk, kk-Cyrl and \
            kk-Latn; date=2019 matches every date in 2019, date>=2019-04 every date from April 2019 on; a date \
            matches only when all the days it may mean do (2019 matches date>=2019-01, not date>=2019-04). An empty value means "not given" (case= lists \
            records without a case reference). Example: --filter language=kk --filter 'date>=2019-01' (quote a filter with < or > for the shell).
            """

        public init(column: Column, op: Operator, value: String) {
            self.column = column
            self.op = op
            self.value = value
        }

        /// Parses `COLUMN OP VALUE` (``syntax``).
        /// - Throws: ``AmanatError`` `invalidRequest` (exit 64) naming what is wrong.
        public init(parsing text: String) throws {
            let name = String(text.prefix { $0.isASCII && $0.isLetter })
            let rest = text.dropFirst(name.count)
            guard let column = Column(rawValue: name.lowercased()) else {
                throw Self.usage(
                    text,
                    name.isEmpty
                        ? "it does not start with a column" : "'\(UntrustedText.printable(name))' is not a column")
            }
            let ops: [Operator] = [.notEqual, .lessOrEqual, .greaterOrEqual, .equal, .less, .greater, .contains]
            guard let op = ops.first(where: { rest.hasPrefix($0.rawValue) }) else {
                throw Self.usage(text, "no operator after '\(name)'")
            }
            self.init(column: column, op: op, value: String(rest.dropFirst(op.rawValue.count)))
            try check(text)
        }

        static func usage(_ text: String, _ why: String) -> AmanatError {
            AmanatError(
                .invalidRequest,
                "--filter '\(UntrustedText.printable(text))': \(why). A filter is \(syntax)")
        }

        static let ordered: Set<Column> = [.date, .attachments, .consent]

        func check(_ text: String) throws {
            let orders = ![.equal, .notEqual, .contains].contains(op)
            if op == .contains && column != .case && column != .tag {
                throw Self.usage(text, "~ (contains) works on the case and tag columns only")
            }
            if orders && !Self.ordered.contains(column) {
                throw Self.usage(text, "\(op.rawValue) works on date, attachments and consent only")
            }
            if value.isEmpty {
                guard [.case, .language, .date].contains(column), !orders else {
                    throw Self.usage(text, "it needs a value")
                }
                return
            }
            switch column {
            case .date:
                guard PartialDate(value) != nil else {
                    throw Self.usage(text, "a date is YYYY, YYYY-MM or YYYY-MM-DD")
                }
            case .attachments:
                guard Int(value).map({ $0 >= 0 }) == true else {
                    throw Self.usage(text, "attachments is compared with a whole number")
                }
            case .consent:
                guard Consent(rawValue: value) != nil else {
                    throw Self.usage(text, "consent is public, partners or internal")
                }
            case .state:
                guard RecordState(rawValue: value) != nil else {
                    throw Self.usage(
                        text, "state is one of \(RecordState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            case .id, .case, .language, .tag:
                break
            }
        }

        /// Whether `entry` passes this filter.
        public func matches(_ entry: Entry) -> Bool {
            switch column {
            case .id: return compareEqual(entry.id.hasPrefix(value) || entry.shortId == value)
            case .case:
                guard let reference = entry.caseReference else {
                    return op == .notEqual ? !value.isEmpty : value.isEmpty
                }
                if op == .contains { return reference.range(of: value, options: .caseInsensitive) != nil }
                return compareEqual(reference == value)
            case .language:
                guard let language = entry.language else {
                    return op == .notEqual ? !value.isEmpty : value.isEmpty
                }
                let tag = language.lowercased()
                let range = value.lowercased()
                return compareEqual(!value.isEmpty && (tag == range || tag.hasPrefix(range + "-")))
            case .state: return compareEqual(entry.state.rawValue == value)
            case .tag:
                if op == .contains {
                    return entry.tags.contains { $0.range(of: value, options: .caseInsensitive) != nil }
                }
                return compareEqual(entry.tags.contains(value))
            case .consent:
                guard let wanted = Consent(rawValue: value) else { return false }
                return compare(entry.consent, wanted)
            case .attachments:
                guard let wanted = Int(value) else { return false }
                return compare(entry.attachments, wanted)
            case .date:
                return matchesDate(entry.date)
            }
        }

        private func compareEqual(_ equal: Bool) -> Bool { op == .notEqual ? !equal : equal }

        private func compare<T: Comparable>(_ a: T, _ b: T) -> Bool {
            switch op {
            case .equal, .contains: return a == b
            case .notEqual: return a != b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            }
        }

        private func matchesDate(_ text: String?) -> Bool {
            guard let text, let date = PartialDate(text) else {
                return op == .notEqual ? !value.isEmpty : (op == .equal && value.isEmpty)
            }
            guard let wanted = PartialDate(value) else { return op == .notEqual }
            switch op {
            case .equal, .contains: return date.isWithin(wanted)
            case .notEqual: return !date.isWithin(wanted)
            case .greaterOrEqual: return date.first >= wanted.first
            case .greater: return date.first > wanted.last
            case .lessOrEqual: return date.last <= wanted.last
            case .less: return date.last < wanted.first
            }
        }
    }

    /// A partial date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) as the span of days it may mean.
    struct PartialDate {
        /// The first and last day it may mean, as `YYYY-MM-DD` (the last day of a month is written 31: only the
        /// order matters).
        var first: String
        var last: String
        var text: String

        init?(_ text: String) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            let lengths = [4, 2, 2]
            guard (1...3).contains(parts.count),
                zip(parts, lengths).allSatisfy({ $0.count == $1 && $0.allSatisfy { $0.isASCII && $0.isNumber } })
            else { return nil }
            if parts.count > 1, !(1...12).contains(Int(parts[1]) ?? 0) { return nil }
            if parts.count > 2, !(1...31).contains(Int(parts[2]) ?? 0) { return nil }
            self.text = text
            first = text + String(["-01-01", "-01", ""][parts.count - 1])
            last = text + String(["-12-31", "-31", ""][parts.count - 1])
        }

        /// Whether every day this date may mean lies within `other`.
        func isWithin(_ other: PartialDate) -> Bool { first >= other.first && last <= other.last }
    }
}

extension RecordService {
    /// The short id of a record (``ShortIds``) among every record id of the store.
    public func shortId(_ recordId: String) throws -> String {
        ShortIds.compute(try store.recordIds())[recordId] ?? recordId
    }

    /// The record's case reference (`provenance.reference` of its last content, ``AmanatStore/Store/lastContent(record:)``),
    /// or nil when it has none or was erased. Untrusted text.
    public func caseReference(_ recordId: String) throws -> String? {
        guard try view(recordId).isErased == false else { return nil }
        return try store.lastContent(record: recordId)?["provenance"]?["reference"]?.stringValue
    }
}
