import AmanatRecords
import FuzzSupport

/// JSONValue.parse on arbitrary bytes; a document that parses must survive serialized(), canonical() and pretty()
/// unchanged when parsed again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    for (form, text) in [("serialized", value.serialized()), ("pretty", value.pretty())] {
        guard let again = try? JSONValue.parse(text) else { fuzzFailure("json", "\(form)() output does not parse") }
        guard again == value else { fuzzFailure("json", "\(form)() output parses to another value") }
    }
    guard let sorted = try? JSONValue.parse(value.canonical()), sorted == value.sortedKeys() else {
        fuzzFailure("json", "canonical() output does not parse back to sortedKeys()")
    }
    return 0
}
