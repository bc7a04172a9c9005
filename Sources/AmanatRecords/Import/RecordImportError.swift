import Foundation

/// Why a file could not be imported. Names the file and, per problem, where it is (CSV row and column, JSON
/// record index, field path, or text line) and what is wrong — never the content of a cell or field.
public struct RecordImportError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// CSV: the row as a spreadsheet shows it (the header is row 1; a quoted multi-line cell does not
        /// start a new row).
        public var row: Int?
        /// CSV: the column name from the header (or the documented column a missing value belongs to).
        public var column: String?
        /// CSV: 1-based column position (spreadsheet letter in `description`).
        public var columnPosition: Int?
        /// JSON: index of the record in a top-level array (0-based, as in a JSON Pointer).
        public var recordIndex: Int?
        /// Path of the field inside the record (JSON Pointer), when known.
        public var pointer: String?
        /// Schema keyword for a schema violation (`pattern`, `required`, …).
        public var keyword: String?
        /// Text position for syntax errors (1-based).
        public var line: Int?
        public var characterColumn: Int?
        /// What is wrong, in plain English.
        public var reason: String

        public init(
            row: Int? = nil, column: String? = nil, columnPosition: Int? = nil, recordIndex: Int? = nil,
            pointer: String? = nil, keyword: String? = nil, line: Int? = nil, characterColumn: Int? = nil,
            reason: String
        ) {
            self.row = row
            self.column = column
            self.columnPosition = columnPosition
            self.recordIndex = recordIndex
            self.pointer = pointer
            self.keyword = keyword
            self.line = line
            self.characterColumn = characterColumn
            self.reason = reason
        }

        public var description: String {
            var parts: [String] = []
            if let row { parts.append("row \(row)") }
            if let recordIndex { parts.append("record [\(recordIndex)]") }
            if let column {
                var c = "column \(UntrustedText.printable(column))"
                if let columnPosition { c += " (\(RecordImportError.spreadsheetLetters(columnPosition)))" }
                parts.append(c)
            } else if let columnPosition {
                parts.append("column \(RecordImportError.spreadsheetLetters(columnPosition))")
            }
            if let pointer, column == nil, !pointer.isEmpty {
                parts.append("field \(UntrustedText.printable(pointer))")
            }
            if let line {
                parts.append(characterColumn.map { "line \(line), character \($0)" } ?? "line \(line)")
            }
            return (parts.isEmpty ? "" : parts.joined(separator: ", ") + ": ") + reason
        }
    }

    /// The file name as given by the caller.
    public var file: String
    /// At least one problem; at most `RecordImport.Limits.maximumIssues`.
    public var issues: [Issue]
    /// True when more problems were found than are listed.
    public var truncated: Bool

    public init(file: String, issues: [Issue], truncated: Bool = false) {
        self.file = file
        self.issues = issues
        self.truncated = truncated
    }

    init(file: String, _ issue: Issue) {
        self.init(file: file, issues: [issue])
    }

    /// The first problem (there is always one).
    public var first: Issue { issues[0] }

    public var description: String {
        let file = UntrustedText.printable(file)
        var lines = issues.map { "\(file): \($0)" }
        if truncated { lines.append("\(file): more problems were found; only the first \(issues.count) are listed") }
        return lines.joined(separator: "\n")
    }

    /// 1 → A, 27 → AA.
    static func spreadsheetLetters(_ position: Int) -> String {
        var n = position
        var s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }
}
