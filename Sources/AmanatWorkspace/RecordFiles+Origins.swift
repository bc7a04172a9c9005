import AmanatRecords
import Foundation

extension RecordFiles {
    /// Where one record of a record file came from, for telling a volunteer which new id belongs to which row.
    public struct Origin: Sendable, Equatable, CustomStringConvertible {
        /// The file as the caller named it (untrusted text: print it through ``AmanatRecords/UntrustedText``).
        public var file: String
        /// In a CSV file: the row as a spreadsheet shows it (the header is row 1, a multi-line cell stays in its
        /// row, blank rows count), as in the import's error messages.
        public var row: Int?
        /// In a JSON array: the record's index, from 0 as in a JSON Pointer (nil for a file holding one record
        /// object, and for CSV).
        public var index: Int?

        public init(file: String, row: Int? = nil, index: Int? = nil) {
            self.file = file
            self.row = row
            self.index = index
        }

        /// `file.csv row 3`, `file.json [2]` or `file.json`, the file name escaped.
        public var description: String {
            let name = UntrustedText.printable(file)
            if let row { return "\(name) row \(row)" }
            if let index { return "\(name) [\(index)]" }
            return name
        }
    }

    /// Reads a record file as ``load(_:)`` does, and says where each record came from (same order).
    public static func loadWithOrigins(_ path: String) throws -> (loaded: Loaded, origins: [Origin]) {
        let loaded = try load(path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        if RecordValidation.isCSV(path) {
            let rows: [Int]
            do { rows = try RecordImport.csvRecordRows(Array(data), file: path) } catch {
                throw AmanatError(
                    .malformedInput, "\(error)\nNothing was added. Fix the file and run the command again.")
            }
            guard rows.count == loaded.records.count else {
                throw AmanatError(
                    .malformedInput,
                    "\(UntrustedText.printable(path)) changed while it was read. Nothing was added; run the command again."
                )
            }
            return (loaded, rows.map { Origin(file: path, row: $0) })
        }
        let first = data.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        if first == UInt8(ascii: "{") {
            return (loaded, loaded.records.map { _ in Origin(file: path) })
        }
        return (loaded, loaded.records.indices.map { Origin(file: path, index: $0) })
    }
}
