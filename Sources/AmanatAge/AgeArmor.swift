/// The ASCII armor of age files: strict PEM (RFC 7468 §3) with the label `AGE ENCRYPTED FILE`, 64-column padded
/// base64 lines, LF or CRLF line ends, and nothing but whitespace before and after the block.
public enum AgeArmor {
    /// `-----BEGIN AGE ENCRYPTED FILE-----`
    public static let beginLine = "-----BEGIN AGE ENCRYPTED FILE-----"
    /// `-----END AGE ENCRYPTED FILE-----`
    public static let endLine = "-----END AGE ENCRYPTED FILE-----"

    static let begin = Array(beginLine.utf8)
    static let end = Array(endLine.utf8)
    static let columns = 64
    static let bytesPerLine = 48
    /// How much whitespace is tolerated before and after the block.
    static let maximumWhitespace = 1 << 20

    static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    }
}

/// Decodes the armor as a stream: each ``read(into:)`` returns decoded bytes; problems throw ``AgeError/armor(_:)``.
final class ArmorDecoder {
    private let input: ByteSource
    private enum State { case begin, body, done }
    private var state = State.begin
    private var lastLineSeen = false
    private let pending = UnsafeMutableRawBufferPointer.allocate(byteCount: AgeArmor.bytesPerLine, alignment: 1)
    private var pendingStart = 0
    private var pendingEnd = 0

    init(input: ByteSource) { self.input = input }

    deinit { pending.deallocate() }

    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        if state == .begin {
            try readBeginLine()
            state = .body
        }
        var written = 0
        while written < destination.count {
            if pendingEnd > pendingStart {
                let n = min(pendingEnd - pendingStart, destination.count - written)
                (destination.baseAddress! + written).copyMemory(from: pending.baseAddress! + pendingStart, byteCount: n)
                pendingStart += n
                written += n
                continue
            }
            if state == .done { break }
            if destination.count - written >= AgeArmor.bytesPerLine {
                written += try decodeLine(into: UnsafeMutableRawBufferPointer(rebasing: destination[written...]))
            } else {
                pendingStart = 0
                pendingEnd = try decodeLine(into: pending)
            }
        }
        return written
    }

    private func readBeginLine() throws {
        var skipped = 0
        while true {
            guard try input.fill(atLeast: 1) > 0 else { throw AgeError.armor("no BEGIN line") }
            guard AgeArmor.isWhitespace(input.peek(0)) else { break }
            input.skip(1)
            skipped += 1
            if skipped > AgeArmor.maximumWhitespace {
                throw AgeError.armor("too much whitespace before the BEGIN line")
            }
        }
        try input.nextLine(maximumLength: AgeArmor.begin.count + 1) { bytes, kind in
            guard case .line(terminated: true) = kind, Self.stripCR(bytes).elementsEqual(AgeArmor.begin) else {
                throw AgeError.armor("the first line is not '\(AgeArmor.beginLine)'")
            }
        }
    }

    private static func stripCR(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        if let last = bytes.last, last == 0x0D { return UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
        return bytes
    }

    /// Decodes the next base64 line into `output` (room for 48 bytes); returns 0 after the END line.
    private func decodeLine(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        // The closure returns the decoded count, or nil for the END line.
        let decoded = try input.nextLine(maximumLength: AgeArmor.columns + 1) { (bytes, kind) throws -> Int? in
            let terminated: Bool
            switch kind {
            case .end: throw AgeError.armor("no END line")
            case .tooLong: throw AgeError.armor("a line is longer than \(AgeArmor.columns) columns")
            case .line(let t): terminated = t
            }
            let content = terminated ? Self.stripCR(bytes) : bytes
            if content.elementsEqual(AgeArmor.end) { return nil }
            if lastLineSeen { throw AgeError.armor("data after the last (short or padded) base64 line") }
            guard terminated else { throw AgeError.armor("no END line") }
            guard !content.isEmpty else { throw AgeError.armor("an empty line inside the armor") }
            guard content.count <= AgeArmor.columns else {
                throw AgeError.armor("a line is longer than \(AgeArmor.columns) columns")
            }
            guard let (count, padded) = AgeBase64.decodePadded(content, into: output) else {
                throw AgeError.armor("invalid or non-canonical base64")
            }
            if padded || content.count < AgeArmor.columns { lastLineSeen = true }
            return count
        }
        if let decoded { return decoded }
        try readTrailer()
        state = .done
        return 0
    }

    private func readTrailer() throws {
        var seen = 0
        while true {
            let n = try input.fill(atLeast: 1)
            if n == 0 { return }
            for i in 0..<n where !AgeArmor.isWhitespace(input.peek(i)) {
                throw AgeError.armor("data after the END line")
            }
            input.skip(n)
            seen += n
            if seen > AgeArmor.maximumWhitespace { throw AgeError.armor("too much whitespace after the END line") }
        }
    }
}

/// Encodes a byte stream as armor, passing text to the sink in blocks of about 64 KiB.
final class ArmorEncoder {
    private let sink: AgeSink
    private static let linesPerBlock = 1024
    private let out: UnsafeMutableRawBufferPointer
    private var outCount = 0
    private let carry = UnsafeMutableRawBufferPointer.allocate(byteCount: AgeArmor.bytesPerLine, alignment: 1)
    private var carryCount = 0

    init(sink: @escaping AgeSink) {
        self.sink = sink
        out = .allocate(byteCount: (Self.linesPerBlock + 2) * (AgeArmor.columns + 1), alignment: 16)
        append(AgeArmor.begin)
    }

    deinit {
        out.deallocate()
        carry.deallocate()
    }

    private func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { (out.baseAddress! + outCount).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        outCount += bytes.count
        out[outCount] = 0x0A
        outCount += 1
    }

    private func appendLine(_ bytes: UnsafeRawBufferPointer) {
        let n = AgeBase64.encode(bytes, padded: true, into: UnsafeMutableRawBufferPointer(rebasing: out[outCount...]))
        outCount += n
        out[outCount] = 0x0A
        outCount += 1
    }

    private func flushIfFull() throws {
        if outCount >= Self.linesPerBlock * (AgeArmor.columns + 1) {
            try sink(UnsafeRawBufferPointer(rebasing: out[0..<outCount]))
            outCount = 0
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        var i = 0
        if carryCount > 0 {
            let n = min(AgeArmor.bytesPerLine - carryCount, bytes.count)
            (carry.baseAddress! + carryCount).copyMemory(from: bytes.baseAddress!, byteCount: n)
            carryCount += n
            i = n
            guard carryCount == AgeArmor.bytesPerLine else { return }
            appendLine(UnsafeRawBufferPointer(carry))
            carryCount = 0
            try flushIfFull()
        }
        while bytes.count - i >= AgeArmor.bytesPerLine {
            appendLine(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + AgeArmor.bytesPerLine)]))
            i += AgeArmor.bytesPerLine
            try flushIfFull()
        }
        if i < bytes.count {
            carry.baseAddress!.copyMemory(from: bytes.baseAddress! + i, byteCount: bytes.count - i)
            carryCount = bytes.count - i
        }
    }

    func finish() throws {
        if carryCount > 0 {
            appendLine(UnsafeRawBufferPointer(rebasing: carry[0..<carryCount]))
            carryCount = 0
        }
        append(AgeArmor.end)
        try sink(UnsafeRawBufferPointer(rebasing: out[0..<outCount]))
        outCount = 0
    }
}
