import AmanatCrypto
import AmanatRecords
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// ``RecordExport`` and ``VerificationKeys`` at the library level.
@Suite("Record export and verification keys")
struct RecordExportTests {
    typealias Pair = WorkspaceFlowTests.Pair

    /// A record of A with one attachment of `bytes`; returns the record id and the attachment's SHA-256.
    func recordWithAttachment(_ p: Pair, bytes: Data) throws -> (String, String) {
        let service = try RecordService(workspace: p.a)
        let key = try p.a.signingKey()
        let id = try service.add([try WorkspaceFlowTests.example("en-survivor-public.json")], key: key)[0]
        let file = p.path("testimony.mp4")
        try bytes.write(to: URL(fileURLWithPath: file))
        let (sha, size) = try service.importBlob(file)
        let content = try service.editableContent(id).content
        let attachment = JSONValue.object([
            ("kind", .string("testimony_video")), ("mediaType", .string("video/mp4")), ("sha256", .string(sha)),
            ("size", .number(String(size))),
        ])
        _ = try service.update(id, content: content.setting("attachments", .array([attachment])).sortedKeys(), key: key)
        return (id, sha)
    }

    @Test func exportStreamsAndVerifiesEachAttachment() throws {
        let p = try Pair()
        defer { p.cleanup() }
        var generator = SplitMix64(seed: 6)
        let bytes = Data((0..<150_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        let (id, sha) = try recordWithAttachment(p, bytes: bytes)
        var reported: [UInt64] = []
        let result = try p.a.export(
            id, to: p.path("out/x"),
            progress: { done, total in
                #expect(total == UInt64(bytes.count))
                reported.append(done)
            })
        #expect(result.files.map(\.type) == ["record", "attachment"])
        #expect(FileManager.default.contents(atPath: p.path("out/x/\(sha).mp4")) == bytes)
        #expect(reported.last == UInt64(bytes.count))
        #expect(result.files[1].sha256 == sha)
    }

    @Test func aBlobThatDecryptsToOtherBytesIsRefusedAndNothingIsLeft() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let (id, sha) = try recordWithAttachment(p, bytes: Data(repeating: 7, count: 100_000))
        // Given the attachment's file replaced by other bytes encrypted under its own key (it authenticates, but
        // its SHA-256 is not the one the record signed)
        let service = try RecordService(workspace: p.a)
        let key = try #require(try service.store.blobKey(sha256: sha))
        let writer = try EncryptedBlob.Writer(path: p.a.blobURL(sha).path, key: key)
        try Data(repeating: 8, count: 100_000).withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        // Then the export fails naming it, and leaves neither the folder, nor its parents, nor a temporary file
        do {
            _ = try p.a.export(id, to: p.path("made/for/export"))
            Issue.record("a blob with the wrong hash was exported")
        } catch let error as AmanatError {
            #expect(error.kind == .verificationFailed)
            #expect(error.message.contains(sha))
            #expect(error.message.contains("Nothing was written"))
        }
        #expect(!FileManager.default.fileExists(atPath: p.path("made")))
        let existing = p.path("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        #expect(throws: AmanatError.self) { try p.a.export(id, to: existing) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: existing).isEmpty)
    }

    @Test func selectionAndNames() throws {
        let photo = RecordExport.Attachment(
            sha256: String(repeating: "ab", count: 32), kind: "id_card_photo", mediaType: "image/jpeg", size: 3)
        let other = RecordExport.Attachment(
            sha256: String(repeating: "ac", count: 32), kind: "other", mediaType: "application/x-unknown", size: nil)
        #expect(RecordExport.fileName(photo) == photo.sha256 + ".jpg")
        #expect(RecordExport.fileName(other) == other.sha256 + ".bin")
        #expect(try RecordExport.select([], from: [photo, other], record: "r") == [photo, other])
        #expect(try RecordExport.select(["ABAB"], from: [photo, other], record: "r") == [photo])
        #expect(try RecordExport.select([other.sha256, "abab"], from: [photo, other], record: "r") == [photo, other])
        do {
            _ = try RecordExport.select(["a"], from: [photo, other], record: "r")
            Issue.record("an ambiguous prefix was accepted")
        } catch let error as AmanatError { #expect(error.kind == .invalidRequest) }
        do {
            _ = try RecordExport.select(["ff"], from: [photo, other], record: "r")
            Issue.record("an unknown hash was accepted")
        } catch let error as AmanatError {
            #expect(error.kind == .inputMissing)
            #expect(error.message.contains(photo.sha256) && error.message.contains(other.sha256))
        }
    }

    @Test func verificationKeysNeedAWorkspaceOrAnIdentity() throws {
        let p = try Pair()
        defer { p.cleanup() }
        #expect(throws: AmanatError.self) { try VerificationKeys(workspace: nil, identityFiles: []) }
        let file = p.path("b.identity.json")
        try (try p.b.identity()).jsonData().write(to: URL(fileURLWithPath: file))
        let keys = try VerificationKeys(workspace: nil, identityFiles: [file, file])
        let fingerprint = try p.b.identity().fingerprint
        #expect(keys.given.count == 1)
        #expect(keys.key(fingerprint) != nil)
        #expect(keys.name(fingerprint) == "'Test Org B' (identity file)")
        // In a workspace, its trust list names win and the files add keys
        let inA = try VerificationKeys(workspace: p.a, identityFiles: [file])
        #expect(inA.name(fingerprint) == "berlin")
        #expect(inA.key(try p.a.identity().fingerprint) != nil)
    }
}
