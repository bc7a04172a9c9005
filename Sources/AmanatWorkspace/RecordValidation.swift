import AmanatRecords
import Foundation

/// The bridge between the CLI and the record format (Specs/records.md): schema validation, CSV/JSON import and
/// the schema's sensitivity annotations.
public enum RecordValidation {
    /// Parses and validates the records in a JSON (one record or an array) or CSV file. One bad record fails all.
    public static func parse(_ bytes: [UInt8], file: String) throws -> [JSONValue] {
        let schema: RecordSchema
        do { schema = try RecordSchema.bundled() } catch {
            throw AmanatError(.ioError, "the record schema bundled with amanat cannot be loaded (\(error)); reinstall.")
        }
        do {
            if file.lowercased().hasSuffix(".csv") {
                return try RecordImport.parseCSV(bytes, file: file, schema: schema)
            }
            return try RecordImport.parseJSON(bytes, file: file, schema: schema)
        } catch let error as RecordImportError {
            throw AmanatError(.malformedInput, "\(error)\nNothing was added. Fix the file and run the command again.")
        }
    }
}
