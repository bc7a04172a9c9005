import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatStore
import Foundation

/// Where a signed thing stands in its signer's transparency log, as `amanat verify` reports it (`Specs/log.md`).
public struct LogInclusion: Encodable, Sendable, Equatable {
    /// The log's owner, as this verification names it, and its fingerprint.
    public var log: String
    public var fingerprint: String
    public var index: UInt64
    /// The size of the checkpoint the entry was proved under.
    public var size: UInt64
    /// Organizations whose cosignature covers the entry (a cosigned checkpoint larger than its index).
    public var cosignedBy: [String]
    /// "TIME (TSA NAME)" for each trusted timestamp over a checkpoint that holds the entry, earliest first.
    public var existedNoLaterThan: [String]
    /// The proof file checked, when the proof came as a file.
    public var proofFile: String?

    /// "in ORG's log at index I of size N, checkpoint cosigned by A, B".
    public var summary: String {
        "in the log of \(log) at index \(index) of size \(size)"
            + (cosignedBy.isEmpty ? "" : ", checkpoint cosigned by " + cosignedBy.joined(separator: ", "))
    }
}

extension VerificationKeys {
    /// Checks a C2SP tlog-proof (a file beside a publication, `<record-id>.tlog-proof`) that `entry` is in the log
    /// of `owner`, whose key this verification accepts. Cosignature lines on the proof's checkpoint count for the
    /// organizations whose keys it accepts.
    /// - Throws: ``AmanatError`` `verificationFailed` when the proof is present but wrong or signed by another key,
    ///   `malformedInput` when it is not a tlog-proof.
    public func checkLogProof(_ bytes: [UInt8], file: String, entry: LogEntry, owner: String) throws -> LogInclusion {
        guard let key = key(owner) else {
            throw AmanatError(.verificationFailed, "\(file): the log's owner \(owner) is not among the keys given.")
        }
        let proof: TlogProof
        do { proof = try TlogProof(parsing: bytes) } catch {
            throw AmanatError(.malformedInput, "\(file) is not a C2SP tlog-proof (\(error)).")
        }
        let checkpoint: Checkpoint
        do {
            let verifier = try NoteVerifier(name: try Workspace.logOrigin(fingerprint: owner), publicKey: key)
            checkpoint = try proof.verify(leafHash: try entry.leafHash(), verifier: verifier)
        } catch {
            throw AmanatError(
                .verificationFailed,
                "\(file): the proof that this file is in \(name(owner))'s log does not verify (\(error)).")
        }
        var cosigners: [String] = []
        for signature in proof.checkpoint.signatures {
            guard let fingerprint = Workspace.fingerprint(ofOrigin: signature.name), fingerprint != owner,
                let cosignerKey = self.key(fingerprint),
                let verifier = try? NoteVerifier(
                    name: signature.name, publicKey: cosignerKey, algorithm: .cosignatureV1),
                Cosignature.verify(signature, for: checkpoint, verifier: verifier) != nil
            else { continue }
            cosigners.append(name(fingerprint))
        }
        var stamps: [String] = []
        if let workspace, owner == (try? workspace.identity().fingerprint) {
            stamps = try workspace.timestampsCovering(index: proof.index)
        }
        return LogInclusion(
            log: name(owner), fingerprint: owner, index: proof.index, size: checkpoint.size,
            cosignedBy: cosigners.sorted(), existedNoLaterThan: stamps, proofFile: file)
    }

    /// What the workspace knows of a record version's place in its signer's log: this organization's own log, or
    /// the proof that came with a partner's version in a bundle (checked again here). Nil when it knows nothing.
    /// - Throws: ``AmanatError`` `verificationFailed` when a stored proof no longer verifies.
    public func logInclusion(ofVersion version: StoredVersion) throws -> LogInclusion? {
        guard let workspace, let entry = Store.logEntry(for: version) else { return nil }
        let store = try workspace.store()
        if version.signer == (try workspace.identity().fingerprint) {
            guard let index = try store.logIndex(of: entry) else { return nil }
            let (checkpoint, _) = try workspace.checkpoint(store: store)
            let cosigners = try store.cosigners().filter { $0.value > index }.keys.map { name($0) }.sorted()
            return LogInclusion(
                log: name(version.signer), fingerprint: version.signer, index: index, size: checkpoint.size,
                cosignedBy: cosigners, existedNoLaterThan: try workspace.timestampsCovering(index: index),
                proofFile: nil)
        }
        guard let proof = try store.versionProof(version.id) else { return nil }
        var inclusion = try checkLogProof(
            proof, file: "the stored proof of version \(version.id)", entry: entry, owner: version.signer)
        inclusion.proofFile = nil
        let formatter = ISO8601DateFormatter()
        inclusion.existedNoLaterThan = try store.seenTimestamps(
            origin: try Workspace.logOrigin(fingerprint: version.signer), covering: inclusion.index
        ).map { "\(formatter.string(from: $0.genTime)) (TSA \(UntrustedText.printable($0.tsa)))" }
        // Our own cosignature on the signer's checkpoint, once we checked it on import.
        if let seen = try store.seenCheckpoint(origin: try Workspace.logOrigin(fingerprint: version.signer)),
            seen.size > inclusion.index, seen.cosigned != nil
        {
            inclusion.cosignedBy = Array(Set(inclusion.cosignedBy + [name(try workspace.identity().fingerprint)]))
                .sorted()
        }
        return inclusion
    }
}

extension Workspace {
    /// The trusted timestamps over this organization's checkpoints that hold entry `index`: "TIME (TSA NAME)",
    /// earliest first. Only tokens that verify against the TSA list count.
    public func timestampsCovering(index: UInt64) throws -> [String] {
        // The checkpoints we signed that hold the entry, by the hex SHA-256 of their bytes (a token's subject).
        var sizes: [String: UInt64] = [:]
        for (size, note) in try store().signedCheckpoints() where size > index {
            sizes[Self.hex(try SHA256.hash(note))] = size
        }
        guard !sizes.isEmpty else { return [] }
        var covering: [(Date, String)] = []
        for listing in (try? storedTimestamps()) ?? [] where sizes[listing.subjectDigest] != nil {
            guard case .verified(let info) = listing.status else { continue }
            covering.append((info.genTime, listing.tsa))
        }
        let formatter = ISO8601DateFormatter()
        return covering.sorted { $0.0 < $1.0 }.map {
            "\(formatter.string(from: $0.0)) (TSA \(UntrustedText.printable($0.1)))"
        }
    }
}

extension VerificationKeys {
    /// Checks a publication's `<record-id>.version.tlog-proof` and `.version.tst`: the presented version is in its
    /// signer's log under the timestamped checkpoint, and the token over that checkpoint verifies against the TSA
    /// certificates given (`caPEMs`: the workspace's TSA list and `--tsa-ca` files).
    /// - Returns: the inclusion, with the time; its `existedNoLaterThan` is empty when no certificate was given to
    ///   check the token with.
    /// - Throws: ``AmanatError`` `verificationFailed` when the proof or the token does not verify.
    public func checkVersionTimestamp(
        proof: [UInt8], token: [UInt8], file: String, version: StoredVersion, caPEMs: [String]
    ) throws -> LogInclusion {
        guard let entry = Store.logEntry(for: version) else {
            throw AmanatError(.malformedInput, "\(file): the version id is not a digest.")
        }
        var inclusion = try checkLogProof(proof, file: file, entry: entry, owner: version.signer)
        guard !caPEMs.isEmpty else { return inclusion }
        let subject = try TlogProof(parsing: proof).checkpoint.serialized
        let info = try Workspace.verifyTimestamp(
            token: token, subject: subject, caPEMs: caPEMs,
            source: file.replacingOccurrences(of: ".tlog-proof", with: ".tst"))
        inclusion.existedNoLaterThan = [
            "\(ISO8601DateFormatter().string(from: info.genTime)) (TSA \(UntrustedText.printable(info.tsaName)))"
        ]
        return inclusion
    }
}

extension Workspace {
    /// The CA certificates (PEM) of every TSA on the workspace's list.
    public func tsaCAPEMs() throws -> [String] {
        try tsaList().authorities.map { entry in
            String(
                decoding: try Self.readFile(
                    tsaFolder.appendingPathComponent(entry.caFile), what: "the CA certificate of TSA '\(entry.name)'"),
                as: UTF8.self)
        }
    }
}
