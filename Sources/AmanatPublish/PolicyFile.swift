import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Foundation

/// A policy file, parsed and checked against the record schema.
public struct PolicyFile: Sendable {
    public var policy: RedactionPolicy
    /// SHA-256 of the file (hex), named in every annotation.
    public var sha256: String
    public var path: String

    public static func load(_ path: String) throws -> PolicyFile {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let data = FileManager.default.contents(atPath: path)
        else {
            throw PublicationError(
                .unreadable, "cannot read the policy file \(path): it does not exist or is unreadable.")
        }
        guard (attributes[.size] as? Int ?? 0) <= PolicyYAML.maximumSize else {
            throw PublicationError(.malformed, "\(path) is larger than 1 MiB; a policy is a short text file.")
        }
        return try parse(Array(data), path: path)
    }

    /// Parses policy bytes (`path` names them in messages), e.g. a policy bundled as a resource.
    /// - Throws: ``PublicationError`` `malformed`, naming the line.
    public static func parse(_ bytes: [UInt8], path: String) throws -> PolicyFile {
        let policy: RedactionPolicy
        do {
            policy = try RedactionPolicy.parse(bytes)
        } catch let error as PolicyError {
            throw PublicationError(
                .malformed,
                // The reason may quote the policy text: escaped.
                "\(path), \(UntrustedText.printable(error.description)). Fix the policy (Specs/policies.md describes the format); nothing was published."
            )
        }
        if let schema = try? RecordSchema.bundled() {
            for rule in policy.fields + policy.conditions.flatMap(\.fields) {
                var cursor = schema.sensitivityRoot
                for step in rule.path.steps {
                    switch step {
                    case .key(let k): cursor = cursor.child(.key(k))
                    case .anyElement: cursor = cursor.child(.index(0))
                    }
                    if !cursor.isDescribed { break }
                }
                guard cursor.isDescribed else {
                    throw PublicationError(
                        .malformed,
                        "\(path), line \(rule.action.line): '\(UntrustedText.printable("\(rule.path)"))' is not a field of the record schema (Specs/records.md lists them; "
                            + "'[]' marks array elements). Nothing was published.")
                }
            }
        }
        let hash = try SHA256.hash(bytes).map { String(format: "%02x", $0) }.joined()
        return PolicyFile(policy: policy, sha256: hash, path: path)
    }
}
