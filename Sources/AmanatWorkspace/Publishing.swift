import AmanatCrypto
import AmanatLog
import AmanatMedia
import AmanatPublish
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import Foundation

/// The steps of `amanat publish`: choose the records the rules allow, redact them under a policy, write the folder.
public enum Publisher {
    /// A record chosen for publication: its single head and its view (consent, collector, editors).
    public struct Selected: Sendable {
        public var head: StoredVersion
        public var view: RecordView
    }

    /// A record left out, and why (never a value).
    public struct Skipped: Sendable, Encodable, Hashable {
        public var record: String
        public var reason: String
    }

    /// Who a policy writes for: a policy whose purpose is `exchange` makes redacted versions for a partner, which
    /// may include records with consent `partners`; every other policy publishes.
    public static func audience(_ policy: RedactionPolicy) -> Authority.Audience {
        policy.purpose == "exchange" && policy.recipient != "public" ? .partner : .everyone
    }

    /// The records to publish: the single head of each named record (all records when none is named). Whether a
    /// record may be published is ``Authority/publicationRefusal(_:allowed:audience:)``'s decision, on the consent
    /// in force (capped by the collector), never on what the head claims.
    /// - Throws: ``AmanatError`` `invalidRequest` for a named record that may not be published, `conflicts` for
    ///   unresolved concurrent edits.
    public static func select(
        _ names: [String], policy: PolicyFile, service: RecordService, skipped: inout [Skipped]
    ) throws -> [Selected] {
        let explicit = !names.isEmpty
        let ids = explicit ? try names.map { try service.resolve($0) } : try service.store.records().map(\.id)
        let allowed = Set(policy.policy.consent.compactMap(Consent.init(rawValue:)))
        var selected: [Selected] = []
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            let view = try service.view(id)
            if let why = Authority.publicationRefusal(view, allowed: allowed, audience: audience(policy.policy)) {
                if explicit {
                    throw AmanatError(.invalidRequest, "record \(id) cannot be published: \(why). Nothing was written.")
                }
                skipped.append(Skipped(record: id, reason: why))
                continue
            }
            selected.append(Selected(head: try service.singleHead(of: view), view: view))
        }
        guard !selected.isEmpty else {
            throw AmanatError(
                .invalidRequest,
                "no record in this workspace may be published under policy '\(UntrustedText.printable(policy.policy.name))'. "
                    + "Nothing was written."
            )
        }
        return selected
    }

    /// Applies the policy to each record. A record the policy cannot present (a plain claim it would have to
    /// strip) is skipped with a message, unless it was named (`explicit`), which fails the whole run.
    /// - Throws: ``AmanatError`` `malformedInput` for a named record that cannot be presented under the policy.
    public static func redact(
        _ records: [Selected], policy: PolicyFile, service: RecordService, key: Ed25519.SigningKey,
        explicit: Bool = true, skipped: inout [Skipped], progress: ((Int, Int) -> Void)? = nil
    ) throws
        -> [PublishedRecord]
    {
        let secrets = try OrganizationSecrets(signingKey: key)
        var keys: [IdentifierKind: SecretBytes] = [:]
        let redactor = Redactor(policy: policy.policy) { kind in
            if let k = keys[kind] { return k }
            let k = try secrets.pseudonymKey(
                purpose: policy.policy.purpose, recipient: policy.policy.recipient, kind: kind)
            keys[kind] = k
            return k
        }
        var result: [PublishedRecord] = []
        for (done, record) in records.enumerated() {
            progress?(done, records.count)
            let version = record.head
            let verified = try service.verifiedContent(version)
            var published: PublishedRecord
            do {
                published = try redactor.apply(version.sdjwt, verified: verified)
            } catch let refusal as Redactor.Refusal {
                let message =
                    "record \(version.recordId) cannot be published under policy "
                    + "'\(UntrustedText.printable(policy.policy.name))': \(refusal.reason)"
                guard explicit else {
                    skipped.append(Skipped(record: version.recordId, reason: refusal.reason))
                    continue
                }
                throw AmanatError(.malformedInput, message + ". Nothing was written.")
            } catch let error as SDJWTError {
                throw AmanatError(
                    .verificationFailed, "record \(version.recordId): its stored version does not parse: \(error).")
            }
            // Authorship is the collector's; whoever signed later versions is named as an editor.
            guard let collector = record.view.collector else {
                throw AmanatError(
                    .inputMissing,
                    "record \(version.recordId): its first version is not in this store, so its collector "
                        + "cannot be shown. Nothing was written.")
            }
            published.collector = collector
            published.editors = record.view.editors
            if version.id != version.recordId { published.origin = try service.store.version(version.recordId).jwt }
            let overlaid = Annotation.overlays(published.values, presentation: published.presentation)
            guard overlaid.isEmpty else {
                throw AmanatError(
                    .malformedInput,
                    "record \(version.recordId): the publisher values at \(overlaid.joined(separator: ", ")) would sit on "
                        + "values the presentation discloses (a bug in the redactor). Nothing was written.")
            }
            result.append(published)
        }
        guard !result.isEmpty else {
            throw AmanatError(
                .invalidRequest,
                "no record in this workspace may be published under policy '\(UntrustedText.printable(policy.policy.name))'. "
                    + "Nothing was written."
            )
        }
        return result
    }

    /// Writes the presentations, annotations, the public identity files (`<fingerprint>.identity.json`)
    /// and index.json into a staging folder beside `path`, then renames it into place. Returns the final path.
    /// - Parameter identities: the identities to write beside the records (``PublicationIndex/identities(_:publisher:identity:)``).
    /// - Parameter logProofs: given each record id (or `media/<sha256>` for a media annotation), its presented version
    ///   (empty for media) and the bytes published, logs them and returns the provenance files to write, by name
    ///   (`<record-id>.tlog-proof` and `media/<sha256>.tlog-proof`, the inclusion proofs in the publisher's log, and
    ///   a presented version's timestamp; `Specs/log.md`).
    /// - Parameter media: given the staging folder, writes the derivatives and media annotations into its `media/`
    ///   folder (``Publisher/writeMedia(_:into:service:workspace:key:tools:margin:issuedAt:)``) and returns them.
    /// - Throws: ``AmanatError`` `cannotCreateOutput` when `path` exists and is not an empty folder, or cannot be
    ///   created.
    public static func write(
        _ records: [PublishedRecord], to path: String, policy: PolicyFile, key: Ed25519.SigningKey,
        publisher: PublicIdentity, identities: [PublicationIndex.IdentityEntry] = [],
        media: ((URL) throws -> [WrittenMedia])? = nil,
        logProofs: (([(record: String, version: String, bytes: [UInt8])]) throws -> [String: [UInt8]])? = nil
    ) throws -> String {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try? fm.contentsOfDirectory(atPath: target.path))?.isEmpty == true else {
                throw AmanatError(
                    .cannotCreateOutput,
                    "\(path) already exists and is not an empty folder; choose a new folder. Nothing was written.")
            }
        }
        let staging = try StagingDirectory(beside: target, mode: 0o755)
        let now = Int(Date().timeIntervalSince1970)
        var presentations: [(record: String, version: String, bytes: [UInt8])] = []
        for record in records {
            let annotation = try Annotation.sign(
                record, policyName: policy.policy.name, policyHash: policy.sha256, key: key, issuedAt: now)
            let bytes = Array((record.presentation.compact + "\n").utf8)
            presentations.append((record.recordId, record.versionId, bytes))
            try AtomicFile.write(
                Data(bytes), to: staging.url.appendingPathComponent(PublicationIndex.presentationName(record)))
            try AtomicFile.write(
                Data((annotation + "\n").utf8),
                to: staging.url.appendingPathComponent(PublicationIndex.annotationName(record)))
        }
        let written = try media?(staging.url) ?? []
        let mediaLogged = written.map {
            (
                record: String($0.entry.annotation.dropLast(MediaPublication.annotationSuffix.count)), version: "",
                bytes: $0.annotationBytes
            )
        }
        for (name, bytes) in try logProofs?(presentations + mediaLogged) ?? [:] {
            try AtomicFile.write(Data(bytes), to: staging.url.appendingPathComponent(name))
        }
        for entry in identities {
            guard let name = PublicationIndex.identityPath(entry.identity.fingerprint) else { continue }
            try AtomicFile.write(entry.identity.jsonData(), to: staging.url.appendingPathComponent(name))
        }
        let index = PublicationIndex.json(
            records, publisher: publisher, policy: policy, publishedAt: now, identities: identities,
            media: written.map(\.entry))
        try AtomicFile.write(
            Data((index.pretty() + "\n").utf8), to: staging.url.appendingPathComponent(PublicationIndex.fileName))
        try staging.commit(to: target)
        return target.path
    }
}

/// What `publish` made: the redacted records, those left out and why, and the folder written (nil on a dry run).
public struct PublicationResult {
    public var records: [PublishedRecord]
    public var skipped: [Publisher.Skipped]
    public var folder: String?
    /// The public identities written beside the records (empty on a dry run).
    public var identities: [PublicationIndex.IdentityEntry] = []
    /// The derivatives written in `media/` (empty on a dry run).
    public var media: [WrittenMedia] = []
}

extension Workspace {
    /// Reads a redaction policy and checks its paths against the record schema.
    /// - Throws: ``AmanatError`` naming the file and line.
    public static func loadPolicy(_ path: String) throws -> PolicyFile {
        do { return try PolicyFile.load(path) } catch let error as PublicationError { throw AmanatError(error) }
    }

    /// Publishes records under a policy: chooses those the rules allow (all, when `names` is empty), redacts
    /// them, and writes the folder `output` whole or not at all (nil: a dry run that writes nothing).
    /// - Throws: ``AmanatError``; a named record that may not be published fails the whole run.
    /// - Parameter mediaSpecs: media redaction specs by the SHA-256 of the attachment they apply to; the policy's
    ///   `media:` section decides which attachments are published (``Publisher/planMedia(_:policy:specs:)``).
    /// - Parameter progress: records redacted so far, and how many were chosen.
    public func publish(
        _ names: [String], policy: PolicyFile, to output: String?, mediaSpecs: MediaSpecs = MediaSpecs(),
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> PublicationResult {
        let service = try RecordService(workspace: self)
        var skipped: [Publisher.Skipped] = []
        let selected = try Publisher.select(names, policy: policy, service: service, skipped: &skipped)
        let key = try signingKey()
        let records = try Publisher.redact(
            selected, policy: policy, service: service, key: key, explicit: !names.isEmpty, skipped: &skipped,
            progress: progress)
        // Media: decided (and refused, fail closed) before anything is written.
        var mediaItems: [Publisher.MediaItem] = []
        if policy.policy.media.publishesAnything {
            let sources = try records.map { record in
                guard let head = selected.first(where: { $0.head.recordId == record.recordId })?.head else {
                    throw AmanatError(.ioError, "record \(record.recordId) was published but not selected (a bug).")
                }
                let verified = try service.verifiedContent(head)
                return Publisher.MediaSource(
                    recordId: record.recordId, versionId: record.versionId, content: verified.content,
                    signedAttachments: verified.attachments)
            }
            mediaItems = try Publisher.planMedia(sources, policy: policy.policy.media, specs: mediaSpecs)
        }
        var folder: String?
        var identities: [PublicationIndex.IdentityEntry] = []
        var media: [WrittenMedia] = []
        if let output {
            let own = try identity()
            let list = try trustList()
            do {
                identities = try PublicationIndex.identities(records, publisher: own) { fingerprint in
                    list.entry(fingerprint: fingerprint).map(\.identity).flatMap {
                        (try? $0.validated()) == nil ? nil : $0
                    }
                }
            } catch let error as PublicationError {
                throw AmanatError(error)
            }
            let tools: MediaTools?
            do { tools = mediaItems.isEmpty ? nil : try MediaTools.locate() } catch { throw AmanatError(error) }
            folder = try Publisher.write(
                records, to: output, policy: policy, key: key, publisher: own, identities: identities,
                media: { staging in
                    guard let tools else { return [] }
                    media = try Publisher.writeMedia(
                        mediaItems, into: staging, service: service, workspace: self, key: key, tools: tools,
                        margin: policy.policy.media.margin, issuedAt: Int(Date().timeIntervalSince1970))
                    return media
                },
                logProofs: { try self.publicationLogFiles($0, store: service.store) })
        }
        return PublicationResult(
            records: records, skipped: skipped, folder: folder, identities: identities, media: media)
    }

    /// Verifies a publisher's annotation against this workspace's trust list: its signature, its binding to the
    /// presentation `verified` came from, the collector it names, and that it overlays no disclosed value.
    /// - Throws: ``AmanatError``.
    public func verifyAnnotation(
        _ text: String, file: String, presentation: SDJWT, verified: VerifiedVersion
    ) throws -> Annotation.Verified {
        let keys = try trustedKeys()
        do {
            return try Annotation.verify(
                text, file: file, presentation: presentation, verified: verified, trustedKey: { keys[$0] })
        } catch let error as PublicationError {
            throw AmanatError(error)
        }
    }
}

extension AmanatError {
    /// The application's reading of a publication error.
    public init(_ error: PublicationError) {
        switch error.kind {
        case .verificationFailed: self.init(.verificationFailed, error.message)
        case .malformed, .refused: self.init(.malformedInput, error.message)
        case .unreadable: self.init(.inputMissing, error.message)
        }
    }
}
