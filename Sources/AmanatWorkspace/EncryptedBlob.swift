import AmanatCrypto
import Foundation

/// Attachment files at rest (`.amanat/blobs/`, `Specs/storage.md`): each is encrypted under its own random key (kept
/// wrapped by the store key in the store's `blob` row) in chunks, like age's STREAM, so a 4 GiB video streams in
/// constant memory:
///
/// ```
/// "amanat-blob/v1\n"  then chunks: ChaCha20-Poly1305( 64 KiB of plaintext ), the last one flagged
/// ```
///
/// The nonce of chunk *i* is the 11-byte big-endian counter *i* and a final-chunk flag byte; the associated data is
/// `amanat-blob/v1`. Truncation, reordering and appended data fail authentication.
public enum EncryptedBlob {
    static let magic = Array("amanat-blob/v1\n".utf8)
    static let chunkSize = 64 * 1024
    static let sealedChunkSize = chunkSize + ChaChaPoly.tagSize
    static let aad = Array("amanat-blob/v1".utf8)

    /// The plaintext size of an encrypted blob file of `fileSize` bytes, or nil if no such file can exist.
    public static func plaintextSize(fileSize: UInt64) -> UInt64? {
        guard fileSize >= UInt64(magic.count + ChaChaPoly.tagSize) else { return nil }
        let payload = fileSize - UInt64(magic.count)
        let chunks = (payload + UInt64(sealedChunkSize) - 1) / UInt64(sealedChunkSize)
        let last = payload - (chunks - 1) * UInt64(sealedChunkSize)
        guard last >= UInt64(ChaChaPoly.tagSize), chunks == 1 || last > UInt64(ChaChaPoly.tagSize) else { return nil }
        return payload - chunks * UInt64(ChaChaPoly.tagSize)
    }

    /// Encrypts a stream into an ``OutputFile`` (committed by ``finish()``).
    public final class Writer {
        private let out: OutputFile
        private let cipher: ChaChaPoly.Cipher
        private let plain: UnsafeMutableRawBufferPointer
        private let sealed: UnsafeMutableRawBufferPointer
        private var filled = 0
        private var counter: UInt64 = 0

        /// Starts a blob file at `path` (written under a temporary name; see ``OutputFile``).
        /// - Parameter durable: flush to the disk before the rename (``OutputFile``); false for temporary files.
        public init(path: String, key: SecretBytes, tracked: Bool = true, durable: Bool = true) throws {
            out = try OutputFile(path, mode: 0o600, overwrite: true, tracked: tracked, durable: durable)
            cipher = try ChaChaPoly.Cipher(key: key)
            plain = .allocate(byteCount: EncryptedBlob.chunkSize, alignment: 64)
            sealed = .allocate(byteCount: EncryptedBlob.sealedChunkSize, alignment: 64)
            try EncryptedBlob.magic.withUnsafeBytes { try out.write($0) }
        }

        deinit {
            wipe(plain)
            plain.deallocate()
            sealed.deallocate()
        }

        /// Appends plaintext. A full chunk is sealed only when more bytes follow, so the last one can be flagged.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                if filled == EncryptedBlob.chunkSize { try seal(isFinal: false) }
                let n = min(bytes.count - offset, EncryptedBlob.chunkSize - filled)
                (plain.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
                filled += n
                offset += n
            }
        }

        private func seal(isFinal: Bool) throws {
            try cipher.seal(
                nonce: .stream(counter: counter, isFinal: isFinal),
                input: UnsafeRawBufferPointer(rebasing: plain[0..<filled]),
                output: UnsafeMutableRawBufferPointer(rebasing: sealed[0..<(filled + ChaChaPoly.tagSize)]),
                aad: EncryptedBlob.aad)
            try out.write(UnsafeRawBufferPointer(rebasing: sealed[0..<(filled + ChaChaPoly.tagSize)]))
            counter += 1
            filled = 0
        }

        /// Seals the last chunk and renames the file into place.
        public func finish() throws {
            try seal(isFinal: true)
            try out.commit()
        }
    }

    /// Decrypts a blob file as a stream (`read` fills a buffer, 0 at the end).
    public final class Reader {
        public let path: String
        /// The size of the plaintext.
        public let plaintextSize: UInt64
        private let input: InputFile
        private let cipher: ChaChaPoly.Cipher
        private let chunks: UInt64
        private var index: UInt64 = 0
        private let plain: UnsafeMutableRawBufferPointer
        private let sealed: UnsafeMutableRawBufferPointer
        private var available = 0..<0

        /// - Throws: ``AmanatError`` `verificationFailed` when the file is not an encrypted blob.
        public init(path: String, key: SecretBytes) throws {
            self.path = path
            input = try InputFile(path, what: "attachment")
            guard let size = EncryptedBlob.plaintextSize(fileSize: input.size) else {
                throw AmanatError(.verificationFailed, "\(path) is not an encrypted attachment (damaged or replaced).")
            }
            plaintextSize = size
            let payload = input.size - UInt64(EncryptedBlob.magic.count)
            chunks = (payload + UInt64(EncryptedBlob.sealedChunkSize) - 1) / UInt64(EncryptedBlob.sealedChunkSize)
            cipher = try ChaChaPoly.Cipher(key: key)
            plain = .allocate(byteCount: EncryptedBlob.chunkSize, alignment: 64)
            sealed = .allocate(byteCount: EncryptedBlob.sealedChunkSize, alignment: 64)
            var header = [UInt8](repeating: 0, count: EncryptedBlob.magic.count)
            let got = try header.withUnsafeMutableBytes { try readFully($0) }
            guard got == header.count, header == EncryptedBlob.magic else {
                throw AmanatError(.verificationFailed, "\(path) is not an encrypted attachment (damaged or replaced).")
            }
        }

        deinit {
            wipe(plain)
            plain.deallocate()
            sealed.deallocate()
        }

        private func readFully(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            var total = 0
            while total < buffer.count {
                let n = try input.read(UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
                if n == 0 { break }
                total += n
            }
            return total
        }

        /// Fills a prefix of `buffer` with plaintext; returns the count, 0 at the end.
        /// - Throws: ``AmanatError`` `verificationFailed` when a chunk does not authenticate.
        public func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            if available.isEmpty {
                guard index < chunks else { return 0 }
                let isFinal = index == chunks - 1
                let want =
                    isFinal
                    ? Int(
                        input.size - UInt64(EncryptedBlob.magic.count) - index * UInt64(EncryptedBlob.sealedChunkSize))
                    : EncryptedBlob.sealedChunkSize
                let got = try readFully(UnsafeMutableRawBufferPointer(rebasing: sealed[0..<want]))
                do {
                    guard got == want else { throw CryptoError.authenticationFailed }
                    try cipher.open(
                        nonce: .stream(counter: index, isFinal: isFinal),
                        input: UnsafeRawBufferPointer(rebasing: sealed[0..<want]),
                        output: UnsafeMutableRawBufferPointer(rebasing: plain[0..<(want - ChaChaPoly.tagSize)]),
                        aad: EncryptedBlob.aad)
                } catch {
                    throw AmanatError(
                        .verificationFailed,
                        "\(path) does not decrypt at chunk \(index + 1) (damaged, altered or replaced).")
                }
                available = 0..<(want - ChaChaPoly.tagSize)
                index += 1
                if available.isEmpty { return 0 }
            }
            let n = min(buffer.count, available.count)
            buffer.baseAddress!.copyMemory(from: plain.baseAddress! + available.lowerBound, byteCount: n)
            available = (available.lowerBound + n)..<available.upperBound
            return n
        }
    }
}
