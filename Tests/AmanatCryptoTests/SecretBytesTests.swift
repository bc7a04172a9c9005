import AmanatTestSupport
import Dispatch
import Foundation
import Testing

@testable import AmanatCrypto

/// `SecretBytes` is a copy-on-write value: copies share one buffer until one of them changes, a change never reaches
/// another copy, every buffer is cleansed when released, and reading copies from many threads at once is safe.
@Suite struct SecretBytesTests {
    static let secretBytes: [UInt8] = (1...32).map { UInt8(truncatingIfNeeded: $0 &* 37) }

    /// What the release hook saw, from any thread.
    final class ReleaseLog: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [[UInt8]] = []
        func record(_ bytes: UnsafeRawBufferPointer) {
            lock.lock()
            seen.append(Array(bytes))
            lock.unlock()
        }
        var entries: [[UInt8]] {
            lock.lock()
            defer { lock.unlock() }
            return seen
        }
    }

    /// The address of a value's buffer (compared only, never used to read or write).
    static func address(_ value: SecretBytes) -> UInt {
        value.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func copyIsIndependentOfTheOriginalAfterMutation() throws {
        var original = SecretBytes(Self.secretBytes)
        var copy = original
        // A copy shares the buffer until one of them changes.
        #expect(copy.sharesStorage(with: original))
        copy.withUnsafeMutableBytes { $0[0] ^= 0xFF }
        #expect(!copy.sharesStorage(with: original))
        #expect(original.unprotectedArray == Self.secretBytes)
        #expect(copy.unprotectedArray == [Self.secretBytes[0] ^ 0xFF] + Self.secretBytes.dropFirst())
        // And the other way round.
        let second = original
        original.withUnsafeMutableBytes { $0[31] = 0 }
        #expect(second.unprotectedArray == Self.secretBytes)
        #expect(original.unprotectedArray == Array(Self.secretBytes.prefix(31)) + [0])
        // Wiping a copy leaves the others alone.
        var third = second
        third.wipe()
        #expect(third.unprotectedArray == [UInt8](repeating: 0, count: 32))
        #expect(second.unprotectedArray == Self.secretBytes)
        #expect(third.count == 32)
    }

    @Test func aUniqueValueChangesInPlace() throws {
        // No needless copy: a value nobody shares keeps its buffer through mutation and wipe().
        var value = SecretBytes(Self.secretBytes)
        let before = Self.address(value)
        value.withUnsafeMutableBytes { $0[5] = 0x55 }
        #expect(Self.address(value) == before)
        value.wipe()
        #expect(Self.address(value) == before)
        #expect(value.unprotectedArray == [UInt8](repeating: 0, count: 32))
        #expect(value.count == 32)
        // A shared one moves to a new buffer on its first change, then stays there.
        let copy = value
        value.withUnsafeMutableBytes { $0[0] = 1 }
        let moved = Self.address(value)
        #expect(moved != Self.address(copy))
        value.withUnsafeMutableBytes { $0[1] = 2 }
        #expect(Self.address(value) == moved)
    }

    @Test func wipeZeroesTheBytes() throws {
        var value = SecretBytes(Self.secretBytes)
        value.wipe()
        #expect(value.unprotectedArray == [UInt8](repeating: 0, count: 32))
        #expect(value == SecretBytes(zeroes: 32))
        var empty = SecretBytes(zeroes: 0)
        empty.wipe()
        #expect(empty.count == 0)
        var data = Data(Self.secretBytes)
        wipe(&data)
        #expect(data == Data(count: 32))
        var array = Self.secretBytes
        wipe(&array)
        #expect(array == [UInt8](repeating: 0, count: 32))
    }

    @Test func releasedBuffersAreCleansedWhenTheLastCopyGoes() throws {
        let log = ReleaseLog()
        var value = SecretBytes(Self.secretBytes)
        value.observeRelease { log.record($0) }
        var copies = [value, value, value]
        value = SecretBytes(zeroes: 0)
        withExtendedLifetime(copies) {
            // Three copies still hold the buffer: it is neither released nor changed.
            #expect(log.entries.isEmpty)
            #expect(copies.allSatisfy { $0.unprotectedArray == Self.secretBytes })
        }
        copies.removeAll()
        // The hook runs after the cleanse and before the memory is freed: it sees 32 zero bytes.
        #expect(log.entries == [[UInt8](repeating: 0, count: 32)])
    }

    @Test func theBufferACopyMovesToIsCleansedToo() throws {
        let log = ReleaseLog()
        do {
            var original = SecretBytes(Self.secretBytes)
            original.observeRelease { log.record($0) }
            var copy = original
            copy.withUnsafeMutableBytes { $0[0] = 0xEE }  // the copy moves to a buffer of its own
            copy.observeRelease { log.record($0) }
            #expect(!copy.sharesStorage(with: original))
            withExtendedLifetime((original, copy)) { #expect(log.entries.isEmpty) }
        }
        #expect(log.entries == [[UInt8](repeating: 0, count: 32), [UInt8](repeating: 0, count: 32)])
        // Values made by each initializer are cleansed as well.
        let before = log.entries.count
        do {
            var zeroes = SecretBytes(zeroes: 16)
            zeroes.withUnsafeMutableBytes { $0.copyBytes(from: [UInt8](repeating: 0x77, count: 16)) }
            zeroes.observeRelease { log.record($0) }
            var filled = SecretBytes(count: 8) { $0.copyBytes(from: [UInt8](repeating: 0x66, count: 8)) }
            filled.observeRelease { log.record($0) }
            var random = try SecureRandom.secret(24)
            random.observeRelease { log.record($0) }
            withExtendedLifetime((zeroes, filled, random)) {}
        }
        let released = log.entries.dropFirst(before)
        #expect(released.map(\.count).sorted() == [8, 16, 24])
        #expect(released.allSatisfy { $0.allSatisfy { $0 == 0 } })
    }

    @Test func noPublicAPIHandsOutAMutablePointerOutsideAMutatingScope() throws {
        // A value type: holders of copies cannot reach one another's buffer.
        func isClass<T>(_: T.Type) -> Bool { T.self is AnyClass }
        #expect(!isClass(SecretBytes.self))
        // Every public declaration of SecretBytes.swift that mentions a mutable pointer is `mutating` (or an
        // initializer, whose buffer nobody else can see yet). The pointer types are checked in the source, since
        // Swift cannot test that something does not compile.
        let source = try String(
            contentsOf: PackagePaths.url("Sources/AmanatCrypto/OpenSSL/SecretBytes.swift"), encoding: .utf8)
        let declaration = try NSRegularExpression(pattern: #"public\s+[^{]*"#)
        let range = NSRange(source.startIndex..., in: source)
        var mutable: [String] = []
        var all = 0
        for match in declaration.matches(in: source, range: range) {
            let text = String(source[Range(match.range, in: source)!])
            all += 1
            guard text.contains("UnsafeMutable") else { continue }
            mutable.append(text)
            let allowed = text.hasPrefix("public mutating func ") || text.hasPrefix("public init(")
            #expect(allowed, "public mutable-pointer API that is not mutating: \(text)")
        }
        #expect(all >= 10)
        // The two that should be there: the mutating accessor and the initializer that fills a new buffer.
        #expect(mutable.count == 2)
        #expect(mutable.contains { $0.hasPrefix("public mutating func withUnsafeMutableBytes") })
        #expect(!source.contains("public var storage") && !source.contains("public let storage"))
    }

    @Test func concurrentReadsOfCopiesFromManyThreads() async throws {
        let original = SecretBytes(Self.secretBytes)
        let expected = SecretBytes(Self.secretBytes)
        let wrong = Counter()
        // Threads read their copies of one shared buffer while each also changes a private copy of its own.
        DispatchQueue.concurrentPerform(iterations: 64) { worker in
            var mine = original
            for round in 0..<200 {
                let copy = original
                if copy != expected || copy.unprotectedArray != Self.secretBytes || copy.count != 32 { wrong.add() }
                mine.withUnsafeMutableBytes { $0[round % 32] = UInt8(truncatingIfNeeded: worker) }
                if mine.sharesStorage(with: original) { wrong.add() }
            }
        }
        #expect(wrong.value == 0)
        #expect(original.unprotectedArray == Self.secretBytes)
        // The same from tasks, each copy crossing into a child task.
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<64 {
                let copy = original
                group.addTask {
                    var bad = 0
                    for _ in 0..<200 {
                        if copy != expected { bad += 1 }
                        if copy.withUnsafeBytes({ Array($0) }) != Self.secretBytes { bad += 1 }
                    }
                    var changed = copy
                    changed.withUnsafeMutableBytes { $0[0] = UInt8(task) }
                    if copy.unprotectedArray != Self.secretBytes { bad += 1 }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(original == expected)
    }

    @Test func isSendable() {
        func requireSendable<T: Sendable>(_: T.Type) -> Bool { true }
        #expect(requireSendable(SecretBytes.self))
        #expect(requireSendable(ChaChaPoly.Nonce.self))
    }
}
