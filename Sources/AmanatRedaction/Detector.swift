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
            worker.run(from: max(0, start - Detector.overlap), keep: start..<end, stopAt: min(n, end + Detector.overlap))
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
        let inOrder = zip(findings, findings.dropFirst()).allSatisfy { $0.range.lowerBound < $1.range.lowerBound }
        let sorted = inOrder ? findings : findings.sorted {
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
        return slots.flatMap { $0 }
    }
}

/// The skip loop's table: how many bytes to skip (the UTF-8 length of a character that cannot start anything),
/// or 0 for a byte that needs a closer look (digits, `@`, lead bytes of full-width and Arabic-Indic digits, of
/// 微/威/薇, and the letters of WeChat, weixin, vx, wx, V信).
nonisolated(unsafe) let skipTable: UnsafeMutablePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    for b in 0..<256 {
        switch b {
        case 0xC0...0xDF: table[b] = 2
        case 0xE0...0xEF: table[b] = 3
        case 0xF0...0xF7: table[b] = 4
        default: table[b] = 1
        }
    }
    for b in 0x30...0x39 { table[b] = 0 }
    for b in [0x40, 0x56, 0x57, 0x76, 0x77, 0xD9, 0xDB, 0xE5, 0xE8, 0xEF] { table[b] = 0 }
    return table
}()

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
        let table = skipTable
        while i < stopAt {
            let b = p[i]
            let skip = table[Int(b)]
            if skip != 0 {
                i &+= Int(skip)
                continue
            }
            switch b {
            case 0x30...0x39:
                i = digitStart(i)
            case 0xEF:
                if i + 2 < n && p[i + 1] == 0xBC && p[i + 2] &- 0x90 < 10 { i = digitStart(i) } else { i += 3 }
            case 0xD9:
                if i + 1 < n && p[i + 1] &- 0xA0 < 10 { i = digitStart(i) } else { i += 2 }
            case 0xDB:
                if i + 1 < n && p[i + 1] &- 0xB0 < 10 { i = digitStart(i) } else { i += 2 }
            case 0x40:
                i = email(at: i)
            case 0xE5, 0xE8:
                i = wechatKeyword(i).0 > 0 ? wechat(at: i) : i + 3
            default:
                i = wechat(at: i)
            }
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
