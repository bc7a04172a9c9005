import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// The C2SP age test kit (vendored in `Tests/Vectors/age-testkit/`): every vector except the post-quantum ones must
/// give exactly the expected outcome, and the plaintext released before a payload failure must match the vector's
/// hash. The large vectors are zlib-compressed; python3 inflates them.
@Suite struct AgeTestkitTests {
    struct Vector {
        var name: String
        var expect: String
        var payload: String?
        var identities: [String] = []
        var passphrases: [String] = []
        var armored = false
        var compressed = false
        var fileKey: String?
        var file: [UInt8]
    }

    static func load(_ url: URL) throws -> Vector {
        let data = [UInt8](try Data(contentsOf: url))
        guard let split = (0..<(data.count - 1)).first(where: { data[$0] == 0x0A && data[$0 + 1] == 0x0A }) else {
            throw TestFailure("\(url.lastPathComponent): no blank line after the vector header")
        }
        var vector = Vector(name: url.lastPathComponent, expect: "", file: Array(data[(split + 2)...]))
        for line in String(decoding: data[0..<split], as: UTF8.self).split(separator: "\n") {
            guard let colon = line.range(of: ": ") else { continue }
            let key = String(line[..<colon.lowerBound])
            let value = String(line[colon.upperBound...])
            switch key {
            case "expect": vector.expect = value
            case "payload": vector.payload = value
            case "identity": vector.identities.append(value)
            case "passphrase": vector.passphrases.append(value)
            case "armored": vector.armored = value == "yes"
            case "compressed": vector.compressed = value == "zlib"
            case "file key": vector.fileKey = value
            default: break
            }
        }
        return vector
    }

    static func isPostQuantum(_ vector: Vector) -> Bool {
        let markers = ["hybrid", "mlkem768x25519", "p256tag"]
        return markers.contains { vector.name.contains($0) }
            || vector.identities.contains { $0.hasPrefix("AGE-SECRET-KEY-PQ-") }
    }

    /// The vector files of the test kit folder (everything but its README.md and SOURCE.md).
    static func vectorNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: TestVectors.ageTestkit.path)
            .filter { !["README.md", "SOURCE.md"].contains($0) }.sorted()
    }

    @Test(.requires(.python3)) func everyNonPostQuantumVector() throws {
        let folder = TestVectors.ageTestkit
        let names = try Self.vectorNames()
        var counts: [String: Int] = [:]
        var skipped = 0
        var run = 0
        for name in names {
            var vector = try Self.load(folder.appendingPathComponent(name))
            if Self.isPostQuantum(vector) {
                skipped += 1
                continue
            }
            if vector.compressed { vector.file = try AgeTestSupport.zlibDecompress(vector.file) }
            var identities: [any AgeIdentity] = try vector.identities.map { try X25519AgeIdentity(secretKey: $0) }
            identities += vector.passphrases.map { ScryptAgeIdentity(passphrase: SecretBytes(Array($0.utf8))) }
            let (plaintext, error) = AgeTestSupport.decryptCollecting(
                vector.file, identities: identities, armor: vector.armored ? .armored : .binary)
            let outcome: String
            if let error {
                let ageError = try #require(error as? AgeError, "\(name): unexpected error type \(error)")
                outcome = ageError.failureClass.rawValue
            } else {
                outcome = "success"
            }
            #expect(outcome == vector.expect, "\(name): got \(outcome) (\(String(describing: error)))")
            if outcome == vector.expect, ["success", "payload failure"].contains(outcome), let payload = vector.payload
            {
                #expect(try AgeTestSupport.sha256Hex(plaintext) == payload, "\(name): released plaintext differs")
            }
            counts[vector.expect, default: 0] += 1
            run += 1
        }
        #expect(run == 124)
        #expect(skipped == 19)
        #expect(counts["success"] == 21)
        #expect(counts["header failure"] == 53)
        #expect(counts["armor failure"] == 22)
        #expect(counts["payload failure"] == 19)
        #expect(counts["no match"] == 8)
        #expect(counts["HMAC failure"] == 1)
    }

    /// Armored success vectors also decrypt with armor detection, and the binary success vectors round-trip
    /// through our armor encoder.
    @Test func armorDetectionAndReencoding() throws {
        let folder = TestVectors.ageTestkit
        var checked = 0
        for name in ["armor_x25519", "armor_crlf", "armor_full_last_line", "armor_no_eol", "armor_whitespace_outside"] {
            let vector = try Self.load(folder.appendingPathComponent(name))
            let identities = try vector.identities.map { try X25519AgeIdentity(secretKey: $0) }
            let plaintext = try Age.decrypt(vector.file, identities: identities)
            #expect(try AgeTestSupport.sha256Hex(plaintext) == vector.payload, "\(name)")
            checked += 1
        }
        #expect(checked == 5)
    }

    /// The payload of every binary `stream_*` success vector, opened by hand from the vector's file key with
    /// AmanatCrypto alone: HKDF-SHA-256(file key, salt: payload nonce, info: "payload"), then 64 KiB chunks opened
    /// with `ChaChaPoly.Nonce.stream(counter:isFinal:)`. Checks the STREAM nonces against age's reference files.
    @Test(.requires(.python3)) func streamNoncesMatchTheTestKitPayloads() throws {
        let folder = TestVectors.ageTestkit
        var opened = 0
        var chunks = 0
        for name in try Self.vectorNames() where name.hasPrefix("stream_") {
            var vector = try Self.load(folder.appendingPathComponent(name))
            guard vector.expect == "success", !vector.armored, let fileKey = vector.fileKey,
                let payloadHash = vector.payload
            else { continue }
            if vector.compressed { vector.file = try AgeTestSupport.zlibDecompress(vector.file) }
            // The header ends with the MAC line "--- …\n"; the 16-byte payload nonce follows.
            let marker = Array("\n--- ".utf8)
            let macLine = try #require(
                (0...(vector.file.count - marker.count)).first {
                    Array(vector.file[$0..<($0 + marker.count)]) == marker
                },
                "\(name): no MAC line")
            let headerEnd = try #require(vector.file[(macLine + 1)...].firstIndex(of: 0x0A)) + 1
            let nonce = Array(vector.file[headerEnd..<(headerEnd + 16)])
            let payload = Array(vector.file[(headerEnd + 16)...])
            let key = try HKDF.deriveKey(
                inputKeyMaterial: SecretBytes(Hex.decode(fileKey)), salt: nonce, info: Array("payload".utf8),
                outputByteCount: 32)
            var plaintext: [UInt8] = []
            var start = 0
            var counter: UInt64 = 0
            while start < payload.count {
                let end = min(start + 64 * 1024 + 16, payload.count)
                let last = end == payload.count
                plaintext += try ChaChaPoly.open(
                    key: key, nonce: .stream(counter: counter, isFinal: last), ciphertext: payload[start..<end])
                // The same chunk does not open under the other flag or the next counter.
                #expect(throws: CryptoError.authenticationFailed, "\(name) chunk \(counter)") {
                    try ChaChaPoly.open(
                        key: key, nonce: .stream(counter: counter, isFinal: !last), ciphertext: payload[start..<end])
                }
                #expect(throws: CryptoError.authenticationFailed, "\(name) chunk \(counter)") {
                    try ChaChaPoly.open(
                        key: key, nonce: .stream(counter: counter + 1, isFinal: last), ciphertext: payload[start..<end])
                }
                start = end
                counter += 1
                chunks += 1
            }
            #expect(try AgeTestSupport.sha256Hex(plaintext) == payloadHash, "\(name)")
            opened += 1
        }
        #expect(opened >= 5)
        #expect(chunks > 500)
    }
}
