import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@Suite struct AgeRobustnessTests {
    static let chunk = 64 * 1024
    static let sealedChunk = chunk + 16

    @Test func everySingleByteChangeIsRefused() throws {
        // Given a small binary file
        let me = X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
        let plaintext = SplitMix64.bytes(100)
        let file = try Age.encrypt(plaintext, to: [me.recipient])
        var positions = 0
        // When any one byte is changed (two different ways), then decryption fails and releases nothing wrong
        for i in 0..<file.count {
            for mask: UInt8 in [0x01, 0xA5] {
                var tampered = file
                tampered[i] ^= mask
                let (released, error) = AgeTestSupport.decryptCollecting(tampered, identities: [me], armor: .binary)
                #expect(error is AgeError, "byte \(i) ^ \(mask) was accepted")
                #expect(released.isEmpty, "byte \(i) ^ \(mask) released plaintext")
            }
            positions += 1
        }
        #expect(positions == file.count && positions > 250)
    }

    @Test func truncationAroundEveryChunkBoundary() throws {
        // Given a 3-chunk file
        let me = X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
        let plaintext = SplitMix64.bytes(2 * Self.chunk + 1000)
        let file = try Age.encrypt(plaintext, to: [me.recipient])
        let payloadStart = file.count - 16 - (2 * Self.sealedChunk + 1000 + 16)
        let boundaries = [
            payloadStart, payloadStart + 16, payloadStart + 16 + Self.sealedChunk,
            payloadStart + 16 + 2 * Self.sealedChunk, file.count,
        ]
        var cuts = Set<Int>()
        for b in boundaries {
            for d in -17...17 where b + d >= payloadStart && b + d < file.count { cuts.insert(b + d) }
        }
        // When it is cut anywhere near a boundary, then it fails as a payload (or, inside the nonce, header) failure
        // and the plaintext released is a prefix of the original made of whole chunks.
        for cut in cuts.sorted() {
            let (released, error) = AgeTestSupport.decryptCollecting(Array(file[0..<cut]), identities: [me])
            let ageError = try #require(error as? AgeError, "cut at \(cut) accepted")
            let expected: AgeError.FailureClass = cut < payloadStart + 16 ? .header : .payload
            #expect(ageError.failureClass == expected, "cut at \(cut): \(ageError)")
            #expect(released.count % Self.chunk == 0 && released == Array(plaintext.prefix(released.count)))
        }
        #expect(cuts.count == 121)  // the 5 boundaries ±17 bytes, clipped to the payload, overlaps merged
        // A cut exactly after the second full chunk is reported as truncation after 2 chunks.
        let cut = payloadStart + 16 + 2 * Self.sealedChunk
        #expect(throws: AgeError.payload(.truncated(afterChunks: 2))) {
            try Age.decrypt(Array(file[0..<cut]), identities: [me])
        }
    }

    @Test func trailingGarbage() throws {
        let me = X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
        for size in [10, Self.chunk] {
            let file = try Age.encrypt(SplitMix64.bytes(size), to: [me.recipient])
            for extra in [1, 16, 17, Self.sealedChunk] {
                let (_, error) = AgeTestSupport.decryptCollecting(
                    file + SplitMix64.bytes(extra, seed: 7), identities: [me])
                #expect(
                    (error as? AgeError)?.failureClass == .payload,
                    "size \(size) + \(extra): \(String(describing: error))")
            }
        }
        // Data after a full final chunk is named as trailing data.
        let file = try Age.encrypt(SplitMix64.bytes(Self.chunk), to: [me.recipient])
        #expect(throws: AgeError.payload(.trailingData(afterChunks: 1))) {
            try Age.decrypt(file + SplitMix64.bytes(Self.sealedChunk, seed: 3), identities: [me])
        }
    }

    /// A source that produces `prefix` then repeats `unit` forever, counting what was read.
    final class EndlessSource: @unchecked Sendable {
        let prefix: [UInt8]
        let unit: [UInt8]
        var produced = 0
        init(prefix: String, unit: String) {
            self.prefix = Array(prefix.utf8)
            self.unit = Array(unit.utf8)
        }
        func read(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
            for i in 0..<buffer.count {
                let p = produced + i
                buffer[i] = p < prefix.count ? prefix[p] : unit[(p - prefix.count) % unit.count]
            }
            produced += buffer.count
            return buffer.count
        }
    }

    @Test func hugeHeadersAreRefusedEarly() throws {
        let me = X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
        let cases: [(String, String, Int)] = [
            // Endless stanzas with long bodies: stopped by the 1 MiB header limit.
            ("age-encryption.org/v1\n", "-> grease\n" + String(repeating: "A", count: 64) + "\n", 1 << 20),
            // Endless tiny stanzas: stopped by the stanza count limit.
            ("age-encryption.org/v1\n", "-> a\n\n", 1 << 20),
            // One endless line: stopped by the line length limit.
            ("age-encryption.org/v1\n-> ", "x", 16 * 1024),
        ]
        for (prefix, unit, bound) in cases {
            let source = EndlessSource(prefix: prefix, unit: unit)
            #expect(throws: AgeError.self) {
                try AgeReader(source: { source.read($0) }, identities: [me], armor: .binary)
            }
            // Reading stopped within the bound plus one 64 KiB buffer: nothing like the whole input was held.
            #expect(source.produced <= bound + 2 * 64 * 1024, "read \(source.produced) bytes")
            let summarySource = EndlessSource(prefix: prefix, unit: unit)
            #expect(throws: AgeError.self) { try AgeReader.inspect(source: { summarySource.read($0) }) }
        }
        // Endless armor whitespace is refused too.
        let blank = EndlessSource(prefix: "", unit: " \n")
        #expect(throws: AgeError.self) {
            try AgeReader(source: { blank.read($0) }, identities: [me], armor: .armored)
        }
    }

    @Test func garbageAndEmptyInputs() throws {
        let me = X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
        for input in ["", "age-encryption.org/v1\n", "hello world\n", "-----BEGIN AGE ENCRYPTED FILE-----\n"] {
            let (_, error) = AgeTestSupport.decryptCollecting(Array(input.utf8), identities: [me])
            let ageError = try #require(error as? AgeError)
            #expect([.header, .armor].contains(ageError.failureClass), "\(input.debugDescription): \(ageError)")
        }
    }
}
