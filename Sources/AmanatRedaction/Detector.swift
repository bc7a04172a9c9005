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
        guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = buffer.count
        if n < parallelThreshold || threadCount == 1 {
            return scanSequential(p, n)
        }
        let blockCount = threadCount * 4
        let blockSize = max((n + blockCount - 1) / blockCount, Detector.overlap * 4)
        let blocks = (n + blockSize - 1) / blockSize
        let results = ResultSlots(count: blocks)
        let shared = SharedBuffer(pointer: p, count: n)
        DispatchQueue.concurrentPerform(iterations: blocks) { block in
            let start = block * blockSize
            let end = min(n, start + blockSize)
            let worker = ScanWorker(shared.pointer, shared.count)
            worker.run(
                from: max(0, start - Detector.overlap), keep: start..<end, stopAt: min(n, end + Detector.overlap))
            results.store(worker.findings, at: block)
        }
        return Detector.resolveOverlaps(results.all())
    }

    /// Scans on the calling thread only (the reference for the parallel scan).
    public func scanSequential(_ buffer: UnsafeRawBufferPointer) -> [Finding] {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
        return scanSequential(base.assumingMemoryBound(to: UInt8.self), buffer.count)
    }

    func scanSequential(_ p: UnsafePointer<UInt8>, _ n: Int) -> [Finding] {
        let worker = ScanWorker(p, n)
        worker.run(from: 0, keep: 0..<n, stopAt: n)
        return Detector.resolveOverlaps(worker.findings)
    }

    /// Sorts findings and drops those overlapping one of higher priority (e-mail over a phone inside it, …).
    static func resolveOverlaps(_ findings: [Finding]) -> [Finding] {
        var inOrder = true
        var disjoint = true
        findings.withUnsafeBufferPointer { buffer in
            for k in buffer.indices.dropFirst() {
                if buffer[k - 1].range.lowerBound >= buffer[k].range.lowerBound { inOrder = false }
                if buffer[k - 1].range.upperBound > buffer[k].range.lowerBound { disjoint = false }
            }
        }
        if inOrder && disjoint { return findings }
        let sorted =
            inOrder
            ? findings
            : findings.sorted {
                $0.range.lowerBound != $1.range.lowerBound
                    ? $0.range.lowerBound < $1.range.lowerBound : $0.kind.priority > $1.kind.priority
            }
        var kept: [Finding] = []
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
}

private struct SharedBuffer: @unchecked Sendable {
    let pointer: UnsafePointer<UInt8>
    let count: Int
}

private final class ResultSlots: @unchecked Sendable {
    private var slots: [[Finding]]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func store(_ findings: [Finding], at index: Int) {
        lock.lock()
        slots[index] = findings
        lock.unlock()
    }
    func all() -> [Finding] {
        lock.lock()
        defer { lock.unlock() }
        var all: [Finding] = []
        all.reserveCapacity(slots.reduce(0) { $0 + $1.count })
        for slot in slots { all.append(contentsOf: slot) }
        return all
    }
}

/// One thread's scanner with its scratch buffers.
final class ScanWorker {
    let p: UnsafePointer<UInt8>
    let n: Int
    var findings: [Finding] = []
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
    var groups = 0

    init(_ p: UnsafePointer<UInt8>, _ n: Int) {
        self.p = p
        self.n = n
        groupStart = .allocate(capacity: ScanWorker.maxGroups)
        groupEnd = .allocate(capacity: ScanWorker.maxGroups)
        groupCount = .allocate(capacity: ScanWorker.maxGroups)
        groupXEnd = .allocate(capacity: ScanWorker.maxGroups)
        cumulative = .allocate(capacity: ScanWorker.maxGroups)
        digits = .allocate(capacity: ScanWorker.maxGroups * ScanWorker.maxGroupDigits)
        candidate = .allocate(capacity: 64)
    }

    deinit {
        groupStart.deallocate()
        groupEnd.deallocate()
        groupCount.deallocate()
        groupXEnd.deallocate()
        cumulative.deallocate()
        digits.deallocate()
        candidate.deallocate()
    }

    @inline(__always) func fold(_ i: Int) -> (char: UInt8, length: Int) { Normalization.fold(p, i, n) }

    @inline(__always) func isASCIIAlnum(_ b: UInt8) -> Bool {
        (b &- 0x30 < 10) || ((b | 0x20) &- 0x61 < 26)
    }

    func emit(_ kind: IdentifierKind, _ range: Range<Int>, _ value: String, _ confidence: Confidence = .valid) {
        guard keep.contains(range.lowerBound) else { return }
        findings.append(Finding(kind: kind, range: range, value: value, confidence: confidence))
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
        while i < stopAt {
            if i + 10 <= n {
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
                emit(.dateOfBirth, date.start..<date.end, date.value)
            }
            return date.end
        }
        return chain(i)
    }
}
