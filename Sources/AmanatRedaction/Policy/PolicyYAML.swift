/// A node of the YAML subset used by redaction policies (see `Specs/policies.md`), with the line it starts on.
public indirect enum PolicyYAMLNode: Sendable, Equatable {
    /// A plain, single-quoted or double-quoted scalar.
    case scalar(String, line: Int)
    /// A block or flow mapping; keys in document order (duplicates are refused by the parser).
    case mapping([PolicyYAMLEntry], line: Int)
    /// A block or flow sequence.
    case sequence([PolicyYAMLNode], line: Int)
    /// A key with no value (`key:` followed by nothing more indented).
    case empty(line: Int)

    /// The line (1-based) the node starts on.
    public var line: Int {
        switch self {
        case .scalar(_, let line), .mapping(_, let line), .sequence(_, let line), .empty(let line): return line
        }
    }

    /// A short description of the node's type, for error messages.
    public var typeName: String {
        switch self {
        case .scalar: return "a single value"
        case .mapping: return "a mapping (key: value lines)"
        case .sequence: return "a list"
        case .empty: return "nothing"
        }
    }
}

/// One `key: value` of a mapping.
public struct PolicyYAMLEntry: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The line the key is on.
    public var line: Int
    /// The value.
    public var value: PolicyYAMLNode
}

/// Why a policy file could not be read: the line (1-based) and what is wrong. Never carries record data.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line the problem is on (0 when it concerns the whole file).
    public var line: Int
    /// What is wrong, in plain words.
    public var reason: String

    /// Creates an error.
    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line N: reason`.
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

/// A strict parser for the YAML subset of redaction policies.
///
/// Accepted: block mappings and block sequences by indentation (spaces only), `- key: value` items, plain
/// scalars, `'single'` (with `''`) and `"double"` quoted scalars (escapes `\" \\ \n \t \/ \uXXXX`), flow sequences
/// `[a, b]` and flow mappings `{a: b, c: d}` of scalars, `#` comments, an optional `---` first line. Refused, with
/// the line number: tabs, indentation that does not line up, duplicate keys, anchors/aliases/tags, block scalars
/// (`|`, `>`), multi-line flow collections, unterminated quotes, more than one document.
public enum PolicyYAML {
    /// The largest policy file accepted.
    public static let maximumSize = 1 << 20

    struct Line {
        var number: Int
        var indent: Int
        var content: String
    }

    /// Parses a policy document (UTF-8).
    /// - Throws: ``PolicyError`` naming the line of the first problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> PolicyYAMLNode {
        guard bytes.count <= maximumSize else { throw PolicyError(line: 0, "the policy file is larger than 1 MiB") }
        guard let text = String(validating: Array(bytes), as: UTF8.self) else {
            throw PolicyError(line: 0, "the policy file is not UTF-8 text")
        }
        var lines: [Line] = []
        var number = 0
        // Lines split on bytes: in a CR LF file "\r\n" is one Character, which a Character split would not see.
        for raw in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            var line = String(decoding: raw, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if number == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            if let tab = line.firstIndex(of: "\t") {
                let column = line.distance(from: line.startIndex, to: tab) + 1
                throw PolicyError(line: number, "a tab character (column \(column)); indent with spaces only")
            }
            let content = try stripComment(line, line: number)
            let trimmed = content.drop { $0 == " " }
            if trimmed.isEmpty { continue }
            let indent = content.count - trimmed.count
            var body = String(trimmed)
            while body.hasSuffix(" ") { body.removeLast() }
            if body == "---" {
                guard lines.isEmpty, indent == 0 else {
                    throw PolicyError(line: number, "a second document ('---'); a policy file holds one document")
                }
                continue
            }
            if body == "..." { throw PolicyError(line: number, "'...' (end of document) is not supported") }
            lines.append(Line(number: number, indent: indent, content: body))
        }
        guard !lines.isEmpty else { throw PolicyError(line: max(1, number), "the policy file is empty") }
        var parser = Parser(lines: lines)
        guard lines[0].indent == 0 else {
            throw PolicyError(line: lines[0].number, "the first line must not be indented")
        }
        let root = try parser.block(indent: 0)
        if parser.position < lines.count {
            let line = lines[parser.position]
            throw PolicyError(line: line.number, "bad indentation (this line does not line up with anything above)")
        }
        return root
    }

    /// Removes a `#` comment (at the line start or after a space, outside quotes).
    static func stripComment(_ line: String, line number: Int) throws -> String {
        var quote: Character? = nil
        var previous: Character = " "
        var out = ""
        for c in line {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "#" && (previous == " " || out.isEmpty) {
                break
            } else {
                if c == "'" || c == "\"" {
                    // A quote opens a quoted scalar only at the start of a value.
                    let before = out.last { $0 != " " }
                    if before == nil || before == ":" || before == "-" || before == "[" || before == "{"
                        || before == ","
                    {
                        quote = c
                    }
                }
                out.append(c)
            }
            previous = c
        }
        return out
    }

    struct Parser {
        var lines: [Line]
        var position = 0

        /// A mapping or a sequence whose lines start at exactly `indent`.
        mutating func block(indent: Int) throws -> PolicyYAMLNode {
            let line = lines[position]
            if isSequenceItem(line.content) { return try sequence(indent: indent) }
            return try mapping(indent: indent)
        }

        func isSequenceItem(_ content: String) -> Bool { content == "-" || content.hasPrefix("- ") }

        mutating func mapping(indent: Int) throws -> PolicyYAMLNode {
            let startLine = lines[position].number
            var entries: [PolicyYAMLEntry] = []
            var seen: [String: Int] = [:]
            while position < lines.count {
                let line = lines[position]
                if line.indent < indent { break }
                if line.indent > indent {
                    throw PolicyError(
                        line: line.number, "bad indentation (expected \(indent) spaces, found \(line.indent))")
                }
                if isSequenceItem(line.content) {
                    throw PolicyError(line: line.number, "a list item where a 'key: value' line was expected")
                }
                guard let (key, rest) = try splitKey(line.content, line: line.number) else {
                    throw PolicyError(
                        line: line.number, "expected 'key: value' (a ':' followed by a space or the line end)")
                }
                if let first = seen[key] {
                    throw PolicyError(
                        line: line.number, "duplicate key '\(PolicyYAML.printable(key))' (first on line \(first))")
                }
                seen[key] = line.number
                position += 1
                let value: PolicyYAMLNode
                if rest.isEmpty {
                    if position < lines.count, lines[position].indent > indent {
                        value = try block(indent: lines[position].indent)
                    } else if position < lines.count, lines[position].indent == indent,
                        isSequenceItem(lines[position].content)
                    {
                        value = try sequence(indent: indent)
                    } else {
                        value = .empty(line: line.number)
                    }
                } else {
                    value = try PolicyYAML.inlineValue(rest, line: line.number)
                    if position < lines.count, lines[position].indent > indent {
                        throw PolicyError(
                            line: lines[position].number,
                            "bad indentation: '\(PolicyYAML.printable(key))' on line \(line.number) already has a value on its own line"
                        )
                    }
                }
                entries.append(PolicyYAMLEntry(key: key, line: line.number, value: value))
            }
            return .mapping(entries, line: startLine)
        }

        mutating func sequence(indent: Int) throws -> PolicyYAMLNode {
            let startLine = lines[position].number
            var items: [PolicyYAMLNode] = []
            while position < lines.count {
                let line = lines[position]
                if line.indent < indent { break }
                if line.indent > indent {
                    throw PolicyError(
                        line: line.number, "bad indentation (expected \(indent) spaces, found \(line.indent))")
                }
                guard isSequenceItem(line.content) else { break }
                var rest = String(line.content.dropFirst())
                let spaces = rest.prefix { $0 == " " }.count
                rest.removeFirst(spaces)
                if rest.isEmpty {
                    position += 1
                    guard position < lines.count, lines[position].indent > indent else {
                        items.append(.empty(line: line.number))
                        continue
                    }
                    items.append(try block(indent: lines[position].indent))
                } else if isSequenceItem(rest) {
                    throw PolicyError(
                        line: line.number, "nested '- - ' items are not supported; put the inner list on its own lines")
                } else if try splitKey(rest, line: line.number) != nil {
                    // `- key: value` starts a mapping whose keys line up with `key`.
                    lines[position] = Line(number: line.number, indent: indent + 1 + spaces, content: rest)
                    items.append(try mapping(indent: indent + 1 + spaces))
                } else {
                    position += 1
                    items.append(try PolicyYAML.inlineValue(rest, line: line.number))
                    if position < lines.count, lines[position].indent > indent {
                        throw PolicyError(
                            line: lines[position].number, "bad indentation below the list item on line \(line.number)")
                    }
                }
            }
            return .sequence(items, line: startLine)
        }

        /// Splits `key: rest` at the first `:` (outside quotes) followed by a space or the end.
        func splitKey(_ content: String, line: Int) throws -> (String, String)? {
            let chars = Array(content)
            if chars.first == "'" || chars.first == "\"" {
                let (key, end) = try PolicyYAML.quoted(chars, from: 0, line: line)
                var i = end
                while i < chars.count, chars[i] == " " { i += 1 }
                guard i < chars.count, chars[i] == ":", i + 1 == chars.count || chars[i + 1] == " " else { return nil }
                return (key, String(chars[(i + 1)...]).policyTrimmed())
            }
            if chars.first == "[" || chars.first == "{" { return nil }
            for i in chars.indices where chars[i] == ":" && (i + 1 == chars.count || chars[i + 1] == " ") {
                let key = String(chars[..<i]).policyTrimmed()
                guard !key.isEmpty else { throw PolicyError(line: line, "an empty key") }
                if let bad = key.first(where: { "&*!|>%@`".contains($0) }), key.first == bad {
                    throw PolicyError(line: line, "a key may not start with '\(bad)'")
                }
                return (key, String(chars[(i + 1)...]).policyTrimmed())
            }
            return nil
        }
    }

    /// A value written on the same line as its key or dash: a scalar or a one-line flow collection.
    static func inlineValue(_ text: String, line: Int) throws -> PolicyYAMLNode {
        let chars = Array(text)
        if chars.first == "[" || chars.first == "{" {
            var i = 0
            let node = try flow(chars, &i, line: line)
            while i < chars.count, chars[i] == " " { i += 1 }
            guard i == chars.count else { throw PolicyError(line: line, "unexpected text after the closing bracket") }
            return node
        }
        return .scalar(try scalar(chars, line: line), line: line)
    }

    static func scalar(_ chars: [Character], line: Int) throws -> String {
        guard let first = chars.first else { return "" }
        if first == "'" || first == "\"" {
            let (value, end) = try quoted(chars, from: 0, line: line)
            guard chars[end...].allSatisfy({ $0 == " " }) else {
                throw PolicyError(line: line, "unexpected text after the closing quote")
            }
            return value
        }
        if "&*!|>%@`".contains(first) {
            throw PolicyError(
                line: line,
                "'\(first)' at the start of a value is not supported (no anchors, aliases, tags or block scalars); quote the value"
            )
        }
        if chars.contains(where: { $0 == "[" || $0 == "]" || $0 == "{" || $0 == "}" }) && (first == "[" || first == "{")
        {
            throw PolicyError(line: line, "a flow collection must fit on one line")
        }
        return String(chars).policyTrimmed()
    }

    /// Parses a quoted scalar starting at `from`; returns it and the index after the closing quote.
    static func quoted(_ chars: [Character], from: Int, line: Int) throws -> (String, Int) {
        let q = chars[from]
        var out = ""
        var i = from + 1
        while i < chars.count {
            let c = chars[i]
            if q == "'" {
                if c == "'" {
                    if i + 1 < chars.count, chars[i + 1] == "'" {
                        out.append("'")
                        i += 2
                        continue
                    }
                    return (out, i + 1)
                }
                out.append(c)
                i += 1
            } else {
                if c == "\"" { return (out, i + 1) }
                if c == "\\" {
                    guard i + 1 < chars.count else { break }
                    let e = chars[i + 1]
                    switch e {
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    case "/": out.append("/")
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "u":
                        guard i + 5 < chars.count, let v = UInt32(String(chars[(i + 2)...(i + 5)]), radix: 16),
                            let scalar = Unicode.Scalar(v)
                        else { throw PolicyError(line: line, "a bad \\u escape in a quoted value") }
                        out.unicodeScalars.append(scalar)
                        i += 6
                        continue
                    default: throw PolicyError(line: line, "an unknown escape '\\\(e)' in a quoted value")
                    }
                    i += 2
                    continue
                }
                out.append(c)
                i += 1
            }
        }
        throw PolicyError(line: line, "an unterminated quoted value (a missing closing \(q))")
    }

    /// A one-line flow collection of scalars.
    static func flow(_ chars: [Character], _ i: inout Int, line: Int) throws -> PolicyYAMLNode {
        let open = chars[i]
        let close: Character = open == "[" ? "]" : "}"
        i += 1
        var items: [PolicyYAMLNode] = []
        var entries: [PolicyYAMLEntry] = []
        var seen = Set<String>()
        func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }
        func item() throws -> String {
            skipSpaces()
            guard i < chars.count else {
                throw PolicyError(line: line, "an unterminated '\(open)' (a missing '\(close)')")
            }
            if chars[i] == "'" || chars[i] == "\"" {
                let (value, end) = try quoted(chars, from: i, line: line)
                i = end
                skipSpaces()
                return value
            }
            if chars[i] == "[" || chars[i] == "{" {
                throw PolicyError(line: line, "nested flow collections are not supported")
            }
            var text = ""
            while i < chars.count, chars[i] != ",", chars[i] != close, !(open == "{" && chars[i] == ":") {
                if chars[i] == "[" || chars[i] == "{" || chars[i] == "]" || chars[i] == "}" {
                    throw PolicyError(line: line, "an unexpected '\(chars[i])' inside a flow collection")
                }
                text.append(chars[i])
                i += 1
            }
            return text.policyTrimmed()
        }
        skipSpaces()
        if i < chars.count, chars[i] == close {
            i += 1
            return open == "[" ? .sequence([], line: line) : .mapping([], line: line)
        }
        while true {
            let first = try item()
            guard !first.isEmpty else { throw PolicyError(line: line, "an empty item in a flow collection") }
            if open == "{" {
                guard i < chars.count, chars[i] == ":" else {
                    throw PolicyError(line: line, "expected 'key: value' inside '{…}'")
                }
                i += 1
                let value = try item()
                guard seen.insert(first).inserted else {
                    throw PolicyError(line: line, "duplicate key '\(printable(first))'")
                }
                entries.append(PolicyYAMLEntry(key: first, line: line, value: .scalar(value, line: line)))
            } else {
                items.append(.scalar(first, line: line))
            }
            guard i < chars.count else {
                throw PolicyError(line: line, "an unterminated '\(open)' (a missing '\(close)')")
            }
            if chars[i] == close {
                i += 1
                break
            }
            guard chars[i] == "," else { throw PolicyError(line: line, "expected ',' or '\(close)'") }
            i += 1
        }
        return open == "[" ? .sequence(items, line: line) : .mapping(entries, line: line)
    }

    /// A key or value shortened for an error message (policy text, never record data).
    static func printable(_ text: String) -> String {
        text.count > 60 ? String(text.prefix(57)) + "…" : text
    }
}

extension String {
    func policyTrimmed() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
