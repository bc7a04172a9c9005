import AmanatCrypto

/// Whether a reader expects the ASCII armor.
public enum AgeArmorMode: Sendable, Equatable {
    /// Armored if the first non-whitespace byte is `-` (as in `-----BEGIN`), binary otherwise.
    case detect
    /// The binary format only.
    case binary
    /// The ASCII armor only.
    case armored
}

/// Decrypts an age file as a stream, with memory bounded by one batch of chunks whatever the file size.
///
/// The initializer reads and parses the header, unwraps the file key with the first identity that matches, verifies
/// the header MAC and reads the payload nonce. ``read(into:)`` then returns plaintext that has been authenticated, and
/// 0 only once the final chunk has been verified and nothing follows it.
///
/// ```swift
/// let reader = try AgeReader(source: { try file.read(into: $0) }, identities: [identity])
/// var buffer = [UInt8](repeating: 0, count: 1 << 16)
/// while case let n = try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }), n > 0 { … }
/// ```
///
/// - Important: on a payload error, the plaintext already returned is authentic but incomplete: a caller that acts
///   on the data must wait for `read` to return 0 before trusting that it has the whole file.
/// - Important: not thread-safe; use one reader from one thread at a time.
public final class AgeReader {
    /// The recipient stanza types and whether the file was armored.
    public let summary: AgeHeaderSummary

    /// Chunks per batch: 32 × 64 KiB = 2 MiB of ciphertext and 2 MiB of plaintext at most in memory.
    static let batchChunks = 32

    private let input: ByteSource
    private let crypter: ChunkCrypter
    private let sealed: UnsafeMutableRawBufferPointer
    private let plain: UnsafeMutableRawBufferPointer
    private let outcomes: UnsafeMutableBufferPointer<ChunkCrypter.Outcome>
    private var nextCounter: UInt64 = 0
    private var released = 0
    private var releasedEnd = 0
    private var pendingError: Error?
    private var finished = false

    /// Opens an age file.
    /// - Parameters:
    ///   - source: reads the file: fills a prefix of the buffer, returns the count, 0 at the end.
    ///   - identities: tried in order; the first that unwraps the file key is used.
    ///   - armor: whether to expect the ASCII armor (detected by default).
    ///   - limits: header size limits.
    ///   - parallelism: threads for the payload (default: the active processors, at most 8).
    /// - Throws: ``AgeError`` (``AgeError/header(_:)``, ``AgeError/armor(_:)``, ``AgeError/noMatch(recipientStanzas:)``,
    ///   ``AgeError/hmac``), or whatever `source` throws.
    public init(
        source: @escaping AgeSource, identities: [any AgeIdentity], armor: AgeArmorMode = .detect,
        limits: AgeHeaderLimits = .default, parallelism: Int? = nil
    ) throws {
        let (input, armored) = try Self.open(source: source, armor: armor)
        let header = try AgeHeaderFormat.parse(input, limits: limits)
        summary = AgeHeaderSummary(stanzaTypes: header.stanzas.map(\.type), armored: armored)

        var fileKey: SecretBytes?
        for identity in identities {
            if let key = try identity.unwrap(stanzas: header.stanzas) {
                fileKey = key
                break
            }
        }
        // The file key's buffer is wiped when the last copy is released, at the end of this initializer.
        guard let fileKey else { throw AgeError.noMatch(recipientStanzas: header.stanzas.count) }
        guard fileKey.count == AgeWrap.fileKeySize else {
            throw AgeError.header("an identity returned a \(fileKey.count)-byte file key")
        }
        let macKey = try HKDF.deriveKey(
            inputKeyMaterial: fileKey, salt: [], info: AgeHeaderFormat.macInfo, outputByteCount: 32)
        guard try HMACSHA256.isValid(header.mac, key: macKey, message: header.macInput) else { throw AgeError.hmac }

        var nonce = [UInt8](repeating: 0, count: ChunkCrypter.nonceSize)
        let got = try nonce.withUnsafeMutableBytes { try input.readFully(into: $0) }
        guard got == ChunkCrypter.nonceSize else { throw AgeError.header("the payload nonce is missing or short") }

        self.input = input
        crypter = try ChunkCrypter(fileKey: fileKey, nonce: nonce, parallelism: parallelism)
        sealed = .allocate(byteCount: Self.batchChunks * ChunkCrypter.sealedChunkSize, alignment: 64)
        plain = .allocate(byteCount: Self.batchChunks * ChunkCrypter.chunkSize, alignment: 64)
        outcomes = .allocate(capacity: Self.batchChunks)
    }

    deinit {
        plain.initializeMemory(as: UInt8.self, repeating: 0)
        plain.deallocate()
        sealed.deallocate()
        outcomes.deallocate()
    }

    /// Reads just the header: the stanza types, without any identity (so without checking the MAC).
    /// - Throws: ``AgeError/header(_:)``, ``AgeError/armor(_:)``, or whatever `source` throws.
    public static func inspect(
        source: @escaping AgeSource, armor: AgeArmorMode = .detect, limits: AgeHeaderLimits = .default
    ) throws -> AgeHeaderSummary {
        let (input, armored) = try open(source: source, armor: armor)
        let header = try AgeHeaderFormat.parse(input, limits: limits)
        return AgeHeaderSummary(stanzaTypes: header.stanzas.map(\.type), armored: armored)
    }

    private static func open(source: @escaping AgeSource, armor: AgeArmorMode) throws -> (ByteSource, Bool) {
        let raw = ByteSource(source)
        let armored: Bool
        switch armor {
        case .binary: armored = false
        case .armored: armored = true
        case .detect: armored = try detectArmor(raw)
        }
        guard armored else { return (raw, false) }
        let decoder = ArmorDecoder(input: raw)
        return (ByteSource { try decoder.read(into: $0) }, true)
    }

    private static func detectArmor(_ raw: ByteSource) throws -> Bool {
        var i = 0
        while i < 4096 {
            guard try raw.fill(atLeast: i + 1) > i else { return false }
            let c = raw.peek(i)
            if !AgeArmor.isWhitespace(c) { return c == UInt8(ascii: "-") }
            i += 1
        }
        return true
    }

    /// Reads authenticated plaintext into `buffer`; returns the count, 0 at the verified end of the file.
    /// - Throws: ``AgeError/payload(_:)`` (after returning the plaintext authenticated before the problem), an
    ///   ``AgeError/armor(_:)`` found late in an armored file, or whatever the source throws.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !buffer.isEmpty else { return 0 }
        while true {
            if released < releasedEnd {
                let n = min(releasedEnd - released, buffer.count)
                buffer.baseAddress!.copyMemory(from: plain.baseAddress! + released, byteCount: n)
                released += n
                return n
            }
            if let pendingError { throw pendingError }
            if finished { return 0 }
            try nextBatch()
        }
    }

    /// Reads everything that remains.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: ChunkCrypter.chunkSize)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    private func nextBatch() throws {
        released = 0
        releasedEnd = 0
        let capacity = Self.batchChunks * ChunkCrypter.sealedChunkSize
        let filled = try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: sealed[0..<capacity]))
        let atEnd = try filled < capacity || input.fill(atLeast: 1) == 0
        if filled == 0 {
            pendingError = AgeError.payload(.truncated(afterChunks: nextCounter))
            return
        }
        let count = (filled + ChunkCrypter.sealedChunkSize - 1) / ChunkCrypter.sealedChunkSize
        crypter.open(
            input: UnsafeRawBufferPointer(rebasing: sealed[0..<filled]), count: count, output: plain,
            firstCounter: nextCounter, atEnd: atEnd, outcomes: outcomes)
        var good = 0
        var error: Error?
        for i in 0..<count {
            let chunk = nextCounter + UInt64(i)
            switch outcomes[i] {
            case .ok:
                good += 1
                continue
            case .okButTrailing:
                good += 1
                error = AgeError.payload(.trailingData(afterChunks: chunk + 1))
            case .okButTruncated:
                good += 1
                error = AgeError.payload(.truncated(afterChunks: chunk + 1))
            case .authenticationFailed:
                error = AgeError.payload(.authenticationFailed(chunk: chunk))
            case .emptyFinalChunk:
                error = AgeError.payload(.emptyFinalChunk(chunk: chunk))
            case .cryptoError:
                error = crypter.takeWorkerError() ?? AgeError.payload(.authenticationFailed(chunk: chunk))
            }
            break
        }
        _ = crypter.takeWorkerError()
        releasedEnd = good == count ? filled - count * ChunkCrypter.tagSize : good * ChunkCrypter.chunkSize
        nextCounter += UInt64(count)
        if let error {
            pendingError = error
        } else if atEnd {
            finished = true
        }
    }
}
