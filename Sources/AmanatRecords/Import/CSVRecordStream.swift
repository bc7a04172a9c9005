import Foundation

/// Reads the CSV layout of Specs/records.md a batch of records at a time, with the rules and errors of
/// ``RecordImport/parseCSV(_:file:schema:limits:)``, from a file of any size: it holds one piece of the file
/// (about a mebibyte, or one row when a row is longer) and the batch being returned, never the whole file.
///
/// All or nothing across batches is the caller's part (e.g. one transaction): as soon as a row has a problem, the
/// stream reads and validates the rest of the file (up to `Limits.maximumIssues` problems) without returning any
/// more records, and throws every problem found, naming rows and columns. Syntax errors are thrown at once.
/// `Limits.maximumFileBytes` does not apply; a row may not exceed `maximumRowBytes`.
public struct CSVRecordStream {
    /// A record and the spreadsheet row it came from (the header is row 1; blank rows count).
    public struct Item: Sendable {
        public var row: Int
        public var record: JSONValue
    }

    /// Reads up to the given number of bytes; returns an empty array at the end of the file.
    public typealias Read = (Int) throws -> [UInt8]

    let file: String
    let schema: RecordSchema
    let limits: RecordImport.Limits
    let maximumRowBytes: Int
    let pieceBytes: Int
    let layout: CSVLayout
    private let read: Read

    // The bytes read but not yet cut into a piece; they always start at the start of a row.
    private var pending: [UInt8] = []
    private var scanned = 0
    private var inQuotes = false
    private var lastRowEnd = 0
    private var atEnd = false
    private var atFileStart = true

    private var reader: CSVReader?
    private var line = 1
    private var nextRowNumber = 1
    private var header: [String]?
    private var columns: [CSVLayout.Column?] = []
    private var issues: IssueCollector
    private var finished = false

    /// - Parameters:
    ///   - file: the name used in errors.
    ///   - schema: defaults to the bundled record schema.
    ///   - maximumRowBytes: the longest row accepted (default 64 MiB, the largest file ``RecordImport/parseCSV(_:file:schema:limits:)`` reads).
    ///   - pieceBytes: how much is read at a time.
    public init(
        file: String, schema: RecordSchema? = nil, limits: RecordImport.Limits = .init(),
        maximumRowBytes: Int = 64 << 20, pieceBytes: Int = 1 << 20, read: @escaping Read
    ) throws {
        self.file = file
        self.schema = try schema ?? RecordSchema.bundled()
        self.limits = limits
        self.maximumRowBytes = maximumRowBytes
        self.pieceBytes = max(1, pieceBytes)
        self.read = read
        layout = CSVLayout(schema: self.schema)
        issues = IssueCollector(limit: limits.maximumIssues)
    }

    /// The next records, at most `maximumCount` (at least one unless the file has no more); nil when every record
    /// has been returned.
    /// - Throws: `RecordImportError` for the first syntax error, or every problem of the rows (see above).
    public mutating func next(maximumCount: Int) throws -> [Item]? {
        guard !finished else { return nil }
        var items: [Item] = []
        while items.count < max(1, maximumCount) {
            // Rows are cut from the file here, one after the other; the data rows are then built and checked
            // against the schema on all cores (``checkRows(_:)``), their problems kept in row order.
            var rows: [CSVReader.Row] = []
            while items.count + rows.count < max(1, maximumCount) {
                guard let row = try nextRow() else {
                    finished = true
                    break
                }
                guard header != nil else {
                    _ = try validate(row)
                    continue
                }
                if !RecordImport.isBlank(row) { rows.append(row) }
            }
            for (row, record) in zip(rows, try checkRows(rows)) {
                if let record { items.append(Item(row: row.number, record: record)) }
            }
            if !issues.issues.isEmpty {
                // Every later problem is listed too, as for a whole file; nothing more is returned.
                while !issues.isFull, let row = try nextRow() { _ = try validate(row) }
                finished = true
                try issues.throwIfAny(file: file)
            }
            if finished { break }
        }
        if header == nil {
            throw RecordImportError(file: file, .init(reason: "the file is empty (no header row)"))
        }
        return items.isEmpty ? nil : items
    }

    /// The header row is taken in; a blank row gives nil; a data row its record (problems go to `issues`).
    private mutating func validate(_ row: CSVReader.Row) throws -> JSONValue? {
        guard let header else {
            (header, columns) = try RecordImport.csvHeader(row, layout: layout, file: file, limits: limits)
            return nil
        }
        if RecordImport.isBlank(row) { return nil }
        return Self.check(
            row, header: header, columns: columns, layout: layout, schema: schema, limits: limits, issues: &issues)
    }

    /// A data row's record, or nil when it has a problem (added to `issues`): as many cells as the header, then
    /// built and checked against the schema.
    private static func check(
        _ row: CSVReader.Row, header: [String], columns: [CSVLayout.Column?], layout: CSVLayout,
        schema: RecordSchema, limits: RecordImport.Limits, issues: inout IssueCollector
    ) -> JSONValue? {
        guard row.cells.count == header.count else {
            issues.add(
                .init(
                    row: row.number, line: row.line,
                    reason: "the row has \(row.cells.count) cells but the header has \(header.count) columns"))
            return nil
        }
        let before = issues.count
        let record = RecordImport.csvRecord(
            row, header: header, columns: columns, layout: layout, schema: schema, limits: limits, issues: &issues)
        return issues.count == before ? record : nil
    }

    /// ``validate(_:)`` of data rows (after the header, none blank) on all cores: each row's problems are collected
    /// on their own and added to `issues` in row order, as one row after the other would have.
    private mutating func checkRows(_ rows: [CSVReader.Row]) throws -> [JSONValue?] {
        guard let header else { return [] }
        let (columns, layout, schema, limits) = (self.columns, self.layout, self.schema, self.limits)
        let checked =
            try OrderedParallel.map(rows, minimumPerCore: 16, makeWorker: {}) {
                _, row -> (JSONValue?, IssueCollector) in
                var found = IssueCollector(limit: limits.maximumIssues)
                let record = Self.check(
                    row, header: header, columns: columns, layout: layout, schema: schema, limits: limits,
                    issues: &found)
                return (record, found)
            }
        return checked.map { record, found in
            issues.merge(found)
            return record
        }
    }

    /// The next row of the file, or nil at its end.
    private mutating func nextRow() throws -> CSVReader.Row? {
        while true {
            if reader == nil {
                guard let piece = try nextPiece() else { return nil }
                reader = CSVReader(bytes: piece, file: file, limits: limits, line: line, atFileStart: atFileStart)
                atFileStart = false
            }
            let number = nextRowNumber
            if number > limits.maximumRecords + 1 {
                throw RecordImportError(
                    file: file,
                    .init(
                        row: number, line: line,
                        reason: "the file has more than \(limits.maximumRecords) records; split it into smaller files"))
            }
            if let row = try reader?.nextRow(number: number, header: header) {
                nextRowNumber += 1
                return row
            }
            line = reader?.line ?? line
            reader = nil
        }
    }

    /// The next piece of the file made of whole rows (the last piece: whatever is left), or nil at the end. A line
    /// feed ends a row unless it is inside quotes; a `"` toggles quoting (a doubled `""` toggles it twice).
    private mutating func nextPiece() throws -> [UInt8]? {
        while true {
            pending.withUnsafeBufferPointer { bytes in
                var quoted = inQuotes
                var end = lastRowEnd
                for i in scanned..<bytes.count {
                    let b = bytes[i]
                    if b == UInt8(ascii: "\"") {
                        quoted.toggle()
                    } else if b == 0x0A, !quoted {
                        end = i + 1
                    }
                }
                inQuotes = quoted
                lastRowEnd = end
            }
            scanned = pending.count
            if atEnd || (lastRowEnd > 0 && pending.count >= pieceBytes) {
                let cut = atEnd ? pending.count : lastRowEnd
                guard cut > 0 else { return nil }
                let piece = Array(pending[..<cut])
                pending.removeFirst(cut)
                scanned = pending.count
                lastRowEnd = 0
                return piece
            }
            if lastRowEnd == 0, pending.count > maximumRowBytes {
                throw RecordImportError(
                    file: file,
                    .init(
                        row: nextRowNumber, line: line,
                        reason:
                            "the row is longer than \(maximumRowBytes) bytes (is a quoted cell missing its closing \"?)"
                    ))
            }
            let more = try read(max(pieceBytes, 64 << 10))
            if more.isEmpty {
                atEnd = true
            } else {
                pending += more
            }
        }
    }
}
