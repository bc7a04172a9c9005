import Dispatch
import Foundation

/// Finds personal identifiers in UTF-8 text (see `REDACTION.md`): Chinese resident IDs (18 and 15 digits),
/// Kazakh IINs, Chinese and Kazakh passports near a context word, Chinese mobile and Kazakh phones, e-mail
/// addresses, WeChat IDs after 微信/WeChat, and dates of birth near a birth word.
///
/// The detector works on bytes in one pass, folding every code point on the fly (see ``Normalization``: digits of
/// every script, Chinese numerals, `X` and letter variants, separators of every kind), so offsets always refer to
/// the original input. Numbers may be split by one or two separators (spaces, dashes, dots, slashes, line breaks)
/// between digit groups, and default-ignorable and format characters are skipped inside them (never at their
/// edges); no digit may touch a match; word boundaries are never required (CJK text has none). The rules are in
/// `Specs/redaction.md`. Inputs of at least
/// ``parallelThreshold`` bytes are split into overlapping blocks scanned on all cores; results are identical
/// to a sequential scan.
public struct Detector: Sendable {
    /// Inputs at least this long are scanned in parallel blocks.
    public var parallelThreshold: Int
    /// The number of threads used for big inputs (defaults to the number of active processors).
    public var threadCount: Int

    /// Creates a detector.
    public init(parallelThreshold: Int = 1 << 20, threadCount: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.parallelThreshold = parallelThreshold
        self.threadCount = max(1, threadCount)
    }

    /// How far before a candidate the scan may read, and a finding may start: the bound the parallel scan relies
    /// on to hand out blocks of findings before the blocks after them are scanned.
    static let overlap = 1024

    /// Scans UTF-8 bytes. Findings are sorted by start offset and never overlap.
    public func scan(_ bytes: some Collection<UInt8>) -> [Finding] {
        if let result = bytes.withContiguousStorageIfAvailable({ scan(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { scan($0) }
    }

    /// Scans the UTF-8 encoding of `text`.
    public func scan(_ text: String) -> [Finding] {
        var copy = text
        return copy.withUTF8 { scan(UnsafeRawBufferPointer($0)) }
    }

    /// Scans a raw buffer (for example a memory-mapped file).
    public func scan(_ buffer: UnsafeRawBufferPointer) -> [Finding] {
        scanTable(buffer).findings
    }

    /// Scans a raw buffer and keeps the findings in compact form (no `String` per finding): the fast path for
    /// inputs with very many findings. `scanTable(buffer).findings == scan(buffer)`.
    public func scanTable(_ buffer: UnsafeRawBufferPointer) -> FindingTable {
        guard let plan = BlockPlan(buffer, self) else {
            guard let base = buffer.baseAddress, buffer.count > 0 else {
                return FindingTable(blocks: [FindingBlock(store: FindingStore())])
            }
            return FindingTable(blocks: [
                FindingBlock(store: scanSequentialStore(base.assumingMemoryBound(to: UInt8.self), buffer.count))
            ])
        }
        let stream = BlockStream(plan)
        DispatchQueue.concurrentPerform(iterations: plan.blocks) { block in
            stream.store(plan.scan(block), at: block)
        }
        var blocks: [FindingBlock] = []
        while let (block, _) = stream.next() { blocks.append(block) }
        return FindingTable(blocks: blocks)
    }

    /// Scans a raw buffer like ``scanTable(_:)`` and hands the blocks of findings to `body` on the calling thread,
    /// in order, as soon as each is final, while later blocks are still being scanned on other threads (so the
    /// caller can write results out during the scan). The blocks together are ``scanTable(_:)``'s blocks.
    /// `body` also gets an offset below which the scan no longer reads the buffer (the caller may release those
    /// bytes); the rest of the buffer must stay valid until this returns.
    /// - Throws: whatever `body` throws (the scan is stopped and awaited first).
    public func scanTable(
        _ buffer: UnsafeRawBufferPointer, streaming body: (_ block: FindingBlock, _ doneBelow: Int) throws -> Void
    ) throws {
        guard let plan = BlockPlan(buffer, self) else {
            for block in scanTable(buffer).blocks { try body(block, 0) }
            return
        }
        let stream = BlockStream(plan)
        let scanned = DispatchSemaphore(value: 0)
        // A thread of its own drives the scan (it takes blocks itself, so it never waits for a free worker).
        let driver = Thread {
            DispatchQueue.concurrentPerform(iterations: plan.blocks) { block in
                stream.store(stream.isCancelled ? plan.skipped(block) : plan.scan(block), at: block)
            }
            scanned.signal()
        }
        driver.start()
        defer { scanned.wait() }
        do {
            while let (block, end) = stream.next() {
                // Blocks after `end` are read from `end` on, and looked back from at most `overlap` before.
                try body(block, max(0, min(end, plan.count) - 2 * Detector.overlap))
            }
        } catch {
            stream.cancel()
            throw error
        }
    }

    /// Scans on the calling thread only (the reference for the parallel scan).
    public func scanSequential(_ buffer: UnsafeRawBufferPointer) -> [Finding] {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
        return FindingTable(blocks: [
            FindingBlock(store: scanSequentialStore(base.assumingMemoryBound(to: UInt8.self), buffer.count))
        ]).findings
    }

    func scanSequentialStore(_ p: UnsafePointer<UInt8>, _ n: Int) -> FindingStore {
        let worker = ScanWorker(p, n, expected: n >> 8)
        _ = worker.run(from: 0, stopAt: n)
        worker.store.resolveOverlaps()
        return worker.store
    }
}

/// How a big input is cut into blocks scanned in parallel, and how the blocks are made to agree with a sequential
/// scan.
///
/// The sequential scan is a walk through the input: from a position it finds the next candidate, handles it (what
/// it finds and where it continues depend on that position and the input only) and goes on from where the handling
/// ended. Each block is first scanned *speculatively* from its own start, and the candidates it handled are
/// recorded. Then, block after block, the walk of the sequential scan is followed: it enters the block where the
/// previous block left it; as soon as it reaches a candidate the speculative scan also handled, the two walks are
/// the same from there on and the speculative findings are taken; until then (glued numbers whose chains are cut
/// at other places, say) the candidates are handled again from the sequential walk's positions. A block's
/// findings are those of the candidates that start in it, so the blocks together hold exactly the findings of a
/// sequential scan, whatever the input.
private struct BlockPlan: @unchecked Sendable {
    let pointer: UnsafePointer<UInt8>
    let count: Int
    let blockSize: Int
    let blocks: Int

    /// nil when the input is scanned on the calling thread alone.
    init?(_ buffer: UnsafeRawBufferPointer, _ detector: Detector) {
        guard let base = buffer.baseAddress, buffer.count >= detector.parallelThreshold, detector.threadCount > 1
        else { return nil }
        pointer = base.assumingMemoryBound(to: UInt8.self)
        count = buffer.count
        // Enough blocks that the load stays balanced and each block's findings are a few MB at most.
        let blockCount = max(detector.threadCount * 4, min(256, count >> 22))
        blockSize = max((count + blockCount - 1) / blockCount, Detector.overlap * 4)
        blocks = (count + blockSize - 1) / blockSize
    }

    func range(_ block: Int) -> Range<Int> { (block * blockSize)..<min(count, (block + 1) * blockSize) }

    /// A stand-in for the scan of a block after the scan was cancelled.
    func skipped(_ block: Int) -> SpeculativeScan {
        let end = range(block).upperBound
        return SpeculativeScan(worker: ScanWorker(pointer, count, expected: 0), start: end, exit: end)
    }

    /// The speculative scan of block `block`: from the first clean position at or after its start, every candidate
    /// before its end (overlaps not yet resolved).
    func scan(_ block: Int) -> SpeculativeScan {
        let range = range(block)
        let worker = ScanWorker(pointer, count, expected: range.count >> 8)
        let start = block == 0 ? 0 : worker.cleanStart(range.lowerBound)
        worker.startRecording()
        let exit = worker.run(from: start, stopAt: range.upperBound)
        return SpeculativeScan(worker: worker, start: start, exit: exit)
    }

    /// The findings of the candidates in block `block` that the sequential scan handles, when it enters the block
    /// at `entry`; and where it leaves the block.
    func stitch(_ speculative: SpeculativeScan, block: Int, entry: Int) -> (FindingStore, exit: Int) {
        let worker = speculative.worker
        let store = worker.store
        let handled = worker.handledCount
        // No candidate lies between the speculative start and its first handled candidate (or its exit).
        let first = handled > 0 ? worker.handledAt[0] : speculative.exit
        if entry >= speculative.start && entry <= first {
            return handled > 0 ? (store, speculative.exit) : (store, max(entry, speculative.exit))
        }
        let fixer = ScanWorker(pointer, count, expected: 16)
        let (exit, converged) = fixer.run(
            from: entry, stopAt: range(block).upperBound,
            convergingWith: UnsafeBufferPointer(start: worker.handledAt, count: handled))
        guard let converged else { return (fixer.store, exit) }
        let from = worker.handledFindings[converged]
        if fixer.store.count == 0 && from == 0 { return (store, speculative.exit) }
        let joined = fixer.store
        for index in from..<store.count { joined.append(store.records[index], from: store) }
        return (joined, speculative.exit)
    }
}

/// A block scanned from its own start: the worker (its findings and the candidates it handled), where it
/// started and where it stopped.
private struct SpeculativeScan: @unchecked Sendable {
    let worker: ScanWorker
    let start: Int
    let exit: Int
}

/// Collects the speculative scans of the blocks (stored from any thread, in any order), stitches them in order
/// into the findings of a sequential scan (see ``BlockPlan``) and hands out final blocks in order. When every raw
/// finding of a block and of the blocks after it starts at or after the end of every raw finding before it,
/// the blocks before it are final: resolving overlaps in each alone gives what resolving them all together gives.
/// Otherwise blocks are joined into one and resolved together. A finding starts at most ``Detector/overlap``
/// bytes before its candidate, so the blocks after the current one are bounded without waiting for them.
private final class BlockStream: @unchecked Sendable {
    private let plan: BlockPlan
    private var slots: [SpeculativeScan?]
    private let condition = NSCondition()
    /// Whether a thread is stitching; the next block to stitch and where the sequential scan enters it.
    private var stitching = false
    private var stitched = 0
    private var entry = 0
    /// Stitched blocks not final yet (`frontier..<stitched`), and how far their raw findings and those before reach.
    private var pending: [FindingStore] = []
    private var frontier = 0
    private var reach = Int.min
    /// Final blocks with the end of the input range they cover.
    private var ready: [(FindingBlock, Int)] = []
    private var readyHead = 0
    private var cancelled = false

    init(_ plan: BlockPlan) {
        self.plan = plan
        slots = Array(repeating: nil, count: plan.blocks)
    }

    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.unlock()
    }

    func store(_ scan: SpeculativeScan, at index: Int) {
        condition.lock()
        slots[index] = scan
        // One thread stitches at a time, outside the lock; the others leave their scans for it.
        guard !stitching else {
            condition.unlock()
            return
        }
        stitching = true
        while stitched < slots.count, let next = slots[stitched] {
            slots[stitched] = nil
            let block = stitched
            let entry = self.entry
            let skip = cancelled
            condition.unlock()
            let (store, exit) = skip ? (FindingStore(), entry) : plan.stitch(next, block: block, entry: entry)
            condition.lock()
            self.entry = exit
            stitched += 1
            add(store, block: block)
            condition.broadcast()
        }
        stitching = false
        condition.unlock()
    }

    /// Adds the stitched raw findings of `block`, finalizing the blocks before it when they can no longer change.
    private func add(_ store: FindingStore, block: Int) {
        let records = store.buffer
        let minStart = records.min(by: { $0.start < $1.start })?.start ?? Int.max
        let later = (block + 1) * plan.blockSize - Detector.overlap
        if block > frontier && (reach == Int.min || (minStart >= reach && later >= reach)) {
            finalize(frontier..<block)
        }
        pending.append(store)
        if let last = records.max(by: { $0.end < $1.end }) { reach = max(reach, last.end) }
        if block == slots.count - 1 { finalize(frontier..<slots.count) }
    }

    /// Resolves the pending blocks in `range` (joined when more than one) and queues them.
    private func finalize(_ range: Range<Int>) {
        let stores = Array(pending.prefix(range.count))
        pending.removeFirst(range.count)
        if stores.count == 1 {
            stores[0].resolveOverlaps()
            ready.append((FindingBlock(store: stores[0]), range.upperBound * plan.blockSize))
        } else {
            let joined = FindingStore(expected: stores.reduce(0) { $0 + $1.count })
            for store in stores {
                for record in store.buffer { joined.append(record, from: store) }
            }
            joined.resolveOverlaps()
            ready.append((FindingBlock(store: joined), range.upperBound * plan.blockSize))
        }
        frontier = range.upperBound
    }

    /// The next final block and the end of the input it covers, waiting for it if needed; nil after the last.
    func next() -> (FindingBlock, Int)? {
        condition.lock()
        defer { condition.unlock() }
        while readyHead == ready.count && frontier < slots.count { condition.wait() }
        guard readyHead < ready.count else { return nil }
        let block = ready[readyHead]
        readyHead += 1
        return block
    }
}

/// One thread's scanner with its scratch buffers.
final class ScanWorker {
    let p: UnsafePointer<UInt8>
    let n: Int
    let store: FindingStore

    static let maxGroups = 48
    static let maxGroupDigits = 20
    // Per group: start and end byte offsets, digit count, end after a trailing X (or -1).
    let groupStart: UnsafeMutablePointer<Int>
    let groupEnd: UnsafeMutablePointer<Int>
    let groupCount: UnsafeMutablePointer<Int>
    let groupXEnd: UnsafeMutablePointer<Int>
    let cumulative: UnsafeMutablePointer<Int>
    let digits: UnsafeMutablePointer<UInt8>
    let candidate: UnsafeMutablePointer<UInt8>
    /// Room for one value being put together (a phone number, a passport number, a converted ID).
    let scratch: UnsafeMutablePointer<UInt8>
    var groups = 0
    /// The candidates handled and the number of findings stored before each (speculative block scans only).
    var handledAt: UnsafeMutablePointer<Int>
    var handledFindings: UnsafeMutablePointer<Int>
    var handledCount = 0
    var recordLimit = 0
    static let recordCapacity = 4096
    /// At most this many bytes of ignorable code points are skipped when looking back from a number (for a `+` or
    /// passport letters), so that nothing is read, and no finding starts, far before its candidate.
    static let maxIgnorableLookback = 128
    /// The folding table (see ``Normalization``), held here so the hot path does not ask for it again.
    let table = Normalization.table
    /// Lead bytes at or above this start a candidate (0xC2 when a digit exists that the fixed trigger would miss).
    let leadThreshold = Normalization.leadThreshold

    init(_ p: UnsafePointer<UInt8>, _ n: Int, expected: Int) {
        self.p = p
        self.n = n
        store = FindingStore(expected: expected)
        groupStart = .allocate(capacity: ScanWorker.maxGroups)
        groupEnd = .allocate(capacity: ScanWorker.maxGroups)
        groupCount = .allocate(capacity: ScanWorker.maxGroups)
        groupXEnd = .allocate(capacity: ScanWorker.maxGroups)
        cumulative = .allocate(capacity: ScanWorker.maxGroups)
        digits = .allocate(capacity: ScanWorker.maxGroups * ScanWorker.maxGroupDigits)
        candidate = .allocate(capacity: 64)
        scratch = .allocate(capacity: 64)
        handledAt = .allocate(capacity: 0)
        handledFindings = .allocate(capacity: 0)
    }

    deinit {
        groupStart.deallocate()
        groupEnd.deallocate()
        groupCount.deallocate()
        groupXEnd.deallocate()
        cumulative.deallocate()
        digits.deallocate()
        candidate.deallocate()
        scratch.deallocate()
        handledAt.deallocate()
        handledFindings.deallocate()
    }

    /// The class of the code point at `i` (Chinese numerals as `Normalization.hanZero + value`) and its length.
    @inline(__always) func classify(_ i: Int) -> (code: UInt8, length: Int) {
        Normalization.classify(p, i, n, table)
    }

    /// The folded character at `i` (see ``Normalization``) and the length of its code point.
    @inline(__always) func fold(_ i: Int) -> (char: UInt8, length: Int) {
        let (code, length) = classify(i)
        return (code >= Normalization.hanZero ? code &- (Normalization.hanZero &- 0x30) : code, length)
    }

    /// ``fold(_:)`` with printable ASCII (but `x`) answered without a call: the common case in digit runs.
    @inline(__always) func foldFast(_ i: Int) -> (char: UInt8, length: Int) {
        let b = p[i]
        if b >= 0x20 && b < 0x80 && b != 0x78 { return (b, 1) }
        return fold(i)
    }

    /// The first position at or after `k` that does not hold an ignorable code point.
    @inline(__always) func skipIgnorables(_ k: Int) -> Int {
        var k = k
        while k < n && p[k] >= 0x80 {
            let (c, l) = classify(k)
            guard c == Normalization.ignorable else { break }
            k += l
        }
        return k
    }

    /// Where the code point that ends at `k` (> 0) starts (a broken sequence: its last byte).
    @inline(__always) func codePointStart(before k: Int) -> Int {
        guard p[k - 1] >= 0x80 else { return k - 1 }
        var s = k - 1
        while s > 0 && k - s < 4 && (p[s] & 0xC0) == 0x80 { s -= 1 }
        return classify(s).length == k - s ? s : k - 1
    }

    /// The folded character before `k` that is not ignorable, and where its code point starts; nil if none (or if
    /// more than ``maxIgnorableLookback`` bytes of ignorable code points come first).
    func previousFolded(_ k: Int) -> (char: UInt8, start: Int)? {
        var k = k
        let floor = max(0, k - ScanWorker.maxIgnorableLookback)
        while k > floor {
            let s = codePointStart(before: k)
            let c = fold(s).char
            if c != Normalization.ignorable { return (c, s) }
            k = s
        }
        return nil
    }

    @inline(__always) func isASCIIAlnum(_ b: UInt8) -> Bool {
        (b &- 0x30 < 10) || ((b | 0x20) &- 0x61 < 26)
    }

    /// Records a finding whose value is `length` bytes at `value`.
    @inline(__always)
    func emit(
        _ kind: IdentifierKind, _ range: Range<Int>, _ value: UnsafePointer<UInt8>, _ length: Int,
        _ confidence: Confidence = .valid
    ) {
        store.append(kind, range.lowerBound, range.upperBound, confidence, value: value, length: length)
    }

    /// Records a finding whose value is written by `write` into at most `maxLength` bytes (returns the length).
    @inline(__always)
    func emit(
        _ kind: IdentifierKind, _ range: Range<Int>, maxLength: Int, _ confidence: Confidence = .valid,
        write: (UnsafeMutablePointer<UInt8>) -> Int
    ) {
        let length = write(store.reserveValue(maxLength))
        store.commit(kind, range.lowerBound, range.upperBound, confidence, valueLength: length)
    }

    /// Steps from `i` to a clean place to start a speculative scan: out of a code point and past a digit run that
    /// `i` falls into.
    func cleanStart(_ i: Int) -> Int {
        var i = i
        while i < n && i > 0 && (p[i] & 0xC0) == 0x80 { i += 1 }
        if i > 0 && i < n && previousIsDigit(i) {
            while i < n {
                let (c, l) = fold(i)
                if Normalization.isDigit(c) || c == 0x58 || c == Normalization.ignorable { i += l } else { break }
            }
        }
        return i
    }

    /// Records the candidates this worker handles (at most `capacity`), for a speculative block scan.
    func startRecording(capacity: Int = ScanWorker.recordCapacity) {
        handledAt.deallocate()
        handledFindings.deallocate()
        handledAt = .allocate(capacity: capacity)
        handledFindings = .allocate(capacity: capacity)
        recordLimit = capacity
    }

    /// The main loop: handles every candidate from `from` on that starts before `stopAt`. Returns where it stopped:
    /// a position at or after `stopAt` such that the next candidate at or after it is the next one after the last
    /// candidate handled.
    func run(from: Int, stopAt: Int) -> Int {
        var i = from
        while true {
            let c = nextCandidate(i, stopAt)
            if c >= stopAt { return c }
            if handledCount < recordLimit {
                handledAt[handledCount] = c
                handledFindings[handledCount] = store.count
                handledCount += 1
            }
            i = max(c + 1, handleCandidate(c))
        }
    }

    /// Like ``run(from:stopAt:)``, but stops at the first candidate that is in `handled` (sorted): from there on the
    /// scan would handle the same candidates as the scan that recorded them. Returns where it stopped and the index
    /// of that candidate in `handled`, or nil when it reached `stopAt` first.
    func run(from: Int, stopAt: Int, convergingWith handled: UnsafeBufferPointer<Int>) -> (exit: Int, converged: Int?) {
        var i = from
        var k = 0
        while true {
            let c = nextCandidate(i, stopAt)
            if c >= stopAt { return (c, nil) }
            while k < handled.count && handled[k] < c { k += 1 }
            if k < handled.count && handled[k] == c { return (c, k) }
            i = max(c + 1, handleCandidate(c))
        }
    }

    /// The first candidate at or after `from`, or a position at or after `stopAt` with no candidate between `from`
    /// and it. A candidate is an ASCII digit, an `@`, the start of a WeChat keyword, or a code point that folds to
    /// a digit (any script, Chinese numerals) or is 信.
    @inline(__always)
    func nextCandidate(_ from: Int, _ stopAt: Int) -> Int {
        var i = from
        let raw = UnsafeRawPointer(p)
        // Sixteen bytes at a time with vector compares (SSE2 on x86-64): a mask of the positions where something
        // may start (the vector form of `Normalization.mayStartCandidate`), then a closer look at each such
        // position (non-ASCII ones through the folding table). Most windows hold no candidate at all; pure ASCII
        // windows skip the non-ASCII tests.
        let c30 = SIMD16<UInt8>(repeating: 0x30)
        let c10 = SIMD16<UInt8>(repeating: 10)
        let c40 = SIMD16<UInt8>(repeating: 0x40)
        let c20 = SIMD16<UInt8>(repeating: 0x20)
        let c80 = SIMD16<UInt8>(repeating: 0x80)
        let cF0 = SIMD16<UInt8>(repeating: 0xF0)
        let cEF = SIMD16<UInt8>(repeating: 0xEF)
        let cBC = SIMD16<UInt8>(repeating: 0xBC)
        let c90 = SIMD16<UInt8>(repeating: 0x90)
        let cD9 = SIMD16<UInt8>(repeating: 0xD9)
        let cA0 = SIMD16<UInt8>(repeating: 0xA0)
        let cDB = SIMD16<UInt8>(repeating: 0xDB)
        let cB0 = SIMD16<UInt8>(repeating: 0xB0)
        let cDF = SIMD16<UInt8>(repeating: 0xDF)
        let cE0 = SIMD16<UInt8>(repeating: 0xE0)
        let cE1 = SIMD16<UInt8>(repeating: 0xE1)
        let cEA = SIMD16<UInt8>(repeating: 0xEA)
        let cE2 = SIMD16<UInt8>(repeating: 0xE2)
        let c97 = SIMD16<UInt8>(repeating: 0x97)
        let c8B = SIMD16<UInt8>(repeating: 0x8B)
        let cE3 = SIMD16<UInt8>(repeating: 0xE3)
        let c87 = SIMD16<UInt8>(repeating: 0x87)
        let cE4 = SIMD16<UInt8>(repeating: 0xE4)
        let cB8 = SIMD16<UInt8>(repeating: 0xB8)
        let c3 = SIMD16<UInt8>(repeating: 3)
        let cBF = SIMD16<UInt8>(repeating: 0xBF)
        let cE5 = SIMD16<UInt8>(repeating: 0xE5)
        let c85 = SIMD16<UInt8>(repeating: 0x85)
        let c9B = SIMD16<UInt8>(repeating: 0x9B)
        let cE9 = SIMD16<UInt8>(repeating: 0xE9)
        let c77 = SIMD16<UInt8>(repeating: 0x77)
        let c76 = SIMD16<UInt8>(repeating: 0x76)
        let c65 = SIMD16<UInt8>(repeating: 0x65)
        let c78 = SIMD16<UInt8>(repeating: 0x78)
        let cLead = SIMD16<UInt8>(repeating: leadThreshold)
        // Every lead byte the non-ASCII tests look for is at least this (Cyrillic and most Arabic letters are not).
        let cGate = SIMD16<UInt8>(repeating: min(0xD9, leadThreshold))
        let highBits: UInt64 = 0x8080_8080_8080_8080
        while i < stopAt {
            guard i + 18 <= n else {
                if isCandidate(i) { return i }
                i += 1
                continue
            }
            let v0 = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            let v1 = raw.loadUnaligned(fromByteOffset: i + 1, as: SIMD16<UInt8>.self)
            let lower0 = v0 | c20
            let lower1 = v1 | c20
            var m = (v0 &- c30) .< c10
            m = m .| (v0 .== c40)
            m = m .| ((lower0 .== c77) .& ((lower1 .== c65) .| (lower1 .== c78)))
            m = m .| ((lower0 .== c76) .& (lower1 .== c78))
            let bytes = unsafeBitCast(v0, to: SIMD2<UInt64>.self)
            let gate = unsafeBitCast(v0 .>= cGate, to: SIMD2<UInt64>.self)
            if (bytes[0] | bytes[1]) & highBits != 0 && gate[0] | gate[1] != 0 {
                let v2 = raw.loadUnaligned(fromByteOffset: i + 2, as: SIMD16<UInt8>.self)
                let high1 = v1 & cF0
                m = m .| ((v0 .== cEF) .& (v1 .== cBC) .& ((v2 & cF0) .== c90))
                m = m .| ((v0 .== cD9) .& (high1 .== cA0))
                m = m .| ((v0 .== cDB) .& (high1 .== cB0))
                m = m .| ((v0 .== cDF) .& (high1 .== c80))
                m = m .| (v0 .== cE0) .| (v0 .== cE1) .| (v0 .== cEA)
                m = m .| ((v0 .== cF0) .& (high1 .== c90))
                m = m .| ((v0 .== cE2) .& (v1 .== c97) .& (v2 .== c8B))
                m = m .| ((v0 .== cE3) .& (v1 .== c80) .& (v2 .== c87))
                m = m .| ((v0 .== cE4) .& (((v1 &- cB8) .< c3) .| (v1 .== cBF)))
                m = m .| ((v0 .== cE5) .& ((v1 .== c85) .| (v1 .== c9B)))
                m = m .| ((v0 .== cE9) .& (v1 .== c9B))
                m = m .| (v0 .>= cLead)
            }
            // Each lane of the mask is 0x00 or 0xFF: read it as two words, and look at each marked position in
            // turn (a non-ASCII one may be a lead byte the vector test lets through, such as 不 or 人).
            let words = unsafeBitCast(m, to: SIMD2<UInt64>.self)
            var low = words[0]
            var high = words[1]
            while low | high != 0 {
                let lane: Int
                if low != 0 {
                    lane = low.trailingZeroBitCount >> 3
                    low &= ~(0xFF << UInt64(lane << 3))
                } else {
                    lane = 8 + high.trailingZeroBitCount >> 3
                    high &= ~(0xFF << UInt64((lane - 8) << 3))
                }
                let c = i &+ lane
                if p[c] < 0x80 || isNonASCIICandidate(c) { return c }
            }
            i &+= 16
        }
        return i
    }

    /// Whether the non-ASCII code point at `i` starts a candidate: it folds to a digit (a Chinese numeral too) or is
    /// 信 (the end of a WeChat keyword).
    @inline(__always) func isNonASCIICandidate(_ i: Int) -> Bool {
        let code = Normalization.classifyNonASCII(p, i, n, table).code
        return Normalization.isDigit(code) || code >= Normalization.hanZero || bytesMatch(i, 0xE4, 0xBF, 0xA1)
    }

    /// The scalar form of the candidate test in ``nextCandidate(_:_:)`` (used near the end of the buffer).
    func isCandidate(_ i: Int) -> Bool {
        let b1: UInt8 = i + 1 < n ? p[i + 1] : 0
        let b2: UInt8 = i + 2 < n ? p[i + 2] : 0
        guard Normalization.mayStartCandidate(p[i], b1, b2, leadThreshold: leadThreshold) else { return false }
        return p[i] < 0x80 || isNonASCIICandidate(i)
    }

    /// Looks closely at a candidate position; returns where to continue.
    func handleCandidate(_ i: Int) -> Int {
        let b = p[i]
        if b < 0x80 {
            switch b {
            case 0x30...0x39: return digitStart(i)
            case 0x40: return email(at: i)
            default: return wechat(at: i)
            }
        }
        let (code, l) = classify(i)
        if code >= Normalization.hanZero {
            // Chinese numerals glued before other digits are text (第一…): the number starts after them.
            var k = i + l
            var count = 1
            var next: UInt8 = 0
            while k < n {
                let (c, length) = classify(k)
                if c >= Normalization.hanZero {
                    count += 1
                } else if c != Normalization.ignorable {
                    next = c
                    break
                }
                k += length
            }
            if k < n && Normalization.isDigit(next) { return k }
            // Fewer than four numerals (一, 十二…: among the commonest characters) with no separator after them and
            // no space before them are neither a year nor part of a longer number nor a day before a month: skip
            // them without reading further (what `digitStart` would conclude, only sooner).
            if count < 4 && !(k < n && (Normalization.isSeparator(next) || next == 0x28 || next == 0x29))
                && !(i > 0 && p[i - 1] == 0x20)
            {
                return k
            }
            return digitStart(i)
        }
        if Normalization.isDigit(code) { return digitStart(i) }
        // 信: a WeChat keyword may end here (微信, 威信, 薇信, V信).
        guard bytesMatch(i, 0xE4, 0xBF, 0xA1) else { return i + l }
        if i >= 3
            && (bytesMatch(i - 3, 0xE5, 0xBE, 0xAE) || bytesMatch(i - 3, 0xE5, 0xA8, 0x81)
                || bytesMatch(i - 3, 0xE8, 0x96, 0x87))
        {
            return wechat(at: i - 3)
        }
        if i >= 1 && (p[i - 1] | 0x20) == 0x76 { return wechat(at: i - 1) }
        return i + 3
    }

    /// Whether the code point before `i` (ignorable ones skipped) folds to a digit.
    func previousIsDigit(_ i: Int) -> Bool {
        guard let (c, _) = previousFolded(i) else { return false }
        return Normalization.isDigit(c)
    }

    /// Handles a digit run starting at `i` (not preceded by a digit); returns where to continue.
    func digitStart(_ i: Int) -> Int {
        if let date = matchDate(i) {
            if isBirthContext(date.start, date.end) {
                emit(.dateOfBirth, date.start..<date.end, maxLength: 10) { date.write(to: $0) }
            }
            return date.end
        }
        return chain(i)
    }
}
