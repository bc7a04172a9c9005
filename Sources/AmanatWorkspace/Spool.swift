import AmanatCrypto
import Foundation

/// Items that a command keeps for every record until its end (a publication's log entries, the reports it prints
/// once the folder is in place), written once and read back in order from a file instead of memory, so that the
/// command's memory does not grow with the store.
///
/// The file is an ``EncryptedBlob`` under a key that exists only in memory, in a hidden staging folder beside the
/// command's output (`.<name>.<label>.partial-…`, registered with ``Leftovers``): what it holds is never readable
/// on disk, and it is removed when the spool is released or the command is interrupted.
public final class Spool {
    /// The largest item (a guard against a length prefix read wrong, not a limit callers meet).
    public static let maximumItemSize = 16 << 20

    private let folder: StagingDirectory
    private let path: String
    private let key: SecretBytes
    private var writer: EncryptedBlob.Writer?
    private var pending: [UInt8] = []
    /// How many items were appended.
    public private(set) var count = 0

    /// Creates an empty spool in a new staging folder beside `destination` (whose folder must exist).
    /// - Throws: ``AmanatError`` `cannotCreateOutput`.
    public init(beside destination: URL, label: String) throws {
        folder = try StagingDirectory(beside: destination, label: label + ".partial")
        path = folder.url.appendingPathComponent("items").path
        key = SecretBytes(try SecureRandom.bytes(32))
        writer = try EncryptedBlob.Writer(path: path, key: key, tracked: false)
    }

    /// Appends an item (at most ``maximumItemSize`` bytes).
    /// - Throws: ``AmanatError`` after ``forEach(_:)`` (the spool is then closed), or on an I/O error.
    public func append(_ item: [UInt8]) throws {
        guard writer != nil else { throw AmanatError(.ioError, "a spool was written to after it was read (a bug).") }
        guard item.count <= Self.maximumItemSize else {
            throw AmanatError(.invalidRequest, "an item of \(item.count) bytes does not fit a spool (a bug).")
        }
        let length = UInt32(item.count)
        pending.append(contentsOf: [
            UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff),
        ])
        pending.append(contentsOf: item)
        count += 1
        if pending.count >= 1 << 16 { try flush() }
    }

    /// Appends a text as its UTF-8 bytes.
    public func append(_ text: String) throws { try append(Array(text.utf8)) }

    private func flush() throws {
        try pending.withUnsafeBytes { try writer?.write($0) }
        wipe(&pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with every item, in the order appended. The first call ends the writing; it may be called again
    /// to read the items once more.
    /// - Throws: ``AmanatError`` when the file does not decrypt or is cut short, or what `body` throws.
    public func forEach(_ body: ([UInt8]) throws -> Void) throws {
        if let writer {
            try flush()
            try writer.finish()
            self.writer = nil
        }
        let reader = try EncryptedBlob.Reader(path: path, key: key)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var window = 0..<0
        defer { wipe(&buffer) }
        // Makes `need` bytes available at the window's start (moving what is left to the front); false at the end.
        func fill(_ need: Int) throws -> Bool {
            guard window.count < need else { return true }
            if buffer.count < need { buffer += [UInt8](repeating: 0, count: need - buffer.count) }
            let left = window.count
            if window.lowerBound > 0 {
                for i in 0..<left { buffer[i] = buffer[window.lowerBound + i] }
            }
            window = 0..<left
            while window.count < need {
                let n = try buffer.withUnsafeMutableBytes { raw in
                    try reader.read(UnsafeMutableRawBufferPointer(rebasing: raw[window.upperBound...]))
                }
                if n == 0 { return false }
                window = 0..<(window.upperBound + n)
            }
            return true
        }
        var read = 0
        while try fill(4) {
            let start = window.lowerBound
            let length =
                Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8
                | Int(buffer[start + 3])
            guard length <= Self.maximumItemSize else { throw damaged() }
            window = (start + 4)..<window.upperBound
            guard try fill(length) else { throw damaged() }
            let item = Array(buffer[window.lowerBound..<(window.lowerBound + length)])
            window = (window.lowerBound + length)..<window.upperBound
            read += 1
            try body(item)
        }
        guard window.isEmpty, read == count else { throw damaged() }
    }

    private func damaged() -> AmanatError {
        AmanatError(.ioError, "the temporary file \(path) was cut short or altered while the command ran.")
    }
}
