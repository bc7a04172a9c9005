import AmanatCrypto
import AmanatLog
import AmanatMedia
import AmanatPublish
import AmanatRecords
import AmanatRedaction
import Foundation

/// A derivative written into a publication's `media/` folder, with the bytes of its media annotation file (what the
/// publisher's log records).
public struct WrittenMedia: Sendable {
    public var entry: PublicationIndex.MediaEntry
    public var annotationBytes: [UInt8]
}

/// The media redaction specs a publisher gives, by the SHA-256 of the original they apply to
/// (`--media-spec SHA256=FILE`, `--media-specs DIR` holding `<sha256>.json`).
public struct MediaSpecs: Sendable {
    public var specs: [String: (spec: MediaRedactionSpec, file: String)] = [:]

    public init() {}

    /// Reads `SHA256=FILE` pairs and every `<sha256>.json` of `folder`; a pair wins over the folder.
    /// - Throws: ``AmanatError`` `invalidRequest` for a malformed pair, `inputMissing` for a missing file or folder,
    ///   `malformedInput` for a spec that does not parse (naming the file).
    public static func load(pairs: [String], folder: String?) throws -> MediaSpecs {
        var result = MediaSpecs()
        if let folder {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue,
                let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
            else {
                throw AmanatError(
                    .inputMissing,
                    "\(UntrustedText.printable(folder)) is not a readable folder of media redaction specs "
                        + "(<sha256>.json). Check the path.")
            }
            for name in names.sorted() where name.hasSuffix(".json") {
                let sha = String(name.dropLast(".json".count))
                guard isSHA256(sha) else { continue }
                result.specs[sha] = try read(URL(fileURLWithPath: folder).appendingPathComponent(name).path)
            }
        }
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), isSHA256(String(pair[..<equals])) else {
                throw AmanatError(
                    .invalidRequest,
                    "--media-spec '\(UntrustedText.printable(String(pair.prefix(80))))' must be SHA256=FILE, with the "
                        + "original attachment's SHA-256 as 64 lowercase hex digits (`amanat show RECORD` lists them).")
            }
            result.specs[String(pair[..<equals])] = try read(String(pair[pair.index(after: equals)...]))
        }
        return result
    }

    static func read(_ path: String) throws -> (spec: MediaRedactionSpec, file: String) {
        let shown = UntrustedText.printable(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AmanatError(.inputMissing, "the media redaction spec \(shown) does not exist or cannot be read.")
        }
        do {
            return (try MediaRedactionSpec.parse(Array(data), name: path), path)
        } catch {
            throw AmanatError(
                .malformedInput,
                "\(UntrustedText.printable(error.description)). Fix the spec (Specs/media-redaction.md); nothing was "
                    + "published.")
        }
    }

    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

extension Publisher {
    /// One attachment to publish as a derivative.
    public struct MediaItem: Sendable {
        public var recordId: String
        public var versionId: String
        public var sha256: String
        public var kind: String
        public var mediaType: String?
        public var action: MediaAction
        /// The spec to apply (nil: none, a plain metadata-stripped copy).
        public var spec: MediaRedactionSpec?
        public var specFile: String?
        /// SHA-256 of the record's timed transcripts (WebVTT, SRT attachments): their identifiers are muted.
        public var transcripts: [String]
    }

    /// A record being published, as the media step needs it: its presented version's content and signed
    /// attachment digests.
    public struct MediaSource: Sendable {
        public var recordId: String
        public var versionId: String
        public var content: JSONValue
        /// The SHA-256 digests the version signs (`att`).
        public var signedAttachments: [String]

        public init(recordId: String, versionId: String, content: JSONValue, signedAttachments: [String]) {
            self.recordId = recordId
            self.versionId = versionId
            self.content = content
            self.signedAttachments = signedAttachments
        }
    }

    /// Media types of timed transcripts.
    public static let transcriptMediaTypes: Set<String> = ["text/vtt", "application/x-subrip"]

    /// Decides what to publish of every attachment of `records` under `policy`; refuses (fail closed) before
    /// anything is written.
    /// - Throws: ``AmanatError`` `malformedInput` for an attachment marked `redact` without a spec (naming the
    ///   record, the attachment and how to give one), `verificationFailed` for an attachment whose SHA-256 the
    ///   version does not sign. A spec given for an attachment the policy withholds is not used.
    public static func planMedia(
        _ records: [MediaSource], policy: MediaPolicy, specs: MediaSpecs
    ) throws -> [MediaItem] {
        var items: [MediaItem] = []
        var seen = Set<String>()
        for record in records {
            let attachments = record.content["attachments"]?.arrayValue ?? []
            let transcripts = attachments.compactMap { a -> String? in
                guard let type = a["mediaType"]?.stringValue, transcriptMediaTypes.contains(type) else { return nil }
                return a["sha256"]?.stringValue
            }
            for attachment in attachments {
                guard let sha = attachment["sha256"]?.stringValue, MediaSpecs.isSHA256(sha) else { continue }
                let kind = attachment["kind"]?.stringValue ?? "other"
                let mediaType = attachment["mediaType"]?.stringValue
                if let mediaType, transcriptMediaTypes.contains(mediaType) { continue }
                let action = policy.action(for: kind)
                guard action != .withhold else { continue }
                let described =
                    "record \(record.recordId), \(UntrustedText.printable(kind)) attachment \(sha.prefix(12))…"
                guard record.signedAttachments.contains(sha) else {
                    throw AmanatError(
                        .verificationFailed,
                        "\(described): its SHA-256 is not among the digests the version signs. Nothing was written.")
                }
                let given = specs.specs[sha]
                if action == .redact && given == nil {
                    throw AmanatError(
                        .malformedInput,
                        "\(described) is marked 'redact' by the policy (line \(policy.line(for: kind))) but no media "
                            + "redaction spec was given for it, so it cannot be published safely. Give one with "
                            + "--media-spec \(sha)=SPEC.json (or --media-specs DIR holding \(sha).json; "
                            + "Specs/media-redaction.md), or mark the kind 'withhold'. Nothing was written.")
                }
                // The same file attached to two records is published once, for the first.
                guard seen.insert(sha).inserted else { continue }
                items.append(
                    MediaItem(
                        recordId: record.recordId, versionId: record.versionId, sha256: sha, kind: kind,
                        mediaType: mediaType, action: given == nil ? .publish : .redact, spec: given?.spec,
                        specFile: given?.file, transcripts: transcripts))
            }
        }
        return items
    }

    /// Makes every derivative of `items` in `folder/media/` and signs its media annotation. Attachments are
    /// decrypted into a temporary file inside the workspace's `.amanat/` (registered as a leftover, removed
    /// afterwards); the derivative is written under a temporary name and renamed to `<sha256>.<ext>`.
    /// - Throws: ``AmanatError``: `toolUnavailable` without ffmpeg, `malformedInput` for media that cannot be
    ///   decoded or a spec that does not fit it, `verificationFailed` when a stored file is not the one signed.
    public static func writeMedia(
        _ items: [MediaItem], into folder: URL, service: RecordService, workspace: Workspace,
        key: Ed25519.SigningKey, tools: MediaTools, margin: Double, issuedAt: Int
    ) throws -> [WrittenMedia] {
        guard !items.isEmpty else { return [] }
        let mediaFolder = folder.appendingPathComponent(MediaPublication.folder)
        do {
            try FileManager.default.createDirectory(
                at: mediaFolder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        } catch {
            throw AmanatError(.cannotCreateOutput, "cannot create \(mediaFolder.path). Nothing was written.")
        }
        var transcriptCache: [String: [TimedTranscript.TimedFinding]] = [:]
        var written: [WrittenMedia] = []
        for item in items {
            let described =
                "record \(item.recordId), \(UntrustedText.printable(item.kind)) attachment \(item.sha256.prefix(12))…"
            let plain = try decryptToTemporary(
                item.sha256, described: described, service: service, workspace: workspace)
            defer { plain.remove() }
            var spec = item.spec ?? MediaRedactionSpec()
            let annotation: MediaAnnotation
            let temporary = mediaFolder.appendingPathComponent(".derivative-\(UUID().uuidString)")
            var found: [TimedTranscript.TimedFinding] = []
            for sha in item.transcripts {
                if transcriptCache[sha] == nil {
                    transcriptCache[sha] = try transcriptFindings(sha, described: described, service: service)
                }
                found += transcriptCache[sha] ?? []
            }
            do {
                let info = try MediaProbe.probe(plain.path, tools: tools)
                if info.hasAudio && !found.isEmpty {
                    spec.addIntervals(
                        found.map { ($0.start, $0.end) }, margin: margin, duration: info.duration,
                        reason: "identifier in the transcript")
                }
                let ext = MediaPublication.derivativeExtension(kind: info.kind, originalFormat: info.formatName)
                annotation = try MediaRedactor.redact(
                    input: plain.path, spec: spec, specName: item.specFile ?? "the redaction spec",
                    output: temporary.path + "." + ext, tools: tools)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary.path)
                throw AmanatError(error, context: described, temporaryPath: plain.path)
            }
            let ext = URL(fileURLWithPath: annotation.derivativeName).pathExtension
            let produced = temporary.path + "." + ext
            guard annotation.originalSHA256 == item.sha256 else {
                unlink(produced)
                throw AmanatError(
                    .verificationFailed,
                    "\(described): the stored file's SHA-256 is not the one the record signs (damaged or replaced). "
                        + "Nothing was written.")
            }
            let name = MediaPublication.derivativeName(sha256: annotation.derivativeSHA256, extension: ext)
            guard rename(produced, mediaFolder.appendingPathComponent(name).path) == 0 else {
                unlink(produced)
                throw AmanatError(.cannotCreateOutput, "cannot write \(name) in \(mediaFolder.path): \(systemError()).")
            }
            var signed = annotation
            signed.derivativeName = name
            let jws = try MediaPublication.sign(
                signed, recordId: item.recordId, versionId: item.versionId, attachmentKind: item.kind, key: key,
                issuedAt: issuedAt)
            let annotationName = annotation.derivativeSHA256 + MediaPublication.annotationSuffix
            let bytes = Array((jws + "\n").utf8)
            try AtomicFile.write(Data(bytes), to: mediaFolder.appendingPathComponent(annotationName))
            written.append(
                WrittenMedia(
                    entry: PublicationIndex.MediaEntry(
                        record: item.recordId, kind: item.kind, action: item.action.rawValue,
                        derivative: MediaPublication.folder + "/" + name,
                        annotation: MediaPublication.folder + "/" + annotationName, originalSHA256: item.sha256,
                        derivativeSHA256: annotation.derivativeSHA256),
                    annotationBytes: bytes))
        }
        return written
    }

    /// A decrypted attachment in `.amanat/`, removed by ``remove()``.
    struct TemporaryPlaintext {
        var path: String
        var token: Int

        func remove() {
            unlink(path)
            Leftovers.unregister(token)
        }
    }

    static func decryptToTemporary(
        _ sha256: String, described: String, service: RecordService, workspace: Workspace
    ) throws -> TemporaryPlaintext {
        let reader: EncryptedBlob.Reader
        do {
            guard let opened = try service.openBlob(sha256) else {
                throw AmanatError(
                    .inputMissing,
                    "\(described): its file is not in this workspace. Restore it from a partner's bundle or your "
                        + "backup, or withhold the kind. Nothing was written.")
            }
            reader = opened
        } catch let error as AmanatError where error.kind == .verificationFailed {
            throw AmanatError(.verificationFailed, "\(described): \(error.message) Nothing was written.")
        }
        let path = workspace.dotFolder.appendingPathComponent(".media.amanat-partial-\(UUID().uuidString)").path
        let token = Leftovers.register(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            Leftovers.unregister(token)
            throw AmanatError(
                .cannotCreateOutput, "cannot create a temporary file in \(workspace.dotFolder.path): \(systemError()).")
        }
        let temporary = TemporaryPlaintext(path: path, token: token)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        defer { wipe(&buffer) }
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read($0) }
                if n == 0 { break }
                var offset = 0
                while offset < n {
                    let w = buffer.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, n - offset) }
                    guard w > 0 else {
                        throw AmanatError(.ioError, "cannot write a temporary file in .amanat/: \(systemError()).")
                    }
                    offset += w
                }
            }
            guard close(fd) == 0 else {
                throw AmanatError(.ioError, "cannot write a temporary file in .amanat/: \(systemError()).")
            }
        } catch let error as AmanatError {
            temporary.remove()
            throw AmanatError(error.kind, "\(described): \(error.message) Nothing was written.")
        }
        return temporary
    }

    static func transcriptFindings(
        _ sha256: String, described: String, service: RecordService
    ) throws -> [TimedTranscript.TimedFinding] {
        guard let reader = try service.openBlob(sha256) else {
            throw AmanatError(
                .inputMissing,
                "\(described): the record's timed transcript \(sha256.prefix(12))… is not in this workspace, so "
                    + "the identifiers spoken in the recording cannot be muted. Restore it. Nothing was written.")
        }
        guard reader.plaintextSize <= UInt64(TimedTranscript.maximumBytes) else {
            throw AmanatError(
                .malformedInput, "\(described): the record's timed transcript is too large. Nothing was written.")
        }
        var bytes = [UInt8](repeating: 0, count: Int(reader.plaintextSize))
        defer { wipe(&bytes) }
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes {
                try reader.read(UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
            }
            if n == 0 { break }
            filled += n
        }
        do {
            return try TimedTranscript.parse(Array(bytes[..<filled]), file: "transcript \(sha256.prefix(12))…")
                .identifierIntervals()
        } catch {
            let reason = UntrustedText.printable(error.description)
            throw AmanatError(
                .malformedInput,
                "\(described): the record's timed transcript does not parse (\(reason)). Nothing was written.")
        }
    }
}

extension AmanatError {
    /// The application's reading of a media error, prefixed by `context` (which record and attachment); the
    /// temporary plaintext's path, if the message names it, is replaced by "the attachment".
    public init(_ error: MediaError, context: String? = nil, temporaryPath: String? = nil) {
        var message = UntrustedText.printable(error.description)
        if let temporaryPath {
            message = message.replacingOccurrences(of: temporaryPath, with: "the attachment")
        }
        if let context { message = "\(context): \(message). Nothing was written." }
        let kind: Kind
        if error.isToolUnavailable {
            kind = .toolUnavailable
        } else {
            switch error {
            case .fileMissing: kind = .inputMissing
            case .unsupportedOutput: kind = .invalidRequest
            case .cannotWrite: kind = .cannotCreateOutput
            case .toolTimedOut, .toolFailed: kind = .ioError
            default: kind = .malformedInput
            }
        }
        self.init(kind, message)
    }
}

/// What `amanat verify published/media/<sha256>.<ext>` established.
public struct MediaVerification: Sendable {
    public var derivative: String
    public var annotationFile: String
    public var publisherFingerprint: String
    public var recordId: String
    public var versionId: String
    /// The signer of the presented version (`<record-id>.sd-jwt` beside `media/`), whose `att` claim holds the
    /// original's SHA-256.
    public var signerFingerprint: String
    /// The record's collector, from the record's annotation (nil when the publication has none beside it).
    public var collectorFingerprint: String?
    public var attachmentKind: String
    public var annotation: MediaAnnotation
    /// The publication's place in the publisher's log (`media/<sha256>.tlog-proof`), when the proof is there.
    public var log: LogInclusion?
}

extension VerificationKeys {
    /// The largest media annotation read.
    static let maximumMediaAnnotationBytes = 4 << 20

    /// Verifies a published derivative: its SHA-256 against the media annotation beside it, the annotation's
    /// signature by a trusted publisher, and that the original's SHA-256 is among the attachments the
    /// record's presented version signs (`<record-id>.sd-jwt` in the publication folder, verified, with its own
    /// annotation by the same publisher when present).
    /// - Throws: ``AmanatError``: `verificationFailed` for any mismatch or bad signature, `inputMissing` when the
    ///   annotation or the record is not in the publication, `malformedInput` for unreadable files.
    public func verifyMedia(_ path: String) throws -> MediaVerification {
        let shown = UntrustedText.printable(path)
        let annotationFile = MediaPublication.annotationPath(forDerivative: path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw AmanatError(.inputMissing, "\(shown) does not exist.")
        }
        guard FileManager.default.fileExists(atPath: annotationFile) else {
            throw AmanatError(
                .inputMissing,
                "\(UntrustedText.printable(annotationFile)) (the media annotation of \(shown)) does not exist: a "
                    + "derivative is verified with the annotation publish wrote beside it.")
        }
        let annotationBytes = try Self.readLimited(annotationFile, what: "media annotation")
        let verified: MediaPublication.Verified
        do {
            verified = try MediaPublication.verify(
                String(decoding: annotationBytes, as: UTF8.self), file: annotationFile, trustedKey: { key($0) })
        } catch let error as PublicationError {
            throw AmanatError(error)
        }
        let hash: String
        do { hash = try MediaHash.file(path) } catch { throw AmanatError(error) }
        guard hash == verified.annotation.derivativeSHA256,
            URL(fileURLWithPath: path).lastPathComponent == verified.annotation.derivativeName
        else {
            throw AmanatError(
                .verificationFailed,
                "\(shown) is not the derivative its annotation describes (its SHA-256 or name differs): it was "
                    + "altered or replaced. Do not trust it.")
        }
        // The record in the same publication: media/ sits inside the publication folder.
        let mediaFolder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let publication = mediaFolder.deletingLastPathComponent()
        // A record id is base64url; it becomes a file name, so nothing else is accepted.
        guard !verified.recordId.isEmpty,
            verified.recordId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw AmanatError(
                .verificationFailed, "\(UntrustedText.printable(annotationFile)) names no valid record id.")
        }
        let recordFile = publication.appendingPathComponent(verified.recordId + ".sd-jwt").path
        guard FileManager.default.fileExists(atPath: recordFile) else {
            throw AmanatError(
                .inputMissing,
                "\(UntrustedText.printable(recordFile)), the record the derivative belongs to, is not in the "
                    + "publication; the original's hash cannot be checked against the collector-signed record.")
        }
        let recordText = String(decoding: try Self.readLimited(recordFile, what: "SD-JWT file"), as: UTF8.self)
        let presentation: SDJWT
        let version: VerifiedVersion
        do {
            presentation = try SDJWT.parse(recordText.trimmingCharacters(in: .whitespacesAndNewlines))
            version = try verify(presentation)
        } catch let error as SDJWTError {
            throw AmanatError(
                .verificationFailed, "\(UntrustedText.printable(recordFile)) does not verify: \(explain(error)).")
        }
        guard version.recordId == verified.recordId, version.versionId == verified.versionId else {
            throw AmanatError(
                .verificationFailed,
                "\(UntrustedText.printable(annotationFile)) names another version of the record than "
                    + "\(UntrustedText.printable(recordFile)) presents.")
        }
        guard version.attachments.contains(verified.annotation.originalSHA256) else {
            throw AmanatError(
                .verificationFailed,
                "\(UntrustedText.printable(annotationFile)): the original's SHA-256 is not among the attachments "
                    + "the record's signed version lists. The derivative is not of this record's file.")
        }
        var collector: String?
        let recordAnnotation = PublishedFile.annotationPath(for: recordFile)
        if FileManager.default.fileExists(atPath: recordAnnotation) {
            let text = String(
                decoding: try Self.readLimited(recordAnnotation, what: "annotation"), as: UTF8.self)
            let a = try verifyAnnotation(text, file: recordAnnotation, presentation: presentation, verified: version)
            guard a.publisherFingerprint == verified.publisherFingerprint else {
                throw AmanatError(
                    .verificationFailed,
                    "\(UntrustedText.printable(annotationFile)) and \(UntrustedText.printable(recordAnnotation)) "
                        + "are signed by different publishers.")
            }
            collector = a.collector
        }
        var log: LogInclusion?
        let proofFile = mediaFolder.appendingPathComponent(
            verified.annotation.derivativeSHA256 + ".tlog-proof"
        ).path
        if FileManager.default.fileExists(atPath: proofFile) {
            let proof = try Self.readLimited(proofFile, what: "log proof")
            log = try checkLogProof(
                proof, file: proofFile,
                entry: try LogEntry(kind: .publication, digest: try SHA256.hash(annotationBytes)),
                owner: verified.publisherFingerprint)
        }
        return MediaVerification(
            derivative: path, annotationFile: annotationFile, publisherFingerprint: verified.publisherFingerprint,
            recordId: verified.recordId, versionId: verified.versionId, signerFingerprint: version.signerFingerprint,
            collectorFingerprint: collector, attachmentKind: verified.attachmentKind, annotation: verified.annotation,
            log: log)
    }

    /// Compares a verified derivative with the sealed original a partner holds: the original's SHA-256 must be
    /// the annotated one; then both are decoded and compared outside the declared rectangles and intervals.
    /// - Throws: ``AmanatError`` `verificationFailed` when `original` is another file; media errors as
    ///   ``AmanatError`` (`toolUnavailable` without ffmpeg).
    public func compareMedia(
        _ media: MediaVerification, original: String, tools: MediaTools
    ) throws -> MediaComparison.Report {
        let hash: String
        do { hash = try MediaHash.file(original) } catch { throw AmanatError(error) }
        guard hash == media.annotation.originalSHA256 else {
            throw AmanatError(
                .verificationFailed,
                "\(UntrustedText.printable(original)) is not the original the derivative was made from (its SHA-256 "
                    + "differs from the annotated one).")
        }
        do {
            return try MediaComparison.compare(
                original: original, derivative: media.derivative, rectangles: media.annotation.rectangles,
                intervals: media.annotation.intervals, tools: tools)
        } catch {
            throw AmanatError(error)
        }
    }

    static func readLimited(_ path: String, what: String) throws -> [UInt8] {
        let input = try InputFile(path, what: what)
        guard input.size <= UInt64(maximumMediaAnnotationBytes) else {
            throw AmanatError(.malformedInput, "\(UntrustedText.printable(path)) (\(what)) is too large.")
        }
        return Array(try Workspace.readFile(URL(fileURLWithPath: path), what: what))
    }
}
