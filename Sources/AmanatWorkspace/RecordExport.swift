import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

/// `amanat export`: a record's JSON and its attachments, decrypted out of `.amanat/` into a folder.
///
/// The files written are **plaintext outside the encrypted store**, on purpose (to open a video, print a court
/// verdict, hand a file to a lawyer); they are written with mode 0600 in folders created with mode 0700.
///
/// Names (never taken from the record, so a hostile `filename` cannot choose a path):
/// ```
/// DIR/record.json               the head's content, byte for byte as `amanat show RECORD --format json` prints it
/// DIR/<sha256>.<extension>      each attachment; the extension comes from a fixed table of media types, else .bin
/// ```
///
/// Every attachment is streamed (constant memory, whatever its size), hashed while it is written to a temporary
/// name, and compared with the SHA-256 and size the record's signed version names. Only when every file is
/// complete and verified are they renamed into place; on any failure nothing is left behind (temporary files
/// are registered with ``Leftovers``, and folders the export created are removed again).
public enum RecordExport {
    /// The name of the record's JSON inside the export folder.
    public static let recordFileName = "record.json"

    /// A file the export wrote.
    public struct File: Sendable, Encodable, Equatable {
        /// `record` or `attachment`.
        public var type: String
        /// The file's path.
        public var path: String
        /// Its size in bytes.
        public var size: UInt64
        /// The SHA-256 (lowercase hex) of the bytes written; for an attachment, the one its record signed.
        public var sha256: String
        /// For an attachment: what the record says it is.
        public var kind: String?
        public var mediaType: String?
    }

    /// What an export wrote.
    public struct Result: Sendable, Encodable {
        public var record: String
        public var version: String
        public var folder: String
        public var files: [File]
        /// Attachments the record lists whose files this workspace does not hold (never received, or erased),
        /// skipped when no attachment was named; as ``Attachment/summary``.
        public var missing: [String]
    }

    /// An attachment as the signed record describes it.
    public struct Attachment: Sendable, Equatable {
        public var sha256: String
        public var kind: String?
        public var mediaType: String?
        public var size: UInt64?

        /// A one-line description for messages: `<sha256> (kind, media type, size)`; safe to print.
        public var summary: String {
            let details =
                [kind, mediaType].compactMap { $0.map(UntrustedText.printable) }
                + [size.map { "\($0) bytes" }]
                .compactMap { $0 }
            return sha256 + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
        }
    }

    /// File extensions for the media types a record commonly names; anything else is written as `.bin`.
    static let extensions: [String: String] = [
        "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/heic": "heic",
        "image/tiff": "tif", "application/pdf": "pdf", "video/mp4": "mp4", "video/quicktime": "mov",
        "video/webm": "webm", "video/x-matroska": "mkv", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/ogg": "ogg",
        "audio/wav": "wav", "audio/x-wav": "wav", "audio/opus": "opus", "text/plain": "txt", "application/json": "json",
        "application/zip": "zip",
    ]

    /// The file name of an attachment: `<sha256>.<extension from its media type>` (`.bin` when unknown).
    public static func fileName(_ attachment: Attachment) -> String {
        attachment.sha256 + "." + (attachment.mediaType.flatMap { extensions[$0] } ?? "bin")
    }

    /// Whether a string is a lowercase hex SHA-256 (the only form used in a path).
    static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The attachments a record's content lists whose SHA-256 the signed version names (`att`), in order, once each.
    /// - Throws: ``AmanatError`` `verificationFailed` when the content lists an attachment the signature does not
    ///   cover, or one whose SHA-256 is not lowercase hex.
    public static func attachments(of verified: VerifiedVersion) throws -> [Attachment] {
        let signed = Set(verified.attachments)
        var seen = Set<String>()
        var result: [Attachment] = []
        for item in verified.content["attachments"]?.arrayValue ?? [] {
            guard let sha = item["sha256"]?.stringValue, isDigest(sha), signed.contains(sha) else {
                throw AmanatError(
                    .verificationFailed,
                    "record \(verified.recordId): version \(verified.versionId) lists an attachment whose SHA-256 its "
                        + "signature does not name. Nothing was written.")
            }
            guard seen.insert(sha).inserted else { continue }
            result.append(
                Attachment(
                    sha256: sha, kind: item["kind"]?.stringValue, mediaType: item["mediaType"]?.stringValue,
                    size: item["size"].flatMap(Self.integer)))
        }
        return result
    }

    static func integer(_ value: JSONValue) -> UInt64? {
        if case .number(let text) = value { return UInt64(text) }
        return nil
    }

    /// The attachments `wanted` names (each a SHA-256 or a unique prefix of one), in the record's order; all of
    /// them when `wanted` is empty.
    /// - Throws: ``AmanatError`` `inputMissing` for a hash the record does not list (the message lists the
    ///   record's attachments), `invalidRequest` for an ambiguous prefix.
    public static func select(
        _ wanted: [String], from attachments: [Attachment], record: String
    ) throws
        -> [Attachment]
    {
        guard !wanted.isEmpty else { return attachments }
        var chosen = Set<String>()
        for text in wanted {
            let needle = text.lowercased()
            let matches = attachments.filter { $0.sha256 == needle || (!needle.isEmpty && $0.sha256.hasPrefix(needle)) }
            if matches.count > 1 && !matches.contains(where: { $0.sha256 == needle }) {
                throw AmanatError(
                    .invalidRequest,
                    "'\(UntrustedText.printable(text))' is the start of \(matches.count) attachments of record \(record); "
                        + "give more of the SHA-256. Nothing was written.")
            }
            guard let match = matches.first(where: { $0.sha256 == needle }) ?? matches.first else {
                let listed =
                    attachments.isEmpty
                    ? "it has no attachments"
                    : "its attachments are:\n" + attachments.map { "  " + $0.summary }.joined(separator: "\n")
                throw AmanatError(
                    .inputMissing,
                    "record \(record) has no attachment \(UntrustedText.printable(text)); \(listed)\nNothing was written."
                )
            }
            chosen.insert(match.sha256)
        }
        return attachments.filter { chosen.contains($0.sha256) }
    }

    /// Exports a record's head: its JSON and the chosen attachments (see ``RecordExport``).
    /// - Parameters:
    ///   - record: a record id or unique prefix (`id:` allowed).
    ///   - attachments: SHA-256s (or unique prefixes) to export; empty for all.
    ///   - folder: the destination, created with its missing parents when absent.
    ///   - overwrite: replace existing files of the same names (only once everything is verified).
    ///   - progress: called with the bytes written so far and the total, as attachments stream out.
    /// - Throws: ``AmanatError``: `inputMissing` (unknown record or attachment, attachment file missing),
    ///   `verificationFailed` (an attachment that does not decrypt or does not match its signed SHA-256 or size),
    ///   `cannotCreateOutput` (a file exists and `overwrite` is false, or the folder cannot be created), `conflicts`
    ///   (concurrent versions). Nothing is left behind.
    public static func export(
        _ record: String, attachments wanted: [String], to folder: String, overwrite: Bool, service: RecordService,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> Result {
        let recordId = try service.resolve(record)
        let view = try service.view(recordId)
        let head = try service.singleHead(of: view)
        let verified = try service.verifiedContent(head)
        let content = verified.content.cappingConsent(at: view.consent)
        let chosen = try select(wanted, from: try attachments(of: verified), record: recordId)
        let json = Data((UntrustedText.jsonSafe(content.sortedKeys().pretty()) + "\n").utf8)

        // Every attachment must be readable before anything is written. One whose file this workspace does not
        // hold is skipped (and reported) when none was named, and refused when it was.
        var exported: [Attachment] = []
        var readers: [EncryptedBlob.Reader] = []
        var missing: [String] = []
        for attachment in chosen {
            guard let reader = try reading(attachment, record: recordId, service: service) else {
                guard wanted.isEmpty else {
                    throw AmanatError(
                        .inputMissing,
                        "the file of attachment \(attachment.summary) of record \(recordId) is not in this workspace "
                            + "(\(service.workspace.blobsFolder.path)); ask the partner who attached it for a bundle "
                            + "with `amanat seal --record`. Nothing was written.")
                }
                missing.append(attachment.summary)
                continue
            }
            exported.append(attachment)
            readers.append(reader)
        }

        let target = URL(fileURLWithPath: folder).standardizedFileURL
        let names = [recordFileName] + exported.map(fileName)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw AmanatError(
                .cannotCreateOutput, "\(target.path) exists and is not a folder; choose a folder. Nothing was written.")
        }
        if exists && !overwrite {
            let present = names.filter {
                FileManager.default.fileExists(atPath: target.appendingPathComponent($0).path)
            }
            if !present.isEmpty {
                throw AmanatError(
                    .cannotCreateOutput,
                    "\(present.map { target.appendingPathComponent($0).path }.joined(separator: ", ")) already "
                        + "exist\(present.count == 1 ? "s" : ""); choose another folder or pass --force to replace "
                        + "them. Nothing was written.")
            }
        }
        // A new folder is built beside its final name and renamed into place; parents it needs are created and
        // removed again on failure.
        let createdParents = try createMissingFolders(target.deletingLastPathComponent())
        var staging: StagingDirectory?
        var outputs: [OutputFile] = []
        var committed = false
        defer {
            if !committed {
                // Temporary files and the staging folder go first, then the folders made for them.
                outputs.removeAll()
                staging = nil
                removeFolders(createdParents)
            }
        }
        staging = exists ? nil : try StagingDirectory(beside: target, label: "partial", mode: 0o700)
        let writeFolder = staging?.url ?? target
        let tracked = staging == nil

        var files: [File] = []
        let total = readers.reduce(UInt64(0)) { $0 + $1.plaintextSize }
        var done: UInt64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer {
            wipe(buffer)
            buffer.deallocate()
        }
        for (attachment, reader) in zip(exported, readers) {
            let path = writeFolder.appendingPathComponent(fileName(attachment)).path
            let out = try OutputFile(path, mode: 0o600, overwrite: overwrite, tracked: tracked)
            outputs.append(out)
            var hash = try SHA256()
            var size: UInt64 = 0
            while true {
                let n: Int
                do { n = try reader.read(buffer) } catch let error as AmanatError {
                    throw AmanatError(
                        error.kind,
                        "attachment \(attachment.summary) of record \(recordId): \(error.message) Nothing was written; "
                            + "restore the attachment from a partner's bundle or your backup.")
                }
                if n == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                try hash.update(chunk)
                try out.write(chunk)
                size += UInt64(n)
                done += UInt64(n)
                progress?(done, total)
            }
            let digest = try hash.finalize().map { String(format: "%02x", $0) }.joined()
            guard digest == attachment.sha256, attachment.size.map({ $0 == size }) ?? true else {
                throw AmanatError(
                    .verificationFailed,
                    "attachment \(attachment.summary) of record \(recordId): the stored file decrypts to bytes whose "
                        + "SHA-256 (\(digest)) or size (\(size)) is not what the record's signed version names. It was "
                        + "altered or replaced in \(service.workspace.blobsFolder.path). Nothing was written; restore "
                        + "it from a partner's bundle or your backup.")
            }
            files.append(
                File(
                    type: "attachment", path: target.appendingPathComponent(fileName(attachment)).path, size: size,
                    sha256: digest, kind: attachment.kind, mediaType: attachment.mediaType))
        }
        let recordOut = try OutputFile(
            writeFolder.appendingPathComponent(recordFileName).path, mode: 0o600, overwrite: overwrite,
            tracked: tracked)
        try json.withUnsafeBytes { try recordOut.write($0) }
        outputs.insert(recordOut, at: 0)
        files.insert(
            File(
                type: "record", path: target.appendingPathComponent(recordFileName).path, size: UInt64(json.count),
                sha256: try SHA256.hash(Array(json)).map { String(format: "%02x", $0) }.joined(), kind: nil,
                mediaType: "application/json"),
            at: 0)

        // Everything is complete and verified: rename into place.
        try commit(outputs)
        try staging?.commit(to: target)
        committed = true
        return Result(record: recordId, version: head.id, folder: target.path, files: files, missing: missing)
    }

    /// Opens an attachment's encrypted file; errors name the attachment.
    static func reading(
        _ attachment: Attachment, record: String, service: RecordService
    ) throws
        -> EncryptedBlob.Reader?
    {
        do {
            return try service.openBlob(attachment.sha256)
        } catch let error as AmanatError {
            throw AmanatError(
                error.kind,
                "attachment \(attachment.summary) of record \(record): \(error.message) Nothing was written; restore "
                    + "it from a partner's bundle or your backup.")
        }
    }

    /// Commits every file; if one fails, the files already renamed into place are removed again.
    static func commit(_ outputs: [OutputFile]) throws {
        var done: [String] = []
        do {
            for out in outputs {
                try out.commit()
                done.append(out.path)
            }
        } catch {
            for path in done { unlink(path) }
            throw error
        }
    }

    /// Creates `folder` and its missing parents (mode 0700); returns those it created, innermost first.
    static func createMissingFolders(_ folder: URL) throws -> [URL] {
        var missing: [URL] = []
        var current = folder
        while !FileManager.default.fileExists(atPath: current.path) {
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        var created: [URL] = []
        for url in missing.reversed() {
            do {
                try FileManager.default.createDirectory(
                    at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            } catch {
                removeFolders(created.reversed())
                throw AmanatError(
                    .cannotCreateOutput,
                    "cannot create the folder \(url.path): \(error.localizedDescription). Nothing was written.")
            }
            created.append(url)
        }
        return created.reversed()
    }

    /// Removes folders the export created (innermost first), if they are still empty.
    static func removeFolders(_ folders: [URL]) {
        for url in folders { rmdir(url.path) }
    }
}

extension Workspace {
    /// Exports a record's JSON and attachments into `folder` (see ``RecordExport``): plaintext, outside `.amanat/`.
    /// - Throws: ``AmanatError``; nothing is left behind on failure.
    public func export(
        _ record: String, attachments: [String] = [], to folder: String, overwrite: Bool = false,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> RecordExport.Result {
        try RecordExport.export(
            record, attachments: attachments, to: folder, overwrite: overwrite,
            service: try RecordService(workspace: self), progress: progress)
    }
}
