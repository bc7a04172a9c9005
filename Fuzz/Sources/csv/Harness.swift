import AmanatRecords
import FuzzSupport

private let schema: RecordSchema = {
    do { return try RecordSchema.bundled() } catch { fatalError("cannot load the bundled schema: \(error)") }
}()

// CSV import (`RecordImport.parseCSV`: quoting, numbered column groups, status cells, schema validation). Every
// record it returns must be valid by the schema.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    do {
        let records = try RecordImport.parseCSV(bytes, file: "fuzz.csv", schema: schema)
        for record in records where !schema.isValid(record) {
            fuzzFailure("csv", "an imported record is not valid by the schema")
        }
    } catch let error as RecordImportError {
        _ = error.description
    } catch {
        fuzzFailure("csv", "RecordImport.parseCSV threw \(type(of: error)): \(error)")
    }
    return 0
}
