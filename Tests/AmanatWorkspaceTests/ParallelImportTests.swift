import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import Foundation
import Testing

@testable import AmanatWorkspace

/// `amanat open` verifies a bundle's record versions on every core. The outcome must be exactly that of one core:
/// the same versions in bundle order, or the error of the first bad version in bundle order.
@Suite struct ParallelImportTests {
    static let count = 300
    let key: Ed25519.SigningKey
    let keys: [String: Ed25519.VerifyingKey]
    let items: [BundleImport.PendingVersion]
    let versions: [SignedVersion]

    init() throws {
        let signer = try Ed25519.SigningKey.generate()
        key = signer
        keys = [Fingerprint.of(signer.publicKey): signer.publicKey]
        let policy = DisclosurePolicy(isConcealable: { $0.hasPrefix("/testifier") })
        versions = try (0..<Self.count).map { i in
            try RecordSigner.sign(
                content: .object([("testifier", .object([("names", .object([("latn", .string("Person \(i)"))]))]))]),
                kind: .create, recordId: nil, prev: [], key: signer, policy: policy)
        }
        items = versions.enumerated().map { i, version in
            BundleImport.PendingVersion(
                entry: "records/batch-000001.sd-jwt-lines",
                location: "records/batch-000001.sd-jwt-lines, line \(i + 1)",
                text: version.sdjwt.compact, isBatch: true)
        }
    }

    func message(_ items: [BundleImport.PendingVersion]) -> String {
        do {
            _ = try BundleImport.verifyInParallel(items, bundle: "in.amanat", keys: keys)
            return "verified"
        } catch {
            return "\(error)"
        }
    }

    /// The same version with its first disclosure replaced by a forged one.
    func tampered(_ i: Int) throws -> BundleImport.PendingVersion {
        var sdjwt = versions[i].sdjwt
        sdjwt.disclosures[0] = try Disclosure(name: "latn", value: .string("Someone Else")).encoded
        var item = items[i]
        item.text = sdjwt.compact
        return item
    }

    @Test func batchLinesSplitOnLFAndCRLF() {
        #expect(BundleImport.lines(of: "a~\nb~\r\n\r\n\nc~\r") == ["a~", "b~", "c~"])
        #expect(BundleImport.lines(of: "").isEmpty)
        #expect(BundleImport.lines(of: "\r\n\n").isEmpty)
        #expect(BundleImport.lines(of: "Ләйлә~") == ["Ләйлә~"])
        // A whole batch written with CR LF verifies like the LF one.
        let text = versions.prefix(3).map(\.sdjwt.compact).joined(separator: "\r\n") + "\r\n"
        #expect(BundleImport.lines(of: text) == versions.prefix(3).map(\.sdjwt.compact))
    }

    @Test func goodVersionsComeBackInBundleOrder() throws {
        let stored = try BundleImport.verifyInParallel(items, bundle: "in.amanat", keys: keys)
        #expect(stored.map(\.stored.id) == versions.map(\.versionId))
        #expect(stored.count == Self.count)
    }

    @Test func theFirstBadVersionInBundleOrderIsReported() throws {
        // Bad versions in both halves (each core's block): the earlier one is named.
        var bad = items
        bad[250] = try tampered(250)
        bad[100] = try tampered(100)
        let both = message(bad)
        #expect(both.contains("line 101 does not verify"), "\(both)")
        #expect(both.contains("Nothing was imported."))
        // Only in the second half: the first core may stop early, and the answer is still that version.
        var late = items
        late[280] = try tampered(280)
        #expect(message(late).contains("line 281 does not verify"))
        // Only the last one.
        var last = items
        last[Self.count - 1] = try tampered(Self.count - 1)
        #expect(message(last).contains("line \(Self.count) does not verify"))
    }

    @Test func untrustedAuthorsAndMisnamedEntriesAreNamed() throws {
        let stranger = try Ed25519.SigningKey.generate()
        let foreign = try RecordSigner.sign(
            content: .object([("schema", .string("amanat-record/v1"))]), kind: .create, recordId: nil, prev: [],
            key: stranger, policy: DisclosurePolicy(isConcealable: { _ in false }))
        var untrusted = items
        untrusted[5].text = foreign.sdjwt.compact
        let text = message(untrusted)
        #expect(text.contains("line 6 does not verify"))
        #expect(text.contains("amanat trust add"))
        #expect(text.contains(Fingerprint.of(stranger.publicKey)))
        // A single-version entry must be named after the version it holds.
        var misnamed = items
        misnamed[200] = BundleImport.PendingVersion(
            entry: BundlePath.recordsPrefix + versions[3].versionId + ".sd-jwt",
            location: BundlePath.recordsPrefix + versions[3].versionId + ".sd-jwt", text: versions[200].sdjwt.compact,
            isBatch: false)
        #expect(message(misnamed).contains("does not hold the version its name says"))
    }
}

/// The helper behind parallel verification and signing: the outcome of a one-core loop, whatever the timing.
@Suite struct OrderedParallelTests {
    struct Failure: Error, Equatable { let index: Int }

    @Test func resultsKeepItemOrder() throws {
        let out = try OrderedParallel.map(Array(0..<1000), makeWorker: { 7 }) { worker, item in item * worker }
        #expect(out == (0..<1000).map { $0 * 7 })
        #expect(try OrderedParallel.map([Int](), makeWorker: { 0 }) { _, item in item }.isEmpty)
        #expect(try OrderedParallel.map([5], makeWorker: { 0 }) { _, item in item } == [5])
    }

    @Test(arguments: [[10], [900], [10, 900], [999], [0], [400, 450, 980]])
    func theFirstFailureInOrderIsThrown(_ failing: [Int]) {
        #expect(throws: Failure(index: failing.min()!)) {
            try OrderedParallel.map(Array(0..<1000), makeWorker: { () }) { _, item in
                if failing.contains(item) { throw Failure(index: item) }
                return item
            }
        }
    }

    @Test func aWorkerThatCannotStartIsAnError() {
        #expect(throws: Failure(index: -1)) {
            try OrderedParallel.map(Array(0..<100), makeWorker: { () throws -> Int in throw Failure(index: -1) }) {
                _, item in item
            }
        }
    }
}
