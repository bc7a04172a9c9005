import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatStore
import Foundation

/// The organization's log as `amanat log` shows it, and the auditor's export (`Specs/log.md`).
public struct LogStatus: Encodable, Sendable {
    public struct Cosigner: Encodable, Sendable {
        public var name: String
        public var fingerprint: String
        /// The largest of our checkpoints it cosigned.
        public var size: UInt64
    }
    public struct PartnerLog: Encodable, Sendable {
        public var name: String
        public var origin: String
        /// The latest checkpoint of its log we saw, and whether we cosigned it.
        public var size: UInt64
        public var cosignedByUs: Bool
    }
    public var origin: String
    public var size: UInt64
    /// Base64 root hash of the latest checkpoint.
    public var rootHash: String
    /// The latest signed checkpoint (a C2SP signed note).
    public var checkpoint: String
    public var cosigners: [Cosigner]
    public var partners: [PartnerLog]
    public var alarms: Int
}

/// One entry as listed.
public struct LogEntryListing: Encodable, Sendable {
    public var index: UInt64
    public var kind: String
    /// base64url SHA-256 (a record version's id is this digest).
    public var digest: String
    public var appendedAt: String
}

/// What an auditor's check of an exported log found.
public struct LogAudit: Encodable, Sendable {
    public var origin: String
    public var size: UInt64
    public var rootHash: String
    /// Organizations whose cosignatures on the checkpoint verified (name from their identity file).
    public var cosignedBy: [String]
}

extension Workspace {
    /// The log's latest checkpoint (signed now if the log grew), who cosigned it, and the partners' logs seen.
    public func logStatus() throws -> LogStatus {
        let store = try store()
        let (checkpoint, note) = try self.checkpoint(store: store)
        var cosigners: [LogStatus.Cosigner] = []
        for (fp, size) in try store.cosigners().sorted(by: { $0.key < $1.key }) {
            cosigners.append(.init(name: signerName(fp), fingerprint: fp, size: size))
        }
        let partners = try store.latestSeenCheckpoints().map { seen in
            LogStatus.PartnerLog(
                name: Self.fingerprint(ofOrigin: seen.origin).map { signerName($0) }
                    ?? UntrustedText.printable(seen.origin),
                origin: UntrustedText.printable(seen.origin), size: seen.size, cosignedByUs: seen.cosigned != nil)
        }
        return LogStatus(
            origin: checkpoint.origin, size: checkpoint.size, rootHash: Data(checkpoint.rootHash).base64EncodedString(),
            checkpoint: String(decoding: note.serialized, as: UTF8.self), cosigners: cosigners, partners: partners,
            alarms: try store.alarms().count)
    }

    /// Entries of the log from `start`, at most `limit`.
    public func logEntries(from start: UInt64 = 0, limit: Int = .max) throws -> [LogEntryListing] {
        let formatter = ISO8601DateFormatter()
        return try store().logEntries(from: start, limit: limit).map { e in
            LogEntryListing(
                index: e.index, kind: e.entry.kind.name, digest: Base64URL.encode(e.entry.digest),
                appendedAt: formatter.string(from: Date(timeIntervalSince1970: TimeInterval(e.appendedAt))))
        }
    }

    /// The C2SP tlog-proof of a logged entry, named by its base64url digest (a record version id, a manifest's or a
    /// publication's SHA-256) or by a record version id prefix of 4 or more characters.
    public func proveInclusion(_ target: String) throws -> TlogProof {
        // `id:` is how the command line passes an id that starts with '-' (as every RECORD argument accepts it).
        let target = target.hasPrefix("id:") ? String(target.dropFirst(3)) : target
        let store = try store()
        var digest = Base64URL.decode(target).flatMap { $0.count == 32 ? $0 : nil }
        if digest == nil, target.count >= 4 {
            let matches = try store.allVersionIds().filter { $0.hasPrefix(target) }
            if matches.count == 1 { digest = Base64URL.decode(matches[0]) }
        }
        guard let digest, let logged = try store.logEntry(digest: digest) else {
            throw AmanatError(
                .invalidRequest,
                "'\(UntrustedText.printable(target))' is not in this organization's log (give a version id or the "
                    + "base64url digest `amanat log entries` lists).")
        }
        return try inclusionProof(of: logged.entry, store: store)
    }

    /// The consistency proof between the log's sizes `oldSize` and `newSize` (default: the latest checkpoint).
    public func proveConsistency(from oldSize: UInt64, to newSize: UInt64? = nil) throws -> ConsistencyItem {
        let store = try store()
        let size = try newSize ?? self.checkpoint(store: store).checkpoint.size
        guard oldSize <= size, size <= (try store.logSize()) else {
            throw AmanatError(
                .invalidRequest,
                "sizes go backwards or past the log: \(oldSize) to \(size) (the log holds \(try store.logSize()) entries)"
            )
        }
        return ConsistencyItem(
            oldSize: oldSize, newSize: size, hashes: try store.consistencyProof(from: oldSize, to: size))
    }

    /// The fork alarms raised so far, oldest first.
    public func logAlarms() throws -> [LogAlarm] { try store().alarms() }

    /// Writes the log for an auditor into the new folder `folder`: `checkpoint` (the latest signed note),
    /// `entries` (one `INDEX KIND DIGEST` line per entry), `cosignatures/<fingerprint>.note` (each partner's latest
    /// cosigned checkpoint) and `identity.json`.
    /// Written into a staging folder and renamed when complete.
    /// - Returns: the number of entries.
    public func exportLog(to folder: String) throws -> UInt64 {
        let store = try store()
        let (checkpoint, note) = try self.checkpoint(store: store)
        let target = URL(fileURLWithPath: folder)
        guard !FileManager.default.fileExists(atPath: target.path) else {
            throw AmanatError(.cannotCreateOutput, "\(folder) already exists; name a new folder.")
        }
        let staging = target.deletingLastPathComponent().appendingPathComponent(
            ".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        let leftover = Leftovers.register(staging.path)
        defer {
            try? FileManager.default.removeItem(at: staging)
            Leftovers.unregister(leftover)
        }
        do {
            try FileManager.default.createDirectory(
                at: staging.appendingPathComponent("cosignatures"), withIntermediateDirectories: true)
            var lines = ""
            for e in try store.logEntries(limit: Int(checkpoint.size)) {
                lines += "\(e.index) \(e.entry.kind.name) \(Base64URL.encode(e.entry.digest))\n"
            }
            try AtomicFile.write(Data(lines.utf8), to: staging.appendingPathComponent("entries"))
            try AtomicFile.write(Data(note.serialized), to: staging.appendingPathComponent("checkpoint"))
            try AtomicFile.write(try identity().jsonData(), to: staging.appendingPathComponent("identity.json"))
            for (fp, bytes) in try store.latestCosignatures() {
                try AtomicFile.write(Data(bytes), to: staging.appendingPathComponent("cosignatures/\(fp).note"))
            }
            try FileMove.rename(staging, to: target)
        } catch let error as AmanatError {
            throw error
        } catch {
            throw AmanatError(.cannotCreateOutput, "cannot write \(folder): \(error.localizedDescription)")
        }
        return checkpoint.size
    }

    /// Checks an exported log without any workspace: the identity's self-signature, the checkpoint's signature,
    /// the root recomputed from every entry, and the cosignatures of the identities given.
    /// - Throws: ``AmanatError`` (1) when anything does not verify, (65) when a file is malformed.
    public static func auditLog(folder: String, cosigners: [PublicIdentity] = []) throws -> LogAudit {
        let dir = URL(fileURLWithPath: folder)
        let identity: PublicIdentity
        do {
            identity = try JSONDecoder().decode(
                PublicIdentity.self, from: try readFile(dir.appendingPathComponent("identity.json"), what: "identity"))
            _ = try identity.validated()
        } catch let error as AmanatError {
            throw error
        } catch {
            throw AmanatError(.malformedInput, "\(folder)/identity.json is not a valid public identity.")
        }
        let verifier = try logVerifier(identity)
        let noteBytes = try readFile(dir.appendingPathComponent("checkpoint"), what: "checkpoint")
        guard let note = try? SignedNote(parsing: Array(noteBytes)),
            let checkpoint = try? Checkpoint(parsing: note.text)
        else { throw AmanatError(.malformedInput, "\(folder)/checkpoint is not a signed checkpoint.") }
        guard verifier.verify(note), checkpoint.origin == verifier.name else {
            throw AmanatError(
                .verificationFailed, "\(folder)/checkpoint is not signed by \(identity.fingerprint)'s log key.")
        }
        let entries = String(
            decoding: try readFile(dir.appendingPathComponent("entries"), what: "entries"), as: UTF8.self)
        var storage = InMemoryLogHashStorage()
        var count: UInt64 = 0
        for line in entries.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let parts = line.split(separator: " ")
            guard parts.count == 3, UInt64(parts[0]) == count,
                let kind = LogEntry.Kind.allCases.first(where: { $0.name == parts[1] }),
                let digest = Base64URL.decode(String(parts[2])), digest.count == 32
            else {
                throw AmanatError(.malformedInput, "\(folder)/entries: line \(count + 1) is malformed.")
            }
            try LogTree.append(
                leafHash: try LogEntry(kind: kind, digest: digest).leafHash(), at: count, to: &storage)
            count += 1
        }
        guard count == checkpoint.size, try LogTree.rootHash(size: count, in: storage) == checkpoint.rootHash else {
            throw AmanatError(
                .verificationFailed,
                "\(folder): the \(count) entries do not hash to the signed checkpoint (size \(checkpoint.size)); the "
                    + "log was altered.")
        }
        // A cosigned checkpoint counts when the organization signed it too and the entries give its root.
        var cosignedBy: [String] = []
        for cosigner in cosigners {
            let file = dir.appendingPathComponent("cosignatures/\(cosigner.fingerprint).note")
            guard let bytes = try? Data(contentsOf: file), let cosigned = try? SignedNote(parsing: Array(bytes)),
                verifier.verify(cosigned), let earlier = try? Checkpoint(parsing: cosigned.text),
                earlier.origin == checkpoint.origin, earlier.size <= count,
                (try? LogTree.rootHash(size: earlier.size, in: storage)) == earlier.rootHash,
                let key = try? cosigner.validated().0,
                let cosignerVerifier = try? NoteVerifier(
                    name: logOrigin(fingerprint: cosigner.fingerprint), publicKey: key, algorithm: .cosignatureV1),
                Cosignature.verify(cosigned, verifier: cosignerVerifier) != nil
            else { continue }
            cosignedBy.append("\(cosigner.organization) (size \(earlier.size))")
        }
        return LogAudit(
            origin: checkpoint.origin, size: checkpoint.size, rootHash: Data(checkpoint.rootHash).base64EncodedString(),
            cosignedBy: cosignedBy)
    }
}
