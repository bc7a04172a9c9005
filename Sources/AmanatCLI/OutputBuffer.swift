import AmanatRecords
import Foundation

/// A growable byte buffer filled without bounds checks: callers ``reserve(_:)`` room first.
final class OutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
        base = malloc(capacity)!.assumingMemoryBound(to: UInt8.self)
    }

    deinit { free(base) }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity {
            capacity = max(capacity * 2, count + extra)
            base = realloc(base, capacity)!.assumingMemoryBound(to: UInt8.self)
        }
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    func append(_ text: StaticString) {
        (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    /// The numbers 00…99, ten to a line: `n` is at `n / 10 * 21 + n % 10 * 2`.
    private static let pairs: StaticString = """
        00010203040506070809
        10111213141516171819
        20212223242526272829
        30313233343536373839
        40414243444546474849
        50515253545556575859
        60616263646566676869
        70717273747576777879
        80818283848586878889
        90919293949596979899
        """

    /// Appends a non-negative integer in decimal (two digits per division).
    @inline(__always)
    func append(integer: Int) {
        var v = UInt(bitPattern: integer)
        var digits = 1
        var limit: UInt = 10
        while v >= limit && digits < 19 {
            digits += 1
            limit &*= 10
        }
        if v >= limit { digits += 1 }
        let pairs = OutputBuffer.pairs.utf8Start
        var k = count + digits
        while v >= 10 {
            let pair = Int(v % 100)
            v /= 100
            let at = pair / 10 * 21 + pair % 10 * 2
            base[k - 1] = pairs[at + 1]
            base[k - 2] = pairs[at]
            k -= 2
        }
        if k > count { base[k - 1] = UInt8(truncatingIfNeeded: 0x30 &+ v) }
        count += digits
    }

    /// Appends UTF-8 bytes escaped for a JSON string (without the quotes); room for 6 bytes each is reserved.
    @inline(__always)
    func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        JSONEscaping.forEachPiece(
            in: bytes,
            run: { piece in
                UnsafeMutableRawPointer(base + count).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
                count += piece.count
            },
            escaped: { sequence in
                for b in sequence {
                    base[count] = b
                    count += 1
                }
            })
    }
}

/// Text for standard output, written in blocks of 64 KiB (a listing of a million lines is a few hundred writes, not
/// a million).
final class StreamedText {
    private var pending: [UInt8] = []

    init() { pending.reserveCapacity(1 << 16) }

    func write(_ text: String) {
        pending += text.utf8
        if pending.count >= 1 << 16 { flush() }
    }

    func write(bytes: [UInt8]) {
        pending += bytes
        if pending.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !pending.isEmpty else { return }
        FileHandle.standardOutput.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }
}

/// A JSON array on standard output written one element at a time, byte for byte as ``Console/json(_:)`` writes the
/// whole array (pretty, sorted keys, every unsafe character escaped), so that a command need not hold its elements.
final class JSONArrayStream {
    private let out = StreamedText()
    private let encoder = Console.jsonEncoder()
    private var count = 0

    /// Appends one element.
    func append<T: Encodable>(_ value: T) throws { appendEncoded(Array(try encoder.encode(value))) }

    /// Appends one element already encoded by ``Console/jsonEncoder()``.
    func appendEncoded(_ bytes: [UInt8]) {
        out.write(count == 0 ? "[\n" : ",\n")
        count += 1
        // Indented one level, as the encoder indents an array's elements (empty lines stay empty).
        let lines = UntrustedText.jsonSafe(String(decoding: bytes, as: UTF8.self)).split(
            separator: "\n", omittingEmptySubsequences: false)
        out.write(lines.map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n"))
    }

    /// Ends the array (an empty one as the encoder writes it) and flushes.
    func finish() {
        out.write(count == 0 ? "[\n\n]\n" : "\n]\n")
        out.flush()
    }
}
