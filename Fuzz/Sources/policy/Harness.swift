import AmanatCrypto
import AmanatRedaction
import FuzzSupport

private let pseudonymKey = SecretBytes(Array("fuzz pseudonym key, 32 bytes....".utf8))

// Redaction policy files (the small strict YAML of Specs/policies.md): `PolicyYAML.parse` and
// `RedactionPolicy.parse`, then everything a parsed policy is used for: resolving it for every consent and risk
// flag, looking up the rule of each of its own paths, and applying every action to a few synthetic values.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    _ = try? PolicyYAML.parse(bytes)
    let policy: RedactionPolicy
    do {
        policy = try RedactionPolicy.parse(bytes)
    } catch let error as PolicyError {
        _ = error.description
        return 0
    } catch {
        fuzzFailure("policy", "RedactionPolicy.parse threw \(type(of: error)): \(error)")
    }
    guard !policy.consent.contains("internal") else { fuzzFailure("policy", "a policy publishes internal records") }
    let samples = ["110105194912310021", "+7 701 123 4567", "1987-03-05", "Kulzhan", "E12345678", ""]
    for consent in ["public", "partners", "internal"] {
        for flags in [Set<String>(), RedactionPolicy.riskFlags] {
            let resolved = policy.resolved(consent: consent, riskFlags: flags)
            for rule in policy.fields {
                _ = rule.path.description
                let path: [RecordPathStep] = rule.path.steps.map {
                    switch $0 {
                    case .key(let name): return .key(name)
                    case .anyElement: return .index(0)
                    }
                }
                guard let action = resolved.rule(for: path)?.action else { continue }
                for value in samples { _ = try? action.publisherValue(for: value) { _ in pseudonymKey } }
            }
            for kind in IdentifierKind.allCases {
                let action = resolved.identifierAction(kind)
                for value in samples { _ = try? action.publisherValue(for: value) { _ in pseudonymKey } }
            }
        }
    }
    return 0
}
