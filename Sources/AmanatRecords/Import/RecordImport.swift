import Foundation

/// Reads testimony records from JSON or from the CSV layout of Specs/records.md and validates every record
/// against the record schema. A file is imported completely or not at all: any problem throws
/// `RecordImportError` (listing up to `Limits.maximumIssues` problems) and nothing is returned.
///
/// Both formats: a leading UTF-8 byte order mark is ignored; every string value is normalized to Unicode
/// NFC (records.md, Conventions); a control character other than tab, line feed and carriage return in a
/// value (NUL included) is refused.
///
/// CSV decisions where records.md is silent (see `parseCSV`): structured cells are trimmed, free-text cells
/// are taken literally; a row whose cells are all empty is skipped; numbered groups must not have gaps;
/// booleans are `true`/`false` in any letter case (Excel writes `TRUE`).
public enum RecordImport {
    /// Limits for untrusted input. Defaults: 64 MiB per file, 4 MiB per CSV cell, 100 000 records (CSV rows
    /// after the header, or elements of a JSON array), 5 000 CSV columns, JSON nesting 64 levels, 50
    /// problems listed.
    public struct Limits: Sendable {
        public var maximumFileBytes: Int
        public var maximumCellBytes: Int
        public var maximumRecords: Int
        public var maximumColumns: Int
        public var maximumJSONDepth: Int
        public var maximumIssues: Int

        public init(
            maximumFileBytes: Int = 64 << 20, maximumCellBytes: Int = 4 << 20, maximumRecords: Int = 100_000,
            maximumColumns: Int = 5_000, maximumJSONDepth: Int = 64, maximumIssues: Int = 50
        ) {
            self.maximumFileBytes = maximumFileBytes
            self.maximumCellBytes = maximumCellBytes
            self.maximumRecords = maximumRecords
            self.maximumColumns = maximumColumns
            self.maximumJSONDepth = maximumJSONDepth
            self.maximumIssues = max(1, maximumIssues)
        }
    }

    // MARK: JSON

    /// Parses one record object or a JSON array of record objects and validates each.
    /// - Parameters:
    ///   - file: the name used in errors.
    ///   - schema: defaults to the bundled record schema.
    /// - Throws: `RecordImportError` (syntax errors with line and character; schema problems with the record
    ///   index for arrays and the field path); `RecordSchemaError` only if the bundled schema is broken.
    public static func parseJSON(
        _ bytes: some Collection<UInt8>, file: String, schema: RecordSchema? = nil, limits: Limits = Limits()
    ) throws -> [JSONValue] {
        let schema = try schema ?? RecordSchema.bundled()
        guard bytes.count <= limits.maximumFileBytes else {
            throw RecordImportError(
                file: file, .init(reason: "the file is larger than \(limits.maximumFileBytes) bytes"))
        }
        var data = Array(bytes)
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data.removeFirst(3) }
        let document: JSONValue
        do {
            document = try JSONValue.parse(
                data, limits: .init(maximumBytes: limits.maximumFileBytes, maximumDepth: limits.maximumJSONDepth))
        } catch let error as JSONParseError {
            throw RecordImportError(
                file: file,
                .init(line: error.line, characterColumn: error.column, reason: "not valid JSON: \(error.reason)"))
        }
        let records: [(Int?, JSONValue)]
        switch document {
        case .object: records = [(nil, document)]
        case .array(let items):
            guard !items.isEmpty else {
                throw RecordImportError(file: file, .init(reason: "the file contains no records (an empty array)"))
            }
            guard items.count <= limits.maximumRecords else {
                throw RecordImportError(
                    file: file,
                    .init(
                        reason: "the file has more than \(limits.maximumRecords) records; split it into smaller files"))
            }
            records = items.enumerated().map { ($0.offset, $0.element) }
        default:
            throw RecordImportError(
                file: file,
                .init(reason: "expected a record object or an array of record objects, found \(document.typeName)"))
        }
        var issues = IssueCollector(limit: limits.maximumIssues)
        var result: [JSONValue] = []
        for (index, raw) in records {
            guard case .object = raw else {
                issues.add(.init(recordIndex: index, reason: "is not a JSON object (\(raw.typeName))"))
                continue
            }
            var path: [PathComponent] = []
            var controlIssues: [RecordImportError.Issue] = []
            let record = normalize(raw, &path) { path in
                controlIssues.append(
                    .init(recordIndex: index, pointer: JSONPointer.string(path), reason: "contains a control character")
                )
            }
            controlIssues.forEach { issues.add($0) }
            for v in schema.validate(record, limit: limits.maximumIssues) {
                issues.add(.init(recordIndex: index, pointer: v.pointer, keyword: v.keyword, reason: v.message))
            }
            result.append(record)
            if issues.isFull { break }
        }
        try issues.throwIfAny(file: file)
        return result
    }

    /// NFC-normalizes every string value and reports control characters (other than tab, LF, CR).
    static func normalize(
        _ value: JSONValue, _ path: inout [PathComponent], _ onControl: ([PathComponent]) -> Void
    ) -> JSONValue {
        switch value {
        case .string(let s):
            if hasForbiddenControl(s) { onControl(path) }
            return .string(nfc(s))
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                path.append(.index(i))
                out.append(normalize(item, &path, onControl))
                path.removeLast()
            }
            return .array(out)
        case .object(let members):
            var out: [(String, JSONValue)] = []
            out.reserveCapacity(members.count)
            for (k, v) in members {
                path.append(.key(k))
                out.append((k, normalize(v, &path, onControl)))
                path.removeLast()
            }
            return .object(out)
        default:
            return value
        }
    }

    static func hasForbiddenControl(_ s: String) -> Bool {
        s.utf8.contains { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    }

    /// Unicode NFC (canonical composition); ASCII is returned as is.
    static func nfc(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        return s.precomposedStringWithCanonicalMapping
    }

    // MARK: CSV

    /// Parses the CSV layout of Specs/records.md: one row per record, the first row names the columns.
    ///
    /// - RFC 4180 quoting (`"` doubled inside quoted cells; quoted cells may span lines), CRLF or LF line ends,
    ///   UTF-8 (checked per cell), a leading BOM ignored. A `"` inside an unquoted cell, text after a closing
    ///   quote, an unterminated quote, a bare CR, NUL or another control character are errors.
    /// - Header: every name must be a column of the layout (`detainee2.name.kk_cyrl`…), each at most once;
    ///   names are trimmed. A column with an empty name is allowed only if all its cells are empty.
    /// - Every row must have as many cells as the header. A row whose cells are all empty (a blank line
    ///   included) is skipped; it still counts for row numbers, as in a spreadsheet.
    /// - Empty (or whitespace-only) cells mean "not given". Free-text cells (strings with no enum, pattern or
    ///   format) are taken literally; structured cells (identifiers, dates, enums, numbers, booleans) are
    ///   trimmed. Lists: `;`-separated, items trimmed, empty items dropped, `\;` and `\\` escapes. Pair lists
    ///   split at the first `:`. Status cells: `STATUS[@DATE[~]][: NOTE]` items. Numbers in plain decimal,
    ///   booleans `true`/`false` (any case). A missing or empty `schema` means `amanat-record/v1`.
    /// - Numbered groups (`detaineeN.`, `detaineeN.relativeM.` …) count from 1 and must not skip a number in a
    ///   row (detainee3 filled while detainee2 is empty is an error): `detaineeN` is always `detainees[N-1]`.
    /// - Each record is validated against the schema; errors name the row and column (or field path).
    ///
    /// - Throws: `RecordImportError`; `RecordSchemaError` only if the bundled schema is broken.
    public static func parseCSV(
        _ bytes: some Collection<UInt8>, file: String, schema: RecordSchema? = nil, limits: Limits = Limits()
    ) throws -> [JSONValue] {
        let schema = try schema ?? RecordSchema.bundled()
        guard bytes.count <= limits.maximumFileBytes else {
            throw RecordImportError(
                file: file, .init(reason: "the file is larger than \(limits.maximumFileBytes) bytes"))
        }
        var reader = CSVReader(bytes: Array(bytes), file: file, limits: limits)
        let rows = try reader.readAll()
        guard let headerRow = rows.first else {
            throw RecordImportError(file: file, .init(reason: "the file is empty (no header row)"))
        }
        let layout = CSVLayout(schema: schema)
        let (header, columns) = try csvHeader(headerRow, layout: layout, file: file, limits: limits)

        var issues = IssueCollector(limit: limits.maximumIssues)
        var records: [JSONValue] = []
        for row in rows.dropFirst() {
            if isBlank(row) { continue }
            guard row.cells.count == header.count else {
                issues.add(
                    .init(
                        row: row.number, line: row.line,
                        reason: "the row has \(row.cells.count) cells but the header has \(header.count) columns"))
                if issues.isFull { break }
                continue
            }
            if let record = csvRecord(
                row, header: header, columns: columns, layout: layout, schema: schema, limits: limits, issues: &issues)
            {
                records.append(record)
            }
            if issues.isFull { break }
        }
        try issues.throwIfAny(file: file)
        return records
    }

    /// The header row: the trimmed column names and the layout column of each (nil for an empty name).
    /// - Throws: `RecordImportError` listing unknown and repeated columns.
    static func csvHeader(
        _ headerRow: CSVReader.Row, layout: CSVLayout, file: String, limits: Limits
    ) throws -> (header: [String], columns: [CSVLayout.Column?]) {
        let header = headerRow.cells.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var columns: [CSVLayout.Column?] = []
        var seen: [String: Int] = [:]
        var headerIssues = IssueCollector(limit: limits.maximumIssues)
        for (i, name) in header.enumerated() {
            if name.isEmpty {
                columns.append(nil)
                continue
            }
            if let first = seen[name] {
                headerIssues.add(
                    .init(
                        row: 1, column: name, columnPosition: i + 1,
                        reason:
                            "the column appears twice (also column \(RecordImportError.spreadsheetLetters(first + 1)))")
                )
                columns.append(nil)
                continue
            }
            seen[name] = i
            guard let column = layout.column(named: name) else {
                headerIssues.add(
                    .init(
                        row: 1, column: name, columnPosition: i + 1,
                        reason: "unknown column (not in the layout of records.md)"))
                columns.append(nil)
                continue
            }
            columns.append(column)
        }
        try headerIssues.throwIfAny(file: file)
        return (header, columns)
    }

    /// One data row as a record validated against the schema, or nil with its problems added to `issues`. The
    /// caller has checked that the row is not blank and has as many cells as the header.
    static func csvRecord(
        _ row: CSVReader.Row, header: [String], columns: [CSVLayout.Column?], layout: CSVLayout,
        schema: RecordSchema, limits: Limits, issues: inout IssueCollector
    ) -> JSONValue? {
        let before = issues.count
        let record = buildRecord(row: row, header: header, columns: columns, layout: layout, issues: &issues)
        if issues.count == before, let record {
            // Listed in column order (problems without a column last), as a spreadsheet user reads them.
            let rowIssues = schema.validate(record, limit: limits.maximumIssues).enumerated()
                .map {
                    (
                        offset: $0.offset,
                        issue: csvIssue($0.element, row: row.number, header: header, layout: layout)
                    )
                }
                .sorted {
                    ($0.issue.columnPosition ?? Int.max, $0.offset) < (
                        $1.issue.columnPosition ?? Int.max, $1.offset
                    )
                }
            rowIssues.forEach { issues.add($0.issue) }
            return record
        }
        return nil
    }

    static func csvIssue(_ v: SchemaViolation, row: Int, header: [String], layout: CSVLayout) -> RecordImportError.Issue
    {
        if v.path.isEmpty, v.keyword == "anyOf" {
            return .init(
                row: row, pointer: "", keyword: v.keyword,
                reason:
                    "nothing identifies the testimony: fill provenance.reference, a testifier.name.* or detainee1.name.* column, testimony.transcript or attachment1.sha256"
            )
        }
        guard let mapped = layout.column(for: v.path) else {
            return .init(row: row, pointer: v.pointer, keyword: v.keyword, reason: v.message)
        }
        let position = header.firstIndex(of: mapped.name).map { $0 + 1 }
        var reason = v.message
        let rest = v.path.dropFirst(mapped.covered)
        if !rest.isEmpty {
            // Inside a list cell: say which item (1-based, as written) and which part.
            let parts = rest.map { step -> String in
                switch step {
                case .index(let i): return "item \(i + 1)"
                case .key(let k): return k
                }
            }
            reason = parts.joined(separator: ", ") + ": " + reason
        }
        return .init(
            row: row, column: mapped.name, columnPosition: position, pointer: v.pointer, keyword: v.keyword,
            reason: reason)
    }

    // MARK: Building a record from a row

    final class Builder {
        var values: [String: JSONValue] = [:]
        var objects: [String: Builder] = [:]
        var groups: [String: [Int: Builder]] = [:]
        /// First column that filled this builder (for gap errors).
        var firstColumn: (String, Int)?
    }

    struct CellError: Error {
        var reason: String
    }

    static func buildRecord(
        row: CSVReader.Row, header: [String], columns: [CSVLayout.Column?], layout: CSVLayout,
        issues: inout IssueCollector
    ) -> JSONValue? {
        let root = Builder()
        for (i, raw) in row.cells.enumerated() {
            let cell = nfc(raw)
            guard !isBlank(cell) else { continue }
            guard let column = columns[i] else {
                issues.add(.init(row: row.number, columnPosition: i + 1, reason: "a cell in a column without a name"))
                continue
            }
            if hasForbiddenControl(cell) {
                issues.add(
                    .init(
                        row: row.number, column: column.name, columnPosition: i + 1,
                        reason: "contains a control character"))
                continue
            }
            do {
                guard let value = try convert(cell, column.leaf) else { continue }
                var node = root
                for step in column.steps {
                    switch step {
                    case .key(let k):
                        if let next = node.objects[k] {
                            node = next
                        } else {
                            let next = Builder()
                            node.objects[k] = next
                            node = next
                        }
                    case .group(let k, let n):
                        if let next = node.groups[k]?[n] {
                            node = next
                        } else {
                            let next = Builder()
                            next.firstColumn = (column.name, i + 1)
                            node.groups[k, default: [:]][n] = next
                            node = next
                        }
                    }
                }
                node.values[column.key] = value
            } catch let error as CellError {
                issues.add(.init(row: row.number, column: column.name, columnPosition: i + 1, reason: error.reason))
            } catch {
                issues.add(.init(row: row.number, column: column.name, columnPosition: i + 1, reason: "cannot be read"))
            }
        }
        if root.values["schema"] == nil, let constant = layout.schema.root.childSchema(forKey: "schema")?.constValue {
            root.values["schema"] = constant
        }
        var gapIssues: [RecordImportError.Issue] = []
        let record = assemble(root, layout.schema.root, row: row.number, header: header, gaps: &gapIssues)
        gapIssues.forEach { issues.add($0) }
        return gapIssues.isEmpty ? record : nil
    }

    static func assemble(
        _ b: Builder, _ node: SchemaNode, row: Int, header: [String], gaps: inout [RecordImportError.Issue]
    ) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for key in node.resolvedPropertyOrder {
            if let v = b.values[key] {
                members.append((key, v))
            } else if let child = b.objects[key], let sub = node.childSchema(forKey: key) {
                members.append((key, assemble(child, sub, row: row, header: header, gaps: &gaps)))
            } else if let group = b.groups[key], let items = node.childSchema(forKey: key)?.itemSchema {
                var array: [JSONValue] = []
                for n in group.keys.sorted() {
                    guard let member = group[n] else { continue }
                    if n != array.count + 1 {
                        let singular = CSVLayout.numbered[key] ?? key
                        let (name, position) = member.firstColumn ?? ("", 0)
                        gaps.append(
                            .init(
                                row: row, column: name, columnPosition: position,
                                reason:
                                    "\(singular)\(n) is filled but \(singular)\(array.count + 1) is empty; numbered groups must count 1, 2, 3 … without gaps"
                            ))
                        break
                    }
                    array.append(assemble(member, items, row: row, header: header, gaps: &gaps))
                }
                members.append((key, .array(array)))
            }
        }
        return .object(members)
    }

    /// Converts one non-empty cell; nil when it holds nothing after splitting (e.g. `;`).
    static func convert(_ cell: String, _ leaf: CSVLayout.Leaf) throws -> JSONValue? {
        switch leaf {
        case .scalar(let kind, let text):
            return try scalar(text ? cell : trim(cell), kind)
        case .list(let kind):
            let items = try splitList(cell).map { try scalar($0, kind) }
            return items.isEmpty ? nil : .array(items)
        case .pairList(let first, let second):
            let items = splitList(cell).map { item -> JSONValue in
                guard let colon = item.firstIndex(of: ":") else { return .object([(first, .string(trim(item)))]) }
                var members: [(String, JSONValue)] = [(first, .string(trim(item[..<colon])))]
                let rest = trim(item[item.index(after: colon)...])
                if !rest.isEmpty { members.append((second, .string(rest))) }
                return .object(members)
            }
            return items.isEmpty ? nil : .array(items)
        case .statusList:
            let items = try splitList(cell).enumerated().map { try statusEvent($0.element, item: $0.offset + 1) }
            return items.isEmpty ? nil : .array(items)
        }
    }

    static func trim(_ s: some StringProtocol) -> String {
        // Most cells neither start nor end with white space: no need for Foundation's (slow) trimming.
        let string = String(s)
        if let first = string.utf8.first, let last = string.utf8.last, isPlainASCII(first), isPlainASCII(last) {
            return string
        }
        return string.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether `s` is empty or only white space (as `trimmingCharacters(in: .whitespacesAndNewlines)` sees it).
    static func isBlank(_ s: String) -> Bool {
        guard let first = s.utf8.first else { return true }
        if isPlainASCII(first) { return false }
        return s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// A printable ASCII byte other than space: never white space, never part of a longer character.
    @inline(__always) static func isPlainASCII(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    static func scalar(_ text: String, _ kind: JSONKind) throws -> JSONValue {
        switch kind {
        case .integer:
            guard isPlainDecimal(text, fraction: false) else {
                throw CellError(reason: "must be a whole number in plain decimal (e.g. 14)")
            }
            return .number(text)
        case .number:
            guard isPlainDecimal(text, fraction: true) else {
                throw CellError(reason: "must be a number in plain decimal (e.g. 46.75)")
            }
            return .number(text)
        case .boolean:
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw CellError(reason: "must be true or false")
            }
        default:
            return .string(text)
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` — valid as a JSON number literal as written.
    static func isPlainDecimal(_ s: String, fraction: Bool) -> Bool {
        var b = Array(s.utf8)[...]
        if b.first == UInt8(ascii: "-") { b = b.dropFirst() }
        let integer = b.prefix { $0 >= 0x30 && $0 <= 0x39 }
        guard !integer.isEmpty, integer.count <= 30, integer.count == 1 || integer.first != 0x30 else { return false }
        b = b.dropFirst(integer.count)
        if b.isEmpty { return true }
        guard fraction, b.first == UInt8(ascii: "."), b.count >= 2, b.count <= 31 else { return false }
        return b.dropFirst().allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Splits a list cell at `;` (not `\;`), undoing `\;` and `\\`, trimming items and dropping empty ones.
    /// A backslash before any other character is kept as written.
    static func splitList(_ cell: String) -> [String] {
        var items: [String] = []
        var current = ""
        var iterator = cell.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let c = pending {
            pending = iterator.next()
            if c == "\\", let n = pending, n == ";" || n == "\\" {
                current.unicodeScalars.append(n)
                pending = iterator.next()
                continue
            }
            if c == ";" {
                items.append(trim(current))
                current = ""
            } else {
                current.unicodeScalars.append(c)
            }
        }
        items.append(trim(current))
        return items.filter { !$0.isEmpty }
    }

    /// `STATUS[@DATE[~]][: NOTE]` → `{status, date, approximate, note}`; the schema checks the status and date.
    static func statusEvent(_ item: String, item number: Int) throws -> JSONValue {
        var head = Substring(item)
        var note: String?
        if let colon = item.firstIndex(of: ":") {
            head = item[..<colon]
            let rest = trim(item[item.index(after: colon)...])
            if !rest.isEmpty { note = rest }
        }
        var status = trim(head)
        var date: String?
        var approximate = false
        if let at = status.firstIndex(of: "@") {
            var d = trim(status[status.index(after: at)...])
            status = trim(status[..<at])
            if d.hasSuffix("~") {
                approximate = true
                d = trim(d.dropLast())
            }
            guard !d.isEmpty else { throw CellError(reason: "item \(number): a date must follow @ (STATUS@DATE)") }
            date = d
        }
        guard !status.contains("~") else {
            throw CellError(
                reason: "item \(number): ~ marks an approximate date and goes right after it (STATUS@DATE~)")
        }
        guard !status.isEmpty else {
            throw CellError(reason: "item \(number): the status is missing (STATUS[@DATE[~]][: NOTE])")
        }
        var members: [(String, JSONValue)] = [("status", .string(status))]
        if let date { members.append(("date", .string(date))) }
        if approximate { members.append(("approximate", .bool(true))) }
        if let note { members.append(("note", .string(note))) }
        return .object(members)
    }

    /// The CSV column layout derived from the schema, with `N`, `M` for group numbers (what
    /// `check.py --columns` prints and records.md lists).
    public static func csvColumns(schema: RecordSchema? = nil) throws -> [String] {
        CSVLayout(schema: try schema ?? RecordSchema.bundled()).genericColumns()
    }
}

/// Collects issues up to a limit.
struct IssueCollector {
    let limit: Int
    var issues: [RecordImportError.Issue] = []
    var truncated = false

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { issues.count + (truncated ? 1 : 0) }
    /// True once a problem beyond the limit was seen: stop looking.
    var isFull: Bool { truncated }

    mutating func add(_ issue: RecordImportError.Issue) {
        if issues.count < limit {
            issues.append(issue)
        } else {
            truncated = true
        }
    }

    /// Adds what `other` collected, after what this one holds.
    mutating func merge(_ other: IssueCollector) {
        for issue in other.issues { add(issue) }
        if other.truncated { truncated = true }
    }

    func throwIfAny(file: String) throws {
        guard !issues.isEmpty else { return }
        throw RecordImportError(file: file, issues: issues, truncated: truncated)
    }
}
