import AmanatCrypto
import AmanatPublish
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat verify FILE...`
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify SD-JWT record versions or presentations against the trust list.",
        discussion: """
            Checks the issuer signature (Ed25519) against the trust list, _sd_alg, that every disclosure is \
            referenced exactly once, and the structure (RFC 9901 §7.1). A presentation that withholds some \
            disclosures verifies too; the report says how many were withheld.

            Example:
              amanat verify published/3Jq7xk.sd-jwt
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array of results.") var json = false
    @Argument(help: ArgumentHelp("SD-JWT files.", valueName: "file")) var files: [String]

    struct Result: Encodable {
        var file: String
        var valid: Bool
        var recordId: String?
        var versionId: String?
        var signer: String?
        var signerFingerprint: String?
        var disclosed: Int?
        var withheld: Int?
        var error: String?
        /// For a public version: what the publisher's annotation says.
        var publication: Publication?
    }

    struct Publication: Encodable {
        var annotation: String
        var publisher: String
        var publisherFingerprint: String
        /// The organization that collected the record (signed its first version): the testimony is its.
        var collector: String
        var collectorFingerprint: String
        /// Organizations that signed later versions (edits, merges), named as editors, never as the collector.
        var editors: [String]
        var policy: String
        var policySha256: String
        /// JSON Pointers of the values presented as the collector signed them.
        var original: [String]
        /// The values the publisher made (pseudonyms, generalized values, markers); never originals.
        var publisherMade: [PublisherValue]
    }

    func run() throws {
        let workspace = try options.locate()
        let keys = try workspace.trustedKeys()
        var results: [Result] = []
        var worst: ExitStatus = .ok
        for file in files {
            let input = try InputFile(file, what: "SD-JWT file")
            guard input.size <= UInt64(SDJWT.maximumSize) else {
                results.append(Result(file: file, valid: false, error: "larger than \(SDJWT.maximumSize) bytes"))
                worst = .malformedInput
                continue
            }
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self)
            do {
                let sdjwt = try SDJWT.parse(text)
                let v = try RecordVerifier.verify(sdjwt, trustedKey: { keys[$0] })
                var result = Result(
                    file: file, valid: true, recordId: v.recordId, versionId: v.versionId,
                    signer: workspace.signerName(v.signerFingerprint), signerFingerprint: v.signerFingerprint,
                    disclosed: v.disclosedCount, withheld: v.withheldCount)
                let annotationPath = PublishedFile.annotationPath(for: file)
                if FileManager.default.fileExists(atPath: annotationPath) {
                    do {
                        let text = String(
                            decoding: try Workspace.readFile(URL(fileURLWithPath: annotationPath), what: "annotation"),
                            as: UTF8.self)
                        let a = try workspace.verifyAnnotation(
                            text, file: annotationPath, presentation: sdjwt, verified: v)
                        result.publication = Publication(
                            annotation: annotationPath, publisher: workspace.signerName(a.publisherFingerprint),
                            publisherFingerprint: a.publisherFingerprint,
                            collector: workspace.signerName(a.collector), collectorFingerprint: a.collector,
                            editors: a.editors.map { workspace.signerName($0) }, policy: a.policyName,
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
                results.append(result)
            } catch let error as SDJWTError {
                results.append(Result(file: file, valid: false, error: error.description))
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
                if r.valid {
                    Console.out(
                        "\(UntrustedText.printable(r.file)): valid — record \(UntrustedText.printable(r.recordId!)), version \(r.versionId!), signed by \(r.signer!); "
                            + "\(r.disclosed!) disclosure(s) presented, \(r.withheld!) withheld")
                    if let p = r.publication { Console.out(Self.describe(p, signer: r.signer!)) }
                } else {
                    Console.err("\(UntrustedText.printable(r.file)): NOT valid — \(r.error!)")
                }
            }
        }
        if worst != .ok { throw ExitCode(worst.rawValue) }
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
