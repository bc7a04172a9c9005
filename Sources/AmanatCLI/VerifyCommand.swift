import AmanatCrypto
import AmanatLog
import AmanatMedia
import AmanatPublish
import AmanatRecords
import AmanatStore
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat verify FILE... [--identity FILE]...`, `amanat verify -`
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify SD-JWT record versions or presentations against the trust list or given identities.",
        discussion: """
            Checks the issuer signature (Ed25519) against the trust list, _sd_alg, that every disclosure is \
            referenced exactly once, and the structure (RFC 9901 §7.1). A presentation that withholds some \
            disclosures verifies too; the report says how many were withheld. A published record's annotation \
            (DIR/<id>.annotation.jws beside DIR/<id>.sd-jwt) is verified against the publisher.

            Anyone can check a publication without a workspace or passphrase: give the organizations' public \
            identities with --identity (a publication carries them beside its records, as \
            DIR/<fingerprint>.identity.json). Each file is checked as `trust add` checks one (its key signed its \
            name and age recipient). Inside a workspace the identities given are accepted in addition to its trust \
            list. Identity files that travel with a publication only \
            prove that the files agree with one another: compare the fingerprints printed at the end with the \
            ones the organizations publish elsewhere (their web site, a printed report, a phone call).

            A published derivative (DIR/media/<sha256>.<ext>) is verified with its media annotation \
            (DIR/media/<sha256>.media.jws): the file's SHA-256, the publisher's signature, and that the original's \
            SHA-256 is among the attachments of the record's signed version (DIR/<record-id>.sd-jwt, verified). \
            With --original ORIGINAL (a partner holding the sealed original), its SHA-256 must be the annotated one \
            and both are decoded with ffmpeg: outside the declared rectangles and intervals every frame must have a \
            PSNR of at least 35 dB and the audio a correlation of at least 0.95 (exit 1 otherwise); the figures are \
            printed.

            FILE - reads one SD-JWT from standard input (no annotation is looked for).

            Example:
              amanat verify published/3Jq7xk.sd-jwt
              amanat verify pub/3Jq7xk.sd-jwt --identity pub/4KQ7-….identity.json \\
                --identity pub/M2XA-….identity.json
              amanat show 3Jq7xk --format sd-jwt | amanat verify -
              amanat verify published/media/9f2c….mp4 --original 0142.mp4
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array of results.") var json = false
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A public identity file to verify against (repeat for several); no workspace or passphrase needed.",
            valueName: "file"))
    var identity: [String] = []
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A TSA's CA certificate (PEM) to check a publication's timestamp with (repeatable; the workspace's TSA list counts too).",
            valueName: "file"))
    var tsaCA: [String] = []
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The original of the one published derivative given: compare them outside the declared regions.",
            valueName: "file"))
    var original: String?
    @Argument(
        help: ArgumentHelp(
            "SD-JWT files or published derivatives (media/<sha256>.<ext>); - reads one SD-JWT from standard input.",
            valueName: "file"))
    var files: [String]

    func validate() throws {
        if original != nil && (files.count != 1 || !MediaVerifyReport.isDerivative(files[0])) {
            throw ValidationError(
                "--original needs exactly one published derivative (media/<sha256>.<ext> with its .media.jws beside it)."
            )
        }
        if files.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("Standard input (-) can be read only once; give it once.")
        }
    }

    struct Result: Encodable {
        var file: String
        var valid: Bool
        var recordId: String?
        var versionId: String?
        var signer: String?
        var signerFingerprint: String?
        /// The --identity file the signer's key came from (nil: this workspace or its trust list).
        var signerIdentityFile: String?
        var disclosed: Int?
        var withheld: Int?
        var error: String?
        /// For a public version: what the publisher's annotation says.
        var publication: Publication?
        /// The version's place in its signer's transparency log, when this workspace knows it.
        var log: LogInclusion?
        /// A publication's place in its publisher's log (`<record-id>.tlog-proof` beside it).
        var publicationLog: LogInclusion?
        /// The presented version under a timestamped checkpoint (`<record-id>.version.tlog-proof` and `.version.tst`).
        var versionTimestamp: LogInclusion?
        /// For a published derivative: what its media annotation declares, and the comparison with the original.
        var media: MediaVerifyReport?
    }

    struct Publication: Encodable {
        var annotation: String
        var publisher: String
        var publisherFingerprint: String
        var publisherIdentityFile: String?
        /// The organization that collected the record (signed its first version): the testimony is its.
        var collector: String
        var collectorFingerprint: String
        var collectorIdentityFile: String?
        /// Organizations that signed later versions (edits, merges), named as editors, never as the collector.
        var editors: [String]
        var policy: String
        var policySha256: String
        /// JSON Pointers of the values presented as the collector signed them.
        var original: [String]
        /// The values the publisher made (pseudonyms, generalized values, markers); never originals.
        var publisherMade: [PublisherValue]
    }

    /// The workspace, when there is one; outside any workspace nil if identities were given.
    func locateWorkspace() throws -> Workspace? {
        let explicit =
            options.workspace != nil || ProcessInfo.processInfo.environment[Workspace.environmentVariable] != nil
        do {
            return try options.locate()
        } catch let error as AmanatError where error.kind == .inputMissing && !explicit {
            guard identity.isEmpty else { return nil }
            throw AmanatError(
                .inputMissing,
                error.message + " To verify without a workspace, give the signers' public identities with "
                    + "--identity FILE (a publication carries them as <fingerprint>.identity.json).")
        }
    }

    /// Reads standard input, at most one byte more than an SD-JWT may have.
    static func readStandardInput() throws -> Data {
        var data = Data()
        while data.count <= SDJWT.maximumSize {
            guard let chunk = try FileHandle.standardInput.read(upToCount: 1 << 16), !chunk.isEmpty else { break }
            data.append(chunk)
        }
        return data
    }

    func run() throws {
        let workspace = try locateWorkspace()
        let keys = try VerificationKeys(workspace: workspace, identityFiles: identity)
        var results: [Result] = []
        var worst: ExitStatus = .ok
        for file in files {
            if MediaVerifyReport.isDerivative(file) {
                let (result, status) = verifyMedia(file, keys: keys)
                results.append(result)
                if status != .ok {
                    worst = status == .verificationFailed || worst == .verificationFailed ? .verificationFailed : status
                }
                continue
            }
            let data: Data
            if file == "-" {
                data = try Self.readStandardInput()
            } else {
                let input = try InputFile(file, what: "SD-JWT file")
                guard input.size <= UInt64(SDJWT.maximumSize) else {
                    results.append(
                        Result(file: file, valid: false, error: "larger than \(SDJWT.maximumSize) bytes"))
                    worst = .malformedInput
                    continue
                }
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            }
            guard data.count <= SDJWT.maximumSize else {
                results.append(Result(file: file, valid: false, error: "larger than \(SDJWT.maximumSize) bytes"))
                worst = .malformedInput
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            do {
                let sdjwt = try SDJWT.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
                let v = try keys.verify(sdjwt)
                var result = Result(
                    file: file, valid: true, recordId: v.recordId, versionId: v.versionId,
                    signer: keys.name(v.signerFingerprint), signerFingerprint: v.signerFingerprint,
                    signerIdentityFile: keys.givenIdentity(v.signerFingerprint)?.file,
                    disclosed: v.disclosedCount, withheld: v.withheldCount)
                let annotationPath = PublishedFile.annotationPath(for: file)
                if file != "-" && FileManager.default.fileExists(atPath: annotationPath) {
                    do {
                        let text = String(
                            decoding: try Workspace.readFile(URL(fileURLWithPath: annotationPath), what: "annotation"),
                            as: UTF8.self)
                        let a = try keys.verifyAnnotation(
                            text, file: annotationPath, presentation: sdjwt, verified: v)
                        result.publication = Publication(
                            annotation: annotationPath, publisher: keys.name(a.publisherFingerprint),
                            publisherFingerprint: a.publisherFingerprint,
                            publisherIdentityFile: keys.givenIdentity(a.publisherFingerprint)?.file,
                            collector: keys.name(a.collector), collectorFingerprint: a.collector,
                            collectorIdentityFile: keys.givenIdentity(a.collector)?.file,
                            editors: a.editors.map { keys.name($0) }, policy: a.policyName,
                            policySha256: a.policyHash,
                            original: Self.leafPointers(v.content, ""), publisherMade: a.values)
                    } catch let error as AmanatError {
                        result.valid = false
                        result.error = error.message
                        let status = ExitStatus(error.kind)
                        worst =
                            status == .verificationFailed || worst == .verificationFailed ? .verificationFailed : status
                    }
                }
                // Provenance (Specs/log.md): a proof present but wrong fails the file.
                do {
                    // The store is read only when the passphrase is at hand without a prompt: verifying needs none.
                    if options.passphraseFile != nil || ProcessInfo.processInfo.environment["AMANAT_PASSPHRASE"] != nil
                    {
                        result.log = try keys.logInclusion(ofVersion: StoredVersion(verified: v, sdjwt: sdjwt))
                    }
                    let proofPath = PublishedFile.logProofPath(for: file)
                    if file != "-", let publisher = result.publication?.publisherFingerprint,
                        FileManager.default.fileExists(atPath: proofPath)
                    {
                        let proof = try Workspace.readFile(URL(fileURLWithPath: proofPath), what: "log proof")
                        result.publicationLog = try keys.checkLogProof(
                            Array(proof), file: proofPath,
                            entry: try LogEntry(kind: .publication, digest: try SHA256.hash(data)), owner: publisher)
                    }
                    let base = String(proofPath.dropLast(".tlog-proof".count))
                    if file != "-", FileManager.default.fileExists(atPath: base + ".version.tlog-proof"),
                        FileManager.default.fileExists(atPath: base + ".version.tst")
                    {
                        var pems = (try? keys.workspace?.tsaCAPEMs()) ?? []
                        for ca in tsaCA {
                            pems.append(
                                String(
                                    decoding: try Workspace.readFile(URL(fileURLWithPath: ca), what: "TSA CA"),
                                    as: UTF8.self))
                        }
                        result.versionTimestamp = try keys.checkVersionTimestamp(
                            proof: Array(
                                try Workspace.readFile(
                                    URL(fileURLWithPath: base + ".version.tlog-proof"), what: "log proof")),
                            token: Array(
                                try Workspace.readFile(
                                    URL(fileURLWithPath: base + ".version.tst"), what: "timestamp token")),
                            file: base + ".version.tlog-proof", version: StoredVersion(verified: v, sdjwt: sdjwt),
                            caPEMs: pems)
                    }
                } catch let error as AmanatError {
                    result.valid = false
                    result.error = error.message
                    let status = ExitStatus(error.kind)
                    worst = status == .verificationFailed || worst == .verificationFailed ? .verificationFailed : status
                }
                results.append(result)
            } catch let error as SDJWTError {
                results.append(Result(file: file, valid: false, error: keys.explain(error)))
                if case .malformed = error {
                    worst = worst == .ok ? .malformedInput : worst
                } else {
                    worst = .verificationFailed
                }
            }
        }
        if json {
            try Console.json(results)
        } else {
            for r in results {
                let shown = r.file == "-" ? "standard input" : UntrustedText.printable(r.file)
                if let media = r.media, r.valid || media.comparison != nil {
                    for line in media.lines(file: r.file) { Console.out(line) }
                    if !r.valid { Console.err("\(shown): NOT valid — \(r.error ?? "unknown error")") }
                } else if r.valid, let recordId = r.recordId, let versionId = r.versionId, let signer = r.signer,
                    let disclosed = r.disclosed, let withheld = r.withheld
                {
                    let fingerprint =
                        r.signerIdentityFile != nil ? " (fingerprint \(r.signerFingerprint ?? "?"))" : ""
                    Console.out(
                        "\(shown): valid — record \(UntrustedText.printable(recordId)), version \(versionId), signed by \(signer)\(fingerprint); "
                            + "\(disclosed) disclosure(s) presented, \(withheld) withheld")
                    if let p = r.publication { Console.out(Self.describe(p, signer: signer)) }
                    for (what, log) in [
                        ("version", r.log), ("publication", r.publicationLog), ("version", r.versionTimestamp),
                    ] {
                        guard let log else { continue }
                        Console.out("  \(what) \(log.summary)")
                        for stamp in log.existedNoLaterThan { Console.out("  \(what) existed no later than \(stamp)") }
                    }
                    if let t = r.versionTimestamp, t.existedNoLaterThan.isEmpty {
                        Console.out(
                            "  a timestamp over that checkpoint is beside it; give --tsa-ca FILE (the TSA's CA) to check it"
                        )
                    }
                } else {
                    Console.err("\(shown): NOT valid — \(r.error ?? "unknown error")")
                }
            }
            if !keys.given.isEmpty { Console.out(Self.fingerprintNote(keys.given)) }
        }
        if worst != .ok { throw ExitCode(worst.rawValue) }
    }

    /// Verifies one published derivative (and compares it with `--original`).
    func verifyMedia(_ file: String, keys: VerificationKeys) -> (Result, ExitStatus) {
        var result = Result(file: file, valid: false)
        do {
            let verified = try keys.verifyMedia(file)
            var report = MediaVerifyReport(verified, keys: keys)
            result.recordId = verified.recordId
            result.versionId = verified.versionId
            result.signerFingerprint = verified.signerFingerprint
            result.signer = keys.name(verified.signerFingerprint)
            result.valid = true
            if let original {
                let tools: MediaTools
                do { tools = try MediaTools.locate() } catch { throw AmanatError(error) }
                let figures = try keys.compareMedia(verified, original: original, tools: tools)
                report.add(figures, original: original)
                if !figures.passes {
                    result.valid = false
                    result.error =
                        "the derivative differs from the original outside the declared rectangles and intervals "
                        + "(or the audio does not match): do not trust the declaration."
                }
            }
            result.media = report
            return (result, result.valid ? .ok : .verificationFailed)
        } catch let error as AmanatError {
            result.error = error.message
            return (result, ExitStatus(error.kind))
        } catch {
            result.error = "\(error)"
            return (result, .ioError)
        }
    }

    /// The identities given with --identity, and what a reader must still do: compare their fingerprints with the
    /// ones the organizations publish elsewhere.
    static func fingerprintNote(_ given: [VerificationKeys.GivenIdentity]) -> String {
        var lines = ["Identities given with --identity (each file's self-signature verified):"]
        for g in given {
            lines.append(
                "  \(g.identity.fingerprint)  '\(UntrustedText.printable(g.identity.organization))'  "
                    + "(\(UntrustedText.printable(g.file)))")
        }
        lines.append(
            "These files only prove that the published files agree with them, not who made them: compare each "
                + "fingerprint with the one the organization publishes elsewhere (its web site, a printed report, a "
                + "phone call) before you rely on the result.")
        return lines.joined(separator: "\n")
    }

    /// JSON Pointers of every scalar in a record.
    static func leafPointers(_ value: JSONValue, _ pointer: String) -> [String] {
        switch value {
        case .object(let members):
            return members.flatMap {
                leafPointers(
                    $0.1,
                    pointer + "/"
                        + $0.0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))
            }
        case .array(let items):
            return items.enumerated().flatMap { leafPointers($0.1, pointer + "/\($0.0)") }
        default:
            return [pointer]
        }
    }

    static func describe(_ p: Publication, signer: String) -> String {
        var lines = [
            "  public version: annotation \(UntrustedText.printable(p.annotation)) valid — signed by publisher \(p.publisher), "
                + "policy '\(UntrustedText.printable(p.policy))' "
                + "(sha256 \(UntrustedText.printable(String(p.policySha256.prefix(16))))…)",
            "  collected by \(p.collector) (signed the record's first version)"
                + (p.editors.isEmpty ? "" : "; edited by \(p.editors.joined(separator: ", "))"),
            signer == p.collector
                ? "  original (the collector's own values, signed by \(signer)): \(p.original.count) value(s)"
                : "  original (values as signed by \(signer), an editor — not the collector): \(p.original.count) value(s)",
        ]
        let partial = Set(p.publisherMade.filter { $0.segment != nil }.map(\.path))
        for text in partial.sorted() {
            lines.append(
                "    \(UntrustedText.printable(text)): original text with publisher markers in place of withheld pieces"
            )
        }
        lines.append("  made by the publisher (not the collector's words): \(p.publisherMade.count) value(s)")
        for v in p.publisherMade {
            let path = UntrustedText.printable(v.path)
            let place = v.segment.map { "\(path) piece \($0)" } ?? path
            lines.append(
                "    \(place): \(UntrustedText.printable(v.op))\(v.kind.map { " \(UntrustedText.printable($0))" } ?? "")"
            )
        }
        return lines.joined(separator: "\n")
    }
}
