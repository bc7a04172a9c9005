import AmanatRecords
import Foundation

/// What a front end renders each listing entry into (``RecordService/listing(filters:skip:limit:render:_:)``): a
/// JSON line as bytes, a row of table cells (``ListingCells``), or the entry itself. A large listing keeps its
/// sorted runs on disk, so a rendered line must go to bytes and come back.
public protocol ListingLine: Sendable {
    /// The line as bytes, for a sorted run on disk.
    var listingBytes: [UInt8] { get }
    /// The line read back from its ``listingBytes``.
    /// - Throws: ``AmanatError`` `ioError` for bytes that are not such a line.
    init(listingBytes: [UInt8]) throws
}

/// Bytes are their own form (a JSON line).
extension Array: ListingLine where Element == UInt8 {
    public var listingBytes: [UInt8] { self }
    public init(listingBytes: [UInt8]) { self = listingBytes }
}

/// A table row of texts.
public struct ListingCells: ListingLine, Equatable {
    public var cells: [String]

    public init(_ cells: [String]) { self.cells = cells }

    public var listingBytes: [UInt8] {
        var out: [UInt8] = []
        for cell in cells { ListingBytes.append(cell, to: &out) }
        return out
    }

    public init(listingBytes: [UInt8]) throws {
        var reader = ListingBytes.Reader(listingBytes)
        var cells: [String] = []
        while !reader.isAtEnd { cells.append(try reader.text()) }
        self.cells = cells
    }
}

extension RecordListing.Entry: ListingLine {
    public var listingBytes: [UInt8] { RecordListing.encode(self) }
    public init(listingBytes: [UInt8]) throws { self = try RecordListing.decode(listingBytes) }
}

/// The byte forms of listing lines and sorted runs: a text as a 4-byte big-endian length (0xFFFFFFFF for none) and
/// its UTF-8, a number as 8 bytes.
enum ListingBytes {
    static func append(_ value: String?, to out: inout [UInt8]) {
        guard var value else {
            out.append(contentsOf: [0xff, 0xff, 0xff, 0xff])
            return
        }
        value.withUTF8 { utf8 in
            let count = utf8.count
            out.append(UInt8(count >> 24 & 0xff))
            out.append(UInt8(count >> 16 & 0xff))
            out.append(UInt8(count >> 8 & 0xff))
            out.append(UInt8(count & 0xff))
            out.append(contentsOf: utf8)
        }
    }

    static func append(_ value: Int, to out: inout [UInt8]) {
        let bits = UInt64(bitPattern: Int64(value))
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }

    /// Reads what ``append(_:to:)`` wrote, in order.
    struct Reader {
        let bytes: [UInt8]
        var at = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { at == bytes.count }

        func damaged() -> AmanatError {
            AmanatError(.ioError, "a listing entry read back from its temporary file is damaged.")
        }

        mutating func number() throws -> Int {
            guard bytes.count - at >= 8 else { throw damaged() }
            var bits: UInt64 = 0
            for byte in bytes[at..<(at + 8)] { bits = bits << 8 | UInt64(byte) }
            at += 8
            return Int(Int64(bitPattern: bits))
        }

        mutating func optionalText() throws -> String? {
            guard bytes.count - at >= 4 else { throw damaged() }
            let raw = bytes[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            at += 4
            if raw == 0xffff_ffff { return nil }
            let count = Int(raw)
            guard bytes.count - at >= count else { throw damaged() }
            defer { at += count }
            return String(decoding: bytes[at..<(at + count)], as: UTF8.self)
        }

        mutating func text() throws -> String {
            guard let value = try optionalText() else { throw damaged() }
            return value
        }

        mutating func texts() throws -> [String] {
            let count = try number()
            guard count >= 0, count <= bytes.count else { throw damaged() }
            return try (0..<count).map { _ in try text() }
        }

        /// What is left.
        mutating func rest() -> [UInt8] {
            defer { at = bytes.count }
            return Array(bytes[at...])
        }
    }
}

/// A rendered listing line (as bytes, ``ListingLine/listingBytes``) with what it is sorted by
/// (``RecordListing/sorted(_:)``'s order: date, then id). Not generic, so that sorting and merging a million of them
/// runs specialized code whatever the front end renders.
struct SortedLine: Sendable {
    var date: String?
    var id: String
    var line: [UInt8]
    /// The first 16 bytes of the line's sort key, when its date and id are ASCII without NUL (``sortPrefix``).
    let prefix: (UInt64, UInt64)?

    /// Whether `a` comes before `b`: by their prefixes when both have one and they differ (integers, no string to
    /// look at), otherwise by date and id as ``RecordListing/precedes(_:_:)`` compares them.
    static func precedes(_ a: SortedLine, _ b: SortedLine) -> Bool {
        if let p = a.prefix, let q = b.prefix, p != q { return p < q }
        return RecordListing.precedes((a.date, a.id), (b.date, b.id))
    }

    /// The first 16 bytes (two big-endian integers, zero-padded) of a byte key whose order is the listing's:
    /// `00 date 00 id` with a date, `01 id` without. For ASCII without NUL, String order is byte order, a shorter
    /// date (a prefix of a longer) ends with the 00 that sorts before any byte after it, and records without a date
    /// come last; so where two prefixes differ they order the lines as their dates and ids do, and where they are
    /// equal the dates and ids decide. Nil when a date or an id holds anything else (such lines always compare by
    /// their texts).
    static func sortPrefix(date: String?, id: String) -> (UInt64, UInt64)? {
        var key: (UInt64, UInt64) = (0, 0)
        var count = 0
        func put(_ byte: UInt8) {
            if count < 8 {
                key.0 |= UInt64(byte) << UInt64(56 - 8 * count)
            } else if count < 16 {
                key.1 |= UInt64(byte) << UInt64(56 - 8 * (count - 8))
            }
            count += 1
        }
        if let date {
            put(0)
            for byte in date.utf8 {
                guard byte != 0, byte < 0x80 else { return nil }
                put(byte)
            }
            put(0)
        } else {
            put(1)
        }
        for byte in id.utf8 {
            guard byte != 0, byte < 0x80 else { return nil }
            put(byte)
        }
        return key
    }

    /// The order of `lines` (indices into it), sorted by ``precedes(_:_:)``: integer prefixes and indices are sorted,
    /// so the lines themselves (strings and arrays, reference-counted) are neither moved nor copied.
    static func sortedOrder(_ lines: [SortedLine]) -> [Int] {
        var keys: [(prefix: (UInt64, UInt64), index: Int32, fast: Bool)] = []
        keys.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() { keys.append((line.prefix ?? (0, 0), Int32(i), line.prefix != nil)) }
        keys.sort { a, b in
            if a.fast, b.fast, a.prefix != b.prefix { return a.prefix < b.prefix }
            return precedes(lines[Int(a.index)], lines[Int(b.index)])
        }
        return keys.map { Int($0.index) }
    }

    /// The line as a sorted run on disk holds it: date, id, then the rendered bytes.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count + 64)
        ListingBytes.append(date, to: &out)
        ListingBytes.append(id, to: &out)
        out.append(contentsOf: line)
        return out
    }

    init(date: String?, id: String, line: [UInt8]) {
        (self.date, self.id, self.line) = (date, id, line)
        prefix = Self.sortPrefix(date: date, id: id)
    }

    init(bytes: [UInt8]) throws {
        var reader = ListingBytes.Reader(bytes)
        let date = try reader.optionalText()
        let id = try reader.text()
        self.init(date: date, id: id, line: reader.rest())
    }
}

/// The external sort of a large listing (``RecordService/listing(filters:skip:limit:render:_:)``): lines, already
/// rendered, are sorted in memory `run` at a time, each full run is written to a ``Spool``, and the runs are merged.
final class ListingSorter {
    typealias Line = SortedLine
    private let folder: URL
    private let run: Int
    private var buffer: [Line] = []
    private var staging: StagingDirectory?
    private var runs: [Spool] = []

    init(folder: URL, run: Int) {
        self.folder = folder
        self.run = max(2, run)
    }

    func add(_ line: Line) throws {
        buffer.append(line)
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
            let lines = handed.take()
            for i in Line.sortedOrder(lines) { try spool.append(lines[i].bytes) }
            return spool
        }
    }

    deinit { writing?.wait() }

    /// Hands every line out in order until `body` returns false.
    func finish(_ body: ([UInt8]) throws -> Bool) throws {
        if runs.isEmpty && writing == nil {
            for i in Line.sortedOrder(buffer) where try !body(buffer[i].line) { break }
            buffer = []
            return
        }
        if !buffer.isEmpty { try spill() }
        if let writing { runs.append(try writing.get()) }
        writing = nil
        buffer = []
        // A k-way merge: a heap of each run's next line. Runs hold disjoint ids and lines compare by date then id, so
        // no two lines tie.
        var cursors: [RunReader] = []
        // However the merge ends, no batch is still being read when it returns (the runs' files go next).
        defer { for cursor in cursors { cursor.finish() } }
        for run in runs { cursors.append(RunReader(try run.read())) }
        var heap = Heap<(line: Line, run: Int)>(less: { Line.precedes($0.line, $1.line) })
        for (i, cursor) in cursors.enumerated() {
            if let line = try cursor.next() { heap.push((line, i)) }
        }
        while let (line, run) = heap.top {
            guard try body(line.line) else { break }
            if let next = try cursors[run].next() {
                heap.replaceTop((next, run))
            } else {
                heap.popTop()
            }
        }
    }
}

/// The first `keep` entries of a listing in its order (a page with `--limit`, when it is shorter than a run): they
/// wait unrendered in a heap whose top is the last of them, so an entry after it costs one comparison, and only the
/// page is rendered (a page of a million records sorted 50,000 entries at a time to keep 50 spent two to three
/// seconds sorting; rendering every entry would spend as long again).
struct ListingPage {
    let keep: Int
    private var kept = Heap<RecordListing.Entry>(less: { ListingPage.precedes($1, $0) })

    init(keep: Int) { self.keep = keep }

    static func precedes(_ a: RecordListing.Entry, _ b: RecordListing.Entry) -> Bool {
        RecordListing.precedes((a.date, a.id), (b.date, b.id))
    }

    mutating func add(_ entry: RecordListing.Entry) {
        if kept.count < keep {
            kept.push(entry)
        } else if let last = kept.top, Self.precedes(entry, last) {
            kept.replaceTop(entry)
        }
    }

    /// The kept entries in order.
    var sorted: [RecordListing.Entry] { kept.items.sorted(by: Self.precedes) }
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

/// A run's lines handed to the thread that sorts and writes them, which takes them out (so that the array has one
/// owner).
private final class Handed<Element>: @unchecked Sendable {
    private var items: [Element]
    init(_ items: [Element]) { self.items = items }
    /// Called once, by the one thread the run was handed to.
    func take() -> [Element] {
        defer { items = [] }
        return items
    }
}

/// A sorted run's lines for the merge, read and decoded a batch ahead on another thread (the merge itself, on the
/// caller's thread, only compares).
private final class RunReader: @unchecked Sendable {
    /// Used by one batch's work at a time, on whichever thread runs it.
    private let cursor: Spool.Cursor
    private var batch: [SortedLine] = []
    private var position = 0
    private var ahead: Ahead<[SortedLine]>?

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

    private func readBatch() -> Ahead<[SortedLine]> {
        Ahead { [self] in
            var lines: [SortedLine] = []
            lines.reserveCapacity(1024)
            while lines.count < 1024, let bytes = try cursor.next() { lines.append(try SortedLine(bytes: bytes)) }
            return lines
        }
    }

    func next() throws -> SortedLine? {
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
