import AmanatRecords
import FuzzSupport

private let schema: RecordSchema = {
    do { return try RecordSchema.bundled() } catch { fatalError("cannot load the bundled schema: \(error)") }
}()

// Record schema validation of arbitrary JSON (what `amanat add` and a partner's bundle hand it): the JSON import
// path (`RecordImport.parseJSON`: BOM, syntax errors with positions, every record validated), and the schema's own
// entry points on the parsed value. A value the import accepts must be valid by `validate` too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    do {
        let records = try RecordImport.parseJSON(bytes, file: "fuzz.json", schema: schema)
        for record in records where !schema.isValid(record) {
            fuzzFailure("schema", "an imported record is not valid by the schema")
        }
    } catch let error as RecordImportError {
        _ = error.description
    } catch {
        fuzzFailure("schema", "RecordImport.parseJSON threw \(type(of: error)): \(error)")
    }
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    for violation in schema.validate(value) {
        _ = violation.description
        _ = schema.sensitivity(at: violation.path)
        _ = JSONPointer.components(JSONPointer.string(violation.path))
    }
    if let text = value.stringValue {
        _ = schema.sensitivity(atPointer: text)
        _ = JSONPointer.components(text)
        _ = RecordSensitivity.isConcealable(text)
    }
    _ = RecordContent.attachmentDigests(value)
    return 0
}
