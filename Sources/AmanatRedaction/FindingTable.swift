import Foundation

/// One finding in compact form: offsets, kind, confidence and where its value sits in the block's value bytes.
@usableFromInline
struct CompactFinding {
    @usableFromInline var start: Int
    @usableFromInline var end: Int
    @usableFromInline var valueOffset: Int
    @usableFromInline var valueLength: UInt32
    @usableFromInline var kind: IdentifierKind
    @usableFromInline var confidence: Confidence

    @inlinable @inline(__always) var range: Range<Int> { start..<end }
}

/// Growable storage for compact findings and their value bytes (no `String` per finding, no reference counting
/// in the scan loop). One store per scanned block, filled by one thread.
@usableFromInline
final class FindingStore: @unchecked Sendable {
    @usableFromInline private(set) var records: UnsafeMutablePointer<CompactFinding>
    @usableFromInline private(set) var count = 0
    private var capacity: Int
    @usableFromInline private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var byteCount = 0
    private var byteCapacity: Int

    /// Creates a store sized for about `expected` findings (untouched capacity costs no memory).
    init(expected: Int = 16) {
        capacity = max(16, expected)
        byteCapacity = capacity * 24
        records = FindingStore.allocate(capacity * MemoryLayout<CompactFinding>.stride).assumingMemoryBound(
            to: CompactFinding.self)
        bytes = FindingStore.allocate(byteCapacity).assumingMemoryBound(to: UInt8.self)
    }

    deinit {
        free(records)
        free(bytes)
    }

    private static func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        guard let pointer = malloc(size) else { fatalError("out of memory (\(size) bytes)") }
        return pointer
    }

    private static func grow(_ pointer: UnsafeMutableRawPointer, _ size: Int) -> UnsafeMutableRawPointer {
        guard let grown = realloc(pointer, size) else { fatalError("out of memory (\(size) bytes)") }
        return grown
    }

    /// Reserves `length` value bytes and returns where to write them (valid until the next call).
    @inline(__always)
    func reserveValue(_ length: Int) -> UnsafeMutablePointer<UInt8> {
        if byteCount + length > byteCapacity {
            byteCapacity = max(byteCapacity * 2, byteCount + length)
            bytes = FindingStore.grow(bytes, byteCapacity).assumingMemoryBound(to: UInt8.self)
        }
        return bytes + byteCount
    }

    /// Adds a finding whose `valueLength` value bytes were just written at ``reserveValue(_:)``.
    @inline(__always)
    func commit(_ kind: IdentifierKind, _ start: Int, _ end: Int, _ confidence: Confidence, valueLength: Int) {
        if count == capacity {
            capacity *= 2
            records = FindingStore.grow(records, capacity * MemoryLayout<CompactFinding>.stride)
                .assumingMemoryBound(to: CompactFinding.self)
        }
        records[count] = CompactFinding(
            start: start, end: end, valueOffset: byteCount, valueLength: UInt32(valueLength), kind: kind,
            confidence: confidence)
        count += 1
        byteCount += valueLength
    }

    /// Adds a finding with its value bytes.
    func append(
        _ kind: IdentifierKind, _ start: Int, _ end: Int, _ confidence: Confidence, value: UnsafePointer<UInt8>,
        length: Int
    ) {
        reserveValue(length).update(from: value, count: length)
        commit(kind, start, end, confidence, valueLength: length)
    }

    /// Adds a finding of another store (copying its value).
    func append(_ record: CompactFinding, from store: FindingStore) {
        append(
            record.kind, record.start, record.end, record.confidence, value: store.bytes + record.valueOffset,
            length: Int(record.valueLength))
    }

    /// Replaces the records (values stay where they are).
    func replaceRecords(_ kept: [CompactFinding]) {
        precondition(kept.count <= capacity)
        kept.withUnsafeBufferPointer { records.update(from: $0.baseAddress!, count: kept.count) }
        count = kept.count
    }

    var buffer: UnsafeBufferPointer<CompactFinding> { UnsafeBufferPointer(start: records, count: count) }

    /// Whether the records are sorted by strictly increasing start and do not overlap.
    var isOrderedAndDisjoint: Bool {
        var k = 1
        while k < count {
            if records[k - 1].start >= records[k].start || records[k - 1].end > records[k].start { return false }
            k += 1
        }
        return true
    }

    /// Sorts the records and drops those overlapping one of higher priority (e-mail over a phone inside it, …).
    func resolveOverlaps() {
        if isOrderedAndDisjoint { return }
        let kept = FindingStore.resolve(Array(buffer))
        replaceRecords(kept)
    }

    /// The overlap resolution of ``Detector`` on compact records.
    static func resolve(_ findings: [CompactFinding]) -> [CompactFinding] {
        var inOrder = true
        for k in findings.indices.dropFirst() where findings[k - 1].start >= findings[k].start {
            inOrder = false
            break
        }
        let sorted =
            inOrder
            ? findings
            : findings.sorted { $0.start != $1.start ? $0.start < $1.start : $0.kind.priority > $1.kind.priority }
        var kept: [CompactFinding] = []
        kept.reserveCapacity(sorted.count)
        for finding in sorted {
            var dominated = false
            while let last = kept.last, last.range.overlaps(finding.range) {
                if last.kind.priority >= finding.kind.priority {
                    dominated = true
                    break
                }
                kept.removeLast()
            }
            if !dominated { kept.append(finding) }
        }
        return kept
    }

    func finding(_ index: Int) -> Finding {
        let record = records[index]
        let value = String(
            decoding: UnsafeBufferPointer(start: bytes + record.valueOffset, count: Int(record.valueLength)),
            as: UTF8.self)
        return Finding(kind: record.kind, range: record.range, value: value, confidence: record.confidence)
    }
}

/// A run of findings in compact form (sorted by start, never overlapping), for callers that handle very many
/// findings: no `String` is made per finding. Values are read with ``withValue(_:_:)``.
public struct FindingBlock: Sendable {
    @usableFromInline let store: FindingStore

    init(store: FindingStore) { self.store = store }

    /// The number of findings.
    public var count: Int { store.count }

    /// The kind of finding `index`.
    @inline(__always) public func kind(_ index: Int) -> IdentifierKind { store.records[index].kind }

    /// The byte range of finding `index` in the original input.
    @inline(__always) public func range(_ index: Int) -> Range<Int> { store.records[index].range }

    /// The confidence of finding `index`.
    @inline(__always) public func confidence(_ index: Int) -> Confidence { store.records[index].confidence }

    /// Calls `body` with the normalized value (UTF-8) of finding `index`; see ``Finding/value``.
    /// - Important: The value is the identifier itself. Never log it or put it in an error message.
    @inline(__always)
    public func withValue<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let record = store.records[index]
        return try body(UnsafeBufferPointer(start: store.bytes + record.valueOffset, count: Int(record.valueLength)))
    }

    /// Finding `index` as a ``Finding``.
    public func finding(_ index: Int) -> Finding { store.finding(index) }

    /// Calls `body` with the kind, range, confidence and value (UTF-8) of each finding in `indices`, in order.
    /// - Important: Values are the identifiers themselves. Never log them or put them in an error message.
    @inlinable
    public func forEach(
        in indices: Range<Int>,
        _ body: (IdentifierKind, Range<Int>, Confidence, UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        precondition(indices.lowerBound >= 0 && indices.upperBound <= store.count)
        let records = store.records
        let bytes = store.bytes
        for index in indices {
            let record = records[index]
            try body(
                record.kind, record.range, record.confidence,
                UnsafeBufferPointer(start: bytes + record.valueOffset, count: Int(record.valueLength)))
        }
        withExtendedLifetime(store) {}
    }
}

/// All findings of one input in compact form: blocks in input order, findings sorted by start across blocks and
/// never overlapping. ``findings`` gives the same array as ``Detector/scan(_:)-(UnsafeRawBufferPointer)``.
public struct FindingTable: Sendable {
    /// The blocks, in order.
    public let blocks: [FindingBlock]

    init(blocks: [FindingBlock]) { self.blocks = blocks }

    /// Stores `findings` (kept in the order given).
    public init(_ findings: [Finding]) {
        let store = FindingStore(expected: findings.count)
        for finding in findings {
            var value = finding.value
            let length = value.utf8.count
            value.withUTF8 { utf8 in
                let target = store.reserveValue(utf8.count)
                if let base = utf8.baseAddress { target.update(from: base, count: utf8.count) }
            }
            store.commit(
                finding.kind, finding.range.lowerBound, finding.range.upperBound, finding.confidence,
                valueLength: length)
        }
        blocks = [FindingBlock(store: store)]
    }

    /// The number of findings.
    public var count: Int { blocks.reduce(0) { $0 + $1.count } }

    /// Whether nothing was found.
    public var isEmpty: Bool { blocks.allSatisfy { $0.count == 0 } }

    /// The findings as values (one `String` each).
    public var findings: [Finding] {
        var all: [Finding] = []
        all.reserveCapacity(count)
        for block in blocks {
            for index in 0..<block.count { all.append(block.finding(index)) }
        }
        return all
    }
}
