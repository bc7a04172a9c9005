import AmanatRecords
import FuzzSupport

/// JSONValue.parse on arbitrary bytes; a document that parses must survive serialized(), canonical() and pretty()
/// unchanged when parsed again. The partial forms agree with it: `validate` accepts what parses, and
/// `parse(_:keepingMembers:)` accepts it too and keeps exactly the named top-level members; what
/// `parse(_:keepingMembers:)` accepts, `validate` accepts. (Duplicate names are not compared here: `validate`
/// ignores them; the unit tests check that the top-level ones are refused in both parses.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let names: Set<String> = ["consent", "a", ""]
    let kept = try? JSONValue.parse(bytes, keepingMembers: names)
    let valid = (try? JSONValue.validate(bytes)) != nil
    if kept != nil && !valid { fuzzFailure("json", "parse(keepingMembers:) accepts what validate refuses") }
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    guard valid else { fuzzFailure("json", "validate refuses what parse accepts") }
    if case .object(let members) = value {
        guard kept == .object(members.filter { names.contains($0.0) }) else {
            fuzzFailure("json", "parse(keepingMembers:) keeps other members than parse")
        }
    } else if kept != value {
        fuzzFailure("json", "parse(keepingMembers:) gives another value for a non-object")
    }
    for (form, text) in [("serialized", value.serialized()), ("pretty", value.pretty())] {
        guard let again = try? JSONValue.parse(text) else { fuzzFailure("json", "\(form)() output does not parse") }
        guard again == value else { fuzzFailure("json", "\(form)() output parses to another value") }
    }
    guard let sorted = try? JSONValue.parse(value.canonical()), sorted == value.sortedKeys() else {
        fuzzFailure("json", "canonical() output does not parse back to sortedKeys()")
    }
    return 0
}
