/// A caller-supplied reader: fills a prefix of the buffer and returns how many bytes it wrote, 0 at the end.
public typealias AgeSource = (UnsafeMutableRawBufferPointer) throws -> Int

/// A caller-supplied writer: consumes the whole buffer (valid only during the call).
public typealias AgeSink = (UnsafeRawBufferPointer) throws -> Void

/// A buffered reader over an ``AgeSource``, with line access for the header and the armor, and direct (unbuffered)
/// reads into large destinations for the payload. Memory is one fixed buffer.
final class ByteSource {
    private let readRaw: AgeSource
    private let storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private(set) var reachedEnd = false

    init(capacity: Int = 64 * 1024, _ read: @escaping AgeSource) {
        readRaw = read
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var buffered: Int { end - start }

    /// Reads from the underlying source once into `destination`; 0 only at the end.
    private func readSource(_ destination: UnsafeMutableRawBufferPointer) throws -> Int {
        if reachedEnd || destination.isEmpty { return 0 }
        let n = try readRaw(destination)
        guard n >= 0, n <= destination.count else {
            throw AgeError.invalidUse("the source returned \(n) for a \(destination.count)-byte buffer")
        }
        if n == 0 { reachedEnd = true }
        return n
    }

    /// Tries to have at least `count` (≤ capacity) bytes buffered; returns how many are buffered (fewer only at the
    /// end of the input).
    @discardableResult
    func fill(atLeast count: Int) throws -> Int {
        precondition(count <= storage.count)
        if end - start >= count { return end - start }
        if start > 0 {
            if end > start {
                storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        while end < count {
            let n = try readSource(UnsafeMutableRawBufferPointer(rebasing: storage[end...]))
            if n == 0 { break }
            end += n
        }
        return end - start
    }

    /// The buffered byte at `offset` from the read position (call ``fill(atLeast:)`` first).
    func peek(_ offset: Int) -> UInt8 { storage[start + offset] }

    /// Skips `count` buffered bytes.
    func skip(_ count: Int) {
        precondition(count <= end - start)
        start += count
    }

    /// Reads into `destination`: buffered bytes first, then straight from the source. Returns 0 only at the end.
    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        if destination.isEmpty { return 0 }
        if end > start {
            let n = min(end - start, destination.count)
            destination.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: n)
            start += n
            return n
        }
        return try readSource(destination)
    }

    /// Reads until `destination` is full or the input ends; returns the count read.
    func readFully(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        var total = 0
        while total < destination.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: destination[total...]))
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// The outcome of ``nextLine(maximumLength:_:)``.
    enum Line {
        /// A line (without its LF); `terminated` is false for a last line that ends at the end of input.
        case line(terminated: Bool)
        /// No byte left.
        case end
        /// No LF within `maximumLength` bytes.
        case tooLong
    }

    /// Finds the next line of at most `maximumLength` bytes (LF excluded) and passes its bytes (valid only during the
    /// call) to `body`, then consumes it.
    func nextLine<R>(
        maximumLength: Int, _ body: (UnsafeRawBufferPointer, Line) throws -> R
    ) throws -> R {
        precondition(maximumLength < storage.count)
        var scanned = 0
        while true {
            let available = end - start
            let limit = min(available, maximumLength + 1)
            if scanned < limit {
                let base = storage.baseAddress! + start
                let window = UnsafeRawBufferPointer(start: base + scanned, count: limit - scanned)
                if let i = window.firstIndex(of: 0x0A) {
                    let length = scanned + i
                    defer { start += length + 1 }
                    return try body(UnsafeRawBufferPointer(start: base, count: length), .line(terminated: true))
                }
                scanned = limit
            }
            if available > maximumLength {
                return try body(UnsafeRawBufferPointer(start: nil, count: 0), .tooLong)
            }
            let before = end - start
            if try fill(atLeast: maximumLength + 1) == before {
                // The input ended.
                if before == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0), .end) }
                defer { start = end }
                return try body(
                    UnsafeRawBufferPointer(start: storage.baseAddress! + start, count: before), .line(terminated: false)
                )
            }
        }
    }
}
