import Foundation

/// A strict RFC 4180 reader for the records CSV layout. Works on bytes; every cell is validated as UTF-8 on
/// its own so an error can name its row and column. Problems are thrown as `RecordImportError` and never
/// quote cell content.
struct CSVReader {
    struct Row {
        /// Spreadsheet row number (the header is 1).
        var number: Int
        /// Text line on which the row starts.
        var line: Int
        var cells: [String]
    }

    let bytes: [UInt8]
    let file: String
    let limits: RecordImport.Limits
    var index = 0
    var line = 1

    /// - Parameters:
    ///   - line: the text line `bytes` start on (a later piece of a file read piece by piece).
    ///   - atFileStart: whether `bytes` start the file, where a byte order mark is dropped.
    init(bytes: [UInt8], file: String, limits: RecordImport.Limits, line: Int = 1, atFileStart: Bool = true) {
        self.line = line
        // records.md: a leading BOM (as Excel writes it) is ignored.
        if atFileStart, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            self.bytes = Array(bytes.dropFirst(3))
        } else {
            self.bytes = bytes
        }
        self.file = file
        self.limits = limits
    }

    func fail(row: Int, position: Int?, header: [String]?, line: Int, _ reason: String) -> RecordImportError {
        var name: String?
        if let position, let header, position - 1 < header.count, !header[position - 1].isEmpty {
            name = header[position - 1]
        }
        return RecordImportError(
            file: file,
            RecordImportError.Issue(row: row, column: name, columnPosition: position, line: line, reason: reason))
    }

    /// Reads every row. The first returned row is the header.
    mutating func readAll() throws -> [Row] {
        var rows: [Row] = []
        var header: [String]?
        while index < bytes.count {
            let rowNumber = rows.count + 1
            if rowNumber > limits.maximumRecords + 1 {
                throw fail(
                    row: rowNumber, position: nil, header: nil, line: line,
                    "the file has more than \(limits.maximumRecords) records; split it into smaller files")
            }
            let row = try readRow(number: rowNumber, header: header)
            if header == nil { header = row.cells }
            rows.append(row)
        }
        return rows
    }

    /// The next row, numbered `number`, or nil at the end of the bytes. `header`: the header's cells, for naming
    /// columns in errors (nil while reading the header).
    mutating func nextRow(number: Int, header: [String]?) throws -> Row? {
        guard index < bytes.count else { return nil }
        return try readRow(number: number, header: header)
    }

    private mutating func readRow(number: Int, header: [String]?) throws -> Row {
        let startLine = line
        var cells: [String] = []
        while true {
            let position = cells.count + 1
            if position > limits.maximumColumns {
                throw fail(
                    row: number, position: nil, header: nil, line: line,
                    "the row has more than \(limits.maximumColumns) columns")
            }
            var cell: [UInt8] = []
            var quoted = false
            let cellLine = line
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while true {
                    guard index < bytes.count else {
                        throw fail(
                            row: number, position: position, header: header, line: cellLine,
                            "a quoted cell is not closed (a \" is missing before the end of the file)")
                    }
                    let b = bytes[index]
                    if b == UInt8(ascii: "\"") {
                        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                            cell.append(b)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if b == 0x0A { line += 1 }
                    try checkByte(b, inQuotes: true, row: number, position: position, header: header)
                    cell.append(b)
                    index += 1
                    if cell.count > limits.maximumCellBytes {
                        throw fail(
                            row: number, position: position, header: header, line: cellLine,
                            "a cell is larger than \(limits.maximumCellBytes) bytes")
                    }
                }
            } else {
                while index < bytes.count {
                    let b = bytes[index]
                    if b == UInt8(ascii: ",") || b == 0x0A || b == 0x0D { break }
                    if b == UInt8(ascii: "\"") {
                        throw fail(
                            row: number, position: position, header: header, line: line,
                            "a \" inside a cell that does not start with \" (quote the whole cell and double the \")")
                    }
                    try checkByte(b, inQuotes: false, row: number, position: position, header: header)
                    cell.append(b)
                    index += 1
                    if cell.count > limits.maximumCellBytes {
                        throw fail(
                            row: number, position: position, header: header, line: cellLine,
                            "a cell is larger than \(limits.maximumCellBytes) bytes")
                    }
                }
            }
            guard let text = String(validating: cell, as: UTF8.self) else {
                throw fail(row: number, position: position, header: header, line: cellLine, "a cell is not valid UTF-8")
            }
            cells.append(text)
            // What ends the cell.
            guard index < bytes.count else { break }
            let b = bytes[index]
            if b == UInt8(ascii: ",") {
                index += 1
                if index == bytes.count {
                    cells.append("")  // "a,b," ends with an empty cell
                    break
                }
                continue
            }
            if b == 0x0A {
                index += 1
                line += 1
                break
            }
            if b == 0x0D {
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                    throw fail(
                        row: number, position: position, header: header, line: line,
                        "a carriage return that is not followed by a line feed (lines must end in CRLF or LF)")
                }
                index += 2
                line += 1
                break
            }
            // Only possible after a closing quote.
            precondition(quoted)
            throw fail(
                row: number, position: position, header: header, line: line,
                "text after the closing \" of a quoted cell (double a \" inside a quoted cell)")
        }
        return Row(number: number, line: startLine, cells: cells)
    }

    private func checkByte(_ b: UInt8, inQuotes: Bool, row: Int, position: Int, header: [String]?) throws {
        guard b < 0x20 else { return }
        if b == 0x09 { return }
        if inQuotes, b == 0x0A || b == 0x0D { return }
        if b == 0 {
            throw fail(row: row, position: position, header: header, line: line, "a cell contains a NUL byte")
        }
        throw fail(row: row, position: position, header: header, line: line, "a cell contains a control character")
    }
}
