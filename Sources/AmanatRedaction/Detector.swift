import Dispatch
import Foundation

/// Finds personal identifiers in UTF-8 text (see `REDACTION.md`): Chinese resident IDs (18 and 15 digits),
/// Kazakh IINs, Chinese and Kazakh passports near a context word, Chinese mobile and Kazakh phones, e-mail
/// addresses, WeChat IDs after 微信/WeChat, and dates of birth near a birth word.
///
/// The detector works on bytes in one pass, folding full-width and Arabic-Indic digits, `X` variants, dashes and
/// special spaces on the fly (see ``Normalization``), so offsets always refer to the original input. Numbers may
/// be split by up to two separator characters (space, hyphen, line break) between digit groups; no digit may
/// touch a match; word boundaries are never required (CJK text has none). Inputs of at least
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

    /// Bytes scanned before and after a block so that findings across a seam come out as in a sequential scan.
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
        let stream = BlockStream(count: plan.blocks, blockSize: plan.blockSize)
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
        let stream = BlockStream(count: plan.blocks, blockSize: plan.blockSize)
        let scanned = DispatchSemaphore(value: 0)
        // A thread of its own drives the scan (it takes blocks itself, so it never waits for a free worker).
        let driver = Thread {
            DispatchQueue.concurrentPerform(iterations: plan.blocks) { block in
                stream.store(stream.isCancelled ? FindingStore() : plan.scan(block), at: block)
            }
            scanned.signal()
        }
        driver.start()
        defer { scanned.wait() }
        do {
            while let (block, end) = stream.next() {
                // Blocks after `end` are read from `end - overlap` on, and looked back from a little further.
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
        worker.run(from: 0, keep: 0..<n, stopAt: n)
        worker.store.resolveOverlaps()
        return worker.store
    }
}

/// How a big input is cut into overlapping blocks scanned in parallel.
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

    /// The raw findings (overlaps not yet resolved) that start in block `block`.
    func scan(_ block: Int) -> FindingStore {
        let start = block * blockSize
        let end = min(count, start + blockSize)
        let worker = ScanWorker(pointer, count, expected: (end - start) >> 8)
        worker.run(
            from: max(0, start - Detector.overlap), keep: start..<end, stopAt: min(count, end + Detector.overlap))
        return worker.store
    }
}

/// Collects the raw findings of the blocks (stored from any thread, in any order) and hands out final blocks in
/// order. When no raw finding of the blocks before a block reaches past that block's first raw finding, the
/// blocks before it are final: resolving overlaps in each alone gives what resolving them all together gives.
/// Otherwise blocks are joined into one and resolved together.
private final class BlockStream: @unchecked Sendable {
    private var slots: [FindingStore?]
    private let condition = NSCondition()
    /// The first block not handed out yet, the next block to look at, and how far raw findings before it reach.
    private var frontier = 0
    private var cursor = 0
    private var reach = Int.min
    private let blockSize: Int
    /// Final blocks with the end of the input range they cover.
    private var ready: [(FindingBlock, Int)] = []
    private var readyHead = 0
    private var cancelled = false

    init(count: Int, blockSize: Int) {
        slots = Array(repeating: nil, count: count)
        self.blockSize = blockSize
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

    func store(_ store: FindingStore, at index: Int) {
        condition.lock()
        slots[index] = store
        while cursor < slots.count, let next = slots[cursor] {
            let records = next.buffer
            if let first = records.min(by: { $0.start < $1.start }) {
                if cursor > frontier && first.start >= reach { finalize(frontier..<cursor) }
                reach = max(reach, records.max(by: { $0.end < $1.end })!.end)
            } else if cursor > frontier && reach == Int.min {
                finalize(frontier..<cursor)
            }
            cursor += 1
        }
        if cursor == slots.count && frontier < slots.count { finalize(frontier..<slots.count) }
        condition.broadcast()
        condition.unlock()
    }

    /// Resolves the blocks in `range` (joined when more than one) and queues them.
    private func finalize(_ range: Range<Int>) {
        if range.count == 1 {
            let store = slots[range.lowerBound]!
            store.resolveOverlaps()
            ready.append((FindingBlock(store: store), range.upperBound * blockSize))
        } else {
            let stores = range.map { slots[$0]! }
            let joined = FindingStore(expected: stores.reduce(0) { $0 + $1.count })
            for store in stores {
                for record in store.buffer { joined.append(record, from: store) }
            }
            joined.resolveOverlaps()
            ready.append((FindingBlock(store: joined), range.upperBound * blockSize))
        }
        for index in range { slots[index] = FindingStore() }
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
    var keep: Range<Int> = 0..<0

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
    }

    @inline(__always) func fold(_ i: Int) -> (char: UInt8, length: Int) { Normalization.fold(p, i, n) }

    @inline(__always) func isASCIIAlnum(_ b: UInt8) -> Bool {
        (b &- 0x30 < 10) || ((b | 0x20) &- 0x61 < 26)
    }

    /// Records a finding whose value is `length` bytes at `value`.
    @inline(__always)
    func emit(
        _ kind: IdentifierKind, _ range: Range<Int>, _ value: UnsafePointer<UInt8>, _ length: Int,
        _ confidence: Confidence = .valid
    ) {
        guard keep.contains(range.lowerBound) else { return }
        store.append(kind, range.lowerBound, range.upperBound, confidence, value: value, length: length)
    }

    /// Records a finding whose value is written by `write` into at most `maxLength` bytes (returns the length).
    @inline(__always)
    func emit(
        _ kind: IdentifierKind, _ range: Range<Int>, maxLength: Int, _ confidence: Confidence = .valid,
        write: (UnsafeMutablePointer<UInt8>) -> Int
    ) {
        guard keep.contains(range.lowerBound) else { return }
        let length = write(store.reserveValue(maxLength))
        store.commit(kind, range.lowerBound, range.upperBound, confidence, valueLength: length)
    }

    /// The main loop: from `from`, until the position reaches `stopAt`, keeping findings that start in `keep`.
    func run(from: Int, keep: Range<Int>, stopAt: Int) {
        self.keep = keep
        var i = from
        // Never start inside a code point or a digit run: step to a clean position first.
        while i < n && i > 0 && (p[i] & 0xC0) == 0x80 { i += 1 }
        if i > 0 && i < n && previousIsDigit(i) {
            while i < n {
                let (c, l) = fold(i)
                if Normalization.isDigit(c) || c == 0x58 { i += l } else { break }
            }
        }
        // Eight bytes at a time: a bit mask of the positions where something may start (SWAR, no data-dependent
        // branches for ordinary text), then a closer look at each such position.
        let highs: UInt64 = 0x8080_8080_8080_8080
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        @inline(__always) func zero(_ v: UInt64) -> UInt64 { ~(((v & lows) &+ lows) | v) & highs }
        let raw = UnsafeRawPointer(p)
        // Sixteen bytes at a time with vector compares (SSE2 on x86-64): most windows hold no candidate at all.
        let c30 = SIMD16<UInt8>(repeating: 0x30)
        let c10 = SIMD16<UInt8>(repeating: 10)
        let c40 = SIMD16<UInt8>(repeating: 0x40)
        let c20 = SIMD16<UInt8>(repeating: 0x20)
        let cF0 = SIMD16<UInt8>(repeating: 0xF0)
        let cEF = SIMD16<UInt8>(repeating: 0xEF)
        let cBC = SIMD16<UInt8>(repeating: 0xBC)
        let c90 = SIMD16<UInt8>(repeating: 0x90)
        let cD9 = SIMD16<UInt8>(repeating: 0xD9)
        let cA0 = SIMD16<UInt8>(repeating: 0xA0)
        let cDB = SIMD16<UInt8>(repeating: 0xDB)
        let cB0 = SIMD16<UInt8>(repeating: 0xB0)
        let cE4 = SIMD16<UInt8>(repeating: 0xE4)
        let cBF = SIMD16<UInt8>(repeating: 0xBF)
        let c77 = SIMD16<UInt8>(repeating: 0x77)
        let c76 = SIMD16<UInt8>(repeating: 0x76)
        let c65 = SIMD16<UInt8>(repeating: 0x65)
        let c78 = SIMD16<UInt8>(repeating: 0x78)
        while i < stopAt {
            if i + 18 <= n {
                let v0 = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let v1 = raw.loadUnaligned(fromByteOffset: i + 1, as: SIMD16<UInt8>.self)
                let v2 = raw.loadUnaligned(fromByteOffset: i + 2, as: SIMD16<UInt8>.self)
                let lower0 = v0 | c20
                let lower1 = v1 | c20
                let high1 = v1 & cF0
                var m = (v0 &- c30) .< c10
                m = m .| (v0 .== c40)
                m = m .| ((v0 .== cEF) .& (v1 .== cBC) .& ((v2 & cF0) .== c90))
                m = m .| ((v0 .== cD9) .& (high1 .== cA0))
                m = m .| ((v0 .== cDB) .& (high1 .== cB0))
                m = m .| ((v0 .== cE4) .& (v1 .== cBF))
                m = m .| ((lower0 .== c77) .& ((lower1 .== c65) .| (lower1 .== c78)))
                m = m .| ((lower0 .== c76) .& (lower1 .== c78))
                // Each lane of the mask is 0x00 or 0xFF: read it as two words.
                let words = unsafeBitCast(m, to: SIMD2<UInt64>.self)
                let low = words[0]
                let high = words[1]
                if low | high == 0 {
                    i &+= 16
                    continue
                }
                i &+= low != 0 ? low.trailingZeroBitCount >> 3 : 8 + high.trailingZeroBitCount >> 3
            } else if i + 10 <= n {
                let l0 = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let l1 = raw.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self)
                let l2 = raw.loadUnaligned(fromByteOffset: i + 2, as: UInt64.self)
                let x = l0 & lows
                let digit = (x &+ 0x5050_5050_5050_5050) & ~(x &+ 0x4646_4646_4646_4646) & ~l0 & highs
                let lower0 = l0 | 0x2020_2020_2020_2020
                let lower1 = l1 | 0x2020_2020_2020_2020
                let f0: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
                let w = zero(lower0 ^ 0x7777_7777_7777_7777)
                var mask = digit | zero(l0 ^ 0x4040_4040_4040_4040)
                mask |=
                    zero(l0 ^ 0xEFEF_EFEF_EFEF_EFEF) & zero(l1 ^ 0xBCBC_BCBC_BCBC_BCBC)
                    & zero((l2 & f0) ^ 0x9090_9090_9090_9090)
                mask |= zero(l0 ^ 0xD9D9_D9D9_D9D9_D9D9) & zero((l1 & f0) ^ 0xA0A0_A0A0_A0A0_A0A0)
                mask |= zero(l0 ^ 0xDBDB_DBDB_DBDB_DBDB) & zero((l1 & f0) ^ 0xB0B0_B0B0_B0B0_B0B0)
                mask |= zero(l0 ^ 0xE4E4_E4E4_E4E4_E4E4) & zero(l1 ^ 0xBFBF_BFBF_BFBF_BFBF)
                mask |= w & zero(lower1 ^ 0x6565_6565_6565_6565)
                mask |= (w | zero(lower0 ^ 0x7676_7676_7676_7676)) & zero(lower1 ^ 0x7878_7878_7878_7878)
                if mask == 0 {
                    i &+= 8
                    continue
                }
                i &+= mask.trailingZeroBitCount >> 3
            } else if !isCandidate(i) {
                i += 1
                continue
            }
            if i >= stopAt { break }
            i = max(i + 1, handleCandidate(i))
        }
    }

    /// The scalar form of the candidate test in ``run(from:keep:stopAt:)`` (used near the end of the buffer).
    func isCandidate(_ i: Int) -> Bool {
        let b0 = p[i]
        let b1: UInt8 = i + 1 < n ? p[i + 1] : 0
        let b2: UInt8 = i + 2 < n ? p[i + 2] : 0
        switch b0 {
        case 0x30...0x39, 0x40: return true
        case 0xEF: return b1 == 0xBC && b2 & 0xF0 == 0x90
        case 0xD9: return b1 & 0xF0 == 0xA0
        case 0xDB: return b1 & 0xF0 == 0xB0
        case 0xE4: return b1 == 0xBF
        default:
            let l0 = b0 | 0x20
            let l1 = b1 | 0x20
            return (l0 == 0x77 && (l1 == 0x65 || l1 == 0x78)) || (l0 == 0x76 && l1 == 0x78)
        }
    }

    /// Looks closely at a candidate position; returns where to continue.
    func handleCandidate(_ i: Int) -> Int {
        let b = p[i]
        switch b {
        case 0x30...0x39:
            return digitStart(i)
        case 0x40:
            return email(at: i)
        case 0xEF, 0xD9, 0xDB:
            return Normalization.isDigit(fold(i).char) ? digitStart(i) : i + fold(i).length
        case 0xE4:
            // 信: a WeChat keyword may end here (微信, 威信, 薇信, V信).
            guard bytesMatch(i, 0xE4, 0xBF, 0xA1) else { return i + 3 }
            if i >= 3
                && (bytesMatch(i - 3, 0xE5, 0xBE, 0xAE) || bytesMatch(i - 3, 0xE5, 0xA8, 0x81)
                    || bytesMatch(i - 3, 0xE8, 0x96, 0x87))
            {
                return wechat(at: i - 3)
            }
            if i >= 1 && (p[i - 1] | 0x20) == 0x76 { return wechat(at: i - 1) }
            return i + 3
        default:
            return wechat(at: i)
        }
    }

    /// Whether the code point before `i` folds to a digit.
    func previousIsDigit(_ i: Int) -> Bool {
        var k = i - 1
        while k > 0 && i - k < 4 && (p[k] & 0xC0) == 0x80 { k -= 1 }
        guard k >= 0 else { return false }
        return Normalization.isDigit(fold(k).char)
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
