import AmanatAge
import AmanatCrypto
import FuzzSupport

// The age STREAM payload (64 KiB ChaCha20-Poly1305 chunks, counter and last-chunk flag in the nonce) behind a fixed,
// valid header. Random bytes would never authenticate, so the input is a program: the harness seals chunks with the
// real payload key as the program says (full, short or empty; the last flag set or not; a skipped counter; a cut
// tag; raw bytes) and then decrypts with AgeReader. A stream the reader accepts must be exactly a valid one, and the
// plaintext it returns must be exactly what was sealed.

private let fileKey = SecretBytes(Array("fuzz file key 16".utf8))
private let chunkSize = 64 * 1024

/// Returns the fixed file key for the harness's own stanza type.
private struct FuzzIdentity: AgeIdentity {
    func unwrap(stanzas: [AgeStanza]) throws -> SecretBytes? {
        stanzas.contains { $0.type == "fuzz" } ? fileKey : nil
    }
}

/// `age-encryption.org/v1`, one `fuzz` stanza with an empty body, and the MAC under the fixed file key.
private let header: [UInt8] = {
    do {
        let body = Array("age-encryption.org/v1\n-> fuzz\n\n---".utf8)
        let macKey = try HKDF.deriveKey(
            inputKeyMaterial: fileKey, salt: [], info: Array("header".utf8), outputByteCount: 32)
        let mac = try HMACSHA256.authenticationCode(key: macKey, message: body)
        return body + Array(" \(Base64.encodeUnpadded(mac))\n".utf8)
    } catch {
        fatalError("cannot build the fuzz header: \(error)")
    }
}()

private let nonce = [UInt8](repeating: 0xA5, count: 16)

private let payloadKey: SecretBytes = {
    do {
        return try HKDF.deriveKey(
            inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    } catch {
        fatalError("cannot derive the payload key: \(error)")
    }
}()

/// Reads the program's bytes; past the end, zeros.
private struct Program {
    let bytes: [UInt8]
    var index = 0
    var atEnd: Bool { index >= bytes.count }
    mutating func next() -> UInt8 {
        defer { index += 1 }
        return index < bytes.count ? bytes[index] : 0
    }
}

private func streamNonce(counter: UInt64, last: Bool) -> ChaChaPoly.Nonce {
    var raw = [UInt8](repeating: 0, count: 12)
    for i in 0..<8 { raw[3 + i] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(i))) }
    raw[11] = last ? 1 : 0
    guard let nonce = try? ChaChaPoly.Nonce(raw) else { fatalError("a 12-byte nonce is refused") }
    return nonce
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var program = Program(bytes: fuzzInput(data, size))
    let parallelism = program.next() & 1 == 0 ? 1 : 2
    var payload: [UInt8] = []
    var plaintext: [UInt8] = []
    var counter: UInt64 = 0
    // Whether the payload is a valid STREAM: every chunk intact and in order, all but the last full, only the last
    // flagged, the last non-empty unless it is the only one, nothing after it.
    var valid = true
    var sawLast = false
    var chunks = 0
    while !program.atEnd, chunks < 40 {
        let op = program.next()
        if op & 3 == 3 {
            // Raw bytes into the ciphertext.
            let n = Int(program.next())
            for _ in 0..<n { payload.append(program.next()) }
            if n > 0 { valid = false }
            continue
        }
        let length: Int
        switch op & 3 {
        case 0: length = chunkSize
        case 1: length = min(chunkSize, Int(program.next()) << 8 | Int(program.next()))
        default: length = Int(program.next())
        }
        let last = op & 4 != 0
        let skew: UInt64 = op & 8 != 0 ? 1 + UInt64(program.next() & 3) : 0
        let cut = op & 16 != 0 ? Int(program.next() & 31) : 0
        let fill = UInt8(truncatingIfNeeded: counter &* 31 &+ 7)
        let chunk = [UInt8](repeating: fill, count: length)
        guard
            var sealed = try? ChaChaPoly.seal(
                key: payloadKey, nonce: streamNonce(counter: counter &+ skew, last: last), plaintext: chunk)
        else { fatalError("ChaCha20-Poly1305 sealing failed") }
        if cut > 0 { sealed.removeLast(min(cut, sealed.count)) }
        // A cut that removed the whole sealed chunk left nothing in the payload: no chunk was written.
        if sealed.isEmpty { continue }
        if sawLast || skew != 0 || cut > 0 { valid = false }
        if !last && length != chunkSize { valid = false }
        if last && length == 0 && counter != 0 { valid = false }
        sawLast = sawLast || last
        payload += sealed
        plaintext += chunk
        counter += 1
        chunks += 1
    }
    if !sawLast { valid = false }

    let file = header + nonce + payload
    do {
        let reader = try AgeReader(
            source: Age.memorySource(file), identities: [FuzzIdentity()], armor: .binary, parallelism: parallelism)
        let got = try reader.readAll()
        guard valid else { fuzzFailure("age-stream", "an invalid STREAM decrypted without an error") }
        guard got == plaintext else { fuzzFailure("age-stream", "the plaintext differs from what was sealed") }
    } catch let error as AgeError {
        guard !valid else { fuzzFailure("age-stream", "a valid STREAM was refused: \(error)") }
    } catch {
        fuzzFailure("age-stream", "AgeReader threw a non-AgeError: \(error)")
    }
    return 0
}
