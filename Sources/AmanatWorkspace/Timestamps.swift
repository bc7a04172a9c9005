import AmanatCrypto
import AmanatRecords
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// RFC 3161 trusted timestamps (Specs/timestamps.md): the workspace's list of time-stamping authorities, requests
// sent over HTTP or carried as files, and the verified tokens kept under .amanat/timestamps/.
//
// Layout:
// .amanat/tsa/tsa.json                                the TSA list (TSAList JSON)
// .amanat/tsa/NAME.pem                                each TSA's trusted CA certificate(s)
// .amanat/timestamps/DIGEST.NAME.tst                  a verified token (DER ContentInfo), DIGEST the hex SHA-256
// .amanat/timestamps/DIGEST.NAME.json                 what it timestamps (a label and the digest), never content
// .amanat/timestamps/pending/NONCE.tsq, NONCE.json    requests written for a volunteer to carry, until imported

/// The time-stamping authorities a workspace asks for RFC 3161 timestamps.
public struct TSAList: Codable, Sendable {
    /// One authority: a name chosen locally, its URL, and the file holding the CA certificates its token must chain to.
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var url: String
        /// The CA file's name inside `.amanat/tsa/` (`NAME.pem`).
        public var caFile: String
        /// The CA certificates' subjects, as read when the entry was added (untrusted text).
        public var caSubjects: [String]
        public var addedAt: String

        public init(name: String, url: String, caFile: String, caSubjects: [String], addedAt: String) {
            self.name = name
            self.url = url
            self.caFile = caFile
            self.caSubjects = caSubjects
            self.addedAt = addedAt
        }
    }

    public var version = 1
    public var authorities: [Entry] = []

    public init() {}

    public func entry(named name: String) -> Entry? { authorities.first { $0.name == name } }

    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }
}

/// A verified token kept in the workspace.
public struct StoredTimestamp: Sendable, Equatable {
    /// The TSA's name on the list.
    public var tsa: String
    /// What was timestamped, as the caller named it ("checkpoint 42"); never content.
    public var label: String
    /// The hex SHA-256 of the timestamped bytes.
    public var subjectDigest: String
    /// What the token says, verified.
    public var info: TimestampInfo
    /// The token file (`.tst`, DER; `openssl ts -verify -token_in` reads it).
    public var tokenURL: URL
    /// False when an earlier token from this TSA over the same bytes was already stored (that one is kept).
    public var isNew: Bool
}

/// A request written to a file to be carried to a TSA, kept until its reply is imported.
public struct PendingTimestamp: Sendable, Equatable {
    public var nonce: UInt64
    public var label: String
    public var subjectDigest: String
    /// The TSA it is meant for, if one was named.
    public var tsa: String?
    /// Where the `.tsq` was written for the volunteer.
    public var requestPath: String
}

/// One stored token and whether it still verifies (for `amanat timestamp --list`).
public struct TimestampListing: Sendable {
    public enum Status: Sendable {
        case verified(TimestampInfo)
        /// Its TSA is no longer on the list, so nothing says whom to trust for it.
        case tsaNotListed
        /// It does not verify (any more): the reason.
        case failed(String)
    }

    public var tsa: String
    public var label: String
    public var subjectDigest: String
    public var tokenURL: URL
    public var status: Status
}

/// The outcome of asking one TSA.
public struct TimestampOutcome: Sendable {
    public var tsa: String
    public var result: Result<StoredTimestamp, AmanatError>
}

extension Workspace {
    public var tsaFolder: URL { dotFolder.appendingPathComponent("tsa") }
    public var tsaListURL: URL { tsaFolder.appendingPathComponent("tsa.json") }
    public var timestampsFolder: URL { dotFolder.appendingPathComponent("timestamps") }
    public var pendingTimestampsFolder: URL { timestampsFolder.appendingPathComponent("pending") }

    /// How long one HTTP exchange with a TSA may take, by default.
    public static let timestampTimeout: TimeInterval = 30

    /// What `amanat timestamp` timestamps: the latest signed checkpoint of the organization's log (signed now if
    /// the log grew; `Specs/log.md`), so that everything in the log up to its size existed no later than the time
    /// the TSA states. The bytes are the signed note exactly as stored.
    /// - Throws: ``AmanatError`` when the store cannot be unlocked.
    public func timestampSubject() throws -> (label: String, bytes: [UInt8]) {
        let (checkpoint, note) = try self.checkpoint(store: try store())
        return ("the log checkpoint of \(checkpoint.size) entries", note.serialized)
    }

    // MARK: The TSA list

    /// The TSA list (empty when none was ever added).
    /// - Throws: ``AmanatError`` `malformedInput` when `tsa.json` is damaged.
    public func tsaList() throws -> TSAList {
        guard FileManager.default.fileExists(atPath: tsaListURL.path) else { return TSAList() }
        let data = try Self.readFile(tsaListURL, what: "the TSA list")
        do {
            return try JSONDecoder().decode(TSAList.self, from: data)
        } catch {
            throw AmanatError(
                .malformedInput, "\(tsaListURL.path) is not a valid TSA list; restore it from your backup.")
        }
    }

    /// Adds a TSA: `name` (letters, digits, `.`, `_`, `-`), its `url` (http or https) and the PEM CA
    /// certificate(s) its tokens must chain to, read from `caFile`.
    /// - Throws: ``AmanatError`` `invalidRequest` (bad name or URL, name taken), `malformedInput` (the CA file),
    ///   `inputMissing`. Nothing is changed on error.
    public func addTSA(name: String, url: String, caFile: String, now: Date = Date()) throws -> TSAList.Entry {
        try Self.checkTSAName(name)
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", parsed.host?.isEmpty == false
        else {
            throw AmanatError(
                .invalidRequest,
                "'\(UntrustedText.printable(url))' is not an http:// or https:// URL; give the TSA's URL with --url.")
        }
        let pem = try Self.readCAFile(caFile)
        let certificates: TrustedCertificates
        do {
            certificates = try TrustedCertificates(pem: pem)
        } catch {
            throw AmanatError(
                .malformedInput,
                "\(caFile) is not a usable CA certificate file (\(error)). Nothing was changed. Give the PEM "
                    + "certificate of the CA that issued the TSA's certificate.")
        }
        var list = try tsaList()
        guard list.entry(named: name) == nil else {
            throw AmanatError(
                .invalidRequest,
                "a TSA named '\(name)' is already on the list. Nothing was changed. Remove it first with "
                    + "`amanat timestamp tsa remove \(name)`, or choose another name.")
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let entry = TSAList.Entry(
            name: name, url: url, caFile: "\(name).pem", caSubjects: certificates.subjects,
            addedAt: formatter.string(from: now))
        try ensureFolder(tsaFolder)
        try AtomicFile.write(Data(pem.utf8), to: tsaFolder.appendingPathComponent(entry.caFile), overwrite: true)
        list.authorities.append(entry)
        try AtomicFile.write(list.jsonData(), to: tsaListURL, mode: 0o644, overwrite: true)
        return entry
    }

    /// Removes the TSA named `name` (its stored tokens stay; they are listed as from a TSA no longer listed).
    /// - Throws: ``AmanatError`` `invalidRequest` when there is none.
    public func removeTSA(_ name: String) throws -> TSAList.Entry {
        var list = try tsaList()
        guard let index = list.authorities.firstIndex(where: { $0.name == name }) else {
            throw unknownTSAError(name, in: list)
        }
        let removed = list.authorities.remove(at: index)
        try AtomicFile.write(list.jsonData(), to: tsaListURL, mode: 0o644, overwrite: true)
        try? FileManager.default.removeItem(at: tsaFolder.appendingPathComponent(removed.caFile))
        return removed
    }

    /// The CA certificates trusted for `entry`.
    /// - Throws: ``AmanatError`` `inputMissing` or `malformedInput` when its CA file is gone or damaged.
    public func tsaCertificates(_ entry: TSAList.Entry) throws -> TrustedCertificates {
        let url = tsaFolder.appendingPathComponent(entry.caFile)
        let data = try Self.readFile(url, what: "the CA certificate of TSA '\(entry.name)'")
        do {
            return try TrustedCertificates(pem: String(decoding: data, as: UTF8.self))
        } catch {
            throw AmanatError(.malformedInput, "\(url.path) is damaged (\(error)); add the TSA again.")
        }
    }

    // MARK: Requests over HTTP

    /// Asks every TSA on the list (or those named in `tsaNames`) for a timestamp over `bytes`, one after another,
    /// and stores each verified token. One TSA's failure does not stop the others.
    /// - Throws: ``AmanatError`` `invalidRequest` when the list is empty or a name is not on it.
    public func requestTimestamps(
        over bytes: [UInt8], label: String, tsaNames: [String]? = nil, timeout: TimeInterval = timestampTimeout
    ) async throws -> [TimestampOutcome] {
        let list = try tsaList()
        guard !list.authorities.isEmpty else {
            throw AmanatError(
                .invalidRequest,
                "no TSA is on the list. Add one with `amanat timestamp tsa add NAME --url URL --ca FILE.pem`.")
        }
        let entries = try (tsaNames ?? list.authorities.map(\.name)).map { name in
            guard let entry = list.entry(named: name) else { throw unknownTSAError(name, in: list) }
            return entry
        }
        var outcomes: [TimestampOutcome] = []
        for entry in entries {
            do {
                let stored = try await requestTimestamp(over: bytes, label: label, from: entry, timeout: timeout)
                outcomes.append(TimestampOutcome(tsa: entry.name, result: .success(stored)))
            } catch let error as AmanatError {
                outcomes.append(TimestampOutcome(tsa: entry.name, result: .failure(error)))
            }
        }
        return outcomes
    }

    /// Asks one TSA: a request over the SHA-256 of `bytes` is POSTed to its URL as `application/timestamp-query`;
    /// the reply (at most 64 KiB, `application/timestamp-reply`) is verified against the request and the TSA's CA
    /// before the token is stored.
    /// - Throws: ``AmanatError`` `ioError` (unreachable, timeout, HTTP status other than 200), `malformedInput`
    ///   (wrong content type, too large, not a reply), `verificationFailed` (refused, wrong digest or nonce,
    ///   untrusted signer, bad signature). Nothing is stored on error.
    public func requestTimestamp(
        over bytes: [UInt8], label: String, from entry: TSAList.Entry, timeout: TimeInterval = timestampTimeout
    ) async throws -> StoredTimestamp {
        let trusted = try tsaCertificates(entry)
        let request: TimestampRequest
        do {
            request = try TimestampRequest(hashing: bytes)
        } catch {
            throw AmanatError(.ioError, "cannot make a timestamp request: \(error).")
        }
        let source = "the reply of TSA '\(entry.name)' (\(entry.url))"
        let body = try await Self.post(request.der, to: entry, timeout: timeout)
        let reply: TimestampReply
        do {
            reply = try TimestampReply(der: body)
        } catch {
            throw Self.timestampError(error, source: source)
        }
        let info: TimestampInfo
        do {
            info = try reply.verify(request: request, trusting: trusted)
        } catch {
            throw Self.timestampError(error, source: source)
        }
        guard let token = reply.token else { throw AmanatError(.malformedInput, "\(source) holds no token.") }
        return try storeToken(token, info: info, tsa: entry.name, label: label)
    }

    /// POSTs `body` to the TSA and returns the reply body, refusing anything but HTTP 200 with the reply type.
    static func post(_ body: [UInt8], to entry: TSAList.Entry, timeout: TimeInterval) async throws -> [UInt8] {
        let shown = "TSA '\(entry.name)' at \(UntrustedText.printable(entry.url))"
        guard let url = URL(string: entry.url) else {
            throw AmanatError(.malformedInput, "the URL of \(shown) is not valid; add the TSA again.")
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.setValue("application/timestamp-reply", forHTTPHeaderField: "Accept")
        request.httpBody = Data(body)
        let fetch = LimitedFetch(limit: TimestampLimits.maximumReplySize)
        let (data, response) = try await fetch.run(request, timeout: timeout, describing: shown)
        guard response.statusCode == 200 else {
            throw AmanatError(
                .ioError,
                "\(shown) answered HTTP \(response.statusCode) instead of a timestamp. Nothing was stored. Try again "
                    + "later, check the URL, or carry the request with `amanat timestamp --request-out FILE`.")
        }
        let type = (response.value(forHTTPHeaderField: "Content-Type") ?? "").lowercased()
        guard type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == "application/timestamp-reply"
        else {
            throw AmanatError(
                .malformedInput,
                "\(shown) answered with content type '\(UntrustedText.printable(type))', not "
                    + "application/timestamp-reply (a web page or a captive portal?). Nothing was stored.")
        }
        return Array(data)
    }

    // MARK: Requests carried as files

    /// Writes a request over the SHA-256 of `bytes` to `path` (a `.tsq` for a volunteer to take to a TSA) and keeps
    /// a copy under `.amanat/timestamps/pending/`, to match the reply when it is imported. No network is used.
    /// - Parameter tsa: the TSA it is meant for (then only its CA is tried on import), or nil for any on the list.
    /// - Throws: ``AmanatError`` `invalidRequest` (unknown TSA), `cannotCreateOutput` (the file exists or cannot be
    ///   written).
    public func writeTimestampRequest(
        over bytes: [UInt8], label: String, tsa: String?, to path: String, now: Date = Date()
    ) throws -> PendingTimestamp {
        let list = try tsaList()
        if let tsa, list.entry(named: tsa) == nil { throw unknownTSAError(tsa, in: list) }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw AmanatError(
                .cannotCreateOutput, "\(path) already exists; choose another file name. Nothing was written.")
        }
        let request: TimestampRequest
        do {
            request = try TimestampRequest(hashing: bytes)
        } catch {
            throw AmanatError(.ioError, "cannot make a timestamp request: \(error).")
        }
        let pending = PendingTimestamp(
            nonce: request.nonce, label: label, subjectDigest: Self.hex(request.digest), tsa: tsa, requestPath: path)
        try ensureFolder(timestampsFolder)
        try ensureFolder(pendingTimestampsFolder)
        let stem = Self.nonceName(request.nonce)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let record = PendingRecord(
            label: label, subjectSHA256: pending.subjectDigest, tsa: tsa, createdAt: formatter.string(from: now))
        // The outside copy first: if it cannot be written, nothing is left pending.
        try AtomicFile.write(Data(request.der), to: URL(fileURLWithPath: path))
        try AtomicFile.write(Data(request.der), to: pendingTimestampsFolder.appendingPathComponent("\(stem).tsq"))
        try AtomicFile.write(record.jsonData(), to: pendingTimestampsFolder.appendingPathComponent("\(stem).json"))
        return pending
    }

    /// The requests written with ``writeTimestampRequest(over:label:tsa:to:now:)`` whose replies are not imported.
    public func pendingTimestamps() throws -> [PendingTimestamp] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pendingTimestampsFolder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            let stem = String(name.dropLast(5))
            guard let nonce = UInt64(stem, radix: 16),
                let data = FileManager.default.contents(
                    atPath: pendingTimestampsFolder.appendingPathComponent(name).path),
                let record = try? JSONDecoder().decode(PendingRecord.self, from: data)
            else { return nil }
            return PendingTimestamp(
                nonce: nonce, label: record.label, subjectDigest: record.subjectSHA256, tsa: record.tsa,
                requestPath: pendingTimestampsFolder.appendingPathComponent("\(stem).tsq").path)
        }
    }

    /// Imports a reply (`.tsr`) a volunteer brought back: it is matched to the pending request by its nonce,
    /// verified against that request and the CA of the TSA it was meant for (or of each TSA on the list), and its
    /// token is stored; the pending request is then removed.
    /// - Parameter tsa: the TSA that answered, when known (overrides the one recorded with the request).
    /// - Throws: ``AmanatError`` `inputMissing`, `malformedInput` (not a reply, too large), `verificationFailed`
    ///   (refused by the TSA, no pending request with its nonce, wrong digest, untrusted signer, bad signature).
    ///   Nothing is stored on error.
    public func importTimestampReply(from path: String, tsa: String? = nil) throws -> StoredTimestamp {
        let der = try Self.readLimited(path, limit: TimestampLimits.maximumReplySize, what: "timestamp reply")
        let reply: TimestampReply
        do {
            reply = try TimestampReply(der: der)
        } catch {
            throw Self.timestampError(error, source: path)
        }
        guard let token = reply.token else {
            throw Self.timestampError(.notGranted(status: reply.status, text: reply.statusText), source: path)
        }
        guard let nonce = token.nonce,
            let pending = try pendingTimestamps().first(where: { $0.nonce == nonce })
        else {
            throw AmanatError(
                .verificationFailed,
                "\(path) answers no request this workspace wrote (its nonce matches no pending request in "
                    + "\(pendingTimestampsFolder.path)). Nothing was stored. Was the request written with "
                    + "`amanat timestamp --request-out` in this workspace?")
        }
        let requestDER = try Self.readLimited(
            pending.requestPath, limit: TimestampLimits.maximumRequestSize, what: "pending timestamp request")
        let request: TimestampRequest
        do {
            request = try TimestampRequest(der: requestDER)
        } catch {
            throw Self.timestampError(error, source: pending.requestPath)
        }
        let list = try tsaList()
        let names = (tsa ?? pending.tsa).map { [$0] } ?? list.authorities.map(\.name)
        guard !names.isEmpty else {
            throw AmanatError(
                .invalidRequest,
                "no TSA is on the list, so nothing says whom to trust for \(path). Add the TSA with "
                    + "`amanat timestamp tsa add NAME --url URL --ca FILE.pem` and import again.")
        }
        var firstError: AmanatError? = nil
        for name in names {
            guard let entry = list.entry(named: name) else { throw unknownTSAError(name, in: list) }
            do {
                let info = try reply.verify(request: request, trusting: try tsaCertificates(entry))
                let stored = try storeToken(token, info: info, tsa: entry.name, label: pending.label)
                let stem = Self.nonceName(nonce)
                for ext in ["tsq", "json"] {
                    try? FileManager.default.removeItem(
                        at: pendingTimestampsFolder.appendingPathComponent("\(stem).\(ext)"))
                }
                return stored
            } catch let error as TimestampError {
                if firstError == nil { firstError = Self.timestampError(error, source: path) }
            }
        }
        throw firstError!
    }

    // MARK: Stored tokens

    /// The verified timestamps of `subject`: each stored token over its SHA-256 that still verifies against its
    /// TSA's CA on the list (tokens of TSAs no longer listed, or that fail, are left out; see ``storedTimestamps()``).
    public func tokens(for subject: [UInt8]) throws -> [StoredTimestamp] {
        let digest = Self.hex(try Self.sha256(subject))
        return try storedTimestamps().compactMap { listing in
            guard listing.subjectDigest == digest, case .verified(let info) = listing.status else { return nil }
            return StoredTimestamp(
                tsa: listing.tsa, label: listing.label, subjectDigest: digest, info: info,
                tokenURL: listing.tokenURL, isNew: false)
        }
    }

    /// Every stored token, each verified again against its TSA's CA on the list, sorted by time then TSA.
    public func storedTimestamps() throws -> [TimestampListing] {
        let list = try tsaList()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: timestampsFolder.path)) ?? []
        var listings: [TimestampListing] = []
        for name in names.sorted() where name.hasSuffix(".tst") {
            let stem = String(name.dropLast(4))
            guard let dot = stem.firstIndex(of: "."), stem.distance(from: stem.startIndex, to: dot) == 64 else {
                continue
            }
            let digestHex = String(stem[..<dot])
            let tsa = String(stem[stem.index(after: dot)...])
            let url = timestampsFolder.appendingPathComponent(name)
            let label =
                (FileManager.default.contents(atPath: timestampsFolder.appendingPathComponent("\(stem).json").path))
                .flatMap { try? JSONDecoder().decode(TokenRecord.self, from: $0) }?.label ?? ""
            var listing = TimestampListing(
                tsa: tsa, label: label, subjectDigest: digestHex, tokenURL: url, status: .tsaNotListed)
            if let entry = list.entry(named: tsa) {
                do {
                    let der = try Self.readLimited(
                        url.path, limit: TimestampLimits.maximumTokenSize, what: "timestamp token")
                    let info = try TimestampToken(der: der).verify(
                        sha256Digest: Self.unhex(digestHex), trusting: try tsaCertificates(entry))
                    listing.status = .verified(info)
                } catch {
                    listing.status = .failed("\(error)")
                }
            }
            listings.append(listing)
        }
        return listings.sorted {
            switch ($0.status, $1.status) {
            case (.verified(let a), .verified(let b)) where a.genTime != b.genTime: return a.genTime < b.genTime
            default: return ($0.subjectDigest, $0.tsa) < ($1.subjectDigest, $1.tsa)
            }
        }
    }

    /// Verifies a token without a workspace: `token` (DER) over `subject`, trusting any of `caPEMs`.
    /// - Throws: ``AmanatError`` `malformedInput` (token or CA unreadable) or `verificationFailed`, naming `source`.
    public static func verifyTimestamp(
        token: [UInt8], subject: [UInt8], caPEMs: [String], source: String = "the timestamp token"
    ) throws -> TimestampInfo {
        let parsed: TimestampToken
        do {
            parsed = try TimestampToken(der: token)
        } catch {
            throw timestampError(error, source: source)
        }
        guard !caPEMs.isEmpty else { throw timestampError(.noTrustedCertificates, source: source) }
        var firstError: AmanatError? = nil
        for pem in caPEMs {
            do {
                return try parsed.verify(subject: subject, trusting: try TrustedCertificates(pem: pem))
            } catch {
                if firstError == nil { firstError = timestampError(error, source: source) }
            }
        }
        throw firstError!
    }

    /// The application's error for a refused timestamp structure from `source` (a file, or "the reply of TSA …").
    public static func timestampError(_ error: TimestampError, source: String) -> AmanatError {
        switch error {
        case .malformed, .tooLarge:
            return AmanatError(
                .malformedInput, "\(source) is not a usable RFC 3161 timestamp: \(error). Nothing was stored.")
        case .notGranted(let status, let text):
            return AmanatError(
                .verificationFailed,
                "\(source): the TSA refused the request (status \(status)"
                    + (text.isEmpty ? "" : ": \(UntrustedText.printable(text))") + "). Nothing was stored.")
        case .openssl:
            return AmanatError(.ioError, "\(source) could not be checked: \(error).")
        case .unsupportedHashAlgorithm, .imprintMismatch, .nonceMismatch, .untrustedSigner, .badSignature,
            .noTrustedCertificates:
            return AmanatError(
                .verificationFailed,
                "\(source) does not verify: \(UntrustedText.printable(error.description)). Nothing was stored.")
        }
    }

    // MARK: Internals

    private struct PendingRecord: Codable {
        var label: String
        var subjectSHA256: String
        var tsa: String?
        var createdAt: String

        func jsonData() -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
        }
    }

    private struct TokenRecord: Codable {
        var label: String
        var subjectSHA256: String
        var tsa: String
        var genTime: String
        var serialNumber: String
        var storedAt: String
    }

    /// Stores a verified token as `DIGEST.TSA.tst` with its `.json`; an earlier token from the same TSA over the
    /// same bytes is kept (the earlier time is the stronger evidence).
    private func storeToken(
        _ token: TimestampToken, info: TimestampInfo, tsa: String, label: String
    ) throws
        -> StoredTimestamp
    {
        try ensureFolder(timestampsFolder)
        let digest = Self.hex(info.digest)
        let stem = "\(digest).\(tsa)"
        let tokenURL = timestampsFolder.appendingPathComponent("\(stem).tst")
        if FileManager.default.fileExists(atPath: tokenURL.path),
            let existing = try? TimestampToken(
                der: Self.readLimited(tokenURL.path, limit: TimestampLimits.maximumTokenSize, what: "token")),
            let entry = try tsaList().entry(named: tsa),
            let earlier = try? existing.verify(sha256Digest: info.digest, trusting: try tsaCertificates(entry)),
            earlier.genTime <= info.genTime
        {
            return StoredTimestamp(
                tsa: tsa, label: label, subjectDigest: digest, info: earlier, tokenURL: tokenURL, isNew: false)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let record = TokenRecord(
            label: label, subjectSHA256: digest, tsa: tsa, genTime: formatter.string(from: info.genTime),
            serialNumber: info.serialNumber, storedAt: formatter.string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let json = ((try? encoder.encode(record)) ?? Data()) + Data("\n".utf8)
        try AtomicFile.write(json, to: timestampsFolder.appendingPathComponent("\(stem).json"), overwrite: true)
        try AtomicFile.write(Data(token.der), to: tokenURL, overwrite: true)
        return StoredTimestamp(
            tsa: tsa, label: label, subjectDigest: digest, info: info, tokenURL: tokenURL, isNew: true)
    }

    private func ensureFolder(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw AmanatError(.cannotCreateOutput, "\(url.path) is not a folder; the workspace is damaged.")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        } catch {
            throw AmanatError(.cannotCreateOutput, "cannot create \(url.path): \(error.localizedDescription).")
        }
    }

    private func unknownTSAError(_ name: String, in list: TSAList) -> AmanatError {
        let names = list.authorities.map(\.name).sorted()
        var message = "'\(UntrustedText.printable(name))' is not a TSA on the list."
        if let close = Self.closest(to: name, among: names) {
            message += " Did you mean '\(UntrustedText.printable(close))'?"
        }
        message +=
            names.isEmpty
            ? " The list is empty: add one with `amanat timestamp tsa add NAME --url URL --ca FILE.pem`."
            : " On the list: \(names.map { "'\(UntrustedText.printable($0))'" }.joined(separator: ", "))."
        return AmanatError(.invalidRequest, message)
    }

    /// TSA names become file names: 1–64 of letters, digits, `.`, `_`, `-`, not starting with `.` or `-`.
    static func checkTSAName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E
                || $0 == 0x5F || $0 == 0x2D
        }
        guard allowed, (1...64).contains(name.utf8.count), !name.hasPrefix("."), !name.hasPrefix("-") else {
            throw AmanatError(
                .invalidRequest,
                "'\(UntrustedText.printable(name))' cannot name a TSA: use 1 to 64 letters, digits, '.', '_' or '-' "
                    + "(for example freetsa or dfn-tsa).")
        }
    }

    private static func readCAFile(_ path: String) throws -> String {
        let data = try readLimited(path, limit: TimestampLimits.maximumCertificatesSize, what: "CA certificate file")
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads a whole file of at most `limit` bytes.
    static func readLimited(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let input = try InputFile(path, what: what)
        guard input.size <= UInt64(limit) else {
            throw AmanatError(
                .malformedInput,
                "\(path) (\(what)) is \(input.size) bytes, more than the \(limit) accepted. Nothing was changed.")
        }
        var bytes = [UInt8](repeating: 0, count: Int(input.size) + 1)
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes { raw in
                try input.read(UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= limit else {
            throw AmanatError(.malformedInput, "\(path) (\(what)) grew beyond \(limit) bytes while being read.")
        }
        return Array(bytes.prefix(filled))
    }

    static func sha256(_ bytes: [UInt8]) throws -> [UInt8] {
        do {
            return try SHA256.hash(bytes)
        } catch {
            throw AmanatError(.ioError, "cannot hash the timestamped bytes: \(error).")
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unhex(_ text: String) -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return [] }
        var out: [UInt8] = []
        var index = 0
        while index < chars.count {
            guard let high = hexValue(chars[index]), let low = hexValue(chars[index + 1]) else { return [] }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    static func nonceName(_ nonce: UInt64) -> String {
        let hex = String(nonce, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// One HTTP exchange whose reply body is capped at `limit` bytes: the transfer is cancelled as soon as it grows
/// past it, so a hostile server cannot make us buffer more.
private final class LimitedFetch: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let limit: Int
    private let lock = NSLock()
    private var body = Data()
    private var response: HTTPURLResponse?
    private var exceeded = false
    private var continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>?
    private var describing = ""

    init(limit: Int) { self.limit = limit }

    func run(_ request: URLRequest, timeout: TimeInterval, describing: String) async throws -> (Data, HTTPURLResponse) {
        self.describing = describing
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            self.continuation = continuation
            lock.unlock()
            session.dataTask(with: request).resume()
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        lock.lock()
        self.response = response as? HTTPURLResponse
        let tooLarge = response.expectedContentLength > Int64(limit)
        if tooLarge { exceeded = true }
        lock.unlock()
        completionHandler(tooLarge ? .cancel : .allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        body.append(data)
        let tooLarge = body.count > limit
        if tooLarge {
            exceeded = true
            body = Data()
        }
        lock.unlock()
        if tooLarge { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        let continuation = self.continuation
        self.continuation = nil
        let result: Result<(Data, HTTPURLResponse), Error>
        if exceeded {
            result = .failure(
                AmanatError(
                    .malformedInput,
                    "\(describing) sent a reply larger than \(limit) bytes; a timestamp reply is a few KiB. "
                        + "Nothing was stored."))
        } else if let error {
            result = .failure(
                AmanatError(
                    .ioError,
                    "cannot reach \(describing): \(error.localizedDescription). Nothing was stored. Check the URL "
                        + "and the network, or carry the request with `amanat timestamp --request-out FILE`."))
        } else if let response {
            result = .success((body, response))
        } else {
            result = .failure(AmanatError(.ioError, "\(describing) sent no HTTP response. Nothing was stored."))
        }
        lock.unlock()
        continuation?.resume(with: result)
    }
}
