import AmanatCrypto
import AmanatRecords
import AmanatStore
import Foundation

/// Record operations shared by the commands: signing, verifying what the store holds, attachments.
struct RecordService {
    let workspace: Workspace
    let store: Store

    init(workspace: Workspace) throws {
        self.workspace = workspace
        store = try workspace.store()
    }

    /// The SHA-256 digests listed in a record's `attachments`.
    static func attachmentDigests(_ content: JSONValue) -> [String] {
        (content["attachments"]?.arrayValue ?? []).compactMap { $0["sha256"]?.stringValue }
    }

    /// Signs and stores new records in one transaction; returns their ids in input order.
    func add(_ records: [JSONValue], key: Ed25519.SigningKey) throws -> [String] {
        // Each record is signed and verified again on any core; the store write is one transaction.
        let keys = try workspace.trustedKeys()
        let versions = try OrderedParallel.map(records, makeWorker: { try RecordVerifier() }) { verifier, content in
            let signed = try RecordSigner.sign(
                content: content, kind: .create, recordId: nil, prev: [], attachments: Self.attachmentDigests(content),
                key: key, policy: RecordPolicy.disclosurePolicy)
            let verified = try verifier.verify(signed.sdjwt, trustedKey: { keys[$0] })
            return StoredVersion(verified: verified, sdjwt: signed.sdjwt)
        }
        try store.insert(versions)
        return versions.map(\.recordId)
    }

    /// Verifies a version against the trust list and turns it into what the store keeps.
    func verifiedForStore(_ sdjwt: SDJWT) throws -> StoredVersion {
        let keys = try workspace.trustedKeys()
        let verified = try RecordVerifier.verify(sdjwt, trustedKey: { keys[$0] })
        return StoredVersion(verified: verified, sdjwt: sdjwt)
    }

    /// Resolves a record id (or unique prefix) from the command line.
    func resolve(_ text: String) throws -> String {
        let text = text.hasPrefix("id:") ? String(text.dropFirst(3)) : text
        do {
            return try store.resolveRecord(text)
        } catch let error as StoreError {
            throw CLIError(.inputMissing, "\(error). See `amanat list`.")
        }
    }

    /// The single head of a record, or exit 2 when concurrent versions must be resolved first.
    func singleHead(_ recordId: String) throws -> StoredVersion {
        let heads = try store.heads(record: recordId)
        guard heads.count == 1 else {
            throw CLIError(
                .conflicts,
                "record \(recordId) has \(heads.count) concurrent versions; resolve them first (`amanat conflicts`).")
        }
        return try store.version(heads[0])
    }

    /// Verifies a stored version again (signature, disclosures) and returns its content.
    func verifiedContent(_ version: StoredVersion) throws -> VerifiedVersion {
        let keys = try workspace.trustedKeys()
        do {
            return try RecordVerifier.verify(version.sdjwt, trustedKey: { keys[$0] })
        } catch let error as SDJWTError {
            throw CLIError(
                .verificationFailed, "version \(version.id) of record \(version.recordId) does not verify: \(error).")
        }
    }

    /// Signs and stores a new version of a record on top of its single head.
    func update(_ recordId: String, content: JSONValue, key: Ed25519.SigningKey) throws -> SignedVersion {
        let head = try singleHead(recordId)
        let signed = try RecordSigner.sign(
            content: content, kind: .edit, recordId: recordId, prev: [head.id],
            attachments: Self.attachmentDigests(content),
            key: key, policy: RecordPolicy.disclosurePolicy)
        try store.insert([try verifiedForStore(signed.sdjwt)])
        return signed
    }

    /// Signs and stores a version whose parents are ALL current heads (retractions, erasures, merges).
    func versionOverAllHeads(
        _ recordId: String, content: JSONValue, kind: VersionKind, key: Ed25519.SigningKey, erase: Bool = false
    ) throws -> (SignedVersion, ImportSummary) {
        let heads = try store.heads(record: recordId)
        guard !heads.isEmpty else { throw CLIError(.inputMissing, "no record \(recordId) in the store.") }
        let signed = try RecordSigner.sign(
            content: content, kind: kind, recordId: recordId, prev: heads, attachments: Self.attachmentDigests(content),
            key: key, policy: RecordPolicy.disclosurePolicy, extraClaims: erase ? [("erase", .bool(true))] : [])
        let summary = try store.insert([try verifiedForStore(signed.sdjwt)])
        return (signed, summary)
    }

    /// Deletes the files of attachments that only erased records referenced.
    func deleteErasedBlobs() throws -> Int {
        let digests = try store.blobsOnlyInErasedRecords()
        var deleted: [String] = []
        for d in digests {
            let url = workspace.blobURL(d)
            if FileManager.default.fileExists(atPath: url.path) {
                try FileManager.default.removeItem(at: url)
                deleted.append(d)
            }
        }
        try store.forgetBlobs(digests)
        return deleted.count
    }

    /// Copies a file into the content-addressed blob folder while hashing it; returns its SHA-256 and size.
    func importBlob(_ path: String) throws -> (sha256: String, size: UInt64) {
        let input = try InputFile(path, what: "attachment")
        try FileManager.default.createDirectory(
            at: workspace.blobsFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let staging = workspace.blobsFolder.appendingPathComponent(".incoming-\(UUID().uuidString.prefix(8))")
        let out = try OutputFile(staging.path, mode: 0o600)
        var hash = try SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var size: UInt64 = 0
        while true {
            let n = try input.read(buffer)
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            try hash.update(chunk)
            try out.write(chunk)
            size += UInt64(n)
        }
        let digest = try hash.finalize().map { String(format: "%02x", $0) }.joined()
        try out.commit()
        let target = workspace.blobURL(digest)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        if FileManager.default.fileExists(atPath: target.path) {
            try? FileManager.default.removeItem(at: staging)
        } else {
            guard rename(staging.path, target.path) == 0 else {
                try? FileManager.default.removeItem(at: staging)
                throw CLIError(.ioError, "cannot store the attachment \(path): \(String(cString: strerror(errno))).")
            }
        }
        try store.registerBlob(sha256: digest, size: size)
        return (digest, size)
    }
}
