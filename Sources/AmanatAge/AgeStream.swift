import AmanatCrypto
import Dispatch
import Foundation

/// Carries a value into a `@Sendable` closure whose concurrent use the caller has made safe by construction.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// The STREAM construction of the age payload: 64 KiB chunks sealed with ChaCha20-Poly1305 under the payload key,
/// nonce = 11-byte big-endian chunk counter ‖ final-chunk flag. Chunks are independent, so a batch of chunks is
/// sealed or opened by several threads at once, each with its own cipher context.
final class ChunkCrypter {
    static let chunkSize = 64 * 1024
    static let tagSize = ChaChaPoly.tagSize
    static let sealedChunkSize = chunkSize + tagSize
    static let payloadInfo = Array("payload".utf8)
    static let nonceSize = 16

    /// What happened to one chunk when opened.
    enum Outcome: UInt8 {
        case ok
        /// Authenticated, but as the final chunk while more data follows.
        case okButTrailing
        /// Authenticated, but as a non-final chunk at the end of the input.
        case okButTruncated
        case authenticationFailed
        case emptyFinalChunk
        case cryptoError
    }

    private final class Worker {
        let cipher: ChaChaPoly.Cipher
        var error: Error?
        init(key: SecretBytes) throws { cipher = try ChaChaPoly.Cipher(key: key) }
    }

    private let workers: [Worker]

    /// The default number of threads: the active processors, at most 8.
    static var defaultParallelism: Int { max(1, min(8, ProcessInfo.processInfo.activeProcessorCount)) }

    init(fileKey: SecretBytes, nonce: [UInt8], parallelism: Int?) throws {
        let key = try HKDF.deriveKey(
            inputKeyMaterial: fileKey, salt: nonce, info: Self.payloadInfo, outputByteCount: 32)
        let count = max(1, min(64, parallelism ?? Self.defaultParallelism))
        workers = try (0..<count).map { _ in try Worker(key: key) }
    }

    /// Runs `body(worker, range)` over `count` chunks split into contiguous ranges, in parallel when worthwhile.
    private func run(count: Int, _ body: @escaping (Worker, Range<Int>) -> Void) {
        let threads = count >= 4 ? min(workers.count, count) : 1
        if threads == 1 {
            body(workers[0], 0..<count)
            return
        }
        // Each worker touches only its own cipher, error and chunk range, and concurrentPerform returns after all
        // iterations finish, so sharing these for the duration of the call is safe. `body` is a heap-allocated
        // (escaping) closure so its reference counting is atomic.
        let shared = UncheckedSendable(value: (body, workers))
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            shared.value.0(shared.value.1[w], (w * count / threads)..<((w + 1) * count / threads))
        }
    }

    /// Seals `count` chunks in place. Chunk `i`'s plaintext is at `buffer + i * sealedChunkSize`, `chunkSize` bytes
    /// long except the last (`lastLength`); its tag is written right after it, so the sealed chunks end up contiguous.
    func seal(
        buffer: UnsafeMutableRawBufferPointer, count: Int, lastLength: Int, firstCounter: UInt64, final: Bool
    ) throws {
        for worker in workers { worker.error = nil }
        run(count: count) { worker, range in
            for i in range {
                let length = i == count - 1 ? lastLength : Self.chunkSize
                let start = buffer.baseAddress! + i * Self.sealedChunkSize
                let nonce = ChaChaPoly.Nonce.stream(counter: firstCounter + UInt64(i), isFinal: final && i == count - 1)
                do {
                    try worker.cipher.seal(
                        nonce: nonce, input: UnsafeRawBufferPointer(start: start, count: length),
                        output: UnsafeMutableRawBufferPointer(start: start, count: length + Self.tagSize))
                } catch {
                    worker.error = error
                    return
                }
            }
        }
        if let error = takeWorkerError() { throw error }
    }

    /// Opens `count` sealed chunks laid end to end in `input` (`inputCount` bytes) into `output` (chunk `i`'s
    /// plaintext at `i * chunkSize`), writing each chunk's ``Outcome`` to `outcomes`. `atEnd` says whether the input
    /// ends after the last chunk. A chunk is tried with the flag its position implies, then (when full-size) with
    /// the other flag, so a mis-flagged chunk is reported as trailing data or truncation rather than tampering.
    func open(
        input: UnsafeRawBufferPointer, count: Int, output: UnsafeMutableRawBufferPointer, firstCounter: UInt64,
        atEnd: Bool, outcomes: UnsafeMutableBufferPointer<Outcome>
    ) {
        run(count: count) { worker, range in
            for i in range {
                let start = i * Self.sealedChunkSize
                let size = min(Self.sealedChunkSize, input.count - start)
                let counter = firstCounter + UInt64(i)
                let last = atEnd && i == count - 1
                if size < Self.tagSize {
                    outcomes[i] = .authenticationFailed
                    continue
                }
                if last && size == Self.tagSize && counter > 0 {
                    outcomes[i] = .emptyFinalChunk
                    continue
                }
                let chunk = UnsafeRawBufferPointer(rebasing: input[start..<(start + size)])
                let plain = UnsafeMutableRawBufferPointer(
                    rebasing: output[(i * Self.chunkSize)..<(i * Self.chunkSize + size - Self.tagSize)])
                func attempt(final: Bool) -> Bool? {
                    do {
                        try worker.cipher.open(
                            nonce: .stream(counter: counter, isFinal: final), input: chunk, output: plain)
                        return true
                    } catch CryptoError.authenticationFailed {
                        return false
                    } catch {
                        worker.error = error
                        return nil
                    }
                }
                guard let first = attempt(final: last) else {
                    outcomes[i] = .cryptoError
                    continue
                }
                if first {
                    outcomes[i] = .ok
                } else if size == Self.sealedChunkSize, let second = attempt(final: !last), second {
                    outcomes[i] = last ? .okButTruncated : .okButTrailing
                } else {
                    outcomes[i] = worker.error == nil ? .authenticationFailed : .cryptoError
                }
            }
        }
    }

    /// The first error a worker recorded during ``open(input:count:output:firstCounter:atEnd:outcomes:)``.
    func takeWorkerError() -> Error? {
        var first: Error?
        for worker in workers {
            if first == nil { first = worker.error }
            worker.error = nil
        }
        return first
    }
}
