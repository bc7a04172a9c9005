import AmanatCrypto
import AmanatTestSupport
import AmanatWorkspace
import Foundation
import GRDB
import Testing

@testable import AmanatStore

/// Issue #13: a seized laptop yields nothing; erasure destroys keys; a damaged or foreign store is refused.
@Suite("The workspace encrypted at rest")
struct EncryptionAtRestTests {
    /// Every example record's identifiers (raw and normalized) from Specs/examples/expected.json.
    static func exampleIdentifiers() throws -> Set<String> {
        let url = URL(fileURLWithPath: RecordCommandTests.example("expected.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var needles = Set<String>()
        for (_, value) in object {
            for finding in ((value as? [String: Any])?["findings"] as? [[String: Any]]) ?? [] {
                for key in ["raw", "normalized"] {
                    if let text = finding[key] as? String, text.count >= 6 { needles.insert(text) }
                }
            }
        }
        return needles
    }

    /// The bytes of every file under `folder`, and what every base64url run of 16+ characters in them decodes to.
    static func haystacks(_ folder: String) -> [(String, Data)] {
        var result: [(String, Data)] = []
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return result }
        while let relative = walker.nextObject() as? String {
            let path = folder + "/" + relative
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            result.append((relative, data))
            var run: [UInt8] = []
            func flush() {
                if run.count >= 16, let decoded = Base64URL.decode(String(decoding: run, as: UTF8.self)) {
                    result.append((relative + " (base64url)", Data(decoded)))
                }
                run = []
            }
            for byte in data {
                let isB64 =
                    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F
                if isB64 { run.append(byte) } else { flush() }
            }
            flush()
        }
        return result
    }

    /// The needles found in any haystack, with where.
    static func found(_ needles: Set<String>, in haystacks: [(String, Data)]) -> [String] {
        var hits: [String] = []
        for needle in needles.sorted() {
            let bytes = Data(needle.utf8)
            for (name, data) in haystacks where data.range(of: bytes) != nil { hits.append("\(needle) in \(name)") }
        }
        return hits
    }

    static let examples = [
        "en-survivor-public.json", "kk-cyrl-relative-public.json", "kk-latn-relative-public.json",
        "ru-survivor-partners.json", "ug-arab-relative-public.json", "zh-relative-internal.json",
        "minimal-partial.json",
    ]

    @Test func aByteSearchOfTheWorkspaceFindsNoIdentifier() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // Given every example record added, and an attachment whose bytes name an identifier
        for example in Self.examples {
            let added = try cli.run(["add", RecordCommandTests.example(example)], in: a)
            #expect(added.status == 0, "\(example): \(added.stderr)")
        }
        let needles = try Self.exampleIdentifiers()
        #expect(needles.count >= 20, "read \(needles.count) identifiers from expected.json")
        let card = cli.path("card.txt")
        try Data("Synthetic ID card scan: \(needles.sorted()[0])\n".utf8).write(to: URL(fileURLWithPath: card))
        let list = try cli.run(["list", "--json"], in: a)
        let records = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let first = try #require(records.first?["id"] as? String)
        #expect(try cli.run(["attach", "id:" + first, card], in: a).status == 0)
        // When every file under .amanat/ is searched, as bytes and base64url-decoded
        let hits = Self.found(needles, in: Self.haystacks(a + "/.amanat"))
        // Then no identifier is found, and the store and the blob are encrypted
        #expect(hits.isEmpty, "\(hits.prefix(5))")
        #expect(try CLIHarness.store(a).isEncrypted)
        // And with the passphrase everything reads as before
        let shown = try cli.run(["show", "id:" + first, "--format", "json"], in: a)
        #expect(shown.status == 0, "\(shown.stderr)")
    }

    @Test func withoutThePassphraseContentCommandsRefuseWithExit1() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        #expect(try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a).status == 0)
        let id = try CLIHarness.store(p.a).records()[0].id
        for arguments in [
            ["list"], ["show", "id:" + id], ["status"], ["seal", "-r", "berlin", "--all", "-o", "x.amanat"],
            [
                "publish", "--policy", PackagePaths.url("Sources/AmanatCLI/Resources/public-policy.yaml").path, "-o",
                "pub",
            ],
        ] {
            let result = try p.cli.run(arguments, in: p.a, passphrase: nil)
            #expect(result.status == 1, "\(arguments): \(result.status) \(result.stderr)")
        }
        // And a wrong passphrase is exit 1 with nothing changed
        let before = CLIHarness.snapshot(p.a + "/.amanat")
        let wrong = try p.cli.run(["list"], in: p.a, passphrase: "not the passphrase")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("does not unlock"))
        #expect(CLIHarness.snapshot(p.a + "/.amanat") == before)
    }

    @Test func erasureDestroysTheRecordsKeyAndLeavesNothingReadable() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // Given two records, one of which is then erased
        #expect(try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).status == 0)
        #expect(try cli.run(["add", RecordCommandTests.example("kk-cyrl-relative-public.json")], in: a).status == 0)
        let object = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: RecordCommandTests.example("expected.json"))))
                as? [String: [String: Any]])
        func identifiers(_ example: String) -> Set<String> {
            Set(
                ((object[example]?["findings"] as? [[String: Any]]) ?? []).flatMap { finding in
                    ["raw", "normalized"].compactMap { finding[$0] as? String }.filter { $0.count >= 6 }
                })
        }
        let erasedNeedles = identifiers("en-survivor-public.json").subtracting(
            identifiers("kk-cyrl-relative-public.json"))
        #expect(erasedNeedles.count >= 5)
        let list = try cli.run(["list", "--json"], in: a)
        let records = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(records.count == 2)
        var erasedId: String? = nil
        for record in records {
            let id = try #require(record["id"] as? String)
            let shown = try cli.run(["show", "id:" + id, "--format", "json"], in: a).stdout
            if shown.contains("654221199003120461") { erasedId = id }
        }
        let id = try #require(erasedId)
        let keyBefore = try CLIHarness.store(a).writer.read { db in
            try Data.fetchOne(db, sql: "SELECT wrapped FROM recordKey WHERE recordId = ?", arguments: [id])
        }
        let erased = try cli.run(["erase", "id:" + id, "--reason", "the family asked", "--yes"], in: a)
        #expect(erased.status == 0, "\(erased.stderr)")
        // Then the record's data key was replaced (its old key is gone from the store)
        let store = try CLIHarness.store(a)
        let keyAfter = try store.writer.read { db in
            try Data.fetchOne(db, sql: "SELECT wrapped FROM recordKey WHERE recordId = ?", arguments: [id])
        }
        #expect(keyBefore != nil && keyAfter != nil && keyBefore != keyAfter)
        // And everything the remaining keys decrypt (every version of every record), with every file's bytes and
        // their base64url-decoded runs, holds none of the erased record's identifiers
        var haystacks = Self.haystacks(a + "/.amanat")
        for versionId in try store.allVersionIds() {
            let v = try store.version(versionId)
            let text = v.jwt + "~" + v.disclosures.joined(separator: "~") + (v.content ?? "")
            haystacks.append(("version \(versionId)", Data(text.utf8)))
            for d in v.disclosures { haystacks.append(("disclosure", Data(Base64URL.decode(d) ?? []))) }
            if let payload = v.jwt.split(separator: ".").dropFirst().first {
                haystacks.append(("jwt payload", Data(Base64URL.decode(String(payload)) ?? [])))
            }
        }
        let hits = Self.found(erasedNeedles, in: haystacks)
        #expect(hits.isEmpty, "\(hits.prefix(5))")
        // While the other record still reads
        let other = try #require(records.compactMap { $0["id"] as? String }.first { $0 != id })
        #expect(try cli.run(["show", "id:" + other], in: a).status == 0)
    }

    @Test func aFlippedByteInAStoredCiphertextNamesTheRecordAndSparesTheOthers() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        #expect(try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).status == 0)
        #expect(try cli.run(["add", RecordCommandTests.example("kk-cyrl-relative-public.json")], in: a).status == 0)
        let ids = try CLIHarness.store(a).records().map(\.id)
        #expect(ids.count == 2)
        // When one byte of the first record's stored content ciphertext is flipped
        try CLIHarness.store(a).writer.write { db in
            let row = try #require(
                try Row.fetchOne(db, sql: "SELECT id, content FROM version WHERE recordId = ?", arguments: [ids[0]]))
            var bytes: Data = row["content"]
            bytes[bytes.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE version SET content = ? WHERE id = ?", arguments: [bytes, row["id"] as String])
        }
        // Then showing it fails with exit 1 naming the record
        let shown = try cli.run(["show", "id:" + ids[0]], in: a)
        #expect(shown.status == 1, "\(shown.stderr)")
        #expect(shown.stderr.contains(ids[0]))
        // And the other record is not affected
        let fine = try CLIHarness.store(a).recordView(ids[1])
        #expect(fine?.content != nil)
    }

    @Test func aStoreOrKeyFromAnotherWorkspaceIsRefused() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let b = try cli.initWorkspace("b", org: "Test Database Two")
        for dir in [a, b] {
            #expect(try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: dir).status == 0)
        }
        let fm = FileManager.default
        // A's store file replaced by B's: refused, nothing read
        try fm.removeItem(atPath: a + "/.amanat/store.sqlite")
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: a + "/.amanat/store.sqlite" + suffix) }
        try fm.copyItem(atPath: b + "/.amanat/store.sqlite", toPath: a + "/.amanat/store.sqlite")
        let foreign = try cli.run(["list"], in: a)
        #expect(foreign.status == 1, "\(foreign.stderr)")
        #expect(foreign.stderr.contains("does not belong to this workspace"))
        // B's store key file in A: a clear error naming the file
        try fm.removeItem(atPath: a + "/.amanat/keys/store.age")
        try fm.copyItem(atPath: b + "/.amanat/keys/store.age", toPath: a + "/.amanat/keys/store.age")
        let swapped = try cli.run(["list"], in: a)
        #expect(swapped.status == 1, "\(swapped.stderr)")
        #expect(swapped.stderr.contains("store.age is not this workspace's store key"))
        // A missing key file with an encrypted store: a clear error, nothing made up
        try fm.removeItem(atPath: a + "/.amanat/keys/store.age")
        let missing = try cli.run(["list"], in: a)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("store.age is missing"))
        #expect(!fm.fileExists(atPath: a + "/.amanat/keys/store.age"))
    }

    @Test func aPlaintextWorkspaceIsConvertedOnFirstUnlock() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        #expect(try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).status == 0)
        let card = cli.path("card.txt")
        try Data("Synthetic ID card scan: 654221199003120461\n".utf8).write(to: URL(fileURLWithPath: card))
        let id = try CLIHarness.store(a).records()[0].id
        #expect(try cli.run(["attach", "id:" + id, card], in: a).status == 0)
        // Given the same records in a plaintext store as the previous release kept them (no store key, plain
        // attachment files)
        let encrypted = try CLIHarness.store(a)
        let versions = try encrypted.allVersionIds().map { try encrypted.version($0) }
        let plainCard = try Data(contentsOf: URL(fileURLWithPath: card))
        let digest = Hex.encode(try SHA256.hash(plainCard))
        let fm = FileManager.default
        for name in ["store.sqlite", "store.sqlite-wal", "store.sqlite-shm", "keys/store.age"] {
            try? fm.removeItem(atPath: a + "/.amanat/" + name)
        }
        do {
            let plain = try Store(path: a + "/.amanat/store.sqlite")
            try plain.insert(versions)
            try plain.registerBlob(sha256: digest, size: UInt64(plainCard.count))
            try plain.recordSent(partner: Self.partnerFingerprint, bundleId: "bundle-1", versions: [versions[0].id])
            try plain.recordSentCheckpoint(partner: Self.partnerFingerprint, size: 3)
        }
        try plainCard.write(to: URL(fileURLWithPath: a + "/.amanat/blobs/\(digest.prefix(2))/\(digest)"))
        #expect(!Self.found(["654221199003120461"], in: Self.haystacks(a + "/.amanat")).isEmpty)
        // When any command unlocks it
        let listed = try cli.run(["list"], in: a)
        #expect(listed.status == 0, "\(listed.stderr)")
        // Then it was converted and vacuumed: no identifier in any file, and everything reads as before
        let hits = Self.found(try Self.exampleIdentifiers(), in: Self.haystacks(a + "/.amanat"))
        #expect(hits.isEmpty, "\(hits.prefix(5))")
        #expect(try CLIHarness.store(a).allVersionIds() == versions.map(\.id).sorted())
        #expect(try cli.run(["show", "id:" + id, "--format", "json"], in: a).stdout.contains("654221199003120461"))
        // And the ledger was converted to keyed tags: the partner still holds the record, its fingerprint is unreadable
        #expect(try CLIHarness.store(a).partnerHolds(partner: Self.partnerFingerprint, record: id))
        #expect(try CLIHarness.store(a).lastSentCheckpoint(partner: Self.partnerFingerprint) == 3)
        #expect(Self.found([Self.partnerFingerprint], in: Self.haystacks(a + "/.amanat")).isEmpty)
    }

    static let partnerFingerprint = "TEST-PART-NERF-INGE-RPRI-NTAA-AAAA-AAAA"

    @Test func lockShredDestroysTheKeys() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        #expect(try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).status == 0)
        // Without a terminal and without --yes nothing is destroyed
        let refused = try cli.run(["lock", "--shred"], in: a)
        #expect(refused.status == 64)
        #expect(FileManager.default.fileExists(atPath: a + "/.amanat/keys/store.age"))
        // With --yes the key files are gone
        let shred = try cli.run(["lock", "--shred", "--yes"], in: a)
        #expect(shred.status == 0, "\(shred.stderr)")
        #expect(shred.stderr.contains("Destroyed 3 key files"))
        for name in ["store.age", "signing.pem", "sealing.pem"] {
            #expect(!FileManager.default.fileExists(atPath: a + "/.amanat/keys/" + name))
        }
        // And nothing reads the records any more, with or without the passphrase
        #expect(try cli.run(["list"], in: a).status != 0)
        #expect(Self.found(try Self.exampleIdentifiers(), in: Self.haystacks(a + "/.amanat")).isEmpty)
    }
}
