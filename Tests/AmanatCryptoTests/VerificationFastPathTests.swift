import AmanatTestSupport
import Dispatch
import Foundation
import Testing

@testable import AmanatCrypto

/// The pieces record verification uses to go fast: a reused SHA-256 context, inline digests, decoding into a
/// reused buffer, and Ed25519 verification contexts kept per key. Each must give exactly the answers of the plain
/// API, on good and hostile input.
@Suite struct VerificationFastPathTests {
    /// Deterministic filler bytes (no randomness needed to compare two implementations).
    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7) }
    }

    @Test func reusedSHA256MatchesOneShotHashes() throws {
        let sha = try ReusableSHA256()
        // FIPS 180-2 appendix B.1 ("abc"), typed in.
        let abc = try sha.digest(utf8: "abc")
        #expect(abc.bytes == Hex.decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        var compared = 0
        for length in Array(0...300) + [4096, 100_000] {
            let input = Self.bytes(length, seed: UInt8(truncatingIfNeeded: length))
            let reused = try input.withUnsafeBytes { (raw) throws in try sha.digest(raw) }
            #expect(reused.bytes == (try SHA256.hash(input)), "length \(length)")
            compared += 1
        }
        #expect(compared == 303)
    }

    @Test func digestValuesHoldExactly32Bytes() throws {
        let bytes = Self.bytes(32, seed: 3)
        let digest = try #require(SHA256Digest(bytes))
        #expect(digest.bytes == bytes)
        #expect(SHA256Digest(Array(bytes.prefix(31))) == nil)
        #expect(SHA256Digest(bytes + [0]) == nil)
        var other = bytes
        other[31] ^= 1
        #expect(SHA256Digest(other) != digest)
        #expect(Set([digest, digest, try #require(SHA256Digest(other))]).count == 2)
    }

    @Test func digestsThatShareAPrefixStillHashApart() throws {
        // Digests that name no disclosure are chosen by the signer; if only a prefix were hashed, they could all
        // be given one bucket. 1,000 digests with the same first 24 bytes must spread.
        var hashes = Set<Int>()
        for i in 0..<1000 {
            var bytes = [UInt8](repeating: 0x41, count: 32)
            bytes[31] = UInt8(truncatingIfNeeded: i)
            bytes[30] = UInt8(truncatingIfNeeded: i >> 8)
            hashes.insert(try #require(SHA256Digest(bytes)).hashValue)
        }
        #expect(hashes.count >= 990)
    }

    @Test func decodingIntoAReusedBufferMatchesDecoding() throws {
        var scratch: [UInt8] = []
        var checked = 0
        // Long inputs first, so shorter ones must shrink the buffer correctly.
        for length in (0...200).reversed() {
            let input = Self.bytes(length, seed: 9)
            for urlSafe in [true, false] {
                let text = urlSafe ? Base64URL.encode(input) : Base64.encodeUnpadded(input)
                #expect(Base64.decode(utf8Of: text, urlSafe: urlSafe, into: &scratch))
                #expect(scratch == input, "length \(length)")
                checked += 1
            }
        }
        #expect(checked == 402)
    }

    @Test(arguments: [
        "A",  // one character left over
        "AB",  // non-zero trailing bits
        "AAB",  // non-zero trailing bits
        "ab=c", "AAA=", "AA AA", "AA\nAA", "AAAAA",
        "+/+/",  // standard alphabet where base64url is expected
        "AAÄA",
    ])
    func hostileBase64IsRefusedAndLeavesTheBufferEmpty(_ text: String) {
        var scratch: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(!Base64.decode(utf8Of: text, urlSafe: true, into: &scratch))
        #expect(scratch.isEmpty)
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func digestDecodingIsCanonicalAndExact() throws {
        let bytes = Self.bytes(32, seed: 5)
        let text = Base64URL.encode(bytes)
        #expect(text.utf8.count == 43)
        #expect(Base64.decodeDigest(text)?.bytes == bytes)
        #expect(Base64.decodeDigest(String(text.dropLast())) == nil)
        #expect(Base64.decodeDigest(text + "A") == nil)
        #expect(Base64.decodeDigest(text + "=") == nil)
        #expect(Base64.decodeDigest(Base64URL.encode(bytes + [0, 0, 0])) == nil)
        // The last character carries two unused bits; an encoding with them set is another string for the same
        // bytes and must not decode.
        let last = text.utf8.last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let value = alphabet.firstIndex(of: last)!
        let twin = String(decoding: Array(text.utf8.dropLast()) + [alphabet[value | 1]], as: UTF8.self)
        #expect(twin != text)
        #expect(Base64.decodeDigest(twin) == nil)
        // A standard-alphabet character.
        let plus = String(decoding: [UInt8(ascii: "+")] + Array(text.utf8.dropFirst()), as: UTF8.self)
        #expect(Base64.decodeDigest(plus) == nil)
    }

    @Test func reusedVerificationContextsGiveExactVerdicts() throws {
        // OpenSSL 3.0 verifies correctly on a reused context, so the fast path is the one in use here.
        #expect(VerifyContextPool.reuseIsSound)
        let key = try Ed25519.SigningKey.generate()
        let verifier = key.publicKey
        var wrong = 0
        var checked = 0
        for i in 0..<200 {
            let message = Self.bytes(i * 13, seed: UInt8(truncatingIfNeeded: i))
            var signature = try key.signature(for: message)
            // Good, then bad, then good again on whatever context the pool hands out.
            if !verifier.isValidSignature(signature, for: message) { wrong += 1 }
            signature[i % 64] ^= 0x20
            if verifier.isValidSignature(signature, for: message) { wrong += 1 }
            if verifier.isValidSignature(Array(signature.prefix(63)), for: message) { wrong += 1 }
            signature[i % 64] ^= 0x20
            if verifier.isValidSignature(signature, for: message + [0]) { wrong += 1 }
            if !verifier.isValidSignature(signature, for: message) { wrong += 1 }
            checked += 5
        }
        #expect(checked == 1000)
        #expect(wrong == 0)
    }

    /// Good signatures, then tampered messages, tampered signatures (R half and S half), other keys' signatures and
    /// non-canonical S, interleaved many times on the contexts of two keys. Run on both paths: the reused contexts
    /// the process-wide check chose here, and the fresh-context fallback taken when that check fails.
    static func interleavedVerdicts(
        _ a: Ed25519.SigningKey, _ b: Ed25519.SigningKey, verifierA: Ed25519.VerifyingKey,
        verifierB: Ed25519.VerifyingKey, rounds: Int
    ) throws -> (checked: Int, wrong: [String]) {
        // L, the group order, little-endian: S + L is the non-canonical twin of S.
        let order: [UInt8] = Hex.decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        var wrong: [String] = []
        var checked = 0
        func expect(_ verdict: Bool, _ wanted: Bool, _ what: String, _ round: Int) {
            checked += 1
            if verdict != wanted { wrong.append("round \(round): \(what)") }
        }
        for round in 0..<rounds {
            let message = Self.bytes(round % 97 + 1, seed: UInt8(truncatingIfNeeded: round))
            let sigA = try a.signature(for: message)
            let sigB = try b.signature(for: message)
            var tamperedR = sigA
            tamperedR[round % 32] ^= UInt8(1 << (round % 8))
            var tamperedS = sigA
            tamperedS[32 + round % 31] ^= UInt8(1 << (round % 8))
            var changedMessage = message
            changedMessage[round % message.count] ^= 0x01
            var nonCanonical = sigA
            var carry = 0
            for i in 0..<32 {
                let sum = Int(nonCanonical[32 + i]) + Int(order[i]) + carry
                nonCanonical[32 + i] = UInt8(truncatingIfNeeded: sum)
                carry = sum >> 8
            }
            // The order of the checks turns with the round, so every kind of verdict follows every other one.
            let checks: [(verdict: () -> Bool, wanted: Bool, what: String)] = [
                ({ verifierA.isValidSignature(sigA, for: message) }, true, "good A"),
                ({ verifierA.isValidSignature(sigA, for: changedMessage) }, false, "tampered message"),
                ({ verifierA.isValidSignature(tamperedR, for: message) }, false, "tampered R"),
                ({ verifierA.isValidSignature(tamperedS, for: message) }, false, "tampered S"),
                ({ verifierA.isValidSignature(sigB, for: message) }, false, "B's signature under A"),
                ({ verifierB.isValidSignature(sigA, for: message) }, false, "A's signature under B"),
                ({ verifierB.isValidSignature(sigB, for: message) }, true, "good B"),
                ({ verifierA.isValidSignature(nonCanonical, for: message) }, false, "S + L"),
                ({ verifierA.isValidSignature(sigA, for: message + [0]) }, false, "longer message"),
                ({ verifierA.isValidSignature(sigA, for: message) }, true, "good A again"),
            ]
            let shift = round % checks.count
            for check in checks[shift...] + checks[..<shift] {
                expect(check.verdict(), check.wanted, check.what, round)
            }
        }
        return (checked, wrong)
    }

    @Test func reusedContextsGiveExactVerdictsInterleaved() throws {
        #expect(VerifyContextPool.reuseIsSound)
        let a = try Ed25519.SigningKey.generate()
        let b = try Ed25519.SigningKey.generate()
        let verifierA = try Ed25519.VerifyingKey(rawRepresentation: a.publicKey.rawRepresentation)
        let verifierB = try Ed25519.VerifyingKey(rawRepresentation: b.publicKey.rawRepresentation)
        #expect(verifierA.reusesContexts && verifierB.reusesContexts)
        let (checked, wrong) = try Self.interleavedVerdicts(
            a, b, verifierA: verifierA, verifierB: verifierB, rounds: 300)
        #expect(checked == 3000)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        // One thread, one context per key, handed back after every verification: these verdicts all came from
        // the same reused context.
        #expect(verifierA.idleContexts == 1 && verifierB.idleContexts == 1)
    }

    @Test func freshContextFallbackGivesExactVerdicts() throws {
        // The path every key takes when the process-wide check finds reuse unsound, forced through the internal
        // initializer (the process-wide value cannot be changed in a running process).
        let a = try Ed25519.SigningKey.generate()
        let b = try Ed25519.SigningKey.generate()
        let verifierA = try Ed25519.VerifyingKey(rawRepresentation: a.publicKey.rawRepresentation, reuseContexts: false)
        let verifierB = try Ed25519.VerifyingKey(rawRepresentation: b.publicKey.rawRepresentation, reuseContexts: false)
        #expect(!verifierA.reusesContexts && !verifierB.reusesContexts)
        let (checked, wrong) = try Self.interleavedVerdicts(
            a, b, verifierA: verifierA, verifierB: verifierB, rounds: 100)
        #expect(checked == 1000)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        // No context was kept: each verification set up its own and freed it.
        #expect(verifierA.idleContexts == 0 && verifierB.idleContexts == 0)
    }

    @Test func soundnessCheckRefusesContextsThatMisbehave() throws {
        let key = try Ed25519.SigningKey.generate()
        let verifier = try Ed25519.VerifyingKey(
            rawRepresentation: key.publicKey.rawRepresentation, reuseContexts: false)
        let message = Array("amanat context reuse check".utf8)
        let signature = try key.signature(for: message)
        func honest(_ sig: [UInt8], _ msg: [UInt8]) -> Int32 { verifier.isValidSignature(sig, for: msg) ? 1 : 0 }
        // Verdicts from fresh contexts pass.
        #expect(VerifyContextPool.reuseCheck(signature: signature, message: message, verify: honest))
        // A context that refuses everything after its first use (what OpenSSL does once it marks a context
        // finalised), one that keeps its first verdict, one that accepts everything, and one that errors, all fail.
        var calls = 0
        #expect(
            !VerifyContextPool.reuseCheck(signature: signature, message: message) { sig, msg in
                calls += 1
                return calls == 1 ? honest(sig, msg) : 0
            })
        var first: Int32?
        #expect(
            !VerifyContextPool.reuseCheck(signature: signature, message: message) { sig, msg in
                if first == nil { first = honest(sig, msg) }
                return first!
            })
        #expect(!VerifyContextPool.reuseCheck(signature: signature, message: message) { _, _ in 1 })
        #expect(!VerifyContextPool.reuseCheck(signature: signature, message: message) { _, _ in -1 })
        // A context that only goes wrong on a different message, or after a refusal.
        #expect(
            !VerifyContextPool.reuseCheck(signature: signature, message: message) { sig, msg in
                msg.count == message.count ? honest(sig, msg) : 1
            })
        var refused = false
        #expect(
            !VerifyContextPool.reuseCheck(signature: signature, message: message) { sig, msg in
                if refused { return 0 }
                let verdict = honest(sig, msg)
                if verdict == 0 { refused = true }
                return verdict
            })
        // Keys made through the public API follow the process-wide verdict.
        #expect(key.publicKey.reusesContexts == VerifyContextPool.reuseIsSound)
        #expect(
            try Ed25519.VerifyingKey(rawRepresentation: key.publicKey.rawRepresentation).reusesContexts
                == VerifyContextPool.reuseIsSound)
    }

    @Test func sharedKeyVerifiesCorrectlyFromManyThreads() throws {
        let key = try Ed25519.SigningKey.generate()
        let verifier = key.publicKey
        let messages = (0..<64).map { Self.bytes(40 + $0, seed: UInt8($0)) }
        let signatures = try messages.map { try key.signature(for: $0) }
        let wrong = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<50 {
                let i = (worker * 7 + round) % messages.count
                var signature = signatures[i]
                let good = verifier.isValidSignature(signature, for: messages[i])
                signature[(worker + round) % 64] ^= 1
                let bad = verifier.isValidSignature(signature, for: messages[i])
                if !good || bad { wrong.add() }
            }
        }
        #expect(wrong.value == 0)
    }
}

/// A thread-safe tally for concurrent tests.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
