import AmanatRecords
import AmanatRedaction
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
            if isCSV(file) {
                return try RecordImport.parseCSV(bytes, file: file, schema: schema)
            }
            return try RecordImport.parseJSON(bytes, file: file, schema: schema)
        } catch let error as RecordImportError {
            throw AmanatError(.malformedInput, "\(error)\nNothing was added. Fix the file and run the command again.")
        }
    }

    static func isCSV(_ file: String) -> Bool { file.lowercased().hasSuffix(".csv") }

    /// The identifier checks of Specs/records.md ("Identifiers and checksums") that warn instead of refusing: a
    /// Chinese resident ID whose GB 11643 check character, region code or birth date is wrong, and a Kazakh IIN
    /// whose checksum (both weight sets) or birth date is wrong. The schema has already checked their shape; a
    /// failing number is stored as entered (a mistyped number is still a person's number).
    /// - Returns: the JSON Pointer and the reason of each failing number, in document order; never the value.
    public static func checksumProblems(_ record: JSONValue) -> [(pointer: String, reason: String)] {
        var problems: [(pointer: String, reason: String)] = []
        func walk(_ value: JSONValue, _ pointer: String) {
            switch value {
            case .object(let members):
                for (key, item) in members {
                    let path =
                        pointer + "/"
                        + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                    if case .string(let text) = item, let reason = problem(member: key, text) {
                        problems.append((path, reason))
                    } else {
                        walk(item, path)
                    }
                }
            case .array(let items):
                for (index, item) in items.enumerated() { walk(item, pointer + "/\(index)") }
            default:
                break
            }
        }
        walk(record, "")
        return problems
    }

    /// Why the identifier `text` in the member `member` fails its check, or nil (a valid number, or a member that
    /// holds no checked identifier).
    static func problem(member: String, _ text: String) -> String? {
        switch member {
        case "cnResidentId":
            if text.utf8.count == 15, let long = ChineseResidentID.convert15to18(text) {
                return ChineseResidentID.isValid(long)
                    ? nil : "the legacy 15-digit Chinese resident ID has no valid region code or birth date (GB 11643)"
            }
            guard text.utf8.count == 18, !ChineseResidentID.isValid(text) else { return nil }
            return "the Chinese resident ID fails its GB 11643 check (check character, region code or birth date)"
        case "kzIin":
            guard text.utf8.count == 12, !KazakhIIN.isValid(text) else { return nil }
            return "the Kazakh IIN fails its check (check digit or birth date)"
        default:
            return nil
        }
    }
}

/// A record file read from disk: its records, validated, with canonical member order.
public enum RecordFiles {
    /// A number `add` stores as entered but reports (Specs/records.md, "Identifiers and checksums"): where it is
    /// and what is wrong, never the number itself.
    public struct Warning: Sendable, Equatable, CustomStringConvertible {
        /// The file as the caller named it.
        public var file: String
        /// The record's position: 0-based in a JSON array, as in a JSON Pointer (nil for a file holding one record
        /// object).
        public var recordIndex: Int?
        /// The record's position in a CSV file, from 1: the n-th row with data after the header (blank rows are
        /// not counted).
        public var csvRecord: Int?
        /// JSON Pointer of the field.
        public var pointer: String
        public var reason: String

        public var description: String {
            let place =
                csvRecord.map { "record \($0) (data rows counted from 1)" } ?? recordIndex.map { "record [\($0)]" }
            return "\(UntrustedText.printable(file)): "
                + (place.map { $0 + ", " } ?? "") + "field \(UntrustedText.printable(pointer)): \(reason); "
                + "stored as entered. Check the number against the document."
        }
    }

    /// Records read from one file, and the warnings about them.
    public struct Loaded: Sendable {
        public var records: [JSONValue]
        public var warnings: [Warning]
    }

    /// Reads JSON (one record or an array) or CSV records from `path`.
    public static func read(_ path: String) throws -> [JSONValue] { try load(path).records }

    /// Reads JSON (one record or an array) or CSV records from `path`, with a warning for each identifier that
    /// fails its checksum (``RecordValidation/checksumProblems(_:)``).
    public static func load(_ path: String) throws -> Loaded {
        let file = try InputFile(path, what: "record file")
        guard file.size <= 64 << 20 else {
            throw AmanatError(.malformedInput, "\(path) is larger than 64 MiB; split it into several files.")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let records = try RecordValidation.parse(Array(data), file: path).map { $0.sortedKeys() }
        let csv = RecordValidation.isCSV(path)
        let single =
            !csv
            && data.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }) == UInt8(ascii: "{")
        var warnings: [Warning] = []
        for (index, record) in records.enumerated() {
            for (pointer, reason) in RecordValidation.checksumProblems(record) {
                warnings.append(
                    Warning(
                        file: path, recordIndex: csv || single ? nil : index, csvRecord: csv ? index + 1 : nil,
                        pointer: pointer, reason: reason))
            }
        }
        return Loaded(records: records, warnings: warnings)
    }
}
