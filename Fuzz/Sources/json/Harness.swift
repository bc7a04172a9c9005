import AmanatRecords
import FuzzSupport

/// JSONValue.parse on arbitrary bytes; a document that parses must survive serialized(), canonical() and pretty()
/// unchanged when parsed again. The partial forms agree with it: `validate` accepts what parses, and a `JSONReader`
/// that reads objects member by member (building some members, skipping the others) accepts it too and builds the
/// same values; what the reader accepts, `validate` accepts. (Duplicate names are not compared here: `validate`
/// ignores them, and so does the reader inside what it skips; the unit tests check that those of the objects read
/// member by member are refused.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    // Objects read member by member down to depth 2; members named "skip" skipped, the rest built.
    func read(_ reader: inout JSONReader, depth: Int) throws -> JSONValue? {
        guard depth < 2, reader.isBeforeObject else { return try reader.readValue() }
        var members: [(String, JSONValue)] = []
        try reader.readMembers { reader, name in
            if name == "skip" {
                try reader.skipValue()
            } else if let value = try read(&reader, depth: depth + 1) {
                members.append((name, value))
            }
        }
        return .object(members)
    }
    var reader = try? JSONReader(bytes)
    let partial = reader.flatMap { _ in try? read(&reader!, depth: 0) }
    let readToEnd = partial != nil && (try? reader?.finish()) != nil
    let valid = (try? JSONValue.validate(bytes)) != nil
    if readToEnd && !valid { fuzzFailure("json", "JSONReader accepts what validate refuses") }
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    guard valid else { fuzzFailure("json", "validate refuses what parse accepts") }
    guard readToEnd, let partial else { fuzzFailure("json", "JSONReader refuses what parse accepts") }
    func withoutSkipped(_ value: JSONValue, depth: Int) -> JSONValue {
        guard depth < 2, case .object(let members) = value else { return value }
        return .object(members.filter { $0.0 != "skip" }.map { ($0.0, withoutSkipped($0.1, depth: depth + 1)) })
    }
    guard partial == withoutSkipped(value, depth: 0) else { fuzzFailure("json", "JSONReader builds other values") }
    for (form, text) in [("serialized", value.serialized()), ("pretty", value.pretty())] {
        guard let again = try? JSONValue.parse(text) else { fuzzFailure("json", "\(form)() output does not parse") }
        guard again == value else { fuzzFailure("json", "\(form)() output parses to another value") }
    }
    guard let sorted = try? JSONValue.parse(value.canonical()), sorted == value.sortedKeys() else {
        fuzzFailure("json", "canonical() output does not parse back to sortedKeys()")
    }
    return 0
}
