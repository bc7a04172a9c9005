import AmanatCrypto
import Foundation

/// Encrypts a stream to age, with memory bounded by one batch of chunks whatever the size.
///
/// The initializer generates the file key, wraps it for every recipient and passes the header and payload nonce to
/// the sink. ``write(_:)`` buffers plaintext and seals full batches of chunks (in parallel); ``finish()`` seals the
/// rest, marks the final chunk, and closes the armor.
///
/// - Important: the output is a valid age file only after ``finish()`` returns. Not thread-safe.
public final class AgeWriter {
    private let output: AgeSink
    private let armor: ArmorEncoder?
    private let crypter: ChunkCrypter
    private let buffer: UnsafeMutableRawBufferPointer
    private var slot = 0
    private var slotFill = 0
    private var nextCounter: UInt64 = 0
    private var done = false

    /// - Parameters:
    ///   - recipients: who can open the file; a scrypt (passphrase) recipient must be the only one.
    ///   - armor: write the ASCII armor instead of binary.
    ///   - parallelism: threads for the payload (default: the active processors, at most 8).
    ///   - sink: receives the encrypted bytes (the buffer is valid only during the call).
    /// - Throws: ``AgeError/invalidUse(_:)`` for no recipients or a passphrase mixed with others; whatever the sink
    ///   throws; ``AmanatCrypto/CryptoError``.
    public init(
        recipients: [any AgeRecipient], armor: Bool = false, parallelism: Int? = nil, sink: @escaping AgeSink
    ) throws {
        guard !recipients.isEmpty else { throw AgeError.invalidUse("no recipient") }
        if recipients.count > 1, recipients.contains(where: \.requiresSoleStanza) {
            throw AgeError.invalidUse("a passphrase recipient cannot be combined with other recipients")
        }
        // The file key's buffer is wiped when it is released, at the end of this initializer.
        let fileKey = try SecureRandom.secret(AgeWrap.fileKeySize)
        var stanzas: [AgeStanza] = []
        for recipient in recipients { stanzas += try recipient.wrap(fileKey: fileKey) }
        if stanzas.count > 1, stanzas.contains(where: { $0.type == "scrypt" }) {
            throw AgeError.invalidUse("an scrypt stanza must be the only stanza")
        }
        let header = try AgeHeaderFormat.encode(stanzas, fileKey: fileKey)
        let nonce = try SecureRandom.bytes(ChunkCrypter.nonceSize)
        crypter = try ChunkCrypter(fileKey: fileKey, nonce: nonce, parallelism: parallelism)
        if armor {
            let encoder = ArmorEncoder(sink: sink)
            self.armor = encoder
            output = { try encoder.write($0) }
        } else {
            self.armor = nil
            output = sink
        }
        buffer = .allocate(byteCount: AgeReader.batchChunks * ChunkCrypter.sealedChunkSize, alignment: 64)
        try (header + nonce).withUnsafeBytes { try output($0) }
    }

    deinit {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffer.deallocate()
    }

    /// Encrypts `bytes` (sealed in batches as they fill up).
    /// - Throws: ``AgeError/invalidUse(_:)`` after ``finish()`` or a failed write; whatever the sink throws.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !done else { throw AgeError.invalidUse("write after finish() or after a failed write") }
        var i = 0
        while i < bytes.count {
            if slotFill == ChunkCrypter.chunkSize {
                if slot == AgeReader.batchChunks - 1 {
                    try flush(count: AgeReader.batchChunks, lastLength: ChunkCrypter.chunkSize, final: false)
                    slot = 0
                } else {
                    slot += 1
                }
                slotFill = 0
            }
            let n = min(ChunkCrypter.chunkSize - slotFill, bytes.count - i)
            (buffer.baseAddress! + slot * ChunkCrypter.sealedChunkSize + slotFill)
                .copyMemory(from: bytes.baseAddress! + i, byteCount: n)
            slotFill += n
            i += n
        }
    }

    /// Encrypts `bytes`.
    public func write(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Seals the last chunk as final and closes the armor. The writer cannot be used afterwards.
    /// - Throws: ``AgeError/invalidUse(_:)`` if called twice; whatever the sink throws.
    public func finish() throws {
        guard !done else { throw AgeError.invalidUse("finish() called twice or after a failed write") }
        try flush(count: slot + 1, lastLength: slotFill, final: true)
        try armor?.finish()
        done = true
    }

    private func flush(count: Int, lastLength: Int, final: Bool) throws {
        do {
            try crypter.seal(
                buffer: buffer, count: count, lastLength: lastLength, firstCounter: nextCounter, final: final)
            nextCounter += UInt64(count)
            let total = (count - 1) * ChunkCrypter.sealedChunkSize + lastLength + ChunkCrypter.tagSize
            try output(UnsafeRawBufferPointer(rebasing: buffer[0..<total]))
        } catch {
            done = true
            throw error
        }
    }
}

/// One-shot helpers over ``AgeWriter`` and ``AgeReader`` for data that fits in memory.
public enum Age {
    /// Encrypts `plaintext` to `recipients`.
    /// - Throws: see ``AgeWriter/init(recipients:armor:parallelism:sink:)``.
    public static func encrypt(
        _ plaintext: some ContiguousBytes, to recipients: [any AgeRecipient], armor: Bool = false
    ) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = try AgeWriter(recipients: recipients, armor: armor) { out.append(contentsOf: $0) }
        try writer.write(plaintext)
        try writer.finish()
        return out
    }

    /// Decrypts a whole age file (binary or armored).
    /// - Throws: ``AgeError``; nothing is returned unless the whole payload authenticates.
    public static func decrypt(
        _ file: [UInt8], identities: [any AgeIdentity], armor: AgeArmorMode = .detect,
        limits: AgeHeaderLimits = .default
    ) throws -> [UInt8] {
        let reader = try AgeReader(source: memorySource(file), identities: identities, armor: armor, limits: limits)
        return try reader.readAll()
    }

    /// The header's recipient stanza types, read without any identity.
    /// - Throws: ``AgeError/header(_:)`` or ``AgeError/armor(_:)``.
    public static func inspect(_ file: [UInt8], armor: AgeArmorMode = .detect) throws -> AgeHeaderSummary {
        try AgeReader.inspect(source: memorySource(file), armor: armor)
    }

    /// A source that reads `bytes` from memory.
    public static func memorySource(_ bytes: [UInt8]) -> AgeSource {
        var offset = 0
        return { buffer in
            let n = min(buffer.count, bytes.count - offset)
            if n > 0 {
                bytes.withUnsafeBytes {
                    buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n)
                }
            }
            offset += n
            return n
        }
    }
}
