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

    /// How many left-out records a ``PublicationResult`` names one by one; the rest are counted by reason.
    public static let listedSkips = 100
    /// How many distinct reasons a ``PublicationResult`` counts; further ones are counted as ``otherReasons``.
    static let countedReasons = 100
    /// The reason further reasons are counted under.
    public static let otherReasons = "other reasons"

    /// Who a policy writes for: a policy whose purpose is `exchange` makes redacted versions for a partner, which
    /// may include records with consent `partners`; every other policy publishes.
    public static func audience(_ policy: RedactionPolicy) -> Authority.Audience {
        policy.purpose == "exchange" && policy.recipient != "public" ? .partner : .everyone
    }

    /// The records to publish, named on the command line: the single head of each (each once, in the order named).
    /// Whether a record may be published is ``Authority/publicationRefusal(_:allowed:audience:)``'s decision, on
    /// the consent in force (capped by the collector), never on what the head claims.
    /// - Throws: ``AmanatError`` `invalidRequest` for a record that may not be published, `conflicts` for
    ///   unresolved concurrent edits.
    public static func select(_ names: [String], policy: PolicyFile, service: RecordService) throws -> [Selected] {
        let ids = try names.map { try service.resolve($0) }
        let allowed = Set(policy.policy.consent.compactMap(Consent.init(rawValue:)))
        var selected: [Selected] = []
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            let view = try service.view(id)
            if let why = Authority.publicationRefusal(view, allowed: allowed, audience: audience(policy.policy)) {
                throw AmanatError(.invalidRequest, "record \(id) cannot be published: \(why). Nothing was written.")
            }
            selected.append(Selected(head: try service.singleHead(of: view), view: view))
        }
        return selected
    }

    static func nothingToPublish(_ policy: PolicyFile) -> AmanatError {
        AmanatError(
            .invalidRequest,
            "no record in this workspace may be published under policy '\(UntrustedText.printable(policy.policy.name))'. "
                + "Nothing was written.")
    }
}

/// What `publish` made: the redacted records, those left out and why, and the folder written (nil on a dry run).
public struct PublicationResult {
    /// The redacted records, in order; empty when they were handed to `onRecord` instead
    /// (``Workspace/publish(_:policy:to:mediaSpecs:batchSize:progress:onRecord:)``).
    public var records: [PublishedRecord]
    /// The first records left out (at most ``Publisher/listedSkips``), in order; ``skippedCount`` says how many
    /// were.
    public var skipped: [Publisher.Skipped]
    /// How many records were left out.
    public var skippedCount = 0
    /// How many records were left out for each reason (at most ``Publisher/countedReasons`` reasons, the rest
    /// under ``Publisher/otherReasons``).
    public var skippedReasons: [String: Int] = [:]
    public var folder: String?
    /// The public identities written beside the records (empty on a dry run).
    public var identities: [PublicationIndex.IdentityEntry] = []
    /// The derivatives written in `media/` (empty on a dry run).
    public var media: [WrittenMedia] = []
    /// How many records were published.
    public var count = 0
}

extension PublicationResult {
    /// Counts a record left out, and names it while fewer than ``Publisher/listedSkips`` are.
    mutating func skip(_ skipped: Publisher.Skipped) {
        skippedCount += 1
        if self.skipped.count < Publisher.listedSkips { self.skipped.append(skipped) }
        if skippedReasons[skipped.reason] != nil || skippedReasons.count < Publisher.countedReasons {
            skippedReasons[skipped.reason, default: 0] += 1
        } else {
            skippedReasons[Publisher.otherReasons, default: 0] += 1
        }
    }
}

extension Workspace {
    /// Reads a redaction policy and checks its paths against the record schema.
    /// - Throws: ``AmanatError`` naming the file and line.
    public static func loadPolicy(_ path: String) throws -> PolicyFile {
        do { return try PolicyFile.load(path) } catch let error as PublicationError { throw AmanatError(error) }
    }

    /// Publishes records under a policy: chooses those the rules allow (all, when `names` is empty), redacts
    /// them, and writes the folder `output` whole or not at all (nil: a dry run that writes nothing).
    ///
    /// The records are read, redacted, signed and written `batchSize` at a time on every core, each batch's files
    /// straight into the staging folder, so that memory does not grow with the store (beyond 8 bytes per published
    /// record, the log index of its provenance entry) when `onRecord` takes the records: the index entries and what
    /// the log needs of each record wait in files beside the output (the log's items encrypted, ``Spool``).
    /// - Throws: ``AmanatError``; a named record that may not be published fails the whole run.
    /// - Parameter mediaSpecs: media redaction specs by the SHA-256 of the attachment they apply to; the policy's
    ///   `media:` section decides which attachments are published (``Publisher/planMedia(_:policy:specs:)``).
    /// - Parameter progress: records done so far (published or skipped), and how many there are.
    /// - Parameter onRecord: given, receives each published record in order as it is made, and the result holds
    ///   none (``PublicationResult/records`` is empty).
    public func publish(
        _ names: [String], policy: PolicyFile, to output: String?, mediaSpecs: MediaSpecs = MediaSpecs(),
        batchSize: Int = 512, progress: ((Int, Int) -> Void)? = nil, onRecord: ((PublishedRecord) throws -> Void)? = nil
    ) throws -> PublicationResult {
        unlockSigningKeyAhead()
        defer { finishSigningKeyAhead() }
        let service = try RecordService(workspace: self)
        let store = service.store
        // Named records are chosen (and refused) before anything is redacted; all records are chosen as they come.
        let named = names.isEmpty ? nil : try Publisher.select(names, policy: policy, service: service)
        let key = try signingKey()
        var target: URL?
        var staging: StagingDirectory?
        if let output {
            let url = URL(fileURLWithPath: output).standardizedFileURL
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue,
                    (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.isEmpty == true
                else {
                    throw AmanatError(
                        .cannotCreateOutput,
                        "\(output) already exists and is not an empty folder; choose a new folder. Nothing was written."
                    )
                }
            }
            target = url
            staging = try StagingDirectory(beside: url, mode: 0o755)
        }
        let folder = staging.map { PublicationFolder($0.url) }
        // The index entries wait in a file beside the staging folder until the head of the index is known.
        let spill = try staging.map { _ in try IndexSpill(beside: target!) }
        let logItems = try staging.map { _ in try Spool(beside: target!, label: "log") }
        let context = PublishContext(
            store: store, authority: service.authority, keys: try trustedKeys(), policy: policy, key: key,
            secrets: try OrganizationSecrets(signingKey: key), explicit: named != nil,
            issuedAt: Int(Date().timeIntervalSince1970), folder: folder,
            wantsMedia: policy.policy.media.publishesAnything)

        var result = PublicationResult(records: [], skipped: [], folder: nil)
        var collectors = Set<String>()
        var signers = Set<String>()
        var mediaSources: [Publisher.MediaSource] = []
        var done = 0
        func run(_ batch: [PublishContext.Input], total: Int) throws {
            // Runs of 16 records: each run's versions are read in one transaction.
            let runs = stride(from: 0, to: batch.count, by: 16).map { Array(batch[$0..<min($0 + 16, batch.count)]) }
            let outcomes = try OrderedParallel.map(
                runs, minimumPerCore: 1, makeWorker: { try context.makeWorker() }, { try context.process($1, $0) }
            ).joined()
            for outcome in outcomes {
                switch outcome {
                case .skipped(let skipped): result.skip(skipped)
                case .published(let made):
                    result.count += 1
                    collectors.insert(made.record.collector)
                    signers.insert(made.record.signer)
                    try spill?.append(PublicationIndex.prettyEntry(made.record))
                    try logItems?.append(made.log.encoded)
                    if let media = made.media { mediaSources.append(media) }
                    if let onRecord { try onRecord(made.record) } else { result.records.append(made.record) }
                }
            }
            done += batch.count
            progress?(done, total)
        }
        let size = max(1, batchSize)
        if let named {
            let inputs = named.map { PublishContext.Input.selected($0) }
            for start in stride(from: 0, to: inputs.count, by: size) {
                try run(Array(inputs[start..<min(start + size, inputs.count)]), total: inputs.count)
            }
        } else {
            let total = try store.viewCounts(authority: service.authority).records
            var batch: [PublishContext.Input] = []
            try store.forEachRecordState(authority: service.authority, pageSize: size) { state in
                batch.append(context.input(state))
                if batch.count == size {
                    try run(batch, total: total)
                    batch.removeAll(keepingCapacity: true)
                }
                return true
            }
            if !batch.isEmpty { try run(batch, total: total) }
        }
        guard result.count > 0 else { throw Publisher.nothingToPublish(policy) }

        // Media: decided (and refused, fail closed) before the folder is complete.
        var mediaItems: [Publisher.MediaItem] = []
        if context.wantsMedia {
            mediaItems = try Publisher.planMedia(mediaSources, policy: policy.policy.media, specs: mediaSpecs)
        }
        mediaSources = []
        guard let staging, let target, let folder, let spill, let logItems else { return result }
        let own = try identity()
        let list = try trustList()
        do {
            result.identities = try PublicationIndex.identities(
                collectors: collectors, signers: signers, publisher: own
            ) { fingerprint in
                list.entry(fingerprint: fingerprint).map(\.identity).flatMap { (try? $0.validated()) == nil ? nil : $0 }
            }
        } catch let error as PublicationError {
            throw AmanatError(error)
        }
        let tools: MediaTools?
        do { tools = mediaItems.isEmpty ? nil : try MediaTools.locate() } catch { throw AmanatError(error) }
        if let tools {
            result.media = try Publisher.writeMedia(
                mediaItems, into: staging.url, service: service, workspace: self, key: key, tools: tools,
                margin: policy.policy.media.margin, issuedAt: Int(Date().timeIntervalSince1970))
        }
        for written in result.media {
            try logItems.append(
                PublicationLogItem(
                    record: String(written.entry.annotation.dropLast(MediaPublication.annotationSuffix.count)),
                    digest: try SHA256.hash(written.annotationBytes), version: nil
                ).encoded)
        }
        try writePublicationLog(logItems, store: store, into: folder)
        for entry in result.identities {
            guard let name = PublicationIndex.identityPath(entry.identity.fingerprint) else { continue }
            try folder.write(name, Array(entry.identity.jsonData()))
        }
        let (head, tail) = PublicationIndex.prettyParts(
            publisher: own, policy: policy, publishedAt: context.issuedAt, identities: result.identities,
            media: result.media.map(\.entry))
        try folder.write(PublicationIndex.fileName) { write in
            try Array(head.utf8).withUnsafeBytes { try write($0) }
            try spill.copy(to: write)
            try Array((tail + "\n").utf8).withUnsafeBytes { try write($0) }
        }
        try folder.flush()
        try staging.commit(to: target)
        result.folder = target.path
        return result
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
