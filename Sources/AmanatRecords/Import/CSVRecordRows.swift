import Foundation

extension RecordImport {
    /// Where each record of a CSV file came from: the spreadsheet row number (the header is row 1; a multi-line
    /// cell stays in its row; blank rows count but hold no record) of every row ``parseCSV(_:file:schema:limits:)``
    /// turns into a record, in the same order. Call it on a file that `parseCSV` accepted; it reads the rows again
    /// without validating them.
    /// - Throws: `RecordImportError` when the file is not valid CSV (which `parseCSV` would have refused first).
    public static func csvRecordRows(
        _ bytes: some Collection<UInt8>, file: String, limits: Limits = Limits()
    ) throws -> [Int] {
        var reader = CSVReader(bytes: Array(bytes), file: file, limits: limits)
        return try reader.readAll().dropFirst().filter { !isBlank($0) }.map(\.number)
    }

    /// A row whose cells are all empty (or whitespace): skipped, never a record.
    static func isBlank(_ row: CSVReader.Row) -> Bool {
        row.cells.allSatisfy { isBlank($0) }
    }
}
