import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import Foundation

/// A folder for what `seal` must measure before the bundle's header is written but cannot hold in memory at scale
/// (the version proofs): `.amanat/.seal.partial-XXXXXXXX/`, registered with ``Leftovers``. Each file in it is an
/// ``EncryptedBlob`` under a random key that exists only in this object, so nothing readable reaches the disk; the
/// folder is removed by ``remove()`` (and when the object goes away, and by a later sweep if the process dies).
/// Sendable: its properties do not change after `init`; the version proofs are written into it from another thread
/// while the records are sealed, and it is removed only after that writing has ended.
final class SealStaging: @unchecked Sendable {
    let folder: URL
    private let key: SecretBytes
    private let leftover: Int

    init(parent: URL) throws {
        folder = parent.appendingPathComponent(".seal.partial-\(UUID().uuidString.prefix(8).lowercased())")
        leftover = Leftovers.register(folder.path)
        key = SecretBytes(try SecureRandom.bytes(ChaChaPoly.keySize))
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            Leftovers.unregister(leftover)
            throw AmanatError(.cannotCreateOutput, "cannot create \(folder.path) to stage the bundle: \(error)")
        }
    }

    deinit { remove() }

    /// A new staged file (committed into the folder by ``EncryptedBlob/Writer/finish()``).
    func writer(_ name: String) throws -> EncryptedBlob.Writer {
        try EncryptedBlob.Writer(
            path: folder.appendingPathComponent(name).path, key: key, tracked: false, durable: false)
    }

    /// A staged file, read back.
    func reader(_ name: String) throws -> EncryptedBlob.Reader {
        try EncryptedBlob.Reader(path: folder.appendingPathComponent(name).path, key: key)
    }

    /// Removes the folder and what it holds.
    func remove() {
        try? FileManager.default.removeItem(at: folder)
        Leftovers.unregister(leftover)
    }
}

/// A run of staged bytes as a bundle input's stream: at most `size` bytes from `reader`.
final class StagedSource {
    private let reader: EncryptedBlob.Reader
    private var left: UInt64

    init(_ reader: EncryptedBlob.Reader, size: UInt64) {
        self.reader = reader
        left = size
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard left > 0 else { return 0 }
        let n = try reader.read(
            UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(buffer.count), left))]))
        left -= UInt64(n)
        return n
    }
}

/// The staged version proofs as a bundle input's stream: waits until they are all made (on other threads, while the
/// records are sealed), checks that they have the size the bundle's header stated, then reads them.
final class ProofsSource {
    private let staging: SealStaging
    private let made: Ahead<UInt64>
    private let size: UInt64
    private var source: StagedSource?

    init(staging: SealStaging, made: Ahead<UInt64>, size: UInt64) {
        self.staging = staging
        self.made = made
        self.size = size
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if source == nil {
            let written = try made.get()
            guard written == size else {
                throw AmanatError(
                    .ioError,
                    "the version proofs came to \(written) bytes where \(size) were announced (a bug); nothing was sent."
                )
            }
            source = StagedSource(try staging.reader(BundleLog.versionProofsName), size: size)
        }
        return try source!.read(buffer)
    }
}

/// One record batch of a bundle, read from the store when the sealer reaches it (``Store/compactLines(_:)``) and
/// dropped once it has been sealed: memory holds one batch (and the next, read ahead), not the bundle.
final class RecordBatchSource {
    private let reader: RecordBatchReader
    private let number: Int
    private var pieces: [[UInt8]]?
    private var piece = 0
    private var offset = 0

    init(reader: RecordBatchReader, number: Int) {
        self.reader = reader
        self.number = number
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pieces == nil { pieces = try reader.lines(number) }
        while piece < pieces!.count {
            guard offset < pieces![piece].count else {
                // A piece sealed is dropped at once.
                pieces![piece] = []
                (piece, offset) = (piece + 1, 0)
                continue
            }
            let n = min(buffer.count, pieces![piece].count - offset)
            pieces![piece].withUnsafeBytes {
                buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n)
            }
            offset += n
            return n
        }
        return 0
    }
}

/// The record batches of one bundle, read in order: when the sealer takes batch n, batch n+1 is read and opened on
/// another thread while the sealer writes n (the sealer reaches the batches one after the other). ``lines(_:)`` and
/// ``finish()`` are called by the sealing thread only; the work read ahead touches the store and `batches`, which
/// do not change.
final class RecordBatchReader: @unchecked Sendable {
    private let store: Store
    private let batches: [(ids: ArraySlice<String>, size: UInt64)]
    /// The batch being read ahead, if any.
    private var ahead: (number: Int, lines: Ahead<[[UInt8]]>)?

    /// How many versions are read and opened at a time (``defaultPiece``).
    private let piece: Int

    init(store: Store, batches: [(ids: ArraySlice<String>, size: UInt64)], piece: Int = RecordBatchReader.defaultPiece)
    {
        self.store = store
        self.batches = batches
        self.piece = max(1, piece)
    }

    /// The lines of batch `number` (from 0), in pieces; starts reading the next one.
    func lines(_ number: Int) throws -> [[UInt8]] {
        let pending = ahead?.number == number ? ahead?.lines : nil
        finish()
        let lines = try pending?.get() ?? read(number)
        if number + 1 < batches.count { ahead = (number + 1, Ahead { [self] in try read(number + 1) }) }
        return lines
    }

    /// Waits for a batch read ahead that nobody took (sealing stopped early), so that no read outlives sealing.
    func finish() {
        ahead?.lines.wait()
        ahead = nil
    }

    /// How many versions are read and opened at a time unless told otherwise. A batch (4096 versions, tens of
    /// megabytes) read as one buffer took fresh pages from the kernel for every batch (allocations that large are
    /// mapped and unmapped each time), and faulting them in cost as much as copying the rows; pieces of this size
    /// reuse the heap's memory.
    static let defaultPiece = 512

    private func read(_ number: Int) throws -> [[UInt8]] {
        let batch = batches[number]
        let ranges = stride(from: batch.ids.startIndex, to: batch.ids.endIndex, by: piece).map {
            $0..<min($0 + piece, batch.ids.endIndex)
        }
        // The pieces are read on every core: reading the rows is one thread's work per read transaction, and the
        // sealer and the encryption leave most of a core free.
        let (store, ids) = (store, batch.ids)
        let pieces = try OrderedParallel.map(ranges, minimumPerCore: 1, run: 1, makeWorker: {}) { _, range in
            try store.compactLines(ids[range])
        }
        let size = pieces.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        // The sizes came from the stored lengths; a version erased meanwhile changes them.
        guard size == batch.size else {
            throw AmanatError(
                .invalidRequest,
                "the store changed while the bundle was being sealed (a version was erased?); "
                    + "nothing was sent. Seal again.")
        }
        return pieces
    }
}
