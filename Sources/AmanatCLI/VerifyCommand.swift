import AmanatCrypto
import AmanatRecords
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
                results.append(
                    Result(
                        file: file, valid: true, recordId: v.recordId, versionId: v.versionId,
                        signer: workspace.signerName(v.signerFingerprint), signerFingerprint: v.signerFingerprint,
                        disclosed: v.disclosedCount, withheld: v.withheldCount))
            } catch let error as SDJWTError {
                results.append(Result(file: file, valid: false, error: error.description))
                if case .malformed = error { worst = worst == .ok ? .malformedInput : worst } else { worst = .verificationFailed }
            }
        }
        if json {
            try Console.json(results)
        } else {
            for r in results {
                if r.valid {
                    Console.out(
                        "\(r.file): valid — record \(r.recordId!), version \(r.versionId!), signed by \(r.signer!); "
                            + "\(r.disclosed!) disclosure(s) presented, \(r.withheld!) withheld")
                } else {
                    Console.err("\(r.file): NOT valid — \(r.error!)")
                }
            }
        }
        if worst != .ok { throw ExitCode(worst.rawValue) }
    }
}
