import AmanatRecords
import Foundation

/// The bridge between the CLI and the record format (schema validation, CSV/JSON import, sensitivity).
enum RecordValidation {
    /// Parses and validates the records in a JSON or CSV file.
    static func parse(_ bytes: [UInt8], file: String) throws -> [JSONValue] {
        let isCSV = file.lowercased().hasSuffix(".csv")
        if isCSV {
            throw CLIError(.usage, "\(file): CSV import is not available in this build; convert it to JSON.")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch let error as JSONParseError {
            throw CLIError(.malformedInput, "\(file) is not valid JSON: \(error).")
        }
        let records: [JSONValue]
        switch value {
        case .object: records = [value]
        case .array(let items): records = items
        default: throw CLIError(.malformedInput, "\(file): expected a record object or an array of records.")
        }
        guard !records.isEmpty else { throw CLIError(.malformedInput, "\(file) holds no records.") }
        for (i, record) in records.enumerated() {
            let where_ = records.count > 1 ? "\(file), record \(i + 1)" : file
            guard record.objectValue != nil else { throw CLIError(.malformedInput, "\(where_): a record must be a JSON object.") }
            guard record["schema"]?.stringValue == "amanat-record/v1" else {
                throw CLIError(.malformedInput, "\(where_): /schema must be \"amanat-record/v1\".")
            }
            guard let consent = record["testimony"]?["consent"]?.stringValue, ["public", "partners", "internal"].contains(consent)
            else {
                throw CLIError(.malformedInput, "\(where_): /testimony/consent must be public, partners or internal.")
            }
            guard record["provenance"]?["organization"]?.stringValue != nil else {
                throw CLIError(.malformedInput, "\(where_): /provenance/organization is required.")
            }
        }
        return records
    }
}

/// Which record fields are identifying or sensitive (concealed as SD-JWT disclosures).
enum RecordSensitivity {
    /// Public fields by JSON Pointer pattern (`*` = any array index); everything else is concealed (fail closed).
    static let publicPatterns: [[String]] = [
        ["schema"], ["language"], ["testimony"], ["testimony", "consent"], ["testimony", "medium"],
        ["testimony", "languages"], ["testimony", "languages", "*"], ["provenance"], ["provenance", "organization"],
        ["tags"], ["tags", "*"], ["attachments"], ["attachments", "*"], ["attachments", "*", "sha256"],
        ["attachments", "*", "size"], ["attachments", "*", "mediaType"], ["attachments", "*", "kind"],
    ]

    static func isConcealable(_ pointer: String) -> Bool {
        let parts = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        for pattern in publicPatterns where pattern.count == parts.count {
            if zip(pattern, parts).allSatisfy({ $0 == "*" ? Int($1) != nil : $0 == $1 }) { return false }
        }
        return true
    }
}
