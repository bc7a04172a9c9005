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

    /// The staging folder the spool made for itself (nil when it is a file in a folder its owner removes).
    private let folder: StagingDirectory?
    private let path: String
    private let key: SecretBytes
    private var writer: EncryptedBlob.Writer?
    private var pending: [UInt8] = []
    /// How many items were appended.
    public private(set) var count = 0

    /// Creates an empty spool in a new staging folder beside `destination` (whose folder must exist).
    /// - Throws: ``AmanatError`` `cannotCreateOutput`.
    public init(beside destination: URL, label: String) throws {
        let folder = try StagingDirectory(beside: destination, label: label + ".partial")
        self.folder = folder
        path = folder.url.appendingPathComponent("items").path
        key = SecretBytes(try SecureRandom.bytes(32))
        writer = try EncryptedBlob.Writer(path: path, key: key, tracked: false, durable: false)
    }

    /// A spool in the file `path`, inside a staging folder that its owner removes.
    init(file path: String) throws {
        folder = nil
        self.path = path
        key = SecretBytes(try SecureRandom.bytes(32))
        writer = try EncryptedBlob.Writer(path: path, key: key, tracked: false, durable: false)
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
        let cursor = try read()
        while let item = try cursor.next() { try body(item) }
    }

    /// Ends the writing (on the first call) and returns a cursor over the items from the first.
    public func read() throws -> Cursor {
        if let writer {
            try flush()
            try writer.finish()
            self.writer = nil
        }
        return Cursor(try EncryptedBlob.Reader(path: path, key: key), count: count, path: path)
    }

    /// The items of a spool, one at a time.
    public final class Cursor {
        private let reader: EncryptedBlob.Reader
        private let count: Int
        private let path: String
        private var buffer = [UInt8](repeating: 0, count: 1 << 16)
        private var window = 0..<0
        private var read = 0

        init(_ reader: EncryptedBlob.Reader, count: Int, path: String) {
            self.reader = reader
            self.count = count
            self.path = path
        }

        deinit { wipe(&buffer) }

        /// The next item, or nil after the last.
        /// - Throws: ``AmanatError`` when the file does not decrypt or is cut short.
        public func next() throws -> [UInt8]? {
            guard try fill(4) else {
                guard window.isEmpty, read == count else { throw Spool.damaged(path) }
                return nil
            }
            let start = window.lowerBound
            let length =
                Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8
                | Int(buffer[start + 3])
            guard length <= Spool.maximumItemSize else { throw Spool.damaged(path) }
            window = (start + 4)..<window.upperBound
            guard try fill(length) else { throw Spool.damaged(path) }
            let item = Array(buffer[window.lowerBound..<(window.lowerBound + length)])
            window = (window.lowerBound + length)..<window.upperBound
            read += 1
            guard read <= count else { throw Spool.damaged(path) }
            return item
        }

        /// Makes `need` bytes available at the window's start (moving what is left to the front); false at the end.
        private func fill(_ need: Int) throws -> Bool {
            guard window.count < need else { return true }
            if buffer.count < need { buffer += [UInt8](repeating: 0, count: need - buffer.count) }
            let left = window.count
            if window.lowerBound > 0 {
                for i in 0..<left { buffer[i] = buffer[window.lowerBound + i] }
            }
            window = 0..<left
            while window.count < need {
                let upper = window.upperBound
                let n = try buffer.withUnsafeMutableBytes { raw in
                    try reader.read(UnsafeMutableRawBufferPointer(rebasing: raw[upper...]))
                }
                if n == 0 { return false }
                window = 0..<(upper + n)
            }
            return true
        }
    }

    static func damaged(_ path: String) -> AmanatError {
        AmanatError(.ioError, "the temporary file \(path) was cut short or altered while the command ran.")
    }
}
