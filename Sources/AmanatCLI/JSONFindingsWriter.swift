import AmanatRecords
import AmanatRedaction
import AmanatWorkspace
import Foundation

/// Writes `amanat scan --json` output: one JSON array of findings, sorted by file then start. Pieces of a few
/// thousand findings are serialized on every core into reused buffers and written to standard output in order
/// as soon as they are ready (the whole array is never held in memory).
final class JSONFindingsWriter: @unchecked Sendable {
    /// A run of findings of one block of one file.
    struct Piece {
        var file: Int
        var block: FindingBlock
        var range: Range<Int>
    }

    static let findingsPerPiece = 4096

    private let pieces: [Piece]
    /// Per file and kind: `,\n  {"file":"…","kind":"…","start":` (allocated once, freed on deinit).
    private let prefixes: [[UnsafeBufferPointer<UInt8>]]
    private let condition = NSCondition()
    private var nextPiece = 0
    private var turn = 0
    private var failure: Error?

    init(_ results: [(file: String, table: FindingTable)]) {
        var pieces: [Piece] = []
        var prefixes: [[UnsafeBufferPointer<UInt8>]] = []
        for (index, result) in results.enumerated() {
            var fileJSON: [UInt8] = []
            ScanCommand.appendJSONString(result.file, to: &fileJSON)
            prefixes.append(JSONFindingsWriter.prefixes(fileJSON))
            for block in result.table.blocks {
                for lower in stride(from: 0, to: block.count, by: JSONFindingsWriter.findingsPerPiece) {
                    let upper = min(block.count, lower + JSONFindingsWriter.findingsPerPiece)
                    pieces.append(Piece(file: index, block: block, range: lower..<upper))
                }
            }
        }
        self.pieces = pieces
        self.prefixes = prefixes
    }

    deinit {
        for filePrefixes in prefixes {
            for prefix in filePrefixes { prefix.deallocate() }
        }
    }

    /// - Throws: ``AmanatError`` 74 when stdout cannot be written.
    func write() throws {
        try JSONFindingsWriter.writeAll(Array("[".utf8))
        try writePieces()
        try JSONFindingsWriter.writeAll(Array((pieces.isEmpty ? "]\n" : "\n]\n").utf8))
    }

    /// Writes the findings of the files given at init, then scans `buffer` (the text of `file`, sorted after them)
    /// and writes its findings while the scan goes on. Returns whether `file` had findings.
    /// - Throws: ``AmanatError`` 74 when stdout cannot be written.
    func write(streaming file: String, _ mapped: MappedFile, _ detector: Detector) throws -> Bool {
        try JSONFindingsWriter.writeAll(Array("[".utf8))
        try writePieces()
        var fileJSON: [UInt8] = []
        ScanCommand.appendJSONString(file, to: &fileJSON)
        let filePrefixes = JSONFindingsWriter.prefixes(fileJSON)
        defer { for prefix in filePrefixes { prefix.deallocate() } }
        let out = OutputBuffer()
        var first = pieces.isEmpty
        var found = false
        try detector.scanTable(
            mapped.buffer,
            streaming: { block, doneBelow in
                // Unmapping what was scanned now costs less than unmapping the whole file at the end.
                mapped.release(below: doneBelow)
                guard block.count > 0 else { return }
                out.count = 0
                JSONFindingsWriter.serialize(block, 0..<block.count, filePrefixes, first: first, into: out)
                first = false
                found = true
                try JSONFindingsWriter.writeAll(UnsafeBufferPointer(start: out.base, count: out.count))
            })
        try JSONFindingsWriter.writeAll(Array((first ? "]\n" : "\n]\n").utf8))
        return found
    }

    /// Writes the pieces (serialized on every core, written in order).
    private func writePieces() throws {
        if pieces.isEmpty { return }
        let threads = min(ProcessInfo.processInfo.activeProcessorCount, pieces.count)
        let done = DispatchSemaphore(value: 0)
        for _ in 1..<max(1, threads) {
            let thread = Thread { [self] in
                work()
                done.signal()
            }
            thread.start()
        }
        work()
        for _ in 1..<max(1, threads) { done.wait() }
        if let failure { throw failure }
    }

    /// Takes the next piece, serializes it, waits for its turn and writes it; until no piece is left.
    private func work() {
        let out = OutputBuffer()
        while true {
            condition.lock()
            let index = nextPiece
            nextPiece += 1
            condition.unlock()
            guard index < pieces.count else { return }
            out.count = 0
            let piece = pieces[index]
            JSONFindingsWriter.serialize(piece.block, piece.range, prefixes[piece.file], first: index == 0, into: out)
            condition.lock()
            while turn != index { condition.wait() }
            let failed = failure != nil
            condition.unlock()
            var error: Error?
            if !failed {
                do { try JSONFindingsWriter.writeAll(UnsafeBufferPointer(start: out.base, count: out.count)) } catch let
                    caught
                {
                    error = caught
                }
            }
            condition.lock()
            if let error, failure == nil { failure = error }
            turn += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Per kind (in ``kindIndex(_:)`` order): `,\n  {"file":"…","kind":"…","start":`; the caller deallocates them.
    static func prefixes(_ fileJSON: [UInt8]) -> [UnsafeBufferPointer<UInt8>] {
        var prefixes = Array(repeating: UnsafeBufferPointer<UInt8>(start: nil, count: 0), count: kindCount)
        for kind in IdentifierKind.allCases {
            let bytes =
                Array(",\n  {\"file\":".utf8) + fileJSON + Array(",\"kind\":\"\(kind.rawValue)\",\"start\":".utf8)
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
            _ = copy.initialize(from: bytes)
            prefixes[kindIndex(kind)] = UnsafeBufferPointer(copy)
        }
        return prefixes
    }

    static let kindCount = 8

    static func kindIndex(_ kind: IdentifierKind) -> Int {
        switch kind {
        case .cnResidentID: return 0
        case .kzIIN: return 1
        case .cnPassport: return 2
        case .kzPassport: return 3
        case .phone: return 4
        case .email: return 5
        case .wechatID: return 6
        case .dateOfBirth: return 7
        }
    }

    private static let endKey: StaticString = ",\"end\":"
    private static let valueKey: StaticString = ",\"value\":\""
    private static let validTail: StaticString = "\",\"confidence\":\"valid\"}"
    private static let suspectTail: StaticString = "\",\"confidence\":\"suspect\"}"

    /// Appends the findings of `piece` as JSON objects, each preceded by `,` except the very first.
    static func serialize(
        _ block: FindingBlock, _ range: Range<Int>, _ filePrefixes: [UnsafeBufferPointer<UInt8>], first: Bool,
        into out: OutputBuffer
    ) {
        filePrefixes.withUnsafeBufferPointer { filePrefixes in
            var first = first
            block.forEach(in: range) { kind, range, confidence, value in
                let prefix = filePrefixes[JSONFindingsWriter.kindIndex(kind)]
                out.reserve(prefix.count + 160 + value.count * 6)
                out.append(first ? UnsafeBufferPointer(rebasing: prefix.dropFirst()) : prefix)
                first = false
                out.append(integer: range.lowerBound)
                out.append(JSONFindingsWriter.endKey)
                out.append(integer: range.upperBound)
                out.append(JSONFindingsWriter.valueKey)
                out.appendEscaped(value)
                out.append(confidence == .valid ? JSONFindingsWriter.validTail : JSONFindingsWriter.suspectTail)
            }
        }
    }

    /// Writes `bytes` to standard output.
    /// - Throws: ``AmanatError`` 74 when stdout cannot be written.
    static func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { try writeAll($0) }
    }

    static func writeAll(_ buffer: UnsafeBufferPointer<UInt8>) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = Foundation.write(STDOUT_FILENO, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw AmanatError(
                    .ioError, "cannot write the findings to standard output: \(String(cString: strerror(errno))).")
            }
            offset += written
        }
    }
}
